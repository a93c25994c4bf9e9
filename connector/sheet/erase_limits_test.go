package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// TestEraseBackupTooLarge: an encrypted backup that decrypts past the edit
// limit is an error naming it, and is left as it was; it is never cut at
// the limit, blanked and written back short of its rows. The cut would
// fall on a row's end here, so the short copy would read as a whole file.
func TestEraseBackupTooLarge(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	setLimit(t, &maxEditBytes, 4096)
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(p, []byte("Case ID,Name\r\nC-1,Zqmarker-one\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The backup: C-1, then rows up to exactly the limit and one byte
	// (what a limited read takes), ending a row, then more rows.
	var b strings.Builder
	b.WriteString("Case ID,Name\r\nC-1,Zqmarker-one\r\n")
	for i := 2; b.Len() < 4000; i++ {
		fmt.Fprintf(&b, "C-%d,Zqother-%d\r\n", i, i)
	}
	pad := int(maxEditBytes+1) - b.Len() - len("C-pad,\r\n")
	b.WriteString("C-pad," + strings.Repeat("x", pad) + "\r\n")
	if int64(b.Len()) != maxEditBytes+1 {
		t.Fatalf("setup: %d bytes", b.Len())
	}
	b.WriteString("C-last,Zqlast-row\r\n")
	var enc bytes.Buffer
	if err := encryptTo(&enc, []byte(b.String()), []age.Recipient{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(dir, ".casebridge-backup")
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	bak := filepath.Join(bdir, "cases.csv."+time.Now().UTC().Format(backupLayout)+".bak.age")
	if err := os.WriteFile(bak, enc.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := 3
	c, err := New(Config{Name: "files", Backups: &backups, Sheets: []SheetConfig{{Object: "cases", Path: p, Key: "Case ID"}}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetBackupIdentities(id)
	_, err = c.Erase(ctx, "cases", []string{"C-1"}, []string{"Name"}, false)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), filepath.Base(bak)) {
		t.Errorf("erase of an over-large backup: %v, want ErrTooLarge naming it", err)
	}
	if got, _ := os.ReadFile(bak); !bytes.Equal(got, enc.Bytes()) {
		t.Error("the over-large backup was rewritten")
	}
}

// TestSweepBackupTemps: the temporary file of an erase rewriting a backup
// in place is named after the backup; a killed erase's one, a plain copy
// of the sheet, is swept like the file's own.
func TestSweepBackupTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(p, []byte("Case ID,Name\r\nC-1,Zqmarker-one\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(dir, ".casebridge-backup")
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	bakName := "cases.csv." + time.Now().UTC().Format(backupLayout) + ".bak"
	var w writer
	tmp, err := os.CreateTemp(bdir, tempPattern(bakName)) // as replace names it
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	other := filepath.Join(bdir, ".notes.csv"+tempInfix+"1.tmp") // another file's: kept
	for _, f := range []string{tmp.Name(), other} {
		if err := os.WriteFile(f, []byte("C-1,Zqmarker-one\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-2 * maxTempAge)
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	removed := w.sweep(p)
	if _, err := os.Stat(tmp.Name()); !os.IsNotExist(err) || len(removed) != 1 {
		t.Errorf("sweep removed %v; the backup's temporary file: %v", removed, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary file was swept: %v", err)
	}
}
