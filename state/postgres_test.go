package state_test

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/internal/testdb"
	"github.com/casebridge/casebridge/state"
	"github.com/casebridge/casebridge/state/storetest"
)

func openPG(t *testing.T, dsn string) *state.SQLStore {
	t.Helper()
	s, err := state.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (state.Store, func() state.Store) {
		dsn := testdb.Postgres(t) // its own database, dropped afterwards; skips if unreachable
		s := openPG(t, dsn)
		t.Cleanup(func() { s.Close() })
		return s, func() state.Store {
			s2 := openPG(t, dsn)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}
