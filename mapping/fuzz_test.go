package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// The fuzz targets check three properties of every transform: Parse never
// panics; an error is a *connector.ValueError that does not repeat the
// cell; and a value Parse returns is written by Format (or Merge) so that
// it reads back the same.
//
//	go test -run '^$' -fuzz FuzzParseDate -fuzztime 20s ./mapping/

var seedCells = []string{
	"", " ", "12/03/2551", "2008-03-12", "39519", "45385", "3/4/67", "03/04/2024", "03-Apr-2024",
	"០៣/០៤/២០២៤", "២០០៨", "০৩/০৪/২০২৪", "03.04.2024", "0000-00-00", "3 เม.ย. 2567", "2024-04-03 10:15:00",
	"2024-04-03T10:15:00Z", "45385.5", "3,000", "3000.-", "฿3,000", "৳৩,০০০", "3000/-", "14 ปี", "ประมาณ 14",
	"13-14", "approx 14", "-12.5", "1,00,000", "ด.ญ. สมหญิง ตัวอย่าง", "สมหญิง", "សុខ តេស្ត", "SOK Test",
	"মোঃ রহিম উদাহরণ", "উদাহরণ", "María José Ejemplo Prueba", "María Ejemplo Prueba", "de la", "มหิลา ",
	"F", "หญิง", "trabajo forzoso,explotacion sexual", "ใช่", "รอ", "080-000-0001", "+66 80 000 0001",
	"5555-0100", "01700-000001", "\u200b\ufeff", "\xff\xfe", "1e3", "--", "13 – 14", "นายสมชาย ตัวอย่าง",
}

func addSeeds(f *testing.F) {
	for _, s := range seedCells {
		f.Add(s)
	}
}

// staticErrors returns the error messages a transform gives for cells that
// cannot leak anything, so that a message equal to one of them is known to
// be static text even when the fuzzed cell happens to be a substring of it.
func staticErrors(tr Transform) map[string]bool {
	out := map[string]bool{}
	for _, s := range []string{"\x01\x02qzx", "03/04/2024", "99/99/99/99"} {
		if _, err := tr.Parse(s); err != nil {
			out[err.Error()] = true
		}
	}
	return out
}

func checkProperties(t *testing.T, tr Transform, static map[string]bool, cell string) {
	t.Helper()
	r, err := tr.Parse(cell)
	if err != nil {
		var ve *connector.ValueError
		if !errors.As(err, &ve) || ve.Code != connector.CodeInvalidValue {
			t.Fatalf("%s: error %v is not a ValueError", tr.Kind(), err)
		}
		msg := err.Error()
		if c := Clean(cell); !static[msg] && len(c) >= 3 && strings.Contains(msg, c) {
			t.Fatalf("%s: error %q repeats the cell", tr.Kind(), msg)
		}
		return
	}
	var out string
	if m, ok := tr.(Merger); ok {
		out, err = m.Merge(cell, r.Value)
	} else {
		out, err = tr.Format(r.Value)
	}
	if err != nil {
		// A value Parse returns must have a write form, except a name part
		// the source's order cannot hold alone (checked by Merge) and a
		// year outside BE 2400-9999 in a Buddhist Era write form.
		var ve *connector.ValueError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: Format error %v is not a ValueError", tr.Kind(), err)
		}
		if _, ok := tr.(Merger); !ok && !mayRefuse(tr, r.Value) {
			t.Fatalf("%s: Format of a parsed value: %v", tr.Kind(), err)
		}
		return
	}
	back, err := tr.Parse(out)
	if err != nil || !back.Value.Equal(r.Value) {
		t.Fatalf("%s: wrote %q, reads back as %s, %v; want %s", tr.Kind(), out, describe(back.Value), err, describe(r.Value))
	}
}

func mayRefuse(tr Transform, v connector.Value) bool {
	d, ok := v.Date()
	dt, _ := tr.(*dateTransform)
	if !ok || dt == nil {
		return false
	}
	lo, hi := dt.opts.WriteEra.writableYears()
	return d.Year < lo || d.Year > hi
}

