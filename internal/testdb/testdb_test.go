package testdb_test

import (
	"context"
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/casebridge/casebridge/internal/testdb"
)

func TestServers(t *testing.T) {
	for _, tc := range []struct {
		driver string
		dsn    func(testing.TB) string
	}{
		{"pgx", testdb.Postgres},
		{"mysql", testdb.MySQL},
		{"sqlite", testdb.SQLite},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open(tc.driver, tc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if _, err := db.ExecContext(ctx, "CREATE TABLE t (k VARCHAR(10) PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO t (k) VALUES ('a')"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestName(t *testing.T) {
	a, b := testdb.Name(t), testdb.Name(t)
	if a == b || len(a) > 63 {
		t.Fatalf("names %q %q: want distinct, at most 63 bytes", a, b)
	}
}
