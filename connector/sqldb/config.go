package sqldb

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones on machines without a zoneinfo database
)

// Sample is an example configuration, shown in the README.
//
//go:embed sample.yaml
var Sample string

// Driver names a database dialect.
type Driver string

// Drivers.
const (
	SQLite   Driver = "sqlite"   // modernc.org/sqlite; DSN: a file path or file: URI
	Postgres Driver = "postgres" // pgx; DSN: postgres:// URL or key=value string
	MySQL    Driver = "mysql"    // go-sql-driver/mysql, also MariaDB; DSN: user:pass@tcp(host:3306)/db
	MariaDB  Driver = "mariadb"  // an alias of MySQL
)

// DSN is a data source name. It may carry a password, so fmt never prints
// it: every verb shows "dsn(redacted)", also inside a printed Config.
type DSN string

// Format prints the redacted form for every verb.
func (DSN) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("dsn(redacted)")) }

// KeyCase says how key values compare.
type KeyCase string

// Key cases.
const (
	// KeyCaseAuto takes the case sensitivity from the key column's
	// collation where the database tells (MySQL *_ci collations, SQLite
	// COLLATE NOCASE, PostgreSQL citext or a non-deterministic collation
	// are insensitive) and treats the key as case-sensitive otherwise.
	KeyCaseAuto        KeyCase = "auto"
	KeyCaseSensitive   KeyCase = "sensitive"
	KeyCaseInsensitive KeyCase = "insensitive"
)

// DefaultLookBack is how far before its cursor an incremental read starts
// by default, to catch rows whose updated_at was set before a slow
// transaction committed, and timestamps that tie.
const DefaultLookBack = 5 * time.Minute

// Config configures a connector: one database, several tables. Each table
// is one object, named by its key in Tables.
type Config struct {
	// Driver is sqlite, postgres or mysql (mariadb is an alias).
	Driver Driver `yaml:"driver"`
	// DSN is the driver's data source name. It may carry a password: it is
	// never printed.
	DSN DSN `yaml:"dsn"`
	// TimeZone is the IANA zone (America/Guatemala) in which DATETIME and
	// TIMESTAMP WITHOUT TIME ZONE values are written and read; UTC when
	// empty. PostgreSQL timestamptz columns are instants and need none;
	// MySQL sessions run in this zone, so TIMESTAMP columns read like
	// DATETIME.
	TimeZone string `yaml:"time_zone"`
	// Tables maps object names to tables.
	Tables map[string]Table `yaml:"tables"`
}

// Table configures one table.
type Table struct {
	// Table is the table's name in the database, "schema.table" allowed
	// for PostgreSQL; the object name when empty.
	Table string `yaml:"table"`
	// Key is the column whose value (text or integer, in its text form) is
	// a record's Key. It must be the primary key or have a unique index of
	// its own.
	Key string `yaml:"key"`
	// KeyCase overrides the key's case sensitivity: auto (default),
	// sensitive or insensitive.
	KeyCase KeyCase `yaml:"key_case"`
	// Link names a column holding the Salesforce Id, for tables whose key
	// the database generates (AUTO_INCREMENT, serial, identity, SQLite
	// INTEGER PRIMARY KEY). An upsert of a record with an empty Key and the
	// link column set matches the row holding that link value, or inserts
	// one, writing the link value in the same INSERT; the generated key
	// comes back in Result.Key. A crash between the insert and recording
	// the key therefore cannot create a second row.
	Link string `yaml:"link"`
	// UpdatedAt names a date-time column holding each row's modification
	// time. It makes reads incremental (the connector implements
	// ChangeTracker) and is set on every write the connector makes.
	UpdatedAt string `yaml:"updated_at"`
	// LookBack is how far before the cursor an incremental read starts;
	// DefaultLookBack when unset. Write it as a Go duration ("5m"). With
	// 0s, a read starts just after the cursor's row (its updated_at, then
	// its key), and a row committed late with an earlier updated_at is
	// missed until the next complete read.
	LookBack *Duration `yaml:"look_back"`
	// SoftDelete names a column marking deleted rows: a boolean or integer
	// column (non-zero means deleted) or a date-time column (non-null
	// means deleted, and Delete stores the time). Rows marked deleted are
	// read as Deleted; Delete marks rows instead of deleting them, and an
	// upsert clears the mark.
	SoftDelete string `yaml:"soft_delete"`
	// Columns declares what the database cannot say about some columns,
	// by column name.
	Columns map[string]Column `yaml:"columns"`
}

