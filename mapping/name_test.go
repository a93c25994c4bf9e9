package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/connector"
)

func TestSplitName(t *testing.T) {
	splitter := func(name string) *NameSplitter {
		o, ok := Lookup(name)
		if !ok {
			t.Fatalf("no transform %s", name)
		}
		return must(NewNameSplitter(*o.(*NameOptions)))
	}
	thai, khmer, latin, bengali, spanish := splitter("thai_name.first"), splitter("khmer_name.first"),
		splitter("khmer_latin_name.first"), splitter("bengali_name.first"), splitter("spanish_name.first")
	for _, c := range []struct {
		s    *NameSplitter
		full string
		want Name
	}{
		{thai, "ด.ญ. สมหญิง ตัวอย่าง", Name{First: "สมหญิง", Last: "ตัวอย่าง", Honorific: "ด.ญ.", Flags: FlagChild}},
		{thai, "ด.ช.สมชาย ตัวอย่าง", Name{First: "สมชาย", Last: "ตัวอย่าง", Honorific: "ด.ช.", Flags: FlagChild}},
		{thai, "นางสาวสมศรี ตัวอย่าง", Name{First: "สมศรี", Last: "ตัวอย่าง", Honorific: "นางสาว"}},
		{thai, "นาง สมศรี ตัวอย่าง", Name{First: "สมศรี", Last: "ตัวอย่าง", Honorific: "นาง"}},
		{thai, "สมชาย  ตัวอย่าง  ทดสอบ", Name{First: "สมชาย", Last: "ตัวอย่าง ทดสอบ"}},
		{thai, "สมชาย", Name{Last: "สมชาย"}},
		{thai, "  ", Name{}},
		{khmer, "សុខ តេស្ត", Name{First: "តេស្ត", Last: "សុខ"}},
		{khmer, "សុខ តេស្ត ", Name{First: "តេស្ត", Last: "សុខ"}},
		{latin, "SOK Test", Name{First: "Test", Last: "SOK"}},
		{latin, "Test SOK", Name{First: "Test", Last: "SOK"}},
		{latin, "Sok Test", Name{First: "Test", Last: "Sok", Flags: FlagLowConfidence}},
		{bengali, "মোঃ রহিম উদাহরণ", Name{First: "রহিম", Last: "উদাহরণ", Honorific: "মোঃ"}},
		{bengali, "মোছাঃ রহিমা উদাহরণ", Name{First: "রহিমা", Last: "উদাহরণ", Honorific: "মোছাঃ"}},
		{bengali, "উদাহরণ", Name{Last: "উদাহরণ"}},
		{spanish, "María José Ejemplo Prueba", Name{First: "María José", Last: "Ejemplo Prueba"}},
		{spanish, "María Ejemplo Prueba", Name{First: "María", Last: "Ejemplo Prueba", Flags: FlagLowConfidence}},
		{spanish, "María Ejemplo", Name{First: "María", Last: "Ejemplo"}},
		{spanish, "María de los Ángeles Ejemplo Prueba", Name{First: "María de los Ángeles", Last: "Ejemplo Prueba"}},
		{spanish, "Ana Ejemplo de la Prueba", Name{First: "Ana", Last: "Ejemplo de la Prueba", Flags: FlagLowConfidence}},
	} {
		if got := c.s.Split(c.full); got != c.want {
			t.Errorf("Split(%q) = %+v, want %+v", c.full, got, c.want)
		}
	}
}

func TestNameTransform(t *testing.T) {
	first, last := must(New("thai_name.first")), must(New("thai_name.last"))
	r, err := first.Parse("ด.ญ. สมหญิง ตัวอย่าง")
	if err != nil || !r.Value.Equal(connector.Text("สมหญิง")) || r.Honorific != "ด.ญ." || !r.Flags.Has(FlagChild) {
		t.Errorf("first = %s %+v %v", describe(r.Value), r, err)
	}
	r, _ = last.Parse("ด.ญ. สมหญิง ตัวอย่าง")
	if !r.Value.Equal(connector.Text("ตัวอย่าง")) {
		t.Errorf("last = %s", describe(r.Value))
	}
	if !first.Lossy() {
		t.Error("name: want Lossy")
	}
	// Writing a part back keeps the honorific and the other part.
	m := first.(Merger)
	got, err := m.Merge("ด.ญ. สมหญิง ตัวอย่าง", connector.Text("สมใจ"))
	if err != nil || got != "ด.ญ. สมใจ ตัวอย่าง" {
		t.Errorf("Merge = %q, %v", got, err)
	}
	got, err = last.(Merger).Merge(got, connector.Text("ทดสอบ"))
	if err != nil || got != "ด.ญ. สมใจ ทดสอบ" {
		t.Errorf("Merge last = %q, %v", got, err)
	}
	// A first name alone would read back as a last name.
	if _, err := first.Format(connector.Text("สมใจ")); err == nil {
		t.Error("first name without a last name: want an error")
	}
	// A two-word first name would read back split differently.
	if _, err := first.(Merger).Merge("สมหญิง ตัวอย่าง", connector.Text("สม ใจ")); err == nil {
		t.Error("two-word Thai first name: want an error")
	} else {
		checkError(t, err, "สม ใจ")
	}
	kh := must(New("khmer_name.last"))
	if s, err := kh.(Merger).Merge("សុខ តេស្ត", connector.Text("ចាន់")); err != nil || s != "ចាន់ តេស្ត" {
		t.Errorf("khmer Merge = %q, %v", s, err)
	}
	es := must(New("spanish_name.first"))
	if s, err := es.(Merger).Merge("María José Ejemplo Prueba", connector.Text("Ana")); err != nil || s != "Ana Ejemplo Prueba" {
		t.Errorf("spanish Merge = %q, %v", s, err)
	}
	bn := must(New("bengali_name.last"))
	runParse(t, bn, []parseCase{{cell: "উদাহরণ", want: connector.Text("উদাহরণ")}})
}
