package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name     string
	blob     string // BLOB | BYTEA
	serial   string // the run id column
	dollar   bool   // $1 placeholders instead of ?
	lockStmt string // run first in the migration transaction, if any
}

var (
	sqliteDialect   = dialect{name: "sqlite", blob: "BLOB", serial: "INTEGER PRIMARY KEY AUTOINCREMENT"}
	postgresDialect = dialect{name: "postgres", blob: "BYTEA", serial: "BIGSERIAL PRIMARY KEY", dollar: true,
		lockStmt: "SELECT pg_advisory_xact_lock(7248411)"}
)

// migrations are applied in order on open; each runs once, in its own
// transaction, and is recorded in schema_version. Never edit one that has
// shipped: add another.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (job TEXT NOT NULL, rkey TEXT NOT NULL, sf_key TEXT NOT NULL, local_key TEXT NOT NULL,
  flags INTEGER NOT NULL, fields {{BLOB}} NOT NULL, PRIMARY KEY (job, rkey));
CREATE TABLE cursors (job TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (job, name));
CREATE TABLE pending (job TEXT NOT NULL, rkey TEXT NOT NULL, reason TEXT NOT NULL, code TEXT NOT NULL,
  since BIGINT NOT NULL, PRIMARY KEY (job, rkey, reason));
CREATE TABLE conflicts (job TEXT NOT NULL, rkey TEXT NOT NULL, field TEXT NOT NULL, sf BIGINT NOT NULL,
  local BIGINT NOT NULL, opened BIGINT NOT NULL, resolution TEXT NOT NULL, resolved BIGINT NOT NULL,
  PRIMARY KEY (job, rkey, field));
