package reconcile_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fingerprint.key")
	k1, err := reconcile.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != reconcile.MinKeyLen {
		t.Fatalf("key is %d bytes", len(k1))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := reconcile.LoadOrCreateKeyFile(path)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("second load: %v (same key: %v)", err, string(k1) == string(k2))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file accepted: %v", err)
	}
}

func TestFingerprints(t *testing.T) {
	if _, err := reconcile.NewFingerprinter([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	a, _ := reconcile.NewFingerprinter([]byte(strings.Repeat("a", 32)))
	b, _ := reconcile.NewFingerprinter([]byte(strings.Repeat("b", 32)))
	if a.KeyID() == b.KeyID() || strings.Contains(a.KeyID(), "aaaa") {
		t.Fatalf("key ids: %s %s", a.KeyID(), b.KeyID())
	}
	v := connector.Text("Ann")
	if a.Value(v) == b.Value(v) {
		t.Fatal("fingerprints do not depend on the key")
	}
	if a.Value(v) != a.Value(connector.Text("Ann")) || a.Value(v) == a.Value(connector.Text("ann")) {
		t.Fatal("fingerprint not a function of the value")
	}
	if a.Value(connector.Null()) == 0 {
		t.Fatal("zero fingerprint (zero means none)")
	}
	// Canonical values: 3000 and 3000.00 are one number.
	f := &connector.Field{Name: "Amount__c", Type: connector.TypeCurrency, Scale: 2}
	x, _ := connector.NumberString("3000")
	y, _ := connector.NumberString("3000.00")
	cx, _ := reconcile.Canonical(x, f)
	cy, _ := reconcile.Canonical(y, f)
	if a.Value(cx) != a.Value(cy) {
		t.Fatal("3000 and 3000.00 fingerprint differently")
	}
}

func TestFingerprintsCompareText(t *testing.T) {
	fp, _ := reconcile.NewFingerprinter([]byte(strings.Repeat("k", 32)))
	// A value as Salesforce holds it and its cleaned reading in a cell are
	// one fingerprint: writing the one and reading the other is no edit.
	for held, read := range map[string]string{
		"met family\n": "met family", "a\r\nb\r\n": "a\nb", "\u00a0Dara": "Dara", "\t=1+1": "=1+1",
		"សុខ\u200bដារ៉ា": "សុខដារ៉ា", "Mother ": "Mother",
	} {
		if fp.Value(connector.Text(held)) != fp.Value(connector.Text(read)) {
			t.Errorf("%+q and %+q fingerprint differently", held, read)
		}
	}
	if fp.Value(connector.Text(" \n")) != fp.Value(connector.Null()) {
		t.Error("white space alone does not fingerprint as null")
	}
	if fp.Value(connector.Text("a b")) == fp.Value(connector.Text("ab")) {
		t.Error("inner white space ignored")
	}
	// Clean values keep the fingerprints states already hold: the HMAC of
	// their canonical encoding, as before comparison forms (its low 63
	// bits: the top bit tells bound fingerprints from unbound ones).
	h := hmac.New(sha256.New, []byte(strings.Repeat("k", 32)))
	h.Write(connector.Text("Ann").AppendCanonical(nil))
	if want := state.Fingerprint(binary.BigEndian.Uint64(h.Sum(nil)) &^ (1 << 63)); fp.Value(connector.Text("Ann")) != want {
		t.Errorf("the fingerprint of a clean text changed: %x, was %x", fp.Value(connector.Text("Ann")), want)
	}
}
