package config

import (
	"errors"
	"strings"

	"filippo.io/age"
)

// Recipients are the age public keys a source's backups are encrypted to
// (Source.EncryptTo, backup_encrypt_to).
type Recipients []AgeRecipient

// AgeRecipient is an age public key ("age1...", as age-keygen prints it)
// that a source's backups are encrypted to. Only
// the public key is in the configuration; the identity (the private key)
// that reads the backups is kept elsewhere, with whoever restores them.
type AgeRecipient string

// parseScalar implements scalarDecoder.
func (r *AgeRecipient) parseScalar(s string) error {
	s = strings.TrimSpace(s)
	if _, err := age.ParseX25519Recipient(s); err != nil {
		return errors.New("not an age recipient: want a public key age1... (age-keygen -y KEYFILE prints it)")
	}
	*r = AgeRecipient(s)
	return nil
}

// Recipient returns the parsed recipient.
func (r AgeRecipient) Recipient() (age.Recipient, error) {
	return age.ParseX25519Recipient(string(r))
}

// backup_encrypt_to applies to the sources whose backups casebridge
// writes: files.
func init() {
	for _, k := range []SourceKind{KindCSV, KindXLSX} {
		sourceKeys[k] = append(sourceKeys[k], "backup_encrypt_to")
	}
}
