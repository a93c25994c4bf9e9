package sheet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/connector"
)

var ctx = context.Background()

// fixture copies a file of fixtures/sheets into dir.
func fixture(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sheets", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newConn(t testing.TB, sheets ...SheetConfig) *Connector {
	t.Helper()
	c, err := New(Config{Name: "files", Sheets: sheets})
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC) }
	return c
}

// readAll returns the good records by key and the errors of the others.
func readAll(t *testing.T, c *Connector, object string) (map[string]connector.Record, []error) {
	t.Helper()
	recs := map[string]connector.Record{}
	var errs []error
	if _, err := c.Read(ctx, object, "", func(r connector.Record) error {
		if r.Err != nil {
			errs = append(errs, r.Err)
			return nil
		}
		if _, dup := recs[r.Key]; dup {
			t.Errorf("key %s passed twice", r.Key)
		}
		recs[r.Key] = r
		return nil
	}); err != nil {
		t.Fatalf("read: %v", err)
	}
	return recs, errs
}

func text(t *testing.T, r connector.Record, field string) string {
	t.Helper()
	v, ok := r.Fields[field]
	if !ok {
		t.Fatalf("record %s has no field %q", r.Key, field)
	}
	s, _ := v.Text()
	return s
}

func upsert(t *testing.T, c *Connector, object string, recs ...connector.Record) []connector.Result {
	t.Helper()
	res, err := c.Upsert(ctx, object, recs)
	if err != nil {
		t.Fatalf("upsert: %v", err)
	}
	return res
}

func rec(key string, kv ...string) connector.Record {
	r := connector.Record{Key: key, Fields: map[string]connector.Value{}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<null>" {
			r.Fields[kv[i]] = connector.Null()
		} else {
			r.Fields[kv[i]] = connector.Text(kv[i+1])
		}
	}
	return r
}

func TestThaiTracker(t *testing.T) {
	p := fixture(t, t.TempDir(), "th_tracker.csv")
	c := newConn(t, SheetConfig{Object: "th", Path: p, Key: "รหัสเคส Case ID", Columns: []string{"ชื่อ-สกุล", "วันเกิด"}})
	o, err := c.Describe(ctx, "th")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Fields) != 16 || o.Key != "รหัสเคส Case ID" || !o.KeyField().ExternalID || o.KeyField().CaseSensitive {
		t.Fatalf("describe: %d fields, key %q", len(o.Fields), o.Key)
	}
	for _, f := range o.Fields {
		if f.Type != connector.TypeString {
			t.Errorf("field %s: type %s", f.Name, f.Type)
		}
	}
	recs, errs := readAll(t, c, "th")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if got := sortedKeys(recs); !slices.Equal(got, []string{"TH-CL-0007", "TH-CL-0008", "TH-CL-0011", "TH-CL-0012"}) {
		t.Fatalf("keys %v", got)
	}
	if got := text(t, recs["TH-CL-0008"], "หมายเหตุ"); got != "นัดเยี่ยมบ้าน\nเดือนหน้า" {
		t.Errorf("quoted newline: got %d bytes", len(got))
	}
	if got := text(t, recs["TH-CL-0011"], "วันเกิด"); got != "39519" {
		t.Errorf("serial kept as text: %q", got)
	}
	if v := recs["TH-CL-0007"].Fields["หมายเหตุ"]; !v.IsNull() {
		t.Errorf("empty cell should be null, got %v", v)
	}
}

func mapsKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBengaliCSV(t *testing.T) {
	p := fixture(t, t.TempDir(), "bd_cases.csv")
	c := newConn(t, SheetConfig{Object: "bd", Path: p, Key: "Case No"})
	recs, errs := readAll(t, c, "bd")
	if len(errs) != 0 || len(recs) != 3 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	if got := text(t, recs["BD-REM-0012"], "Age"); got != "১৩" {
		t.Errorf("Bengali digits are kept for the mapping layer: %q", got)
	}
	if got := text(t, recs["BD-REM-0013"], "Gender"); got != "'মহিলা '" {
		t.Errorf("cell text kept as typed: %q", got)
	}
}

