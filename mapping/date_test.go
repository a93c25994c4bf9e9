package mapping

import (
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

func timeMonth(m int) time.Month { return time.Month(m) }

// Expected values are worked by hand from doc/architecture.md §11.
func TestDateThaiBuddhist(t *testing.T) {
	tr := must(NewDate(DateOptions{Order: DayFirst, Era: EraBuddhist, ExcelSerial: true}))
	runParse(t, tr, []parseCase{
		{cell: "12/03/2551", want: date(2008, 3, 12)}, // BE 2551 - 543
		{cell: "2008-03-12", want: date(2008, 3, 12)},
		{cell: "39519", want: date(2008, 3, 12)}, // Excel serial
		{cell: "45385", want: date(2024, 4, 3)},
		{cell: "03/04/2024", want: date(2024, 4, 3)},
		{cell: "3/4/67", want: date(2024, 4, 3)}, // two-digit BE: 2567
		{cell: "๓/๔/๖๗", want: date(2024, 4, 3)}, // Thai digits
		{cell: "2024-04-03", want: date(2024, 4, 3)},
		{cell: "3 เม.ย. 2567", want: date(2024, 4, 3)},
		{cell: "3 เมษายน 67", want: date(2024, 4, 3)},
		{cell: "29/02/2567", want: date(2024, 2, 29)}, // BE 2567 is CE 2024, a leap year
		{cell: " 12/03/2551\u00a0", want: date(2008, 3, 12)},
		{cell: "2008-03-12 00:00:00", want: date(2008, 3, 12)}, // a date column exported with a time
		{cell: "2008-03-12T00:00:00.000Z", want: date(2008, 3, 12)},
		{cell: "39519.0", want: date(2008, 3, 12)},
		{cell: "39519.5", err: true}, // noon: a datetime, not a date
		{cell: "2008-03-12 10:00:00", err: true},
		{cell: "12.03.2551", want: date(2008, 3, 12)},
		{cell: "", want: connector.Null()},
		{cell: "0000-00-00", want: connector.Null()},
		{cell: "เมษายน 2567", err: true}, // a month label row, not a date
		{cell: "31/02/2567", err: true},
		{cell: "12/13/2024", err: true}, // day first: month 13
		{cell: "tomorrow", err: true},
		{cell: "2567", err: true}, // bare years are off; not a serial (1907) either
	})
}

func TestDateKhmer(t *testing.T) {
	tr := must(NewDate(DateOptions{Order: DayFirst, BareYear: true, ExcelSerial: true, Pivot: 50}))
	runParse(t, tr, []parseCase{
		{cell: "២០០៨", want: date(2008, 1, 1), flags: FlagEstimated},
		{cell: "០៣/០៤/២០០៨", want: date(2008, 4, 3)},
		{cell: "3/4/24", want: date(2024, 4, 3)},
		{cell: "03-Apr-2024", want: date(2024, 4, 3)},
		{cell: "3 មេសា 2024", want: date(2024, 4, 3)},
		{cell: "០៣/០៤/២០២៤", want: date(2024, 4, 3)},
		{cell: "3/4/99", want: date(1999, 4, 3)},
		{cell: "16", err: true}, // an age, not a date
	})
}

func TestDateBengali(t *testing.T) {
	tr := must(NewDate(DateOptions{Order: DayFirst}))
	runParse(t, tr, []parseCase{
		{cell: "০৩/০৪/২০২৪", want: date(2024, 4, 3)},
		{cell: "03.04.2024", want: date(2024, 4, 3)},
		{cell: "৩ এপ্রিল ২০২৪", want: date(2024, 4, 3)},
		{cell: "39519", err: true}, // Excel serials are off
	})
}

func TestDateOrder(t *testing.T) {
	none := must(NewDate(DateOptions{}))
	runParse(t, none, []parseCase{
		{cell: "03/04/2024", err: true}, // ambiguous without a profile
		{cell: "13/04/2024", want: date(2024, 4, 13)},
		{cell: "04/13/2024", want: date(2024, 4, 13)},
		{cell: "04/04/2024", want: date(2024, 4, 4)},
		{cell: "Apr 3, 2024", want: date(2024, 4, 3)},
		{cell: "3 abril 2024", want: date(2024, 4, 3)},
	})
	_, err := none.Parse("03/04/2024")
	if err == nil || err.Error() != "INVALID_VALUE: "+errAmbiguous {
		t.Errorf("ambiguous date: %v", err)
	}
	us := must(NewDate(DateOptions{Order: MonthFirst, Write: "01/02/2006"}))
	runParse(t, us, []parseCase{{cell: "03/04/2024", want: date(2024, 3, 4)}})
	if s, _ := us.Format(date(2024, 3, 4)); s != "03/04/2024" {
		t.Errorf("month-first write form: %q", s)
	}
}

func TestDateWriteForm(t *testing.T) {
	for _, c := range []struct {
		opts DateOptions
		want string
	}{
		{DateOptions{Order: DayFirst}, "2024-04-03"},
		{DateOptions{Order: DayFirst, Write: "02/01/2006"}, "03/04/2024"},
		{DateOptions{Order: DayFirst, Era: EraBuddhist, Write: "02/01/2006", WriteEra: EraBuddhist}, "03/04/2567"},
		{DateOptions{Order: DayFirst, Write: "02-Jan-2006"}, "03-Apr-2024"},
		{DateOptions{Order: DayFirst, Write: "2/1/2006"}, "3/4/2024"},
	} {
		tr := must(NewDate(c.opts))
		if s, err := tr.Format(date(2024, 4, 3)); err != nil || s != c.want {
			t.Errorf("%+v: Format = %q, %v; want %q", c.opts, s, err, c.want)
		}
	}
	// 29 Feb 2024 written in BE is 29/02/2567 (not normalised to 1 March).
	be := must(NewDate(DateOptions{Order: DayFirst, Era: EraBuddhist, Write: "02/01/2006", WriteEra: EraBuddhist}))
	if s, _ := be.Format(date(2024, 2, 29)); s != "29/02/2567" {
		t.Errorf("BE leap day: %q", s)
	}
	// A BE write form cannot hold years before BE 2400.
	if _, err := be.Format(date(1800, 1, 1)); err == nil {
		t.Error("1800 written in BE: want an error")
	}
	for _, bad := range []DateOptions{
		{Order: MonthFirst, Write: "02/01/2006"}, // day-first write in a month-first source reads back wrong
		{Write: "2006-01"},
		{Order: DayFirst, Write: "02/01/06"}, // a two-digit year cannot hold every date
		{Order: "sideways"},
		{Era: EraGregorian, WriteEra: EraBuddhist},
	} {
		if _, err := NewDate(bad); err == nil {
			t.Errorf("NewDate(%+v): want an error", bad)
		}
	}
}

func TestDateTime(t *testing.T) {
	tr := must(NewDateTime(DateTimeOptions{DateOptions: DateOptions{Order: DayFirst, ExcelSerial: true}, Zone: "America/Guatemala"}))
	utc := func(s string) connector.Value {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return connector.DateTime(tm)
	}
	runParse(t, tr, []parseCase{
		// Guatemala is UTC-6 all year.
		{cell: "2024-04-03 10:15:00", want: utc("2024-04-03T16:15:00Z")},
		{cell: "2024-04-03T10:15:00Z", want: utc("2024-04-03T10:15:00Z")},
		{cell: "2024-04-03T10:15:00.123+07:00", want: utc("2024-04-03T03:15:00Z")},
		{cell: "03/04/2024 3:05 PM", want: utc("2024-04-03T21:05:00Z")},
		{cell: "03/04/2024 12:00 am", want: utc("2024-04-03T06:00:00Z")},
		{cell: "2024-04-03", want: utc("2024-04-03T06:00:00Z")},
		{cell: "45385.5", want: utc("2024-04-03T18:00:00Z")}, // noon local
		{cell: "0000-00-00 00:00:00", want: connector.Null()},
		{cell: "2024-04-03 25:00", err: true},
		{cell: "2024-04-03 10:15 MST", err: true},
		{cell: "10:15", err: true},
	})
	if s, _ := tr.Format(utc("2024-04-03T16:15:00Z")); s != "2024-04-03 10:15:00" {
		t.Errorf("Format = %q", s)
	}
	if _, err := NewDateTime(DateTimeOptions{Zone: "Mars/Olympus"}); err == nil {
		t.Error("unknown zone: want an error")
	}
	if _, err := NewDateTime(DateTimeOptions{DateOptions: DateOptions{Write: "2006-01-02 15:04 MST"}}); err == nil {
		t.Error("write form with a zone abbreviation: want an error")
	}
}
