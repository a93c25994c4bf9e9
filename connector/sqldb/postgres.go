package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"

	"github.com/casebridge/casebridge/connector"
)

type postgresDialect struct{ dollarNumbers }

func (postgresDialect) name() string       { return "postgres" }
func (postgresDialect) driverName() string { return "pgx" }

func (postgresDialect) quote(ident string) string { return quoteWith(ident, '"') }

// quoteTable quotes a possibly schema-qualified name part by part.
func (postgresDialect) quoteTable(ident string) string {
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = quoteWith(p, '"')
	}
	return strings.Join(parts, ".")
}
func (postgresDialect) returning() bool    { return true }
func (postgresDialect) lockClause() string { return " FOR UPDATE" }
func (postgresDialect) savepoints() bool   { return true }
func (postgresDialect) boolArg(b bool) any { return b }
func (postgresDialect) maxParams() int     { return 65000 }

func (d postgresDialect) upsertTail(key string, set []string) string {
	return onConflict(d, key, set)
}

func (d postgresDialect) columns(ctx context.Context, db *sql.DB, table string) ([]rawColumn, error) {
	var oid sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT to_regclass($1)::oid::bigint`, d.quoteTable(table)).Scan(&oid); err != nil {
		return nil, err
	}
	if !oid.Valid {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `
SELECT a.attname, t.typname, t.typtype, a.atttypid::bigint, a.atttypmod, a.attnotnull,
       COALESCE(pg_get_expr(ad.adbin, ad.adrelid), ''), a.attidentity::text, a.attgenerated::text,
       COALESCE(co.collisdeterministic, true), t.typcategory::text
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, oid.Int64)
	if err != nil {
		return nil, err
	}
	var cols []rawColumn
	var enumTypes []int64
	for rows.Next() {
		var (
			name, typname, typtype, def, identity, generated, category string
			typid                                                      int64
			typmod                                                     int
			notNull, deterministic                                     bool
		)
		if err := rows.Scan(&name, &typname, &typtype, &typid, &typmod, &notNull, &def, &identity, &generated, &deterministic, &category); err != nil {
			rows.Close()
			return nil, err
		}
		rc := pgColumn(name, typname, typtype, category, typmod)
		c := &rc.column
		c.field.Nillable = !notNull
		c.hasDef = def != "" || identity != ""
		c.generated = identity == "a" || identity == "d" || strings.HasPrefix(def, "nextval(")
		c.computed = generated == "s"
		c.ciKnown = typname == "citext" || !deterministic
		c.ci = c.ciKnown
		if rc.column.field.Type == connector.TypePicklist {
			enumTypes = append(enumTypes, typid)
		}
		cols = append(cols, rc)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Enum labels.
	if len(enumTypes) > 0 {
		erows, err := db.QueryContext(ctx, `
SELECT a.attname, e.enumlabel FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum, e.enumsortorder`, oid.Int64)
		if err != nil {
			return nil, err
		}
		for erows.Next() {
			var n, l string
			if err := erows.Scan(&n, &l); err != nil {
				erows.Close()
				return nil, err
			}
			for i := range cols {
				if cols[i].name == n {
					cols[i].column.field.Picklist = append(cols[i].column.field.Picklist, l)
				}
			}
		}
		if err := erows.Close(); err != nil {
			return nil, err
		}
	}
	// Single-column unique indexes (without predicate or expression).
	urows, err := db.QueryContext(ctx, `
SELECT a.attname, i.indisprimary, ic.relname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1 AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL`, oid.Int64)
	if err != nil {
		return nil, err
	}
	for urows.Next() {
		var n, idx string
		var primary bool
		if err := urows.Scan(&n, &primary, &idx); err != nil {
			urows.Close()
			return nil, err
		}
		for i := range cols {
			if cols[i].name == n {
				cols[i].unique = true
				cols[i].uniqueIdx = true
				cols[i].primary = cols[i].primary || primary
				cols[i].indexes = append(cols[i].indexes, idx)
			}
		}
	}
	return cols, urows.Close()
}