// encodings: the same table in each encoding, BOM, delimiter and line
// ending a spreadsheet program produces.
func encodeUTF16(s string, be bool, bom bool) []byte {
	var out []byte
	if bom {
		if be {
			out = append(out, 0xFE, 0xFF)
		} else {
			out = append(out, 0xFF, 0xFE)
		}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestEncodingsAndDelimiters(t *testing.T) {
	table := func(d, eol string) string {
		return strings.Join([]string{"Code" + d + "Name" + d + "Note", "KH-1" + d + "សុខ តេស្ត" + d + "a\"b", "KH-2" + d + "\"x" + d + "y\"" + d + ""}, eol) + eol
	}
	cases := []struct {
		name string
		data []byte
		d    string
	}{
		{"utf8", []byte(table(",", "\n")), ","},
		{"utf8-bom-semicolon-crlf", append(slices.Clone(bomUTF8), table(";", "\r\n")...), ";"},
		{"utf16le-bom-tab", encodeUTF16(table("\t", "\r\n"), false, true), "\t"},
		{"utf16be-bom-tab", encodeUTF16(table("\t", "\r\n"), true, true), "\t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "f.csv", tc.data)
			c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "code"})
			recs, errs := readAll(t, c, "o")
			if len(errs) != 0 || len(recs) != 2 {
				t.Fatalf("%d records, errors %v", len(recs), errs)
			}
			if got := text(t, recs["KH-1"], "Name"); got != "សុខ តេស្ត" {
				t.Errorf("name: %q", got)
			}
			if got := text(t, recs["KH-2"], "Name"); got != "x"+tc.d+"y" {
				t.Errorf("quoted delimiter: %q", got)
			}
			// Write one cell and check everything else kept its bytes.
			upsert(t, c, "o", rec("KH-1", "Note", "new"))
			after, _ := os.ReadFile(p)
			want := strings.Replace(string(decodeTest(tc.data)), "a\"b", "new", 1)
			if got := string(decodeTest(after)); got != want {
				t.Errorf("after write:\n%q\nwant\n%q", got, want)
			}
			if !bytes.HasPrefix(after, tc.data[:2]) {
				t.Errorf("BOM/encoding changed")
			}
		})
	}
}

// decodeTest decodes test data for comparison.
func decodeTest(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		be := b[0] == 0xFE
		var u []uint16
		for i := 2; i+1 < len(b); i += 2 {
			if be {
				u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
			} else {
				u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
			}
		}
		return []byte(string(utf16.Decode(u)))
	}
	return b
}

func TestWindows1252(t *testing.T) {
	data := []byte("C\xf3digo;Nombre\r\nGT-1;Mar\xeda Jos\xe9\r\nGT-2;Jos\xe9\r\n")
	p := writeFile(t, "gt.csv", data)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Código"})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 0 || text(t, recs["GT-1"], "Nombre") != "María José" {
		t.Fatalf("records %v errors %v", recs, errs)
	}
	res := upsert(t, c, "o", rec("GT-2", "Nombre", "Ángel"), rec("GT-1", "Nombre", "ภาษาไทย"))
	if res[0].Err != nil || res[1].Err == nil || connector.CodeOf(res[1].Err) != connector.CodeInvalidValue {
		t.Fatalf("results %v / %v", res[0].Err, res[1].Err)
	}
	if strings.Contains(res[1].Err.Error(), "ภาษาไทย") {
		t.Errorf("error repeats the value: %v", res[1].Err)
	}
	after, _ := os.ReadFile(p)
	if want := "C\xf3digo;Nombre\r\nGT-1;Mar\xeda Jos\xe9\r\nGT-2;\xc1ngel\r\n"; string(after) != want {
		t.Errorf("got %q", after)
	}
}

