package scaffold

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/connector"
)

// nameKey is the form in which a header and a field name are compared:
// lower case letters and digits only, the namespace prefix (vcms__) and
// the custom suffix (__c) of an API name removed.
func nameKey(s string) string {
	s = strings.ToLower(s)
	if i := strings.Index(s, "__"); i > 0 && !strings.HasSuffix(s[:i+2], "__c") && strings.Count(s, "__") >= 2 {
		s = s[i+2:] // vcms__Gender__c: the namespace
	}
	s = strings.TrimSuffix(s, "__c")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// headerKeys are the forms of a header compared with field names: the
// whole header, and for a bilingual header (รหัสเคส Case ID) its Latin
// part and its other part.
func headerKeys(h string) []string {
	keys := []string{nameKey(h)}
	var latin, other strings.Builder
	for _, r := range h {
		switch {
		case r < 0x250:
			latin.WriteRune(r)
		default:
			other.WriteRune(r)
		}
	}
	for _, p := range []string{latin.String(), other.String()} {
		if k := nameKey(p); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// concept is a thing sheets name in many ways: the headers that name it,
// and the field names (as nameKey gives them) it may be in an org.
type concept struct {
	id      string
	headers []string
	fields  []string
}

// concepts are the headers seen in the field offices' sheets (Thai,
// Khmer, Bengali, Spanish and English) for the fields case-management
// orgs hold. A header matching one is matched to the first field of the
// object named like one of its fields.
var concepts = []concept{
	{"case_code", []string{"case id", "case no", "case code", "case number", "case ref", "code", "รหัสเคส", "รหัส", "เลขที่เคส", "លេខកូដ", "កូដ", "លេខករណី", "কেস নং", "কোড", "código", "codigo", "número de caso", "no. de caso", "expediente"}, []string{"casecode", "caseid", "caseno", "casenumber", "code"}},
	{"gender", []string{"gender", "sex", "เพศ", "ភេទ", "লিঙ্গ", "sexo", "género", "genero"}, []string{"gender", "sex"}},
	{"birthdate", []string{"dob", "date of birth", "birth date", "birthdate", "birthday", "วันเกิด", "วันเดือนปีเกิด", "ថ្ងៃខែឆ្នាំកំណើត", "ថ្ងៃកំណើត", "জন্ম তারিখ", "জন্মতারিখ", "fecha de nacimiento", "nacimiento"}, []string{"birthdate", "dateofbirth", "dob", "birthday"}},
	{"age", []string{"age", "อายุ", "អាយុ", "বয়স", "edad"}, []string{"ageatidentification", "age"}},
	{"stage", []string{"status", "stage", "case status", "สถานะ", "ស្ថានភាព", "অবস্থা", "estado", "estado del caso"}, []string{"stage", "status", "casestatus"}},
	{"identification_date", []string{"found date", "date found", "identification date", "date identified", "identified", "วันที่พบ", "ថ្ងៃរកឃើញ", "সনাক্তের তারিখ", "fecha de identificación", "fecha de identificacion", "fecha identificación", "fecha identificacion"}, []string{"identificationdate", "datefound", "founddate"}},
	{"closure_date", []string{"closure date", "date closed", "closed date", "วันที่ปิดเคส", "fecha de cierre"}, []string{"closuredate", "dateclosed"}},
	{"name", []string{"name", "full name", "ชื่อ-สกุล", "ชื่อ สกุล", "ชื่อ", "ชื่อ-นามสกุล", "ឈ្មោះ", "নাম", "nombre", "nombre completo", "name (khmer)", "name (local)"}, []string{"namelocalscript", "fullname"}},
	{"mobile", []string{"phone", "mobile", "telephone", "โทรศัพท์", "เบอร์โทร", "ទូរស័ព្ទ", "মোবাইল", "ফোন", "teléfono", "telefono", "celular"}, []string{"mobilephone", "phone", "mobile"}},
	{"guardian_phone", []string{"guardian mobile", "guardian phone", "parent phone", "เบอร์ผู้ปกครอง", "অভিভাবকের মোবাইল", "teléfono del tutor"}, []string{"guardianphone"}},
	{"guardian_name", []string{"guardian", "guardian name", "parent", "ผู้ปกครอง", "អាណាព្យាបាល", "অভিভাবক", "tutor"}, []string{"guardianname"}},
	{"notes", []string{"remarks", "notes", "note", "comments", "หมายเหตุ", "កំណត់សម្គាល់", "মন্তব্য", "observaciones", "notas"}, []string{"casenotes", "notes", "comments"}},
	{"consent", []string{"consent", "consent status", "ยินยอม", "ការយល់ព្រម", "সম্মতি", "consentimiento"}, []string{"consentstatus", "consent"}},
	{"age_verified", []string{"age verified", "age checked", "ตรวจอายุแล้ว", "edad verificada"}, []string{"ageverified"}},
	{"age_method", []string{"age proof", "age document", "age verification", "เอกสารที่ใช้", "ឯកសារបញ្ជាក់អាយុ", "বয়সের প্রমাণ", "prueba de edad"}, []string{"ageverificationmethod"}},
	{"nationality", []string{"nationality", "citizenship", "สัญชาติ", "សញ្ជាតិ", "জাতীয়তা", "nacionalidad"}, []string{"citizenship", "nationality"}},
	{"address", []string{"address", "home address", "ที่อยู่", "អាសយដ្ឋាន", "ঠিকানা", "dirección", "direccion"}, []string{"homeaddress", "address"}},
	{"language", []string{"language", "ภาษา", "ភាសា", "ভাষা", "idioma"}, []string{"primarylanguage", "language"}},
	{"id_number", []string{"id number", "national id", "id card", "เลขบัตรประชาชน", "អត្តសញ្ញាណប័ណ្ណ", "এনআইডি", "dpi", "documento de identidad"}, []string{"identitynumber", "nationalid", "idnumber"}},
}

// conceptOf returns the concept a header names, by any of its keys.
func conceptOf(h string) *concept {
	keys := headerKeys(h)
	for i := range concepts {
		for _, w := range concepts[i].headers {
			if slices.Contains(keys, nameKey(w)) {
				return &concepts[i]
			}
		}
	}
	return nil
}

// fieldKeys are the names of a field compared with a header's keys.
func fieldKeys(f *connector.Field) []string {
	keys := []string{nameKey(f.Name)}
	if k := nameKey(f.Label); k != "" && k != keys[0] {
		keys = append(keys, k)
	}
	return keys
}

// matchField finds the field a header names: a field whose API name or
// label is the header (case, spaces, underscores, vcms__ and __c aside),
// else one the header's concept names. taken fields are passed over.
// byConcept reports a match through the concept table, which a person
// should check.
func matchField(o *connector.Object, header string, taken map[string]bool) (f *connector.Field, byConcept bool) {
	keys := headerKeys(header)
	usable := func(f *connector.Field) bool {
		// A formula, an auto-number or a system field cannot take a
		// sheet's values, and a reference needs a lookup rule naming the
		// target's key field, which a person chooses.
		return !taken[f.Name] && (f.Createable || f.Updateable) && !f.Calculated &&
			f.Type != connector.TypeID && f.Type != connector.TypeReference
	}
	for _, k := range keys {
		for i := range o.Fields {
			if fk := fieldKeys(&o.Fields[i]); usable(&o.Fields[i]) && slices.Contains(fk, k) {
				return &o.Fields[i], false
			}
		}
	}
	if c := conceptOf(header); c != nil {
		for _, name := range c.fields {
			for i := range o.Fields {
				if usable(&o.Fields[i]) && slices.Contains(fieldKeys(&o.Fields[i]), name) {
					return &o.Fields[i], true
				}
			}
		}
	}
	return nil, false
}

// suggestions lists fields sharing a word with a header that matched
// none, for the comment beside an unmatched column.
func suggestions(o *connector.Object, header string, taken map[string]bool) []string {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(header), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) >= 3 {
			words[w] = true
		}
	}
	var out []string
	for _, f := range o.Fields {
		if taken[f.Name] || !f.Writable(true) && !f.Writable(false) {
			continue
		}
		for _, t := range tokens(f.Name) {
			if words[t] {
				out = append(out, f.Name)
				break
			}
		}
		if len(out) == 3 {
			break
		}
	}
	return out
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// tokens splits an API name or label into lower-case words:
// vcms__Type_Of_Exploitation__c is type, of, exploitation.
func tokens(s string) []string {
	s = strings.TrimSuffix(s, "__c")
	if i := strings.Index(s, "__"); i > 0 {
		s = s[i+2:]
	}
	s = camel.ReplaceAllString(s, "${1} ${2}")
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// piiWords are the words of a field's name or label that suggest its
// sensitivity class, strictest class first.
var piiWords = []struct {
	class string
	words []string
}{
	{"sensitive", []string{"health", "medical", "trafficking", "exploitation", "psychosocial", "disability", "hiv", "sexual", "religion", "pregnancy", "abuse", "notes", "note", "remarks", "observations", "details", "diagnosis"}},
	{"direct", []string{"name", "birth", "birthdate", "dob", "phone", "mobile", "email", "address", "passport", "identity", "photo", "nid"}},
	{"quasi", []string{"ethnicity", "nationality", "citizenship", "gender", "sex", "age", "language", "district", "province", "village", "area", "workplace"}},
}

// suggestPII returns the sensitivity class a field's name or label
// suggests, "" for none.
func suggestPII(f *connector.Field) string {
	ts := append(tokens(f.Name), tokens(f.Label)...)
	for _, c := range piiWords {
		for _, w := range c.words {
			if slices.Contains(ts, w) {
				return c.class
			}
		}
	}
	return ""
}
