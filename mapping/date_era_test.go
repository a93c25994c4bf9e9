package mapping

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// The Buddhist Era counts (issue 10 finding 4): Thai years run 543 ahead
// of the Gregorian, Cambodian, Lao and Myanmar years 544; era: buddhist
// keeps meaning Thai.
func TestDateEraOffsets(t *testing.T) {
	for _, c := range []struct {
		era  Era
		off  int
		cell string // 12 March 2008 in the era
	}{
		{EraGregorian, 0, "12/03/2008"},
		{EraBuddhist, 543, "12/03/2551"},
		{EraBuddhistThai, 543, "12/03/2551"},
		{EraBuddhistKhmer, 544, "12/03/2552"},
		{EraBuddhistLao, 544, "12/03/2552"},
		{EraBuddhistMyanmar, 544, "12/03/2552"},
	} {
		t.Run(string(c.era), func(t *testing.T) {
			if off, ok := c.era.Offset(); !ok || off != c.off {
				t.Errorf("Offset = %d, %v; want %d", off, ok, c.off)
			}
			tr := must(NewDate(DateOptions{Order: DayFirst, Era: c.era, Write: "02/01/2006"}))
			runParse(t, tr, []parseCase{
				{cell: c.cell, want: date(2008, 3, 12)},
				{cell: "2008-03-12", want: date(2008, 3, 12)}, // Gregorian years below 2400 in any column
			})
			if c.off == 0 {
				return
			}
			// Two-digit years are the last two digits of the era's year:
			// 67 is 2567, which is 2024 in Thailand and 2023 in Cambodia.
			runParse(t, tr, []parseCase{
				{cell: "3/4/67", want: date(2567-c.off, 4, 3)},
				{cell: strconv.Itoa(2567) + "-04-03", want: date(2567-c.off, 4, 3)},
				{cell: "3 เม.ย. 2567", want: date(2567-c.off, 4, 3)},
			})
		})
	}
	if _, ok := Era("khmer").Offset(); ok {
		t.Error(`Era("khmer").Offset: want unknown`)
	}
	if _, err := NewDate(DateOptions{Era: "khmer"}); err == nil ||
		!strings.Contains(err.Error(), "gregorian, buddhist, buddhist_thai, buddhist_khmer, buddhist_lao, buddhist_myanmar") {
		t.Errorf("unknown era: %v; want the eras listed", err)
	}
}

// An era word in the cell says which count its year is in, whatever the
// column's era: พ.ศ. is Thai (543), ព.ស. Khmer and ພ.ສ. Lao (544);
// ค.ศ., គ.ស. and ຄ.ສ. are the Common Era.
func TestDateEraWords(t *testing.T) {
	for _, era := range []Era{EraGregorian, EraBuddhist, EraBuddhistKhmer} {
		tr := must(NewDate(DateOptions{Order: DayFirst, Era: era}))
		runParse(t, tr, []parseCase{
			{cell: "3 เม.ย. 2567 พ.ศ.", want: date(2024, 4, 3)},
			{cell: "3 មេសា ២៥៦៨ ព.ស.", want: date(2024, 4, 3)},
			{cell: "ព.ស. ២៥៦៨ 3 មេសា", want: date(2024, 4, 3)},
			{cell: "3/4/2568 ພ.ສ.", want: date(2024, 4, 3)},
			{cell: "3 មេសា 2024 គ.ស.", want: date(2024, 4, 3)},
			{cell: "3/4/2024 ຄ.ສ.", want: date(2024, 4, 3)},
			{cell: "3 เม.ย. 2024 ค.ศ.", want: date(2024, 4, 3)},
		})
	}
}