CREATE TABLE tombstones (scope TEXT NOT NULL, key_hash TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (scope, key_hash));
CREATE TABLE runs (id {{SERIAL}}, job TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL,
  outcome TEXT NOT NULL, reads BIGINT NOT NULL, creates BIGINT NOT NULL, updates BIGINT NOT NULL,
  deletes BIGINT NOT NULL, conflicts BIGINT NOT NULL, failures BIGINT NOT NULL, api_calls BIGINT NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX runs_job ON runs (job, id);
CREATE TABLE record_errors (run_id BIGINT NOT NULL, job TEXT NOT NULL, rkey TEXT NOT NULL, field TEXT NOT NULL,
  code TEXT NOT NULL, message TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX record_errors_job ON record_errors (job, run_id);`,
	// 2: job leases with fencing tokens.
	`CREATE TABLE leases (job TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL, expires BIGINT NOT NULL);`,
	// 3: Bulk API 2.0 jobs recorded before upload, drained by the next run.
	`CREATE TABLE bulk_jobs (job TEXT NOT NULL, object TEXT NOT NULL, operation TEXT NOT NULL, bulk_id TEXT NOT NULL,
  created BIGINT NOT NULL, PRIMARY KEY (job, bulk_id));`,
	// 4: jobs locked out after a critical error, until a resync.
	`CREATE TABLE lockouts (job TEXT PRIMARY KEY, cause TEXT NOT NULL, run_id BIGINT NOT NULL, since BIGINT NOT NULL);`,
	// 5: scheduled runs, claimed once by one of the replicas sharing the
	// store. scheduled_at is the wall-clock time in the schedule's zone;
	// at is the instant, for pruning.
	`CREATE TABLE run_claims (job TEXT NOT NULL, scheduled_at TEXT NOT NULL, holder TEXT NOT NULL, at BIGINT NOT NULL,
  PRIMARY KEY (job, scheduled_at));`,
	// 6: rows a run could not read (their errors are in record_errors).
	`ALTER TABLE runs ADD COLUMN unreadable BIGINT NOT NULL DEFAULT 0;`,
	// 7: cells a run could not map (their errors are in record_errors).
	`ALTER TABLE runs ADD COLUMN unmapped BIGINT NOT NULL DEFAULT 0;`,
	// 8: the lookup cache: the Salesforce Id a lookup value resolved to,
	// by (object and field) scope and the value's keyed hash, so that a
	// run resolves only values it has not seen.
	`CREATE TABLE lookup_ids (scope TEXT NOT NULL, value_hash TEXT NOT NULL, sf_id TEXT NOT NULL, at BIGINT NOT NULL,
  PRIMARY KEY (scope, value_hash));
CREATE INDEX lookup_ids_sf_id ON lookup_ids (scope, sf_id);`,
	// 9: the stage a failed run stopped at (login, source, mapping, ...),
	// so that the history says where, not only why.
	`ALTER TABLE runs ADD COLUMN stage TEXT NOT NULL DEFAULT '';`,
}

// SQLStore is a Store on a database/sql database: SQLite or PostgreSQL.
type SQLStore struct {
	db *sql.DB
	d  dialect

	mu      sync.Mutex
	rebinds map[string]string
}

func newSQLStore(ctx context.Context, db *sql.DB, d dialect) (*SQLStore, error) {
	s := &SQLStore{db: db, d: d, rebinds: map[string]string{}}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Version returns the schema version the store is at.
func (s *SQLStore) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v)
	return int(v.Int64), err
}

func (s *SQLStore) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"); err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if s.d.lockStmt != "" {
				if _, err := tx.ExecContext(ctx, s.d.lockStmt); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM schema_version WHERE version = ?"), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			m = strings.NewReplacer("{{BLOB}}", s.d.blob, "{{SERIAL}}", s.d.serial).Replace(m)
			for stmt := range strings.SplitSeq(m, ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_version (version) VALUES (?)"), version)
			return err
		})
		if err != nil {
			return fmt.Errorf("state: migration %d: %w", version, err)
		}
	}
	return nil
}

// q rewrites ? placeholders for the dialect.
func (s *SQLStore) q(query string) string {
	if !s.d.dollar {
		return query
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rebinds[query]; ok {
		return r
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	s.rebinds[query] = b.String()
	return b.String()
}

func (s *SQLStore) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// CheckKeyID implements Store.
func (s *SQLStore) CheckKeyID(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var have string
		err := tx.QueryRowContext(ctx, s.q("SELECT value FROM meta WHERE name = ?"), "fingerprint_key_id").Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, s.q("INSERT INTO meta (name, value) VALUES (?, ?)"), "fingerprint_key_id", id)
			return err
		case err != nil:
			return err
		case have != id:
			return ErrKeyMismatch
		}
		return nil
	})
}

// Records implements Store.
func (s *SQLStore) Records(ctx context.Context, job string, fn func(RecordState) error) error {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT rkey, sf_key, local_key, flags, fields FROM records WHERE job = ?"), job)
	if err != nil {
		return fmt.Errorf("state: records: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	intern := func(b []byte) string {
		if n, ok := names[string(b)]; ok {
			return n
		}
		n := string(b)
		names[n] = n
		return n
	}
	var saltBuf []byte
	salts := func() []byte {
		if len(saltBuf) < SaltLen {
			saltBuf = make([]byte, 1024*SaltLen)
		}
		s := saltBuf[:SaltLen:SaltLen]
		saltBuf = saltBuf[SaltLen:]
		return s
	}
	var blob sql.RawBytes // decodeFields copies what it keeps
	for rows.Next() {
		var rs RecordState
		if err := rows.Scan(&rs.Key, &rs.SFKey, &rs.LocalKey, &rs.Flags, &blob); err != nil {
			return fmt.Errorf("state: records: %w", err)
		}
		if rs.Salt, rs.Fields, err = decodeFields(blob, intern, salts); err != nil {
			return fmt.Errorf("state: records: key %s: %w", rs.Key, err)
		}
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Record implements Store.
func (s *SQLStore) Record(ctx context.Context, job, key string) (RecordState, bool, error) {
	rs := RecordState{Key: key}
	var blob []byte
	err := s.db.QueryRowContext(ctx, s.q("SELECT sf_key, local_key, flags, fields FROM records WHERE job = ? AND rkey = ?"), job, key).
		Scan(&rs.SFKey, &rs.LocalKey, &rs.Flags, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return RecordState{}, false, nil
	}
	if err != nil {
		return RecordState{}, false, fmt.Errorf("state: record: %w", err)
	}
	if rs.Salt, rs.Fields, err = decodeFields(blob, nil, nil); err != nil {
		return RecordState{}, false, fmt.Errorf("state: record %s: %w", key, err)
	}
	return rs, true, nil
}

// Cursor implements Store.
func (s *SQLStore) Cursor(ctx context.Context, job, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q("SELECT value FROM cursors WHERE job = ? AND name = ?"), job, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// Pending implements Store.
func (s *SQLStore) Pending(ctx context.Context, job string) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT rkey, reason, code, since FROM pending WHERE job = ? ORDER BY rkey, reason"), job)
	if err != nil {
		return nil, fmt.Errorf("state: pending: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var since int64
		if err := rows.Scan(&p.Key, &p.Reason, &p.Code, &since); err != nil {
			return nil, err
		}
		p.Since = fromMicros(since)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Conflicts implements Store.
func (s *SQLStore) Conflicts(ctx context.Context, job string) ([]Conflict, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT rkey, field, sf, local, opened, resolution, resolved FROM conflicts WHERE job = ? ORDER BY rkey, field"), job)
	if err != nil {
		return nil, fmt.Errorf("state: conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		var sf, local, opened, resolved int64
		if err := rows.Scan(&c.Key, &c.Field, &sf, &local, &opened, &c.Resolution, &resolved); err != nil {
			return nil, err
		}
		c.SF, c.Local = Fingerprint(sf), Fingerprint(local)
		c.Opened, c.Resolved = fromMicros(opened), fromMicros(resolved)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveConflict implements Store.
func (s *SQLStore) ResolveConflict(ctx context.Context, job, key, field string, winner Side, at time.Time) error {
	if winner != SideSalesforce && winner != SideLocal {
		return fmt.Errorf("state: resolve conflict: unknown side %q", winner)
	}
	res, err := s.db.ExecContext(ctx, s.q("UPDATE conflicts SET resolution = ?, resolved = ? WHERE job = ? AND rkey = ? AND field = ?"),
		string(winner), micros(at), job, key, field)
	if err != nil {
		return fmt.Errorf("state: resolve conflict: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ForgetTombstone implements Store.
func (s *SQLStore) ForgetTombstone(ctx context.Context, scope, keyHash string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM tombstones WHERE scope = ? AND key_hash = ?"), scope, keyHash)
	if err != nil {
		return false, fmt.Errorf("state: forget tombstone: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Tombstones implements Store.
func (s *SQLStore) Tombstones(ctx context.Context, scope string) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT key_hash, at FROM tombstones WHERE scope = ?"), scope)
	if err != nil {
		return nil, fmt.Errorf("state: tombstones: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var h string
		var at int64
		if err := rows.Scan(&h, &at); err != nil {
			return nil, err
		}
		out[h] = fromMicros(at)
	}
	return out, rows.Err()
}

// LookupIDs implements Store.
func (s *SQLStore) LookupIDs(ctx context.Context, scope string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT value_hash, sf_id FROM lookup_ids WHERE scope = ?"), scope)
	if err != nil {
		return nil, fmt.Errorf("state: lookup ids: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var h, id string
		if err := rows.Scan(&h, &id); err != nil {
			return nil, fmt.Errorf("state: lookup ids: %w", err)
		}
		out[h] = id
	}
	return out, rows.Err()
}

// PutLookupIDs implements Store.
func (s *SQLStore) PutLookupIDs(ctx context.Context, scope string, ids map[string]string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.q(`INSERT INTO lookup_ids (scope, value_hash, sf_id, at) VALUES (?, ?, ?, ?)
ON CONFLICT (scope, value_hash) DO UPDATE SET sf_id = excluded.sf_id, at = excluded.at`))
		if err != nil {
			return err
		}
		defer st.Close()
		for h, id := range ids {
			if _, err := st.ExecContext(ctx, scope, h, id, micros(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state: put lookup ids: %w", err)
	}
	return nil
}

// ForgetLookupIDs implements Store.
func (s *SQLStore) ForgetLookupIDs(ctx context.Context, scope string, ids ...string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if len(ids) == 0 {
			res, err := tx.ExecContext(ctx, s.q("DELETE FROM lookup_ids WHERE scope = ?"), scope)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, s.q("DELETE FROM lookup_ids WHERE scope = ? AND sf_id = ?"), scope, id)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state: forget lookup ids: %w", err)
	}
	return int(n), nil
}

// StartRun implements Store.
func (s *SQLStore) StartRun(ctx context.Context, job string, start time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO runs (job, start_at, end_at, outcome, reads, creates, updates, deletes, conflicts, failures, api_calls, error)
VALUES (?, ?, 0, ?, 0, 0, 0, 0, 0, 0, 0, '') RETURNING id`), job, micros(start), string(OutcomeRunning)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("state: start run: %w", err)
	}
	return id, nil
}