func fuzzTransforms(f *testing.F, trs []Transform, extra func(t *testing.T, cell string)) {
	addSeeds(f)
	statics := make([]map[string]bool, len(trs))
	for i, tr := range trs {
		statics[i] = staticErrors(tr)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		for i, tr := range trs {
			checkProperties(t, tr, statics[i], cell)
		}
		if extra != nil {
			extra(t, cell)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	fuzzTransforms(f, []Transform{
		must(NewDate(DateOptions{Order: DayFirst, Era: EraBuddhist, ExcelSerial: true, Write: "02/01/2006", WriteEra: EraBuddhist})),
		must(NewDate(DateOptions{Order: DayFirst, BareYear: true, ExcelSerial: true, Pivot: 50, Write: "2/1/2006"})),
		must(NewDate(DateOptions{Era: EraBuddhistKhmer, BareYear: true, Pivot: 50, Write: "2 Jan 2006"})),
		must(NewDate(DateOptions{Write: "02-Jan-2006"})),
		must(NewDate(DateOptions{Order: MonthFirst, Write: "January 2, 2006"})),
		must(NewDateTime(DateTimeOptions{DateOptions: DateOptions{Order: DayFirst, ExcelSerial: true}, Zone: "America/Guatemala"})),
		must(NewDateTime(DateTimeOptions{DateOptions: DateOptions{Order: DayFirst, Write: "02/01/2006 3:04 PM"}, Zone: "Asia/Bangkok"})),
	}, nil)
}

func FuzzParseNumber(f *testing.F) {
	fuzzTransforms(f, []Transform{
		must(NewNumber(NumberOptions{Scale: new(int32(2)), WriteGrouping: true, WriteSuffix: ".-"})),
		must(New("age")),
		must(NewNumber(NumberOptions{DecimalComma: true, WriteGrouping: true})),
		must(NewNumber(NumberOptions{})),
	}, nil)
}

func FuzzSplitName(f *testing.F) {
	var trs []Transform
	var splitters []*NameSplitter
	for _, n := range Names() {
		if strings.HasSuffix(n, ".first") || strings.HasSuffix(n, ".last") {
			tr := must(New(n))
			trs = append(trs, tr)
			splitters = append(splitters, tr.(*NameTransform).Splitter())
		}
	}
	fuzzTransforms(f, trs, func(t *testing.T, cell string) {
		for _, s := range splitters {
			n := s.Split(cell)
			if n.First != "" && n.Last == "" && s.opts.Single == PartLast {
				t.Fatalf("first name without a last name")
			}
			for _, p := range []string{n.First, n.Last} {
				if p != strings.TrimFunc(p, isSpace) {
					t.Fatalf("part with surrounding space")
				}
			}
		}
	})
}

func FuzzValueMap(f *testing.F) {
	fuzzTransforms(f, []Transform{
		genderMap(),
		must(NewValueMap(ValueMapOptions{Multi: true, StripAccents: true, Pairs: []Pair{
			{"trabajo forzoso", "ForcedLabour"}, {"explotación sexual", "SexualExploitation"},
			{"trabajo infantil", "ChildLabour"}, {"mendicidad forzada", "ForcedBegging"},
		}})),
		must(NewValueMap(ValueMapOptions{Blank: "Not_Obtained", Null: []string{"-"}, Pairs: []Pair{
			{"ยินยอม", "Granted"}, {"ไม่ยินยอม", "Refused"}, {"ถอนความยินยอม", "Withdrawn"},
		}})),
		must(New("yes_no")),
		must(NewYesNo(YesNoOptions{WriteYes: "ใช่", WriteNo: "ไม่"})),
		must(NewSplit(SplitOptions{})),
		must(New("text")),
		must(New("text.as_written")),
	}, nil)
}

func FuzzPhone(f *testing.F) {
	fuzzTransforms(f, []Transform{
		must(NewPhone(PhoneOptions{Country: "66"})),
		must(NewPhone(PhoneOptions{Country: "880", Write: WriteNational})),
		must(NewPhone(PhoneOptions{Country: "502", Write: WriteNational})),
	}, nil)
}

func FuzzClean(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent: %q -> %q -> %q", s, c, Clean(c))
		}
		if CleanText(CleanText(s)) != CleanText(s) {
			t.Fatalf("CleanText is not idempotent")
		}
	})
}
