package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/casebridge/casebridge/connector"
)

// Order says which of two small numbers in a date is the day.
type Order string

// Date orders.
const (
	// OrderUnspecified refuses a date whose first two parts could both be
	// a month (03/04/2024), since the profile does not say which is which.
	OrderUnspecified Order = ""
	DayFirst         Order = "day_first"
	MonthFirst       Order = "month_first"
)

// Era is the calendar era of a source's years.
type Era string

// Eras. In a Buddhist Era (BE) column a four-digit year of 2400 or more is
// a BE year (CE = BE - the era's offset), and a two-digit year is the last
// two digits of a BE year (67 -> 2567); four-digit years below 2400 are
// Gregorian, so a column may mix both. A year followed or preceded by an
// era word (2567 พ.ศ., ព.ស. 2568, ค.ศ. 2024) is read in that word's era
// whatever the column's. The offset is fixed for the whole Gregorian
// year, as computers and forms count it (the BE year of Cambodia, Laos
// and Myanmar traditionally turns at Visakha Bucha, not on 1 January).
const (
	EraGregorian Era = "gregorian"
	// EraBuddhist is the Thai Buddhist Era, CE + 543 (2551 is 2008).
	EraBuddhist Era = "buddhist"
	// EraBuddhistThai is EraBuddhist by its explicit name.
	EraBuddhistThai Era = "buddhist_thai"
	// EraBuddhistKhmer is Cambodia's Buddhist Era, CE + 544 (2552 is 2008).
	EraBuddhistKhmer Era = "buddhist_khmer"
	// EraBuddhistLao is Laos's Buddhist Era, CE + 544.
	EraBuddhistLao Era = "buddhist_lao"
	// EraBuddhistMyanmar is Myanmar's Buddhist Era (Sasana year), CE + 544.
	EraBuddhistMyanmar Era = "buddhist_myanmar"
)

// Eras lists every era a date profile accepts, in the order documented.
func Eras() []Era {
	return []Era{EraGregorian, EraBuddhist, EraBuddhistThai, EraBuddhistKhmer, EraBuddhistLao, EraBuddhistMyanmar}
}

// Offset returns how many years the era's count runs ahead of the
// Gregorian one (0, 543 or 544), and false for an unknown era.
func (e Era) Offset() (int, bool) {
	switch e {
	case EraGregorian:
		return 0, true
	case EraBuddhist, EraBuddhistThai:
		return 543, true
	case EraBuddhistKhmer, EraBuddhistLao, EraBuddhistMyanmar:
		return 544, true
	}
	return 0, false
}

// offset is Offset for an era known valid.
func (e Era) offset() int {
	n, _ := e.Offset()
	return n
}

// minBE is the first year read as Buddhist Era in a BE column.
const minBE = 2400

// writableYears returns the Gregorian years a four-digit year written in
// era e holds and reads back as that era: every year for gregorian, BE
// 2400 to 9999 for a Buddhist Era.
func (e Era) writableYears() (lo, hi int) {
	if off := e.offset(); off != 0 {
		return minBE - off, 9999 - off
	}
	return 1, 9999
}

// DateOptions are a source's date profile (doc/architecture.md §11.6 rule 2). Every
// profile reads ISO dates (2024-04-03, also with / or . between the parts)
// first; then, if enabled, a year alone and Excel serials; then day, month
// and year in the profile's order, with / - . or spaces between them, and
// dates with a month name in English, Spanish, Thai, Khmer or Bengali
// (03-Apr-2024, 3 เม.ย. 2567). A MySQL zero date (0000-00-00) is null.
type DateOptions struct {
	Order Order `json:"order" yaml:"order"`
	// Era defaults to gregorian.
	Era Era `json:"era" yaml:"era"`
	// ExcelSerial reads a whole number as days since 1899-12-30, the
	// epoch of Excel's 1900 date system (39519 = 2008-03-12). Only serials
	// of five digits or more (from 1927-05-18) are read: a four-digit
	// number is far more likely a year than a date in 1907, and Excel
	// counts a 29 February 1900 that never was.
	ExcelSerial bool `json:"excel_serial" yaml:"excel_serial"`
	// BareYear reads a four-digit year alone (២០០៨) as 1 January of that
	// year, with FlagEstimated. It is tried before Excel serials.
	BareYear bool `json:"bare_year" yaml:"bare_year"`
	// Pivot resolves two-digit years: below Pivot they fall in the current
	// century of the era (20xx, or 25xx BE), from Pivot on in the previous
	// one (19xx, 24xx BE). Default 70; 0 takes the default.
	Pivot int `json:"pivot" yaml:"pivot"`
	// Write is the write form, a layout built from 2006 (year), 01 or 1
	// (month), 02 or 2 (day), Jan or January; other characters are written
	// as they are. Default 2006-01-02. It must read back under this
	// profile, and needs a four-digit year.
	Write string `json:"write" yaml:"write"`
	// WriteEra writes years in this era: Era itself (the default, so
	// that a Buddhist Era column gets Buddhist Era years back and keeps
	// its calendar) or gregorian. A Buddhist Era write form holds only the
	// years BE 2400 to 9999 (1857 to 9456 Thai, 1856 to 9455 at 544);
	// Format refuses others.
	WriteEra Era `json:"write_era" yaml:"write_era"`
	// MonthNames is the language of the month names written for January
	// and Jan in Write: en (the default), th (มีนาคม, มี.ค.), km, bn or es.
	// Month names of every language are read whatever it says.
	MonthNames string `json:"month_names,omitempty" yaml:"month_names"`
}

