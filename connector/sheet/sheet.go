// Package sheet is the spreadsheet connector: CSV and XLSX files that field
// offices edit by hand. Each configured sheet (a CSV file, or one tab of a
// workbook) is one object whose fields are the header row's columns, read
// as text; typed conversion is the mapping layer's job.
//
// Reading skips what people put around their data (a merged title row,
// blank spacer rows, month label rows, the header row pasted again) and
// reports rows it cannot use (an empty or duplicate key, too few columns,
// bytes that are not valid in the file's encoding) as records with Err set,
// so their keys are unknown rather than deleted.
//
// Writing preserves the file: only the cells written change, new records
// are appended, deletes mark a status column (removing rows is opt-in), the
// encoding, byte order mark, delimiter and line endings of a CSV file and
// the formatting, formulas and other sheets of a workbook stay as they
// were. Writes are atomic and keep timestamped backups, and they stop with
// ErrFileInUse or ErrChangedOnDisk rather than clobber a colleague's edits.
// See README.md.
package sheet

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Sample is an example configuration (sample.yaml), shown in README.md.
//
//go:embed sample.yaml
var Sample string

// DeleteMode says what Delete does to a row.
type DeleteMode string

// Delete modes.
const (
	// DeleteMark writes DeleteValue into DeleteColumn (added to the
	// header if missing). A marked row is not read as a record. The
	// default: removing rows breaks references into the sheet.
	DeleteMark DeleteMode = "mark"
	// DeleteRemove removes the row.
	DeleteRemove DeleteMode = "remove"
)

// Config configures a sheet connector.
type Config struct {
	// Name is the connector instance's name, used in errors.
	Name string `yaml:"name"`
	// ReadOnly declares every sheet read-only (an export from elsewhere):
	// writes return connector.ErrReadOnly.
	ReadOnly bool `yaml:"read_only"`
	// Backups is how many timestamped backups of each file to keep; nil
	// means 5, 0 keeps none.
	Backups *int `yaml:"backups"`
	// BackupDir holds the backups; "" means a .casebridge-backup folder
	// next to each file.
	BackupDir string `yaml:"backup_dir"`
	// Sheets lists the objects.
	Sheets []SheetConfig `yaml:"sheets"`
}

// SheetConfig configures one object: a CSV file or one sheet of a workbook.
type SheetConfig struct {
	// Object is the object's name.
	Object string `yaml:"object"`
	// Path is the file.
	Path string `yaml:"path"`
	// Format is "csv" or "xlsx"; "" decides by the file extension
	// (.xlsx and .xlsm are workbooks, anything else CSV).
	Format string `yaml:"format"`
	// Sheet is the workbook sheet (tab) name; "" means the first sheet.
	Sheet string `yaml:"sheet"`
	// Encoding of a CSV file: utf-8, utf-16, utf-16le, utf-16be,
	// windows-1252, or "" to detect (byte order mark, then UTF-8 if the
	// bytes are valid UTF-8, else Windows-1252).
	Encoding string `yaml:"encoding"`
	// Delimiter of a CSV file: ",", ";", "\t" (or "tab"), or "" to detect.
	Delimiter string `yaml:"delimiter"`
	// HeaderRow is the 1-based row number of the header; 0 means the
	// first row (of the first 50) that holds the Key column's name.
	HeaderRow int `yaml:"header_row"`
	// Key is the header of the column holding each row's key (case id).
	// Required.
	Key string `yaml:"key"`
	// KeyPattern, if set, is a regular expression every key must match;
	// a row whose key does not is reported as INVALID_KEY (unknown, not
	// absent).
	KeyPattern string `yaml:"key_pattern"`
	// Columns lists headers that must exist (the mapped ones): a missing
	// one is a fatal error for the run, never a column of nulls.
	Columns []string `yaml:"columns"`
	// ReadOnly declares this sheet read-only.
	ReadOnly bool `yaml:"read_only"`
	// Delete is "mark" (default) or "remove".
	Delete DeleteMode `yaml:"delete"`
	// DeleteColumn is the header of the column Delete marks; "" means
	// "Deleted".
	DeleteColumn string `yaml:"delete_column"`
	// DeleteValue is the mark, matched case-insensitively on read; ""
	// means "deleted".
	DeleteValue string `yaml:"delete_value"`
	// StatusColumn, if set, is the header of a column where each write
	// records what happened to the row ("synced 2026-04-03T10:00:00Z", or
	// "error INVALID_FIELD_FOR_INSERT_UPDATE Age"). Added if missing.
	StatusColumn string `yaml:"status_column"`
	// InjectionGuard protects CSV cells against formula injection (see
	// README.md); nil means on.
	InjectionGuard *bool `yaml:"injection_guard"`
}

