package reconcile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// MinKeyLen is the shortest fingerprint key accepted, in bytes.
const MinKeyLen = 32

// Fingerprinter computes fingerprints: HMAC-SHA256 of the encoding of a
// value's comparison form (connector.Value.AppendComparable, after
// connector.Canonicalize against the Salesforce field), truncated to 63
// bits, under the installation's fingerprint key. It is safe for
// concurrent use.
//
// Those (unbound) fingerprints depend on the value alone: the engine
// compares them in memory and never stores them. The state holds each
// record's fingerprints bound to it (binder, bind.go): equal values in two
// records or two fields are different fingerprints there, and without the
// key a guessed value cannot be tested against them.
//
// The comparison form makes a text equal to its cleaned reading (trimmed,
// CRLF as LF, zero-width spaces removed, white space alone as null): a
// value written into a cell as Salesforce holds it and read back cleaned
// is the same fingerprint, so it is never seen as an edit on either side.
// A clean value encodes exactly as AppendCanonical encodes it, so the
// fingerprints states already hold for clean values do not change; those
// of values with white space at the ends do, once. Where both sides are
// read that run, both change alike and the engine takes the new baseline
// without writing; on an incremental run that does not re-read the
// Salesforce record, its stored fingerprint is the old one, and the local
// value may be written to Salesforce once, the same text but for the white
// space at its ends.
type Fingerprinter struct {
	key      []byte
	bindKey  []byte // AES-256 key of bound fingerprints (binder), derived from key
	scopeKey []byte // HMAC key of scopes, derived from key
	pool     sync.Pool
}

// NewFingerprinter returns a Fingerprinter for key (at least MinKeyLen
// bytes).
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("fingerprint key: %d bytes, want at least %d", len(key), MinKeyLen)
	}
	f := &Fingerprinter{key: append([]byte(nil), key...)}
	f.pool.New = func() any { return &hasher{mac: hmac.New(sha256.New, f.key)} }
	f.bindKey = f.sum("casebridge bind key v2\x00", nil)
	f.scopeKey = f.sum("casebridge scope key v2\x00", nil)
	return f, nil
}

type hasher struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

func (f *Fingerprinter) sum(label string, b []byte) []byte {
	h := f.pool.Get().(*hasher)
	h.mac.Reset()
	h.mac.Write([]byte(label))
	h.mac.Write(b)
	out := h.mac.Sum(nil)
	f.pool.Put(h)
	return out
}

// KeyID identifies the key without revealing it: the state records it and
// refuses to run under another key.
func (f *Fingerprinter) KeyID() string {
	return "fpk1:" + hex.EncodeToString(f.sum("casebridge fingerprint key id v1\x00", nil)[:12])
}

// Canonical returns v in the stored form of the Salesforce field sf.
func Canonical(v connector.Value, sf *connector.Field) (connector.Value, error) {
	return connector.Canonicalize(v, sf)
}

// Value returns the unbound fingerprint of the canonical value v (of its
// comparison form). It is never zero (zero means "none" in the state) and
// its top bit is clear. It is never stored: the state holds bound forms.
func (f *Fingerprinter) Value(v connector.Value) state.Fingerprint {
	h := f.pool.Get().(*hasher)
	h.buf = v.AppendComparable(h.buf[:0])
	fp := h.fingerprint(h.buf)
	f.pool.Put(h)
	return fp
}

// encoded returns the fingerprint of a value's encoding b
// (connector.Value.AppendComparable): Value without the encoding.
func (f *Fingerprinter) encoded(b []byte) state.Fingerprint {
	h := f.pool.Get().(*hasher)
	fp := h.fingerprint(b)
	f.pool.Put(h)
	return fp
}

func (h *hasher) fingerprint(b []byte) state.Fingerprint {
	h.mac.Reset()
	h.mac.Write(b)
	h.sum = h.mac.Sum(h.sum[:0])
	return unbound(binary.BigEndian.Uint64(h.sum))
}

