package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A date rule's formats and write_form are written either as patterns,
// the letters spreadsheet users know (dd/mm/yyyy, d/m/yy, dd MMM yyyy), or
// as Go layouts of the reference date (02/01/2006). The rule between them
// is plain: a format holding a digit is a Go layout, one without is a
// pattern (no Go date layout is written without digits: its year is 2006
// or 06). Patterns are translated to Go layouts when the configuration
// loads, so the rest of casebridge (mapping's date transform, its hashes)
// sees only Go layouts, and dd/mm/yyyy and 02/01/2006 are the same rule.

// DatePatternTokens documents the pattern letters, for reference.
var DatePatternTokens = []struct{ Token, Means, Layout string }{
	{"yyyy", "four-digit year (2008)", "2006"},
	{"yy", "two-digit year (08; pivot decides the century)", "06"},
	{"mm", "month, two digits (03)", "01"},
	{"m", "month, one or two digits (3)", "1"},
	{"mmm", "month name, short (Mar; month_names for the language written)", "Jan"},
	{"mmmm", "month name, long (March)", "January"},
	{"dd", "day of the month, two digits (05)", "02"},
	{"d", "day of the month, one or two digits (5)", "2"},
	{"ddd", "weekday name, short (Wed; read and ignored)", "Mon"},
	{"dddd", "weekday name, long (Wednesday)", "Monday"},
	{"'text'", "text as written ('' is a quote)", ""},
}

// DatePatternNotes are the rules reference prints under the tokens.
const DatePatternNotes = `Letters are case-insensitive: MM, mm and M all mean the month (a date has no
minutes), DD the day, YYYY the year. Any other letter is refused. Spaces,
punctuation and letters outside A-Z (พ.ศ.) are kept as written. A format
holding a digit is a Go layout of the reference date Mon Jan 2 2006
(02/01/2006, 2 January 2006).`

// DateLayout returns the Go layout of a date format: a Go layout as
// given, a pattern translated. It refuses a pattern letter it does not
// know, a run of letters of no meaning (yyy), and a translation that
// would not read back the same (a literal that Go takes for a layout
// element): the translation is exact or refused, never a guess.
func DateLayout(format string) (string, error) {
	if strings.ContainsAny(format, "0123456789") {
		return format, nil
	}
	var layout strings.Builder
	var segs []patternSeg
	for i := 0; i < len(format); {
		c := format[i]
		lower := c | 0x20
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				k := strings.IndexByte(format[j:], '\'')
				if k < 0 {
					return "", errors.New("a quote opens text that no quote closes")
				}
				lit.WriteString(format[j : j+k])
				j += k + 1
				if j < len(format) && format[j] == '\'' {
					lit.WriteByte('\'')
					j++
					continue
				}
				break
			}
			layout.WriteString(lit.String())
			segs = append(segs, patternSeg{text: lit.String()})
			i = j
		case lower == 'y' || lower == 'm' || lower == 'd':
			j := i
			for j < len(format) && format[j]|0x20 == lower {
				j++
			}
			run := strings.Repeat(string(rune(lower)), j-i)
			tok, ok := patternLayout[run]
			if !ok {
				return "", fmt.Errorf("%s has no meaning in a date pattern (%s)", format[i:j], patternHint(lower))
			}
			layout.WriteString(tok)
			segs = append(segs, patternSeg{text: tok, elem: true})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return "", fmt.Errorf("%c is not a date pattern letter (d, m and y are; quote other text: 'de')", c)
		default:
			_, n := utf8.DecodeRuneInString(format[i:])
			layout.WriteString(format[i : i+n])
			segs = append(segs, patternSeg{text: format[i : i+n]})
			i += n
		}
	}
	// The layout must format as the pattern says, element by element:
	// text Go would take for an element of its own ("_2", "PM") is
	// refused rather than translated into something else.
	l := layout.String()
	for _, ref := range []time.Time{time.Date(2008, 3, 25, 0, 0, 0, 0, time.UTC), time.Date(2019, 12, 7, 0, 0, 0, 0, time.UTC)} {
		if ref.Format(l) != renderPattern(segs, ref) {
			return "", errors.New("its text would be read as part of the date; quote it ('text') or write a Go layout (such as 02/01/2006)")
		}
	}
	return l, nil
}

// patternLayout maps a run of one pattern letter to its Go element.
var patternLayout = map[string]string{
	"yyyy": "2006", "yy": "06",
	"m": "1", "mm": "01", "mmm": "Jan", "mmmm": "January",
	"d": "2", "dd": "02", "ddd": "Mon", "dddd": "Monday",
}

func patternHint(letter byte) string {
	switch letter {
	case 'y':
		return "yyyy or yy"
	case 'm':
		return "m, mm, mmm or mmmm"
	}
	return "d, dd, ddd or dddd"
}

// patternSeg is a piece of a translated pattern: a Go element, or text
// to be written as it is.
type patternSeg struct {
	text string
	elem bool
}

// renderPattern formats t by the pieces of a translated pattern, element
// by element and without the time package, to check that the time
// package reads the translated layout the same way.
func renderPattern(segs []patternSeg, t time.Time) string {
	var b strings.Builder
	for _, s := range segs {
		if !s.elem {
			b.WriteString(s.text)
			continue
		}
		switch s.text {
		case "2006":
			fmt.Fprintf(&b, "%04d", t.Year())
		case "06":
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case "01":
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case "1":
			fmt.Fprint(&b, int(t.Month()))
		case "Jan":
			b.WriteString(t.Month().String()[:3])
		case "January":
			b.WriteString(t.Month().String())
		case "02":
			fmt.Fprintf(&b, "%02d", t.Day())
		case "2":
			fmt.Fprint(&b, t.Day())
		case "Mon":
			b.WriteString(t.Weekday().String()[:3])
		case "Monday":
			b.WriteString(t.Weekday().String())
		}
	}
	return b.String()
}