func TestBadRows(t *testing.T) {
	data := "Case No,Name,Age\n" +
		"BD-1,secret-one,13\n" +
		"BD-2,secret-two,14\n" +
		"BD-1,secret-three,15\n" +
		",secret-four,16\n" +
		"BD-5,secret-five\n" +
		"BD-6,secret-\xff-six,17\n" +
		"Case No,Name,Age\n" +
		",label only,\n" +
		"BD-8,,\n" +
		"BD-9,ok,20\n" +
		"BD-9,secret-nine\n" +
		"BD-7,ok,18\n" +
		"bd-7,secret-case,19\n"
	p := writeFile(t, "bad.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No", Encoding: "utf-8"})
	recs, errs := readAll(t, c, "o")
	if got := sortedKeys(recs); !slices.Equal(got, []string{"BD-2", "BD-8"}) {
		t.Errorf("good keys %v", got)
	}
	codes := map[connector.Code]int{}
	for _, err := range errs {
		codes[connector.CodeOf(err)]++
		msg := err.Error()
		if strings.Contains(msg, "secret") {
			t.Errorf("error repeats a value: %s", msg)
		}
		if !strings.Contains(msg, "bad.csv row ") {
			t.Errorf("error does not name file and row: %s", msg)
		}
	}
	var fields []string
	for _, err := range errs {
		var re *connector.RecordError
		if errors.As(err, &re) {
			fields = append(fields, re.Key+" "+re.Field+" "+err.Error()[strings.Index(err.Error(), "column"):][:8])
		}
	}
	slices.Sort(fields)
	// Rows that could not be read whole carry no key: their key cells are
	// not trusted.
	for _, want := range []string{" Age column C", " Age column C", " Name column B", " Case No column A", "BD-1 Case No column A"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no error names %q: %q", want, fields)
		}
	}
	want := map[connector.Code]int{connector.CodeDuplicateKey: 5, connector.CodeInvalidKey: 1, connector.CodeRowUnreadable: 3}
	if !equalMap(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	var keys []string
	if err := c.ListKeys(ctx, "o", func(k string) error { keys = append(keys, k); return nil }); err != nil || !slices.Equal(keys, []string{"BD-2", "BD-8"}) {
		t.Errorf("list keys %v %v", keys, err)
	}
	// Nothing is written into a file with rows that could not be read
	// whole: not a good row's cell, not an appended row.
	for _, res := range [][]connector.Result{upsert(t, c, "o", rec("BD-2", "Name", "x")), upsert(t, c, "o", rec("BD-10", "Name", "x"))} {
		if connector.CodeOf(res[0].Err) != connector.CodeRowUnreadable || !strings.Contains(res[0].Err.Error(), "bad.csv row 6 column C") {
			t.Errorf("upsert into a damaged file: %v", res[0].Err)
		}
	}
	if res, err := c.Delete(ctx, "o", []string{"BD-2"}); err != nil || connector.CodeOf(res[0].Err) != connector.CodeRowUnreadable {
		t.Errorf("delete in a damaged file: %v %v", res, err)
	}
	if after, _ := os.ReadFile(p); string(after) != data {
		t.Errorf("a damaged file was written:\n%s", after)
	}

	// Mended (the unreadable rows removed), the file is written again; a
	// duplicate key is still neither written to nor deleted.
	mended := strings.NewReplacer("BD-5,secret-five\n", "", "BD-6,secret-\xff-six,17\n", "", "BD-9,secret-nine\n", "").Replace(data)
	p = writeFile(t, "mended.csv", []byte(mended))
	c = newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No", Encoding: "utf-8"})
	readAll(t, c, "o")
	res, err := c.Delete(ctx, "o", []string{"BD-1"})
	if err != nil || connector.CodeOf(res[0].Err) != connector.CodeDuplicateKey {
		t.Errorf("delete of a duplicate: %v %v", res, err)
	}
	res = upsert(t, c, "o", rec("BD-2", "Name", "x"))
	if res[0].Err != nil {
		t.Errorf("upsert into the mended file: %v", res[0].Err)
	}
}

func equalMap[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestMissingColumnIsFatal(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Case No,Name\nA-1,x\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No", Columns: []string{"Name", "Gender"}})
	_, err := c.Read(ctx, "o", "", func(connector.Record) error { return nil })
	if !errors.Is(err, connector.ErrFieldNotFound) || !connector.IsFatal(err) || !strings.Contains(err.Error(), `"Gender"`) || !strings.Contains(err.Error(), "f.csv") {
		t.Fatalf("got %v", err)
	}
	c = newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	if _, err := c.Describe(ctx, "o"); !errors.Is(err, connector.ErrFieldNotFound) || !connector.IsFatal(err) {
		t.Fatalf("missing key column: %v", err)
	}
	c = newConn(t, SheetConfig{Object: "o", Path: p + ".gone", Key: "Case No"})
	if _, err := c.Read(ctx, "o", "", func(connector.Record) error { return nil }); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := c.Read(ctx, "nope", "", nil); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Fatalf("unknown object: %v", err)
	}
}

func TestHeaderRowOption(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Report,,\nignored,Code,x\nID,Name,Code\n1,a,K-1\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code", HeaderRow: 3})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 0 || len(recs) != 1 || text(t, recs["K-1"], "Name") != "a" {
		t.Fatalf("%v %v", recs, errs)
	}
}

