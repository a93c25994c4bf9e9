package scaffold

import (
	"slices"
	"strings"

	"github.com/casebridge/casebridge/mapping"
)

// valueKey is the form in which a sheet's word and a picklist value are
// compared: letters and digits only, lower case (Follow_Up, "follow up"
// and FOLLOW-UP are one).
func valueKey(s string) string { return nameKey(fold(s)) }

// translations are words field offices write for common picklist values,
// each with the value names (as valueKey gives them) it may be in an org,
// tried in order. A word matched through this table is marked for a person
// to check.
var translations = func() map[string][]string {
	m := map[string][]string{}
	add := func(values []string, words ...string) {
		for _, w := range words {
			m[valueKey(w)] = values
		}
	}
	female := []string{"feminine", "female", "f", "woman", "girl"}
	male := []string{"masculine", "male", "m", "man", "boy"}
	add(female, "f", "female", "woman", "girl", "หญิง", "ญ", "ผู้หญิง", "เด็กหญิง", "ស្រី", "মহিলা", "মেয়ে", "নারী", "mujer", "femenino", "femenina", "niña")
	add(male, "m", "male", "man", "boy", "ชาย", "ช", "ผู้ชาย", "เด็กชาย", "ប្រុស", "পুরুষ", "ছেলে", "hombre", "masculino", "niño")
	add([]string{"identified", "new"}, "identified", "new", "ใหม่", "ថ្មី", "নতুন", "identificado", "identificada", "nuevo", "nueva")
	add([]string{"verification", "verifying"}, "verification", "in verification", "verifying", "รอตรวจสอบ", "กำลังตรวจสอบ", "en verificación", "en verificacion", "verificación", "verificacion")
	add([]string{"active", "open", "inprogress", "ongoing"}, "active", "open", "ongoing", "in progress", "กำลังดำเนินการ", "ดำเนินการ", "เปิด", "បើក", "កំពុងដំណើរការ", "চলমান", "সক্রিয়", "activo", "abierto", "en curso", "en proceso")
	add([]string{"followup", "monitoring"}, "follow up", "follow-up", "en seguimiento", "ติดตามผล", "ติดตาม", "តាមដាន", "ফলো-আপ", "ফলোআপ", "seguimiento")
	add([]string{"closed", "close", "done"}, "closed", "ปิดเคส", "ปิด", "បានបិទ", "បិទ", "বন্ধ", "cerrado", "cerrada")
	add([]string{"closedreferred", "referred", "referredout"}, "referred", "ส่งต่อ", "បានផ្ទេរ", "ផ្ទេរ", "রেফার", "referido", "referida", "derivado")
	add([]string{"granted", "given", "yes"}, "granted", "consented", "ยินยอม", "យល់ព្រម", "সম্মত", "consiente", "otorgado")
	add([]string{"notobtained", "refused", "declined", "no"}, "refused", "ไม่ยินยอม", "មិនយល់ព្រម", "অসম্মত", "no consiente", "rechazado")
	add([]string{"withdrawn"}, "withdrawn", "ถอนความยินยอม", "ដកការយល់ព្រម", "প্রত্যাহার", "retirado")
	add([]string{"yes", "true"}, "yes", "y", "ใช่", "มี", "បាទ", "ចាស", "হ্যাঁ", "sí", "si")
	add([]string{"no", "false"}, "no", "n", "ไม่", "ไม่ใช่", "ไม่มี", "ទេ", "না")
	add([]string{"unknown", "notknown"}, "unknown", "ไม่ทราบ", "មិនដឹង", "অজানা", "desconocido")
	add([]string{"birthcertificate"}, "birth certificate", "สูติบัตร", "សំបុត្រកំណើត", "জন্ম নিবন্ধন", "partida de nacimiento")
	add([]string{"nationalid", "idcard"}, "national id", "id card", "บัตรประชาชน", "บัตร ปชช.", "អត្តសញ្ញាណប័ណ្ណ", "এনআইডি", "dpi")
	add([]string{"householdregistration"}, "household registration", "ทะเบียนบ้าน", "សៀវភៅគ្រួសារ")
	add([]string{"schoolrecord"}, "school record", "school certificate", "স্কুল সার্টিফিকেট", "ใบรับรองโรงเรียน")
	add([]string{"medicalassessment"}, "medical assessment", "ใบรับรองแพทย์", "ডাক্তারি পরীক্ষা")
	return m
}()

