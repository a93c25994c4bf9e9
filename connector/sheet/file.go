package sheet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Sentinel errors of write-back. Compare with errors.Is; the error wrapping
// them names the file and what to do.
var (
	// ErrFileInUse: the file is open in Excel or LibreOffice (a lock file
	// sits next to it), or the operating system refused to replace it
	// because it is open. Close it and run again.
	ErrFileInUse = errors.New("file is open in another program")
	// ErrChangedOnDisk: the file changed since casebridge read it (someone
	// edited it during the run). Nothing was written; the next run reads
	// the new content.
	ErrChangedOnDisk = errors.New("file changed on disk since it was read")
)

// stamp identifies one version of a file: size, modification time and a
// SHA-256 of the content.
type stamp struct {
	size  int64
	mtime time.Time
	sum   [sha256.Size]byte
}

func (s stamp) equal(t stamp) bool {
	return s.size == t.size && s.mtime.Equal(t.mtime) && s.sum == t.sum
}

// readFile reads the whole file and its stamp.
func readFile(path string) ([]byte, stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, stamp{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, stamp{}, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, stamp{}, err
	}
	return data, stamp{size: fi.Size(), mtime: fi.ModTime(), sum: sha256.Sum256(data)}, nil
}

// statFile returns the current stamp of path, hashing its content.
func statFile(path string) (stamp, error) {
	_, st, err := readFile(path)
	return st, err
}

// lockFiles returns the lock files of Excel (~$name, or ~$ replacing the
// first two characters of a long name) and LibreOffice (.~lock.name#) that
// exist next to path.
func lockFiles(path string) []string {
	dir, base := filepath.Split(path)
	candidates := []string{"~$" + base, ".~lock." + base + "#"}
	if r := []rune(base); len(r) > 2 {
		candidates = append(candidates, "~$"+string(r[2:]))
	}
	var found []string
	for _, c := range candidates {
		if _, err := os.Lstat(filepath.Join(dir, c)); err == nil && !slices.Contains(found, c) {
			found = append(found, c)
		}
	}
	return found
}

// checkLocks returns an error wrapping ErrFileInUse if a lock file of an
// office program exists next to path.
func checkLocks(path string) error {
	if locks := lockFiles(path); len(locks) > 0 {
		return fmt.Errorf("%s: %w (lock file %s present); close it in Excel or LibreOffice and run again, nothing was written",
			path, ErrFileInUse, strings.Join(locks, ", "))
	}
	return nil
}

// writer replaces files atomically and keeps backups.
type writer struct {
	backups   int    // how many backups to keep; 0 keeps none
	backupDir string // "" = .casebridge-backup next to the file
	now       func() time.Time
	// beforeCheck, if set, runs just before the last look at the file
	// (tests simulate a colleague saving meanwhile).
	beforeCheck func()
}

// replace writes data to path atomically: a temporary file in the same
// directory, fsync, then rename over path, then fsync of the directory.
// Before the rename it checks that path still has stamp old and that no
// lock file appeared; the previous content (orig) is kept as a timestamped
// backup. It returns the stamp of the new file.
func (w *writer) replace(path string, old stamp, orig, data []byte) (stamp, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // replace the file a link points at, not the link
	}
	if err := checkLocks(path); err != nil {
		return stamp{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".casebridge-*.tmp")
	if err != nil {
		return stamp{}, fmt.Errorf("%s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return stamp{}, fmt.Errorf("%s: write temporary file: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return stamp{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return stamp{}, fmt.Errorf("%s: sync temporary file: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return stamp{}, fmt.Errorf("%s: close temporary file: %w", path, err)
	}
	// Last look before the rename: someone may have saved meanwhile.
	if w.beforeCheck != nil {
		w.beforeCheck()
	}
	cur, err := statFile(path)
	if err != nil {
		return stamp{}, err
	}
	if !cur.equal(old) {
		return stamp{}, fmt.Errorf("%s: %w; nothing was written", path, ErrChangedOnDisk)
	}
	if err := checkLocks(path); err != nil {
		return stamp{}, err
	}
	if err := w.backup(path, orig); err != nil {
		return stamp{}, err
	}
	if err := os.Rename(tmpName, path); err != nil {
		// On Windows a file open in Excel cannot be replaced.
		return stamp{}, fmt.Errorf("%s: %w (the system refused to replace it: %v); nothing was written", path, ErrFileInUse, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every platform syncs directories
		d.Close()
	}
	nfi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{size: nfi.Size(), mtime: nfi.ModTime(), sum: sha256.Sum256(data)}, nil
}

// backupSuffix is the timestamp layout of backup names; it sorts by time.
const backupLayout = "20060102T150405.000000000Z"

// backup writes orig as <backupDir>/<name>.<timestamp>.bak and removes
// the oldest backups of the file beyond the configured count.
func (w *writer) backup(path string, orig []byte) error {
	if w.backups <= 0 {
		return nil
	}
	dir := w.backupDir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(path), ".casebridge-backup")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: backup: %w", path, err)
	}
	base := filepath.Base(path)
	ts := w.now().UTC()
	name := filepath.Join(dir, base+"."+ts.Format(backupLayout)+".bak")
	for _, err := os.Lstat(name); err == nil; _, err = os.Lstat(name) {
		ts = ts.Add(time.Nanosecond) // same clock reading: keep names unique and in order
		name = filepath.Join(dir, base+"."+ts.Format(backupLayout)+".bak")
	}
	if err := os.WriteFile(name, orig, 0o600); err != nil {
		return fmt.Errorf("%s: backup: %w", path, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var mine []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, base+".") && strings.HasSuffix(n, ".bak") && len(n) == len(base)+1+len(backupLayout)+4 {
			mine = append(mine, n)
		}
	}
	slices.Sort(mine)
	for len(mine) > w.backups {
		_ = os.Remove(filepath.Join(dir, mine[0]))
		mine = mine[1:]
	}
	return nil
}

// sameBytes reports whether a and b are equal (a write that changes
// nothing is skipped).
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
