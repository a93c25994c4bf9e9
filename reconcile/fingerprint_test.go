package reconcile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
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
