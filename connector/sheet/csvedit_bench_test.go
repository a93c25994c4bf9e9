package sheet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// writeBenchSheet writes a CSV of rows cases shaped like casebridge
// bench's (seven columns, a header row) and returns its path.
func writeBenchSheet(b *testing.B, rows int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "cases.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("Case ID,First name,Last name,Gender,Born,Stage,Notes\r\n")
	for i := range rows {
		fmt.Fprintf(w, "C-%06d,Ananya,Example,F,2005-01-%02d,active,synthetic note %d\r\n", i+1, 1+i%28, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchEdits is 1% of rows moved to another stage, as a two-way run
// writes them back, and a few new cases.
func benchEdits(rows, i int) []connector.Record {
	var recs []connector.Record
	for k := 0; k < rows; k += 100 {
		recs = append(recs, rec(fmt.Sprintf("C-%06d", k+1), "Stage", fmt.Sprintf("closed %d", i)))
	}
	for k := range 10 {
		recs = append(recs, rec(fmt.Sprintf("N-%d-%d", i, k), "Stage", "new", "First name", "Nadia"))
	}
	return recs
}

// BenchmarkCSVWrite100k measures one write-back of 1% of a 100,000-row
// CSV (and 10 new rows) as a two-way sync does it: the file read, the
// editor and its model built, the rows updated and the new file rendered.
// live-MB is the heap the write holds at its peak, just after the new
// file is rendered (everything still reachable, after a GC), above the
// heap before it: what the write adds to a run's peak RSS. B/op is all it
// allocates, garbage included. Run with -benchtime 3x.
func BenchmarkCSVWrite100k(b *testing.B) {
	const rows = 100_000
	p := writeBenchSheet(b, rows)
	c := newConn(b, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	sc, err := c.lookup("upsert", "o")
	if err != nil {
		b.Fatal(err)
	}
	var live uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		recs := benchEdits(rows, i)
		b.StartTimer()
		data, _, err := readFile(p)
		if err != nil {
			b.Fatal(err)
		}
		ed, err := newCSVEditor(sc, data)
		if err != nil {
			b.Fatal(err)
		}
		m, err := c.newModel(sc, ed)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if res := m.upsert(r); res.Err != nil {
				b.Fatal(res.Err)
			}
		}
		out, err := ed.bytes()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base {
			live = max(live, ms.HeapAlloc-base) // recs were allocated before base: not counted
		}
		runtime.KeepAlive(data)
		runtime.KeepAlive(ed)
		runtime.KeepAlive(m)
		runtime.KeepAlive(out)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(live)/(1<<20), "live-MB")
}

// BenchmarkCSVUpsert100k is the same write through Upsert: the file read,
// edited, backed up and replaced.
func BenchmarkCSVUpsert100k(b *testing.B) {
	const rows = 100_000
	p := writeBenchSheet(b, rows)
	c := newConn(b, SheetConfig{Object: "o", Path: p, Key: "Case ID"})
	c.w.backups = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := c.Upsert(ctx, "o", benchEdits(rows, i))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
