package sheet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// FuzzXLSXRead reads arbitrary bytes as a workbook, as a whole: the
// Connector's Read of the first sheet (header detection, duplicate check,
// records) and a stream of every sheet of the book. It must never panic,
// must stay within a memory budget, and either reads rows or fails with
// an error. The limits are lowered so that a small input can reach them
// (deflate inflates about 1,000 times: a 64 KiB input, 64 MiB) and an
// input is quick to run.
//
//	go test ./connector/sheet -run '^$' -fuzz FuzzXLSXRead -fuzztime 60s -fuzzminimizetime 10x
//
// (without -fuzzminimizetime the engine spends up to a minute minimising
// each new input it finds interesting).
func FuzzXLSXRead(f *testing.F) {
	const budget = 48 << 20 // bytes allocated by one input, at most
	setLimit(f, &maxPartBytes, 1<<20)
	setLimit(f, &maxMetaPartBytes, 1<<20)
	setLimit(f, &maxSharedBytes, 1<<20)
	setLimit(f, &maxSharedStrings, 1<<14)
	setLimit(f, &maxRows, 1<<14)
	setLimit(f, &maxRowBytes, 1<<20)
	setLimit(f, &maxMerges, 1<<10)
	setLimit(f, &maxEditBytes, 2<<20)

	if data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sheets", "kh_register.xlsx")); err == nil {
		f.Add(data)
	}
	f.Add(khmerRegister(f))
	f.Add(buildXLSX(f, xs{name: "Cases", rows: [][]xc{{str("A1", "Code"), str("B1", "Name")}, {str("A2", "C-1"), num("B2", "45385", 1)}},
		merges: []string{"A3:B3"}}))
	for _, kind := range []string{bombSpace, bombCell, bombShared, bombRows, bombSSTCount} {
		p := filepath.Join(f.TempDir(), kind+".xlsx")
		writeBomb(f, p, kind, 200)
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{Name: "files", Sheets: []SheetConfig{{Object: "o", Path: p, Key: "Code"}}})
		if err != nil {
			t.Fatal(err)
		}
		alloc := allocated(func() {
			// Rows or an error: every record has its key or its error.
			_, _ = c.Read(context.Background(), "o", "", func(r connector.Record) error {
				if r.Err == nil && (r.Key == "" || r.Fields == nil) {
					t.Fatalf("a record without key or fields and without error")
				}
				return nil
			})
			b, err := openBook(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return
			}
			for _, s := range b.sheets {
				_, _ = b.streamSheet(context.Background(), s.path, func(r *rawRow, info []cellInfo) error {
					if len(r.cells) != len(info) || len(r.cells) > 16384 {
						t.Fatalf("row %d: %d cells, %d infos", r.num, len(r.cells), len(info))
					}
					return nil
				})
			}
		})
		if alloc > budget {
			t.Fatalf("one input allocated %d MiB (budget %d MiB)", alloc>>20, budget>>20)
		}
	})
}
