package erase_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/casebridge/casebridge/erase"
)

// A name typed for a key is refused whole when the job has a key_pattern:
// it is never printed, never named in the lockout kept in the state, and
// the encrypted backups erase cannot open are not removed for it. A case
// code in another case, or in its Salesforce form, is still taken.
func TestEraseRefusesAKeyOutsideKeyPattern(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f := setupWith(t, "csv", id)
	f.cfg.Jobs["cases"].Local.KeyPattern = "^C-[0-9]+$"
	before := f.backups(t)
	if len(before) == 0 {
		t.Fatal("no backups to keep: the test proves nothing")
	}
	ctx := context.Background()
	const typed = "Zqtyped Name"

	rep, err := f.eraser().Erase(ctx, "cases", []string{"C-2", typed}, false)
	if !errors.Is(err, erase.ErrKeyPattern) {
		t.Errorf("erase of a key outside key_pattern: %v, want ErrKeyPattern", err)
	}
	if err != nil && strings.Contains(err.Error(), "Zqtyped") {
		t.Errorf("the error shows the refused key: %v", err)
	}
	if rep != nil {
		t.Errorf("a report was returned for a refused erase: %+v", rep)
	}
	if after := f.backups(t); len(after) != len(before) {
		t.Errorf("backups %v after a refused erase, want %v kept", after, before)
	}
	if !holds(t, f.file, kept["First"]) {
		t.Error("a refused erase blanked the other key of the command")
	}
	for _, p := range []string{"casebridge.db", "casebridge.db-wal"} {
		b, err := os.ReadFile(filepath.Join(f.dir, p))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("Zqtyped")) {
			t.Errorf("%s holds the refused key's bytes", p)
		}
	}

	for _, k := range []string{"c-1", "t:C-1"} {
		rep, err := f.eraser().Erase(ctx, "cases", []string{k}, true)
		if err != nil {
			t.Fatalf("dry-run erase of %s: %v", k, err)
		}
		if len(rep.Keys) != 1 || !rep.Keys[0].LocalFound || !rep.Keys[0].SFFound {
			t.Errorf("dry-run erase of %s: %+v, want the row and record of C-1 found", k, rep.Keys)
		}
	}
}
