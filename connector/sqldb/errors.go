package sqldb

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casebridge/casebridge/connector"
)

// ServerError is an error reported by the database, with every value the
// server's message may echo stripped: it keeps the database's own code
// (SQLSTATE, MySQL error number, SQLite result code), the casebridge Code
// and Class it maps to, and the column and constraint it names. Messages
// such as MySQL's "Duplicate entry 'VALUE' for key" and PostgreSQL's
// "DETAIL: Key (x)=(VALUE)" are never kept.
type ServerError struct {
	Dialect    string
	DBCode     string // SQLSTATE, MySQL error number or SQLite result code
	Code       connector.Code
	Class      connector.Class
	What       string // a fixed description of the condition, no value
	Column     string // the column named by the server, if any
	Constraint string // the constraint or index named by the server, if any
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

// sanitize returns err with any server error replaced by its value-free
// *ServerError. Other errors (context, network) are returned as they are.
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
	return err
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