func TestWritePreservesBytes(t *testing.T) {
	dir := t.TempDir()
	p := fixture(t, dir, "th_tracker.csv")
	orig, _ := os.ReadFile(p)
	c := newConn(t, SheetConfig{Object: "th", Path: p, Key: "รหัสเคส Case ID"})
	readAll(t, c, "th")
	res := upsert(t, c, "th", rec("th-cl-0008", "สถานะ", "ปิดเคส", "อายุ", "14 ปี"))
	if res[0].Err != nil || res[0].Created {
		t.Fatalf("%+v", res[0])
	}
	after, _ := os.ReadFile(p)
	want := strings.Replace(string(orig), "บัตร ปชช.,ติดตามผล,", "บัตร ปชช.,ปิดเคส,", 1)
	if string(after) != want {
		t.Fatalf("diff:\n%s", lineDiff(want, string(after)))
	}
	// A new record is appended; the file's line ending is kept.
	res = upsert(t, c, "th", rec("TH-CL-0099", "ชื่อ-สกุล", "ด.ญ. ทดสอบ ใหม่", "หมายเหตุ", "=cmd|' /C calc'!A0", "อายุ", "-12"))
	if res[0].Err != nil || !res[0].Created {
		t.Fatalf("%+v", res[0])
	}
	after2, _ := os.ReadFile(p)
	if !strings.HasPrefix(string(after2), string(after)) {
		t.Fatalf("append changed earlier bytes")
	}
	added := strings.TrimPrefix(string(after2), string(after))
	if added != ",TH-CL-0099,ด.ญ. ทดสอบ ใหม่,,,-12,,,,,,,,,,'=cmd|' /C calc'!A0\n" {
		t.Errorf("appended %q", added)
	}
	recs, _ := readAll(t, c, "th")
	if got := text(t, recs["TH-CL-0099"], "หมายเหตุ"); got != "=cmd|' /C calc'!A0" {
		t.Errorf("guard not stripped on read: %q", got)
	}
	// Backups: the original is kept, once for the two writes of this
	// connector (one run).
	bk, _ := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "th_tracker.csv.*.bak"))
	if len(bk) != 1 {
		t.Errorf("backups %v", bk)
	}
	if b, _ := os.ReadFile(slices.Min(bk)); !bytes.Equal(b, orig) {
		t.Errorf("oldest backup is not the original")
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

func TestAppendWithoutFinalNewline(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Code,Name\r\nA-1,\"x, y\""))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	upsert(t, c, "o", rec("A-2", "Name", "line\nbreak"), rec("A-3"))
	after, _ := os.ReadFile(p)
	if want := "Code,Name\r\nA-1,\"x, y\"\r\nA-2,\"line\nbreak\"\r\nA-3,\r\n"; string(after) != want {
		t.Errorf("got %q", after)
	}
}

func TestDeleteMarkAndRemove(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Code,Name\nA-1,x\nA-2,y\nA-3,z\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code", StatusColumn: "Sync"})
	res, err := c.Delete(ctx, "o", []string{"A-2", "A-9"})
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, connector.ErrNotFound) || connector.CodeOf(res[1].Err) != connector.CodeNotFound {
		t.Fatalf("%v %+v", err, res)
	}
	after, _ := os.ReadFile(p)
	if want := "Code,Name,Deleted,Sync\nA-1,x,,\nA-2,y,deleted,deleted 2026-04-03T10:00:00Z\nA-3,z,,\n"; string(after) != want {
		t.Fatalf("got %q", after)
	}
	recs, errs := readAll(t, c, "o")
	if len(recs) != 2 || len(errs) != 0 {
		t.Fatalf("after delete %v %v", mapsKeys(recs), errs)
	}
	o, _ := c.Describe(ctx, "o")
	if got := o.FieldNames(); !slices.Equal(got, []string{"Code", "Name"}) {
		t.Errorf("managed columns are not fields: %v", got)
	}
	res, _ = c.Delete(ctx, "o", []string{"A-2"})
	if !errors.Is(res[0].Err, connector.ErrNotFound) {
		t.Errorf("second delete: %v", res[0].Err)
	}
	// Upserting the key again appends a fresh row; the marked one stays.
	res = upsert(t, c, "o", rec("A-2", "Name", "back"))
	if !res[0].Created {
		t.Errorf("re-created record should say Created")
	}
	after, _ = os.ReadFile(p)
	if want := "Code,Name,Deleted,Sync\nA-1,x,,\nA-2,y,deleted,deleted 2026-04-03T10:00:00Z\nA-3,z,,\nA-2,back,,synced 2026-04-03T10:00:00Z\n"; string(after) != want {
		t.Fatalf("got %q", after)
	}

	p2 := writeFile(t, "g.csv", []byte("Code,Name\nA-1,x\nA-2,y\nA-3,z"))
	c2 := newConn(t, SheetConfig{Object: "o", Path: p2, Key: "Code", Delete: DeleteRemove})
	if res, err := c2.Delete(ctx, "o", []string{"A-2", "A-3"}); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	after, _ = os.ReadFile(p2)
	if want := "Code,Name\nA-1,x\n"; string(after) != want {
		t.Fatalf("got %q", after)
	}
}

