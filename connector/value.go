package connector

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/unicode/norm"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value. The zero Value is KindNull.
const (
	KindNull Kind = iota
	KindText
	KindNumber
	KindBool
	KindDate
	KindDateTime
	KindMulti
)

var kindNames = [...]string{"null", "text", "number", "bool", "date", "datetime", "multi"}

// String returns the kind's name, e.g. "datetime".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Date is a civil date with no time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses an ISO 8601 calendar date, 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("not a date in the form YYYY-MM-DD")
	}
	return DateOf(t), nil
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	if b, ok := d.appendISO(make([]byte, 0, 10)); ok {
		return string(b)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// appendISO appends d as String prints it, without fmt, for years 0 to
// 9999 and months and days 0 to 99; ok is false (nothing appended)
// otherwise.
func (d Date) appendISO(dst []byte) ([]byte, bool) {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return dst, false
	}
	y, m := d.Year, int(d.Month)
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10)), true
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Valid reports whether d names a real calendar day.
func (d Date) Valid() bool { return DateOf(d.Time()) == d }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.Time().Compare(e.Time()) }

// Value is a typed field value. The zero Value is null. Values are
// immutable; construct them with Null, Text, Number, NumberString, Int, Bool,
// DateValue, DateTime and Multi.
//
// A Value never prints its content: String, GoString and Format (%v, %s,
// %q, %#v) give only its kind and size. Use the typed accessors to read it.
//
// The content sits behind a pointer: fmt cannot call Format on a Value held
// in an unexported struct field and prints such fields by reflection, but
// at that depth it prints a pointer as an address, so a struct with an
// unexported Value field does not leak the content either.
type Value struct {
	_        [0]func() // not comparable with ==: use Equal
	kind     Kind
	txt      *string // text
	*payload         // the other kinds; nil for null and text
}

// The content of a Value is behind pointers, so that printing a struct
// that holds a Value in a field of its own (where fmt cannot call Format)
// prints an address, never the content. Text, the bulk of what a sheet
// holds, takes a pointer to its string alone: a million rows of text cells
// cost 16 bytes of allocation per cell beyond the text, not a whole
// payload. Bools share two payloads.

// payload is the content of a Value of the other non-null kinds.
type payload struct {
	b     bool
	num   decimal.Decimal // number
	t     time.Time       // datetime (UTC)
	d     Date            // date
	multi []string        // multi-select, sorted and de-duplicated
}

var (
	payloadTrue  = &payload{b: true}
	payloadFalse = &payload{b: false}
)

// str is the text of a text Value ("" for the other kinds).
func (v Value) str() string {
	if v.txt == nil {
		return ""
	}
	return *v.txt
}

// Null returns the null Value.
func Null() Value { return Value{} }

// Text returns a text Value. The text is kept as given; Canonicalize
// normalises it.
func Text(s string) Value { return Value{kind: KindText, txt: &s} }

// Number returns a number Value holding d exactly.
func Number(d decimal.Decimal) Value { return Value{kind: KindNumber, payload: &payload{num: d}} }

// Int returns a number Value holding i.
func Int(i int64) Value { return Number(decimal.NewFromInt(i)) }

// NumberString parses a plain decimal number ("-12.50", "3000", "1e3").
// The error does not repeat the input.
func NumberString(s string) (Value, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return Value{}, fmt.Errorf("not a number")
	}
	return Number(d), nil
}

// Bool returns a bool Value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, payload: payloadTrue}
	}
	return Value{kind: KindBool, payload: payloadFalse}
}

// DateValue returns a date Value.
func DateValue(d Date) Value { return Value{kind: KindDate, payload: &payload{d: d}} }

// DateTime returns a datetime Value for the instant t, kept in UTC with
// full precision; Canonicalize drops sub-second precision.
func DateTime(t time.Time) Value { return Value{kind: KindDateTime, payload: &payload{t: t.UTC()}} }

// Multi returns a multi-select Value holding the set of vals: empty strings
// are dropped, the rest sorted and de-duplicated. A Multi of no values is
// null.
func Multi(vals ...string) Value {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return Null()
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return Value{kind: KindMulti, payload: &payload{multi: out}}
}

// Kind returns the Value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// Text returns the text of a text Value.
func (v Value) Text() (string, bool) {
	if v.kind != KindText {
		return "", false
	}
	return v.str(), true
}

// Number returns the number of a number Value.
func (v Value) Number() (decimal.Decimal, bool) {
	if v.kind != KindNumber {
		return decimal.Decimal{}, false
	}
	return v.num, true
}

