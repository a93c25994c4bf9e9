package connector

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Canonicalize returns v in the form field f stores it: the value a read
// after a write would return. Text becomes NFC and empty text null; numbers
// are rounded half away from zero to the field's scale (whole numbers for
// int fields); datetimes keep whole seconds in UTC; multi-select values are
// NFC, sorted and de-duplicated; a null checkbox is false. Values of
// another kind are converted where the conversion is exact (the text
// "12.50" into a number field, a number into a text field, multi-select
// values into a text field joined with ";"); otherwise the error is a
// *ValueError with CodeInvalidValue that does not repeat the value.
//
// Canonicalize does not check limits (length, picklist, precision); see
// Check.
func Canonicalize(v Value, f *Field) (Value, error) {
	switch f.Type.ValueKind() {
	case KindText:
		return canonicalText(v)
	case KindNumber:
		return canonicalNumber(v, f)
	case KindBool:
		return canonicalBool(v)
	case KindDate:
		return canonicalDate(v)
	case KindDateTime:
		return canonicalDateTime(v)
	case KindMulti:
		return canonicalMulti(v)
	}
	return Value{}, &ValueError{Code: CodeInvalidValue, Detail: "unknown field type " + string(f.Type)}
}

func wrongKind(v Value, want string) error {
	return &ValueError{Code: CodeInvalidValue, Detail: fmt.Sprintf("a %s value cannot be stored in a %s field", v.kind, want)}
}

func canonicalText(v Value) (Value, error) {
	switch v.kind {
	case KindNull:
		return v, nil
	case KindText:
		if v.str() == "" {
			return Null(), nil
		}
		if isNFC(v.str()) {
			return v, nil // already canonical: no copy
		}
		return Text(nfc(v.str())), nil
	case KindNumber:
		return Text(canonicalDecimal(v.num)), nil
	case KindBool:
		return Text(strconv.FormatBool(v.b)), nil
	case KindDate:
		return Text(v.d.String()), nil
	case KindDateTime:
		return Text(v.t.Truncate(time.Second).Format(time.RFC3339)), nil
	case KindMulti:
		// Joined with ";" as Raw does and as canonicalMulti splits, so a
		// multi-select round-trips through a text column.
		vals := make([]string, len(v.multi))
		for i, m := range v.multi {
			vals[i] = nfc(m)
		}
		return Text(strings.Join(Multi(vals...).multi, ";")), nil
	}
	return Value{}, wrongKind(v, "text")
}

func canonicalNumber(v Value, f *Field) (Value, error) {
	var d decimal.Decimal
	switch v.kind {
	case KindNull:
		return v, nil
	case KindNumber:
		d = v.num
	case KindText:
		s := strings.TrimSpace(v.str())
		if s == "" {
			return Null(), nil
		}
		var err error
		if d, err = decimal.NewFromString(s); err != nil {
			return Value{}, &ValueError{Code: CodeInvalidValue, Detail: "expected a number"}
		}
	default:
		return Value{}, wrongKind(v, "number")
	}
	scale := int32(f.Scale)
	if f.Type == TypeInt {
		scale = 0
	}
	if v.kind == KindNumber && d.Exponent() == -scale {
		return v, nil // Round would return d as it is
	}
	return Number(d.Round(scale)), nil
}

func canonicalBool(v Value) (Value, error) {
	switch v.kind {
	case KindNull:
		return Bool(false), nil
	case KindBool:
		return v, nil
	case KindText:
		switch strings.ToLower(strings.TrimSpace(v.str())) {
		case "true":
			return Bool(true), nil
		case "false", "":
			return Bool(false), nil
		}
		return Value{}, &ValueError{Code: CodeInvalidValue, Detail: "expected true or false"}
	}
	return Value{}, wrongKind(v, "checkbox")
}

func canonicalDate(v Value) (Value, error) {
	switch v.kind {
	case KindNull, KindDate:
		return v, nil
	case KindText:
		s := strings.TrimSpace(v.str())
		if s == "" {
			return Null(), nil
		}
		d, err := ParseDate(s)
		if err != nil {
			return Value{}, &ValueError{Code: CodeInvalidValue, Detail: "expected a date YYYY-MM-DD"}
		}
		return DateValue(d), nil
	}
	return Value{}, wrongKind(v, "date")
}

func canonicalDateTime(v Value) (Value, error) {
	switch v.kind {
	case KindNull:
		return v, nil
	case KindDateTime:
		if v.t.Nanosecond() == 0 {
			return v, nil // whole seconds in UTC already
		}
		return DateTime(v.t.Truncate(time.Second)), nil
	case KindText:
		s := strings.TrimSpace(v.str())
		if s == "" {
			return Null(), nil
		}
		t, err := ParseDateTime(s)
		if err != nil {
			return Value{}, err
		}
		return DateTime(t.Truncate(time.Second)), nil
	}
	return Value{}, wrongKind(v, "datetime")
}

// ParseDateTime parses an instant in RFC 3339 or in Salesforce's form
// (2024-01-15T10:30:00.000+0000). The error does not repeat the input.
func ParseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &ValueError{Code: CodeInvalidValue, Detail: "expected a datetime like 2024-01-15T10:30:00Z"}
}

func canonicalMulti(v Value) (Value, error) {
	switch v.kind {
	case KindNull:
		return v, nil
	case KindText:
		if strings.TrimSpace(v.str()) == "" {
			return Null(), nil
		}
		return canonicalMulti(Multi(strings.Split(v.str(), ";")...))
	case KindMulti:
		if !slices.ContainsFunc(v.multi, func(m string) bool { return !isNFC(m) }) {
			return v, nil // sorted and de-duplicated already, and NFC
		}
		vals := make([]string, len(v.multi))
		for i, m := range v.multi {
			vals[i] = nfc(m)
		}
		return Multi(vals...), nil
	}
	return Value{}, wrongKind(v, "multi-select")
}

// Check reports whether the canonical value v fits field f: the length of
// text, allowed values of restricted picklists, the digits a number field
// holds. The error is a *ValueError naming the limit, not the value.
func Check(v Value, f *Field) error {
	switch v.kind {
	case KindText:
		if f.Length > 0 {
			if n := utf8.RuneCountInString(v.str()); n > f.Length {
				return &ValueError{Code: CodeTooLong, Detail: fmt.Sprintf("max length %d, got %d characters", f.Length, n)}
			}
		}
		if f.Type == TypePicklist && f.Restricted && !f.HasPicklistValue(v.str()) {
			return &ValueError{Code: CodeBadPicklist, Detail: "not one of the field's picklist values"}
		}
	case KindMulti:
		if f.Restricted {
			for _, m := range v.multi {
				if !f.HasPicklistValue(m) {
					return &ValueError{Code: CodeBadPicklist, Detail: "not one of the field's picklist values"}
				}
			}
		}
	case KindNumber:
		if f.Precision > 0 {
			intDigits := f.Precision - f.Scale
			abs := v.num.Abs().Truncate(0)
			if n := len(abs.String()); abs.Sign() != 0 && n > intDigits {
				return &ValueError{Code: CodeOutOfRange, Detail: fmt.Sprintf("at most %d digits before the decimal point", intDigits)}
			}
		}
	}
	return nil
}