func TestWriteGuards(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	os.WriteFile(p, []byte("Code,Name\nA-1,x\n"), 0o644)

	ro, _ := New(Config{Name: "f", Sheets: []SheetConfig{{Object: "o", Path: p, Key: "Code", ReadOnly: true}}})
	if _, err := ro.Upsert(ctx, "o", []connector.Record{rec("A-1", "Name", "y")}); !errors.Is(err, connector.ErrReadOnly) {
		t.Errorf("read-only upsert: %v", err)
	}
	if _, err := ro.Delete(ctx, "o", []string{"A-1"}); !errors.Is(err, connector.ErrReadOnly) {
		t.Errorf("read-only delete: %v", err)
	}

	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	for _, lock := range []string{"~$cases.csv", ".~lock.cases.csv#"} {
		os.WriteFile(filepath.Join(dir, lock), nil, 0o644)
		_, err := c.Upsert(ctx, "o", []connector.Record{rec("A-1", "Name", "y")})
		if !errors.Is(err, ErrFileInUse) || !strings.Contains(err.Error(), lock) {
			t.Errorf("lock %s: %v", lock, err)
		}
		os.Remove(filepath.Join(dir, lock))
	}

	readAll(t, c, "o")
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, []byte("Code,Name\nA-1,edited by a colleague\n"), 0o644)
	if _, err := c.Upsert(ctx, "o", []connector.Record{rec("A-1", "Name", "y")}); !errors.Is(err, ErrChangedOnDisk) {
		t.Errorf("changed on disk: %v", err)
	}
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), "colleague") {
		t.Errorf("colleague's edit lost")
	}
	readAll(t, c, "o")
	if res := upsert(t, c, "o", rec("A-1", "Name", "y")); res[0].Err != nil {
		t.Errorf("after a fresh read: %v", res[0].Err)
	}
	// Unknown field: per record, the other records are written.
	res := upsert(t, c, "o", rec("A-1", "Gender", "F"), rec("A-2", "Name", "z"), rec("", "Name", "z"), rec(" code ", "Name", "z"))
	if connector.CodeOf(res[0].Err) != connector.CodeUnknownField || res[1].Err != nil || connector.CodeOf(res[2].Err) != connector.CodeInvalidKey || connector.CodeOf(res[3].Err) != connector.CodeInvalidKey {
		t.Errorf("%v / %v / %v / %v", res[0].Err, res[1].Err, res[2].Err, res[3].Err)
	}
}

func TestBackupCount(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.csv")
	os.WriteFile(p, []byte("Code,N\nA,0\n"), 0o644)
	two := 2
	for i := range 5 { // five runs, each with its own connector
		c, _ := New(Config{Name: "f", Backups: &two, Sheets: []SheetConfig{{Object: "o", Path: p, Key: "Code"}}})
		upsert(t, c, "o", rec("A", "N", strings.Repeat("x", i+1)))
	}
	bk, _ := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "*.bak"))
	if len(bk) != 2 {
		t.Fatalf("backups %v", bk)
	}
	if b, _ := os.ReadFile(slices.Max(bk)); string(b) != "Code,N\nA,xxxx\n" {
		t.Errorf("newest backup %q", b)
	}
}

