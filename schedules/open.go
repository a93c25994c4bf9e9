package schedules

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"filippo.io/age"

	"github.com/jackc/pgx/v5/pgconn"

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
	return salesforce.New(ctx, SalesforceOptions(cfg, objects, onBulkJob))
}

// SalesforceOptions are the connector options OpenSalesforce logs in with,
// for a caller that changes some first: an interactive validate --online
// retries an unreachable org less than a run does.
func SalesforceOptions(cfg *config.Config, objects map[string]string, onBulkJob func(object, operation, id string)) salesforce.Options {
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
	return opts
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

// SQLitePath is the file of an SQLite state store OpenStore opens (validate
// checks that it can be written).
func SQLitePath(cfg *config.Config) string { return sqlitePath(cfg) }

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
		// Named after the server's host, port and database, not the DSN:
		// a rotated password must not hide a kept lockout.
		_, where, err := stateIdentity(cfg)
		if err != nil {
			where = cfg.State.DSN.Reveal()
		}
		return &state.FileJournal{Path: state.JournalPath(where, false)}
	}
	return &state.FileJournal{Path: state.JournalPath(sqlitePath(cfg), true)}
}

// ExistingFingerprinter is Fingerprinter without making a key file: nil
// when the key file does not exist (commands that only read or forget what
// runs recorded under the key, such as tombstones forget, must not make
// one).
func ExistingFingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	return existingFingerprinter(cfg)
}

// existingFingerprinter is Fingerprinter without making a key file: nil
// when the key file does not exist yet.
func existingFingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	kp, err := keyPlaceOf(cfg)
	if err != nil {
		return nil, err
	}
	if kp.file == "" {
		return Fingerprinter(cfg)
	}
	key, err := reconcile.LoadKeyFile(kp.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return reconcile.NewFingerprinter(key)
}

// KeyEnv is the environment variable a configuration naming neither
// fingerprint_key nor fingerprint_key_file takes its fingerprint key from,
// when set: the way to give the key to a daemon or a container without a
// file beside the state.
const KeyEnv = "CASEBRIDGE_FINGERPRINT_KEY"

// legacyKeyFile is where casebridge made the key file before it was kept
// apart from the state: beside the configuration, where the default
// SQLite state lives too.
const legacyKeyFile = "fingerprint.key"

// keyPlace is where a configuration's fingerprint key comes from.
type keyPlace struct {
	// file is the key file; "" when the key is given (fingerprint_key or
	// KeyEnv).
	file string
	// given is the key given in place of a file, and from says where.
	given, from string
	// legacy: file is the old default beside the configuration, found
	// there (an installation made before the default moved).
	legacy bool
}

// keyPlaceOf says where cfg's fingerprint key is, in this order: the
// fingerprint_key setting; fingerprint_key_file as written; KeyEnv; the
// old default fingerprint.key beside the configuration if it exists (so an
// installation made before keeps its key without a person acting); else
// DefaultKeyFile.
func keyPlaceOf(cfg *config.Config) (keyPlace, error) {
	switch {
	case cfg.FingerprintKey.Reveal() != "":
		return keyPlace{given: cfg.FingerprintKey.Reveal(), from: "fingerprint_key"}, nil
	case cfg.Has("fingerprint_key_file") && cfg.FingerprintKeyFile != "":
		return keyPlace{file: cfg.FingerprintKeyFile}, nil
	}
	if k := os.Getenv(KeyEnv); k != "" {
		return keyPlace{given: k, from: KeyEnv}, nil
	}
	old := filepath.Join(cfg.Dir, legacyKeyFile)
	if _, err := os.Lstat(old); err == nil {
		return keyPlace{file: old, legacy: true}, nil
	}
	path, err := DefaultKeyFile(cfg)
	if err != nil {
		return keyPlace{}, err
	}
	if _, err := os.Lstat(path); err != nil {
		// A key file named the earlier way, after the configuration file,
		// takes the state store's name, so that every configuration on the
		// store finds it from now on.
		if prev, perr := configKeyFile(cfg); perr == nil {
			if _, err := os.Lstat(prev); err == nil {
				if os.Rename(prev, path) != nil {
					return keyPlace{file: prev}, nil
				}
			}
		}
	}
	return keyPlace{file: path}, nil
}

