package state_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
	"github.com/casebridge/casebridge/state/storetest"
)

func openSQLite(t *testing.T, path string) *state.SQLStore {
	t.Helper()
	s, err := state.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (state.Store, func() state.Store) {
		path := filepath.Join(t.TempDir(), "state.db")
		s := openSQLite(t, path)
		t.Cleanup(func() { s.Close() })
		return s, func() state.Store {
			s2 := openSQLite(t, path)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}

func TestSQLiteMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for range 2 {
		s := openSQLite(t, path)
		v, err := s.Version(context.Background())
		if err != nil || v != 9 {
			t.Fatalf("Version = %d, %v; want 9", v, err)
		}
		s.Close()
	}
}

// TestSQLiteUpgradeAddsRunStage: a state store of schema 8 (before runs
// had a stage) opens at 9 with its runs kept, their stage empty.
func TestSQLiteUpgradeAddsRunStage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openSQLite(t, path)
	id, err := s.StartRun(ctx, "j", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, state.Run{ID: id, Job: "j", Start: time.Now(), End: time.Now(), Outcome: state.OutcomeFailed, Error: "e"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to schema 8: the column and its version gone.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"ALTER TABLE runs DROP COLUMN stage", "DELETE FROM schema_version WHERE version = 9"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s = openSQLite(t, path)
	defer s.Close()
	if v, err := s.Version(ctx); err != nil || v != 9 {
		t.Fatalf("Version = %d, %v; want 9", v, err)
	}
	runs, err := s.Runs(ctx, "j", 10)
	if err != nil || len(runs) != 1 || runs[0].ID != id || runs[0].Outcome != state.OutcomeFailed || runs[0].Error != "e" || runs[0].Stage != "" {
		t.Fatalf("Runs = %+v, %v; want run %d kept, failed, with no stage", runs, err, id)
	}
}

func TestSQLiteAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.db")
	s := openSQLite(t, path)
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
}

// TestSQLiteFileMode checks that the state file and its WAL companions are
// readable by their owner only: fingerprints are pseudonymous data.
func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := state.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(context.Background(), "j", time.Now()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // WAL files come and go
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %o, want 0600", filepath.Base(p), mode)
		}
	}
}
