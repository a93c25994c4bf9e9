package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// kind says how a column's values are read and bound.
type kind uint8

const (
	kText     kind = iota + 1 // CHAR, VARCHAR, TEXT, ENUM, JSON, UUID
	kSet                      // MySQL SET: a multi-select, comma-separated
	kInt                      // integer types
	kDecimal                  // DECIMAL/NUMERIC: exact
	kFloat                    // FLOAT/DOUBLE/REAL: approximate
	kBool                     // BOOLEAN, TINYINT(1)
	kDate                     // DATE
	kDateTime                 // DATETIME, TIMESTAMP (MySQL session zone), TIMESTAMP WITHOUT TIME ZONE: wall clock in Config.TimeZone
	kInstant                  // PostgreSQL timestamptz: an instant
)

// column is one column of a table as introspected.
type column struct {
	field     connector.Field
	kind      kind
	generated bool   // the database generates the value (AUTO_INCREMENT, serial, identity, rowid)
	computed  bool   // a generated (computed) column: never written
	hasDef    bool   // has a default, so an insert may omit it
	ci        bool   // compares case-insensitively (collation)
	ciKnown   bool   // ci comes from the collation
	sep       string // kSet: the separator of the values
	fsp       int    // kDateTime, kInstant: digits of fractional seconds kept
	def       string // SQLite: the default's SQL expression, "" when none
}

// rawColumn is what a dialect's introspection reports before the common
// code turns it into a column.
type rawColumn struct {
	name      string
	declared  string // the declared type, as the database spells it
	column    column
	skip      string // why the column cannot be represented ("" if it can)
	unique    bool
	primary   bool
	uniqueIdx bool
	indexes   []string // names of the single-column unique indexes on it
	multiUniq bool     // part of a unique index of several columns
}

// dialect is what differs between databases.
type dialect interface {
	// name is the driver name used in errors ("postgres").
	name() string
	// driverName is the database/sql driver name.
	driverName() string
	// quote quotes a column name.
	quote(ident string) string
	// quoteTable quotes a table name ("schema.table" part by part where
	// the database has schemas).
	quoteTable(name string) string
	// ph returns the placeholder of the i-th (1-based) argument.
	ph(i int) string
	// columns introspects a table. A table that does not exist returns
	// (nil, nil).
	columns(ctx context.Context, db *sql.DB, table string) ([]rawColumn, error)
	// upsertTail returns the clause that turns an INSERT into an upsert on
	// key, setting set to the inserted values.
	upsertTail(key string, set []string) string
	// returning reports whether INSERT ... RETURNING is available.
	returning() bool
	// lockClause is appended to a SELECT that reads rows about to be
	// written (" FOR UPDATE"), or "".
	lockClause() string
	// savepoints reports whether a failed statement aborts the
	// transaction (PostgreSQL), so each statement that may fail runs under
	// a savepoint.
	savepoints() bool
	// boolArg returns the argument for a boolean.
	boolArg(b bool) any
	// maxParams bounds the placeholders of one statement.
	maxParams() int
	// classify turns a driver error into a value-free *ServerError, or
	// returns nil when err is not a server error.
	classify(err error) *ServerError
}

// quoteWith quotes ident with q, doubling q inside.
func quoteWith(ident string, q byte) string {
	s := string(q)
	return s + strings.ReplaceAll(ident, s, s+s) + s
}

type questionMarks struct{}

func (questionMarks) ph(int) string { return "?" }

type dollarNumbers struct{}

func (dollarNumbers) ph(i int) string { return "$" + strconv.Itoa(i) }

// textKind maps a text-ish declared type to a field type: a bounded
// length is a string, an unbounded one a text area.
func textField(length int) connector.FieldType {
	if length > 0 && length <= 255 {
		return connector.TypeString
	}
	return connector.TypeTextArea
}

// intDigits is the number of decimal digits of the largest value of an
// integer type of n bytes.
func intDigits(bytes int) int {
	switch bytes {
	case 1:
		return 3
	case 2:
		return 5
	case 3:
		return 8
	case 4:
		return 10
	}
	return 19
}