type format uint8

const (
	formatCSV format = iota
	formatXLSX
)

// sheetConf is a validated SheetConfig.
type sheetConf struct {
	SheetConfig
	conn   string
	format format
	keyRE  *regexp.Regexp
	guard  bool
	ro     bool
}

// Connector reads and writes the configured sheets. It is safe for
// concurrent use; writes are serialised.
type Connector struct {
	name   string
	sheets []*sheetConf
	w      writer

	mu   sync.Mutex
	seen map[string]stamp // by path: the version last read or written
	// surveys keeps each sheet's last survey of keys (a workbook's
	// tabs are sheets of one file): a run planned in parts reads the file
	// once per part, and a file whose stamp (size, time, SHA-256) is
	// unchanged has the same header and duplicate keys.
	surveys map[*sheetConf]*survey

	// Now returns the time written to status columns and backup names;
	// time.Now by default.
	Now func() time.Time
}

// New validates cfg and returns the connector. It does no I/O: a missing
// file is reported by the first read.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		return nil, errors.New("sheet: name is required")
	}
	c := &Connector{name: cfg.Name, seen: map[string]stamp{}, Now: time.Now}
	c.w = writer{backups: 5, backupDir: cfg.BackupDir, now: func() time.Time { return c.Now() }}
	if cfg.Backups != nil {
		if *cfg.Backups < 0 {
			return nil, fmt.Errorf("sheet %s: backups must be 0 or more", cfg.Name)
		}
		c.w.backups = *cfg.Backups
	}
	for i, s := range cfg.Sheets {
		sc := &sheetConf{SheetConfig: s, conn: cfg.Name, ro: cfg.ReadOnly || s.ReadOnly, guard: true}
		where := fmt.Sprintf("sheet %s: sheets[%d]", cfg.Name, i)
		if s.Object == "" || s.Path == "" || s.Key == "" {
			return nil, fmt.Errorf("%s: object, path and key are required", where)
		}
		if c.sheet(s.Object) != nil {
			return nil, fmt.Errorf("%s: object %q configured twice", where, s.Object)
		}
		switch strings.ToLower(s.Format) {
		case "":
			switch strings.ToLower(filepath.Ext(s.Path)) {
			case ".xlsx", ".xlsm":
				sc.format = formatXLSX
			}
		case "csv":
		case "xlsx":
			sc.format = formatXLSX
		default:
			return nil, fmt.Errorf("%s: format %q: want csv or xlsx", where, s.Format)
		}
		if sc.format == formatCSV {
			if s.Sheet != "" {
				return nil, fmt.Errorf("%s: sheet applies to xlsx files only", where)
			}
			if _, _, err := parseEncoding(s.Encoding); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if _, err := detectFormat(nil, s.Encoding, s.Delimiter, ""); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		} else if s.Encoding != "" || s.Delimiter != "" {
			return nil, fmt.Errorf("%s: encoding and delimiter apply to csv files only", where)
		}
		if s.HeaderRow < 0 {
			return nil, fmt.Errorf("%s: header_row must be 1 or more (0 detects)", where)
		}
		if s.KeyPattern != "" {
			re, err := regexp.Compile(s.KeyPattern)
			if err != nil {
				return nil, fmt.Errorf("%s: key_pattern: %w", where, err)
			}
			sc.keyRE = re
		}
		switch s.Delete {
		case "":
			sc.Delete = DeleteMark
		case DeleteMark, DeleteRemove:
		default:
			return nil, fmt.Errorf("%s: delete %q: want mark or remove", where, s.Delete)
		}
		if sc.DeleteColumn == "" {
			sc.DeleteColumn = "Deleted"
		}
		if sc.DeleteValue == "" {
			sc.DeleteValue = "deleted"
		}
		if s.InjectionGuard != nil {
			sc.guard = *s.InjectionGuard
		}
		if fold(sc.Key) == fold(sc.StatusColumn) || sc.Delete == DeleteMark && fold(sc.Key) == fold(sc.DeleteColumn) {
			return nil, fmt.Errorf("%s: the key column cannot be the status or delete column", where)
		}
		c.sheets = append(c.sheets, sc)
	}
	return c, nil
}

// Name implements connector.Connector.
func (c *Connector) Name() string { return c.name }

func (c *Connector) sheet(object string) *sheetConf {
	for _, s := range c.sheets {
		if s.Object == object {
			return s
		}
	}
	for _, s := range c.sheets {
		if strings.EqualFold(s.Object, object) {
			return s
		}
	}
	return nil
}