// FinishRun implements Store.
func (s *SQLStore) FinishRun(ctx context.Context, r Run) error {
	c := r.Counts
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET end_at = ?, outcome = ?, reads = ?, creates = ?, updates = ?, deletes = ?,
conflicts = ?, failures = ?, unreadable = ?, unmapped = ?, api_calls = ?, error = ?, stage = ? WHERE id = ?`),
		micros(r.End), string(r.Outcome), c.Read, c.Creates, c.Updates, c.Deletes, c.Conflicts, c.Failures, c.Unreadable, c.Unmapped, r.APICalls, r.Error, r.Stage, r.ID)
	if err != nil {
		return fmt.Errorf("state: finish run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetRunStage implements Store.
func (s *SQLStore) SetRunStage(ctx context.Context, id int64, stage string) error {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE runs SET stage = ? WHERE id = ?"), stage, id)
	if err != nil {
		return fmt.Errorf("state: set run stage: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// InterruptRuns implements Store.
func (s *SQLStore) InterruptRuns(ctx context.Context, job string, end time.Time, reason string) ([]int64, error) {
	// A child job's name is its parent's, a slash and its own: compared
	// exactly with substr (SQLite's LIKE ignores case, and "Cases" and
	// "cases" are two jobs; a range would follow PostgreSQL's collation).
	prefix := job + "/"
	var ids []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM runs WHERE (job = ? OR substr(job, 1, ?) = ?) AND outcome = ? ORDER BY id`),
			job, utf8.RuneCountInString(prefix), prefix, string(OutcomeRunning))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE runs SET end_at = ?, outcome = ?, error = ? WHERE id = ? AND outcome = ?"),
				micros(end), string(OutcomeFailed), reason, id, string(OutcomeRunning)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: interrupt runs: %w", err)
	}
	return ids, nil
}

