package state

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// OpenPostgres opens the PostgreSQL state database named by dsn (a pgx
// connection string or URL) and applies pending migrations. Several
// replicas may share it: migrations take an advisory transaction lock.
func OpenPostgres(ctx context.Context, dsn string) (*SQLStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("state: open postgres: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: open postgres: %w", err)
	}
	s, err := newSQLStore(ctx, db, postgresDialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
