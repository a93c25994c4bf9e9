package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/casebridge/casebridge/connector"
)

// editOp is one write-back operation on a model: an upsert, a delete or a
// status.
type editOp struct {
	del    bool
	status string
	rec    connector.Record
}

func upsertOp(key string, kv ...string) editOp { return editOp{rec: rec(key, kv...)} }
func deleteOp(key string) editOp               { return editOp{del: true, rec: rec(key)} }
func statusOp(key, text string) editOp         { return editOp{status: text, rec: rec(key)} }

// apply runs ops on m and returns each one's outcome as text.
func (m *model) apply(ops []editOp) []string {
	var out []string
	for _, op := range ops {
		var res connector.Result
		switch {
		case op.del:
			res = m.delete(op.rec.Key)
		case op.status != "":
			if refs := m.live[connector.KeyID(op.rec.Key, false)]; len(refs) == 1 {
				m.status(refs[0], op.status)
			}
		default:
			res = m.upsert(op.rec)
		}
		out = append(out, fmt.Sprintf("%s created=%v err=%v", res.Key, res.Created, res.Err))
	}
	return out
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// sameAsWholeFile checks that csvEditor writes, for data and ops, exactly
// the bytes the editor that held the whole file parsed wrote.
func sameAsWholeFile(t *testing.T, conf SheetConfig, data []byte, ops []editOp) {
	t.Helper()
	conf.Object, conf.Path = "o", "f.csv"
	c := newConn(t, conf)
	sc, err := c.lookup("upsert", "o")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := newWholeCSVEditor(sc, data)
	if err != nil {
		t.Fatal(err)
	}
	wm, err := c.newModel(sc, whole)
	if err != nil {
		t.Fatal(err)
	}
	whole.header = wm.header
	want := wm.apply(ops)
	wantBytes, err := whole.bytes()
	if err != nil {
		t.Fatal(err)
	}

	ed, err := newCSVEditor(sc, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.newModel(sc, ed)
	if err != nil {
		t.Fatal(err)
	}
	got := m.apply(ops)
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("results:\n%s\nwant:\n%s", g, w)
	}
	if m.changed != wm.changed {
		t.Errorf("changed = %v, want %v", m.changed, wm.changed)
	}
	gotBytes, err := ed.bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotBytes, wantBytes) {
		t.Errorf("written:\n%q\nwant:\n%q", gotBytes, wantBytes)
	}
}