// Bool returns the bool of a bool Value.
func (v Value) Bool() (bool, bool) {
	if v.kind != KindBool {
		return false, false
	}
	return v.b, true
}

// Date returns the date of a date Value.
func (v Value) Date() (Date, bool) {
	if v.kind != KindDate {
		return Date{}, false
	}
	return v.d, true
}

// DateTime returns the instant of a datetime Value, in UTC.
func (v Value) DateTime() (time.Time, bool) {
	if v.kind != KindDateTime {
		return time.Time{}, false
	}
	return v.t, true
}

// Multi returns the sorted values of a multi-select Value. The slice must
// not be modified.
func (v Value) Multi() ([]string, bool) {
	if v.kind != KindMulti {
		return nil, false
	}
	return v.multi, true
}

// Equal reports whether v and w hold the same value. Numbers compare by
// value (3000 equals 3000.00), datetimes by instant. Compare canonical
// values (see Canonicalize) for "would Salesforce store the same thing".
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindNull:
		return true
	case KindText:
		return v.str() == w.str()
	case KindNumber:
		return v.num.Equal(w.num)
	case KindBool:
		return v.b == w.b
	case KindDate:
		return v.d == w.d
	case KindDateTime:
		return v.t.Equal(w.t)
	case KindMulti:
		return slices.Equal(v.multi, w.multi)
	}
	return false
}

// Raw returns the value in its plain text form, for writing to a store
// that keeps text (a CSV cell, a SOQL literal before escaping): text as is,
// numbers in plain decimal notation, bools as "true"/"false", dates as
// YYYY-MM-DD, datetimes as RFC 3339 in UTC, multi-select values joined with
// ";" (Salesforce's separator), null as "".
//
// Raw returns personal data: never log it or put it in an error.
func (v Value) Raw() string {
	switch v.kind {
	case KindText:
		return v.str()
	case KindNumber:
		return v.num.String()
	case KindBool:
		return strconv.FormatBool(v.b)
	case KindDate:
		return v.d.String()
	case KindDateTime:
		return v.t.Format(time.RFC3339Nano)
	case KindMulti:
		return strings.Join(v.multi, ";")
	}
	return ""
}

// String describes v without its content, e.g. "text(12 bytes)".
func (v Value) String() string {
	switch v.kind {
	case KindNull:
		return "null"
	case KindText:
		return "text(" + strconv.Itoa(len(v.str())) + " bytes)"
	case KindMulti:
		return "multi(" + strconv.Itoa(len(v.multi)) + " values)"
	}
	return v.kind.String() + "(redacted)"
}

// GoString is String: %#v does not reveal the content either.
func (v Value) GoString() string { return v.String() }

