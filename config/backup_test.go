package config_test

import (
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/casebridge/casebridge/config"
)

// TestBackupEncryptTo: a source's backup_encrypt_to takes age public keys
// and refuses anything else, naming the option.
func TestBackupEncryptTo(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	with := func(list string) string {
		return strings.Replace(alertsBase, "th: { kind: csv, path: th.csv }", "th: { kind: csv, path: th.csv, backup_encrypt_to: "+list+" }", 1)
	}
	opt := config.Options{Getenv: env(map[string]string{"S": "s"}), ReadFile: files(nil), BaseDir: "/"}
	cfg := mustParse(t, "b.yaml", []byte(with("["+id.Recipient().String()+"]")), opt)
	got := cfg.Sources["th"].EncryptTo
	if len(got) != 1 {
		t.Fatalf("backup_encrypt_to = %v", got)
	}
	if r, err := got[0].Recipient(); err != nil || r.(*age.X25519Recipient).String() != id.Recipient().String() {
		t.Errorf("recipient %v, %v", r, err)
	}
	_, err = config.Parse("b.yaml", []byte(with("[my-passphrase]")), opt)
	if err == nil || !strings.Contains(err.Error(), "sources.th.backup_encrypt_to[0]: not an age recipient") {
		t.Errorf("a passphrase as recipient: %v", err)
	}
}
