package sheet

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// A read with a key filter (a run planned in parts) passes the rows whose
// key the filter accepts and every row it could not read, and no others.
func TestReadKeyFilter(t *testing.T) {
	p := writeFile(t, "cases.csv", []byte("code,name\nA,one\nB,two\nC,three\nD,four\nD,four again\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "code"})
	keep := func(k string) bool { return k == "A" || k == "C" }
	var good []string
	var bad []connector.Code
	_, err := c.Read(connector.WithKeyFilter(ctx, keep), "o", "", func(r connector.Record) error {
		if r.Err != nil {
			bad = append(bad, connector.CodeOf(r.Err))
			return nil
		}
		good = append(good, r.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(good, []string{"A", "C"}) {
		t.Errorf("records %q, want A and C", good)
	}
	want := []connector.Code{connector.CodeDuplicateKey, connector.CodeDuplicateKey}
	if !slices.Equal(bad, want) {
		t.Errorf("errors %v, want %v (rows in error pass whatever the filter)", bad, want)
	}
}

// A file read again is surveyed again when its content changed, even with
// its size and modification time put back: its duplicate keys are the new
// content's.
func TestSurveyAgainWhenContentChanges(t *testing.T) {
	p := writeFile(t, "cases.csv", []byte("code,name\nA,one\nA,two\n"))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "code"})
	if recs, errs := readAll(t, c, "o"); len(recs) != 0 || len(errs) != 2 {
		t.Fatalf("first read: %d records, %d errors; want the duplicate A twice in error", len(recs), len(errs))
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("code,name\nA,one\nB,two\n"), 0o644); err != nil { // same size
		t.Fatal(err)
	}
	if err := os.Chtimes(p, time.Time{}, fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, c, "o")
	if len(recs) != 2 || len(errs) != 0 {
		t.Fatalf("second read: %d records, %d errors (%v); want A and B", len(recs), len(errs), errs)
	}
}
