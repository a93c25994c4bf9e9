package connector_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

func num(t testing.TB, s string) connector.Value {
	t.Helper()
	v, err := connector.NumberString(s)
	if err != nil {
		t.Fatalf("NumberString(%q): %v", s, err)
	}
	return v
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func date(y int, m time.Month, d int) connector.Value {
	return connector.DateValue(connector.Date{Year: y, Month: m, Day: d})
}

func TestValueEqual(t *testing.T) {
	bangkok := time.FixedZone("ICT", 7*3600)
	for _, tc := range []struct {
		name string
		a, b connector.Value
		want bool
	}{
		{"null null", connector.Null(), connector.Null(), true},
		{"zero value is null", connector.Value{}, connector.Null(), true},
		{"3000 vs 3000.00", num(t, "3000"), num(t, "3000.00"), true},
		{"3000 vs 3e3", num(t, "3000"), num(t, "3e3"), true},
		{"3000.00 vs 3e3", num(t, "3000.00"), num(t, "3e3"), true},
		{"Int vs string", connector.Int(42), num(t, "42.0"), true},
		{"-0 vs 0", num(t, "-0"), num(t, "0.00"), true},
		{"3000 vs 3000.01", num(t, "3000"), num(t, "3000.01"), false},
		{"datetime same instant in two zones",
			connector.DateTime(time.Date(2024, 1, 15, 17, 30, 0, 0, bangkok)),
			connector.DateTime(time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)), true},
		{"datetime one second apart",
			connector.DateTime(at("2024-01-15T10:30:00Z")), connector.DateTime(at("2024-01-15T10:30:01Z")), false},
		{"datetime nanoseconds count (not canonical)",
			connector.DateTime(at("2024-01-15T10:30:00.5Z")), connector.DateTime(at("2024-01-15T10:30:00Z")), false},
		{"date", date(2008, 3, 12), date(2008, 3, 12), true},
		{"date differs", date(2008, 3, 12), date(2008, 3, 13), false},
		{"text", connector.Text("ชื่อ"), connector.Text("ชื่อ"), true},
		{"text case matters", connector.Text("a"), connector.Text("A"), false},
		{"text NFC vs NFD differ until canonical", connector.Text("\u00e9"), connector.Text("e\u0301"), false},
		{"bool", connector.Bool(true), connector.Bool(true), true},
		{"bool differs", connector.Bool(true), connector.Bool(false), false},
		{"multi is a set", connector.Multi("b", "a", "b"), connector.Multi("a", "b"), true},
		{"multi differs", connector.Multi("a"), connector.Multi("a", "b"), false},
		{"empty multi is null", connector.Multi(), connector.Null(), true},
		{"multi of empty strings is null", connector.Multi("", ""), connector.Null(), true},
		{"text 1 vs number 1", connector.Text("1"), connector.Int(1), false},
		{"null vs empty text", connector.Null(), connector.Text(""), false},
		{"false vs null", connector.Bool(false), connector.Null(), false},
		{"date vs datetime at midnight", date(2024, 1, 15), connector.DateTime(at("2024-01-15T00:00:00Z")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tc.want)
			}
			if got := tc.b.Equal(tc.a); got != tc.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAppendCanonical(t *testing.T) {
	// Pairs of canonical values: equal values encode to equal bytes,
	// different values (including different kinds) to different bytes.
	for _, tc := range []struct {
		name string
		a, b connector.Value
		same bool
	}{
		{"3000 vs 3000.00", num(t, "3000"), num(t, "3000.00"), true},
		{"3000 vs 3e3", num(t, "3000"), num(t, "3e3"), true},
		{"12.5 vs 12.50", num(t, "12.5"), num(t, "12.50"), true},
		{"-0 vs 0", num(t, "-0.00"), num(t, "0"), true},
		{"300 vs 3000", num(t, "300"), num(t, "3000"), false},
		{"0.5 vs 5", num(t, "0.5"), num(t, "5"), false},
		{"datetime by instant", connector.DateTime(time.Date(2024, 1, 15, 17, 30, 0, 0, time.FixedZone("", 7*3600))),
			connector.DateTime(at("2024-01-15T10:30:00Z")), true},
		{"datetime one second apart", connector.DateTime(at("2024-01-15T10:30:00Z")), connector.DateTime(at("2024-01-15T10:30:01Z")), false},
		{"multi order", connector.Multi("b", "a"), connector.Multi("a", "b"), true},
		{"null", connector.Null(), connector.Value{}, true},
		{"text 1 vs number 1", connector.Text("1"), connector.Int(1), false},
		{"text true vs bool true", connector.Text("true"), connector.Bool(true), false},
		{"text date vs date", connector.Text("2024-01-15"), date(2024, 1, 15), false},
		{"null vs empty text", connector.Null(), connector.Text(""), false},
		{"null vs false", connector.Null(), connector.Bool(false), false},
		{"multi a;b vs text a;b", connector.Multi("a", "b"), connector.Text("a;b"), false},
		{"multi [a;b] vs [a,b]", connector.Multi("a;b"), connector.Multi("a", "b"), false},
		{"multi [ab] vs [a,b]", connector.Multi("ab"), connector.Multi("a", "b"), false},
		{"text differs", connector.Text("สมชาย"), connector.Text("สมหญิง"), false},
		{"date differs", date(2024, 1, 15), date(2024, 1, 16), false},
		{"bool differs", connector.Bool(true), connector.Bool(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a.AppendCanonical(nil)
			b := tc.b.AppendCanonical(nil)
			if got := bytes.Equal(a, b); got != tc.same {
				t.Errorf("equal encodings = %v, want %v (%x vs %x)", got, tc.same, a, b)
			}
			if got := tc.a.Equal(tc.b); got != tc.same {
				t.Errorf("Equal = %v, disagrees with the encoding (want %v)", got, tc.same)
			}
		})
	}
}

func TestAppendCanonicalBytes(t *testing.T) {
	// The encoding is what fingerprints are computed over: pin it, so a
	// change is a deliberate one (it invalidates every stored fingerprint).
	for _, tc := range []struct {
		name string
		v    connector.Value
		want []byte
	}{
		{"null", connector.Null(), []byte{0}},
		{"text", connector.Text("ab"), []byte{1, 2, 'a', 'b'}},
		{"number 3000.00", num(t, "3000.00"), []byte{2, 4, '3', '0', '0', '0'}},
		{"number -12.50", num(t, "-12.50"), []byte{2, 5, '-', '1', '2', '.', '5'}},
		{"bool true", connector.Bool(true), []byte{3, 1}},
		{"bool false", connector.Bool(false), []byte{3, 0}},
		{"date", date(2008, 3, 12), append([]byte{4, 10}, "2008-03-12"...)},
		{"datetime epoch+1s", connector.DateTime(at("1970-01-01T00:00:01Z")), []byte{5, 2, 0}},
		{"multi", connector.Multi("b", "a"), []byte{6, 2, 1, 'a', 1, 'b'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got := tc.v.AppendCanonical(bytes.Clone(prefix))
			if !bytes.Equal(got, append(prefix, tc.want...)) {
				t.Errorf("AppendCanonical = %v, want prefix + %v", got[len(prefix):], tc.want)
			}
		})
	}
}

func TestValueAccessors(t *testing.T) {
	if s, ok := connector.Text("x").Text(); !ok || s != "x" {
		t.Errorf("Text().Text() = %q, %v", s, ok)
	}
	if _, ok := connector.Int(1).Text(); ok {
		t.Error("number.Text() ok")
	}
	if d, ok := connector.Int(7).Number(); !ok || !d.Equal(decimal.NewFromInt(7)) {
		t.Errorf("Int(7).Number() = %v, %v", d, ok)
	}
	if b, ok := connector.Bool(true).Bool(); !ok || !b {
		t.Errorf("Bool(true).Bool() = %v, %v", b, ok)
	}
	if d, ok := date(2024, 2, 29).Date(); !ok || d != (connector.Date{Year: 2024, Month: 2, Day: 29}) {
		t.Errorf("Date() = %v, %v", d, ok)
	}
	bkk := time.Date(2024, 1, 15, 17, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	if tm, ok := connector.DateTime(bkk).DateTime(); !ok || tm.Location() != time.UTC || !tm.Equal(bkk) {
		t.Errorf("DateTime() = %v, %v; want the instant in UTC", tm, ok)
	}
	if m, ok := connector.Multi("c", "a", "b", "a", "").Multi(); !ok || strings.Join(m, ",") != "a,b,c" {
		t.Errorf("Multi() = %v, %v; want sorted, de-duplicated, no empty", m, ok)
	}
	// Accessors on null (whose content is absent) neither panic nor claim a kind.
	var null connector.Value
	if !null.IsNull() || null.Kind() != connector.KindNull {
		t.Error("zero Value is not null")
	}
	if _, ok := null.Text(); ok {
		t.Error("null.Text() ok")
	}
	if _, ok := null.Number(); ok {
		t.Error("null.Number() ok")
	}
	if _, ok := null.Bool(); ok {
		t.Error("null.Bool() ok")
	}
	if _, ok := null.Date(); ok {
		t.Error("null.Date() ok")
	}
	if _, ok := null.DateTime(); ok {
		t.Error("null.DateTime() ok")
	}
	if _, ok := null.Multi(); ok {
		t.Error("null.Multi() ok")
	}
}

func TestNumberString(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means an error
	}{
		{"-12.50", "-12.5"},
		{" 3000 ", "3000"},
		{"1e3", "1000"},
		{"0.001", "0.001"},
		{"3,000", ""},
		{"", ""},
		{"abc", ""},
		{"NaN", ""},
	} {
		v, err := connector.NumberString(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NumberString(%q) succeeded, want an error", tc.in)
			} else if tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Errorf("NumberString(%q) error %q repeats the input", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NumberString(%q): %v", tc.in, err)
			continue
		}
		if !v.Equal(num(t, tc.want)) {
			t.Errorf("NumberString(%q) = %s, want %s", tc.in, v.Raw(), tc.want)
		}
	}
}

func TestRaw(t *testing.T) {
	for _, tc := range []struct {
		v    connector.Value
		want string
	}{
		{connector.Null(), ""},
		{connector.Text("สวัสดี"), "สวัสดี"},
		{num(t, "3000.50"), "3000.5"},
		{connector.Bool(false), "false"},
		{date(2008, 3, 12), "2008-03-12"},
		{connector.DateTime(time.Date(2024, 1, 15, 17, 30, 0, 0, time.FixedZone("", 7*3600))), "2024-01-15T10:30:00Z"},
		{connector.Multi("b", "a"), "a;b"},
	} {
		if got := tc.v.Raw(); got != tc.want {
			t.Errorf("%s.Raw() = %q, want %q", tc.v.Kind(), got, tc.want)
		}
	}
}

func TestDate(t *testing.T) {
	d, err := connector.ParseDate("2008-03-12")
	if err != nil || d != (connector.Date{Year: 2008, Month: time.March, Day: 12}) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2008-02-30", "12/03/2008", "", "2008-3-12"} {
		if _, err := connector.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseDate(%q) error repeats the input: %v", bad, err)
		}
	}
	if (connector.Date{Year: 2023, Month: 2, Day: 29}).Valid() {
		t.Error("2023-02-29 is valid")
	}
	if !(connector.Date{Year: 2024, Month: 2, Day: 29}).Valid() {
		t.Error("2024-02-29 is not valid")
	}
	if c := (connector.Date{Year: 2024, Month: 1, Day: 2}).Compare(connector.Date{Year: 2024, Month: 1, Day: 10}); c != -1 {
		t.Errorf("Compare = %d, want -1", c)
	}
	if got := (connector.Date{Year: 812, Month: 1, Day: 2}).String(); got != "0812-01-02" {
		t.Errorf("String = %q", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[connector.Kind]string{
		connector.KindNull: "null", connector.KindText: "text", connector.KindNumber: "number",
		connector.KindBool: "bool", connector.KindDate: "date", connector.KindDateTime: "datetime",
		connector.KindMulti: "multi", connector.Kind(99): "kind(99)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// holder has Values in exported and unexported fields, directly and in
// containers: fmt cannot call Format on unexported fields and prints them
// by reflection.
type holder struct {
	Key     string
	Public  connector.Value
	private connector.Value
	list    []connector.Value
	byName  map[string]connector.Value
	ptr     *connector.Value
	rec     connector.Record
}

func TestValueNeverPrintsContent(t *testing.T) {
	const secret = "SECRET-สมชาย-1987"
	bkk := time.Date(1987, 6, 5, 4, 3, 2, 0, time.UTC)
	values := []struct {
		v      connector.Value
		leaks  []string // strings the output must not contain
		prints string   // what String prints
	}{
		{connector.Text(secret), []string{secret, "SECRET", "สมชาย"}, "text(27 bytes)"}, // 7 + 5 Thai letters × 3 + 5
		{num(t, "987654.32"), []string{"987654", "98765432"}, "number(redacted)"},
		{date(1987, 6, 5), []string{"1987", "06-05", "{1987"}, "date(redacted)"},
		{connector.DateTime(bkk), []string{"1987", "04:03:02", "552456182"}, "datetime(redacted)"},
		{connector.Multi("HIV_positive", "Pregnant"), []string{"HIV", "Pregnant"}, "multi(2 values)"},
		{connector.Bool(true), []string{"true"}, "bool(redacted)"},
	}
	for _, tc := range values {
		v := tc.v
		if got := v.String(); got != tc.prints {
			t.Errorf("String() = %q, want %q", got, tc.prints)
		}
		h := holder{Key: "K-1", Public: v, private: v, list: []connector.Value{v}, byName: map[string]connector.Value{"f": v}, ptr: &v,
			rec: connector.Record{Key: "K-1", Fields: map[string]connector.Value{"f": v}}}
		outs := []string{
			fmt.Sprintf("%v %s %q %#v %+v %x %d", v, v, v, v, v, v, v),
			fmt.Sprintf("%v %s %q %#v %+v", &v, &v, &v, &v, &v),
			fmt.Sprintf("%v %#v %+v", h, h, h),
			fmt.Sprintf("%v %#v %+v", &h, &h, &h),
			fmt.Sprintf("%v %+v %#v", h.rec, &h.rec, []connector.Record{h.rec}),
			fmt.Sprint(v, h), fmt.Sprintln(v, h),
		}
		for _, out := range outs {
			for _, leak := range tc.leaks {
				if strings.Contains(out, leak) {
					t.Errorf("%s: output contains %q: %s", v.Kind(), leak, out)
				}
			}
		}
		if !strings.Contains(outs[0], tc.prints) {
			t.Errorf("%%v of %s = %q, want it to print %q", v.Kind(), outs[0], tc.prints)
		}
	}
}

func TestAppendComparable(t *testing.T) {
	// Texts that read the same in a cell compare equal: a value written as
	// Salesforce holds it and its cleaned reading.
	for _, tc := range []struct {
		name string
		a, b connector.Value
		same bool
	}{
		{"trailing line break", connector.Text("met family\n"), connector.Text("met family"), true},
		{"CRLF", connector.Text("a\r\nb\r\n"), connector.Text("a\nb"), true},
		{"CR", connector.Text("a\rb"), connector.Text("a\nb"), true},
		{"edge spaces and tab", connector.Text("  x\t"), connector.Text("x"), true},
		{"leading NBSP", connector.Text("\u00a0Dara"), connector.Text("Dara"), true},
		{"Khmer word separators", connector.Text("សុខ\u200bដារ៉ា"), connector.Text("សុខដារ៉ា"), true},
		{"word joiner and BOM inside", connector.Text("a\u2060b\ufeffc"), connector.Text("abc"), true},
		{"ZWSP composes after removal", connector.Text("e\u200b\u0301"), connector.Text("é"), true},
		{"formula guard", connector.Text("\t=1+1"), connector.Text("=1+1"), true},
		{"white space alone is null", connector.Text(" \u00a0\n\u200b"), connector.Null(), true},
		{"empty text is null", connector.Text(""), connector.Null(), true},
		{"inner space kept", connector.Text("a b"), connector.Text("ab"), false},
		{"inner line break kept", connector.Text("a\nb"), connector.Text("a b"), false},
		{"ZWNJ kept inside", connector.Text("a\u200cb"), connector.Text("ab"), false},
		{"case kept", connector.Text("Dara"), connector.Text("dara"), false},
		{"digits kept", connector.Text("១២"), connector.Text("12"), false},
		{"text vs number", connector.Text("1"), connector.Int(1), false},
		{"numbers as canonical", num(t, "3000"), num(t, "3000.00"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a.AppendComparable(nil)
			b := tc.b.AppendComparable(nil)
			if got := bytes.Equal(a, b); got != tc.same {
				t.Errorf("equal encodings = %v, want %v (%x vs %x)", got, tc.same, a, b)
			}
		})
	}
}

func TestAppendComparableOfCleanIsCanonical(t *testing.T) {
	// Stored fingerprints of clean values stay valid: their comparison
	// encoding is their canonical one.
	for _, v := range []connector.Value{
		connector.Null(), connector.Text("ab"), connector.Text("สมหญิง ตัวอย่าง"), connector.Text("a\nb"),
		connector.Text("র\u200d্য"), num(t, "-12.50"), connector.Bool(true), date(2008, 3, 12),
		connector.DateTime(at("2024-01-15T10:30:00Z")), connector.Multi("b", "a"),
	} {
		prefix := []byte("prefix")
		if got, want := v.AppendComparable(bytes.Clone(prefix)), v.AppendCanonical(bytes.Clone(prefix)); !bytes.Equal(got, want) {
			t.Errorf("%v: AppendComparable = %x, AppendCanonical = %x", v, got, want)
		}
	}
	for _, s := range []string{"already clean", "สมหญิง ตัวอย่าง", "a\nb"} {
		if n := testing.AllocsPerRun(100, func() { _ = connector.ComparableText(s) }); n != 0 {
			t.Errorf("ComparableText(%q) allocates %v times", s, n)
		}
	}
}

func FuzzComparableText(f *testing.F) {
	for _, s := range []string{"", " ", "a\r\n", "\u00a0x\u200b", "e\u200b\u0301", "\r\r\n", "សុខ\u200bដារ៉ា", "\ufeff\u2060"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := connector.ComparableText(s)
		if connector.ComparableText(c) != c {
			t.Fatalf("not idempotent: %+q -> %+q -> %+q", s, c, connector.ComparableText(c))
		}
		if connector.TrimSpace(c) != c || strings.ContainsAny(c, "\r\u200b\u2060\ufeff") {
			t.Fatalf("%+q -> %+q: not in comparison form", s, c)
		}
		// Edge white space and line endings never make a difference.
		for _, w := range []string{" " + s, s + "\n", "\u00a0" + s + "\r\n", "\u200b" + s} {
			if got := connector.ComparableText(w); got != c {
				t.Fatalf("%+q -> %+q, but %+q -> %+q", s, c, w, got)
			}
		}
	})
}

// BenchmarkAppendComparable: the fingerprint encoding of texts already in
// comparison form (the usual case) against AppendCanonical.
func BenchmarkAppendComparable(b *testing.B) {
	vals := []connector.Value{connector.Text("TH-CL-0007"), connector.Text("สมหญิง ตัวอย่าง"),
		connector.Text("met family, moved to shelter B"), connector.Text("met family\n")}
	buf := make([]byte, 0, 128)
	b.Run("canonical", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = vals[i%len(vals)].AppendCanonical(buf[:0])
		}
	})
	b.Run("comparable", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = vals[i%len(vals)].AppendComparable(buf[:0])
		}
	})
}