// DateTimeOptions configure the "datetime" transform: a date profile plus a
// time of day (15:04, 15:04:05, 3:04 PM; an offset or Z where written)
// read in Zone and converted to UTC. Fractions of a second are dropped,
// as Salesforce drops them.
type DateTimeOptions struct {
	DateOptions `yaml:",inline"`
	// Zone is the IANA zone of times written without an offset, e.g.
	// America/Guatemala; default UTC.
	Zone string `json:"zone" yaml:"zone"`
}

// eraList names the eras for an error message.
func eraList() string {
	var names []string
	for _, e := range Eras() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// canonical returns the era's one name among equal ones.
func (e Era) canonical() Era {
	if e == EraBuddhistThai {
		return EraBuddhist
	}
	return e
}

func (o *DateOptions) normalize(defaultWrite string) error {
	switch o.Order {
	case OrderUnspecified, DayFirst, MonthFirst:
	default:
		return fmt.Errorf("date: unknown order %q (want day_first or month_first)", o.Order)
	}
	if o.Era == "" {
		o.Era = EraGregorian
	}
	if o.WriteEra == "" {
		o.WriteEra = o.Era
	}
	for _, e := range []Era{o.Era, o.WriteEra} {
		if _, ok := e.Offset(); !ok {
			return fmt.Errorf("date: unknown era %q (want one of %s)", e, eraList())
		}
	}
	// buddhist_thai is buddhist by another name: one behaviour, one hash.
	o.Era, o.WriteEra = o.Era.canonical(), o.WriteEra.canonical()
	if o.WriteEra != EraGregorian && o.WriteEra != o.Era {
		return fmt.Errorf("date: write_era %s needs era %s, or the written years will not read back", o.WriteEra, o.WriteEra)
	}
	if o.MonthNames == "en" {
		o.MonthNames = "" // the default, by its one name
	}
	if _, ok := monthLists[o.MonthNames]; !ok && o.MonthNames != "" {
		return fmt.Errorf("date: unknown month_names %q (want one of %s)", o.MonthNames, strings.Join(MonthLanguages(), ", "))
	}
	if o.Pivot == 0 {
		o.Pivot = 70
	}
	if o.Pivot < 1 || o.Pivot > 99 {
		return fmt.Errorf("date: pivot %d out of range 1-99", o.Pivot)
	}
	if o.Write == "" {
		o.Write = defaultWrite
	}
	return nil
}

// NewDate returns the "date" transform for a date profile.
func NewDate(o DateOptions) (Transform, error) {
	if err := o.normalize("2006-01-02"); err != nil {
		return nil, err
	}
	var y, m, d int
	for _, tok := range layoutTokens(o.Write) {
		switch tok {
		case "2006", "06":
			y++
		case "01", "1", "Jan", "January":
			m++
		case "02", "2":
			d++
		}
	}
	if y != 1 || m != 1 || d != 1 {
		return nil, fmt.Errorf("date: write form %q needs one year, one month and one day (2006, 01, 02)", o.Write)
	}
	if o.MonthNames != "" && !slices.ContainsFunc(layoutTokens(o.Write), func(tok string) bool { return tok == "Jan" || tok == "January" }) {
		return nil, fmt.Errorf("date: month_names %s needs a write form with a month name (Jan or January), such as 2 Jan 2006; %q has none", o.MonthNames, o.Write)
	}
	if !strings.Contains(o.Write, "2006") {
		return nil, fmt.Errorf("date: write form %q needs a four-digit year (2006): a two-digit year cannot hold every date", o.Write)
	}
	t := &dateTransform{opts: o, hash: hashOptions("date", o), expect: expectDate(&o, false)}
	for _, d := range []connector.Date{{Year: 2024, Month: 4, Day: 3}, {Year: 2008, Month: 12, Day: 31}} {
		if _, err := t.Format(connector.DateValue(d)); err != nil {
			return nil, fmt.Errorf("date: write form %q does not read back under this profile", o.Write)
		}
	}
	return t, nil
}

type dateTransform struct {
	opts   DateOptions
	hash   string
	expect string
}

func (t *dateTransform) Kind() string { return "date" }
func (t *dateTransform) Lossy() bool  { return false }
func (t *dateTransform) Hash() string { return t.hash }

func (t *dateTransform) Parse(cell string) (Result, error) {
	s := Clean(cell)
	if s == "" || isZeroDate(s) {
		return Result{}, nil
	}
	d, flags, st := parseDate(trimMidnight(s), &t.opts, true)
	switch st {
	case dateOK:
		return Result{Value: connector.DateValue(d), Flags: flags}, nil
	case dateAmbiguous:
		return Result{}, invalid(errAmbiguous)
	}
	return Result{}, invalid(t.expect)
}

func (t *dateTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindDate:
		d, _ := v.Date()
		s := formatDate(d, &t.opts)
		if got, _, st := parseDate(s, &t.opts, true); st != dateOK || got != d {
			return "", invalid(t.cannotHold())
		}
		return s, nil
	}
	return "", wrongKind(v, "date")
}

