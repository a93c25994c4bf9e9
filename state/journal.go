package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// FileJournal keeps lockouts that the store could not record in a small
// JSON file (reconcile.LockoutJournal): the job's next run records them in
// the store first. The file holds job names, causes, run ids and times,
// never a value; it is written whole through a temporary file and a
// rename, mode 0600, and removed when it is empty.
type FileJournal struct {
	Path string

	mu sync.Mutex
}

// JournalPath is where a state store at location keeps its journal: beside
// an SQLite file, or in the user's cache directory for a server (one file
// per hash of location, the server's host, port and database, so two
// stores never share one). A server's journal is this host's: a replica on
// another host cannot see it, and is kept off only by the lease.
func JournalPath(location string, sqlite bool) string {
	if sqlite {
		return location + ".lockouts.json"
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "casebridge", "lockouts-"+dsnHash(location)+".json")
}

// dsnHash names a server store's journal without putting its DSN (which
// may hold a password) in a file name.
func dsnHash(dsn string) string {
	h := sha256.Sum256([]byte(dsn))
	return hex.EncodeToString(h[:8])
}

func (j *FileJournal) load() ([]Lockout, error) {
	b, err := os.ReadFile(j.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ls []Lockout
	if err := json.Unmarshal(b, &ls); err != nil {
		return nil, fmt.Errorf("%s: %w", j.Path, err)
	}
	return ls, nil
}

func (j *FileJournal) save(ls []Lockout) error {
	if len(ls) == 0 {
		if err := os.Remove(j.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(ls, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.Path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(j.Path), ".lockouts-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), j.Path)
}

// Keep implements reconcile.LockoutJournal.
func (j *FileJournal) Keep(l Lockout) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	ls, err := j.load()
	if err != nil {
		return err
	}
	return j.save(append(ls, l))
}

// Kept implements reconcile.LockoutJournal.
func (j *FileJournal) Kept(job string) ([]Lockout, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ls, err := j.load()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ls, func(l Lockout) bool { return l.Job != job }), nil
}

// Forget implements reconcile.LockoutJournal.
func (j *FileJournal) Forget(job string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	ls, err := j.load()
	if err != nil {
		return err
	}
	n := len(ls)
	ls = slices.DeleteFunc(ls, func(l Lockout) bool { return l.Job == job })
	if len(ls) == n {
		return nil
	}
	return j.save(ls)
}
