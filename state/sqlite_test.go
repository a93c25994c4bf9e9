package state_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
		if err != nil || v != 2 {
			t.Fatalf("Version = %d, %v; want 2", v, err)
		}
		s.Close()
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
