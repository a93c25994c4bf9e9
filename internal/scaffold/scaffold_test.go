package scaffold

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/mapping"
)

var ctx = context.Background()

// fakeOrg describes the built-in fake org's case-management objects, as
// casebridge init --fake-org does.
func fakeOrg(t *testing.T) ([]*connector.Object, mapping.DescribeFunc) {
	t.Helper()
	_, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	sf, err := salesforce.New(ctx, salesforce.Options{LoginURL: srv.URL,
		Auth: salesforce.Auth{Flow: salesforce.FlowClientCredentials, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"vcms__Survivor_Case__c", "vcms__Assistance__c", "vcms__Referral__c", "Account"}
	if err := sf.DescribeAll(ctx, names); err != nil {
		t.Fatal(err)
	}
	var out []*connector.Object
	for _, n := range names {
		o, err := sf.Describe(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out, sf.Describe
}

// copyFixture copies a sheet of fixtures/sheets into a test folder,
// changed by the replacements old, new, ... when given.
func copyFixture(t *testing.T, dir, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sheets", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("%s does not hold %q", name, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// generate runs Generate on a sheet of dir with the fake org's objects,
// writes the configuration beside it, and checks that it loads (validate)
// and passes the checks validate --online makes against the org.
func generate(t *testing.T, dir, sheet string, objects []*connector.Object, describe mapping.DescribeFunc, tweak func(*Options)) (string, *Summary) {
	t.Helper()
	o := Options{Sheet: sheet, SheetPath: filepath.Base(sheet), Objects: objects, ThisYear: 2026,
		Salesforce: Salesforce{LoginURL: "https://login.salesforce.com", Flow: "jwt", ClientID: "test-consumer-key", Username: "integration@example.org", PrivateKeyFile: "sf.key"}}
	if tweak != nil {
		tweak(&o)
	}
	data, sum, err := Generate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, strings.TrimSuffix(filepath.Base(sheet), filepath.Ext(sheet))+".yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("the configuration written does not validate: %v\n%s", err, data)
	}
	if errs := mapping.CheckOnline(ctx, cfg, describe); len(errs) > 0 {
		t.Fatalf("the configuration written fails against the org: %v\n%s", errs, data)
	}
	return string(data), sum
}

func matchOf(sum *Summary, column, field string) *Match {
	for i, m := range sum.Matched {
		if m.Column == column && m.Field == field {
			return &sum.Matched[i]
		}
	}
	return nil
}

// TestGenerateFixtures writes a configuration for each of the field
// offices' sheets (a Thai tracker under a merged title row, a Bengali CSV
// with Bengali digits, a Khmer workbook with a repeated header row): each
// loads and passes the org's checks, with the key column, date layouts and
// eras, value maps, yes/no presets and pii classes a person would choose.
func TestGenerateFixtures(t *testing.T) {
	objects, describe := fakeOrg(t)
	dir := t.TempDir()

	th, sum := generate(t, dir, copyFixture(t, dir, "th_tracker.csv"), objects, describe, nil)
	if sum.Object != "vcms__Survivor_Case__c" || sum.HeaderRow != 2 || sum.Rows != 4 || sum.Key != "รหัสเคส Case ID" || sum.KeyField != "vcms__External_Key__c" {
		t.Errorf("th: object %s, header row %d, %d rows, key %q -> %s", sum.Object, sum.HeaderRow, sum.Rows, sum.Key, sum.KeyField)
	}
	for _, want := range []string{
		"    header_row: 2\n",
		"      key: รหัสเคส Case ID\n",
		`      key_pattern: "^[A-Za-z]+-[A-Za-z]+-[0-9]+$"` + "\n",
		// Buddhist-era birth dates (12/03/2551) and Excel serials.
		`        date: { formats: ["02/01/2006", "2006-01-02"], era: buddhist, excel_serial: true, day_first: true }` + "\n",
		// 3/4/67: a two-digit Buddhist year.
		`        date: { formats: ["2006-01-02", "02/01/2006", "2/1/06"], era: buddhist, day_first: true }` + "\n",
		"          หญิง: Feminine   # a translation: check\n",
		"          ช: Masculine   # a translation: check\n",
		"          ไม่ยินยอม: Not_Obtained   # a translation: check\n",
		"        yes_no: th\n",
		"        transform: thai_name.first\n",
		"      #   ลำดับ\n",
	} {
		if !strings.Contains(th, want) {
			t.Errorf("th: no %q in\n%s", want, th)
		}
	}
	for _, c := range []struct{ column, field, how, pii string }{
		{"รหัสเคส Case ID", "vcms__Case_Code__c", "text", ""},
		{"เพศ", "vcms__Gender__c", "values", "quasi"},
		{"วันเกิด", "vcms__Birthdate__c", "date", "direct"},
		{"ชื่อ-สกุล", "vcms__Last_Name__c", "name", "direct"},
		{"หมายเหตุ", "vcms__Case_Notes__c", "text", "sensitive"},
		{"สถานะ", "vcms__Stage__c", "values", ""},
	} {
		if m := matchOf(sum, c.column, c.field); m == nil || m.How != c.how || m.PII != c.pii {
			t.Errorf("th: %s -> %s: %+v, want %s pii %q", c.column, c.field, m, c.how, c.pii)
		}
	}
	if !slices.Contains(sum.Unmatched, "ลำดับ") || slices.Contains(sum.Unmatched, "เพศ") {
		t.Errorf("th: unmatched %q", sum.Unmatched)
	}

	bd, sum := generate(t, dir, copyFixture(t, dir, "bd_cases.csv"), objects, describe, nil)
	if sum.Key != "Case No" || sum.HeaderRow != 1 || sum.Rows != 3 {
		t.Errorf("bd: key %q (the SL column counts rows), header row %d, %d rows", sum.Key, sum.HeaderRow, sum.Rows)
	}
	for _, want := range []string{
		// ০৩/০৪/২০২৪ and 03.04.2024
		`        date: { formats: ["02/01/2006", "02.01.2006"], day_first: true }` + "\n",
		"          মেয়ে: Feminine   # a translation: check\n",
		`        phone: { country: "880" }` + "\n",
		"        transform: bengali_name.first\n",
	} {
		if !strings.Contains(bd, want) {
			t.Errorf("bd: no %q in\n%s", want, bd)
		}
	}

	kh, sum := generate(t, dir, copyFixture(t, dir, "kh_register.xlsx"), objects, describe, nil)
	if sum.Key != "Code" || sum.HeaderRow != 2 || sum.Tab != "Register" || sum.Rows != 4 || sum.KeyPattern {
		t.Errorf("kh: key %q, header row %d, sheet %q, %d rows (the repeated header is not a row), pattern %v", sum.Key, sum.HeaderRow, sum.Tab, sum.Rows, sum.KeyPattern)
	}
	for _, want := range []string{"    kind: xlsx\n", "    sheet: Register\n", "          ស្រី: Feminine   # a translation: check\n", "        transform: khmer_name.first\n"} {
		if !strings.Contains(kh, want) {
			t.Errorf("kh: no %q in\n%s", want, kh)
		}
	}
}

// TestUnmatchedWordMarked: a word that matches no picklist value is left
// for a person, as a comment marked TODO, and the rest of the map works;
// a column none of whose words matched is written as a comment whole.
func TestUnmatchedWordMarked(t *testing.T) {
	objects, describe := fakeOrg(t)
	dir := t.TempDir()
	// ส่งต่อ (referred) becomes รอเอกสาร (waiting for papers); ยินยอม's
	// words become words no table knows.
	p := copyFixture(t, dir, "th_tracker.csv", ",ส่งต่อ,", ",รอเอกสาร,", "10/04/2567,ยินยอม,", "10/04/2567,ตกลง,", ",ไม่ยินยอม,", ",ปฏิเสธ,", ",ถอนความยินยอม,", ",ยกเลิก,")
	y, sum := generate(t, dir, p, objects, describe, nil)
	if !regexp.MustCompile(`(?m)^ {8}# {3}รอเอกสาร: \? {3}# TODO: map this word \(one of Identified, Verification, `).MatchString(y) {
		t.Errorf("the unmatched status word is not marked:\n%s", y)
	}
	if !strings.Contains(y, "          กำลังดำเนินการ: Active") {
		t.Errorf("the matched status words are not mapped:\n%s", y)
	}
	if !regexp.MustCompile(`(?m)^ {6}# - sf: vcms__Consent_Status__c\n {6}# {3}local: ยินยอม\n`).MatchString(y) ||
		!strings.Contains(y, "# TODO: no word matched a value of vcms__Consent_Status__c") {
		t.Errorf("a map of no matched word is not left for a person:\n%s", y)
	}
	if sum.ToMap != 4 || sum.TODOs < 5 {
		t.Errorf("%d words to map, %d TODOs; want 4 and at least 5", sum.ToMap, sum.TODOs)
	}
}

// TestSpanishTracker: a Guatemalan office's sheet under a title row, its
// headers and status words in Spanish as typed (no "de" in "Fecha
// identificación", Identificado and En verificación for the first stages):
// the date column is matched and every status word mapped.
func TestSpanishTracker(t *testing.T) {
	objects, describe := fakeOrg(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "gt_casos.csv")
	sheet := "Registro de casos - Oficina Norte,,,\n" +
		"No. de Caso,Sexo,Fecha identificación,Estado\n" +
		"GT-0001,Femenino,14/02/2024,Activo\n" +
		"GT-0002,Masculino,01/03/2024,Identificado\n" +
		"GT-0003,F,15/03/2024,Seguimiento\n" +
		"GT-0004,M,20/03/2024,Cerrado\n" +
		"GT-0005,Femenino,02/04/2024,En verificación\n"
	if err := os.WriteFile(p, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	y, sum := generate(t, dir, p, objects, describe, nil)
	if matchOf(sum, "Fecha identificación", "vcms__Identification_Date__c") == nil {
		t.Errorf("Fecha identificación is not matched to vcms__Identification_Date__c:\n%s", y)
	}
	for _, want := range []string{"Identificado: Identified", "En verificación: Verification", "Activo: Active", "Cerrado: Closed"} {
		if !strings.Contains(y, "          "+want+"   # a translation: check") {
			t.Errorf("%s is not in the stage's value map:\n%s", want, y)
		}
	}
	if sum.ToMap != 0 {
		t.Errorf("%d words left to map, want 0:\n%s", sum.ToMap, y)
	}
}

// TestFreeTextGetsNoValueMap: a column whose header names a picklist but
// which holds many different words (names typed into it) gets no value
// map, and none of its cells is written.
func TestFreeTextGetsNoValueMap(t *testing.T) {
	objects, describe := fakeOrg(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Case ID,Status,Gender\n")
	var names []string
	for i := range 30 {
		name := "Person Number" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + string(rune('a'+i/26))
		names = append(names, name)
		b.WriteString("C-" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "," + name + ",F\n")
	}
	p := filepath.Join(dir, "cases.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	y, sum := generate(t, dir, p, objects, describe, func(o *Options) { o.Object = "vcms__Survivor_Case__c" })
	for _, n := range names {
		if strings.Contains(y, n) {
			t.Fatalf("a free-text cell is in the configuration:\n%s", y)
		}
	}
	if !strings.Contains(y, "# TODO: 30 different words in 30 rows: free text rather than a picklist?") || !strings.Contains(y, "      # - sf: vcms__Stage__c\n") {
		t.Errorf("the free-text column is not left for a person:\n%s", y)
	}
	if !strings.Contains(y, "          F: Feminine") || sum.Key != "Case ID" {
		t.Errorf("key %q; the gender column is not mapped:\n%s", sum.Key, y)
	}
}

func TestGuessDates(t *testing.T) {
	for _, c := range []struct {
		name   string
		cells  []string
		script string
		want   string // formats|era|dayFirst|evidence|serial
	}{
		{"month first by a day above 12", []string{"04/13/2024", "05/01/2024", ""}, "en", "01/02/2006|false|true|false"},
		{"day first by a day above 12", []string{"13/04/2024", "3/5/2024", "01/05/2024"}, "en", "02/01/2006,2/1/2006|true|true|false"},
		{"no evidence: day first assumed", []string{"01/02/2024"}, "en", "02/01/2006|true|false|false"},
		{"thai buddhist era", []string{"12/03/2551", "39519"}, "th", "02/01/2006|buddhist|true|false|true"},
		{"khmer buddhist era", []string{"12/03/2552"}, "km", "02/01/2006|buddhist_khmer|true|false|false"},
		{"two-digit BE year in a Thai sheet", []string{"3/4/67", "03/04/2024"}, "th", "02/01/2006,2/1/06|buddhist|true|false|false"},
		{"two-digit year elsewhere stays Gregorian", []string{"3/4/24"}, "en", "2/1/06||true|false|false"},
		{"month names", []string{"03-Apr-2024", "14-May-2024"}, "en", "02-Jan-2006||true|false|false"},
	} {
		g, ok := guessDates(c.cells, c.script, 2026)
		if !ok {
			t.Errorf("%s: not dates", c.name)
			continue
		}
		got := strings.Join(g.formats, ",") + "|" + g.era + "|" + fmtBool(g.dayFirst) + "|" + fmtBool(g.evidence) + "|" + fmtBool(g.excelSerial)
		want := c.want
		if strings.Count(want, "|") == 3 { // era left out: Gregorian
			parts := strings.SplitN(want, "|", 2)
			want = parts[0] + "||" + parts[1]
		}
		if got != want {
			t.Errorf("%s: %s, want %s", c.name, got, want)
		}
	}
	if _, ok := guessDates([]string{"Somchai", "12/03/2551", "Ana", "Bea"}, "th", 2026); ok {
		t.Error("a column of names with one date reads as dates")
	}
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestKeyScore(t *testing.T) {
	col := func(header string, cells ...string) *column {
		c := &column{header: header, counts: map[string]int{}}
		for _, v := range cells {
			c.cells = append(c.cells, v)
			if v == "" {
				c.empty++
				continue
			}
			if c.counts[fold(v)] == 0 {
				c.words = append(c.words, v)
			}
			c.counts[fold(v)]++
		}
		return c
	}
	tbl := &table{rows: 3, columns: []*column{
		col("SL", "1", "2", "3"),
		col("Name", "Ana Test", "Bea Test", "Cai Test"),
		col("Case No", "BD-1", "BD-2", "BD-3"),
		col("Gender", "F", "F", "M"),
	}}
	k, err := findKey(tbl, "")
	if err != nil || k.header != "Case No" {
		t.Errorf("key %v, %v; want Case No", k, err)
	}
	tbl.columns[2] = col("Case No", "BD-1", "", "BD-3")
	tbl.columns = tbl.columns[1:]
	if k, err := findKey(tbl, ""); err == nil {
		t.Errorf("key %q found among a names column, a column with an empty cell and a repeated one", k.header)
	}
}

func TestSuggestPII(t *testing.T) {
	for name, want := range map[string]string{
		"vcms__First_Name__c": "direct", "vcms__Birthdate__c": "direct", "vcms__Mobile_Phone__c": "direct", "vcms__Home_Address__c": "direct", "Passport_Number__c": "direct",
		"vcms__Gender__c": "quasi", "vcms__Citizenship__c": "quasi", "Ethnicity__c": "quasi", "vcms__Age_At_Identification__c": "quasi",
		"vcms__Trafficking_Status__c": "sensitive", "vcms__Type_Of_Exploitation__c": "sensitive", "Health_Condition__c": "sensitive", "vcms__Case_Notes__c": "sensitive",
		"vcms__Stage__c": "", "vcms__Case_Code__c": "",
	} {
		if got := suggestPII(&connector.Field{Name: name}); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"เพศ": "เพศ", "Case No": "Case No", "yes": `"yes"`, "N": `"N"`, "12": `"12"`, "a: b": `"a: b"`, "x #y": `"x #y"`,
		"'মহিলা '": `"'মহিলা '"`, "line\nbreak": `"line\nbreak"`, "": `""`, "-x": `"-x"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// writeSheet writes a CSV sheet of a header line and rows into dir.
func writeSheet(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFreeTextCellsNotCopied: free text in a column matched to a
// checkbox field, and a small sample (5 rows) of free text in a column
// matched to a picklist field, leave no cell in the configuration: the
// checkbox rule says how many words the preset does not know, the
// picklist rule is left for a person. A sheet of yes/no words with a
// note typed into two cells copies neither note either, while the
// fixtures' yes/no and picklist spellings are still written
// (TestGenerateFixtures, TestUnmatchedWordMarked).
func TestFreeTextCellsNotCopied(t *testing.T) {
	objects, describe := fakeOrg(t)
	dir := t.TempDir()
	verified := []string{"wheelchair since 2019 accident", "asked the clinic on 4 May", "mother says she is fifteen", "lost contact", "seen by doctor Aung"}
	status := []string{"waiting for the lawyer to call back", "moved to her aunt in Mae Sot", "hospital visit 12/05", "Nang Seng", "on hold until the court date"}
	lines := []string{"Case ID,Gender,Age Verified,Status"}
	for i := range verified {
		lines = append(lines, fmt.Sprintf("C-%02d,F,%q,%q", i+1, verified[i], status[i]))
	}
	y, sum := generate(t, dir, writeSheet(t, dir, "small.csv", lines...), objects, describe, func(o *Options) { o.Object = "vcms__Survivor_Case__c" })
	for _, cell := range append(slices.Clone(verified), status...) {
		if strings.Contains(y, cell) {
			t.Errorf("the cell %q is in the configuration:\n%s", cell, y)
		}
	}
	if matchOf(sum, "Age Verified", "vcms__Age_Verified__c") == nil || matchOf(sum, "Status", "vcms__Stage__c") == nil {
		t.Fatalf("the columns are not matched to the checkbox and the picklist: %+v", sum.Matched)
	}
	if !strings.Contains(y, "# TODO: 5 word(s) of this column are not in the en preset") || !strings.Contains(y, "        yes_no: en\n") {
		t.Errorf("the checkbox rule does not count the words to map:\n%s", y)
	}
	if !strings.Contains(y, "# TODO: 5 different words in 5 rows: free text rather than a picklist?") || !strings.Contains(y, "      # - sf: vcms__Stage__c\n") {
		t.Errorf("the free-text status column is not left for a person:\n%s", y)
	}
	if !strings.Contains(y, "          F: Feminine") {
		t.Errorf("the gender column is not mapped:\n%s", y)
	}

	// Twelve rows of yes/no words: few distinct words, but two notes
	// typed once each.
	notes := []string{"only after the 2nd interview", "not sure, ask Ms Lwin"}
	lines = []string{"Case ID,Age Verified"}
	for i := range 12 {
		v := []string{"yes", "no", "Yes (madrasa)"}[i%3]
		if i < len(notes) {
			v = notes[i]
		}
		lines = append(lines, fmt.Sprintf("C-%02d,%q", i+1, v))
	}
	y, _ = generate(t, dir, writeSheet(t, dir, "yesno.csv", lines...), objects, describe, func(o *Options) { o.Object = "vcms__Survivor_Case__c" })
	for _, n := range notes {
		if strings.Contains(y, n) {
			t.Errorf("the note %q is in the configuration:\n%s", n, y)
		}
	}
	if !strings.Contains(y, "# TODO: 3 word(s) of this column are not in the en preset") {
		t.Errorf("the checkbox rule does not count the words to map:\n%s", y)
	}

	// A yes/no column's own spellings are still quoted for a person.
	lines = []string{"Case ID,Age Verified"}
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("C-%02d,%s", i+1, []string{"yes", "no", "Yes (madrasa)"}[i%3]))
	}
	y, _ = generate(t, dir, writeSheet(t, dir, "spellings.csv", lines...), objects, describe, func(o *Options) { o.Object = "vcms__Survivor_Case__c" })
	if !strings.Contains(y, "      #   Yes (madrasa)\n") {
		t.Errorf("a yes/no spelling the preset lacks is not listed:\n%s", y)
	}
}

func TestPicklistLike(t *testing.T) {
	counts := func(words ...string) map[string]int {
		m := map[string]int{}
		for _, w := range words {
			m[fold(w)]++
		}
		return m
	}
	for _, c := range []struct {
		name  string
		words []string
		cells []string
		rows  int
		want  bool
	}{
		{"thai status words, 4 rows", []string{"กำลังดำเนินการ", "ติดตามผล", "ปิดเคส", "ส่งต่อ"}, []string{"กำลังดำเนินการ", "ติดตามผล", "ปิดเคส", "ส่งต่อ"}, 4, true},
		{"spanish spellings, 5 rows", []string{"Identificado", "En verificación", "partida de nacimiento"}, []string{"Identificado", "En verificación", "partida de nacimiento"}, 5, true},
		{"a note with digits, 3 rows", []string{"yes", "wheelchair since 2019 accident"}, []string{"yes", "yes", "wheelchair since 2019 accident"}, 3, false},
		{"a sentence, 4 rows", []string{"F", "waiting for the lawyer to call back"}, []string{"F", "F", "F", "waiting for the lawyer to call back"}, 4, false},
		{"bengali digits", []string{"১৩", "না"}, []string{"১৩", "না"}, 2, false},
		{"a spelling with digits, repeated", []string{"Grade 3", "Grade 4"}, []string{"Grade 3", "Grade 3", "Grade 4", "Grade 4"}, 4, true},
		{"30 rows, nearly all different", nil, nil, 30, false},
	} {
		words := c.words
		if c.name == "30 rows, nearly all different" {
			for i := range 30 {
				words = append(words, fmt.Sprintf("w%c%c", 'a'+i%26, 'a'+i/26))
			}
			c.cells = words
		}
		if got := picklistLike(words, counts(c.cells...), c.rows); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
