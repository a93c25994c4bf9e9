package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/connector"
)

func TestNumberCurrency(t *testing.T) {
	tr := must(NewNumber(NumberOptions{Scale: new(int32(2))}))
	runParse(t, tr, []parseCase{
		{cell: "3,000", want: num("3000")},
		{cell: "3000.-", want: num("3000")},
		{cell: "฿3,000", want: num("3000")},
		{cell: "3,000 บาท", want: num("3000")},
		{cell: "৳৩,০০০", want: num("3000")}, // Bengali digits and taka sign
		{cell: "3000/-", want: num("3000")},
		{cell: "3000,-", want: num("3000")},
		{cell: "๓,๐๐๐", want: num("3000")},
		{cell: "1,00,000", want: num("100000")}, // lakh grouping
		{cell: "3 000", want: num("3000")},
		{cell: "3\u00a0000", want: num("3000")},
		{cell: "1,234.505", want: num("1234.51"), flags: FlagLossy}, // rounded half away from zero
		{cell: "-12.5", want: num("-12.5")},
		{cell: "0.25", want: num("0.25")},
		{cell: "-", want: connector.Null()},
		{cell: "", want: connector.Null()},
		{cell: "3,000.00", want: num("3000")},
		{cell: "three thousand", err: true},
		{cell: "1e3", err: true},
		{cell: "12-14", err: true}, // ranges are off
		{cell: "3,", err: true},
		{cell: "1.2.3", err: true},
	})
	if s, _ := tr.Format(num("3000")); s != "3000.00" {
		t.Errorf("Format = %q", s)
	}
}

func TestNumberAge(t *testing.T) {
	tr := must(New("age"))
	runParse(t, tr, []parseCase{
		{cell: "15", want: num("15")},
		{cell: "14 ปี", want: num("14")}, // "years": a unit, not an estimate
		{cell: "ประมาณ 14", want: num("14"), flags: FlagEstimated},
		{cell: "approx 14", want: num("14"), flags: FlagEstimated},
		{cell: "Approx. 14 years", want: num("14"), flags: FlagEstimated},
		{cell: "১৩", want: num("13")},
		{cell: "13-14", want: num("13"), flags: FlagEstimated | FlagLossy},
		{cell: "13 – 14", want: num("13"), flags: FlagEstimated | FlagLossy},
		{cell: "14-13", err: true},
		{cell: "-3", want: num("-3")},
		{cell: "unos 14 años", want: num("14"), flags: FlagEstimated},
	})
	if !tr.Lossy() {
		t.Error("age reads ranges: want Lossy")
	}
}

func TestNumberDecimalComma(t *testing.T) {
	tr := must(NewNumber(NumberOptions{DecimalComma: true, WriteGrouping: true, Currency: []string{"Q"}}))
	runParse(t, tr, []parseCase{
		{cell: "Q1.234,50", want: num("1234.5")},
		{cell: "1234", want: num("1234")},
	})
	if s, _ := tr.Format(num("1234567.5")); s != "1.234.567,5" {
		t.Errorf("Format = %q", s)
	}
	suffix := must(NewNumber(NumberOptions{WriteSuffix: ".-", WriteGrouping: true}))
	if s, _ := suffix.Format(num("3000")); s != "3,000.-" {
		t.Errorf("Format with suffix = %q", s)
	}
	if _, err := NewNumber(NumberOptions{WriteSuffix: "abc"}); err == nil {
		t.Error("a suffix that does not read back: want an error")
	}
}