// DefaultKeyFile is the key file of a configuration that names none: in
// the user's configuration folder (os.UserConfigDir: ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows), under
// casebridge/, named after the state store it keys and a hash of where
// that store is (an SQLite file's absolute path; a PostgreSQL server's
// host, port and database, never its password). The state records one
// key's id: every configuration using one store (two in a folder, a
// configuration renamed or copied) finds the same key, two stores on one
// machine have two keys, and a copy of the configuration's folder (where
// the SQLite state lives) carries no key.
func DefaultKeyFile(cfg *config.Config) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user configuration folder for the fingerprint key (%v): set %s, fingerprint_key: ${ENV} or fingerprint_key_file", err, KeyEnv)
	}
	name, where, err := stateIdentity(cfg)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(where))
	return filepath.Join(dir, "casebridge", safeName(name)+"-"+hex.EncodeToString(sum[:6])+".key"), nil
}

// stateIdentity names cfg's state store and says where it is, for
// DefaultKeyFile.
func stateIdentity(cfg *config.Config) (name, where string, err error) {
	if cfg.State.Driver == config.StatePostgres {
		pc, err := pgconn.ParseConfig(cfg.State.DSN.Reveal())
		if err != nil {
			return "", "", fmt.Errorf("state.dsn: %w", err)
		}
		return "postgres-" + pc.Database, fmt.Sprintf("postgres\x00%s\x00%d\x00%s", pc.Host, pc.Port, pc.Database), nil
	}
	abs, err := filepath.Abs(sqlitePath(cfg))
	if err != nil {
		return "", "", err
	}
	base := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	return filepath.Base(filepath.Dir(abs)) + "-" + base, "sqlite\x00" + abs, nil
}

// safeName keeps letters, digits, '-', '_' and '.' of s for a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// configKeyFile is where the default key file was, named after the
// configuration file (before it was named after the state store): still
// used where it exists.
func configKeyFile(cfg *config.Config) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(cfg.File)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, "casebridge", safeName(strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)))+"-"+hex.EncodeToString(sum[:6])+".key"), nil
}

// KeyFile is the key file cfg's fingerprint key is kept in, "" when the key
// is given (fingerprint_key, KeyEnv).
func KeyFile(cfg *config.Config) (string, error) {
	kp, err := keyPlaceOf(cfg)
	return kp.file, err
}

// KeyWarnings are the findings about where cfg's fingerprint key is kept,
// for validate and the run log: a key file in the same folder as an
// SQLite state store (one copy of the folder carries both, and with the
// key every fingerprint can be tested against guesses), and the old
// default key file still in use. Paths only, never the key.
func KeyWarnings(cfg *config.Config) []string {
	kp, err := keyPlaceOf(cfg)
	if err != nil || kp.file == "" {
		return nil
	}
	var out []string
	if cfg.State.Driver != config.StatePostgres && sameDir(kp.file, sqlitePath(cfg)) {
		msg := fmt.Sprintf("the fingerprint key file %s is in the same folder as the state store %s: a copy of the folder carries both, and with the key the state's fingerprints can be tested against guessed values", kp.file, sqlitePath(cfg))
		if kp.legacy {
			msg += fmt.Sprintf(" (it was made there by an older casebridge); move it out (to %s, or a folder named by fingerprint_key_file) or give it as %s", defaultKeyFileOrEmpty(cfg), KeyEnv)
		} else {
			msg += fmt.Sprintf("; set fingerprint_key_file to another folder, or give the key as %s", KeyEnv)
		}
		out = append(out, msg)
	}
	return out
}

func defaultKeyFileOrEmpty(cfg *config.Config) string {
	p, _ := DefaultKeyFile(cfg)
	if p == "" {
		return "the user's configuration folder"
	}
	return p
}

// sameDir reports whether two files are in one folder (symbolic links
// resolved as far as they exist).
func sameDir(a, b string) bool {
	dir := func(p string) string {
		d, err := filepath.Abs(filepath.Dir(p))
		if err != nil {
			return filepath.Dir(p)
		}
		if r, err := filepath.EvalSymlinks(d); err == nil {
			return r
		}
		return d
	}
	return dir(a) == dir(b)
}

// warnedKey keeps KeyWarnings to one log line per key file per process.
var warnedKey sync.Map

// logKeyWarnings logs cfg's KeyWarnings, once per key file.
func (r *Runner) logKeyWarnings() {
	ws := KeyWarnings(r.Config)
	if len(ws) == 0 {
		return
	}
	kf, _ := KeyFile(r.Config)
	if _, done := warnedKey.LoadOrStore(kf, true); done {
		return
	}
	for _, w := range ws {
		r.Log.Warn().Str("key_file", kf).Msg(w)
	}
}

