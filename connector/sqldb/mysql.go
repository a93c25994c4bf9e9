package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/casebridge/casebridge/connector"
)

type mysqlDialect struct{ questionMarks }

func (mysqlDialect) name() string               { return "mysql" }
func (mysqlDialect) driverName() string         { return "mysql" }
func (mysqlDialect) quote(ident string) string  { return quoteWith(ident, '`') }
func (mysqlDialect) quoteTable(n string) string { return quoteWith(n, '`') }
func (mysqlDialect) returning() bool            { return false }
func (mysqlDialect) lockClause() string         { return " FOR UPDATE" }
func (mysqlDialect) savepoints() bool           { return false }
func (mysqlDialect) maxParams() int             { return 60000 }
func (mysqlDialect) boolArg(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// upsertTail is INSERT ... ON DUPLICATE KEY UPDATE. VALUES(col) works on
// MariaDB and on MySQL (where 8.0.20+ deprecates it in favour of a row
// alias, which MariaDB lacks).
func (d mysqlDialect) upsertTail(key string, set []string) string {
	var b strings.Builder
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	if len(set) == 0 {
		q := d.quote(key)
		b.WriteString(q + " = " + q)
		return b.String()
	}
	for i, c := range set {
		if i > 0 {
			b.WriteString(", ")
		}
		q := d.quote(c)
		b.WriteString(q + " = VALUES(" + q + ")")
	}
	return b.String()
}

// mysqlDSN parses dsn and sets what the connector relies on: dates and
// times arrive as text (so zero dates can be read as null and DATETIME in
// the configured zone), the session time zone is the configured zone (so
// TIMESTAMP columns and CURRENT_TIMESTAMP defaults agree with DATETIME
// values written by the NGO's own application), utf8mb4, and strict mode
// (so a value that does not fit fails instead of being cut).
func mysqlDSN(dsn string, loc *time.Location) (string, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", errors.New("dsn: not a MySQL DSN like user:password@tcp(host:3306)/database")
	}
	cfg.ParseTime = false
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = mysqlTimeZone(loc, time.Now())
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = "CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')"
	}
	if cfg.Collation == "" {
		cfg.Collation = "utf8mb4_general_ci"
	}
	return cfg.FormatDSN(), nil
}

// mysqlTimeZone returns the SQL expression the session's time_zone is set
// to: the zone by name where the server has time zone tables (CONVERT_TZ
// answers null otherwise), else the zone's offset at now (exact for zones
// without daylight saving time, such as America/Guatemala).
func mysqlTimeZone(loc *time.Location, now time.Time) string {
	_, off := now.In(loc).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	offset := fmt.Sprintf("'%c%02d:%02d'", sign, off/3600, off%3600/60)
	name := loc.String()
	if name == "UTC" || !safeZoneName(name) {
		return offset
	}
	return "IF(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', '" + name + "') IS NULL, " + offset + ", '" + name + "')"
}

// safeZoneName reports whether an IANA zone name can be spliced into SQL
// as is (it comes from the configuration, and has been loaded by Go).
func safeZoneName(n string) bool {
	for _, r := range n {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return false
		}
	}
	return n != ""
}

