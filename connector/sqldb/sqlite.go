package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"modernc.org/sqlite"

	"github.com/casebridge/casebridge/connector"
)

type sqliteDialect struct{ questionMarks }

func (sqliteDialect) name() string               { return "sqlite" }
func (sqliteDialect) driverName() string         { return "sqlite" }
func (sqliteDialect) quote(ident string) string  { return quoteWith(ident, '"') }
func (sqliteDialect) quoteTable(n string) string { return quoteWith(n, '"') }
func (sqliteDialect) returning() bool            { return true }
func (sqliteDialect) lockClause() string         { return "" }
func (sqliteDialect) savepoints() bool           { return false }
func (sqliteDialect) boolArg(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}
func (sqliteDialect) maxParams() int { return 32000 }

func (d sqliteDialect) upsertTail(key string, set []string) string {
	return onConflict(d, key, set)
}

// onConflict is the SQLite and PostgreSQL upsert clause.
func onConflict(d dialect, key string, set []string) string {
	if len(set) == 0 {
		return " ON CONFLICT (" + d.quote(key) + ") DO NOTHING"
	}
	var b strings.Builder
	b.WriteString(" ON CONFLICT (")
	b.WriteString(d.quote(key))
	b.WriteString(") DO UPDATE SET ")
	for i, c := range set {
		if i > 0 {
			b.WriteString(", ")
		}
		q := d.quote(c)
		b.WriteString(q)
		b.WriteString(" = excluded.")
		b.WriteString(q)
	}
	return b.String()
}

// sqliteDSN adds the settings the connector relies on to a SQLite DSN: a
// busy timeout, and BEGIN IMMEDIATE so a write transaction takes the write
// lock before it reads the rows it will change.
func sqliteDSN(dsn string) string {
	path, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return dsn
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	hasBusy := q.Get("_busy_timeout") != "" || q.Get("_timeout") != ""
	for _, p := range q["_pragma"] {
		if strings.HasPrefix(strings.ToLower(p), "busy_timeout") {
			hasBusy = true
		}
	}
	if !hasBusy {
		q.Add("_pragma", "busy_timeout(10000)")
	}
	return path + "?" + q.Encode()
}

func (d sqliteDialect) columns(ctx context.Context, db *sql.DB, table string) ([]rawColumn, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	var cols []rawColumn
	pks := 0
	for rows.Next() {
		var (
			name, typ, def string
			notNull        bool
			pk, hidden     int
		)
		if err := rows.Scan(&name, &typ, &notNull, &def, &pk, &hidden); err != nil {
			rows.Close()
			return nil, err
		}
		rc := sqliteColumn(name, typ)
		rc.column.field.Nillable = !notNull
		rc.column.hasDef = def != ""
		rc.column.def = def
		rc.column.fsp = 6
		rc.column.computed = hidden == 2 || hidden == 3
		if hidden == 1 {
			rc.skip = "hidden column"
		}
		if pk > 0 {
			pks++
			rc.primary = true
		}
		cols = append(cols, rc)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, nil
	}
	// A single INTEGER PRIMARY KEY is the rowid: the database assigns it.
	for i := range cols {
		if cols[i].primary && pks == 1 && strings.EqualFold(strings.TrimSpace(cols[i].declared), "INTEGER") {
			cols[i].column.generated = true
			cols[i].unique = true
			cols[i].column.field.Nillable = false
		}
	}
	// Unique single-column indexes, and the collation they compare with.
	type idx struct {
		name   string
		unique bool
	}
	var idxs []idx
	irows, err := db.QueryContext(ctx, `SELECT name, "unique" FROM pragma_index_list(?)`, table)
	if err != nil {
		return nil, err
	}
	for irows.Next() {
		var x idx
		if err := irows.Scan(&x.name, &x.unique); err != nil {
			irows.Close()
			return nil, err
		}
		idxs = append(idxs, x)
	}
	if err := irows.Close(); err != nil {
		return nil, err
	}
	for _, x := range idxs {
		if !x.unique {
			continue
		}
		xrows, err := db.QueryContext(ctx, `SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1`, x.name)
		if err != nil {
			return nil, err
		}
		var names, colls []string
		for xrows.Next() {
			var n sql.NullString
			var coll string
			if err := xrows.Scan(&n, &coll); err != nil {
				xrows.Close()
				return nil, err
			}
			names = append(names, n.String)
			colls = append(colls, coll)
		}
		if err := xrows.Close(); err != nil {
			return nil, err
		}
		if len(names) != 1 {
			continue
		}
		for i := range cols {
			if cols[i].name == names[0] {
				cols[i].unique = true
				cols[i].uniqueIdx = true
				cols[i].column.ciKnown = true
				cols[i].column.ci = strings.EqualFold(colls[0], "NOCASE")
				cols[i].indexes = append(cols[i].indexes, x.name)
			}
		}
	}
	return cols, nil
}

