package sheet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/connector"
)

// hostileText is text real orgs hold that a careless writer or reader
// changes: edge white space, line endings, invisible characters, scripts
// written right to left, formula-looking strings and OOXML's own escapes.
var hostileText = []string{
	"note\n", "  both ends  ", "\tleading tab", "trailing tab\t", "a\r\nb\r\n", "a\rb", "\r\n",
	"\u00a0leading NBSP", "trailing NBSP\u00a0", "សុខ\u200bដារ៉ា\u200bសុភា", "\u200bzw at start",
	"ZWNJ\u200cZWJ\u200d", "\u2060joiner\ufeff", "cafe\u0301 in NFD",
	"\u200fعربي\u200e mixed", "עברית ושלום", "emoji 👩‍👩‍👧 🇰🇭", "=1+1", "+1", "-x", "@a", "\t=1+1",
	"'=x", "''=x", "'plain", "-12", "+8801700000000", "\"quoted\"", "a,b;c", "_x0041_", "_x005F_x0041_",
	"x_x000D_y", "0042", "12.50", "2024-04-03", "TRUE", "#N/A", " ",
	strings.Repeat("ក", maxCellChars), strings.Repeat("a", maxCellChars-1) + "\n",
}

// TestWrittenTextReadsBack writes every hostile text into a CSV and an
// XLSX cell, over an empty cell, over a cell holding something else and
// in a new row, and reads it back: the same text, byte for byte.
func TestWrittenTextReadsBack(t *testing.T) {
	for _, kind := range []string{"csv", "xlsx"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "cases."+kind)
			header := []string{"Case ID", "Note", "Other"}
			rows := [][]string{header}
			for i := range hostileText {
				rows = append(rows, []string{key(i), "", "old"})
			}
			writeTable(t, p, rows)
			c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
			var recs []connector.Record
			for i, v := range hostileText {
				// Note over an empty cell, Other over "old", and a new row.
				recs = append(recs, rec(key(i), "Note", v, "Other", v), rec("N"+key(i), "Note", v))
			}
			for i, r := range upsert(t, c, "o", recs...) {
				if r.Err != nil {
					t.Errorf("write %d: %v", i, r.Err)
				}
			}
			got, errs := readAll(t, c, "o")
			for _, err := range errs {
				t.Error(err)
			}
			for i, v := range hostileText {
				// Text is written and read in NFC (connector.Canonicalize).
				want := connector.Text(norm.NFC.String(v))
				for _, f := range []struct{ key, field string }{{key(i), "Note"}, {key(i), "Other"}, {"N" + key(i), "Note"}} {
					r, ok := got[f.key]
					if !ok {
						t.Errorf("%s: not read back", f.key)
						continue
					}
					if s, _ := r.Fields[f.field].Text(); !r.Fields[f.field].Equal(want) {
						t.Errorf("%s.%s (hostile %d) = %+q, want %+q", f.key, f.field, i, abbrev(s), abbrev(v))
					}
				}
			}
		})
	}
}

func key(i int) string { return fmt.Sprintf("K%03d", i) }

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-20:]
	}
	return s
}

// writeTable writes rows as a UTF-8 CSV file, or as the first sheet of a
// workbook (every cell a string), by p's extension.
func writeTable(t *testing.T, p string, rows [][]string) {
	t.Helper()
	if strings.HasSuffix(p, ".csv") {
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\r\n")
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	f := excelize.NewFile()
	defer f.Close()
	for y, r := range rows {
		for x, v := range r {
			if v == "" {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(x+1, y+1)
			if err := f.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
}

// TestXLSXRefusesWhatACellCannotHold: a text longer than a cell holds
// (32,767 UTF-16 units, as Excel and excelize count) is that record's
// error, never written cut short.
func TestXLSXRefusesWhatACellCannotHold(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cases.xlsx")
	writeTable(t, p, [][]string{{"Case ID", "Note"}, {"K1", "old"}})
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	long := strings.Repeat("😀", maxCellChars/2+1) // 16,384 characters, 32,768 UTF-16 units
	res := upsert(t, c, "o", rec("K1", "Note", long), rec("K2", "Note", strings.Repeat("a", maxCellChars+1)))
	for i, r := range res {
		if r.Err == nil {
			t.Errorf("record %d: a text longer than a cell holds was written", i)
		}
	}
	got, _ := readAll(t, c, "o")
	if s := text(t, got["K1"], "Note"); s != "old" {
		t.Errorf("K1.Note = %d bytes, want the old text kept", len(s))
	}
}