// Format makes every fmt verb print the redacted String.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// AppendCanonical appends a stable, unambiguous binary encoding of v to
// dst: a kind byte followed by a length-prefixed payload. Equal values
// (after Canonicalize) encode to equal bytes, so the encoding is what
// fingerprints are computed over. The encoding is versioned by the
// fingerprint scheme; changing it invalidates every stored fingerprint.
func (v Value) AppendCanonical(dst []byte) []byte {
	dst = append(dst, byte(v.kind))
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	switch v.kind {
	case KindText:
		str(v.str())
	case KindNumber:
		var buf [48]byte
		if b, ok := appendCanonicalDecimal(buf[:0], v.num); ok {
			dst = binary.AppendUvarint(dst, uint64(len(b)))
			dst = append(dst, b...)
		} else {
			str(canonicalDecimal(v.num))
		}
	case KindBool:
		if v.b {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case KindDate:
		var buf [10]byte
		if b, ok := v.d.appendISO(buf[:0]); ok {
			dst = binary.AppendUvarint(dst, uint64(len(b)))
			dst = append(dst, b...)
		} else {
			str(v.d.String())
		}
	case KindDateTime:
		dst = binary.AppendVarint(dst, v.t.Unix())
		dst = binary.AppendUvarint(dst, uint64(v.t.Nanosecond()))
	case KindMulti:
		dst = binary.AppendUvarint(dst, uint64(len(v.multi)))
		for _, m := range v.multi {
			str(m)
		}
	}
	return dst
}

// AppendComparable appends the encoding of v's comparison form to dst:
// AppendCanonical, except that text is first reduced to the form in which
// two texts that read the same are equal (ComparableText): a text and its
// cleaned reading in a spreadsheet (trimmed, a line ending or a zero-width
// space less) encode alike, and white space alone encodes as null. It is
// what fingerprints are computed over, so a value written as Salesforce
// holds it and read back cleaned is not a change on either side.
//
// v is a canonical value (Canonicalize): its text is taken to be in NFC.
//
// A text already in comparison form (NFC, no carriage return, no white
// space at the ends, no zero-width space, word joiner or byte-order mark
// inside) encodes exactly as AppendCanonical encodes it, and so does every
// other kind: fingerprints stored for clean values stay valid.
func (v Value) AppendComparable(dst []byte) []byte {
	if v.kind != KindText {
		return v.AppendCanonical(dst)
	}
	s := comparableText(v.str(), true)
	if s == "" {
		return append(dst, byte(KindNull))
	}
	dst = append(dst, byte(KindText))
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ComparableText returns the form in which texts are compared: CRLF and
// CR as LF, white space trimmed at both ends (TrimSpace: including
// no-break and zero-width spaces), zero-width spaces (U+200B), word
// joiners (U+2060) and byte-order marks (U+FEFF) removed inside, and
// Unicode NFC. ZWNJ and ZWJ are kept inside: they change how Bengali and
// Khmer are written. "" means white space alone, which compares as null.
//
// It is for comparing only: a text is written and stored as it is, never
// in this form (inside Khmer text U+200B separates words).
//
// ComparableText does not allocate when s is already in that form.
func ComparableText(s string) string { return comparableText(s, false) }

// comparableText is ComparableText; with known set s is known to be in NFC
// (a canonical value's text), and is normalised again only when a removed
// zero-width space lets characters around it compose.
func comparableText(s string, known bool) string {
	if comparableASCII(s) {
		return s
	}
	if strings.ContainsRune(s, '\r') {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	s = TrimSpace(s)
	if strings.Contains(s, "\u200b") || strings.Contains(s, "\u2060") || strings.Contains(s, "\ufeff") {
		s = strings.Map(func(r rune) rune {
			if isInnerZW(r) {
				return -1
			}
			return r
		}, s)
		known = false
	}
	if known || norm.NFC.QuickSpanString(s) == len(s) { // IsNormalString allocates
		return s
	}
	return nfc(s)
}

// comparableASCII reports whether s is ASCII already in comparison form:
// no carriage return and no white space at either end.
func comparableASCII(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\r' {
			return false
		}
	}
	return !asciiSpace(s[0]) && !asciiSpace(s[len(s)-1])
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
}

// isInnerZW reports the invisible characters ComparableText removes inside
// a text.
func isInnerZW(r rune) bool { return r == '\u200b' || r == '\u2060' || r == '\ufeff' }

// canonicalDecimal prints d with no trailing fractional zeros, so 3000,
// 3000.00 and 3e3 encode alike.
func canonicalDecimal(d decimal.Decimal) string {
	s := d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// isNFC reports whether s is in Unicode normalisation form C. The quick
// check decides almost every text (ASCII keys, Thai, Khmer, Bengali
// already composed) without allocating; IsNormalString, which allocates,
// decides the rest.
func isNFC(s string) bool {
	if norm.NFC.QuickSpanString(s) == len(s) {
		return true
	}
	return norm.NFC.IsNormalString(s)
}

// appendCanonicalDecimal appends canonicalDecimal(d) without going
// through big.Int's String, for the common numbers: a coefficient of at
// most 18 digits and 0 to 18 decimals. ok is false (nothing appended)
// otherwise.
func appendCanonicalDecimal(dst []byte, d decimal.Decimal) ([]byte, bool) {
	exp := d.Exponent()
	if exp > 0 || exp < -18 || d.NumDigits() > 18 {
		return dst, false
	}
	c := d.CoefficientInt64()
	if c == 0 {
		return append(dst, '0'), true
	}
	var buf [20]byte
	u := uint64(c)
	if c < 0 {
		dst = append(dst, '-')
		u = -u
	}
	digits := strconv.AppendUint(buf[:0], u, 10)
	n := int(-exp) // decimals
	if n == 0 {
		return append(dst, digits...), true
	}
	var intPart, frac []byte
	lead := 0 // zeros between the point and the digits
	if len(digits) > n {
		intPart, frac = digits[:len(digits)-n], digits[len(digits)-n:]
	} else {
		intPart, frac, lead = []byte{'0'}, digits, n-len(digits)
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	dst = append(dst, intPart...)
	if len(frac) > 0 {
		dst = append(dst, '.')
		for range lead {
			dst = append(dst, '0')
		}
		dst = append(dst, frac...)
	}
	return dst, true
}

// nfc returns s in Unicode normalisation form C.
func nfc(s string) string {
	if isNFC(s) {
		return s
	}
	return norm.NFC.String(s)
}
