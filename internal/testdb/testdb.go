// Package testdb gives each test its own database on the real servers that
// run beside the tests (doc/architecture.md §12).
//
// Postgres and MySQL create a database with a unique name on the shared
// server, drop it when the test ends (t.Cleanup), and return a DSN for it,
// so packages and tests can run in parallel without seeing each other's
// tables. SQLite returns the path of a fresh file in t.TempDir().
//
// When a server cannot be reached the test is skipped with a message that
// names the server and the environment variable to set — unless
// CASEBRIDGE_REQUIRE_SERVICES=1 (as in CI), when it fails instead.
//
// The servers default to the ones on our machines and in CI:
//
//	PostgreSQL  postgres://postgres@127.0.0.1:5432/test?sslmode=disable   (CASEBRIDGE_TEST_POSTGRES)
//	MariaDB     root@tcp(127.0.0.1:3306)/test                              (CASEBRIDGE_TEST_MYSQL)
//
// The variables hold an administrative DSN (a user that may create and drop
// databases) in the driver's own form: a postgres:// URL for pgx, a
// go-sql-driver DSN for MySQL/MariaDB.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// Environment variables read by this package.
const (
	// EnvRequire, when "1", turns "server unreachable" from a skip into a
	// failure.
	EnvRequire = "CASEBRIDGE_REQUIRE_SERVICES"
	// EnvPostgres overrides the administrative PostgreSQL URL.
	EnvPostgres = "CASEBRIDGE_TEST_POSTGRES"
	// EnvMySQL overrides the administrative MySQL/MariaDB DSN.
	EnvMySQL = "CASEBRIDGE_TEST_MYSQL"
)

// Default administrative DSNs.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"
	DefaultMySQL    = "root@tcp(127.0.0.1:3306)/test?timeout=5s"
)

// Required reports whether tests must not skip for want of a server.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// unavailable skips t, or fails it when services are required.
func unavailable(t testing.TB, server, env string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s not reachable (set %s to its admin DSN; %s=1 makes this a failure): %v", server, env, EnvRequire, err)
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Name returns a database name unique to this test run: "cb_", up to 30
// characters of the test's name (lower case, [a-z0-9_]) and 8 random hex
// digits. It fits PostgreSQL's and MySQL's identifier limits.
func Name(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 30 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return "cb_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Postgres creates a database of its own for t on the PostgreSQL server and
// returns a pgx URL DSN for it (driver name "pgx"). The database is dropped
// (with FORCE) when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := env(EnvPostgres, DefaultPostgres)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvPostgres)
	}
	db, err := open("pgx", admin)
	if err != nil {
		unavailable(t, "PostgreSQL", EnvPostgres, err)
		return ""
	}
	name := Name(t)
	if err := exec(db, `CREATE DATABASE "`+name+`" ENCODING 'UTF8' TEMPLATE template0`); err != nil {
		db.Close()
		t.Fatalf("testdb: create PostgreSQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if err := exec(db, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("testdb: drop PostgreSQL database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// MySQL creates a database of its own (utf8mb4) for t on the MySQL/MariaDB
// server and returns a go-sql-driver DSN for it (driver name "mysql"). The
// database is dropped when t ends.
func MySQL(t testing.TB) string {
	t.Helper()
	admin := env(EnvMySQL, DefaultMySQL)
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("%s is not a MySQL DSN: %v", EnvMySQL, err)
	}
	db, err := open("mysql", admin)
	if err != nil {
		unavailable(t, "MySQL/MariaDB", EnvMySQL, err)
		return ""
	}
	name := Name(t)
	if err := exec(db, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		db.Close()
		t.Fatalf("testdb: create MySQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if err := exec(db, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testdb: drop MySQL database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// SQLite returns the path of a new SQLite database file in t.TempDir().
// There is no server to reach, so it never skips.
func SQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "test.db")
}

func open(driver, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func exec(db *sql.DB, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx, stmt)
	return err
}