// cannotHold is Format's error for a date the write form cannot hold.
func (t *dateTransform) cannotHold() string {
	if lo, hi := t.opts.WriteEra.writableYears(); t.opts.WriteEra != EraGregorian {
		return fmt.Sprintf("expected a date from %d to %d, which a %s write form holds (%s; Buddhist Era years 2400 to 9999)", lo, hi, t.opts.WriteEra, t.opts.Write)
	}
	return "expected a date the write form can hold (" + t.opts.Write + ")"
}

const errAmbiguous = "ambiguous day and month: expected a date like 2024-12-31, or a date profile that says day first or month first"

func expectDate(o *DateOptions, withTime bool) string {
	var b strings.Builder
	b.WriteString("expected a date like 2024-12-31")
	switch o.Order {
	case DayFirst:
		b.WriteString(", 31/12/2024 (day first)")
	case MonthFirst:
		b.WriteString(", 12/31/2024 (month first)")
	}
	b.WriteString(" or 31-Dec-2024")
	if withTime {
		b.WriteString(", with a time like 15:04:05")
	}
	if o.ExcelSerial {
		b.WriteString(", or an Excel serial")
	}
	if o.BareYear && !withTime {
		b.WriteString(", or a year alone")
	}
	return b.String()
}

// trimMidnight drops a midnight time after a date, as exports of date
// columns write it (2008-03-12 00:00:00, 2008-03-12T00:00:00Z), and the
// zero fraction of an Excel serial (39519.0).
func trimMidnight(s string) string {
	if i := strings.IndexAny(s, " T"); i > 0 && i+1 < len(s) && s[i+1] == '0' {
		if rest := strings.TrimRight(s[i+1:], "Z"); strings.Trim(rest, "0:.") == "" && strings.Count(rest, ":") >= 1 {
			return strings.TrimRight(s[:i], " ")
		}
	}
	if i := strings.IndexByte(s, '.'); i >= 5 && strings.Trim(s[:i], "0123456789") == "" && strings.Trim(s[i+1:], "0") == "" {
		return s[:i]
	}
	return s
}

func isZeroDate(s string) bool {
	return strings.HasPrefix(s, "0000-00-00") && strings.Trim(s[10:], " T0:.") == ""
}

type dateStatus uint8

const (
	dateOK dateStatus = iota
	dateInvalid
	dateAmbiguous
)

