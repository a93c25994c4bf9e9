package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/connector"
)

var update = flag.Bool("update", false, "rewrite fixtures/sheets/kh_register.xlsx")

// xc is a cell of a hand-built workbook: a value, its type (s for a
// shared... here inline strings are used for text), a style index and a
// formula.
type xc struct {
	ref, t, v, f string
	s            int
}

type xs struct {
	name   string
	rows   [][]xc
	merges []string
	cols   string // <cols> XML, to check widths survive
}

// buildXLSX writes a minimal, valid SpreadsheetML package by hand, so
// tests control exactly what Excel would have saved: cached formula
// values, date styles, merged cells. Style 1 is dd/mm/yyyy (custom 164),
// 2 is the built-in m/d/yyyy (14), 3 is "0000" (custom 165), 4 is #,##0.00.
func buildXLSX(t testing.TB, sheets ...xs) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + body))
	}
	var ct, wbSheets, rels strings.Builder
	for i := range sheets {
		n := i + 1
		fmt.Fprintf(&ct, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		fmt.Fprintf(&wbSheets, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, html.EscapeString(sheets[i].name), n, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, n, n)
	}
	add("[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`+ct.String()+`</Types>`)
	add("_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets>`+wbSheets.String()+`</sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`, len(sheets)+1)+`</Relationships>`)
	add("xl/styles.xml", `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="0000"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`)
	for i, sh := range sheets {
		var b strings.Builder
		b.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`)
		b.WriteString(sh.cols)
		b.WriteString(`<sheetData>`)
		for r, row := range sh.rows {
			if row == nil {
				continue
			}
			fmt.Fprintf(&b, `<row r="%d">`, r+1)
			for _, c := range row {
				fmt.Fprintf(&b, `<c r="%s"`, c.ref)
				if c.s != 0 {
					fmt.Fprintf(&b, ` s="%d"`, c.s)
				}
				t := c.t
				if t == "" && c.f == "" {
					t = "inlineStr"
				}
				if t != "" && t != "n" {
					fmt.Fprintf(&b, ` t="%s"`, t)
				}
				b.WriteString(">")
				if c.f != "" {
					fmt.Fprintf(&b, `<f>%s</f>`, html.EscapeString(c.f))
				}
				if t == "inlineStr" {
					fmt.Fprintf(&b, `<is><t xml:space="preserve">%s</t></is>`, html.EscapeString(c.v))
				} else if c.v != "" {
					fmt.Fprintf(&b, `<v>%s</v>`, html.EscapeString(c.v))
				}
				b.WriteString("</c>")
			}
			b.WriteString("</row>")
		}
		b.WriteString(`</sheetData>`)
		if len(sh.merges) > 0 {
			fmt.Fprintf(&b, `<mergeCells count="%d">`, len(sh.merges))
			for _, m := range sh.merges {
				fmt.Fprintf(&b, `<mergeCell ref="%s"/>`, m)
			}
			b.WriteString(`</mergeCells>`)
		}
		b.WriteString(`</worksheet>`)
		add(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), b.String())
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// str and num build cells.
func str(ref, v string) xc        { return xc{ref: ref, v: v} }
func num(ref, v string, s int) xc { return xc{ref: ref, t: "n", v: v, s: s} }

// khmerRegister is the synthetic register of doc/architecture.md §11.3.
func khmerRegister(t testing.TB) []byte { return khmerRegisterVariant(t, false) }

func khmerRegisterVariant(t testing.TB, lastMerged bool) []byte {
	header := []xc{str("A2", "Code"), str("B2", "Name (Khmer)"), str("C2", "Name (Latin)"), str("D2", "Sex"), str("E2", "DOB/Age"),
		str("F2", "Date returned"), str("G2", "Services"), str("H2", "Referred to"), str("J2", "Status"), str("K2", "Age next year"), str("L2", "Serial")}
	header2 := make([]xc, len(header))
	for i, c := range header {
		c.ref = strings.Replace(c.ref, "2", "5", 1)
		header2[i] = c
	}
	reg := xs{
		name: "Register",
		cols: `<cols><col min="1" max="1" width="18.5" customWidth="1"/><col min="2" max="2" width="25" customWidth="1"/></cols>`,
		rows: [][]xc{
			{str("A1", "Returnee register – CONFIDENTIAL")},
			header,
			{str("A3", "KH-RT-24-031"), str("B3", "សុខ តេស្ត "), str("C3", "SOK Test"), str("D3", "ប្រុស"), num("E3", "16", 0),
				num("F3", "45385", 1), str("G3", "shelter, medical"), str("H3", "Example Org"), str("I3", "+855 00 000 000"), str("J3", "បើក"),
				{ref: "K3", f: "E3+1", v: "17"}, num("L3", "39519", 0)},
			{str("A4", "KH-RT-24-032"), str("B4", "ចាន់ ឧទាហរណ៍"), str("C4", "Test Chan"), str("D4", "ស្រី"), str("E4", "២០០៨"),
				num("F4", "45386", 2), str("G4", "ជម្រក"), str("J4", "បានបិទ"), {ref: "K4", f: "E4+1", t: "e", v: "#VALUE!"}},
			header2,
			{num("A6", "42", 3), str("B6", "ដារា សាកល្បង"), num("E6", "15.5", 4), str("J6", "បើក"), {ref: "K6", t: "str", f: `"n/a"`, v: "n/a"}},
			nil,
			{str("A8", "KH-RT-24-033  "), str("C8", "DARA Test"), str("J8", "បានផ្ទេរ")},
		},
		merges: []string{"A1:L1", "H2:I2"},
	}
	if lastMerged {
		reg.rows[1] = reg.rows[1][:len(reg.rows[1])-1] // no "Serial": the merged header is last
		reg.merges = append(reg.merges, "K2:L2")
	}
	old := xs{name: "old 2023", rows: [][]xc{
		{str("A1", "Code"), str("B1", "Name (Khmer)"), str("C1", "Status")},
		{str("A2", "KH-RT-23-001"), str("B2", "សុខា ចាស់"), str("C2", "បានបិទ")},
	}}
	return buildXLSX(t, reg, old)
}

func TestFixtureRegister(t *testing.T) {
	p := filepath.Join("..", "..", "fixtures", "sheets", "kh_register.xlsx")
	data := khmerRegister(t)
	if *update {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The demo and other packages read the fixture: it must be the
	// workbook TestXLSXRead checks, not a stale copy.
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./connector/sheet -run TestFixtureRegister -update writes it)", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("%s differs from the workbook the tests check; run go test ./connector/sheet -run TestFixtureRegister -update", p)
	}
}

func TestXLSXRead(t *testing.T) {
	p := writeFile(t, "register.xlsx", khmerRegister(t))
	c := newConn(t,
		SheetConfig{Object: "reg", Path: p, Sheet: "Register", Key: "Code", Columns: []string{"Date returned"}},
		SheetConfig{Object: "old", Path: p, Sheet: "old 2023", Key: "code"})
	o, err := c.Describe(ctx, "reg")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Code", "Name (Khmer)", "Name (Latin)", "Sex", "DOB/Age", "Date returned", "Services", "Referred to", "Referred to (2)", "Status", "Age next year", "Serial"}
	if got := o.FieldNames(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("fields %q", got)
	}
	recs, errs := readAll(t, c, "reg")
	if len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	if got := strings.Join(sortedKeys(recs), " "); got != "0042 KH-RT-24-031 KH-RT-24-032 KH-RT-24-033" {
		t.Fatalf("keys %s", got)
	}
	checks := []struct{ key, field, want string }{
		{"KH-RT-24-031", "Name (Khmer)", "សុខ តេស្ត "},  // trailing space kept for the mapping layer
		{"KH-RT-24-031", "Date returned", "2024-04-03"}, // custom date format
		{"KH-RT-24-032", "Date returned", "2024-04-04"}, // built-in date format
		{"KH-RT-24-031", "Age next year", "17"},         // cached formula value
		{"KH-RT-24-032", "Age next year", "#VALUE!"},
		{"0042", "Age next year", "n/a"},
		{"KH-RT-24-031", "Serial", "39519"}, // a serial in a General cell stays a number
		{"KH-RT-24-031", "Referred to (2)", "+855 00 000 000"},
		{"0042", "DOB/Age", "15.5"}, // numbers exact, not as displayed (15.50)
		{"0042", "Code", "0042"},    // the key from the cell's text
	}
	for _, ch := range checks {
		if got := text(t, recs[ch.key], ch.field); got != ch.want {
			t.Errorf("%s.%s = %q, want %q", ch.key, ch.field, got, ch.want)
		}
	}
	old, errs := readAll(t, c, "old")
	if len(old) != 1 || len(errs) != 0 {
		t.Fatalf("old 2023: %v %v", old, errs)
	}

	c = newConn(t, SheetConfig{Object: "x", Path: p, Sheet: "2024", Key: "Code"})
	_, err = c.Read(ctx, "x", "", func(connector.Record) error { return nil })
	if !errors.Is(err, connector.ErrObjectNotFound) || !strings.Contains(err.Error(), `sheet "2024" not found`) || !strings.Contains(err.Error(), "register.xlsx") {
		t.Errorf("missing sheet: %v", err)
	}
	c = newConn(t, SheetConfig{Object: "x", Path: p, Sheet: "Register", Key: "Code", Columns: []string{"Province"}})
	_, err = c.Read(ctx, "x", "", func(connector.Record) error { return nil })
	if !errors.Is(err, connector.ErrFieldNotFound) || !connector.IsFatal(err) || !strings.Contains(err.Error(), `sheet "Register": column "Province"`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestXLSXBadFiles(t *testing.T) {
	for name, data := range map[string][]byte{
		"corrupt":   []byte("PK\x03\x04 this is not a zip"),
		"encrypted": append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...),
	} {
		p := writeFile(t, name+".xlsx", data)
		c := newConn(t, SheetConfig{Object: "x", Path: p, Key: "Code"})
		_, err := c.Read(ctx, "x", "", func(connector.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), name+".xlsx") {
			t.Errorf("%s: %v", name, err)
		}
		if name == "encrypted" && !strings.Contains(err.Error(), "password") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// snapshot is everything a write must keep: every cell's value, formula
// and style on every sheet, and column widths.
func snapshot(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	for _, sh := range f.GetSheetList() {
		rows, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r := range len(rows) + 2 {
			for col := 1; col <= 14; col++ {
				name, _ := excelize.CoordinatesToCellName(col, r+1)
				v, _ := f.GetCellValue(sh, name, excelize.Options{RawCellValue: true})
				fm, _ := f.GetCellFormula(sh, name)
				st, _ := f.GetCellStyle(sh, name)
				if v != "" || fm != "" || st != 0 {
					out[sh+"!"+name] = fmt.Sprintf("%q f=%q s=%d", v, fm, st)
				}
			}
		}
		for _, col := range []string{"A", "B", "C"} {
			w, _ := f.GetColWidth(sh, col)
			out[sh+"!width "+col] = fmt.Sprint(w)
		}
		m, _ := f.GetMergeCells(sh)
		for _, mc := range m {
			out[sh+"!merge "+mc.GetStartAxis()] = mc.GetEndAxis()
		}
	}
	return out
}

func diffSnap(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s: %s -> %s", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: (none) -> %s", k, v))
		}
	}
	return d
}

func TestXLSXWritePreserves(t *testing.T) {
	p := writeFile(t, "register.xlsx", khmerRegister(t))
	c := newConn(t, SheetConfig{Object: "reg", Path: p, Sheet: "Register", Key: "Code"})
	readAll(t, c, "reg")
	before := snapshot(t, p)

	res := upsert(t, c, "reg", rec("kh-rt-24-031", "Status", "បានបិទ", "Name (Latin)", "SOK Test"))
	if res[0].Err != nil || res[0].Created {
		t.Fatalf("%+v", res[0])
	}
	after := snapshot(t, p)
	d := diffSnap(before, after)
	if len(d) != 1 || !strings.HasPrefix(d[0], "Register!J3:") {
		t.Fatalf("changes: %q", d)
	}
	f, _ := excelize.OpenFile(p)
	props, _ := f.GetCalcProps()
	f.Close()
	if props.FullCalcOnLoad == nil || !*props.FullCalcOnLoad {
		t.Errorf("workbook not set to recalculate on open")
	}

	// A formula cell is never overwritten: the record fails, others go on.
	res = upsert(t, c, "reg", rec("KH-RT-24-031", "Age next year", "99", "Status", "x"), rec("KH-RT-24-032", "Date returned", "2024-05-01", "DOB/Age", "2008"))
	if connector.CodeOf(res[0].Err) != connector.CodeNotWritable || !strings.Contains(res[0].Err.Error(), "Age next year") || res[1].Err != nil {
		t.Fatalf("%v / %v", res[0].Err, res[1].Err)
	}
	recs, _ := readAll(t, c, "reg")
	if got := text(t, recs["KH-RT-24-031"], "Status"); got != "បានបិទ" {
		t.Errorf("failed record was partly written: %q", got)
	}
	if got := text(t, recs["KH-RT-24-032"], "Date returned"); got != "2024-05-01" {
		t.Errorf("date written back: %q", got)
	}
	snap := snapshot(t, p)
	if got := snap["Register!F4"]; !strings.Contains(got, `"45413"`) || !strings.HasSuffix(got, "s=2") {
		t.Errorf("date cell should hold a serial with its date style: %s", got)
	}

	// Append: a new row after the last, styles copied from the row above.
	res = upsert(t, c, "reg", rec("KH-RT-24-040", "Date returned", "2024-06-01", "Status", "បើក"))
	if res[0].Err != nil || !res[0].Created {
		t.Fatalf("%+v", res[0])
	}
	recs, errs := readAll(t, c, "reg")
	if len(errs) != 0 || text(t, recs["KH-RT-24-040"], "Date returned") != "2024-06-01" {
		t.Fatalf("appended record: %v %v", recs["KH-RT-24-040"], errs)
	}
	snap = snapshot(t, p)
	if got := snap["Register!A9"]; !strings.Contains(got, "KH-RT-24-040") {
		t.Errorf("new row should be row 9: %s", got)
	}

	// Delete marks a Deleted column added after the last header.
	if res, err := c.Delete(ctx, "reg", []string{"KH-RT-24-033"}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	snap = snapshot(t, p)
	if !strings.Contains(snap["Register!M2"], "Deleted") || !strings.Contains(snap["Register!M8"], "deleted") {
		t.Errorf("mark column: %s %s", snap["Register!M2"], snap["Register!M8"])
	}
	recs, _ = readAll(t, c, "reg")
	if _, ok := recs["KH-RT-24-033"]; ok || len(recs) != 4 {
		t.Errorf("deleted record still read")
	}
	// The other sheet is untouched.
	final := snapshot(t, p)
	for k, v := range before {
		if strings.HasPrefix(k, "old 2023!") && final[k] != v {
			t.Errorf("%s changed", k)
		}
	}
}

func TestXLSXRemoveRows(t *testing.T) {
	p := writeFile(t, "register.xlsx", khmerRegister(t))
	c := newConn(t, SheetConfig{Object: "reg", Path: p, Sheet: "Register", Key: "Code", Delete: DeleteRemove})
	if res, err := c.Delete(ctx, "reg", []string{"KH-RT-24-031", "0042"}); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	recs, errs := readAll(t, c, "reg")
	if got := strings.Join(sortedKeys(recs), " "); got != "KH-RT-24-032 KH-RT-24-033" || len(errs) != 0 {
		t.Fatalf("keys %s %v", got, errs)
	}
}

// TestXLSXTypedWrites: a value goes in as a number or date only when it
// reads back the same; leading zeros and text columns stay text.
func TestXLSXTypedWrites(t *testing.T) {
	p := writeFile(t, "register.xlsx", khmerRegister(t))
	c := newConn(t, SheetConfig{Object: "reg", Path: p, Sheet: "Register", Key: "Code"})
	res := upsert(t, c, "reg",
		rec("KH-RT-24-031", "DOB/Age", "17", "Serial", "0800000000"),
		rec("KH-RT-24-033", "Date returned", "2024-07-01", "DOB/Age", "12.50"),
		rec("0042", "DOB/Age", "-3"))
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	snap := snapshot(t, p)
	for cell, want := range map[string]string{
		"Register!E3": `"17" f="" s=0`,         // number stays a number
		"Register!L3": `"0800000000" f="" s=0`, // would lose its zero as a number
		"Register!F8": `"45474" f="" s=2`,      // empty cell in a date column: a serial, with the column's date style
		"Register!E8": `"12.50" f="" s=4`,      // "12.50" would read back as 12.5: text, in the column's style
		"Register!E6": `"-3" f="" s=4`,
	} {
		if got := snap[cell]; got != want {
			t.Errorf("%s = %s, want %s", cell, got, want)
		}
	}
	f, _ := excelize.OpenFile(p)
	defer f.Close()
	for cell, want := range map[string]excelize.CellType{"E3": excelize.CellTypeUnset, "L3": excelize.CellTypeSharedString, "F8": excelize.CellTypeUnset, "E8": excelize.CellTypeSharedString} {
		if got, _ := f.GetCellType("Register", cell); got != want {
			t.Errorf("%s type %v, want %v", cell, got, want)
		}
	}
	recs, _ := readAll(t, c, "reg")
	for _, ch := range []struct{ key, field, want string }{
		{"KH-RT-24-031", "DOB/Age", "17"}, {"KH-RT-24-031", "Serial", "0800000000"},
		{"KH-RT-24-033", "Date returned", "2024-07-01"}, {"KH-RT-24-033", "DOB/Age", "12.50"}, {"0042", "DOB/Age", "-3"},
	} {
		if got := text(t, recs[ch.key], ch.field); got != ch.want {
			t.Errorf("%s.%s = %q, want %q", ch.key, ch.field, got, ch.want)
		}
	}
}

func TestXScan(t *testing.T) {
	src := `<?xml version="1.0"?>` + "\r\n" +
		`<!-- it's a comment > with a quote --><x:worksheet xmlns:x="ns"><x:row r="1" spans='1:2'>` +
		`<x:c r="A1" t="inlineStr" data='a>b'><x:is><x:t>a &amp; b &lt;c&gt; &#x1F600;&#65;` + "\r\nline</x:t></x:is></x:c>" +
		`<c r="B1" s="2"/><c><v><![CDATA[1<2]]></v></c></x:row></x:worksheet>`
	x := newXScan(strings.NewReader(src))
	var got []string
	var tok xtok
	for {
		err := x.next(&tok)
		if err != nil {
			break
		}
		switch tok.kind {
		case tokStart:
			r, _ := x.attrOf(tok.attrs, "r")
			d, _ := x.attrOf(tok.attrs, "data")
			got = append(got, "<"+string(tok.name)+" r="+r+" data="+d)
		case tokEnd:
			got = append(got, "</"+string(tok.name))
		case tokText:
			got = append(got, "text "+string(tok.text))
		}
	}
	want := []string{"text \n", "<worksheet r= data=", "<row r=1 data=", "<c r=A1 data=a>b", "<is r= data=", "<t r= data=",
		"text a & b <c> 😀A\nline", "</t", "</is", "</c", "<c r=B1 data=", "</c", "<c r= data=", "<v r= data=", "text 1<2", "</v", "</c", "</row", "</worksheet"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tokens\n%q\nwant\n%q", got, want)
	}
}

// FuzzXScan: the tokenizer never panics or loops on arbitrary input.
func FuzzXScan(f *testing.F) {
	f.Add(`<?xml?><a b="1>2" c='x'><!-- ' --><![CDATA[<]]>&amp;&#xZZ;&#1114112;</a><b/>`)
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)
	f.Fuzz(func(t *testing.T, src string) {
		x := newXScan(strings.NewReader(src))
		var tok xtok
		for i := 0; i <= len(src)+1; i++ {
			if err := x.next(&tok); err != nil {
				return
			}
			if tok.kind == tokStart {
				x.attrOf(tok.attrs, "r")
			}
		}
		t.Fatalf("more tokens than bytes")
	})
}

// TestXLSXColumnAfterMergedHeader: a column casebridge adds goes after a
// merged header's whole span.
func TestXLSXColumnAfterMergedHeader(t *testing.T) {
	p := writeFile(t, "register.xlsx", khmerRegisterVariant(t, true))
	c := newConn(t, SheetConfig{Object: "reg", Path: p, Sheet: "Register", Key: "Code", StatusColumn: "Sync"})
	upsert(t, c, "reg", rec("KH-RT-24-031", "Status", "x"))
	snap := snapshot(t, p)
	if !strings.Contains(snap["Register!M2"], "Sync") || !strings.Contains(snap["Register!M3"], "synced") {
		t.Errorf("status column: M2 %s, M3 %s, L2 %s", snap["Register!M2"], snap["Register!M3"], snap["Register!L2"])
	}
}
