package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// bomb kinds: where the bulk of a hostile workbook's inflated bytes go.
const (
	bombSpace     = "space"     // white space between two rows of the sheet
	bombCell      = "cell"      // one inline-string cell
	bombShared    = "shared"    // one shared string (the cell refers to it)
	bombRows      = "rows"      // n rows of one cell each
	bombSSTCount  = "sstcount"  // n one-character shared strings
	bombLyingSize = "lyingsize" // the space bomb, its zip header declaring 1 KiB
)

// writeBomb streams to path a minimal, valid workbook (sheet "Cases",
// header Code | Name, one data row C-1) that inflates by about n bytes in
// the way kind says. Nothing of size n is held in memory: the bulk is
// written in 64 KiB pieces through a BestSpeed deflater, so a 1 GiB bomb
// is a file of about 1.3 MB written in about a second.
func writeBomb(t testing.TB, path, kind string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	z := zip.NewWriter(bw)
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	add := func(name, body string) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+body)
	}
	ns := `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	add("[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	add("_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", `<workbook `+ns+` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Cases" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)

	// repeat writes n bytes of unit (a short XML piece) to w.
	repeat := func(w io.Writer, unit string, n int64) {
		chunk := bytes.Repeat([]byte(unit), (64<<10)/len(unit))
		for n > 0 {
			c := chunk[:min(int64(len(chunk)), n/int64(len(unit))*int64(len(unit)))]
			if len(c) == 0 {
				return
			}
			if _, err := w.Write(c); err != nil {
				t.Fatal(err)
			}
			n -= int64(len(c))
		}
	}

	// Shared strings: Code, Name, and for the shared bomb the huge one.
	sw, err := z.Create("xl/sharedStrings.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(sw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n<sst "+ns+"><si><t>Code</t></si><si><t>Name</t></si><si><t>")
	switch kind {
	case bombShared:
		repeat(sw, "a", n)
	case bombSSTCount:
		io.WriteString(sw, "x</t></si>")
		repeat(sw, "<si><t>x</t></si>", n*int64(len("<si><t>x</t></si>")))
		io.WriteString(sw, "<si><t>")
	}
	io.WriteString(sw, "Ana</t></si></sst>")

	var w io.Writer
	if kind == bombLyingSize {
		// Deflate the sheet ourselves and declare 1 KiB inflated.
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w = fw
		defer func() {
			fw.Close()
			raw, err := z.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
				CompressedSize64: uint64(buf.Len()), UncompressedSize64: 1 << 10, CRC32: 0})
			if err != nil {
				t.Fatal(err)
			}
			raw.Write(buf.Bytes())
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
		}()
	} else {
		if w, err = z.Create("xl/worksheets/sheet1.xml"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := z.Close(); err != nil {
				t.Fatal(err)
			}
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
		}()
	}
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n<worksheet "+ns+`><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`)
	switch kind {
	case bombSpace, bombLyingSize:
		repeat(w, " ", n)
	case bombRows:
		for i := int64(2); i <= n+1; i++ {
			fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>C-%d</t></is></c></row>`, i, i, i)
		}
	}
	last := n + 2
	if kind != bombRows {
		last = 2
	}
	fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>C-1</t></is></c>`, last, last)
	switch kind {
	case bombCell:
		fmt.Fprintf(w, `<c r="B%d" t="inlineStr"><is><t>`, last)
		repeat(w, "a", n)
		io.WriteString(w, `</t></is></c>`)
	case bombShared:
		fmt.Fprintf(w, `<c r="B%d" t="s"><v>2</v></c>`, last)
	default:
		fmt.Fprintf(w, `<c r="B%d" t="inlineStr"><is><t>Ana</t></is></c>`, last)
	}
	io.WriteString(w, `</row></sheetData></worksheet>`)
}

// heapWatch samples the heap in use every millisecond until stopped:
// the reader calls back only per row, and a bomb is one row.
type heapWatch struct {
	stop chan struct{}
	done chan uint64
}

func watchHeap() *heapWatch {
	runtime.GC()
	h := &heapWatch{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-h.stop:
				h.done <- peak
				return
			case <-tk.C:
			}
		}
	}()
	return h
}

func (h *heapWatch) peak() uint64 { close(h.stop); return <-h.done }

