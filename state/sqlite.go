package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// OpenSQLite opens (creating it if need be) the SQLite state database at
// path and applies pending migrations. The database uses WAL journaling and
// a busy timeout; one connection serves the process, so Update
// transactions never contend with each other inside it.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	// Fingerprints are pseudonymous data: the file, and the WAL and
	// shared-memory files beside it, are for this user only. SQLite
	// creates them with the process umask, so create them 0600 first.
	// Only those that do not exist are opened: SQLite's locks are POSIX
	// locks, which closing any descriptor of a file releases for the whole
	// process, so closing one of a database this process has open already
	// (the daemon reloading its configuration) would leave it unlocked,
	// and another process closing it would delete the WAL still in use.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			f.Close()
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("state: open sqlite: %w", err)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return nil, fmt.Errorf("state: open sqlite: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	// A URI filename: %, ? and # in the path are percent-encoded.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+esc+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("state: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	s, err := newSQLStore(ctx, db, sqliteDialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