// TestCSVEditorSameAsWholeFile: the editor that keeps row offsets writes
// the very bytes the one that held the whole file parsed wrote: encodings,
// byte order marks, line endings, quoting, title rows above the header,
// trailing blank rows, zero-width spaces, rows without a final line
// ending, guarded formulas, header growth, appended, marked and removed
// rows and status cells.
func TestCSVEditorSameAsWholeFile(t *testing.T) {
	cases := []struct {
		name string
		conf SheetConfig
		data []byte
		ops  []editOp
	}{
		{"utf-8 bom, crlf, title rows, multi-line cells, trailing blanks",
			SheetConfig{Key: "Code", StatusColumn: "Sync"},
			[]byte("\xEF\xBB\xBFCase report April\r\n\r\nCode,Name,Notes,Stage\r\nA-1,Ann,\"line one\r\nline two\",open\r\nA-2,\u200bBo,plain,open\r\nA-3,Cy,\"quoted, \"\"comma\"\"\",open\r\n\r\n,,,\r\n"),
			[]editOp{upsertOp("A-2", "Stage", "closed"), upsertOp("A-3", "Notes", " edge space"), upsertOp("A-9", "Name", "New, person", "Notes", "a\nb"),
				deleteOp("A-1"), upsertOp("A-2", "Name", "\u200bBo"), statusOp("A-3", "checked")}},
		{"utf-16le, semicolons, lf, no final line ending",
			SheetConfig{Key: "Code"},
			utf16LE("Code;Name;Stage\nB-1;Ănă;open\nB-2;Bé;open"),
			[]editOp{upsertOp("B-2", "Name", "Bé; x"), upsertOp("B-3", "Name", "𝒳 outside the BMP", "Stage", "open")}},
		{"utf-8 no final line ending, appended",
			SheetConfig{Key: "Code"},
			[]byte("Code,Name\nK-1,x\nK-2,y"),
			[]editOp{upsertOp("K-3", "Name", "z"), upsertOp("K-2", "Name", "yy")}},
		{"windows-1252, cr line endings, remove",
			SheetConfig{Key: "Code", Encoding: "windows-1252", Delete: DeleteRemove},
			[]byte("Code,Name,Stage\rC-1,Jos\xe9,open\rC-2,Ren\xe9e,open\rC-3,Zo\xeb,open\r"),
			[]editOp{upsertOp("C-1", "Name", "José María"), deleteOp("C-2"), upsertOp("C-3", "Name", "Ωmega"), upsertOp("C-4", "Stage", "new")}},
		{"injection guard",
			SheetConfig{Key: "Code"},
			[]byte("Code,Name,Stage\nD-1,'=SUM(A1),open\nD-2,Dee,open\n"),
			[]editOp{upsertOp("D-2", "Name", "=cmd|x"), upsertOp("D-1", "Stage", "closed"), upsertOp("D-1", "Name", "=SUM(A1)")}},
		{"tabs, delete column present, rows of other widths",
			SheetConfig{Key: "Code", DeleteColumn: "Removed", DeleteValue: "yes", StatusColumn: "Sync"},
			[]byte("Code\tName\tStage\tRemoved\nE-1\tEl\topen\tyes\nE-2\tEm\topen\t\nnote row\nE-3\tEn\topen\t\n\t\t\t\n"),
			[]editOp{deleteOp("E-2"), upsertOp("E-1", "Name", "again"), upsertOp("E-3", "Stage", "closed"), deleteOp("E-9")}},
		{"damaged row: nothing written",
			SheetConfig{Key: "Code"},
			[]byte("Code,Name,Stage\nF-1,Fa\nF-2,Fb,open\n"),
			[]editOp{upsertOp("F-2", "Stage", "closed"), upsertOp("F-3", "Stage", "new")}},
		{"duplicate keys, keyless rows",
			SheetConfig{Key: "Code"},
			[]byte("Code,Name,Stage\nG-1,a,open\nG-1,b,open\n,c,open\nG-2,d,open\n"),
			[]editOp{upsertOp("G-1", "Stage", "x"), upsertOp("G-2", "Stage", "x"), deleteOp("G-1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sameAsWholeFile(t, tc.conf, tc.data, tc.ops)
		})
	}
}

// TestCSVEditorSameAsWholeFileGenerated compares the two editors on a
// generated file: many rows edited out of order (each row read again,
// some several times), multi-line and quoted cells between them, rows
// marked, removed and appended.
func TestCSVEditorSameAsWholeFileGenerated(t *testing.T) {
	for _, mode := range []DeleteMode{DeleteMark, DeleteRemove} {
		t.Run(string(mode), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, uint64(len(mode))))
			var b strings.Builder
			b.WriteString("\xEF\xBB\xBFTitle\r\nCode,Name,Notes,Stage\r\n")
			const rows = 600
			for i := range rows {
				switch i % 7 {
				case 0:
					fmt.Fprintf(&b, "R-%d,\"Name %d\",\"two\r\nlines, %d\",open\r\n", i, i, i)
				case 3:
					fmt.Fprintf(&b, "R-%d,Nom\u200b%d,\"say \"\"hi\"\"\",open\n", i, i) // a stray LF line ending
				default:
					fmt.Fprintf(&b, "R-%d,N%d,,open\r\n", i, i)
				}
			}
			b.WriteString(",,,\r\n\r\n")
			var ops []editOp
			for range 300 {
				k := fmt.Sprintf("R-%d", rnd.IntN(rows+20)) // some are new
				switch rnd.IntN(6) {
				case 0:
					ops = append(ops, deleteOp(k))
				case 1:
					ops = append(ops, upsertOp(k, "Notes", fmt.Sprintf("note,\n%d", rnd.IntN(9))))
				case 2:
					ops = append(ops, statusOp(k, "seen"))
				default:
					ops = append(ops, upsertOp(k, "Stage", []string{"open", "closed", " spaced"}[rnd.IntN(3)]))
				}
			}
			sameAsWholeFile(t, SheetConfig{Key: "Code", StatusColumn: "Sync", Delete: mode}, []byte(b.String()), ops)
		})
	}
}