// BenchmarkXLSXBomb reads 1 GiB-inflating workbooks (about 1.3 MB on
// disk) with the default limits and reports the peak heap; the -255MiB
// cases stay just under the part limit, the most inflating a bomb can
// cost (a cell fails at its first 256 KiB, white space is read through,
// twice). Run with -benchtime 1x.
func BenchmarkXLSXBomb(b *testing.B) {
	for _, bc := range []struct {
		kind string
		n    int64
	}{{bombSpace, 1 << 30}, {bombCell, 1 << 30}, {bombShared, 1 << 30}, {bombSpace, 255 << 20}, {bombCell, 255 << 20}} {
		kind := bc.kind
		b.Run(fmt.Sprintf("%s-%dMiB", kind, bc.n>>20), func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "bomb.xlsx")
			writeBomb(b, p, kind, bc.n)
			c := newConn(b, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
			h := watchHeap()
			b.ResetTimer()
			var err error
			for range b.N {
				_, err = c.Read(ctx, "o", "", func(r connector.Record) error { return nil })
			}
			b.StopTimer()
			b.ReportMetric(float64(h.peak())/(1<<20), "peak-heap-MB")
			b.Logf("%s: %v", kind, err)
		})
	}
}

// setLimit lowers one of the reader's limits for the test.
func setLimit[T int | int64](t testing.TB, v *T, to T) {
	t.Helper()
	old := *v
	*v = to
	t.Cleanup(func() { *v = old })
}

// allocated returns the bytes fn allocated (TotalAlloc: every allocation,
// freed or not, so a buffer grown and dropped between two samples of the
// heap still counts).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// readErr reads object o of c and returns the read's error.
func readErr(c *Connector) (n int, err error) {
	_, err = c.Read(ctx, "o", "", func(r connector.Record) error {
		if r.Err == nil {
			n++
		}
		return nil
	})
	return n, err
}

// checkLimitErr: the read failed for the limit, fatal for its object, and
// the error names the file, the sheet and the limit.
func checkLimitErr(t *testing.T, err error, file string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("the read succeeded, want a limit error")
	}
	if !errors.Is(err, ErrTooLarge) || !connector.IsFatal(err) {
		t.Errorf("error %v: want ErrTooLarge (%v) and fatal (%v)", err, errors.Is(err, ErrTooLarge), connector.IsFatal(err))
	}
	for _, w := range append([]string{file, `sheet "Cases"`}, want...) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestXLSXBombs: workbooks that inflate past a limit (lowered here so the
// test is fast) fail their read with an error naming file, sheet, part and
// limit, fatal for the object, without the memory the bomb asks for.
func TestXLSXBombs(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		kind  string
		n     int64
		lower func(t *testing.T)
		want  string
	}{
		// 64 MiB of white space between rows: the header declares it.
		{"space past the part limit", bombSpace, 64 * mib, func(t *testing.T) { setLimit(t, &maxPartBytes, 16*mib) },
			"xl/worksheets/sheet1.xml decompresses past 16 MiB"},
		// A 64 MiB cell, inside the part limit: the scanner keeps 256 KiB of it.
		{"huge cell", bombCell, 64 * mib, func(t *testing.T) { setLimit(t, &maxPartBytes, 128*mib) },
			"xl/worksheets/sheet1.xml: row 2 cell B2 is longer than the 32,767 characters a cell holds"},
		{"cell one past Excel's limit", bombCell, maxCellChars + 1, nil,
			"row 2 cell B2 is longer than the 32,767 characters a cell holds"},
		{"huge shared string", bombShared, 64 * mib, func(t *testing.T) { setLimit(t, &maxPartBytes, 128*mib) },
			"xl/sharedStrings.xml: shared string 2 is longer than the 32,767 characters a cell holds"},
		{"shared strings past the part limit", bombShared, 64 * mib, func(t *testing.T) { setLimit(t, &maxPartBytes, 16*mib) },
			"xl/sharedStrings.xml decompresses past 16 MiB"},
		{"too many shared strings", bombSSTCount, 1000, func(t *testing.T) { setLimit(t, &maxSharedStrings, 500) },
			"xl/sharedStrings.xml: more than 500 shared strings"},
		{"shared strings' text", bombShared, 30000, func(t *testing.T) { setLimit(t, &maxSharedBytes, 16<<10) },
			"xl/sharedStrings.xml: the shared strings hold more than 16 KiB of text"},
		{"too many rows", bombRows, 1000, func(t *testing.T) { setLimit(t, &maxRows, 1000) },
			"xl/worksheets/sheet1.xml: more than 1,000 rows (Excel's limit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.lower != nil {
				tc.lower(t)
			}
			p := filepath.Join(t.TempDir(), "bomb.xlsx")
			writeBomb(t, p, tc.kind, tc.n)
			c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
			var err error
			alloc := allocated(func() { _, err = readErr(c) })
			checkLimitErr(t, err, "bomb.xlsx", tc.want)
			if alloc > 16*mib {
				t.Errorf("the read allocated %d MiB", alloc/mib)
			}
		})
	}
}

