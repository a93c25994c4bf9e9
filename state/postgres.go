package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// OpenPostgres opens the PostgreSQL state database named by dsn (a pgx
// connection string or URL) and applies pending migrations. Several
// replicas may share it: migrations take an advisory transaction lock.
func OpenPostgres(ctx context.Context, dsn string) (*SQLStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("state: open postgres: %w", dsnError(err))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: open postgres: %w", dsnError(err))
	}
	s, err := newSQLStore(ctx, db, postgresDialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dsnError replaces a connection-string parse error, whose message quotes
// the string with passwords redacted only "best effort" (a value that is
// not keyword=value, or a password in the wrong place, is quoted whole),
// by one that quotes nothing.
func dsnError(err error) error {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		return errors.New("the dsn is not a valid PostgreSQL connection string (not shown: it may hold a password)")
	}
	return err
}
