package sheet

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/casebridge/casebridge/connector"
)

// TestEncryptedBackups: with a recipient, a write's backup is a 0600
// .bak.age file that holds nothing of the sheet in plain text and that the
// identity decrypts to the file as it was; no temporary file is left.
// Erase opens it with the identity, or removes it without one.
func TestEncryptedBackups(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	orig := "Case ID,Name,Stage\r\nC-1,Zqmarker-one,Active\r\nC-2,Zqmarker-two,Active\r\n"
	if err := os.WriteFile(p, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := 3
	open := func() *Connector {
		c, err := New(Config{Name: "files", Backups: &backups, Sheets: []SheetConfig{{Object: "cases", Path: p, Key: "Case ID"}}})
		if err != nil {
			t.Fatal(err)
		}
		c.EncryptBackups(id.Recipient())
		return c
	}
	if _, err := open().Upsert(ctx, "cases", []connector.Record{{Key: "C-2", Fields: map[string]connector.Value{"Stage": connector.Text("Closed")}}}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, ".casebridge-backup"))
	if len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), ".bak.age") {
		t.Fatalf("backup folder %v, want one .bak.age", ents)
	}
	bak := filepath.Join(dir, ".casebridge-backup", ents[0].Name())
	data, err := os.ReadFile(bak)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("Zqmarker")) || bytes.Contains(data, []byte("Case ID")) {
		t.Error("the encrypted backup holds the sheet in plain text")
	}
	if st, _ := os.Stat(bak); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", st.Mode().Perm())
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	if string(plain) != orig {
		t.Errorf("decrypted backup:\n%q\nwant the file as it was:\n%q", plain, orig)
	}
	for _, d := range []string{dir, filepath.Join(dir, ".casebridge-backup")} {
		if m, _ := filepath.Glob(filepath.Join(d, ".*.tmp")); len(m) > 0 {
			t.Errorf("temporary files left: %v", m)
		}
	}

	// Erase with the identity: blanked inside, still encrypted.
	c := open()
	c.SetBackupIdentities(id)
	got, err := c.Erase(ctx, "cases", []string{"C-1"}, []string{"Name"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[1].Backup || got[1].Removed || len(got[1].Columns) != 1 {
		t.Fatalf("erased %+v", got)
	}
	data, _ = os.ReadFile(bak)
	r, err = age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ = io.ReadAll(r)
	if bytes.Contains(plain, []byte("Zqmarker-one")) || !bytes.Contains(plain, []byte("Zqmarker-two")) {
		t.Errorf("the encrypted backup after erase:\n%s", plain)
	}

	// Erase without an identity: the backup cannot be searched, so it goes.
	got, err = open().Erase(ctx, "cases", []string{"C-2"}, []string{"Name"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[1].Removed {
		t.Fatalf("erased %+v, want the encrypted backup removed", got)
	}
	if _, err := os.Stat(bak); !os.IsNotExist(err) {
		t.Errorf("the encrypted backup is still there (%v)", err)
	}
}
