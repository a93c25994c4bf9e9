package state

import (
	"context"
	"database/sql"
	"fmt"
)

// Rekey makes the store start over under the fingerprint key whose id is
// id, for an installation whose key was lost or replaced: every
// fingerprint in the store (record baselines, pending records, conflicts,
// tombstones, the lookup cache, change cursors) was made with the old key
// and means nothing under the new one, so all of it is forgotten and id
// recorded. The run history, its error log, leases and lockouts are kept.
// The next run of each job is a first sync. It writes nothing outside the
// store.
func (s *SQLStore) Rekey(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"records", "pending", "conflicts", "tombstones", "lookup_ids", "cursors"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
				return fmt.Errorf("state: rekey: %s: %w", table, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM meta WHERE name = ?"), "fingerprint_key_id"); err != nil {
			return fmt.Errorf("state: rekey: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO meta (name, value) VALUES (?, ?)"), "fingerprint_key_id", id)
		return err
	})
}

// KeyIDRecorded returns the fingerprint key id the store was written with,
// or "" if none was recorded yet.
func (s *SQLStore) KeyIDRecorded(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, s.q("SELECT value FROM meta WHERE name = ?"), "fingerprint_key_id").Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, err
}
