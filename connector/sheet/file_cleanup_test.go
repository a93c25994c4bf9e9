package sheet

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/internal/proc"
)

// deadPID returns the ID of a process that ran on this machine and has
// exited (a child that was waited for).
func deadPID(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// tempName is the name a writer with this process ID and host tag gives
// a temporary file of the file named base.
func tempName(base string, pid int, host string) string {
	return "." + base + ".casebridge-" + strconv.Itoa(pid) + "-" + host + "-123456789.tmp"
}

// sheetDir makes a folder holding cases.csv and its (empty) backup folder.
func sheetDir(t *testing.T) (dir, path, bdir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(path, []byte("Code,N\nA,0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bdir = filepath.Join(dir, ".casebridge-backup")
	if err := os.Mkdir(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, path, bdir
}

func putFile(t *testing.T, path string, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte("Code,N\nA,a person's data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		old := time.Now().Add(-age)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLeftoverTemps: the temporary files an interrupted write left behind
// (a whole copy of the sheet) are removed by the next read or write of the
// file, beside it and in its backup folder; those of a live writer, and
// files that are not casebridge's, stay.
func TestLeftoverTemps(t *testing.T) {
	dead, me, old := deadPID(t), os.Getpid(), 2*maxTempAge
	backup := func(name string) string { return filepath.Join(".casebridge-backup", name) }
	files := []struct {
		name string
		age  time.Duration
		gone bool
		why  string
	}{
		{tempName("cases.csv", dead, hostTag()), 0, true, "a dead writer's on this machine"},
		{backup(tempName("cases.csv", dead, hostTag())), 0, true, "a dead writer's partial backup"},
		{".cases.csv.casebridge-12345.tmp", old, true, "an earlier version's, older than maxTempAge"},
		{tempName("cases.csv", 4242, "0badc0de"), old, true, "another machine's, older than maxTempAge"},
		{backup(tempName("cases.csv", me, hostTag())), old, true, "this process's, older than maxTempAge"},
		{tempName("cases.csv", me, hostTag()), 0, false, "a live writer's (this process)"},
		{tempName("cases.csv", dead, "0badc0de"), 0, false, "another machine's, fresh: its process cannot be seen from here"},
		{".cases.csv.casebridge-777.tmp", 0, false, "an earlier version's, fresh"},
		{tempName("other.csv", dead, hostTag()), old, false, "another file's"},
		{".cases.csv.casebridge-notes.tmp", old, false, "not casebridge's name shape"},
		{"cases.csv.casebridge-1.tmp", old, false, "not casebridge's name shape"},
		{backup("keep.txt"), old, false, "not casebridge's"},
	}
	for _, op := range []string{"read", "write", "write nothing"} {
		t.Run(op, func(t *testing.T) {
			dir, path, _ := sheetDir(t)
			for _, f := range files {
				putFile(t, filepath.Join(dir, f.name), f.age)
			}
			c := newConn(t, SheetConfig{Object: "o", Path: path, Key: "Code"})
			switch op {
			case "read":
				readAll(t, c, "o")
			case "write":
				upsert(t, c, "o", rec("A", "N", "1"))
			case "write nothing":
				upsert(t, c, "o", rec("A", "N", "0"))
			}
			for _, f := range files {
				_, err := os.Lstat(filepath.Join(dir, f.name))
				if f.gone && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s (%s) is still there after a %s (%v)", f.name, f.why, op, err)
				}
				if !f.gone && err != nil {
					t.Errorf("%s (%s) was removed by a %s: %v", f.name, f.why, op, err)
				}
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSweepFollowsLink: the temporary files of a linked sheet sit beside
// the file the link points at, and are removed there.
func TestSweepFollowsLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir, path, _ := sheetDir(t)
	link := filepath.Join(t.TempDir(), "link.csv")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, tempName("cases.csv", deadPID(t), hostTag()))
	putFile(t, left, 0)
	c := newConn(t, SheetConfig{Object: "o", Path: link, Key: "Code"})
	readAll(t, c, "o")
	if _, err := os.Lstat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover beside the linked file stays (%v)", err)
	}
}

func TestTempOwner(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int
		host string
		ok   bool
	}{
		{".f.csv.casebridge-12.tmp", 0, "", true},
		{".f.csv.casebridge-12-0123abcd-9.tmp", 12, "0123abcd", true},
		{".f.csv.casebridge-0-0123abcd-9.tmp", 0, "", false},
		{".f.csv.casebridge-12-0123abc-9.tmp", 0, "", false},
		{".f.csv.casebridge-12-0123abcg-9.tmp", 0, "", false},
		{".f.csv.casebridge-12-0123abcd-.tmp", 0, "", false},
		{".f.csv.casebridge-.tmp", 0, "", false},
		{".f.csv.casebridge-12.tmp.bak", 0, "", false},
		{".g.csv.casebridge-12.tmp", 0, "", false},
		{"f.csv.casebridge-12.tmp", 0, "", false},
		{".f.csv.casebridge-99999999999999999999-0123abcd-9.tmp", 0, "", false},
	} {
		pid, host, ok := tempOwner("f.csv", tc.name)
		if pid != tc.pid || host != tc.host || ok != tc.ok {
			t.Errorf("tempOwner(%q) = %d, %q, %v; want %d, %q, %v", tc.name, pid, host, ok, tc.pid, tc.host, tc.ok)
		}
	}
	// The names this process writes parse as its own.
	f, err := os.CreateTemp(t.TempDir(), tempPattern("f.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if pid, host, ok := tempOwner("f.csv", filepath.Base(f.Name())); !ok || pid != os.Getpid() || host != hostTag() {
		t.Errorf("tempOwner(%q) = %d, %q, %v; want this process", filepath.Base(f.Name()), pid, host, ok)
	}
	if proc.Gone(os.Getpid()) {
		t.Error("processGone says this process is gone")
	}
}

// fullDisk stands in for the backup's file on a disk that fills up.
type fullDisk struct {
	f     *os.File
	short bool // write half and report success
	sync  bool // write all, fail the sync
}

func (d *fullDisk) Write(p []byte) (int, error) {
	switch {
	case d.sync:
		return d.f.Write(p)
	case d.short:
		return d.f.Write(p[:len(p)/2])
	}
	n, _ := d.f.Write(p[:len(p)/2])
	return n, &os.PathError{Op: "write", Path: d.f.Name(), Err: syscall.ENOSPC}
}

func (d *fullDisk) Sync() error {
	if d.sync {
		return &os.PathError{Op: "sync", Path: d.f.Name(), Err: syscall.EIO}
	}
	return d.f.Sync()
}

// TestFailedBackup: a backup that cannot be written whole leaves no
// partial file, rotates no older backup away, and fails the write with
// the file unchanged and an error naming it (never a value).
func TestFailedBackup(t *testing.T) {
	for _, mode := range []string{"write error", "short write", "sync error"} {
		t.Run(mode, func(t *testing.T) {
			dir, path, bdir := sheetDir(t)
			orig := []byte("Code,N\nA,สมชาย\n")
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			olds := []string{"cases.csv.20260101T000000.000000000Z.bak", "cases.csv.20260102T000000.000000000Z.bak"}
			for _, n := range olds {
				if err := os.WriteFile(filepath.Join(bdir, n), orig, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			two := 2
			c, err := New(Config{Name: "files", Backups: &two, Sheets: []SheetConfig{{Object: "o", Path: path, Key: "Code"}}})
			if err != nil {
				t.Fatal(err)
			}
			c.Now = func() time.Time { return time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC) }
			c.w.backupFile = func(f *os.File) syncWriter {
				return &fullDisk{f: f, short: mode == "short write", sync: mode == "sync error"}
			}
			_, err = c.Upsert(ctx, "o", []connector.Record{rec("A", "N", "สมหญิง")})
			if err == nil {
				t.Fatal("the write succeeded with a failed backup")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, "backup") || !strings.Contains(msg, "nothing was written") {
				t.Errorf("error %q does not name the file, the backup and the outcome", msg)
			}
			if strings.Contains(msg, "สม") {
				t.Errorf("error %q holds a value", msg)
			}
			if b, _ := os.ReadFile(path); string(b) != string(orig) {
				t.Errorf("the file changed: %q", b)
			}
			if got := names(t, bdir); !slices.Equal(got, olds) {
				t.Errorf("backup folder holds %v, want the two older backups only", got)
			}
			if got := names(t, dir); !slices.Equal(got, []string{".casebridge-backup", "cases.csv"}) {
				t.Errorf("folder holds %v, want the file and its backup folder only", got)
			}
			// With the disk freed, the next write goes through and only
			// then rotates the oldest backup away.
			c.w.backupFile = nil
			upsert(t, c, "o", rec("A", "N", "สมหญิง"))
			want := []string{olds[1], "cases.csv.20260403T100000.000000000Z.bak"}
			if got := names(t, bdir); !slices.Equal(got, want) {
				t.Errorf("backup folder holds %v, want %v", got, want)
			}
			if b, _ := os.ReadFile(filepath.Join(bdir, want[1])); string(b) != string(orig) {
				t.Errorf("the new backup holds %q, want the old content", b)
			}
			if fi, err := os.Stat(filepath.Join(bdir, want[1])); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o600) {
				t.Errorf("backup mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
			}
		})
	}
}

// TestBackupClockBack: a new backup is kept even when the clock reads
// earlier than the existing backups' names.
func TestBackupClockBack(t *testing.T) {
	_, path, bdir := sheetDir(t)
	later := "cases.csv.20300101T000000.000000000Z.bak"
	if err := os.WriteFile(filepath.Join(bdir, later), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	one := 1
	c, err := New(Config{Name: "files", Backups: &one, Sheets: []SheetConfig{{Object: "o", Path: path, Key: "Code"}}})
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC) }
	upsert(t, c, "o", rec("A", "N", "1"))
	if got := names(t, bdir); !slices.Equal(got, []string{"cases.csv.20260403T100000.000000000Z.bak"}) {
		t.Errorf("backup folder holds %v, want the new backup only", got)
	}
}

// TestTempRemovedOnPanic: a write that panics after writing its temporary
// file leaves none behind.
func TestTempRemovedOnPanic(t *testing.T) {
	dir, path, _ := sheetDir(t)
	c := newConn(t, SheetConfig{Object: "o", Path: path, Key: "Code"})
	c.w.beforeCheck = func() {
		if left, _ := filepath.Glob(filepath.Join(dir, ".cases.csv.casebridge-*.tmp")); len(left) != 1 {
			t.Errorf("temporary files before the rename: %v, want one", left)
		}
		panic("boom")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		c.Upsert(ctx, "o", []connector.Record{rec("A", "N", "1")})
	}()
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left after a panic: %v", left)
	}
	if b, _ := os.ReadFile(path); string(b) != "Code,N\nA,0\n" {
		t.Errorf("the file changed: %q", b)
	}
}

// names lists a folder.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