// Runs implements Store.
func (s *SQLStore) Runs(ctx context.Context, job string, limit int) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, job, start_at, end_at, outcome, reads, creates, updates, deletes, conflicts, failures, unreadable, unmapped, api_calls, error, stage
FROM runs WHERE job = ? ORDER BY id DESC LIMIT ?`), job, limit)
	if err != nil {
		return nil, fmt.Errorf("state: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var start, end int64
		c := &r.Counts
		if err := rows.Scan(&r.ID, &r.Job, &start, &end, &r.Outcome, &c.Read, &c.Creates, &c.Updates, &c.Deletes, &c.Conflicts, &c.Failures, &c.Unreadable, &c.Unmapped, &r.APICalls, &r.Error, &r.Stage); err != nil {
			return nil, err
		}
		r.Start, r.End = fromMicros(start), fromMicros(end)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Errors implements Store.
func (s *SQLStore) Errors(ctx context.Context, job string, runID int64) ([]RecordErr, error) {
	query := "SELECT run_id, rkey, field, code, message, at FROM record_errors WHERE job = ?"
	args := []any{job}
	if runID != 0 {
		query += " AND run_id = ?"
		args = append(args, runID)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY run_id, rkey, field"), args...)
	if err != nil {
		return nil, fmt.Errorf("state: errors: %w", err)
	}
	defer rows.Close()
	var out []RecordErr
	for rows.Next() {
		var e RecordErr
		var at int64
		if err := rows.Scan(&e.RunID, &e.Key, &e.Field, &e.Code, &e.Message, &at); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Update implements Store.
func (s *SQLStore) Update(ctx context.Context, job string, fn func(Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return fn(&sqlTx{s: s, tx: tx, ctx: ctx, job: job})
	})
}

// Acquire implements Store.
func (s *SQLStore) Acquire(ctx context.Context, job, holder string, ttl time.Duration, now time.Time) (int64, error) {
	var token int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var have string
		var expires int64
		q := "SELECT holder, token, expires FROM leases WHERE job = ?"
		if s.d.dollar {
			q += " FOR UPDATE"
		}
		err := tx.QueryRowContext(ctx, s.q(q), job).Scan(&have, &token, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			token = 0
		case err != nil:
			return err
		case have != holder && expires > micros(now) && !HolderGone(have):
			return fmt.Errorf("%w: job %s is held by %s until %s", ErrLocked, job, have, fromMicros(expires).Format(time.RFC3339))
		}
		token++
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO leases (job, holder, token, expires) VALUES (?, ?, ?, ?)
ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires = excluded.expires`),
			job, holder, token, micros(now.Add(ttl)))
		return err
	})
	if err != nil {
		return 0, err
	}
	return token, nil
}