// Format writes the year in the column's era: a Buddhist Era sheet gets
// Buddhist Era years back, never Gregorian ones.
func TestDateFormatEra(t *testing.T) {
	for _, c := range []struct {
		opts DateOptions
		want string // 13 March 2008
	}{
		{DateOptions{Order: DayFirst, Era: EraBuddhist, Write: "02/01/2006"}, "13/03/2551"},
		{DateOptions{Order: DayFirst, Era: EraBuddhistThai, Write: "02/01/2006"}, "13/03/2551"},
		{DateOptions{Order: DayFirst, Era: EraBuddhistKhmer, Write: "02/01/2006"}, "13/03/2552"},
		{DateOptions{Order: DayFirst, Era: EraBuddhistLao, Write: "2/1/2006"}, "13/3/2552"},
		{DateOptions{Era: EraBuddhistMyanmar, Write: "2006-01-02"}, "2552-03-13"},
		{DateOptions{Era: EraBuddhist, Write: "2 Jan 2006"}, "13 Mar 2551"},
		{DateOptions{Era: EraBuddhist}, "2551-03-13"}, // the default write form, in the era
		// A Buddhist Era column may still be written in Gregorian years
		// when the profile says so.
		{DateOptions{Order: DayFirst, Era: EraBuddhistKhmer, Write: "02/01/2006", WriteEra: EraGregorian}, "13/03/2008"},
	} {
		tr := must(NewDate(c.opts))
		s, err := tr.Format(date(2008, 3, 13))
		if err != nil || s != c.want {
			t.Errorf("%+v: Format = %q, %v; want %q", c.opts, s, err, c.want)
		}
	}

	// BE 2400 is the first year read as Buddhist Era: 1857 is the first
	// Thai year a Buddhist Era column holds, 1856 the first at 544.
	for _, c := range []struct {
		era    Era
		lo, hi int
	}{{EraBuddhist, 1857, 9456}, {EraBuddhistKhmer, 1856, 9455}} {
		tr := must(NewDate(DateOptions{Order: DayFirst, Era: c.era, Write: "02/01/2006"}))
		for _, y := range []int{c.lo, c.hi} {
			if s, err := tr.Format(date(y, 1, 1)); err != nil || !strings.HasSuffix(s, "/2400") && !strings.HasSuffix(s, "/9999") {
				t.Errorf("%s: Format(%d-01-01) = %q, %v", c.era, y, s, err)
			}
		}
		for _, y := range []int{c.lo - 1, c.hi + 1} {
			_, err := tr.Format(date(y, 12, 31))
			if err == nil || !strings.Contains(err.Error(), "expected a date from "+strconv.Itoa(c.lo)+" to "+strconv.Itoa(c.hi)) {
				t.Errorf("%s: Format(%d-12-31): %v; want the years it holds", c.era, y, err)
			}
		}
	}

	// A write era that does not read back under the column's era.
	for _, bad := range []DateOptions{
		{Era: EraGregorian, WriteEra: EraBuddhistKhmer},
		{Era: EraBuddhistKhmer, WriteEra: EraBuddhist},
		{Era: EraBuddhist, WriteEra: EraBuddhistMyanmar},
	} {
		if _, err := NewDate(bad); err == nil {
			t.Errorf("NewDate(%+v): want an error", bad)
		}
	}
	// buddhist_thai is buddhist by its explicit name: one behaviour, one
	// hash, so renaming it is not a rule change.
	if a, b := must(NewDate(DateOptions{Era: EraBuddhist})), must(NewDate(DateOptions{Era: EraBuddhistThai})); a.Hash() != b.Hash() {
		t.Error("buddhist and buddhist_thai hash differently")
	}
}

