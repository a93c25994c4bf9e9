package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casebridge/casebridge/connector"
)

// ServerError is an error reported by the database, or by its driver,
// in a form known to be value-free: the database's own code (SQLSTATE,
// MySQL error number, SQLite result code), the casebridge Code and Class
// it maps to, a fixed description, and the column and constraint it is
// about. The server's message is never kept, whatever its shape: MySQL's
// "Duplicate entry 'VALUE' for key", PostgreSQL's "DETAIL: Key (x)=(VALUE)"
// and pgx's "unable to encode VALUE into binary format" all echo the value.
// A name read from a message's text (MySQL's and SQLite's column and key
// names) is kept only once the table's description confirms it (see
// table.errorField); PostgreSQL reports column and constraint in fields
// of their own.
type ServerError struct {
	Dialect    string
	DBCode     string // SQLSTATE, MySQL error number or SQLite result code
	Code       connector.Code
	Class      connector.Class
	What       string // a fixed description of the condition, no value
	Column     string // the column named by the server, if any
	Constraint string // the constraint or index named by the server, if any

	// msgColumn and msgConstraint are names read from the message's
	// text: a value could pass for one, so they stay out of Error until
	// the table knows them.
	msgColumn, msgConstraint string
}

func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Dialect)
	b.WriteString(" error ")
	b.WriteString(e.DBCode)
	if e.What != "" {
		b.WriteString(" (")
		b.WriteString(e.What)
		b.WriteString(")")
	}
	if e.Constraint != "" {
		b.WriteString(" on ")
		b.WriteString(e.Constraint)
	}
	return b.String()
}

// Temporary reports whether retrying may succeed (lock contention,
// deadlock, serialisation failure, server shutting down).
func (e *ServerError) Temporary() bool { return e.Class == connector.Retryable }

// sanitize returns err in a form known to be value-free: a server error
// becomes its *ServerError; context errors, connection failures and
// casebridge's own errors (connector errors and sentinels) pass; any
// other error of the driver (pgx's "unable to encode 3000000077 into
// binary format for int4", which echoes the value) becomes a *ServerError
// with a fixed description and the original's class.
func (c *Connector) sanitize(err error) error {
	if err == nil {
		return nil
	}
	var se *ServerError
	if errors.As(err, &se) {
		return err
	}
	if s := c.d.classify(err); s != nil {
		return s
	}
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		// its message quotes the DSN, with passwords redacted only "best effort"
		return errors.New("the dsn is not a valid PostgreSQL connection string")
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &UnavailableError{Dialect: c.d.name(), Err: err}
	}
	if valueFree(err) {
		return err
	}
	return c.withheld(err)
}

// valueFree reports errors whose text casebridge knows holds no value:
// the context's, database/sql's fixed ones, and casebridge's own.
func valueFree(err error) bool {
	for _, known := range []error{context.Canceled, context.DeadlineExceeded, sql.ErrNoRows, sql.ErrTxDone, sql.ErrConnDone,
		connector.ErrNotFound, connector.ErrObjectNotFound, connector.ErrFieldNotFound, connector.ErrStop} {
		if errors.Is(err, known) {
			return true
		}
	}
	var re *connector.RecordError
	var ve *connector.ValueError
	return errors.As(err, &re) || errors.As(err, &ve)
}

// withheld is a driver error whose text is not known to be value-free.
func (c *Connector) withheld(err error) *ServerError {
	return &ServerError{Dialect: c.d.name(), DBCode: "driver", Code: connector.CodeRequestRejected, Class: connector.ClassOf(err),
		What: "the driver refused the statement; its message is not shown, as it may hold a value"}
}

// UnavailableError reports a database that cannot be reached or a
// connection that broke. It is retryable (Temporary): the call as a whole
// failed, and nothing of it was committed.
type UnavailableError struct {
	Dialect string
	Err     error
}

func (e *UnavailableError) Error() string {
	return string(connector.CodeUnavailable) + ": cannot reach the " + e.Dialect + " database: " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Temporary reports true: retrying later may succeed.
func (e *UnavailableError) Temporary() bool { return true }

// identAfter returns the identifier quoted with one of quotes that follows
// the last occurrence of marker in msg, or "".
func identAfter(msg, marker string) string {
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(marker):]
	if rest == "" {
		return ""
	}
	q := rest[0]
	if q != '\'' && q != '`' && q != '"' {
		// unquoted: up to the next space
		if j := strings.IndexAny(rest, " ,)"); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	rest = rest[1:]
	j := strings.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return rest[:j]
}