// Renew implements Store.
func (s *SQLStore) Renew(ctx context.Context, job string, token int64, ttl time.Duration, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE leases SET expires = ? WHERE job = ? AND token = ? AND expires > ?"),
		micros(now.Add(ttl)), job, token, micros(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Release implements Store.
func (s *SQLStore) Release(ctx context.Context, job string, token int64) error {
	// The row stays (expired) so that tokens keep growing.
	_, err := s.db.ExecContext(ctx, s.q("UPDATE leases SET expires = 0 WHERE job = ? AND token = ?"), job, token)
	return err
}

// Lease implements Store.
func (s *SQLStore) Lease(ctx context.Context, job string) (Lease, bool, error) {
	l := Lease{Job: job}
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q("SELECT holder, token, expires FROM leases WHERE job = ?"), job).Scan(&l.Holder, &l.Token, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("state: lease: %w", err)
	}
	if expires > 0 {
		l.Expires = fromMicros(expires)
	}
	return l, true, nil
}

// BreakLease implements Store.
func (s *SQLStore) BreakLease(ctx context.Context, job string) (Lease, bool, error) {
	var l Lease
	var ok bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := "SELECT holder, token, expires FROM leases WHERE job = ?"
		if s.d.dollar {
			q += " FOR UPDATE"
		}
		var expires int64
		l = Lease{Job: job}
		err := tx.QueryRowContext(ctx, s.q(q), job).Scan(&l.Holder, &l.Token, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		if expires > 0 {
			l.Expires = fromMicros(expires)
		}
		// The row stays (expired) so that tokens keep growing.
		_, err = tx.ExecContext(ctx, s.q("UPDATE leases SET expires = 0 WHERE job = ?"), job)
		return err
	})
	if err != nil {
		return Lease{}, false, fmt.Errorf("state: break lease: %w", err)
	}
	return l, ok, nil
}

