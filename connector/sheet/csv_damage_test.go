package sheet

import (
	csvpkg "encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// cases100 is a field office's CSV of 100 cases with a multi-line quoted
// note on row 70 (a legitimate one) and commas inside quoted notes.
func cases100(stray int) string {
	var b strings.Builder
	b.WriteString("Case ID,Name,Notes,Stage\r\n")
	for i := 1; i <= 100; i++ {
		note := "ok"
		switch {
		case i == stray:
			note = `"met family, moved to shelter B` // the quote is never closed
		case i == 70:
			note = "\"first visit, mother present\r\nsecond visit: school, clinic\""
		case i%9 == 0:
			note = fmt.Sprintf("\"call back, day %d\"", i)
		}
		fmt.Fprintf(&b, "C-%03d,secret-name-%d,%s,Active\r\n", i, i, note)
	}
	return b.String()
}

// TestUnclosedQuote: a stray quote on row 40 swallows the rows after it
// up to the next quote in the file. The row is unreadable and says where
// (row, line, column) and why, carries no key, and the swallowed rows are
// absent, so the read is incomplete; no value appears in the error.
func TestUnclosedQuote(t *testing.T) {
	data := cases100(40)
	p := writeFile(t, "cases.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID", StatusColumn: "casebridge"})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	err := errs[0]
	var re *connector.RecordError
	if !asRecordError(err, &re) || re.Key != "" || re.Field != "Notes" || connector.CodeOf(err) != connector.CodeRowUnreadable {
		t.Fatalf("error %#v", err)
	}
	msg := err.Error()
	for _, want := range []string{"cases.csv row 41 (line 41) column C", "unclosed quote"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret") || strings.Contains(msg, "shelter") {
		t.Errorf("error repeats a value: %s", msg)
	}
	// C-040 opened the quote, C-041..C-044 are inside it (C-045's note is
	// the next quote), C-045's "closing" quote is followed by text.
	for _, k := range []string{"C-040", "C-041", "C-044"} {
		if _, ok := recs[k]; ok {
			t.Errorf("%s read as a record", k)
		}
	}
	for _, k := range []string{"C-039", "C-046", "C-070", "C-100"} {
		if _, ok := recs[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if got := recs["C-070"].Fields["Notes"].Raw(); got != "first visit, mother present\r\nsecond visit: school, clinic" {
		t.Errorf("the legitimate multi-line note reads %q", got)
	}
	// The rows after the damage keep the numbers a spreadsheet program
	// shows them with (the swallowed lines made one row).
	if len(recs) != 94 {
		t.Errorf("%d records, want 94", len(recs))
	}
	// Nothing is appended inside the open quote, nothing written.
	res := upsert(t, c, "o", rec("C-101", "Name", "x"), rec("C-002", "Stage", "Closed"))
	for _, r := range res {
		if connector.CodeOf(r.Err) != connector.CodeRowUnreadable || !strings.Contains(r.Err.Error(), "row 41 (line 41) column C") {
			t.Errorf("write into the damaged file: %v", r.Err)
		}
	}
	if err := c.Status(ctx, "o", []connector.Result{{Key: "C-002"}}); err == nil {
		t.Errorf("status written into a damaged file")
	}
	if after, _ := os.ReadFile(p); string(after) != data {
		t.Error("the damaged file was written")
	}
}

// TestUnclosedQuoteToEnd: a stray quote with no quote after it runs to the
// end of the file.
func TestUnclosedQuoteToEnd(t *testing.T) {
	data := strings.ReplaceAll(cases100(95), `"call back, day 99"`, "call back")
	data = strings.ReplaceAll(data, `"`+"first visit, mother present\r\nsecond visit: school, clinic"+`"`, "first visit")
	p := writeFile(t, "cases.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not closed before the end of the file") || !strings.Contains(errs[0].Error(), "row 96 (line 96)") {
		t.Fatalf("errors %v", errs)
	}
	if len(recs) != 94 {
		t.Errorf("%d records, want 94", len(recs))
	}
}

// TestQuotedLinesThatReadAsRows: the quote that ends the swallowing is
// the closing quote of a later cell (nothing follows it), so only the
// swallowed lines tell: each has as many cells as the header.
func TestQuotedLinesThatReadAsRows(t *testing.T) {
	data := "Case ID,Name,Notes,Stage\n" +
		"C-1,secret-a,ok,Active\n" +
		"C-2,secret-b,\"never closed,Active\n" +
		"C-3,secret-c,ok,Active\n" +
		"C-4,secret-d,ok,Active\n" +
		"C-5,secret-e,\",Active\n" + // a quote alone: it closes the swallowing cell
		"C-6,secret-f,ok,Active\n"
	p := writeFile(t, "cases.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "runs over 2 line(s) that read as rows of their own (the row spans lines 3-6)") {
		t.Fatalf("errors %v", errs)
	}
	if got := sortedKeys(recs); !slices.Equal(got, []string{"C-1", "C-6"}) {
		t.Errorf("records %v", got)
	}
}

// TestMultiLineNotes: notes with line breaks and commas are not damage,
// in wide and narrow sheets.
func TestMultiLineNotes(t *testing.T) {
	for name, data := range map[string]string{
		"wide":   "Case ID,Name,Notes,Stage\n" + "C-1,a,\"line one, with a comma\nline two, again, and again\n\",Active\n" + "C-2,b,\"x\"\"y\"\"\",Active\n",
		"narrow": "Case ID,Notes\n" + "C-1,\"a, b\nc, d\ne, f\"\n" + "C-2,plain\n",
		"crlf":   "Case ID,Name,Notes,Stage\r\n" + "C-1,a,\"one\r\ntwo\r\n\",Active\r\n" + "C-2,b,ok,Active\r\n",
		"blanks": "Case ID,Name,Notes,Stage\n" + "C-1,a,\"one\ntwo\"  ,Active\n" + "C-2,b,\"x\ny\"\t,Active\n",
	} {
		p := writeFile(t, name+".csv", []byte(data))
		c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
		recs, errs := readAll(t, c, "o")
		if len(errs) != 0 || len(recs) != 2 {
			t.Errorf("%s: %d records, errors %v", name, len(recs), errs)
		}
	}
}

// TestRowWiderThanHeader: a note typed with a comma and no quotes makes
// the row wider than its header; the row is unreadable (the extra cell is
// not dropped), naming the first cell past the header.
func TestRowWiderThanHeader(t *testing.T) {
	data := "Case ID,Name,Notes\n" +
		"C-1,secret-a,met family, moved to shelter B\n" +
		"C-2,secret-b,ok\n" +
		"C-3,secret-c,ok,,\n" // empty cells past the header are no data
	p := writeFile(t, "cases.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	recs, errs := readAll(t, c, "o")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cases.csv row 2 column D: the row has 4 cells, the header 3") {
		t.Fatalf("errors %v", errs)
	}
	if strings.Contains(errs[0].Error(), "shelter") {
		t.Errorf("error repeats a value: %v", errs[0])
	}
	if got := sortedKeys(recs); !slices.Equal(got, []string{"C-2", "C-3"}) {
		t.Errorf("records %v", got)
	}
}

// FuzzCSVRowAccounting: whatever the bytes, a read never panics, the
// scanner numbers rows one after another with lines only growing (a row
// spans at least one line), a read hands out no more records than there
// are rows, and every row error names its row.
func FuzzCSVRowAccounting(f *testing.F) {
	f.Add([]byte(cases100(40)))
	f.Add([]byte("Case ID,Notes\nC-1,\"a\nb\"\nC-2,\"x\n"))
	f.Add([]byte("Case ID;Notes\r\nC-1;\"\"\"\r\nC-2;ok\r\n"))
	f.Add([]byte("\xef\xbb\xbfCase ID,N,M\nC-1,\"x\"y,z\nC-2,a,b,c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		p := writeFile(t, "f.csv", data)
		c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID", Encoding: "utf-8", Delimiter: ","})
		s, _, err := openCSV(c.sheets[0], strings.NewReader(string(data)), false)
		if err != nil {
			return
		}
		var rec csvRecord
		rows, last, line := 0, 0, 0
		for {
			ok, err := s.scan(&rec)
			if err != nil || !ok {
				break
			}
			rows++
			if rec.num != last+1 || rec.line <= line || rec.lines < 1 {
				t.Fatalf("row %d (line %d, %d lines) after row %d (line %d)", rec.num, rec.line, rec.lines, last, line)
			}
			last, line = rec.num, rec.line
		}
		n := 0
		_, rerr := c.Read(ctx, "o", "", func(r connector.Record) error {
			n++
			if r.Err != nil && !strings.Contains(r.Err.Error(), " row ") {
				t.Fatalf("error names no row: %v", r.Err)
			}
			return nil
		})
		if rerr == nil && n > rows {
			t.Fatalf("%d records from %d rows", n, rows)
		}
	})
}

func asRecordError(err error, re **connector.RecordError) bool {
	r, ok := err.(*connector.RecordError)
	if ok {
		*re = r
	}
	return ok
}

// TestRectangularAfterNewColumns: adding the delete and status columns
// widens every row as wide as the header, so a strict importer (Go's
// encoding/csv with a fixed field count) still reads the file; blank lines
// and the title row above the header (of another width) keep their shape.
func TestRectangularAfterNewColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString("Case ID,Name,Notes,Stage\r\n")
	for i := 1; i <= 3050; i++ {
		fmt.Fprintf(&b, "C-%04d,n%d,\"a, b\",Active\r\n", i, i)
	}
	data := b.String()
	p := writeFile(t, "cases.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID", StatusColumn: "casebridge"})
	readAll(t, c, "o")
	if res, err := c.Delete(ctx, "o", []string{"C-0002"}); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %v", res, err)
	}
	readAll(t, c, "o")
	upsert(t, c, "o", rec("C-0003", "Stage", "Closed"), rec("C-9999", "Name", "new"))
	after, _ := os.ReadFile(p)
	r := csvpkg.NewReader(strings.NewReader(string(after)))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("a strict reader refuses the written file: %v", err)
	}
	if len(rows) != 3052 || len(rows[0]) != 6 || rows[0][4] != "Deleted" || rows[0][5] != "casebridge" {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	if rows[2][4] != "deleted" || rows[3][3] != "Closed" || rows[3051][0] != "C-9999" || rows[3051][1] != "new" {
		t.Errorf("rows %q %q %q", rows[2], rows[3], rows[3051])
	}
	if got := strings.Count(string(after), "\r\n"); got != 3052 {
		t.Errorf("%d line endings", got)
	}

	// A title row and a blank line keep their shape; the rows grow.
	data = "Tracker 2567\r\n\r\nCase ID,Name\r\nC-1,a\r\n\r\nC-2,b\r\n"
	p = writeFile(t, "titled.csv", []byte(data))
	c = newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	readAll(t, c, "o")
	if res, err := c.Delete(ctx, "o", []string{"C-1"}); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %v", res, err)
	}
	after, _ = os.ReadFile(p)
	if want := "Tracker 2567\r\n\r\nCase ID,Name,Deleted\r\nC-1,a,deleted\r\n\r\nC-2,b,\r\n"; string(after) != want {
		t.Errorf("got %q, want %q", after, want)
	}
}