// boundBit is set in every bound fingerprint and clear in every unbound
// one, so that the engine tells the two apart in memory: a stored
// fingerprint it has not matched to a value of the run keeps its bound
// form (and is stored again as it is), the others are compared unbound.
const boundBit state.Fingerprint = 1 << 63

// unbound is the unbound fingerprint of a 64-bit HMAC: its top bit
// cleared, and never zero (zero means "none"). A state written before
// fingerprints were bound (format 1) holds the whole 64 bits; load reads
// them through unbound too (fromV1), so they compare as before.
func unbound(h uint64) state.Fingerprint {
	fp := state.Fingerprint(h) &^ boundBit
	if fp == 0 {
		fp = 1
	}
	return fp
}

// fromV1 is the unbound fingerprint a format 1 state stored as fp.
func fromV1(fp state.Fingerprint) state.Fingerprint {
	if fp == 0 {
		return 0
	}
	return unbound(uint64(fp))
}

// A scope names what a bound fingerprint is bound to besides its record:
// the job, the object and the field. It is 8 bytes of an HMAC-SHA256 of
// the three (each length-prefixed, so that no two triples read alike)
// under the scope key, derived from the fingerprint key.
type scope [8]byte

// salt is a record's binding salt (state.RecordState.Salt); zero: none yet.
type salt [state.SaltLen]byte

func (f *Fingerprinter) scope(job, object, field string) scope {
	m := hmac.New(sha256.New, f.scopeKey)
	for _, p := range []string{job, object, field} {
		m.Write(binary.AppendUvarint(nil, uint64(len(p))))
		m.Write([]byte(p))
	}
	var s scope
	copy(s[:], m.Sum(nil))
	return s
}

// newSalt returns a random salt for a record whose state is written bound
// for the first time. It is random, not derived from the record's key:
// a record keeps it when its key changes (link.go, keyless.go), and a
// record created later under a key another record had still gets its
// own.
func newSalt() salt {
	var s salt
	for s == (salt{}) {
		if _, err := rand.Read(s[:]); err != nil {
			panic("reconcile: no randomness for a record salt: " + err.Error())
		}
	}
	return s
}

// binder binds fingerprints. The bound form of an unbound fingerprint u of
// a field (scope sc) in a record (salt st) is the CBC-MAC under AES-256
// with the bind key (derived from the fingerprint key) of the two blocks
// st and sc‖u,
//
//	E(E(st) xor (sc ‖ u)),
//
// truncated to 64 bits with boundBit set. A CBC-MAC over messages of one
// fixed length (always two blocks here) is a pseudorandom function: without
// the key, bound fingerprints are unrelated to values, records and fields
// alike. Two AES blocks cost far less than an HMAC, which matters as a run
// binds about one fingerprint per field of every record it reads. One
// goroutine uses a binder (a run has its own).
type binder struct {
	blk     cipher.Block
	in, out [aes.BlockSize]byte
}

func (f *Fingerprinter) binder() *binder {
	blk, err := aes.NewCipher(f.bindKey)
	if err != nil {
		panic("reconcile: bind key: " + err.Error()) // 32 bytes: never
	}
	return &binder{blk: blk}
}

// bind returns the bound form of fp for field scope sc of the record with
// salt st. Zero (none) stays zero; a bound fingerprint is returned as it
// is (it was bound under this record's salt when it was stored).
func (b *binder) bind(sc *scope, st *salt, fp state.Fingerprint) state.Fingerprint {
	if fp == 0 || fp&boundBit != 0 {
		return fp
	}
	b.blk.Encrypt(b.in[:], st[:])
	for i := range sc {
		b.in[i] ^= sc[i]
	}
	binary.BigEndian.PutUint64(b.out[:8], uint64(fp))
	for i := range 8 {
		b.in[8+i] ^= b.out[i]
	}
	b.blk.Encrypt(b.out[:], b.in[:])
	return state.Fingerprint(binary.BigEndian.Uint64(b.out[:8])) | boundBit
}

