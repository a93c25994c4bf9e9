package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/connector"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\u00a0 มหิลา\u200b ", "มหิลา"},
		{"\ufeffTH-CL-0007", "TH-CL-0007"},
		{"১৩", "13"},
		{"២០០៨", "2008"},
		{"๑๒/๐๓/๒๕๕๑", "12/03/2551"},
		{"cafe\u0301", "café"}, // NFC
		{"สม\u200bหญิง", "สมหญิง"},
		{"র\u200d্য", "র\u200d্য"}, // ZWJ kept inside
	} {
		if got := Clean(c.in); got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := CleanText(" ๑๒ "); got != "๑๒" {
		t.Errorf("CleanText folds digits: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Clean("already clean") }); n != 0 {
		t.Errorf("Clean of clean ASCII allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Clean("สมหญิง ตัวอย่าง") }); n != 0 {
		t.Errorf("Clean of clean Thai allocates %v times", n)
	}
}

func genderMap() Transform {
	return must(NewValueMap(ValueMapOptions{Pairs: []Pair{
		{"หญิง", "Feminine"}, {"ญ", "Feminine"}, {"F", "Feminine"}, {"ស្រី", "Feminine"},
		{"মেয়ে", "Feminine"}, {"মহিলা", "Feminine"},
		{"ชาย", "Masculine"}, {"ช", "Masculine"}, {"M", "Masculine"}, {"ប្រុស", "Masculine"},
		{"ছেলে", "Masculine"}, {"পুরুষ", "Masculine"},
	}}))
}

func TestValueMap(t *testing.T) {
	g := genderMap()
	runParse(t, g, []parseCase{
		{cell: "'মহিলা '", err: true}, // quotes are not part of the value
		{cell: "মহিলা ", want: connector.Text("Feminine")},
		{cell: "f", want: connector.Text("Feminine")},
		{cell: " M", want: connector.Text("Masculine")},
		{cell: "ស្រី", want: connector.Text("Feminine")},
		{cell: "", want: connector.Null()},
		{cell: "X", err: true}, // unmapped: an error, never passed through
	})
	// The first pair per Salesforce value is the write form.
	for v, want := range map[string]string{"Feminine": "หญิง", "Masculine": "ชาย"} {
		if s, err := g.Format(connector.Text(v)); err != nil || s != want {
			t.Errorf("Format(%s) = %q, %v", v, s, err)
		}
	}
	if _, err := g.Format(connector.Text("NonConforming")); err == nil {
		t.Error("Format of an unmapped Salesforce value: want an error")
	}

	explo := must(NewValueMap(ValueMapOptions{Multi: true, StripAccents: true, Pairs: []Pair{
		{"trabajo forzoso", "ForcedLabour"}, {"explotación sexual", "SexualExploitation"},
		{"trabajo infantil", "ChildLabour"}, {"mendicidad forzada", "ForcedBegging"},
	}}))
	runParse(t, explo, []parseCase{
		{cell: "trabajo forzoso,explotacion sexual", want: connector.Multi("ForcedLabour", "SexualExploitation")},
		{cell: "Explotación Sexual; trabajo  infantil\n", want: connector.Multi("ChildLabour", "SexualExploitation")},
		{cell: "trabajo forzoso, , trabajo forzoso", want: connector.Multi("ForcedLabour")},
		{cell: "trabajo forzoso, robo", err: true},
	})
	if s, _ := explo.Format(connector.Multi("SexualExploitation", "ForcedLabour")); s != "trabajo forzoso, explotación sexual" {
		t.Errorf("multi Format = %q", s)
	}

	for _, bad := range []ValueMapOptions{
		{},
		{Pairs: []Pair{{"a", "A"}, {"A ", "B"}}}, // one local value, two targets
		{Pairs: []Pair{{"", "A"}}},               // blank local
		{Multi: true, Pairs: []Pair{{"a/b", "A"}}},          // local holds a separator
		{Pairs: []Pair{{"-", "A"}}, Null: []string{"-"}},    // null and mapped
		{Multi: true, Join: "+", Pairs: []Pair{{"a", "A"}}}, // join does not split
	} {
		if _, err := NewValueMap(bad); err == nil {
			t.Errorf("NewValueMap(%+v): want an error", bad)
		}
	}
}

func TestYesNo(t *testing.T) {
	tr := must(NewYesNo(YesNoOptions{WriteYes: "ใช่", WriteNo: "ไม่"}))
	runParse(t, tr, []parseCase{
		{cell: "ใช่", want: connector.Bool(true)},
		{cell: "Y", want: connector.Bool(true)},
		{cell: "yes", want: connector.Bool(true)},
		{cell: "បាទ", want: connector.Bool(true)},
		{cell: "ចាស", want: connector.Bool(true)},
		{cell: "হ্যাঁ", want: connector.Bool(true)},
		{cell: "Sí", want: connector.Bool(true)},
		{cell: "✓", want: connector.Bool(true)},
		{cell: "1", want: connector.Bool(true)},
		{cell: "ไม่", want: connector.Bool(false)},
		{cell: "N", want: connector.Bool(false)},
		{cell: "ទេ", want: connector.Bool(false)},
		{cell: "না", want: connector.Bool(false)},
		{cell: "FALSE", want: connector.Bool(false)},
		{cell: "รอ", want: connector.Null()},
		{cell: "N/A", want: connector.Null()},
		{cell: "—", want: connector.Null()},
		{cell: "", want: connector.Null()},
		{cell: "maybe", err: true},
	})
	if s, _ := tr.Format(connector.Bool(true)); s != "ใช่" {
		t.Errorf("write yes = %q", s)
	}
	if _, err := NewYesNo(YesNoOptions{WriteYes: "oui"}); err == nil {
		t.Error("write_yes outside the yes list: want an error")
	}
	if _, err := NewYesNo(YesNoOptions{No: []string{"no", "yes"}}); err == nil {
		t.Error("a word in two lists: want an error")
	}
}

func TestSplit(t *testing.T) {
	tr := must(NewSplit(SplitOptions{}))
	runParse(t, tr, []parseCase{
		{cell: "shelter, medical, ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ", want: connector.Multi("shelter", "medical", "ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ")},
		{cell: "a;b/c\nd\r\ne", want: connector.Multi("a", "b", "c", "d", "e")},
		{cell: " , ;", want: connector.Null()},
	})
	if _, err := tr.Format(connector.Multi("a,b")); err == nil {
		t.Error("value holding a separator: want an error")
	}
}

func TestPhone(t *testing.T) {
	th := must(NewPhone(PhoneOptions{Country: "+66"}))
	runParse(t, th, []parseCase{
		{cell: "080-000-0001", want: connector.Text("+66800000001")},
		{cell: "๐๘๐ ๐๐๐ ๐๐๐๑", want: connector.Text("+66800000001")},
		{cell: "800000001", want: connector.Text("+66800000001")}, // leading zero lost in a spreadsheet
		{cell: "+66 80 000 0001", want: connector.Text("+66800000001")},
		{cell: "+66 (0)80 000 0001", want: connector.Text("+66800000001")},
		{cell: "0066800000001", want: connector.Text("+66800000001")},
		{cell: "+855 12 000 001", want: connector.Text("+85512000001")},
		{cell: "080-000-0001 ext 2", err: true},
		{cell: "080-000-0001, 080-000-0002", err: true},
		{cell: "12", err: true},
	})
	bd := must(NewPhone(PhoneOptions{Country: "880", Write: WriteNational}))
	runParse(t, bd, []parseCase{{cell: "01700-000001", want: connector.Text("+8801700000001")}})
	if s, _ := bd.Format(connector.Text("+8801700000001")); s != "01700000001" {
		t.Errorf("national = %q", s)
	}
	gt := must(NewPhone(PhoneOptions{Country: "502"}))
	runParse(t, gt, []parseCase{
		{cell: "5555-0100", want: connector.Text("+50255550100")},
		{cell: "+502 5555 0100", want: connector.Text("+50255550100")},
		{cell: "555-0100", err: true},
	})
	kh := must(NewPhone(PhoneOptions{Country: "855"}))
	runParse(t, kh, []parseCase{{cell: "012 000 001", want: connector.Text("+85512000001")}})
	if _, err := NewPhone(PhoneOptions{}); err == nil {
		t.Error("no country: want an error")
	}
}
