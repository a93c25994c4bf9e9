package mapping

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

// Default word lists of the "number" transform, read-only. Matching
// ignores case.
var (
	// DefaultCurrency are signs and words stripped before or after a
	// number (doc/architecture.md §11.6 rule 5), including the ".-", "/-" and ",-"
	// that close an amount in Thai and Bengali writing.
	DefaultCurrency = []string{"฿", "৳", "៛", "$", "บาท", "টাকা", "tk.", "tk", "thb", "bdt", "khr", "gtq", "usd", "baht", ".-", "/-", ",-", "=-"}
	// DefaultUnits are units of an age stripped after a number: "14 ปี".
	DefaultUnits = []string{"ปี", "years", "year", "yrs", "yr", "y/o", "বছর", "ឆ្នាំ", "años", "anos", "año"}
	// DefaultApprox are words meaning "about" before a number: "ประมาณ 14",
	// "approx 14". They set FlagEstimated.
	DefaultApprox = []string{"ประมาณ", "approx.", "approx", "approximately", "about", "around", "ca.", "circa", "~", "প্রায়", "আনুমানিক", "ប្រហែល", "aprox.", "aprox", "aproximadamente", "unos", "unas"}
	// DefaultNumberNull are cells that mean "no number".
	DefaultNumberNull = []string{"-", "—", "–", "?", "n/a"}
)

// NumberOptions configure the "number" transform.
type NumberOptions struct {
	// Scale rounds to this many digits after the point, half away from
	// zero, as Salesforce stores a field of that scale; nil keeps every
	// digit. Rounding that changes the value sets FlagLossy.
	Scale *int32 `json:"scale" yaml:"scale"`
	// DecimalComma reads "1.234,50" (dot groups, comma decimal) and
	// writes the same way. The default is "1,234.50".
	DecimalComma bool `json:"decimal_comma" yaml:"decimal_comma"`
	// Currency, Units, Approx and Null replace the default lists when not
	// empty.
	Currency []string `json:"currency" yaml:"currency"`
	Units    []string `json:"units" yaml:"units"`
	Approx   []string `json:"approx" yaml:"approx"`
	Null     []string `json:"null" yaml:"null"`
	// Ranges reads "13-14" as its lower bound with FlagEstimated and
	// FlagLossy. Off, a range is an error.
	Ranges bool `json:"ranges" yaml:"ranges"`
	// WriteGrouping writes group separators (3,000); WriteSuffix is
	// appended to what Format writes (".-"). Both must read back.
	WriteGrouping bool   `json:"write_grouping" yaml:"write_grouping"`
	WriteSuffix   string `json:"write_suffix" yaml:"write_suffix"`
}

// NewNumber returns the "number" transform: an exact decimal from a cell
// with native digits, group separators, currency signs and suffixes, age
// units, an "about" word (FlagEstimated) or, with Ranges, a range.
func NewNumber(o NumberOptions) (Transform, error) {
	if len(o.Currency) == 0 {
		o.Currency = DefaultCurrency
	}
	if len(o.Units) == 0 {
		o.Units = DefaultUnits
	}
	if len(o.Approx) == 0 {
		o.Approx = DefaultApprox
	}
	if len(o.Null) == 0 {
		o.Null = DefaultNumberNull
	}
	if o.Scale != nil && (*o.Scale < 0 || *o.Scale > 18) {
		return nil, fmt.Errorf("number: scale %d out of range 0-18", *o.Scale)
	}
	t := &numberTransform{opts: o, hash: hashOptions("number", o)}
	t.group, t.point = ',', '.'
	if o.DecimalComma {
		t.group, t.point = '.', ','
	}
	t.affixes = make([]string, 0, len(o.Currency)+len(o.Units))
	for _, l := range [][]string{o.Currency, o.Units} {
		for _, w := range l {
			if w = Clean(w); w != "" {
				t.affixes = append(t.affixes, w)
			}
		}
	}
	for _, w := range o.Approx {
		if w = Clean(w); w != "" {
			t.approx = append(t.approx, w)
		}
	}
	t.null = make(map[string]bool, len(o.Null))
	for _, w := range o.Null {
		t.null[matchKey(w, false)] = true
		t.nullDigits = t.nullDigits || strings.ContainsAny(Clean(w), "0123456789")
	}
	t.expect = "expected a number like 3000, 3,000.50 or ฿3,000"
	if o.DecimalComma {
		t.expect = "expected a number like 3000, 3.000,50 or Q3.000"
	}
	if o.Ranges {
		t.expect += ", or a range like 13-14"
	}
	for _, d := range []string{"0", "3000", "-1234567.5", "0.25"} {
		v := connector.Number(decimal.RequireFromString(d))
		if _, err := t.Format(v); err != nil {
			return nil, fmt.Errorf("number: write form does not read back (suffix %q?)", o.WriteSuffix)
		}
	}
	return t, nil
}

type numberTransform struct {
	opts         NumberOptions
	hash         string
	group, point byte
	affixes      []string
	approx       []string
	null         map[string]bool
	nullDigits   bool // a null word holds a digit
	expect       string
}

func (t *numberTransform) Kind() string { return "number" }

// Lossy is true only for ranges: the upper bound is not kept.
func (t *numberTransform) Lossy() bool  { return t.opts.Ranges }
func (t *numberTransform) Hash() string { return t.hash }

