package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Connector is a database as a connector: each configured table is one
// object. It is safe for concurrent use.
type Connector struct {
	name string
	cfg  Config
	d    dialect
	db   *sql.DB
	loc  *time.Location

	mu     sync.Mutex
	tables map[string]*table // described tables by object name

	// Now returns the time stamped into updated_at and date-time
	// soft-delete columns; time.Now by default.
	Now func() time.Time
}

// table is a described table.
type table struct {
	object   string
	name     string // in the database
	cfg      Table
	desc     *connector.Object
	cols     []*column // readable columns, in table order
	byName   map[string]*column
	key      *column
	link     *column
	updated  *column
	soft     *column
	keyGen   bool // the database generates the key
	keyCase  bool // keys compare case-sensitively
	required []string
	indexCol map[string]string // single-column unique index name -> column
	// otherUnique: the key is not the primary key, and a unique index
	// other than the key's (and than an auto-increment primary key's)
	// exists. MySQL's ON DUPLICATE KEY UPDATE fires on the first unique
	// index a row collides with (the primary key first, then in creation
	// order), so it could update another row: updates of such tables use
	// UPDATE.
	otherUnique bool
	selList     string // the quoted column list of cols
}

// New returns a connector named name over the database cfg describes. It
// validates cfg and prepares a connection pool but does not connect; use
// Check to test the connection and the tables.
func New(name string, cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sqldb %s: %w", name, err)
	}
	c := &Connector{name: name, cfg: cfg, tables: map[string]*table{}, Now: time.Now, loc: time.UTC}
	if cfg.TimeZone != "" {
		c.loc, _ = time.LoadLocation(cfg.TimeZone)
	}
	dsn := string(cfg.DSN)
	switch cfg.Driver.canonical() {
	case SQLite:
		c.d = sqliteDialect{}
		dsn = sqliteDSN(dsn)
	case Postgres:
		c.d = postgresDialect{}
	case MySQL:
		c.d = mysqlDialect{}
		var err error
		if dsn, err = mysqlDSN(dsn, c.loc); err != nil {
			return nil, fmt.Errorf("sqldb %s: %w", name, err)
		}
	}
	db, err := sql.Open(c.d.driverName(), dsn)
	if err != nil {
		// Driver open errors can quote the DSN, which may hold a password.
		return nil, fmt.Errorf("sqldb %s: cannot open the %s database: malformed dsn", name, c.d.name())
	}
	if c.d.name() == "sqlite" {
		db.SetMaxOpenConns(4)
	}
	c.db = db
	return c, nil
}

// Name implements connector.Connector.
func (c *Connector) Name() string { return c.name }

// DB returns the connector's connection pool (for tests and tools).
func (c *Connector) DB() *sql.DB { return c.db }

// Close closes the connection pool.
func (c *Connector) Close() error { return c.db.Close() }