// sqliteColumn maps a declared type onto a column, following SQLite's
// affinity rules and the conventional names (DATE, DATETIME, BOOLEAN,
// DECIMAL(p,s), VARCHAR(n)).
func sqliteColumn(name, declared string) rawColumn {
	rc := rawColumn{name: name, declared: declared}
	f := connector.Field{Name: name, Label: name, Createable: true, Updateable: true}
	up := strings.ToUpper(strings.TrimSpace(declared))
	base, args := splitType(up)
	col := column{}
	switch {
	case up == "TINYINT(1)" || base == "BOOLEAN" || base == "BOOL":
		col.kind, f.Type = kBool, connector.TypeBoolean
	case strings.Contains(base, "INT"):
		col.kind, f.Type = kInt, connector.TypeInt
		f.Precision = 19
	case base == "DATE":
		col.kind, f.Type = kDate, connector.TypeDate
	case base == "DATETIME" || strings.HasPrefix(base, "TIMESTAMP"):
		col.kind, f.Type = kDateTime, connector.TypeDateTime
	case strings.Contains(base, "CHAR") || strings.Contains(base, "CLOB") || strings.Contains(base, "TEXT"):
		col.kind = kText
		if len(args) > 0 {
			f.Length = args[0]
		}
		f.Type = textField(f.Length)
	case base == "DECIMAL" || base == "NUMERIC":
		col.kind, f.Type = kDecimal, connector.TypeDouble
		if len(args) > 0 {
			f.Precision = args[0]
		}
		if len(args) > 1 {
			f.Scale = args[1]
		}
		if len(args) == 0 {
			f.Scale = 15
		}
	case strings.Contains(base, "REAL") || strings.Contains(base, "FLOA") || strings.Contains(base, "DOUB"):
		col.kind, f.Type = kFloat, connector.TypeDouble
		f.Scale = 15
	case base == "" || strings.Contains(base, "BLOB"):
		rc.skip = "type " + declared + " has no connector type"
	default: // NUMERIC affinity with another name
		col.kind, f.Type = kDecimal, connector.TypeDouble
		f.Scale = 15
	}
	col.field = f
	rc.column = col
	return rc
}

// splitType splits "DECIMAL(12, 2)" into "DECIMAL" and [12 2].
func splitType(t string) (string, []int) {
	base, rest, ok := strings.Cut(t, "(")
	base = strings.TrimSpace(base)
	if !ok {
		return base, nil
	}
	rest, _, _ = strings.Cut(rest, ")")
	var args []int
	for _, p := range strings.Split(rest, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return base, nil
		}
		args = append(args, n)
	}
	return base, args
}

// SQLite extended result codes the connector distinguishes.
const (
	sqliteBusy          = 5
	sqliteLocked        = 6
	sqliteConstraint    = 19
	sqliteMismatch      = 20
	sqliteTooBig        = 18
	sqliteCheck         = 275  // SQLITE_CONSTRAINT_CHECK
	sqliteForeignKey    = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteNotNull       = 1299 // SQLITE_CONSTRAINT_NOTNULL
	sqlitePrimaryKey    = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteUnique        = 2067 // SQLITE_CONSTRAINT_UNIQUE
	sqliteRowID         = 2579 // SQLITE_CONSTRAINT_ROWID
	sqliteDatatype      = 3091 // SQLITE_CONSTRAINT_DATATYPE (STRICT tables)
	sqliteBusySnapshot  = 517
	sqliteLockedSharedC = 262
)

func (sqliteDialect) classify(err error) *ServerError {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	code := se.Code()
	e := &ServerError{Dialect: "sqlite", DBCode: strconv.Itoa(code), Code: connector.CodeInvalidValue, Class: connector.Permanent}
	msg := se.Error()
	// SQLite names columns as table.column after "failed: "; it does
	// not echo values.
	col := ""
	if _, rest, ok := strings.Cut(msg, "constraint failed: "); ok {
		first, _, _ := strings.Cut(rest, ",")
		first, _, _ = strings.Cut(first, " (")
		if _, c, ok := strings.Cut(first, "."); ok {
			col = c
		}
	}
	switch code {
	case sqliteUnique, sqlitePrimaryKey, sqliteRowID:
		e.Code, e.What, e.msgColumn = connector.CodeDuplicateKey, "unique constraint", col
	case sqliteNotNull:
		e.Code, e.What, e.msgColumn = connector.CodeRequired, "not null constraint", col
	case sqliteCheck:
		e.What = "check constraint"
	case sqliteForeignKey:
		e.What = "foreign key constraint"
	case sqliteDatatype, sqliteMismatch:
		e.What, e.msgColumn = "datatype mismatch", col
	case sqliteTooBig:
		e.Code, e.What = connector.CodeTooLong, "value too big"
	case sqliteBusy, sqliteLocked, sqliteBusySnapshot, sqliteLockedSharedC:
		e.Code, e.Class, e.What = connector.CodeLocked, connector.Retryable, "database is locked"
	default:
		if code&0xff == sqliteConstraint {
			e.What = "constraint"
		} else {
			e.Code, e.Class, e.What = connector.CodeRequestRejected, connector.Fatal, sqlite.ErrorCodeString[code]
		}
	}
	return e
}
