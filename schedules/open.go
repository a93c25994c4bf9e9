package schedules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// OpenSalesforce logs in to the org a configuration names. Each object its
// jobs write is upserted by the key field the configuration gives it
// (config.Config.KeyFields: a job's salesforce.key, a child's key);
// objects adds or overrides key fields. onBulkJob, when not nil, hears of
// each Bulk API 2.0 job before its data is uploaded (the runner records
// it, to drain it after a crash).
func OpenSalesforce(ctx context.Context, cfg *config.Config, objects map[string]string, onBulkJob func(object, operation, id string)) (*salesforce.Connector, error) {
	sf := cfg.Salesforce
	a := sf.Auth
	keys := cfg.KeyFields()
	for o, k := range objects {
		keys[o] = k
	}
	opts := salesforce.Options{
		Name:       "salesforce",
		LoginURL:   sf.LoginURL,
		APIVersion: sf.APIVersion,
		KeyFields:  keys,
		ParentKeys: parentKeys(cfg), // children keyed by_parent (pairs.go)
		OnBulkJob:  onBulkJob,
		Auth: salesforce.Auth{
			Flow:           salesforce.Flow(a.Flow),
			ClientID:       a.ClientID,
			ClientSecret:   a.ClientSecret.Reveal(),
			Username:       a.Username,
			Password:       a.Password.Reveal() + a.SecurityToken.Reveal(),
			RefreshToken:   a.RefreshToken.Reveal(),
			PrivateKeyFile: a.PrivateKeyFile,
			Audience:       a.Audience,
		},
	}
	opts.Concurrency = sf.Concurrency
	opts.BulkThreshold = sf.BulkThreshold
	opts.BulkQueryThreshold = sf.BulkQueryThreshold
	if b := sf.APIBudget; b.IsPercent() {
		opts.Budget = b.Percent / 100
	} else if b.Count > 0 {
		opts.MaxCalls = b.Count
	}
	return salesforce.New(ctx, opts)
}

// OpenStore opens the state store a configuration names.
func OpenStore(ctx context.Context, cfg *config.Config) (state.Store, error) {
	dsn := cfg.State.DSN.Reveal()
	switch cfg.State.Driver {
	case config.StatePostgres:
		return state.OpenPostgres(ctx, dsn)
	default:
		return state.OpenSQLite(ctx, sqlitePath(cfg))
	}
}

// sqlitePath is the file of an SQLite state store: state.dsn, relative
// to the configuration's folder, or casebridge.db there.
func sqlitePath(cfg *config.Config) string {
	dsn := cfg.State.DSN.Reveal()
	if dsn == "" {
		return filepath.Join(cfg.Dir, "casebridge.db")
	} else if !filepath.IsAbs(dsn) {
		return filepath.Join(cfg.Dir, dsn)
	}
	return dsn
}

// LockoutJournal is where runs of cfg keep a lockout the state store could
// not record: beside an SQLite store's file, or in the user's cache
// directory for PostgreSQL (reconcile.LockoutJournal).
func LockoutJournal(cfg *config.Config) *state.FileJournal {
	if cfg.State.Driver == config.StatePostgres {
		return &state.FileJournal{Path: state.JournalPath(cfg.State.DSN.Reveal(), false)}
	}
	return &state.FileJournal{Path: state.JournalPath(sqlitePath(cfg), true)}
}

// existingFingerprinter is Fingerprinter without making a key file: nil
// when the key file does not exist yet.
func existingFingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	if cfg.FingerprintKey.Reveal() != "" {
		return Fingerprinter(cfg)
	}
	key, err := reconcile.LoadKeyFile(keyFilePath(cfg))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return reconcile.NewFingerprinter(key)
}

// keyFilePath is the configured key file, or its default.
func keyFilePath(cfg *config.Config) string {
	if cfg.FingerprintKeyFile != "" {
		return cfg.FingerprintKeyFile
	}
	return filepath.Join(cfg.Dir, "fingerprint.key")
}