// errKeyLost says a key file is gone while the state was written with a
// key, and how to get back. It is a state.ErrKeyMismatch, whose own advice
// it replaces (once is enough).
func errKeyLost(path string) error { return &keyLostError{path} }

type keyLostError struct{ path string }

func (e *keyLostError) Error() string {
	return fmt.Sprintf("fingerprint key file %s is missing, and the state was written with a key (a lost key, or a state store moved: "+
		"its key file may be among the .key files of %s): put the key file back, or start the state over under a new key with "+
		"'casebridge key reset CONFIG --yes', which writes nothing to Salesforce or the local sources (the next run is a first sync: "+
		"check it with 'casebridge sync CONFIG --dry-run'; a classified each's records must then be deleted in Salesforce first)", e.path, filepath.Dir(e.path))
}

func (e *keyLostError) Is(target error) bool { return target == state.ErrKeyMismatch }

// fingerprinter returns the run's fingerprinter. Without a key file yet,
// a dry run takes a throwaway key and records nothing of it (no key file
// is made by a dry run), unless the state was written with a key (then it
// is lost: the run refuses); any other run makes the key file, unless the
// state was written with a key (then too it refuses: a new key file would
// only hide the loss).
func (r *Runner) fingerprinter(ctx context.Context, opts RunOptions) (*reconcile.Fingerprinter, bool, error) {
	r.logKeyWarnings()
	r.fpMu.Lock()
	defer r.fpMu.Unlock()
	if r.FP != nil {
		return r.FP, false, nil
	}
	kp, err := keyPlaceOf(r.Config)
	if err != nil {
		return nil, false, fmt.Errorf("fingerprint key: %w", err)
	}
	if kp.file != "" {
		if kr, ok := r.Store.(interface {
			KeyIDRecorded(ctx context.Context) (string, error)
		}); ok {
			id, err := kr.KeyIDRecorded(ctx)
			if err != nil {
				return nil, false, err
			}
			if _, serr := os.Lstat(kp.file); id != "" && errors.Is(serr, fs.ErrNotExist) {
				return nil, false, errKeyLost(kp.file)
			}
		}
	}
	if !opts.DryRun {
		fp, err := Fingerprinter(r.Config)
		if err != nil {
			return nil, false, fmt.Errorf("fingerprint key: %w", err)
		}
		r.FP = fp
		return fp, false, nil
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
// key, KeyEnv, or the key file (generated once, mode 0600, in a folder of
// mode 0700, by default DefaultKeyFile: see keyPlaceOf).
func Fingerprinter(cfg *config.Config) (*reconcile.Fingerprinter, error) {
	kp, err := keyPlaceOf(cfg)
	if err != nil {
		return nil, err
	}
	if k := kp.given; k != "" {
		key, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || len(key) < reconcile.MinKeyLen {
			// A passphrase can be guessed, and with it every fingerprint
			// tested: only random keys are taken.
			if kp.from == KeyEnv {
				return nil, fmt.Errorf("%s: %w", KeyEnv, errPassphrase)
			}
			return nil, errPassphrase
		}
		return reconcile.NewFingerprinter(key)
	}
	if _, err := os.Lstat(kp.file); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(kp.file), 0o700); err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
	}
	key, err := reconcile.LoadOrCreateKeyFile(kp.file)
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
//     the sheet connector's own default (5) never applies;
//   - backup_encrypt_to: the backups are encrypted to these age
//     recipients (sheet.Connector.EncryptBackups).
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
		sh, err := sheet.New(sheet.Config{Name: src.Name, ReadOnly: src.ReadOnly, Backups: &backups, Sheets: []sheet.SheetConfig{sc}})
		if err != nil || len(src.EncryptTo) == 0 {
			return sh, err
		}
		var to []age.Recipient // backup_encrypt_to: backups written .bak.age
		for _, r := range src.EncryptTo {
			rc, err := r.Recipient()
			if err != nil {
				return nil, fmt.Errorf("source %s: backup_encrypt_to: %w", src.Name, err)
			}
			to = append(to, rc)
		}
		sh.EncryptBackups(to...)
		return sh, nil
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
			complete := c.Creates+c.Updates+c.Deletes+len(r.Failed) >= p.NumWrites()
			for _, w := range p.AllWrites() {
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
