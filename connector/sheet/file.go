package sheet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/casebridge/casebridge/internal/proc"
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

// Temporary files. A write puts the new content of a file, and the backup
// of its old content, under a temporary name first and renames it into
// place once it is complete and synced:
//
//	.<name>.casebridge-<pid>-<host>-<random>.tmp
//
// beside the file (or in the backup folder), where pid is the writing
// process, host a tag of the machine it runs on (hostTag) and random makes
// the name unique. These files hold a whole copy of the sheet (everyone's
// personal data), so a write removes its own on every way out (error or
// panic), and every read or write of a file first removes the ones an
// interrupted write (a killed process, a power cut) left behind: see
// staleTemp for which. Versions before this one named them
// .<name>.casebridge-<random>.tmp; those are removed by age alone.
//
// Removing a temporary file another process is still writing would not
// lose data, only fail that write: its rename finds nothing and it
// reports that nothing was written. Keeping a dead one leaves personal
// data on disk. Hence the choice: a dead writer's file on this machine
// goes at once, anything else after maxTempAge.

// maxTempAge is the age (since its last modification) after which a
// temporary file is removed whoever wrote it. A write holds its temporary
// file from the first byte to the rename: writing and syncing the file,
// then the backup (the same size again), then one hash of the original.
// That takes seconds even for the largest sheets (a 234 MB CSV), so an
// hour is generous: it covers slow network folders, a writer on another
// machine whose process this one cannot see, a clock skew between
// machines sharing a folder, and a process ID reused since the writer
// died.
const maxTempAge = time.Hour

// hostTag identifies this machine in temporary names: eight hex digits of
// the SHA-256 of the host name (the name itself does not appear). A
// process ID only names a process on the machine it runs on, so only
// temporary files with this machine's tag are judged by their process.
// Two machines sharing a folder under the same host name, or containers
// with their own process namespaces and one host name, could see each
// other's live files as dead; that fails the other write (nothing is
// replaced), it never loses data.
var hostTag = sync.OnceValue(func() string {
	name, _ := os.Hostname()
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:4])
})

const tempInfix = ".casebridge-"

// tempPattern is the os.CreateTemp pattern of this process's temporary
// files for the file named base.
func tempPattern(base string) string {
	return "." + base + tempInfix + strconv.Itoa(os.Getpid()) + "-" + hostTag() + "-*.tmp"
}

// tempOwner parses a temporary file name of the file named base: the
// writer's process ID and host tag, or pid 0 and host "" for a name of an
// earlier version. ok is false for any other name.
func tempOwner(base, name string) (pid int, host string, ok bool) {
	mid, found := strings.CutPrefix(name, "."+base+tempInfix)
	if !found {
		return 0, "", false
	}
	if mid, found = strings.CutSuffix(mid, ".tmp"); !found {
		return 0, "", false
	}
	parts := strings.Split(mid, "-")
	switch {
	case len(parts) == 1 && digits(parts[0]):
		return 0, "", true
	case len(parts) == 3 && digits(parts[0]) && len(parts[1]) == 8 && hexDigits(parts[1]) && digits(parts[2]):
		pid, err := strconv.Atoi(parts[0])
		if err != nil || pid <= 0 {
			return 0, "", false
		}
		return pid, parts[1], true
	}
	return 0, "", false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func hexDigits(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// staleTemp reports whether a temporary file written by process pid on
// the machine tagged host, last modified at mtime, was left behind: it is
// older than maxTempAge, or it comes from this machine and its process is
// gone. A file of this very process is never stale before maxTempAge
// (another connector of this process may be writing it).
func staleTemp(pid int, host string, mtime, now time.Time) bool {
	if now.Sub(mtime) > maxTempAge {
		return true
	}
	return pid > 0 && host == hostTag() && pid != os.Getpid() && proc.Gone(pid)
}

// writer replaces files atomically and keeps backups.
type writer struct {
	backups   int    // how many backups to keep; 0 keeps none
	backupDir string // "" = .casebridge-backup next to the file
	// recipients, when set, encrypt every backup (age): it is written as
	// <name>.<timestamp>.bak.age, readable only with an identity.
	recipients []age.Recipient
	// identities open encrypted backups (Erase); none: they cannot be
	// read, only removed.
	identities []age.Identity
	now        func() time.Time
	// beforeCheck, if set, runs just before the last look at the file
	// (tests simulate a colleague saving meanwhile).
	beforeCheck func()
	// backupFile, if set, wraps the temporary file a backup is written
	// through (tests simulate a full disk).
	backupFile func(*os.File) syncWriter
	// mine holds, per file, the stamp of this writer's last replace: a
	// file still as this writer left it is not backed up again (a run
	// that writes a file several times, rows then statuses, keeps one
	// backup: the file as it was before the run).
	mine map[string]stamp
}

// syncWriter is what a backup is written through: the temporary file
// itself, or a test's stand-in for a full disk.
type syncWriter interface {
	io.Writer
	Sync() error
}

// backupFolder returns the folder of path's backups.
func (w *writer) backupFolder(path string) string {
	if w.backupDir != "" {
		return w.backupDir
	}
	return filepath.Join(filepath.Dir(path), ".casebridge-backup")
}

// sweep removes the temporary files of path (beside it and in its backup
// folder) that interrupted writes left behind (staleTemp), and returns
// their names (names only: these files hold personal data, nothing of
// their content is read). It is best effort: a file it cannot remove stays
// and is tried again by the next read or write; reading and writing go on
// either way.
func (w *writer) sweep(path string) []string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // the temporary files sit beside the file a link points at
	}
	base := filepath.Base(path)
	now := time.Now() // file times are wall-clock times, whatever w.now says
	var removed []string
	for _, dir := range []string{filepath.Dir(path), w.backupFolder(path)} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue // no backup folder yet
		}
		for _, e := range ents {
			pid, host, ok := tempOwner(base, e.Name())
			if !ok {
				pid, host, ok = backupTempOwner(base, e.Name())
			}
			if !ok || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil || !staleTemp(pid, host, fi.ModTime(), now) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
				removed = append(removed, e.Name())
			}
		}
	}
	return removed
}