// TestCSVEditorHoldsOffsetsNotRows: building the editor and its model
// for a file of 20,000 rows holds a few dozen bytes per row beside the
// model's index of keys, not the rows parsed (about 700 bytes per row
// before: a 100,000-record two-way sync peaked during this write).
func TestCSVEditorHoldsOffsetsNotRows(t *testing.T) {
	const rows = 20_000
	var b bytes.Buffer
	b.WriteString("Case ID,First name,Last name,Gender,Born,Stage,Notes\r\n")
	for i := range rows {
		fmt.Fprintf(&b, "C-%06d,Ananya,Example,F,2005-01-%02d,active,synthetic note %d\r\n", i+1, 1+i%28, i)
	}
	data := b.Bytes()
	c := newConn(t, SheetConfig{Object: "o", Path: "f.csv", Key: "Case ID"})
	sc, err := c.lookup("upsert", "o")
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	ed, err := newCSVEditor(sc, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.newModel(sc, ed)
	if err != nil {
		t.Fatal(err)
	}
	if res := m.upsert(rec("C-000010", "Stage", "closed")); res.Err != nil {
		t.Fatal(res.Err)
	}
	after := heap()
	runtime.KeepAlive(ed)
	runtime.KeepAlive(m)
	if len(m.live) != rows {
		t.Fatalf("%d keys, want %d", len(m.live), rows)
	}
	// The model's key index (map entry, key, one ref) is about 100 bytes
	// a row; the editor's offsets 24.
	if per := float64(after-before) / rows; per > 250 {
		t.Errorf("editor and model hold %.0f bytes per row, want at most 250", per)
	}
}

// failingReader fails every read once fail is set.
type failingReader struct {
	r    io.ReaderAt
	fail bool
}

func (f *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if f.fail {
		return 0, errors.New("device gone")
	}
	return f.r.ReadAt(p, off)
}

// TestCSVEditorReadAgainFails: a row that cannot be read again (the disk
// went away between the model's pass and the write) fails the write; no
// partial file is rendered.
func TestCSVEditorReadAgainFails(t *testing.T) {
	data := []byte("Code,Name\nK-1,a\nK-2,b\n")
	c := newConn(t, SheetConfig{Object: "o", Path: "f.csv", Key: "Code"})
	sc, _ := c.lookup("upsert", "o")
	src := &failingReader{r: bytes.NewReader(data)}
	ed, err := newCSVEditorAt(sc, src, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.newModel(sc, ed)
	if err != nil {
		t.Fatal(err)
	}
	src.fail = true
	m.upsert(rec("K-2", "Name", "c"))
	if out, err := ed.bytes(); err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Fatalf("bytes() = %q, %v; want the read error", out, err)
	}
}

// TestUpsertLargeFileEditsInPlace writes 1% of a 5,000-row file through
// Upsert (the file, its backup and the rename) and checks every other
// byte is the original's.
func TestUpsertLargeFileEditsInPlace(t *testing.T) {
	const rows = 5000
	p := filepath.Join(t.TempDir(), "cases.csv")
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	w.WriteString("Code,Name,Stage\r\n")
	for i := range rows {
		fmt.Fprintf(w, "K-%05d,\"Name\r\n%d\",open\r\n", i, i)
	}
	w.Flush()
	orig := b.Bytes()
	if err := os.WriteFile(p, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Code"})
	var recs []connector.Record
	want := string(orig)
	for i := 0; i < rows; i += 100 {
		recs = append(recs, rec(fmt.Sprintf("K-%05d", i), "Stage", "closed"))
		row := fmt.Sprintf("K-%05d,\"Name\r\n%d\",", i, i)
		want = strings.Replace(want, row+"open\r\n", row+"closed\r\n", 1)
	}
	res, err := c.Upsert(ctx, "o", recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("the file is not the original with %d cells changed", len(recs))
	}
	baks, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".casebridge-backup", "cases.csv.*.bak"))
	if len(baks) != 1 {
		t.Fatalf("%d backups, want 1", len(baks))
	}
	if bak, _ := os.ReadFile(baks[0]); !bytes.Equal(bak, orig) {
		t.Error("the backup is not the original file")
	}
}