// fingerprinter returns the run's fingerprinter. Without a key file yet,
// a dry run takes a throwaway key and records nothing of it (no key file
// is made by a dry run), unless the state was written with a key (then it
// is lost: the run refuses); any other run makes the key file.
func (r *Runner) fingerprinter(ctx context.Context, opts RunOptions) (*reconcile.Fingerprinter, bool, error) {
	r.fpMu.Lock()
	defer r.fpMu.Unlock()
	if r.FP != nil {
		return r.FP, false, nil
	}
	if !opts.DryRun {
		fp, err := Fingerprinter(r.Config)
		if err != nil {
			return nil, false, fmt.Errorf("fingerprint key: %w", err)
		}
		r.FP = fp
		return fp, false, nil
	}
	if kr, ok := r.Store.(interface {
		KeyIDRecorded(ctx context.Context) (string, error)
	}); ok {
		id, err := kr.KeyIDRecorded(ctx)
		if err != nil {
			return nil, false, err
		}
		if id != "" {
			return nil, false, fmt.Errorf("fingerprint key file %s is missing: %w", keyFilePath(r.Config), state.ErrKeyMismatch)
		}
	}
	key := make([]byte, reconcile.MinKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	fp, err := reconcile.NewFingerprinter(key)
	return fp, true, err
}

// currentFP returns the Runner's fingerprinter, nil before the first run
// that writes made the key.
func (r *Runner) currentFP() *reconcile.Fingerprinter {
	r.fpMu.Lock()
	defer r.fpMu.Unlock()
	return r.FP
}

// errPassphrase refuses a fingerprint_key that is not a random key.
var errPassphrase = fmt.Errorf("fingerprint_key must be %d random bytes as %d hexadecimal digits ('casebridge key generate' prints one); a passphrase is refused, as one can be guessed", reconcile.MinKeyLen, 2*reconcile.MinKeyLen)

// Fingerprinter returns the installation's fingerprinter: the configured
// key, or the key file (generated once, mode 0600, beside the
// configuration by default).
func Fingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	if k := cfg.FingerprintKey.Reveal(); k != "" {
		key, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || len(key) < reconcile.MinKeyLen {
			// A passphrase can be guessed, and with it every fingerprint
			// tested: only random keys are taken.
			return nil, errPassphrase
		}
		return reconcile.NewFingerprinter(key)
	}
	key, err := reconcile.LoadOrCreateKeyFile(keyFilePath(cfg))
	if err != nil {
		return nil, err
	}
	return reconcile.NewFingerprinter(key)
}

// OpenSource opens the local connector of a job: the job's sheet or table
// as the one object m.LocalObject, requiring the columns its rules map.
//
// A sheet source's options map onto the sheet connector's as follows:
//
//   - header_row: the header row; left out (0), the sheet connector finds
//     it: the first of the first 50 rows holding the job's local.key
//     header (so a title row above the headers needs no setting);
//   - soft_delete: the column a deleted record is marked in (delete mode
//     mark), with the mark "deleted" (sheet.SheetConfig.DeleteValue's
//     default; matched ignoring case on read, and a marked row is not a
//     record). Left out, the sheet connector's default column Deleted is
//     used: a sheet's rows are never removed;
//   - status_column: the per-row status column ("synced <UTC time>" or
//     "error <code> <column>"), written on local writes and by
//     WriteStatus after a run;
//   - backups: the configuration's count (default 3) is always passed, so
//     the sheet connector's own default (5) never applies.
func OpenSource(job *config.Job, m *mapping.JobMapping) (connector.Connector, error) {
	src := job.Source
	columns := mappedColumns(job)
	switch src.Kind {
	case config.KindCSV, config.KindXLSX:
		backups := src.Backups
		sc := sheet.SheetConfig{
			Object:       m.LocalObject,
			Path:         src.Path,
			Format:       string(src.Kind),
			Sheet:        firstNonEmpty(job.Local.Sheet, src.Sheet),
			HeaderRow:    src.HeaderRow,
			Key:          job.Local.Key,
			KeyPattern:   strings.TrimSpace(job.Local.KeyPattern),
			Columns:      columns,
			ReadOnly:     src.ReadOnly,
			Delete:       sheet.DeleteMark,
			DeleteColumn: strings.TrimSpace(src.SoftDelete),
			StatusColumn: strings.TrimSpace(src.StatusColumn),
		}
		if src.Kind == config.KindCSV {
			sc.Encoding = string(src.Encoding)
			sc.Delimiter = src.Delimiter
		}
		return sheet.New(sheet.Config{Name: src.Name, ReadOnly: src.ReadOnly, Backups: &backups, Sheets: []sheet.SheetConfig{sc}})
	case config.KindSQLite, config.KindPostgres, config.KindMySQL:
		table := firstNonEmpty(job.Local.Table, src.Table, m.LocalObject)
		dsn := src.DSN.Reveal()
		if src.Kind == config.KindSQLite && dsn == "" {
			dsn = src.Path
		}
		return sqldb.New(src.Name, sqldb.Config{
			Driver:   sqldb.Driver(src.Kind),
			DSN:      sqldb.DSN(dsn),
			TimeZone: src.Timezone,
			Tables: map[string]sqldb.Table{m.LocalObject: {
				Table:      table,
				Key:        job.Local.Key,
				Link:       src.LinkColumn,
				UpdatedAt:  src.UpdatedAt,
				SoftDelete: src.SoftDelete,
			}},
		})
	}
	return nil, fmt.Errorf("source %s: kind %q is not supported", src.Name, src.Kind)
}

// statusWriter is a local connector that records per-row sync status
// (sheet.Connector.Status).
type statusWriter interface {
	Status(ctx context.Context, object string, results []connector.Result) error
}