func (d mysqlDialect) columns(ctx context.Context, db *sql.DB, table string) ([]rawColumn, error) {
	rows, err := db.QueryContext(ctx, `
SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0),
       COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0), IS_NULLABLE, EXTRA,
       COALESCE(COLLATION_NAME, ''), COLUMN_DEFAULT IS NOT NULL, COALESCE(DATETIME_PRECISION, 0)
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`, table)
	if err != nil {
		return nil, err
	}
	var cols []rawColumn
	for rows.Next() {
		var (
			name, dataType, columnType, nullable, extra, collation string
			length, precision, scale, fsp                          int64
			hasDef                                                 bool
		)
		if err := rows.Scan(&name, &dataType, &columnType, &length, &precision, &scale, &nullable, &extra, &collation, &hasDef, &fsp); err != nil {
			rows.Close()
			return nil, err
		}
		rc := mysqlColumn(name, strings.ToLower(dataType), strings.ToLower(columnType), int(length), int(precision), int(scale))
		c := &rc.column
		c.fsp = int(fsp)
		c.field.Nillable = nullable == "YES"
		c.hasDef = hasDef || c.field.Nillable
		ex := strings.ToLower(extra)
		c.generated = strings.Contains(ex, "auto_increment")
		c.computed = strings.Contains(ex, "generated") || strings.Contains(ex, "persistent")
		if collation != "" {
			c.ciKnown = true
			c.ci = strings.HasSuffix(collation, "_ci")
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
	urows, err := db.QueryContext(ctx, `
SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0`, table)
	if err != nil {
		return nil, err
	}
	idxCols := map[string][]string{}
	for urows.Next() {
		var idx, col string
		if err := urows.Scan(&idx, &col); err != nil {
			urows.Close()
			return nil, err
		}
		idxCols[idx] = append(idxCols[idx], col)
	}
	if err := urows.Close(); err != nil {
		return nil, err
	}
	for idx, cs := range idxCols {
		if len(cs) != 1 {
			for i := range cols {
				if slices.Contains(cs, cols[i].name) {
					cols[i].multiUniq = true
				}
			}
			continue
		}
		for i := range cols {
			if cols[i].name == cs[0] {
				cols[i].unique = true
				cols[i].uniqueIdx = true
				cols[i].primary = cols[i].primary || idx == "PRIMARY"
				cols[i].indexes = append(cols[i].indexes, idx)
			}
		}
	}
	return cols, nil
}

// mysqlColumn maps a MySQL/MariaDB column type onto a column.
func mysqlColumn(name, dataType, columnType string, length, precision, scale int) rawColumn {
	rc := rawColumn{name: name, declared: columnType}
	f := connector.Field{Name: name, Label: name, Createable: true, Updateable: true}
	col := column{}
	switch dataType {
	case "tinyint":
		if strings.HasPrefix(columnType, "tinyint(1)") {
			col.kind, f.Type = kBool, connector.TypeBoolean
		} else {
			col.kind, f.Type, f.Precision = kInt, connector.TypeInt, intDigits(1)
		}
	case "bool", "boolean":
		col.kind, f.Type = kBool, connector.TypeBoolean
	case "smallint":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, intDigits(2)
	case "mediumint":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, intDigits(3)
	case "int", "integer":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, intDigits(4)
	case "bigint":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, 19
		if strings.Contains(columnType, "unsigned") {
			f.Precision = 20
		}
	case "year":
		col.kind, f.Type, f.Precision = kInt, connector.TypeInt, 4
	case "decimal", "numeric":
		col.kind, f.Type, f.Precision, f.Scale = kDecimal, connector.TypeDouble, precision, scale
	case "float":
		col.kind, f.Type, f.Scale = kFloat, connector.TypeDouble, 6
	case "double", "real":
		col.kind, f.Type, f.Scale = kFloat, connector.TypeDouble, 15
	case "char", "varchar":
		col.kind, f.Length = kText, length
		f.Type = textField(length)
	case "tinytext", "text", "mediumtext", "longtext", "json":
		col.kind, f.Type = kText, connector.TypeTextArea
		if length > 0 && length < 1<<31-1 {
			f.Length = length
		}
	case "enum":
		col.kind, f.Type, f.Restricted = kText, connector.TypePicklist, true
		f.Picklist = mysqlValues(columnType)
	case "set":
		col.kind, f.Type, f.Restricted, col.sep = kSet, connector.TypeMultiPicklist, true, ","
		f.Picklist = mysqlValues(columnType)
	case "date":
		col.kind, f.Type = kDate, connector.TypeDate
	case "datetime":
		col.kind, f.Type = kDateTime, connector.TypeDateTime
	case "timestamp":
		// stored as an instant, exchanged in the session's time zone,
		// which is the configured zone: a wall clock like DATETIME
		col.kind, f.Type = kDateTime, connector.TypeDateTime
	default:
		rc.skip = "type " + dataType + " has no connector type"
	}
	col.field = f
	rc.column = col
	return rc
}

// mysqlValues parses the values of enum('a','b”c') or set(...).
func mysqlValues(columnType string) []string {
	_, rest, ok := strings.Cut(columnType, "(")
	if !ok {
		return nil
	}
	var vals []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(rest); i++ {
		ch := rest[i]
		switch {
		case !in && ch == '\'':
			in = true
			cur.Reset()
		case in && ch == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
			cur.WriteByte('\'')
			i++
		case in && ch == '\'':
			in = false
			vals = append(vals, cur.String())
		case in:
			cur.WriteByte(ch)
		}
	}
	return vals
}

// mysqlCodes maps MySQL/MariaDB error numbers to codes, classes and fixed
// descriptions.
var mysqlCodes = map[uint16]struct {
	code  connector.Code
	class connector.Class
	what  string
}{
	1062: {connector.CodeDuplicateKey, connector.Permanent, "duplicate entry"},
	1586: {connector.CodeDuplicateKey, connector.Permanent, "duplicate entry"},
	1406: {connector.CodeTooLong, connector.Permanent, "data too long"},
	1048: {connector.CodeRequired, connector.Permanent, "column cannot be null"},
	1364: {connector.CodeRequired, connector.Permanent, "field has no default value"},
	1264: {connector.CodeOutOfRange, connector.Permanent, "out of range value"},
	1690: {connector.CodeOutOfRange, connector.Permanent, "value out of range"},
	1366: {connector.CodeInvalidValue, connector.Permanent, "incorrect value"},
	1292: {connector.CodeInvalidValue, connector.Permanent, "incorrect value"},
	1265: {connector.CodeInvalidValue, connector.Permanent, "data truncated"},
	1367: {connector.CodeInvalidValue, connector.Permanent, "illegal value"},
	1451: {connector.CodeInvalidValue, connector.Permanent, "foreign key: row is referenced"},
	1452: {connector.CodeInvalidValue, connector.Permanent, "foreign key constraint fails"},
	3819: {connector.CodeInvalidValue, connector.Permanent, "check constraint"},
	4025: {connector.CodeInvalidValue, connector.Permanent, "check constraint"},
	3105: {connector.CodeNotWritable, connector.Permanent, "generated column"},
	1906: {connector.CodeNotWritable, connector.Permanent, "generated column"},
	1205: {connector.CodeLocked, connector.Retryable, "lock wait timeout"},
	1213: {connector.CodeLocked, connector.Retryable, "deadlock"},
	1040: {connector.CodeUnavailable, connector.Retryable, "too many connections"},
	1053: {connector.CodeUnavailable, connector.Retryable, "server shutdown"},
	1054: {connector.CodeUnknownField, connector.Fatal, "unknown column"},
	1146: {connector.CodeRequestRejected, connector.Fatal, "no such table"},
	1142: {connector.CodeRequestRejected, connector.Fatal, "command denied"},
	1044: {connector.CodeRequestRejected, connector.Fatal, "access denied"},
	1045: {connector.CodeRequestRejected, connector.Fatal, "access denied"},
}

func (mysqlDialect) classify(err error) *ServerError {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return nil
	}
	e := &ServerError{Dialect: "mysql", DBCode: strconv.Itoa(int(me.Number))}
	if m, ok := mysqlCodes[me.Number]; ok {
		e.Code, e.Class, e.What = m.code, m.class, m.what
	} else {
		e.Code, e.Class, e.What = connector.CodeRequestRejected, connector.Fatal, "statement rejected"
	}
	switch me.Number {
	case 1062, 1586:
		// "Duplicate entry 'VALUE' for key 'name'": keep only the key's name.
		// The table's description confirms the name (table.errorField).
		e.msgConstraint = identAfter(me.Message, "for key ")
		if _, after, ok := strings.Cut(e.msgConstraint, "."); ok { // MySQL 8: table.key
			e.msgConstraint = after
		}
	case 1406, 1264, 1366, 1292, 1265, 1367, 1048, 1364, 3105, 1906:
		e.msgColumn = mysqlColumnName(me.Message)
	}
	return e
}

// mysqlColumnName finds the column a MySQL message names: "for column
// 'x'", "for column `db`.`t`.`x`", "Column 'x' cannot be null", "Field
// 'x' doesn't have a default value". The caller checks the name against
// the table's columns, so an echoed value can never pass for one.
func mysqlColumnName(msg string) string {
	if i := strings.LastIndex(msg, "for column "); i >= 0 {
		rest := msg[i+len("for column "):]
		rest, _, _ = strings.Cut(rest, " at row")
		rest = strings.TrimSpace(rest)
		if j := strings.LastIndex(rest, "`.`"); j >= 0 {
			rest = "`" + rest[j+3:]
		}
		return strings.Trim(rest, "'`\"")
	}
	for _, p := range []string{"Column ", "Field "} {
		if strings.HasPrefix(msg, p) {
			return identAfter(msg, p)
		}
	}
	return ""
}