// TestOneBackupPerRun: a run (one connector) that writes a file several
// times (rows, then statuses) keeps one backup, the file as it was before
// the run; a file someone changed between two writes is backed up again.
func TestOneBackupPerRun(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.csv")
	os.WriteFile(p, []byte("Code,N\nA,0\n"), 0o644)
	c, _ := New(Config{Name: "f", Sheets: []SheetConfig{{Object: "o", Path: p, Key: "Code"}}})
	for i := range 3 {
		upsert(t, c, "o", rec("A", "N", strings.Repeat("x", i+1)))
	}
	bk, _ := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "*.bak"))
	if len(bk) != 1 {
		t.Fatalf("backups %v, want one", bk)
	}
	if b, _ := os.ReadFile(bk[0]); string(b) != "Code,N\nA,0\n" {
		t.Errorf("backup %q, want the file before the run", b)
	}
	// A colleague saves the file; the connector reads it again and writes.
	os.WriteFile(p, []byte("Code,N\nA,colleague\n"), 0o644)
	if _, err := c.Read(context.Background(), "o", "", func(connector.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	upsert(t, c, "o", rec("A", "N", "after"))
	bk, _ = filepath.Glob(filepath.Join(dir, ".casebridge-backup", "*.bak"))
	if len(bk) != 2 {
		t.Fatalf("backups %v, want two", bk)
	}
	if b, _ := os.ReadFile(slices.Max(bk)); string(b) != "Code,N\nA,colleague\n" {
		t.Errorf("newest backup %q, want the colleague's save", b)
	}
}

func TestInjectionGuard(t *testing.T) {
	for _, v := range []string{"=1+2", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "''=x", "-12", "+8801700000000", "-3.50", "'", "'-12", "normal", "", "-", "--", "=", "'''"} {
		if got := unguard(guard(v)); got != v {
			t.Errorf("round trip %q: %q", v, got)
		}
	}
	for _, v := range []string{"=1+2", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "--", "- see notes", "=", "@"} {
		if !strings.HasPrefix(guard(v), "'") {
			t.Errorf("%q not guarded", v)
		}
	}
	for _, v := range []string{"-12", "+8801700000000", "-3.50", "3,000", "-", "+"} {
		if guard(v) != v {
			t.Errorf("number %q guarded", v)
		}
	}
}

// FuzzCSVReader reads arbitrary bytes around a row holding a marker value:
// no panic, and no error message (beyond the key it names) carries the
// marker.
func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("A-1,x\n"), "")
	f.Add([]byte("\"A\n1\",\"x\"\"y\"\r\n"), "")
	f.Add([]byte("A\tx\r\n"), "utf-16")
	f.Add([]byte("A,\"unterminated\n"), "utf-8")
	f.Add([]byte("A,\xe9\xff\n"), "windows-1252")
	f.Add([]byte("K-1,x\n,\n"), "")
	f.Fuzz(func(t *testing.T, fuzz []byte, enc string) {
		if _, _, err := parseEncoding(enc); err != nil || bytes.Contains(bytes.ToLower(fuzz), []byte("ecret")) {
			return
		}
		data := slices.Concat([]byte("Code,Name,Note\n"), fuzz, []byte("\nK-1,topsecret,topsecret\n"), fuzz)
		p := writeFile(t, "f.csv", data)
		c, err := New(Config{Name: "f", Sheets: []SheetConfig{{Object: "o", Path: p, Key: "Code", Encoding: enc}}})
		if err != nil {
			t.Fatal(err)
		}
		check := func(err error) {
			if err == nil {
				return
			}
			msg := err.Error()
			var re *connector.RecordError
			if errors.As(err, &re) {
				msg = re.Field + " " + re.Err.Error()
			}
			if strings.Contains(msg, "ecret") {
				t.Fatalf("error leaks a value: %s", msg)
			}
		}
		_, err = c.Read(ctx, "o", "", func(r connector.Record) error { check(r.Err); return nil })
		check(err)
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := mapsKeys(m)
	slices.Sort(out)
	return out
}

func TestEncodingDetection(t *testing.T) {
	cm := func(e encoding, s string) []byte {
		var out []byte
		for _, r := range s {
			b, ok := e.charmap().EncodeRune(r)
			if !ok {
				t.Fatalf("cannot encode %q", r)
			}
			out = append(out, b)
		}
		return out
	}
	thai := "รหัสเคส,ชื่อ-สกุล\r\nTH-1,สมหญิง ตัวอย่าง\r\n"
	spanish := "Código,Nombre\r\nGT-1,María José Peña\r\n"
	for name, tc := range map[string]struct {
		data []byte
		want encoding
	}{
		"utf8":            {[]byte(thai), encUTF8},
		"utf8-one-bad":    {append([]byte(thai), "TH-2,\xff\r\n"...), encUTF8},
		"windows-874":     {cm(enc874, thai), enc874},
		"windows-1252":    {cm(enc1252, spanish), enc1252},
		"utf16le-no-bom":  {encodeUTF16(spanish, false, false), encUTF16LE},
		"utf16be-no-bom":  {encodeUTF16(spanish, true, false), encUTF16BE},
		"ascii":           {[]byte("a,b\n1,2\n"), encUTF8},
		"utf8-cut-at-end": {[]byte(thai)[:len(thai)-4], encUTF8},
	} {
		if got := guessEncoding(tc.data); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
	// The damaged row of a UTF-8 file is reported; the rest reads.
	p := writeFile(t, "th.csv", append([]byte(thai), "TH-2,\xff\r\n"...))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "รหัสเคส"})
	recs, errs := readAll(t, c, "o")
	if len(recs) != 1 || len(errs) != 1 || connector.CodeOf(errs[0]) != connector.CodeRowUnreadable || !strings.Contains(errs[0].Error(), "row 3") {
		t.Fatalf("%v %v", recs, errs)
	}
	// A Thai windows-874 file reads and writes back in windows-874.
	p = writeFile(t, "th874.csv", cm(enc874, thai))
	c = newConn(t, SheetConfig{Object: "o", Path: p, Key: "รหัสเคส", Encoding: "tis-620"})
	upsert(t, c, "o", rec("TH-9", "ชื่อ-สกุล", "ทดสอบ"))
	after, _ := os.ReadFile(p)
	if want := cm(enc874, thai+"TH-9,ทดสอบ\r\n"); !bytes.Equal(after, want) {
		t.Errorf("windows-874 append: %q", after)
	}
}