// Check connects to the database and describes every configured table,
// reporting a missing table or column. It is the connector's connection
// test; New does no I/O.
func (c *Connector) Check(ctx context.Context) error {
	if err := c.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqldb %s: %w", c.name, c.sanitize(err))
	}
	var errs []error
	for _, o := range c.Objects() {
		c.forget(o)
		if _, err := c.table(ctx, "check", o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Objects returns the configured object names, sorted.
func (c *Connector) Objects() []string {
	names := make([]string, 0, len(c.cfg.Tables))
	for n := range c.cfg.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Describe implements connector.Describer.
func (c *Connector) Describe(ctx context.Context, object string) (*connector.Object, error) {
	t, err := c.table(ctx, "describe", object)
	if err != nil {
		return nil, err
	}
	d := *t.desc
	d.Fields = slices.Clone(t.desc.Fields)
	return &d, nil
}

// forget drops a cached description, so the next call describes the table
// again (after a statement failed because the table changed).
func (c *Connector) forget(object string) {
	c.mu.Lock()
	delete(c.tables, object)
	c.mu.Unlock()
}

// table returns the description of object, introspecting the table on
// first use.
func (c *Connector) table(ctx context.Context, op, object string) (*table, error) {
	c.mu.Lock()
	t := c.tables[object]
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	tc, ok := c.cfg.Tables[object]
	if !ok {
		return nil, fmt.Errorf("%s %s %s: %w", op, c.name, object, connector.ErrObjectNotFound)
	}
	t, err := c.describe(ctx, object, tc)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", op, c.name, object, err)
	}
	c.mu.Lock()
	c.tables[object] = t
	c.mu.Unlock()
	return t, nil
}

func (c *Connector) describe(ctx context.Context, object string, tc Table) (*table, error) {
	name := tc.tableName(object)
	raw, err := c.d.columns(ctx, c.db, name)
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", name, c.sanitize(err))
	}
	if raw == nil {
		return nil, fmt.Errorf("table %s does not exist: %w", name, connector.ErrObjectNotFound)
	}
	t := &table{object: object, name: name, cfg: tc, byName: map[string]*column{}, indexCol: map[string]string{}}
	desc := &connector.Object{Name: object, Label: name, Key: tc.Key, Modified: tc.UpdatedAt}
	find := func(opt, col string) (*rawColumn, error) {
		for i := range raw {
			if raw[i].name == col {
				if raw[i].skip != "" {
					return nil, fmt.Errorf("table %s: the %s column %s cannot be used: %s", name, opt, col, raw[i].skip)
				}
				return &raw[i], nil
			}
		}
		return nil, fmt.Errorf("table %s has no column %s (configured as %s): %w", name, col, opt, connector.ErrFieldNotFound)
	}
	keyRaw, err := find("key", tc.Key)
	if err != nil {
		return nil, err
	}
	if keyRaw.column.kind != kText && keyRaw.column.kind != kInt {
		return nil, fmt.Errorf("table %s: key column %s must be text or integer, not %s", name, tc.Key, keyRaw.declared)
	}
	if !keyRaw.unique {
		return nil, fmt.Errorf("table %s: key column %s is neither the primary key nor covered by a unique index of its own", name, tc.Key)
	}
	var errs []error
	for _, o := range []struct{ opt, col string }{{"link", tc.Link}, {"updated_at", tc.UpdatedAt}, {"soft_delete", tc.SoftDelete}} {
		if o.col == "" {
			continue
		}
		rc, err := find(o.opt, o.col)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch k := rc.column.kind; {
		case o.opt == "link" && k != kText:
			errs = append(errs, fmt.Errorf("table %s: link column %s must be a text column", name, o.col))
		case o.opt == "updated_at" && k != kDateTime && k != kInstant:
			errs = append(errs, fmt.Errorf("table %s: updated_at column %s must be a date-time column", name, o.col))
		case o.opt == "soft_delete" && k != kBool && k != kInt && k != kDateTime && k != kInstant:
			errs = append(errs, fmt.Errorf("table %s: soft_delete column %s must be a boolean, integer or date-time column", name, o.col))
		}
	}
	if tc.Link != "" && !keyRaw.column.generated {
		errs = append(errs, fmt.Errorf("table %s: link is for tables whose key the database generates, and key column %s is not generated", name, tc.Key))
	}
	for _, cn := range slices.Sorted(maps.Keys(tc.Columns)) {
		cc := tc.Columns[cn]
		rc, err := find("columns."+cn, cn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rc.column.kind != kText {
			errs = append(errs, fmt.Errorf("table %s: column %s is not a text column, so it cannot be declared a picklist or multi-select", name, cn))
			continue
		}
		f := &rc.column.field
		f.Picklist = slices.Clone(cc.Values)
		f.Restricted = len(cc.Values) > 0
		if cc.MultiSelect != "" {
			rc.column.kind, rc.column.sep, f.Type = kSet, cc.MultiSelect, connector.TypeMultiPicklist
		} else {
			f.Type = connector.TypePicklist
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range raw {
		rc := &raw[i]
		if rc.skip != "" {
			continue
		}
		col := rc.column
		f := &col.field
		f.Unique = rc.unique
		if col.generated || col.computed {
			f.Createable = false
		}
		if col.computed {
			f.Updateable = false
		}
		if rc.name == tc.Key {
			f.ExternalID = true
			f.Updateable = false
			switch tc.KeyCase {
			case KeyCaseSensitive:
				f.CaseSensitive = true
			case KeyCaseInsensitive:
				f.CaseSensitive = false
			default:
				f.CaseSensitive = !(col.ciKnown && col.ci)
			}
			t.keyCase = f.CaseSensitive
			t.keyGen = col.generated
		}
		if rc.name == tc.Link {
			f.ExternalID = true
		}
		for _, idx := range rc.indexes {
			t.indexCol[idx] = rc.name
		}
		if rc.multiUniq || rc.unique && rc.name != tc.Key && !(rc.primary && col.generated) {
			t.otherUnique = true
		}
		f.Defaulted = !f.Nillable && (col.hasDef || col.generated)
		cp := col
		t.cols = append(t.cols, &cp)
		t.byName[rc.name] = &cp
		desc.Fields = append(desc.Fields, *f)
		if !f.Nillable && !col.hasDef && !col.generated && !col.computed && rc.name != tc.Key {
			t.required = append(t.required, rc.name)
		}
	}
	if keyRaw.primary {
		t.otherUnique = false
	}
	t.key = t.byName[tc.Key]
	t.link = t.byName[tc.Link]
	t.updated = t.byName[tc.UpdatedAt]
	t.soft = t.byName[tc.SoftDelete]
	t.desc = desc
	sel := make([]byte, 0, 16*len(t.cols))
	for i, col := range t.cols {
		if i > 0 {
			sel = append(sel, ", "...)
		}
		sel = append(sel, c.d.quote(col.field.Name)...)
	}
	t.selList = string(sel)
	return t, nil
}

// TracksChanges implements connector.ChangeTracker: reads are incremental
// for tables with an updated_at column.
func (c *Connector) TracksChanges(object string) bool {
	tc, ok := c.cfg.Tables[object]
	return ok && tc.UpdatedAt != ""
}

// TracksDeletes implements connector.DeleteTracker: an incremental read
// sees deletions only through a soft-delete column (rows deleted outright
// just stop appearing).
func (c *Connector) TracksDeletes(object string) bool {
	tc, ok := c.cfg.Tables[object]
	return ok && tc.UpdatedAt != "" && tc.SoftDelete != ""
}

// Interface guards.
var (
	_ connector.Connector     = (*Connector)(nil)
	_ connector.DeleteTracker = (*Connector)(nil)
	_ connector.Sink          = (*Connector)(nil)
	_ connector.KeyLister     = (*Connector)(nil)
	_ connector.KeyReader     = (*Connector)(nil)
	_ connector.ChangeTracker = (*Connector)(nil)
)
