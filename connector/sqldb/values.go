package sqldb

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

// errBadValue is returned, wrapped in a ValueError, when a stored value
// cannot be read as its column's type. It names the expected form only.
var errBadValue = errors.New("stored value does not match the column type")

func badValue(expected string) error {
	return &connector.ValueError{Code: connector.CodeInvalidValue, Detail: "stored value is not " + expected}
}

// text returns src as a string when the driver gave text.
func text(src any) (string, bool) {
	switch v := src.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// readValue converts a scanned database value into a Value of col's type.
// The error describes the expected form, never the value.
func (c *Connector) readValue(col *column, src any) (connector.Value, error) {
	if src == nil {
		return connector.Null(), nil
	}
	switch col.kind {
	case kText:
		switch v := src.(type) {
		case string:
			return connector.Text(v), nil
		case []byte:
			return connector.Text(string(v)), nil
		case [16]byte: // uuid
			return connector.Text(fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])), nil
		case int64:
			return connector.Text(strconv.FormatInt(v, 10)), nil
		case float64:
			return connector.Text(strconv.FormatFloat(v, 'f', -1, 64)), nil
		case time.Time:
			return connector.Text(v.Format(time.RFC3339Nano)), nil
		}
	case kSet:
		if s, ok := text(src); ok {
			parts := strings.Split(s, col.sep)
			for i := range parts {
				parts[i] = connector.TrimSpace(parts[i])
			}
			return connector.Multi(parts...), nil
		}
	case kInt, kDecimal, kFloat:
		var d decimal.Decimal
		switch v := src.(type) {
		case int64:
			d = decimal.NewFromInt(v)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return connector.Value{}, badValue("a finite number")
			}
			d = decimal.NewFromFloat(v)
			if col.kind == kDecimal {
				// SQLite keeps DECIMAL as REAL: round to the declared scale.
				d = d.Round(int32(col.field.Scale))
			}
		case float32:
			d = decimal.NewFromFloat32(v)
		default:
			s, ok := text(src)
			if !ok {
				return connector.Value{}, badValue("a number")
			}
			var err error
			if d, err = decimal.NewFromString(strings.TrimSpace(s)); err != nil {
				return connector.Value{}, badValue("a number")
			}
		}
		return connector.Number(d), nil
	case kBool:
		switch v := src.(type) {
		case bool:
			return connector.Bool(v), nil
		case int64:
			return connector.Bool(v != 0), nil
		case float64:
			return connector.Bool(v != 0), nil
		default:
			s, ok := text(src)
			if !ok {
				return connector.Value{}, badValue("a boolean")
			}
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "1", "t", "true", "y", "yes":
				return connector.Bool(true), nil
			case "0", "f", "false", "n", "no":
				return connector.Bool(false), nil
			}
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return connector.Bool(n != 0), nil
			}
			return connector.Value{}, badValue("a boolean")
		}
	case kDate:
		switch v := src.(type) {
		case time.Time:
			return connector.DateValue(connector.DateOf(v)), nil
		default:
			s, ok := text(src)
			if !ok {
				return connector.Value{}, badValue("a date")
			}
			if zeroDate(s) {
				return connector.Null(), nil
			}
			if len(s) > 10 {
				s = s[:10]
			}
			d, err := connector.ParseDate(s)
			if err != nil {
				return connector.Value{}, badValue("a date YYYY-MM-DD")
			}
			return connector.DateValue(d), nil
		}
	case kDateTime, kInstant:
		loc := c.loc
		if col.kind == kInstant {
			loc = time.UTC
		}
		switch v := src.(type) {
		case time.Time:
			if v.Location() == time.UTC && col.kind == kDateTime {
				// The driver gave the wall clock (PostgreSQL timestamp,
				// SQLite text without offset): it is in the configured zone.
				v = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc)
			}
			return connector.DateTime(v), nil
		default:
			s, ok := text(src)
			if !ok {
				return connector.Value{}, badValue("a date-time")
			}
			if zeroDate(s) {
				return connector.Null(), nil
			}
			t, err := parseWall(s, loc)
			if err != nil {
				return connector.Value{}, badValue("a date-time YYYY-MM-DD HH:MM:SS")
			}
			return connector.DateTime(t), nil
		}
	}
	return connector.Value{}, errBadValue
}

// zeroDate reports MySQL zero dates: 0000-00-00, and dates with a zero
// month or day ('2008-00-00'), which MySQL accepts outside NO_ZERO_IN_DATE.
// They are read as null.
func zeroDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	return s[:4] == "0000" || s[5:7] == "00" || s[8:10] == "00"
}

var wallLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseWall parses a date-time without zone in loc, or one with an offset
// as the instant it names.
func parseWall(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range wallLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errBadValue
}

// wallFormat is how date-times are written to MySQL and SQLite: the wall
// clock, no zone. Values are canonical (whole seconds), so the fraction is
// absent unless a caller passes one.
const wallFormat = "2006-01-02 15:04:05.999999"

// bindValue converts a canonical Value of col's type into a driver
// argument.
func (c *Connector) bindValue(col *column, v connector.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	pg := c.d.name() == "postgres"
	switch col.kind {
	case kText:
		if s, ok := v.Text(); ok {
			return s, nil
		}
	case kSet:
		if m, ok := v.Multi(); ok {
			return strings.Join(m, col.sep), nil
		}
	case kInt:
		if d, ok := v.Number(); ok {
			if d.IsInteger() {
				if bi := d.BigInt(); bi.IsInt64() {
					return bi.Int64(), nil
				}
			}
			return d.String(), nil
		}
	case kDecimal:
		if d, ok := v.Number(); ok {
			return d.String(), nil
		}
	case kFloat:
		if d, ok := v.Number(); ok {
			return d.InexactFloat64(), nil
		}
	case kBool:
		if b, ok := v.Bool(); ok {
			return c.d.boolArg(b), nil
		}
	case kDate:
		if d, ok := v.Date(); ok {
			if pg {
				return d.Time(), nil
			}
			return d.String(), nil
		}
	case kDateTime, kInstant:
		if t, ok := v.DateTime(); ok {
			return c.bindTime(col, t), nil
		}
	}
	return nil, &connector.ValueError{Code: connector.CodeInvalidValue, Detail: fmt.Sprintf("a %s value cannot be stored in this column", v.Kind())}
}

// fspUnit is the duration of the last digit kept, by fractional-second
// digits: the database would round a finer value, possibly up.
var fspUnit = [...]time.Duration{time.Second, 100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond,
	100 * time.Microsecond, 10 * time.Microsecond, time.Microsecond}

// bindTime returns the argument for an instant in a date-time column: the
// wall clock in the configured zone for columns without zone, the instant
// for those with one.
func (c *Connector) bindTime(col *column, t time.Time) any {
	if col.kind == kInstant {
		t = t.UTC()
	} else {
		t = t.In(c.loc)
	}
	t = t.Truncate(fspUnit[min(max(col.fsp, 0), 6)])
	if c.d.name() == "postgres" {
		return t // pgx keeps the wall clock for timestamp without time zone
	}
	return t.Format(wallFormat)
}