// AddBulkJob implements Store.
func (s *SQLStore) AddBulkJob(ctx context.Context, b BulkJob) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO bulk_jobs (job, object, operation, bulk_id, created) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (job, bulk_id) DO NOTHING`), b.Job, b.Object, b.Operation, b.ID, micros(b.Created))
	if err != nil {
		return fmt.Errorf("state: add bulk job: %w", err)
	}
	return nil
}

// BulkJobs implements Store.
func (s *SQLStore) BulkJobs(ctx context.Context, job string) ([]BulkJob, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT object, operation, bulk_id, created FROM bulk_jobs WHERE job = ? ORDER BY created, bulk_id"), job)
	if err != nil {
		return nil, fmt.Errorf("state: bulk jobs: %w", err)
	}
	defer rows.Close()
	var out []BulkJob
	for rows.Next() {
		b := BulkJob{Job: job}
		var created int64
		if err := rows.Scan(&b.Object, &b.Operation, &b.ID, &created); err != nil {
			return nil, err
		}
		b.Created = fromMicros(created)
		out = append(out, b)
	}
	return out, rows.Err()
}

// RemoveBulkJob implements Store.
func (s *SQLStore) RemoveBulkJob(ctx context.Context, job, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q("DELETE FROM bulk_jobs WHERE job = ? AND bulk_id = ?"), job, id); err != nil {
		return fmt.Errorf("state: remove bulk job: %w", err)
	}
	return nil
}

// LockOut implements Store.
func (s *SQLStore) LockOut(ctx context.Context, l Lockout) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO lockouts (job, cause, run_id, since) VALUES (?, ?, ?, ?)
ON CONFLICT (job) DO NOTHING`), l.Job, l.Cause, l.RunID, micros(l.Since))
	if err != nil {
		return fmt.Errorf("state: lock out: %w", err)
	}
	return nil
}

// Lockout implements Store.
func (s *SQLStore) Lockout(ctx context.Context, job string) (Lockout, bool, error) {
	l := Lockout{Job: job}
	var since int64
	err := s.db.QueryRowContext(ctx, s.q("SELECT cause, run_id, since FROM lockouts WHERE job = ?"), job).Scan(&l.Cause, &l.RunID, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return Lockout{}, false, nil
	}
	if err != nil {
		return Lockout{}, false, fmt.Errorf("state: lockout: %w", err)
	}
	l.Since = fromMicros(since)
	return l, true, nil
}

// ClearLockout implements Store.
func (s *SQLStore) ClearLockout(ctx context.Context, job string) error {
	if _, err := s.db.ExecContext(ctx, s.q("DELETE FROM lockouts WHERE job = ?"), job); err != nil {
		return fmt.Errorf("state: clear lockout: %w", err)
	}
	return nil
}

// claimRetention is how long run claims are kept.
const claimRetention = 31 * 24 * time.Hour