// TestXLSXWithinLimits: what is at a limit reads, in bounded memory.
func TestXLSXWithinLimits(t *testing.T) {
	const mib = 1 << 20
	t.Run("white space between rows", func(t *testing.T) {
		setLimit(t, &maxPartBytes, 128*mib)
		p := filepath.Join(t.TempDir(), "space.xlsx")
		writeBomb(t, p, bombSpace, 64*mib)
		c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
		var n int
		var err error
		alloc := allocated(func() { n, err = readErr(c) })
		if err != nil || n != 1 {
			t.Fatalf("read %d rows: %v", n, err)
		}
		if alloc > 16*mib {
			t.Errorf("the read allocated %d MiB", alloc/mib)
		}
	})
	t.Run("rows", func(t *testing.T) {
		setLimit(t, &maxRows, 1000)
		p := filepath.Join(t.TempDir(), "rows.xlsx")
		writeBomb(t, p, bombRows, 998) // header, 998 rows, C-1: 1,000
		c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
		if n, err := readErr(c); err != nil || n != 999 {
			t.Fatalf("read %d rows: %v", n, err)
		}
	})
	for _, v := range []struct{ name, cell, want string }{
		{"ASCII", strings.Repeat("a", maxCellChars), ""},
		{"Khmer", strings.Repeat("ក", maxCellChars), ""},                                            // three bytes a character
		{"emoji", strings.Repeat("😀", maxCellChars), ""},                                            // four
		{"escaped CR", strings.Repeat("_x000D_", maxCellChars), strings.Repeat("\r", maxCellChars)}, // seven
		{"entities", strings.Repeat("&<", maxCellChars/2) + "a", ""},
	} {
		t.Run("a full cell of "+v.name, func(t *testing.T) {
			want := v.want
			if want == "" {
				want = v.cell
			}
			p := writeFile(t, "full.xlsx", buildXLSX(t, xs{name: "Cases", rows: [][]xc{
				{str("A1", "Code"), str("B1", "Name")}, {str("A2", "C-1"), str("B2", v.cell)}}}))
			c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
			recs, errs := readAll(t, c, "o")
			if len(errs) > 0 || len(recs) != 1 {
				t.Fatalf("%d records, errors %v", len(recs), errs)
			}
			if got := text(t, recs["C-1"], "Name"); got != want {
				t.Errorf("the cell read back as %d characters, not as written", len([]rune(got)))
			}
		})
	}
}

// TestXLSXSheetLimits: limits a hand-built sheet runs into: a row's text,
// merged ranges, a tag longer than the scanner holds.
func TestXLSXSheetLimits(t *testing.T) {
	long := strings.Repeat("ក", 20000)
	for _, tc := range []struct {
		name  string
		sheet xs
		lower func(t *testing.T)
		want  string
	}{
		{"row text", xs{rows: [][]xc{{str("A1", "Code"), str("B1", "Name")},
			{str("A2", "C-1"), str("B2", long), str("C2", long), str("D2", long)}}},
			func(t *testing.T) { setLimit(t, &maxRowBytes, 128<<10) }, "row 2 holds more than 128 KiB of text"},
		{"merged ranges", xs{rows: [][]xc{{str("A1", "Code"), str("B1", "Name")}}, merges: []string{"A3:B3", "A4:B4", "A5:B5"}},
			func(t *testing.T) { setLimit(t, &maxMerges, 2) }, "more than 2 merged ranges"},
		{"long tag", xs{rows: [][]xc{{str("A1", "Code"), str("B1", "Name")}},
			cols: `<cols><col min="1" max="1" x="` + strings.Repeat("a", 1<<20) + `"/></cols>`},
			func(t *testing.T) { setLimit(t, &maxXMLToken, 64<<10) }, "an XML tag longer than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.lower(t)
			tc.sheet.name = "Cases"
			p := writeFile(t, "limits.xlsx", buildXLSX(t, tc.sheet))
			c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
			_, err := readErr(c)
			checkLimitErr(t, err, "limits.xlsx", tc.want)
		})
	}
}