func TestStatusColumnAndKeyPattern(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cases.csv")
	os.WriteFile(p, []byte("SL,Case No,Name,Sync\r\nเมษายน 2567,,,\r\n1,BD-REM-0001,x,\r\n2,April 2024,,\r\n"), 0o644)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No", StatusColumn: "Sync", KeyPattern: `^BD-REM-\d{4}$`})
	recs, errs := readAll(t, c, "o")
	if len(recs) != 1 || len(errs) != 1 || connector.CodeOf(errs[0]) != connector.CodeInvalidKey || strings.Contains(errs[0].Error(), "April") {
		t.Fatalf("%v %v", recs, errs)
	}
	if _, ok := recs["BD-REM-0001"].Fields["Sync"]; ok {
		t.Errorf("the status column is not a field")
	}
	res := upsert(t, c, "o", rec("BD-REM-0001", "Name", "y\xff"), rec("BD-REM-0002", "Name", "z"), rec("bad key", "Name", "z"))
	if connector.CodeOf(res[0].Err) != connector.CodeInvalidValue || res[1].Err != nil || connector.CodeOf(res[2].Err) != connector.CodeInvalidKey {
		t.Fatalf("%v / %v / %v", res[0].Err, res[1].Err, res[2].Err)
	}
	after, _ := os.ReadFile(p)
	want := "SL,Case No,Name,Sync\r\nเมษายน 2567,,,\r\n1,BD-REM-0001,x,error INVALID_VALUE Name\r\n2,April 2024,,\r\n,BD-REM-0002,z,synced 2026-04-03T10:00:00Z\r\n"
	if string(after) != want {
		t.Fatalf("got %q", after)
	}
	// The engine reports what Salesforce said about a row.
	sfErr := &connector.RecordError{Op: "upsert", Key: "BD-REM-0002", Field: "vcms__Age__c", Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Err: errors.New("x")}
	if err := c.Status(ctx, "o", []connector.Result{{Key: "BD-REM-0001"}, {Key: "BD-REM-0002", Err: sfErr}}); err != nil {
		t.Fatal(err)
	}
	after, _ = os.ReadFile(p)
	want = "SL,Case No,Name,Sync\r\nเมษายน 2567,,,\r\n1,BD-REM-0001,x,synced 2026-04-03T10:00:00Z\r\n2,April 2024,,\r\n,BD-REM-0002,z,error FIELD_CUSTOM_VALIDATION_EXCEPTION vcms__Age__c\r\n"
	if string(after) != want {
		t.Fatalf("got %q", after)
	}
	// Excel's lock for a long name replaces the first two characters.
	os.WriteFile(filepath.Join(dir, "~$ses.csv"), nil, 0o644)
	if _, err := c.Upsert(ctx, "o", []connector.Record{rec("BD-REM-0001", "Name", "q")}); !errors.Is(err, ErrFileInUse) {
		t.Errorf("long-name lock: %v", err)
	}
}

func TestUTF16Append(t *testing.T) {
	data := encodeUTF16("Case No\tName\r\nBD-1\tরহিম\r\n", false, true)
	p := writeFile(t, "u.txt", data)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No"})
	upsert(t, c, "o", rec("BD-2", "Name", "করিম, \"x\""))
	after, _ := os.ReadFile(p)
	if want := encodeUTF16("Case No\tName\r\nBD-1\tরহিম\r\nBD-2\t\"করিম, \"\"x\"\"\"\r\n", false, true); !bytes.Equal(after, want) {
		t.Errorf("got %q", decodeTest(after))
	}
}

func TestNewValidation(t *testing.T) {
	for _, s := range []SheetConfig{
		{Object: "o", Path: "f.csv"},
		{Object: "o", Path: "f.csv", Key: "K", Encoding: "ebcdic"},
		{Object: "o", Path: "f.csv", Key: "K", Delimiter: "::"},
		{Object: "o", Path: "f.csv", Key: "K", Sheet: "x"},
		{Object: "o", Path: "f.xlsx", Key: "K", Delimiter: ";"},
		{Object: "o", Path: "f.csv", Key: "K", KeyPattern: "("},
		{Object: "o", Path: "f.csv", Key: "K", Delete: "purge"},
		{Object: "o", Path: "f.csv", Key: "K", StatusColumn: "k"},
		{Object: "o", Path: "f.csv", Key: "K", Format: "ods"},
	} {
		if _, err := New(Config{Name: "f", Sheets: []SheetConfig{s}}); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

// TestSample keeps README's config block equal to sample.yaml, and the
// sample valid: it decodes strictly into Config and New accepts it.
func TestSample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+Sample+"```\n") {
		t.Error("README.md's yaml block differs from sample.yaml")
	}
	var cfg Config
	if err := yaml.UnmarshalWithOptions([]byte(Sample), &cfg, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sheets) != 4 || cfg.Sheets[3].Delimiter != "\t" || cfg.Sheets[0].Columns[0] != "ชื่อ-สกุล" {
		t.Errorf("decoded %+v", cfg)
	}
}