// TestSwallowedRowsAsAPersonSeesThem: the swallowed lines start with
// keys; a note's lines with as many commas as the sheet has columns do
// not, and a note Salesforce sends with such lines is written and read
// back as it is, leaving the file writable.
func TestSwallowedRowsAsAPersonSeesThem(t *testing.T) {
	for name, tc := range map[string]struct {
		data string
		keys []string
		err  string
	}{
		// The swallowing row holds only the note: not a label row.
		"label-like": {"Case ID,Name,Notes,Stage\n" + "C-1,a,ok,Active\n" + ",,\"stray\n" + "C-2,b,ok,Active\n" + "C-3,c,ok,Active\n" + "C-4,d,height 5'10\"\n" + "C-5,e,ok,Active\n",
			[]string{"C-1", "C-5"}, "row 3 (line 3) column C: a quoted cell runs over 2 line(s)"},
		// Two columns: the swallowed lines are rows of two cells.
		"two-columns": {"Case ID,Notes\n" + "C-1,ok\n" + "C-2,\"stray\n" + "C-3,ok\n" + "C-4,ok\n" + "C-5,5'10\"\n" + "C-6,ok\n",
			[]string{"C-1", "C-6"}, "row 3 (line 3) column B: a quoted cell runs over 2 line(s)"},
		// key_pattern decides what a key looks like.
		"pattern": {"Case ID,Name,Notes,Stage\n" + "TH-0001,a,\"never closed,x\n" + "TH-0002,b,ok,Active\n" + "TH-0003,c,\",Active\n",
			[]string{}, "row 2 (line 2) column C: a quoted cell runs over 1 line(s)"},
		// A note whose lines have the sheet's comma count: no damage.
		"note-with-commas": {"Case ID,Name,Notes,Stage\n" + "C-1,a,\"Visit 1\nmother, father, sister, uncle\nall well\",Active\n" + "C-2,b,ok,Active\n",
			[]string{"C-1", "C-2"}, ""},
		// A damaged row is not read as marked deleted.
		"mark": {"Case ID,Name,Notes,Deleted\n" + "C-1,a,ok,\n" + "C-2,b,met family,deleted, moved\n",
			[]string{"C-1"}, "row 3 column E: the row has 5 cells, the header 4"},
	} {
		p := writeFile(t, name+".csv", []byte(tc.data))
		sc := SheetConfig{Object: "o", Path: p, Key: "Case ID"}
		if name == "pattern" {
			sc.KeyPattern = `^TH-\d{4}$`
		}
		c := newConn(t, sc)
		recs, errs := readAll(t, c, "o")
		if got := sortedKeys(recs); !slices.Equal(got, tc.keys) {
			t.Errorf("%s: records %v, want %v", name, got, tc.keys)
		}
		switch {
		case tc.err == "" && len(errs) != 0:
			t.Errorf("%s: errors %v", name, errs)
		case tc.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err)):
			t.Errorf("%s: errors %v, want one with %q", name, errs, tc.err)
		}
	}

	// casebridge writes such a note itself: the file stays readable and
	// writable.
	p := writeFile(t, "written.csv", []byte("Case ID,Name,Notes,Stage\nC-1,a,ok,Active\nC-2,b,ok,Active\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	readAll(t, c, "o")
	note := "Visit 1\nmother, father, sister, uncle\nRoom 12, bed 3, floor 2, ok\nall well\n"
	if res := upsert(t, c, "o", rec("C-1", "Notes", note)); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	recs, errs := readAll(t, c, "o")
	if len(errs) != 0 || recs["C-1"].Fields["Notes"].Raw() != note {
		t.Fatalf("read back %q, errors %v", recs["C-1"].Fields["Notes"].Raw(), errs)
	}
	if res := upsert(t, c, "o", rec("C-2", "Stage", "Closed")); res[0].Err != nil {
		t.Errorf("the file is no longer writable: %v", res[0].Err)
	}
}
