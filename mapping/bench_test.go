package mapping

import (
	"testing"
)

// go test -run '^$' -bench . -benchmem ./mapping/

func benchParse(b *testing.B, tr Transform, cells []string) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := tr.Parse(cells[i%len(cells)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDate(b *testing.B) {
	be := must(NewDate(DateOptions{Order: DayFirst, Era: EraBuddhist, ExcelSerial: true}))
	b.Run("iso", func(b *testing.B) { benchParse(b, be, []string{"2024-04-03"}) })
	b.Run("be_day_first", func(b *testing.B) { benchParse(b, be, []string{"12/03/2551"}) })
	b.Run("serial", func(b *testing.B) { benchParse(b, be, []string{"39519"}) })
	b.Run("thai_digits_month_name", func(b *testing.B) { benchParse(b, be, []string{"๓ เม.ย. ๒๕๖๗"}) })
	b.Run("mixed_column", func(b *testing.B) {
		benchParse(b, be, []string{"12/03/2551", "2008-03-12", "39519", "3/4/67", "03/04/2024"})
	})
	dt := must(NewDateTime(DateTimeOptions{DateOptions: DateOptions{Order: DayFirst}, Zone: "America/Guatemala"}))
	b.Run("datetime_zone", func(b *testing.B) { benchParse(b, dt, []string{"2024-04-03 10:15:00"}) })
}

func BenchmarkParseNumber(b *testing.B) {
	n := must(NewNumber(NumberOptions{Scale: new(int32(2))}))
	b.Run("plain", func(b *testing.B) { benchParse(b, n, []string{"3000"}) })
	b.Run("grouped_currency", func(b *testing.B) { benchParse(b, n, []string{"฿3,000"}) })
	b.Run("bengali_digits", func(b *testing.B) { benchParse(b, n, []string{"৳৩,০০০"}) })
	b.Run("suffix", func(b *testing.B) { benchParse(b, n, []string{"3000.-"}) })
	age := must(New("age"))
	b.Run("age_approx", func(b *testing.B) { benchParse(b, age, []string{"ประมาณ 14"}) })
	b.Run("age_range", func(b *testing.B) { benchParse(b, age, []string{"13-14"}) })
}

func BenchmarkParseName(b *testing.B) {
	thai := must(New("thai_name.first"))
	b.Run("thai_honorific", func(b *testing.B) {
		benchParse(b, thai, []string{"ด.ญ. สมหญิง ตัวอย่าง"})
	})
	kh := must(New("khmer_name.last"))
	b.Run("khmer", func(b *testing.B) { benchParse(b, kh, []string{"សុខ តេស្ត"}) })
	es := must(New("spanish_name.last"))
	b.Run("spanish_4", func(b *testing.B) { benchParse(b, es, []string{"María José Ejemplo Prueba"}) })
}

func BenchmarkValueMap(b *testing.B) {
	g := genderMap()
	b.Run("thai", func(b *testing.B) { benchParse(b, g, []string{"หญิง"}) })
	b.Run("bengali_trailing_space", func(b *testing.B) { benchParse(b, g, []string{"মহিলা "}) })
	b.Run("latin_upper", func(b *testing.B) { benchParse(b, g, []string{"F"}) })
}