// FuzzCSVWriteRoundTrip writes arbitrary text into one cell of a CSV file
// in each encoding family: the value reads back as written (NFC), and
// every other row keeps its bytes.
func FuzzCSVWriteRoundTrip(f *testing.F) {
	for _, s := range []string{"plain", "a,b", "quote \" inside", "line\nbreak", "\r\n", "=1+2", "-12", "'=x", " padded ", "ZWJ 👩‍👩‍👧", "ä", "", ";", "\t"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, v string, which uint8) {
		if !utf8.ValidString(v) {
			return
		}
		var data []byte
		head := "Case No;Name;Note\r\n\"BD-1\";a;b\r\nBD-2;c;\"d\"\"e\"\r\n"
		switch which % 3 {
		case 0:
			data = []byte(head)
		case 1:
			data = append(slices.Clone(bomUTF8), head...)
		case 2:
			data = encodeUTF16(head, which%2 == 0, true)
		}
		p := writeFile(t, "f.csv", data)
		c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No"})
		res, err := c.Upsert(ctx, "o", []connector.Record{rec("BD-1", "Name", v)})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil {
			if strings.Contains(res[0].Err.Error(), v) && len(v) > 3 {
				t.Fatalf("error leaks the value: %v", res[0].Err)
			}
			return
		}
		recs, errs := readAll(t, c, "o")
		if len(errs) != 0 || len(recs) != 2 {
			t.Fatalf("after writing %q: %d records, errors %v", v, len(recs), errs)
		}
		want := norm.NFC.String(v)
		if got := recs["BD-1"].Fields["Name"]; want == "" && !got.IsNull() || want != "" && text(t, recs["BD-1"], "Name") != want {
			t.Fatalf("wrote %q, read %v", v, got)
		}
		if text(t, recs["BD-2"], "Note") != "d\"e" || text(t, recs["BD-1"], "Note") != "b" {
			t.Fatalf("other cells changed")
		}
		after, _ := os.ReadFile(p)
		if !strings.HasSuffix(string(decodeTest(after)), "\r\nBD-2;c;\"d\"\"e\"\r\n") {
			t.Fatalf("the other row's bytes changed: %q", decodeTest(after))
		}
	})
}

// TestChangedDuringWrite: a save between casebridge's read and its rename
// stops the write and keeps the colleague's version.
func TestChangedDuringWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.csv")
	os.WriteFile(p, []byte("Code,Name\nA-1,x\n"), 0o644)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	c.w.beforeCheck = func() { os.WriteFile(p, []byte("Code,Name\nA-1,colleague\n"), 0o644) }
	if _, err := c.Upsert(ctx, "o", []connector.Record{rec("A-1", "Name", "y")}); !errors.Is(err, ErrChangedOnDisk) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "Code,Name\nA-1,colleague\n" {
		t.Errorf("file %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	c.w.beforeCheck = func() { os.WriteFile(filepath.Join(dir, ".~lock.f.csv#"), nil, 0o644) }
	readAll(t, c, "o")
	if _, err := c.Upsert(ctx, "o", []connector.Record{rec("A-1", "Name", "y")}); !errors.Is(err, ErrFileInUse) {
		t.Fatalf("lock appearing during the write: %v", err)
	}
}

// TestConcurrentUse runs reads and writes at once (for -race).
func TestConcurrentUse(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Code,Name\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	done := make(chan error, 8)
	for g := range 4 {
		go func() {
			var err error
			for i := range 5 {
				if _, err = c.Upsert(ctx, "o", []connector.Record{rec(strings.Repeat("K", g+1)+"-"+string(rune('0'+i)), "Name", "v")}); err != nil {
					break
				}
			}
			done <- err
		}()
		go func() {
			var err error
			for range 5 {
				// A read overlapping a write may see the file change.
				if err = c.ListKeys(ctx, "o", func(string) error { return nil }); err != nil && !errors.Is(err, ErrChangedOnDisk) {
					break
				}
				err = nil
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	var n int
	c.ListKeys(ctx, "o", func(string) error { n++; return nil })
	if n != 20 {
		t.Errorf("%d keys, want 20", n)
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	p := writeFile(t, "f.csv", []byte("Code\nA\nB\nC\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	stop := errors.New("stop here")
	n := 0
	_, err := c.Read(ctx, "o", "", func(connector.Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err %v after %d records", err, n)
	}
}