// Bound returns the fingerprint the state holds for the canonical value v
// of field in the record of job and object whose salt is recordSalt
// (state.RecordState.Salt): what a check of a state against a value
// needs, and only with the key.
func (f *Fingerprinter) Bound(job, object, field string, recordSalt []byte, v connector.Value) state.Fingerprint {
	var st salt
	copy(st[:], recordSalt)
	sc := f.scope(job, object, field)
	return f.binder().bind(&sc, &st, f.Value(v))
}

// fpCache remembers, for one field and one run, the fingerprints of short
// value encodings: picklist values, checkboxes, dates and small
// numbers repeat from record to record, and a map lookup costs far less
// than an HMAC. A field whose values rarely repeat (names, free text)
// turns the cache off after a window of misses.
type fpCache struct {
	m            map[string]state.Fingerprint
	hits, looked int // in the current window
	off          bool
}

const (
	fpCacheMaxLen  = 64   // longest encoding cached, in bytes
	fpCacheMax     = 4096 // most encodings cached per field
	fpCacheWindow  = 1024 // lookups between two checks of the hit rate
	fpCacheMinHits = fpCacheWindow / 4
)

// fingerprint returns the fingerprint of the canonical value v of field
// i: FP.Value(v), cached.
func (r *runner) fingerprint(i int, v connector.Value) state.Fingerprint {
	c := &r.fpc[i]
	if c.off {
		return r.FP.Value(v)
	}
	r.enc = v.AppendComparable(r.enc[:0])
	if len(r.enc) > fpCacheMaxLen {
		return r.FP.encoded(r.enc)
	}
	if c.looked++; c.looked == fpCacheWindow {
		if c.hits < fpCacheMinHits {
			c.off, c.m = true, nil
		}
		c.hits, c.looked = 0, 0
	}
	if fp, ok := c.m[string(r.enc)]; ok {
		c.hits++
		return fp
	}
	fp := r.FP.encoded(r.enc)
	if !c.off && len(c.m) < fpCacheMax {
		if c.m == nil {
			c.m = map[string]state.Fingerprint{}
		}
		c.m[string(r.enc)] = fp
	}
	return fp
}

// Rule returns the fingerprint of a field's rule hash, as stored.
func (f *Fingerprinter) Rule(ruleHash string) state.Fingerprint {
	fp := state.Fingerprint(binary.BigEndian.Uint64(f.sum("casebridge rule v1\x00", []byte(ruleHash))))
	if fp == 0 {
		fp = 1
	}
	return fp
}

// KeyHash returns the tombstone hash of a key in KeyID form.
func (f *Fingerprinter) KeyHash(keyID string) string {
	return hex.EncodeToString(f.sum("casebridge tombstone v1\x00", []byte(keyID))[:16])
}

// createKeyFile creates path, mode 0600, holding data; fs.ErrExist if it
// exists. The data is written to a temporary file first and linked into
// place, so that a process starting at the same moment finds either no
// file or the whole key, never an empty file. Where hard links are not
// supported it creates path in place.
func createKeyFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".fingerprint-key-*.tmp") // 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Link(tmp, path); err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links on this file system (FAT, some network shares).
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// LoadOrCreateKeyFile returns the fingerprint key kept (hex-encoded) in
// path, generating a random 32-byte key into a new 0600 file the first
// time. It refuses a key file that group or others can read.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := LoadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, MinKeyLen)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		err := createKeyFile(path, []byte(hex.EncodeToString(key)+"\n"))
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(path) // another process won the race
		}
		if err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
		return key, nil
	}
	return key, err
}

// LoadKeyFile reads a key file LoadOrCreateKeyFile wrote; a missing file
// is an error wrapping fs.ErrNotExist (nothing is created).
func LoadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("fingerprint key file %s: mode %v lets others read it; chmod 600 it", path, st.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < MinKeyLen {
		return nil, fmt.Errorf("fingerprint key file %s: want at least %d hex-encoded bytes", path, MinKeyLen)
	}
	return key, nil
}
