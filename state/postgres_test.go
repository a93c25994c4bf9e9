package state_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
	"github.com/casebridge/casebridge/state/storetest"
)

// pgAdminDSN is the shared PostgreSQL server; CASEBRIDGE_PG_DSN overrides it.
func pgAdminDSN() string {
	if dsn := os.Getenv("CASEBRIDGE_PG_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// pgDatabase creates a uniquely named database for one test and drops it
// afterwards. It skips (or fails under CASEBRIDGE_REQUIRE_SERVICES=1) when
// the server cannot be reached.
func pgDatabase(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", pgAdminDSN())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CASEBRIDGE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL unreachable at %s and CASEBRIDGE_REQUIRE_SERVICES=1: %v", "127.0.0.1:5432", err)
		}
		t.Skipf("PostgreSQL unreachable at 127.0.0.1:5432 (set CASEBRIDGE_PG_DSN to point elsewhere): %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "casebridge_state_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(pgAdminDSN())
	if err != nil {
		t.Fatalf("CASEBRIDGE_PG_DSN must be a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

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
		dsn := pgDatabase(t)
		s := openPG(t, dsn)
		t.Cleanup(func() { s.Close() })
		return s, func() state.Store {
			s2 := openPG(t, dsn)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}