type dateToken struct {
	val    int // number value, or month 1-12, or era marker
	digits int // digits of a number; 0 for a word
}

// markEra is what monthWord returns for eraMarks[i]: markEra + i.
const markEra = 100

// eraMarks are the words that name the era of a cell's year (2567 พ.ศ.,
// ព.ស. ២៥៦៨, ค.ศ. 2024): Thai, Khmer and Lao, Buddhist and Common Era.
var eraMarks = []struct {
	word string
	era  Era
}{
	{"พ.ศ.", EraBuddhist}, {"ค.ศ.", EraGregorian},
	{"ព.ស.", EraBuddhistKhmer}, {"គ.ស.", EraGregorian},
	{"ພ.ສ.", EraBuddhistLao}, {"ຄ.ສ.", EraGregorian},
}

// The Excel serials read: five digits up to 9999-12-31.
const (
	minSerial = 10000
	maxSerial = 2958465
)

var excelEpoch = connector.Date{Year: 1899, Month: 12, Day: 30}

// parseDate reads a cleaned cell. loose allows a bare year and Excel
// serials.
func parseDate(s string, o *DateOptions, loose bool) (connector.Date, Flags, dateStatus) {
	var toks [4]dateToken
	n := 0
	month := 0
	era := o.Era
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			v := 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if j-i >= 8 {
					return connector.Date{}, 0, dateInvalid
				}
				v = v*10 + int(s[j]-'0')
				j++
			}
			if n == len(toks) {
				return connector.Date{}, 0, dateInvalid
			}
			toks[n] = dateToken{val: v, digits: j - i}
			n++
			i = j
		case c == ' ' || c == '/' || c == '-' || c == '.' || c == ',':
			i++
		default:
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !(unicode.IsLetter(r) || unicode.IsMark(r) || (r == '.' && j > i)) {
					break
				}
				j += size
			}
			if j == i {
				return connector.Date{}, 0, dateInvalid
			}
			w := monthWord(s[i:j])
			switch {
			case w >= 1 && w <= 12 && month == 0:
				month = w
			case w >= markEra:
				era = eraMarks[w-markEra].era
			default:
				return connector.Date{}, 0, dateInvalid
			}
			i = j
		}
	}
	var y, m, d int
	var flags Flags
	switch {
	case month != 0:
		// Day and year around a month name; "Apr 2024" names a month, not a day.
		if n != 2 {
			return connector.Date{}, 0, dateInvalid
		}
		m = month
		if toks[0].digits == 4 {
			y, d = yearOf(toks[0], o, era), dayOf(toks[1])
		} else {
			d, y = dayOf(toks[0]), yearOf(toks[1], o, era)
		}
	case n == 1 && toks[0].digits == 8:
		v := toks[0].val
		y, m, d = yearOf(dateToken{val: v / 10000, digits: 4}, o, era), v/100%100, v%100
	case n == 1 && loose && o.BareYear && toks[0].digits == 4:
		y, m, d = yearOf(toks[0], o, era), 1, 1
		flags |= FlagEstimated
	case n == 1 && loose && o.ExcelSerial && toks[0].val >= minSerial && toks[0].val <= maxSerial && s[0] != '0':
		t := excelEpoch.Time().AddDate(0, 0, toks[0].val)
		return connector.DateOf(t), 0, dateOK
	case n == 3 && toks[0].digits == 4:
		y, m, d = yearOf(toks[0], o, era), monthOf(toks[1]), dayOf(toks[2])
	case n == 3:
		a, b := toks[0], toks[1]
		if a.digits > 2 || b.digits > 2 {
			return connector.Date{}, 0, dateInvalid
		}
		y = yearOf(toks[2], o, era)
		switch o.Order {
		case DayFirst:
			d, m = a.val, b.val
		case MonthFirst:
			m, d = a.val, b.val
		default:
			switch {
			case a.val == b.val || a.val > 12:
				d, m = a.val, b.val
			case b.val > 12:
				m, d = a.val, b.val
			default:
				return connector.Date{}, 0, dateAmbiguous
			}
		}
	default:
		return connector.Date{}, 0, dateInvalid
	}
	date := connector.Date{Year: y, Month: time.Month(m), Day: d}
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 || !date.Valid() {
		return connector.Date{}, 0, dateInvalid
	}
	return date, flags, dateOK
}

func dayOf(t dateToken) int {
	if t.digits > 2 {
		return -1
	}
	return t.val
}