// Every date from 1900 to 2100 (every seventh day, every leap day and
// every turn of a leap year) written in every era and several layouts,
// month names in five languages among them, reads back as itself, with
// the year in the era, and writing what was read writes the same bytes: a
// sheet's cells keep their era and layout, and a second run has nothing
// to write. The permissive readings (Excel serials, bare years, two-digit
// years by pivot) are on in half the profiles; none of them may capture a
// written cell.
func TestDateEraRoundTrip(t *testing.T) {
	layouts := []struct {
		layout string
		order  Order
		months string
	}{
		{"02/01/2006", DayFirst, ""},
		{"2/1/2006", DayFirst, ""},
		{"01/02/2006", MonthFirst, ""},
		{"2006-01-02", OrderUnspecified, ""},
		{"02.01.2006", DayFirst, ""},
		{"20060102", OrderUnspecified, ""},
		{"2 Jan 2006", OrderUnspecified, ""},
		{"02-Jan-2006", OrderUnspecified, ""},
		{"January 2, 2006", OrderUnspecified, ""},
		{"2 Jan 2006", OrderUnspecified, "th"},
		{"2 January 2006", OrderUnspecified, "th"},
		{"2 January 2006", OrderUnspecified, "km"},
		{"2 January 2006", OrderUnspecified, "bn"},
		{"2 Jan 2006", OrderUnspecified, "es"},
	}
	step := 7
	if testing.Short() {
		step = 17
	}
	var dates []time.Time
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() <= 2100; d = d.AddDate(0, 0, step) {
		dates = append(dates, d)
	}
	for y := 1904; y <= 2096; y += 4 { // every leap day, and the turns of the years
		dates = append(dates, time.Date(y, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	for _, era := range Eras() {
		off := era.offset()
		for _, l := range layouts {
			for _, loose := range []bool{false, true} {
				o := DateOptions{Order: l.order, Era: era, Write: l.layout, MonthNames: l.months}
				if loose {
					o.ExcelSerial, o.BareYear, o.Pivot = true, true, 50
				}
				tr := must(NewDate(o))
				for _, d := range dates {
					v := connector.DateValue(connector.DateOf(d))
					s, err := tr.Format(v)
					if err != nil {
						t.Fatalf("%s %s %s loose=%v: Format(%s): %v", era, l.layout, l.months, loose, d.Format(time.DateOnly), err)
					}
					if !strings.Contains(s, strconv.Itoa(d.Year()+off)) {
						t.Fatalf("%s %s: Format(%s) = %q, want the year %d", era, l.layout, d.Format(time.DateOnly), s, d.Year()+off)
					}
					r, err := tr.Parse(s)
					if err != nil || !r.Value.Equal(v) || r.Flags != 0 {
						t.Fatalf("%s %s %s loose=%v: Parse(%q) = %s [%s], %v; want %s", era, l.layout, l.months, loose, s, describe(r.Value), r.Flags, err, d.Format(time.DateOnly))
					}
					if again, _ := tr.Format(r.Value); again != s {
						t.Fatalf("%s %s: Format(Parse(%q)) = %q", era, l.layout, s, again)
					}
				}
			}
		}
	}
}

// A datetime column in a Buddhist Era writes its year in the era too.
func TestDateTimeEra(t *testing.T) {
	for _, c := range []struct {
		era  Era
		want string
	}{
		{EraBuddhist, "13/03/2551 17:15"},
		{EraBuddhistKhmer, "13/03/2552 17:15"},
		{EraGregorian, "13/03/2008 17:15"},
	} {
		tr := must(NewDateTime(DateTimeOptions{DateOptions: DateOptions{Order: DayFirst, Era: c.era, Write: "02/01/2006 15:04"}, Zone: "Asia/Bangkok"}))
		v := connector.DateTime(time.Date(2008, 3, 13, 10, 15, 0, 0, time.UTC))
		s, err := tr.Format(v)
		if err != nil || s != c.want {
			t.Errorf("%s: Format = %q, %v; want %q", c.era, s, err, c.want)
			continue
		}
		if r, err := tr.Parse(s); err != nil || !r.Value.Equal(v) {
			t.Errorf("%s: Parse(%q) = %s, %v", c.era, s, describe(r.Value), err)
		}
	}
}

// The configuration's era reaches the transform: the 544 count reads and
// writes, and buddhist keeps reading and now writes the Thai count.
func TestCompileDateEra(t *testing.T) {
	for _, c := range []struct {
		era, cell, written string
	}{
		{"buddhist", "12/03/2551", "13/03/2551"},
		{"buddhist_thai", "12/03/2551", "13/03/2551"},
		{"buddhist_khmer", "12/03/2552", "13/03/2552"},
		{"buddhist_lao", "12/03/2552", "13/03/2552"},
		{"buddhist_myanmar", "12/03/2552", "13/03/2552"},
		{"gregorian", "12/03/2008", "13/03/2008"},
	} {
		cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Birthdate__c, local: born, date: { formats: [02/01/2006, 2006-01-02], era: `+c.era+`, excel_serial: true, day_first: true } }
      - { sf: vcms__Source_Modified_At__c, local: changed, date: { formats: ["02/01/2006 15:04"], era: `+c.era+`, day_first: true } }
`)
		m, err := Compile(cfg.Jobs["j"], seedObjects(t))
		if err != nil {
			t.Fatalf("%s: %v", c.era, err)
		}
		var bd, at Transform
		for _, r := range m.Parent.Rules {
			switch r.SF {
			case "vcms__Birthdate__c":
				bd = r.Transform
			case "vcms__Source_Modified_At__c":
				at = r.Transform
			}
		}
		if r, err := bd.Parse(c.cell); err != nil || !r.Value.Equal(date(2008, 3, 12)) {
			t.Errorf("%s: Parse(%q) = %s, %v", c.era, c.cell, describe(r.Value), err)
		}
		if s, err := bd.Format(date(2008, 3, 13)); err != nil || s != c.written {
			t.Errorf("%s: Format = %q, %v; want %q", c.era, s, err, c.written)
		}
		if s, err := at.Format(connector.DateTime(time.Date(2008, 3, 13, 10, 15, 0, 0, time.UTC))); err != nil || s != c.written+" 10:15" {
			t.Errorf("%s: datetime Format = %q, %v; want %q", c.era, s, err, c.written+" 10:15")
		}
	}
}

// A sheet that writes its months in Thai (3 เม.ย. 2567) gets Thai month
// names back, in its era; the names of every language are read whatever
// month_names says, in any letter case.
func TestDateMonthNames(t *testing.T) {
	for _, c := range []struct {
		opts DateOptions
		want string // 3 April 2024
	}{
		{DateOptions{Era: EraBuddhist, Write: "2 Jan 2006", MonthNames: "th"}, "3 เม.ย. 2567"},
		{DateOptions{Era: EraBuddhist, Write: "2 January 2006", MonthNames: "th"}, "3 เมษายน 2567"},
		{DateOptions{Era: EraBuddhistKhmer, Write: "2 January 2006", MonthNames: "km"}, "3 មេសា 2568"},
		{DateOptions{Write: "2 January 2006", MonthNames: "bn"}, "3 এপ্রিল 2024"},
		{DateOptions{Write: "2 January 2006", MonthNames: "es"}, "3 abril 2024"},
		{DateOptions{Write: "02-Jan-2006", MonthNames: "en"}, "03-Apr-2024"},
		{DateOptions{Write: "02-Jan-2006"}, "03-Apr-2024"},
	} {
		tr := must(NewDate(c.opts))
		s, err := tr.Format(date(2024, 4, 3))
		if err != nil || s != c.want {
			t.Errorf("%+v: Format = %q, %v; want %q", c.opts, s, err, c.want)
		}
	}
	tr := must(NewDate(DateOptions{Order: DayFirst, Era: EraBuddhist, Write: "2 Jan 2006", MonthNames: "th"}))
	runParse(t, tr, []parseCase{
		{cell: "3 april 2024", want: date(2024, 4, 3)},
		{cell: "3 APRIL 2024", want: date(2024, 4, 3)},
		{cell: "3 Apr 2567", want: date(2024, 4, 3)},
		{cell: "3 มี.ค. 2567", want: date(2024, 3, 3)},
	})
	if a, b := must(NewDate(DateOptions{Write: "2 Jan 2006"})), must(NewDate(DateOptions{Write: "2 Jan 2006", MonthNames: "en"})); a.Hash() != b.Hash() {
		t.Error("month_names en hashes differently from the default")
	}
	for _, bad := range []DateOptions{
		{Write: "02/01/2006", Order: DayFirst, MonthNames: "th"}, // no month name to write
		{Write: "2 Jan 2006", MonthNames: "thai"},
	} {
		if _, err := NewDate(bad); err == nil {
			t.Errorf("NewDate(%+v): want an error", bad)
		}
	}
}

// month_names reaches the transform from the configuration.
func TestCompileMonthNames(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Closure_Date__c, local: closed, date: { formats: [2 Jan 2006], era: buddhist, month_names: th } }
`)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Parent.Rules[0].Transform
	if s, err := tr.Format(date(2024, 4, 5)); err != nil || s != "5 เม.ย. 2567" {
		t.Errorf("Format = %q, %v; want 5 เม.ย. 2567", s, err)
	}
}

// A Buddhist Era column with no layout of four-digit years writes ISO
// 8601, which is Gregorian: a workbook's date cell takes 2024-04-03 as a
// date, where 2567-04-03 would become text. The written date reads back.
func TestBuddhistISOWritesGregorian(t *testing.T) {
	for _, formats := range [][]string{nil, {"2/1/06"}} {
		o := dateOptions(&config.Rule{Date: &config.DateRule{Formats: formats, Era: config.Era("buddhist"), DayFirst: true}})
		tr, err := NewDate(o)
		if err != nil {
			t.Fatal(err)
		}
		d := connector.DateValue(connector.DateOf(time.Date(2024, 4, 3, 0, 0, 0, 0, time.UTC)))
		cell, err := tr.Format(d)
		if err != nil || cell != "2024-04-03" {
			t.Errorf("formats %v: wrote %q, %v; want 2024-04-03", formats, cell, err)
		}
		back, err := tr.Parse(cell)
		if err != nil || !back.Value.Equal(d) {
			t.Errorf("formats %v: %q reads back as %v, %v", formats, cell, back.Value.Raw(), err)
		}
	}
	o := dateOptions(&config.Rule{Date: &config.DateRule{Formats: []string{"02/01/2006"}, Era: config.Era("buddhist")}})
	tr, _ := NewDate(o)
	if cell, _ := tr.Format(connector.DateValue(connector.DateOf(time.Date(2024, 4, 3, 0, 0, 0, 0, time.UTC)))); cell != "03/04/2567" {
		t.Errorf("a layout of the sheet's writes %q, want 03/04/2567", cell)
	}
}