func (c *Connector) lookup(op, object string) (*sheetConf, error) {
	sc := c.sheet(object)
	if sc == nil {
		return nil, fmt.Errorf("%s %s %s: %w", op, c.name, object, connector.ErrObjectNotFound)
	}
	return sc, nil
}

// rows streams the physical rows of the sheet's file. merges (XLSX) are
// returned at the end: horizontal merged ranges as first column -> last
// column, by row.
func (sc *sheetConf) rows(ctx context.Context, fn func(*rawRow) error) (map[int][][2]int, error) {
	if sc.format == formatXLSX {
		return xlsxRows(ctx, sc, fn)
	}
	return nil, csvRows(ctx, sc, fn)
}

// survey is the first pass of a read: it finds the header, hashes the keys
// of live rows to find duplicates, and stamps the file.
type survey struct {
	layout *layout
	dups   map[uint64]bool
	stamp  stamp
}

var errStop = errors.New("stop")

func (c *Connector) survey(ctx context.Context, sc *sheetConf, keys bool) (*survey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.w.sweep(sc.Path) // temporary files of interrupted writes hold personal data
	st, err := hashFile(sc.Path)
	if err != nil {
		return nil, c.fileError(sc, err)
	}
	if keys {
		c.mu.Lock()
		sv := c.surveys[sc]
		c.mu.Unlock()
		if sv != nil && sv.stamp.equal(st) {
			return sv, nil
		}
	}
	var (
		header *rawRow
		first  *layout
		hashes []uint64
	)
	merges, err := sc.rows(ctx, func(r *rawRow) error {
		if first == nil {
			if !sc.isHeader(r) {
				if r.num >= headerScanLimit && sc.HeaderRow == 0 || sc.HeaderRow > 0 && r.num > sc.HeaderRow {
					return errStop
				}
				return nil
			}
			header = &rawRow{num: r.num, cells: append([]string(nil), r.cells...)}
			l, err := sc.newLayout(r, nil)
			if err != nil {
				return err
			}
			first = l
			if !keys && sc.format == formatCSV {
				return errStop // CSV has no merged cells: the header is all Describe needs
			}
			return nil
		}
		if !keys || sc.classify(first, r) != rowData {
			return nil
		}
		// An unreadable row counts: its key next to a good row's makes
		// both unknown.
		if key, p := sc.rowKey(first, r); key != "" && p.code != connector.CodeInvalidKey {
			hashes = append(hashes, keyHash(key))
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, c.fileError(sc, err)
	}
	if first == nil {
		return nil, sc.noHeader()
	}
	l := first
	if hm := merges[header.num]; len(hm) > 0 {
		m := map[int]int{}
		for _, span := range hm {
			for col := span[0] + 1; col <= span[1]; col++ {
				m[col] = span[0]
			}
		}
		if l, err = sc.newLayout(header, m); err != nil {
			return nil, err
		}
		l.key = first.key // merged headers never move the key column
	}
	sv := &survey{layout: l, dups: dupSet(hashes), stamp: st}
	if keys {
		c.mu.Lock()
		if c.surveys == nil {
			c.surveys = map[*sheetConf]*survey{}
		}
		c.surveys[sc] = sv
		c.mu.Unlock()
	}
	return sv, nil
}

// fileError wraps an I/O or format error with the file's name. A missing
// file is not an empty sheet: it fails the read.
func (c *Connector) fileError(sc *sheetConf, err error) error {
	var re *connector.RecordError
	if errors.As(err, &re) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, os.ErrNotExist) {
		return &connector.RecordError{Op: "read", Connector: c.name, Object: sc.Object, Class: connector.Fatal,
			Err: fmt.Errorf("%s: file not found (a missing file is not an empty sheet): %w", sc.Path, err)}
	}
	if errors.Is(err, connector.ErrObjectNotFound) {
		return &connector.RecordError{Op: "read", Connector: c.name, Object: sc.Object, Class: connector.Fatal, Err: err}
	}
	return fmt.Errorf("read %s %s: %s: %w", c.name, sc.Object, sc.where(), err)
}

// Describe implements connector.Describer: every named column is a text
// field (of at most 32,767 characters in a workbook); the key column is the key, an external id compared
// case-insensitively. The delete and status columns are the connector's
// own and not fields.
func (c *Connector) Describe(ctx context.Context, object string) (*connector.Object, error) {
	sc, err := c.lookup("describe", object)
	if err != nil {
		return nil, err
	}
	sv, err := c.survey(ctx, sc, false)
	if err != nil {
		return nil, err
	}
	l := sv.layout
	o := &connector.Object{Name: sc.Object, Label: sc.Object, Key: l.names[l.key]}
	for i, name := range l.names {
		if !l.field(i) {
			continue
		}
		f := connector.Field{Name: name, Label: name, Type: connector.TypeString, Nillable: true,
			Createable: !sc.ro, Updateable: !sc.ro}
		if sc.format == formatXLSX {
			f.Length = maxCellChars
		}
		if i == l.key {
			f.ExternalID, f.Unique, f.Nillable = true, true, false
		}
		o.Fields = append(o.Fields, f)
	}
	return o, nil
}

// each is the second pass of a complete read: it calls fn for every data
// row with its key and error (nil for a good row).
func (c *Connector) each(ctx context.Context, sc *sheetConf, fn func(l *layout, r *rawRow, key string, err error) error) error {
	sv, err := c.survey(ctx, sc, true)
	if err != nil {
		return err
	}
	l := sv.layout
	past := false
	var fnErr error // fn's own error is returned as it is
	_, err = sc.rows(ctx, func(r *rawRow) error {
		if !past {
			past = r.num == l.row
			return nil
		}
		if sc.classify(l, r) != rowData {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		key, p := sc.rowKey(l, r)
		if p.code == "" && sv.dups[keyHash(key)] {
			p = rowProblem{connector.CodeDuplicateKey, l.key, "the key is on more than one row; all of them are left out until it is fixed"}
		}
		var rerr error
		if p.code != "" {
			if p.damaged() {
				// The key cell of a row that could not be read whole is
				// not trusted (cells may have shifted into it, a name
				// among them): the row names no record, so the read
				// counts as incomplete and decides no deletes.
				key = ""
			}
			rerr = sc.rowError(l, r, key, p)
		}
		fnErr = fn(l, r, key, rerr)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return c.fileError(sc, err)
	}
	// Under the write lock, so a write of ours cannot slip in between the
	// check and the record of what was read.
	c.mu.Lock()
	defer c.mu.Unlock()
	if fi, err := os.Stat(sc.Path); err != nil || fi.Size() != sv.stamp.size || !fi.ModTime().Equal(sv.stamp.mtime) {
		return fmt.Errorf("read %s %s: %s: %w while it was read; run again", c.name, sc.Object, sc.Path, ErrChangedOnDisk)
	}
	c.seen[sc.Path] = sv.stamp
	return nil
}

// Read implements connector.Source. A sheet does not track changes: every
// read is complete and the cursor is empty. Rows that cannot be used come
// with Record.Err set (a *connector.RecordError naming file, row and
// column, never a value); marked-deleted rows are not records.
func (c *Connector) Read(ctx context.Context, object string, _ connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	sc, err := c.lookup("read", object)
	if err != nil {
		return "", err
	}
	keep := connector.KeyFilterOf(ctx)
	return "", c.each(ctx, sc, func(l *layout, r *rawRow, key string, rerr error) error {
		if rerr != nil {
			return fn(connector.Record{Key: key, Err: rerr})
		}
		if keep != nil && !keep(key) {
			return nil // another part's row (connector.WithKeyFilter)
		}
		return fn(l.record(key, r))
	})
}

// ListKeys implements connector.KeyLister: the keys of a complete read,
// without the rows that could not be read.
func (c *Connector) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	sc, err := c.lookup("list_keys", object)
	if err != nil {
		return err
	}
	return c.each(ctx, sc, func(_ *layout, _ *rawRow, key string, rerr error) error {
		if rerr != nil {
			return nil
		}
		return fn(key)
	})
}

// ReadKeys implements connector.KeyReader. It reads the whole sheet (a
// file has no index) and passes the records of the keys asked for.
func (c *Connector) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	sc, err := c.lookup("read_keys", object)
	if err != nil {
		return err
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[connector.KeyID(k, false)] = true
	}
	return c.each(ctx, sc, func(l *layout, r *rawRow, key string, rerr error) error {
		id := connector.KeyID(key, false)
		if rerr != nil || !want[id] {
			return nil
		}
		delete(want, id)
		return fn(l.record(key, r))
	})
}

// hashFile stamps a file without holding it in memory.
func hashFile(path string) (stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return stamp{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return stamp{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return stamp{}, err
	}
	st := stamp{size: fi.Size(), mtime: fi.ModTime()}
	h.Sum(st.sum[:0])
	return st, nil
}

// Interface guards.
var (
	_ connector.Connector = (*Connector)(nil)
	_ connector.Sink      = (*Connector)(nil)
	_ connector.KeyLister = (*Connector)(nil)
	_ connector.KeyReader = (*Connector)(nil)
)
