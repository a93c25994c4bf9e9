package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// NewDateTime returns the "datetime" transform. Write is a Go time layout
// (default 2006-01-02 15:04:05), written in Zone with its year (2006) in
// WriteEra; it must read back under the profile, so zone abbreviations
// (MST) are refused.
func NewDateTime(o DateTimeOptions) (Transform, error) {
	if err := o.normalize("2006-01-02 15:04:05"); err != nil {
		return nil, err
	}
	if o.Zone == "" {
		o.Zone = "UTC"
	}
	loc, err := time.LoadLocation(o.Zone)
	if err != nil {
		return nil, fmt.Errorf("datetime: unknown zone %q", o.Zone)
	}
	t := &dateTimeTransform{opts: o, loc: loc, hash: hashOptions("datetime", o), expect: expectDate(&o.DateOptions, true)}
	sample := connector.DateTime(time.Date(2024, 4, 3, 10, 15, 0, 0, time.UTC))
	if _, err := t.Format(sample); err != nil {
		return nil, fmt.Errorf("datetime: write form %q does not read back under this profile", o.Write)
	}
	return t, nil
}

type dateTimeTransform struct {
	opts   DateTimeOptions
	loc    *time.Location
	hash   string
	expect string
}

func (t *dateTimeTransform) Kind() string { return "datetime" }
func (t *dateTimeTransform) Lossy() bool  { return false }
func (t *dateTimeTransform) Hash() string { return t.hash }

func (t *dateTimeTransform) Parse(cell string) (Result, error) {
	s := Clean(cell)
	if s == "" || isZeroDate(s) {
		return Result{}, nil
	}
	tm, st := t.parse(s)
	switch st {
	case dateOK:
		return Result{Value: connector.DateTime(tm)}, nil
	case dateAmbiguous:
		return Result{}, invalid(errAmbiguous)
	}
	return Result{}, invalid(t.expect)
}

func (t *dateTimeTransform) parse(s string) (time.Time, dateStatus) {
	if t.opts.ExcelSerial {
		if tm, ok := t.serial(s); ok {
			return tm, dateOK
		}
	}
	datePart, timePart := s, ""
	if c := strings.IndexByte(s, ':'); c >= 0 {
		start := c
		for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
			start--
		}
		if start < 2 || (s[start-1] != ' ' && s[start-1] != 'T') {
			return time.Time{}, dateInvalid
		}
		datePart, timePart = strings.TrimRight(s[:start-1], " ,"), s[start:]
	}
	d, flags, st := parseDate(datePart, &t.opts.DateOptions, false)
	if st != dateOK || flags != 0 {
		if st == dateOK {
			st = dateInvalid
		}
		return time.Time{}, st
	}
	h, mi, sec := 0, 0, 0
	loc := t.loc
	if timePart != "" {
		var ok bool
		if h, mi, sec, loc, ok = parseClock(timePart, t.loc); !ok {
			return time.Time{}, dateInvalid
		}
	}
	tm := time.Date(d.Year, d.Month, d.Day, h, mi, sec, 0, loc)
	if tm.Hour() != h || tm.Minute() != mi {
		return time.Time{}, dateInvalid // a local time skipped by a DST change
	}
	return tm.UTC(), dateOK
}

// serial reads an Excel serial with an optional fraction of a day.
func (t *dateTimeTransform) serial(s string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) < 5 || len(whole) > 7 || whole[0] == '0' {
		return time.Time{}, false
	}
	days := 0
	for i := 0; i < len(whole); i++ {
		if whole[i] < '0' || whole[i] > '9' {
			return time.Time{}, false
		}
		days = days*10 + int(whole[i]-'0')
	}
	if days < minSerial || days > maxSerial {
		return time.Time{}, false
	}
	f := 0.0
	scale := 0.1
	for i := 0; i < len(frac) && i < 12; i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return time.Time{}, false
		}
		f += float64(frac[i]-'0') * scale
		scale /= 10
	}
	secs := int(f*86400 + 0.5)
	d := excelEpoch.Time().AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, secs, 0, t.loc).UTC(), true
}

// parseClock reads H:MM[:SS[.fff]] [am|pm] [Z|±HH[:MM]].
func parseClock(s string, loc *time.Location) (h, m, sec int, _ *time.Location, ok bool) {
	num := func(min, max int) (int, bool) {
		i, v := 0, 0
		for i < len(s) && i < 2 && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i < min || i > max {
			return 0, false
		}
		s = s[i:]
		return v, true
	}
	fail := func() (int, int, int, *time.Location, bool) { return 0, 0, 0, nil, false }
	if h, ok = num(1, 2); !ok || len(s) == 0 || s[0] != ':' {
		return fail()
	}
	s = s[1:]
	if m, ok = num(2, 2); !ok {
		return fail()
	}
	if len(s) > 0 && s[0] == ':' {
		s = s[1:]
		if sec, ok = num(2, 2); !ok {
			return fail()
		}
		if len(s) > 0 && s[0] == '.' {
			s = s[1:]
			i := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i == 0 {
				return fail()
			}
			s = s[i:] // fractions of a second are dropped, as Salesforce does
		}
	}
	s = strings.TrimLeft(s, " ")
	switch ls := strings.ToLower(s); {
	case strings.HasPrefix(ls, "am"), strings.HasPrefix(ls, "a.m."), strings.HasPrefix(ls, "pm"), strings.HasPrefix(ls, "p.m."):
		if h < 1 || h > 12 {
			return fail()
		}
		pm := ls[0] == 'p'
		if h == 12 {
			h = 0
		}
		if pm {
			h += 12
		}
		if strings.HasPrefix(ls[1:], ".m.") {
			s = s[4:]
		} else {
			s = s[2:]
		}
		s = strings.TrimLeft(s, " ")
	}
	switch {
	case s == "":
	case s == "Z" || s == "z":
		loc = time.UTC
	case s[0] == '+' || s[0] == '-':
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
		var oh, om int
		if oh, ok = num(2, 2); !ok {
			return fail()
		}
		if len(s) > 0 && s[0] == ':' {
			s = s[1:]
		}
		if len(s) > 0 {
			if om, ok = num(2, 2); !ok || s != "" {
				return fail()
			}
		}
		if oh > 14 || om > 59 {
			return fail()
		}
		loc = time.FixedZone("", sign*(oh*3600+om*60))
	default:
		return fail()
	}
	if h > 23 || m > 59 || sec > 59 {
		return fail()
	}
	return h, m, sec, loc, true
}

func (t *dateTimeTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindDateTime:
		tm, _ := v.DateTime()
		tm = tm.Truncate(time.Second)
		s := formatTimeEra(tm.In(t.loc), t.opts.Write, t.opts.WriteEra.offset())
		if got, st := t.parse(s); st != dateOK || !got.Equal(tm) {
			return "", invalid("expected an instant the write form can hold (" + t.opts.Write + " in " + t.opts.Zone + ")")
		}
		return s, nil
	}
	return "", wrongKind(v, "datetime")
}

// formatTimeEra formats tm in layout with each four-digit year (2006)
// written off years ahead, as a Buddhist Era year; Format's read-back
// check refuses what this cannot write.
func formatTimeEra(tm time.Time, layout string, off int) string {
	if off == 0 {
		return tm.Format(layout)
	}
	year := strconv.Itoa(tm.Year() + off)
	var b strings.Builder
	for i, part := range strings.Split(layout, "2006") {
		if i > 0 {
			b.WriteString(year)
		}
		b.WriteString(tm.Format(part))
	}
	return b.String()
}