func monthOf(t dateToken) int {
	if t.digits > 2 {
		return -1
	}
	return t.val
}

// yearOf resolves a year token under the profile; -1 when it cannot be a
// year.
func yearOf(t dateToken, o *DateOptions, era Era) int {
	y := t.val
	off := era.offset()
	switch t.digits {
	case 4:
		if off != 0 && y >= minBE {
			y -= off
		}
		return y
	case 2:
		century := 2000
		if off != 0 {
			century = 2500
		}
		if y >= o.Pivot {
			century -= 100
		}
		return y + century - off
	}
	return -1
}

// monthWord returns the month (1-12) a word names, markEra+i for
// eraMarks[i], or 0.
func monthWord(w string) int {
	if m, ok := monthNames[w]; ok {
		return m
	}
	lw := strings.ToLower(w)
	if m, ok := monthNames[lw]; ok {
		return m
	}
	if t := strings.TrimRight(lw, "."); t != lw {
		if m, ok := monthNames[t]; ok {
			return m
		}
	}
	if m, ok := monthNames[lw+"."]; ok {
		return m
	}
	return 0
}

var monthNames = func() map[string]int {
	m := map[string]int{}
	for i, e := range eraMarks {
		m[Clean(e.word)] = markEra + i
	}
	for _, names := range monthLists {
		for _, l := range names {
			for i, name := range l {
				m[strings.ToLower(Clean(name))] = i + 1
			}
		}
	}
	m["setiembre"], m["set"] = 9, 9
	return m
}()

// layoutTokens splits a write layout into tokens (2006, 06, 01, 1, 02, 2,
// Jan, January) and literal runs.
func layoutTokens(layout string) []string {
	var out []string
	for len(layout) > 0 {
		tok := ""
		for _, t := range []string{"January", "2006", "Jan", "01", "02", "06", "1", "2"} {
			if strings.HasPrefix(layout, t) {
				tok = t
				break
			}
		}
		if tok == "" {
			_, n := utf8.DecodeRuneInString(layout)
			tok = layout[:n]
		}
		out = append(out, tok)
		layout = layout[len(tok):]
	}
	return out
}

// monthLists holds each language's month names, full and abbreviated
// (Khmer and Bengali write the full name for both). Every list is read
// whatever the profile's MonthNames; MonthNames picks the one written.
var monthLists = map[string][2][12]string{
	"en": {
		{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	},
	"es": {
		{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
	},
	"th": {
		{"มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"},
		{"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."},
	},
	"km": {
		{"មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ"},
		{"មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ"},
	},
	"bn": {
		{"জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর", "নভেম্বর", "ডিসেম্বর"},
		{"জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন", "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর", "নভেম্বর", "ডিসেম্বর"},
	},
}

// MonthLanguages lists the languages a profile may write month names in.
func MonthLanguages() []string { return []string{"en", "th", "km", "bn", "es"} }

func formatDate(d connector.Date, o *DateOptions) string {
	y := d.Year + o.WriteEra.offset()
	b := make([]byte, 0, 16)
	pad := func(v, w int) {
		s := strconv.Itoa(v)
		for i := len(s); i < w; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	lang := o.MonthNames
	if lang == "" {
		lang = "en"
	}
	names := monthLists[lang]
	layout := o.Write
	for len(layout) > 0 {
		switch {
		case strings.HasPrefix(layout, "January"):
			b = append(b, names[0][d.Month-1]...)
			layout = layout[7:]
		case strings.HasPrefix(layout, "2006"):
			pad(y, 4)
			layout = layout[4:]
		case strings.HasPrefix(layout, "Jan"):
			b = append(b, names[1][d.Month-1]...)
			layout = layout[3:]
		case strings.HasPrefix(layout, "01"):
			pad(int(d.Month), 2)
			layout = layout[2:]
		case strings.HasPrefix(layout, "02"):
			pad(d.Day, 2)
			layout = layout[2:]
		case strings.HasPrefix(layout, "06"):
			pad(y%100, 2)
			layout = layout[2:]
		case layout[0] == '1':
			pad(int(d.Month), 1)
			layout = layout[1:]
		case layout[0] == '2':
			pad(d.Day, 1)
			layout = layout[1:]
		default:
			b = append(b, layout[0])
			layout = layout[1:]
		}
	}
	return string(b)
}