// ClaimRun implements Store.
func (s *SQLStore) ClaimRun(ctx context.Context, job string, scheduledAt time.Time, holder string) (bool, error) {
	if scheduledAt.IsZero() {
		return false, errors.New("state: claim run: no scheduled time")
	}
	wall := scheduledAt.Format("2006-01-02T15:04:05")
	var claimed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_claims (job, scheduled_at, holder, at) VALUES (?, ?, ?, ?)
ON CONFLICT (job, scheduled_at) DO NOTHING`), job, wall, holder, micros(scheduledAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if claimed = n == 1; claimed {
			_, err = tx.ExecContext(ctx, s.q("DELETE FROM run_claims WHERE job = ? AND at < ?"), job, micros(scheduledAt.Add(-claimRetention)))
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("state: claim run: %w", err)
	}
	return claimed, nil
}

// Close implements Store.
func (s *SQLStore) Close() error { return s.db.Close() }

type sqlTx struct {
	s     *SQLStore
	tx    *sql.Tx
	ctx   context.Context
	job   string
	stmts map[string]*sql.Stmt
}

func (t *sqlTx) exec(query string, args ...any) error {
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.PrepareContext(t.ctx, t.s.q(query)); err != nil {
			return err
		}
		t.stmts[query] = st
	}
	_, err := st.ExecContext(t.ctx, args...)
	return err
}

func (t *sqlTx) Fence(token int64, now time.Time) error {
	return t.FenceOn(t.job, token, now)
}

func (t *sqlTx) FenceOn(job string, token int64, now time.Time) error {
	q := "SELECT token, expires FROM leases WHERE job = ?"
	if t.s.d.dollar {
		q += " FOR SHARE"
	}
	var have, expires int64
	err := t.tx.QueryRowContext(t.ctx, t.s.q(q), job).Scan(&have, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (have != token || expires <= micros(now))) {
		return ErrLeaseLost
	}
	return err
}

func (t *sqlTx) PutRecord(rs RecordState) error {
	if len(rs.Salt) != 0 && len(rs.Salt) != SaltLen {
		return fmt.Errorf("state: record %s: a salt of %d bytes, want %d", rs.Key, len(rs.Salt), SaltLen)
	}
	return t.exec(`INSERT INTO records (job, rkey, sf_key, local_key, flags, fields) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (job, rkey) DO UPDATE SET sf_key = excluded.sf_key, local_key = excluded.local_key, flags = excluded.flags, fields = excluded.fields`,
		t.job, rs.Key, rs.SFKey, rs.LocalKey, int(rs.Flags), encodeFields(rs.Salt, rs.Fields))
}

func (t *sqlTx) DeleteRecord(key string) error {
	return t.exec("DELETE FROM records WHERE job = ? AND rkey = ?", t.job, key)
}

func (t *sqlTx) SetCursor(name, value string) error {
	return t.exec(`INSERT INTO cursors (job, name, value) VALUES (?, ?, ?)
ON CONFLICT (job, name) DO UPDATE SET value = excluded.value`, t.job, name, value)
}

func (t *sqlTx) SetPending(p Pending) error {
	return t.exec(`INSERT INTO pending (job, rkey, reason, code, since) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (job, rkey, reason) DO UPDATE SET code = excluded.code`, t.job, p.Key, string(p.Reason), p.Code, micros(p.Since))
}

func (t *sqlTx) ClearPending(key string) error {
	return t.exec("DELETE FROM pending WHERE job = ? AND rkey = ?", t.job, key)
}

func (t *sqlTx) OpenConflict(c Conflict) error {
	return t.exec(`INSERT INTO conflicts (job, rkey, field, sf, local, opened, resolution, resolved) VALUES (?, ?, ?, ?, ?, ?, '', 0)
ON CONFLICT (job, rkey, field) DO UPDATE SET sf = excluded.sf, local = excluded.local`,
		t.job, c.Key, c.Field, int64(c.SF), int64(c.Local), micros(c.Opened))
}

func (t *sqlTx) CloseConflict(key, field string) error {
	return t.exec("DELETE FROM conflicts WHERE job = ? AND rkey = ? AND field = ?", t.job, key, field)
}

func (t *sqlTx) AddTombstone(scope, keyHash string, at time.Time) error {
	return t.exec(`INSERT INTO tombstones (scope, key_hash, at) VALUES (?, ?, ?)
ON CONFLICT (scope, key_hash) DO NOTHING`, scope, keyHash, micros(at))
}

func (t *sqlTx) PutLookupIDs(scope string, ids map[string]string, at time.Time) error {
	for h, id := range ids {
		if err := t.exec(`INSERT INTO lookup_ids (scope, value_hash, sf_id, at) VALUES (?, ?, ?, ?)
ON CONFLICT (scope, value_hash) DO UPDATE SET sf_id = excluded.sf_id, at = excluded.at`, scope, h, id, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) ForgetOtherLookupIDs(scope string, keep map[string][]string) error {
	for id, hashes := range keep {
		q := "DELETE FROM lookup_ids WHERE scope = ? AND sf_id = ?"
		args := []any{scope, id}
		if len(hashes) > 0 {
			q += " AND value_hash NOT IN (?" + strings.Repeat(", ?", len(hashes)-1) + ")"
			for _, h := range hashes {
				args = append(args, h)
			}
		}
		if err := t.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) LogError(e RecordErr) error {
	return t.exec("INSERT INTO record_errors (run_id, job, rkey, field, code, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		e.RunID, t.job, e.Key, e.Field, e.Code, e.Message, micros(e.At))
}

var _ Store = (*SQLStore)(nil)