// pgColumn maps a PostgreSQL type onto a column.
func pgColumn(name, typname, typtype, category string, typmod int) rawColumn {
	rc := rawColumn{name: name, declared: typname}
	f := connector.Field{Name: name, Label: name, Createable: true, Updateable: true}
	col := column{}
	switch typname {
	case "bool":
		col.kind, f.Type = kBool, connector.TypeBoolean
	case "int2":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, 5
	case "int4":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, 10
	case "int8":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, 19
	case "numeric":
		col.kind, f.Type = kDecimal, connector.TypeDouble
		if typmod >= 4 {
			f.Precision = ((typmod - 4) >> 16) & 0xffff
			f.Scale = (typmod - 4) & 0xffff
		} else {
			f.Scale = 15
		}
	case "float4":
		col.kind, f.Type, f.Scale = kFloat, connector.TypeDouble, 6
	case "float8":
		col.kind, f.Type, f.Scale = kFloat, connector.TypeDouble, 15
	case "varchar", "bpchar":
		col.kind = kText
		if typmod >= 4 {
			f.Length = typmod - 4
		}
		f.Type = textField(f.Length)
	case "text", "citext", "json", "jsonb", "xml":
		col.kind, f.Type = kText, connector.TypeTextArea
	case "uuid":
		col.kind, f.Type, f.Length = kText, connector.TypeString, 36
	case "date":
		col.kind, f.Type = kDate, connector.TypeDate
	case "timestamp", "timestamptz":
		col.kind, f.Type = kDateTime, connector.TypeDateTime
		if typname == "timestamptz" {
			col.kind = kInstant
		}
		col.fsp = 6
		if typmod >= 0 {
			col.fsp = typmod
		}
	default:
		if typtype == "e" {
			col.kind, f.Type, f.Restricted = kText, connector.TypePicklist, true
			break
		}
		rc.skip = "type " + typname + " has no connector type"
	}
	_ = category
	col.field = f
	rc.column = col
	return rc
}

// pgCodes maps SQLSTATEs to codes, classes and fixed descriptions.
var pgCodes = map[string]struct {
	code  connector.Code
	class connector.Class
	what  string
}{
	"23505": {connector.CodeDuplicateKey, connector.Permanent, "unique violation"},
	"23502": {connector.CodeRequired, connector.Permanent, "not null violation"},
	"23503": {connector.CodeInvalidValue, connector.Permanent, "foreign key violation"},
	"23514": {connector.CodeInvalidValue, connector.Permanent, "check violation"},
	"22001": {connector.CodeTooLong, connector.Permanent, "string data right truncation"},
	"22003": {connector.CodeOutOfRange, connector.Permanent, "numeric value out of range"},
	"22P02": {connector.CodeInvalidValue, connector.Permanent, "invalid text representation"},
	"22007": {connector.CodeInvalidValue, connector.Permanent, "invalid datetime format"},
	"22008": {connector.CodeInvalidValue, connector.Permanent, "datetime field overflow"},
	"22021": {connector.CodeInvalidValue, connector.Permanent, "character not in repertoire"},
	"40001": {connector.CodeLocked, connector.Retryable, "serialization failure"},
	"40P01": {connector.CodeLocked, connector.Retryable, "deadlock detected"},
	"55P03": {connector.CodeLocked, connector.Retryable, "lock not available"},
	"57014": {connector.CodeUnavailable, connector.Retryable, "query canceled"},
	"57P01": {connector.CodeUnavailable, connector.Retryable, "admin shutdown"},
	"57P03": {connector.CodeUnavailable, connector.Retryable, "cannot connect now"},
	"53300": {connector.CodeUnavailable, connector.Retryable, "too many connections"},
	"42703": {connector.CodeUnknownField, connector.Fatal, "undefined column"},
	"42P01": {connector.CodeRequestRejected, connector.Fatal, "undefined table"},
	"42501": {connector.CodeRequestRejected, connector.Fatal, "insufficient privilege"},
	"428C9": {connector.CodeNotWritable, connector.Permanent, "generated always column"},
}

func (postgresDialect) classify(err error) *ServerError {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	e := &ServerError{Dialect: "postgres", DBCode: pe.Code, Column: pe.ColumnName, Constraint: pe.ConstraintName}
	if m, ok := pgCodes[pe.Code]; ok {
		e.Code, e.Class, e.What = m.code, m.class, m.what
		return e
	}
	switch {
	case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"):
		e.Code, e.Class, e.What = connector.CodeInvalidValue, connector.Permanent, "data exception"
	case strings.HasPrefix(pe.Code, "08"):
		e.Code, e.Class, e.What = connector.CodeUnavailable, connector.Retryable, "connection exception"
	default:
		e.Code, e.Class, e.What = connector.CodeRequestRejected, connector.Fatal, "statement rejected"
	}
	return e
}