// WriteStatus records in the local source's status column (a sheet's
// status_column) what a run did to each row: "error <code> <column>" for a
// row with a cell that did not map or a record whose write failed on
// either side (the first such error), else "synced <UTC time>" for a row
// with a write that went through. A row the run left alone keeps its
// status. A child's outcome is its parent row's. A local connector
// without a status column and a run that failed as a whole (no result)
// write nothing. Call it only after a run that applied its plan: a dry
// run's mapping errors would be recorded.
//
// When some of a run's writes were neither done nor failed (held back by
// the API budget, or not reached), WriteStatus cannot tell which: it then
// records only the errors, never "synced".
//
// The runner calls it after a run, with the local connector the run used;
// column names are written, never values.
func WriteStatus(ctx context.Context, local connector.Connector, m *mapping.JobMapping, res *JobResult) error {
	sw, ok := local.(statusWriter)
	if !ok || res == nil || res.Result == nil {
		return nil
	}
	if hs, ok := local.(interface{ HasStatus(object string) bool }); ok && !hs.HasStatus(m.LocalObject) {
		return nil // no status column: nothing to gather
	}
	type rowStatus struct {
		err    error
		synced bool
		note   string // a success worth saying more of ("adopted")
	}
	rows := map[string]*rowStatus{}
	var order []string
	row := func(object, sfKey string) *rowStatus {
		lk, ok := m.LocalKeyOf(object, sfKey)
		if !ok || lk == "" {
			return nil
		}
		id := connector.KeyID(lk, false)
		rs := rows[id]
		if rs == nil {
			rs = &rowStatus{}
			rows[id] = rs
			order = append(order, lk)
		}
		return rs
	}
	// column names the local column of a Salesforce field, for field staff.
	column := func(object, sfKey, field string) string {
		if mem, ok := m.MemberOf(object, sfKey); ok && field != "" {
			for _, r := range mem.Rules {
				if strings.EqualFold(r.SF, field) && r.Local != "" {
					return r.Local
				}
			}
		}
		return field
	}
	fail := func(object, sfKey, field string, code connector.Code) {
		if rs := row(object, sfKey); rs != nil && rs.err == nil {
			if code == "" {
				code = connector.CodeInvalidValue
			}
			rs.err = &connector.RecordError{Op: "sync", Object: object, Key: sfKey, Field: column(object, sfKey, field), Code: code,
				Err: &connector.ValueError{Code: code}}
		}
	}
	for _, e := range res.MappingErrors {
		fail(e.Object, e.Key, e.Field, e.Code)
	}
	members := m.Members()
	var walk func(r *reconcile.Result, mem int)
	walk = func(r *reconcile.Result, mem int) {
		if r == nil || mem >= len(members) {
			return
		}
		object := members[mem].Object
		failed := map[string]bool{}
		for _, f := range r.Failed {
			fail(object, f.Key, f.Field, connector.Code(f.Code))
			failed[connector.KeyID(f.Key, false)] = true
		}
		if p := r.Plan; p != nil {
			// A field held by conflict: manual is the row's news, not
			// "synced": field staff see which column waits for a person.
			adopted := map[string]bool{}
			for _, n := range p.Notes {
				switch n.Kind {
				case reconcile.NoteConflict:
					fail(object, n.Key, n.Field, connector.CodeConflictHeld)
				case reconcile.NoteAmbiguous:
					fail(object, n.Key, "", connector.CodeAmbiguousMatch)
				case reconcile.NoteAdopted:
					adopted[connector.KeyID(n.Key, false)] = true
				case reconcile.NoteMatched, reconcile.NoteLinked:
					// Paired with a Salesforce record this run: the row
					// says so, written to or not.
					if !failed[connector.KeyID(n.Key, false)] {
						if rs := row(object, n.Key); rs != nil {
							rs.synced, rs.note = true, "matched"
						}
					}
				}
			}
			c := r.Counts
			complete := c.Creates+c.Updates+c.Deletes+len(r.Failed) >= len(p.Writes)
			for _, w := range p.Writes {
				if complete && !failed[connector.KeyID(w.Key, false)] {
					if rs := row(object, w.Key); rs != nil {
						rs.synced = true
						if adopted[connector.KeyID(w.Key, false)] {
							rs.note = "adopted"
						}
					}
				}
			}
		}
		if mem == 0 {
			for i, ch := range r.Children {
				walk(ch, i+1)
			}
		}
	}
	walk(res.Result, 0)
	var out []connector.Result
	for _, lk := range order {
		rs := rows[connector.KeyID(lk, false)]
		switch {
		case rs.err != nil:
			out = append(out, connector.Result{Key: lk, Err: rs.err})
		case rs.synced:
			out = append(out, connector.Result{Key: lk, Note: rs.note})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return sw.Status(ctx, m.LocalObject, out)
}

// mappedColumns lists the local columns a job's rules name, so that a
// renamed header is a fatal error rather than a column of nulls.
func mappedColumns(job *config.Job) []string {
	seen := map[string]bool{}
	var cols []string
	add := func(rules []*config.Rule) {
		for _, r := range rules {
			if r.Local != "" && !seen[r.Local] {
				seen[r.Local] = true
				cols = append(cols, r.Local)
			}
		}
	}
	add(job.Fields)
	for _, c := range job.Children {
		add(c.Fields)
		if e := c.Each; e != nil && e.Local != "" && !seen[e.Local] {
			seen[e.Local] = true
			cols = append(cols, e.Local)
		}
	}
	return cols
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