// backupTempOwner parses the name of a temporary file of one of the
// backups of the file named base (erase rewrites a backup in place, so its
// temporary file is named after the backup: .<base>.<timestamp>.bak.casebridge-…tmp)
// as tempOwner does; ok is false for any other name.
func backupTempOwner(base, name string) (pid int, host string, ok bool) {
	i := strings.LastIndex(name, tempInfix)
	if i < 1 || name[0] != '.' || !isBackupName(base, name[1:i]) {
		return 0, "", false
	}
	return tempOwner(name[1:i], name)
}

// replace writes data to path atomically: a temporary file in the same
// directory, fsync, then rename over path, then fsync of the directory.
// Before the rename it checks that path still has stamp old and that no
// lock file appeared; the previous content (orig) is kept as a timestamped
// backup, which must be complete first. It returns the stamp of the new
// file. The temporary file is removed on every way out but success, a
// panic included.
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
	tmp, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return stamp{}, fmt.Errorf("%s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		_ = tmp.Close() // again after the Close below: harmless; Windows removes no open file
		if !renamed {
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return stamp{}, fmt.Errorf("%s: write temporary file: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		return stamp{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
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
	if prev, ok := w.mine[path]; !ok || !prev.equal(old) {
		if err := w.backup(path, orig); err != nil {
			return stamp{}, err
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Another process took it for left behind (maxTempAge).
			return stamp{}, fmt.Errorf("%s: the temporary file was removed during the write: %w; nothing was written, run again", path, err)
		}
		// On Windows a file open in Excel cannot be replaced.
		return stamp{}, fmt.Errorf("%s: %w (the system refused to replace it: %v); nothing was written", path, ErrFileInUse, err)
	}
	renamed = true
	syncDir(dir)
	nfi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	st := stamp{size: nfi.Size(), mtime: nfi.ModTime(), sum: sha256.Sum256(data)}
	if w.mine == nil {
		w.mine = map[string]stamp{}
	}
	w.mine[path] = st
	return st, nil
}

// syncDir makes a rename in dir durable, best effort: not every platform
// syncs directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// backupSuffix is the timestamp layout of backup names; it sorts by time.
const backupLayout = "20060102T150405.000000000Z"

// backup keeps orig as <backupDir>/<name>.<timestamp>.bak (0600, in a
// 0700 folder; .bak.age, encrypted, when the writer has recipients): written under a temporary name, synced, then renamed, so a
// .bak file is always complete. A backup that cannot be written whole (a
// full disk: a write error, a short write, a failed sync) is removed and
// fails the write, which then replaces nothing. Only once the new backup
// is in place are the oldest of the file's other backups beyond the
// configured count removed.
func (w *writer) backup(path string, orig []byte) error {
	if w.backups <= 0 {
		return nil
	}
	dir := w.backupFolder(path)
	fail := func(err error) error {
		return fmt.Errorf("%s: backup in %s: %w; nothing was written", path, dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	base := filepath.Base(path)
	tmp, err := os.CreateTemp(dir, tempPattern(base)) // mode 0600
	if err != nil {
		return fail(err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		_ = tmp.Close()
		if !renamed {
			_ = os.Remove(tmpName)
		}
	}()
	var out syncWriter = tmp
	if w.backupFile != nil {
		out = w.backupFile(tmp)
	}
	var n int
	if len(w.recipients) > 0 {
		// Encrypted at rest: the plain copy never touches the disk.
		err = encryptTo(out, orig, w.recipients)
		n = len(orig)
	} else {
		n, err = out.Write(orig)
	}
	if err == nil && n != len(orig) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = out.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err != nil {
		return fail(err)
	}
	ts := w.now().UTC()
	ext := ".bak"
	if len(w.recipients) > 0 {
		ext = ".bak" + ageExt
	}
	name := filepath.Join(dir, base+"."+ts.Format(backupLayout)+ext)
	for _, err := os.Lstat(name); err == nil; _, err = os.Lstat(name) {
		ts = ts.Add(time.Nanosecond) // same clock reading: keep names unique and in order
		name = filepath.Join(dir, base+"."+ts.Format(backupLayout)+ext)
	}
	if err := os.Rename(tmpName, name); err != nil {
		return fail(err)
	}
	renamed = true
	syncDir(dir)
	w.rotate(dir, base, filepath.Base(name))
	return nil
}

// rotate removes the oldest backups of the file named base in dir until
// the configured count is left, counting newest (the one just written,
// never removed, even if the clock went back).
func (w *writer) rotate(dir, base, newest string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var others []string
	for _, e := range ents {
		// Plain and encrypted backups count alike (a recipient added
		// later leaves plain ones to rotate away).
		if n := e.Name(); n != newest && e.Type().IsRegular() && isBackupName(base, n) {
			others = append(others, n)
		}
	}
	slices.SortFunc(others, func(a, b string) int { return strings.Compare(backupStamp(base, a), backupStamp(base, b)) })
	for len(others) > 0 && len(others)+1 > w.backups {
		_ = os.Remove(filepath.Join(dir, others[0]))
		others = others[1:]
	}
}

// sameBytes reports whether a and b are equal (a write that changes
// nothing is skipped).
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
