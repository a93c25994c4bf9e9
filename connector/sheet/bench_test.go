package sheet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/connector"
)

// peak samples the heap while a read runs.
type peak struct{ max uint64 }

func (p *peak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.max = max(p.max, ms.HeapInuse+ms.StackInuse)
}

func benchRead(b *testing.B, c *Connector, rows int) {
	b.Helper()
	b.ReportAllocs()
	runtime.GC()
	var p peak
	p.sample()
	b.ResetTimer()
	for range b.N {
		n := 0
		if _, err := c.Read(ctx, "o", "", func(r connector.Record) error {
			if r.Err != nil {
				return r.Err
			}
			if n++; n%50000 == 0 {
				p.sample()
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(p.max)/(1<<20), "peak-heap-MB")
}

// BenchmarkReadCSV streams a generated CSV of 1,000,000 rows (about
// 120 MB, 12 columns, Thai text); peak heap must stay flat in the row
// count. Run with -benchtime 1x.
func BenchmarkReadCSV(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			p := writeBigCSV(b, rows)
			c := newConn(b, SheetConfig{Object: "o", Path: p, Key: "Case No"})
			benchRead(b, c, rows)
			if fi, err := os.Stat(p); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
			}
		})
	}
}

// writeBigCSV writes the Thai tracker-like CSV of the read benchmarks:
// rows data rows (a quoted note of two lines, a month title and a blank
// row every 100,000) into a temporary folder.
func writeBigCSV(b *testing.B, rows int) string {
	p := filepath.Join(b.TempDir(), "big.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("SL,Case No,Name,Gender,Age,Factory,Found date,Status,Stipend,Phone,Consent,Remarks\r\n")
	for i := range rows {
		fmt.Fprintf(w, "%d,TH-CL-%07d,ด.ญ. ตัวอย่าง %d,หญิง,%d,โรงงานตัวอย่าง จำกัด,03/04/2567,กำลังดำเนินการ,\"3,000\",0800000000,ยินยอม,\"note\nline two\"\r\n", i+1, i, i, 10+i%8)
		if i%100_000 == 99_999 {
			w.WriteString("เมษายน 2567,,,,,,,,,,,\r\n,,,,,,,,,,,\r\n")
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkReadXLSX streams a generated workbook of 100,000 rows.
func BenchmarkReadXLSX(b *testing.B) {
	const rows = 100_000
	p := filepath.Join(b.TempDir(), "big.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"Code", "Name (Khmer)", "Sex", "DOB/Age", "Province", "Date returned", "Services", "Status"})
	for i := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprintf("KH-RT-%07d", i), "សុខ តេស្ត", "ស្រី", 10 + i%8, "Battambang", 45385 + i%300, "shelter, medical", "បើក"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(p); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c := newConn(b, SheetConfig{Object: "o", Path: p, Key: "Code"})
	benchRead(b, c, rows)
	if fi, err := os.Stat(p); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

// BenchmarkUpsert measures one write-back (100 updated rows and 100 new
// ones, one file replacement) into a 100,000-row file: the whole file is
// rewritten, so this is the cost of a sync run's write per object.
func BenchmarkUpsert(b *testing.B) {
	const rows = 100_000
	batch := func(i int) []connector.Record {
		var recs []connector.Record
		for k := range 100 {
			recs = append(recs, rec(fmt.Sprintf("K-%07d", k*997), "Status", fmt.Sprintf("s%d", i)))
			recs = append(recs, rec(fmt.Sprintf("N-%d-%d", i, k), "Status", "new", "Name", "ใหม่"))
		}
		return recs
	}
	run := func(b *testing.B, p string) {
		c := newConn(b, SheetConfig{Object: "o", Path: p, Key: "Code"})
		zero := 0
		c.w.backups = zero
		b.ResetTimer()
		for i := range b.N {
			res, err := c.Upsert(ctx, "o", batch(i))
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
	b.Run("csv", func(b *testing.B) {
		p := filepath.Join(b.TempDir(), "big.csv")
		f, _ := os.Create(p)
		w := bufio.NewWriter(f)
		w.WriteString("Code,Name,Age,Status\n")
		for i := range rows {
			fmt.Fprintf(w, "K-%07d,ตัวอย่าง %d,%d,open\n", i, i, i%18)
		}
		w.Flush()
		f.Close()
		run(b, p)
	})
	b.Run("xlsx", func(b *testing.B) {
		p := filepath.Join(b.TempDir(), "big.xlsx")
		f := excelize.NewFile()
		sw, _ := f.NewStreamWriter("Sheet1")
		sw.SetRow("A1", []any{"Code", "Name", "Age", "Status"})
		for i := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			sw.SetRow(cell, []any{fmt.Sprintf("K-%07d", i), fmt.Sprintf("ตัวอย่าง %d", i), i % 18, "open"})
		}
		sw.Flush()
		if err := f.SaveAs(p); err != nil {
			b.Fatal(err)
		}
		f.Close()
		run(b, p)
	})
}
