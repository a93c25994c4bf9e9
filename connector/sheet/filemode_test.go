package sheet

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestWriteModes checks the modes of what a write-back leaves on disk: the
// spreadsheet keeps its own mode (whatever the umask or the temporary
// file's), the backups of its old content are for the owner only (0600,
// in a 0700 folder), and no temporary file is left beside it.
func TestWriteModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o664, 0o600} {
		dir := t.TempDir()
		p := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(p, []byte("Code,N\nA,0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
		upsert(t, c, "o", rec("A", "N", "สมหญิง"))
		if b, _ := os.ReadFile(p); string(b) != "Code,N\nA,สมหญิง\n" {
			t.Fatalf("mode %04o: the write did not happen: %q", mode, b)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("the spreadsheet's mode is %v after the write, want %v (%v)", fi.Mode().Perm(), mode, err)
		}
		bdir := filepath.Join(dir, ".casebridge-backup")
		if fi, err := os.Stat(bdir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("backup folder: %v, want mode 0700 (%v)", fi.Mode().Perm(), err)
		}
		bk, _ := filepath.Glob(filepath.Join(bdir, "f.csv.*.bak"))
		if len(bk) != 1 {
			t.Fatalf("backups %v, want one", bk)
		}
		if fi, err := os.Stat(bk[0]); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("backup of a %04o file: mode %v, want 0600 (%v)", mode, fi.Mode().Perm(), err)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
		if len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}
