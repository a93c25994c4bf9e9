package config

import (
	"strings"
	"testing"
)

// TestDateLayout: patterns translate to the Go layout they mean, Go
// layouts pass as given, and what cannot be translated exactly is
// refused with the reason.
func TestDateLayout(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dd/mm/yyyy", "02/01/2006"},
		{"DD/MM/YYYY", "02/01/2006"},
		{"d/m/yy", "2/1/06"},
		{"yyyy-mm-dd", "2006-01-02"},
		{"mm/dd/yyyy", "01/02/2006"},
		{"dd MMM yyyy", "02 Jan 2006"},
		{"d mmmm yyyy", "2 January 2006"},
		{"ddd, d mmm yyyy", "Mon, 2 Jan 2006"},
		{"yyyymmdd", "20060102"},
		{"d.m.yyyy", "2.1.2006"},
		{"d_m_yyyy", "2_1_2006"},
		{"d 'de' mmmm 'de' yyyy", "2 de January de 2006"},
		{"d mmm yyyy 'o''clock'", "2 Jan 2006 o'clock"},
		{"d mmm yyyy พ.ศ.", "2 Jan 2006 พ.ศ."},
		// A digit makes a Go layout, taken as written.
		{"02/01/2006", "02/01/2006"},
		{"2 January 2006", "2 January 2006"},
	} {
		got, err := DateLayout(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("DateLayout(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if !dateLayoutOK(got) {
			t.Errorf("DateLayout(%q) = %q, which does not read back a date", tc.in, got)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"dd/mm/yyy", "yyy has no meaning in a date pattern (yyyy or yy)"},
		{"dd/mm/yyyyy", "yyyyy has no meaning"},
		{"dddddd mm yyyy", "dddddd has no meaning in a date pattern (d, dd, ddd or dddd)"},
		{"dd/mm/yyyy hh:mm", "h is not a date pattern letter"},
		{"d de mmmm de yyyy", "e is not a date pattern letter"},
		{"d 'de mmmm yyyy", "a quote opens text that no quote closes"},
		{"d 'Mon' mmm yyyy", "its text would be read as part of the date"},
		{"m_d_yyyy", "its text would be read as part of the date"}, // _2 is Go's space-padded day
		{"'PM' d mmm yyyy", "its text would be read as part of the date"},
	} {
		got, err := DateLayout(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DateLayout(%q) = %q, %v; want an error holding %q", tc.in, got, err, tc.want)
		}
	}
}

// TestReferenceDatePatterns: reference lists every pattern letter run
// DateLayout knows, with its Go element.
func TestReferenceDatePatterns(t *testing.T) {
	ref := Reference()
	for run, layout := range patternLayout {
		if !strings.Contains(ref, "\n  "+run+" ") || !strings.Contains(ref, "(Go: "+layout+")") {
			t.Errorf("reference does not document %s (%s)", run, layout)
		}
	}
}
