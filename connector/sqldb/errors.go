package sqldb

import (
	"errors"
	"strings"

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
	return err
}

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
