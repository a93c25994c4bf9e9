package salesforce

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Quote returns s as a SOQL string literal. Every character SOQL treats
// specially inside quotes is escaped (Salesforce's "Quoted String Escape
// Sequences"): backslash, single and double quote, new line, carriage
// return, tab, backspace and form feed get their two-character escapes;
// any other control character becomes \uXXXX. Nothing in s can end the
// literal, so a value from data cannot change the query's structure.
func Quote(s string) string { return quote(s, false) }

// QuoteLike is Quote for the pattern of a LIKE comparison matched
// literally: _ and % are escaped too (\_ and \% are valid only in LIKE).
func QuoteLike(s string) string { return quote(s, true) }

func quote(s string, like bool) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '_', '%':
			if like {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// DateTimeLiteral returns t as a SOQL datetime literal in UTC, truncated
// to the whole second (2024-01-15T10:30:00Z).
func DateTimeLiteral(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(api.SOQLTimeLayout)
}

// checkName reports whether s is usable as an object or field name (or a
// relationship path of them) in SOQL: ASCII letters, digits and
// underscores, starting with a letter, dot-separated. Names come from
// configuration and describe, but are checked anyway: they are written into
// the query unquoted.
func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 255 {
			return fmt.Errorf("invalid name %q", s)
		}
		for i, r := range part {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '_')
			if !ok {
				return fmt.Errorf("invalid name %q", s)
			}
		}
	}
	return nil
}

// selectSOQL builds "SELECT f1, f2 FROM obj[ WHERE where][ ORDER BY order]".
// Names are checked; where and order are built by this package from
// checked names and quoted literals.
func selectSOQL(fields []string, object, where, order string) (string, error) {
	if err := checkName(object); err != nil {
		return "", err
	}
	for _, f := range fields {
		if err := checkName(f); err != nil {
			return "", err
		}
	}
	q := "SELECT " + strings.Join(fields, ", ") + " FROM " + object
	if where != "" {
		q += " WHERE " + where
	}
	if order != "" {
		q += " ORDER BY " + order
	}
	return q, nil
}

// maxQueryURL bounds the URL-encoded length of a SOQL statement sent in a
// GET query string. SOQL allows 100,000 characters, but a request URI
// beyond about 16,000 is refused (414); non-Latin keys triple in percent
// encoding, so chunks are measured encoded.
const maxQueryURL = 12000

// inChunks splits values into IN lists for "prefix field IN (...)" so that
// each statement stays under maxQueryURL once URL-encoded. base is the
// statement without the IN list. Each chunk is returned as the quoted,
// comma-separated list.
func inChunks(base string, values []string, maxPerChunk int) []string {
	baseLen := len(url.QueryEscape(base)) + 16
	var chunks []string
	var cur strings.Builder
	n, size := 0, baseLen
	flush := func() {
		if n > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
			n, size = 0, baseLen
		}
	}
	for _, v := range values {
		lit := Quote(v)
		l := len(url.QueryEscape(lit)) + 3
		if n > 0 && (size+l > maxQueryURL || n >= maxPerChunk) {
			flush()
		}
		if n > 0 {
			cur.WriteString(", ")
		}
		cur.WriteString(lit)
		n++
		size += l
	}
	flush()
	return chunks
}