// Column declares how a text column is to be read.
type Column struct {
	// MultiSelect makes a text column a multi-select whose values are
	// separated by this string (";" as Salesforce writes them, "," as
	// MySQL SET and many hand-made columns do). Values are trimmed on
	// read, and written sorted and de-duplicated.
	MultiSelect string `yaml:"multi_select"`
	// Values restricts the column to these values: a picklist (or a
	// restricted multi-select with MultiSelect). Writes of other values
	// fail per record with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST.
	Values []string `yaml:"values"`
}

// Duration is a time.Duration written as a Go duration string in YAML.
type Duration time.Duration

// UnmarshalText parses a Go duration ("90s", "5m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration like 5m or 90s")
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (t Table) lookBack() time.Duration {
	if t.LookBack == nil {
		return DefaultLookBack
	}
	return time.Duration(*t.LookBack)
}

func (t Table) tableName(object string) string {
	if t.Table != "" {
		return t.Table
	}
	return object
}

// canonical returns the canonical driver name; empty means SQLite.
func (d Driver) canonical() Driver {
	switch strings.ToLower(string(d)) {
	case "", "sqlite", "sqlite3":
		return SQLite
	case "postgres", "postgresql", "pgx":
		return Postgres
	case "mysql", "mariadb":
		return MySQL
	}
	return d
}

// Validate checks the configuration without touching the database.
func (c *Config) Validate() error {
	var errs []error
	switch c.Driver.canonical() {
	case SQLite, Postgres, MySQL:
	default:
		errs = append(errs, fmt.Errorf("driver: %q is not one of sqlite, postgres, mysql, mariadb", c.Driver))
	}
	if strings.TrimSpace(string(c.DSN)) == "" {
		errs = append(errs, errors.New("dsn: required"))
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("time_zone: %q is not an IANA time zone such as America/Guatemala", c.TimeZone))
		}
	}
	if len(c.Tables) == 0 {
		errs = append(errs, errors.New("tables: at least one table is required"))
	}
	names := make([]string, 0, len(c.Tables))
	for n := range c.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t := c.Tables[n]
		if strings.TrimSpace(n) == "" {
			errs = append(errs, errors.New("tables: empty object name"))
		}
		if t.Key == "" {
			errs = append(errs, fmt.Errorf("tables.%s.key: required (the column identifying a row)", n))
		}
		switch t.KeyCase {
		case "", KeyCaseAuto, KeyCaseSensitive, KeyCaseInsensitive:
		default:
			errs = append(errs, fmt.Errorf("tables.%s.key_case: %q is not one of auto, sensitive, insensitive", n, t.KeyCase))
		}
		if t.LookBack != nil && *t.LookBack < 0 {
			errs = append(errs, fmt.Errorf("tables.%s.look_back: must not be negative", n))
		}
		for _, cn := range slices.Sorted(maps.Keys(t.Columns)) {
			cc := t.Columns[cn]
			if cc.MultiSelect == "" && len(cc.Values) == 0 {
				errs = append(errs, fmt.Errorf("tables.%s.columns.%s: declares neither multi_select nor values", n, cn))
			}
			if cn == t.Key {
				errs = append(errs, fmt.Errorf("tables.%s.columns.%s: the key column cannot be a picklist or multi-select", n, cn))
			}
			for _, v := range cc.Values {
				if cc.MultiSelect != "" && strings.Contains(v, cc.MultiSelect) {
					errs = append(errs, fmt.Errorf("tables.%s.columns.%s.values: a value contains the separator %q", n, cn, cc.MultiSelect))
				}
			}
		}
		cols := map[string]string{"key": t.Key}
		for _, o := range []struct{ opt, col string }{{"link", t.Link}, {"updated_at", t.UpdatedAt}, {"soft_delete", t.SoftDelete}} {
			if o.col == "" {
				continue
			}
			for prev, col := range cols {
				if strings.EqualFold(col, o.col) {
					errs = append(errs, fmt.Errorf("tables.%s.%s: column %s is already the %s column", n, o.opt, o.col, prev))
				}
			}
			cols[o.opt] = o.col
		}
	}
	return errors.Join(errs...)
}