// TestPartReader: the bytes a part inflates to are counted whatever its
// zip header says (archive/zip itself stops at the declared size, so the
// count is the second line of defence).
func TestPartReader(t *testing.T) {
	p := &partReader{rc: io.NopCloser(strings.NewReader(strings.Repeat(" ", 1000))), part: "xl/worksheets/sheet1.xml", limit: 100}
	got, err := io.ReadAll(p)
	if !errors.Is(err, ErrTooLarge) || len(got) > 100 || !strings.Contains(err.Error(), "sheet1.xml decompresses past 100 bytes") {
		t.Errorf("read %d bytes: %v", len(got), err)
	}
	p = &partReader{rc: io.NopCloser(strings.NewReader(strings.Repeat(" ", 100))), limit: 100}
	if got, err := io.ReadAll(p); err != nil || len(got) != 100 {
		t.Errorf("at the limit: read %d bytes: %v", len(got), err)
	}
}

// TestXLSXLyingHeader: a worksheet whose zip header declares 1 KiB but
// inflates to 64 MiB fails (archive/zip holds a part to its declared
// size) after about 1 KiB.
func TestXLSXLyingHeader(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lying.xlsx")
	writeBomb(t, p, bombLyingSize, 64<<20)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
	var err error
	alloc := allocated(func() { _, err = readErr(c) })
	if err == nil || !strings.Contains(err.Error(), "lying.xlsx") || !strings.Contains(err.Error(), "not a valid .xlsx file") {
		t.Errorf("read: %v", err)
	}
	if alloc > 16<<20 {
		t.Errorf("the read allocated %d MiB", alloc>>20)
	}
}

// TestXLSXGigabyteBombs: 1 GiB-inflating workbooks (about 1.3 MB each)
// with the default limits fail at once: the zip headers declare the
// sizes. Before the limits these took 14-70 s and 3-6 GiB of heap each
// (BenchmarkXLSXBomb).
func TestXLSXGigabyteBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB-inflating workbooks")
	}
	for kind, want := range map[string]string{
		bombSpace:  "xl/worksheets/sheet1.xml decompresses past 256 MiB",
		bombShared: "xl/sharedStrings.xml decompresses past 256 MiB",
	} {
		t.Run(kind, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bomb.xlsx")
			writeBomb(t, p, kind, 1<<30)
			c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
			var err error
			alloc := allocated(func() { _, err = readErr(c) })
			checkLimitErr(t, err, "bomb.xlsx", want)
			if alloc > 16<<20 {
				t.Errorf("the read allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestXLSXBigPartStreams: a worksheet of 200 MiB (white space between
// rows), under the default limit, is inflated and read in flat memory.
func TestXLSXBigPartStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 200 MiB")
	}
	p := filepath.Join(t.TempDir(), "big.xlsx")
	writeBomb(t, p, bombSpace, 200<<20)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
	var n int
	var err error
	alloc := allocated(func() { n, err = readErr(c) })
	if err != nil || n != 1 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	if alloc > 16<<20 {
		t.Errorf("the read allocated %d MiB", alloc>>20)
	}
}

// TestXLSXWriteLimits: a write-back loads the whole package through
// excelize: past maxEditBytes it stops before excelize inflates anything,
// and under it excelize inflates nothing into the system's temporary
// folder (a worksheet there would be personal data left behind: the
// default spills parts over 16 MB).
func TestXLSXWriteLimits(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := filepath.Join(t.TempDir(), "big.xlsx")
	writeBomb(t, p, bombSpace, 20<<20)
	c := newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
	upsert(t, c, "o", rec("C-1", "Name", "Bea"))
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("the write left %v in the temporary folder", left)
	}
	recs, _ := readAll(t, c, "o")
	if got := text(t, recs["C-1"], "Name"); got != "Bea" {
		t.Errorf("Name = %q after the write", got)
	}

	setLimit(t, &maxEditBytes, 64<<10)
	p = writeFile(t, "cases.xlsx", buildXLSX(t, xs{name: "Cases", rows: [][]xc{
		{str("A1", "Code"), str("B1", "Name")}, {str("A2", "C-1"), str("B2", strings.Repeat("a", 30000))}, {str("A3", "C-2"), str("B3", strings.Repeat("b", 30000))},
		{str("A4", "C-3"), str("B4", strings.Repeat("c", 30000))}}}))
	c = newConn(t, SheetConfig{Object: "o", Path: p, Sheet: "Cases", Key: "Code"})
	_, err := c.Upsert(ctx, "o", []connector.Record{rec("C-1", "Name", "Ana")})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "cases.xlsx") ||
		!strings.Contains(err.Error(), "the workbook decompresses past 64 KiB, the most casebridge writes back into") {
		t.Errorf("upsert: %v", err)
	}
}
