package connector

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func spillRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Key: fmt.Sprintf("bench:C-%06d", i), ID: fmt.Sprintf("a0%016d", i),
			Modified: time.Date(2026, 12, 4, 10, 0, i%60, i*1000, time.UTC),
			Fields: map[string]Value{
				"Name__c":   Text(fmt.Sprintf("สมหญิง ตัวอย่าง %d\n", i)), // Thai, a trailing newline
				"Notes__c":  Null(),
				"Amount__c": Number(decimal.RequireFromString(fmt.Sprintf("%d.50", i))),
				"Ok__c":     Bool(i%2 == 0),
				"Born__c":   DateValue(Date{Year: 2008, Month: time.March, Day: 1 + i%28}),
				"Seen__c":   DateTime(time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)),
				"Langs__c":  Multi("Khmer", "Thai"),
			},
		}
	}
	recs[3].Deleted, recs[3].Fields = true, nil
	recs[4].Modified = time.Time{}
	return recs
}

func TestSpillRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := spillRecords(5000) // several chunks
	failed := Record{Key: "bench:C-bad", Err: &ValueError{Code: CodeOutOfScope, Detail: "outside the where"}}
	for i, r := range recs {
		if i == 10 {
			if err := s.Add(failed); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != len(recs)+1 {
		t.Fatalf("Len %d, want %d", s.Len(), len(recs)+1)
	}
	for pass := range 2 { // any number of times
		var got []Record
		if err := s.Each(func(r Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs)+1 || got[0].Err == nil || got[0].Key != failed.Key {
			t.Fatalf("pass %d: %d records, the first %+v; want %d, the failed one first", pass, len(got), got[0], len(recs)+1)
		}
		for i, r := range recs {
			g := got[i+1]
			if g.Key != r.Key || g.ID != r.ID || g.Deleted != r.Deleted || !g.Modified.Equal(r.Modified) || len(g.Fields) != len(r.Fields) {
				t.Fatalf("pass %d record %d: got %v %v %v %v %d fields, want %v %v %v %v %d", pass, i, g.Key, g.ID, g.Deleted, g.Modified, len(g.Fields), r.Key, r.ID, r.Deleted, r.Modified, len(r.Fields))
			}
			for name, v := range r.Fields {
				if w := g.Fields[name]; !w.Equal(v) || w.Kind() != v.Kind() || w.Raw() != v.Raw() {
					t.Fatalf("pass %d record %d field %s: got %s, want %s", pass, i, name, w, v)
				}
			}
		}
	}
	// Added after a pass: kept too.
	if err := s.Add(recs[0]); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.Each(func(Record) error { n++; return nil }); err != nil || n != len(recs)+2 {
		t.Fatalf("after one more: %d records, %v", n, err)
	}
	// Nothing readable is left in the folder: the file is unlinked (or,
	// where it cannot be, encrypted).
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(data, []byte("bench:C-000001")) || bytes.Contains(data, []byte("สมหญิง")) {
			t.Fatalf("%s holds plain text of the records", e.Name())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	if err := s.Each(func(Record) error { return nil }); err == nil {
		t.Fatal("Each after Close did not fail")
	}
}

func BenchmarkSpill(b *testing.B) {
	recs := spillRecords(100_000)
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewSpill(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Each(func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
}

func TestSpillRaw(t *testing.T) {
	s, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var want [][]byte
	for i := range 20_000 { // several chunks
		b := []byte(fmt.Sprintf("record %d %s", i, bytes.Repeat([]byte{'x'}, i%50)))
		if i%1000 == 0 {
			b = nil // an empty record is one too
		}
		want = append(want, b)
		if err := s.AddRaw(b); err != nil {
			t.Fatal(err)
		}
	}
	for pass := range 2 {
		i := 0
		err := s.EachRaw(func(b []byte) error {
			if !bytes.Equal(b, want[i]) {
				return fmt.Errorf("record %d: %q, want %q", i, b, want[i])
			}
			i++
			return nil
		})
		if err != nil || i != len(want) {
			t.Fatalf("pass %d: %d records, %v", pass, i, err)
		}
	}
}

// A sealed spill holds no buffer: many filled, then read one at a time,
// hold one chunk's memory, not one per spill.
func TestSpillSealLetsGo(t *testing.T) {
	s, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range spillRecords(300) {
		if err := s.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if cap(s.buf) == 0 {
		t.Fatal("nothing buffered before Seal: the test cannot fail")
	}
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	if s.buf != nil || s.sealed != nil {
		t.Fatalf("sealed spill holds %d + %d bytes of buffers", cap(s.buf), cap(s.sealed))
	}
	n := 0
	if err := s.Each(func(Record) error { n++; return nil }); err != nil || n != 300 {
		t.Fatalf("%d records after Seal, %v", n, err)
	}
}