func (t *numberTransform) Parse(cell string) (Result, error) {
	s := Clean(cell)
	if s == "" {
		return Result{}, nil
	}
	if (t.nullDigits || !strings.ContainsAny(s, "0123456789")) && t.null[matchKey(s, false)] {
		return Result{}, nil
	}
	var flags Flags
	for len(s) > 0 && (!isPlainEdge(s[0]) || !isPlainEdge(s[len(s)-1])) {
		s2 := trimPrefixFold(s, t.approx)
		if s2 != s {
			flags |= FlagEstimated
			s = s2
			continue
		}
		if s2 = trimPrefixFold(s, t.affixes); s2 != s {
			s = s2
			continue
		}
		if s2 = trimSuffixFold(s, t.affixes); s2 != s {
			s = s2
			continue
		}
		break
	}
	if t.opts.Ranges {
		if lo, hi, ok := splitRange(s); ok {
			a, okA := t.plain(lo)
			b, okB := t.plain(hi)
			if !okA || !okB || a.GreaterThan(b) {
				return Result{}, invalid(t.expect)
			}
			return t.rounded(a, flags|FlagEstimated|FlagLossy), nil
		}
	}
	d, ok := t.plain(s)
	if !ok {
		return Result{}, invalid(t.expect)
	}
	return t.rounded(d, flags), nil
}

// isPlainEdge reports a byte a bare number starts or ends with, so that
// no affix or word needs stripping.
func isPlainEdge(c byte) bool { return c >= '0' && c <= '9' }

func (t *numberTransform) rounded(d decimal.Decimal, flags Flags) Result {
	if sc := t.opts.Scale; sc != nil && -d.Exponent() > *sc {
		r := d.Round(*sc)
		if !r.Equal(d) {
			flags |= FlagLossy
		}
		d = r
	}
	return Result{Value: connector.Number(d), Flags: flags}
}

// splitRange splits "13-14", "13 – 14" or "13~14" at the dash between two
// numbers; a leading minus is a sign, not a range.
func splitRange(s string) (lo, hi string, ok bool) {
	for i := 1; i < len(s); i++ {
		n := 0
		switch {
		case s[i] == '-' || s[i] == '~':
			n = 1
		case strings.HasPrefix(s[i:], "–"), strings.HasPrefix(s[i:], "—"):
			n = len("–")
		default:
			continue
		}
		lo, hi = strings.TrimRight(s[:i], " "), strings.TrimLeft(s[i+n:], " ")
		if lo == "" || hi == "" || lo[len(lo)-1] < '0' || lo[len(lo)-1] > '9' {
			return "", "", false
		}
		return lo, hi, true
	}
	return "", "", false
}

// plain reads [-+]digits with group separators between digits and one
// decimal point.
func (t *numberTransform) plain(s string) (decimal.Decimal, bool) {
	var buf [40]byte
	b := buf[:0]
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		if s[i] == '-' {
			b = append(b, '-')
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	digits, point := 0, false
	prevDigit := false
	var mant int64 // the digits, while there are at most 18
	frac := int32(0)
	for i < len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
			digits++
			if digits <= 18 {
				mant = mant*10 + int64(c-'0')
			}
			if point {
				frac++
			}
			prevDigit = true
			i++
			continue
		case c == t.point && !point && prevDigit || c == t.point && !point && digits == 0:
			b = append(b, '.')
			point = true
		case c == t.group && prevDigit && !point, c == ' ' && prevDigit && !point, c == '\'' && prevDigit && !point:
			if i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
				return decimal.Decimal{}, false
			}
		default:
			// NBSP and narrow spaces group digits too.
			if prevDigit && !point {
				for _, sp := range []string{"\u00a0", "\u202f", "\u2009"} {
					if strings.HasPrefix(s[i:], sp) && i+len(sp) < len(s) && s[i+len(sp)] >= '0' && s[i+len(sp)] <= '9' {
						i += len(sp)
						prevDigit = false
						goto next
					}
				}
			}
			return decimal.Decimal{}, false
		}
		prevDigit = false
		i++
	next:
	}
	if digits == 0 || len(b) > 0 && b[len(b)-1] == '.' || len(b) > 38 {
		return decimal.Decimal{}, false
	}
	if digits <= 18 {
		if len(b) > 0 && b[0] == '-' {
			mant = -mant
		}
		return decimal.New(mant, -frac), true
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return decimal.Decimal{}, false
	}
	return d, true
}

// trimPrefixFold strips the first word of words that s starts with
// (ignoring case), and the spaces after it.
func trimPrefixFold(s string, words []string) string {
	for _, w := range words {
		if len(s) >= len(w) && strings.EqualFold(s[:len(w)], w) {
			return strings.TrimLeft(s[len(w):], " \u00a0")
		}
	}
	return s
}

func trimSuffixFold(s string, words []string) string {
	for _, w := range words {
		if len(s) >= len(w) && strings.EqualFold(s[len(s)-len(w):], w) {
			return strings.TrimRight(s[:len(s)-len(w)], " \u00a0")
		}
	}
	return s
}

func (t *numberTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindNumber:
	default:
		return "", wrongKind(v, "number")
	}
	d, _ := v.Number()
	var s string
	if t.opts.Scale != nil {
		d = d.Round(*t.opts.Scale) // the field holds no more digits
		s = d.StringFixed(*t.opts.Scale)
	} else {
		s = d.String()
	}
	if t.opts.WriteGrouping || t.opts.DecimalComma {
		s = groupDigits(s, t.opts.WriteGrouping, t.group, t.point)
	}
	s += t.opts.WriteSuffix
	if r, err := t.Parse(s); err != nil || !r.Value.Equal(connector.Number(d)) {
		return "", invalid("expected a number the write form can hold")
	}
	return s, nil
}

// groupDigits rewrites a plain decimal ("-1234567.5") with the source's
// decimal point and, if group, group separators every three digits.
func groupDigits(s string, group bool, sep, point byte) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := 0; i < len(intPart); i++ {
		if group && i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteByte(intPart[i])
	}
	if hasFrac {
		b.WriteByte(point)
		b.WriteString(frac)
	}
	return b.String()
}