// valueMatch is a sheet word and the picklist value it was matched to;
// SF is "" for a word a person must map.
type valueMatch struct {
	local, sf string
	// translated: matched through the translations table, not by name.
	translated bool
	count      int
}

// matchValues matches a column's distinct words with a picklist's values:
// by name (case, spaces and underscores aside), else through the
// translations table. Words are kept in first-seen order, matched ones
// first, so the write form of a value is its most common spelling.
func matchValues(words []string, counts map[string]int, picklist []string) []valueMatch {
	byKey := map[string]string{}
	for _, v := range picklist {
		if k := valueKey(v); k != "" {
			if _, dup := byKey[k]; !dup {
				byKey[k] = v
			}
		}
	}
	var out []valueMatch
	for _, w := range words {
		m := valueMatch{local: w, count: counts[fold(w)]}
		k := valueKey(w)
		if v, ok := byKey[k]; ok && k != "" {
			m.sf = v
		} else {
			for _, t := range translations[k] {
				if v, ok := byKey[t]; ok {
					m.sf, m.translated = v, true
					break
				}
			}
		}
		out = append(out, m)
	}
	// The most common spelling of each value first: the first entry for
	// a value is what a run writes back into the sheet.
	slices.SortStableFunc(out, func(a, b valueMatch) int {
		if (a.sf == "") != (b.sf == "") {
			if a.sf == "" {
				return 1
			}
			return -1
		}
		if a.sf == b.sf {
			return b.count - a.count
		}
		return 0
	})
	return out
}

// splitWords splits a multi-select column's cells into their words at the
// separators a value map splits on (comma, semicolon, slash, newline).
func splitWords(cells []string) ([]string, map[string]int) {
	var words []string
	counts := map[string]int{}
	for _, c := range cells {
		for _, w := range strings.FieldsFunc(c, func(r rune) bool { return strings.ContainsRune(",;/\n\r", r) }) {
			w = mapping.Clean(w)
			k := fold(w)
			if k == "" {
				continue
			}
			if counts[k] == 0 {
				words = append(words, w)
			}
			counts[k]++
		}
	}
	return words, counts
}

// yesNoWords are the word lists of config's yes_no presets (a preset
// includes the English words), folded.
var yesNoWords = map[string][]string{
	"en": {"yes", "y", "true", "1", "✓", "no", "n", "false", "0", "-", "—", "?", "n/a"},
	"th": {"ใช่", "มี", "ไม่", "ไม่ใช่", "รอ"},
	"km": {"បាទ", "ចាស", "ទេ"},
	"bn": {"হ্যাঁ", "না"},
	"es": {"sí", "si", "no"},
}

// yesNoPreset chooses the yes_no preset for a sheet's language and
// returns the column's words the preset does not know.
func yesNoPreset(script string, words []string) (preset string, unknown []string) {
	preset = script
	if _, ok := yesNoWords[preset]; !ok {
		preset = "en"
	}
	known := append(slices.Clone(yesNoWords["en"]), yesNoWords[preset]...)
	for _, w := range words {
		if !slices.Contains(known, fold(w)) {
			unknown = append(unknown, w)
		}
	}
	return preset, unknown
}

// yesNoColumn reports whether every word of a column is a yes/no word of
// some preset.
func yesNoColumn(words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		found := false
		for _, list := range yesNoWords {
			if slices.Contains(list, fold(w)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
