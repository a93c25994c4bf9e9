package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
)

// benchTable parses the bench's table: one map per data row, from column
// name to cell (the scenario is left-aligned in 13 characters, the other
// columns right-aligned under their names).
func benchTable(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	head := -1
	for i, l := range lines {
		if strings.Contains(l, "scenario") && strings.Contains(l, "API calls") {
			head = i
			break
		}
	}
	if head < 0 {
		t.Fatalf("no table header in:\n%s", out)
	}
	names := []string{"records", "scenario", "wall", "records/s", "API calls", "minimum", "SF read", "to SF", "to CSV", "CPU", "org busy", "peak heap"}
	var ends []int
	for _, n := range names {
		i := strings.Index(lines[head], n)
		if i < 0 {
			t.Fatalf("no column %q in the header %q", n, lines[head])
		}
		if n == "scenario" {
			i += 13 - len(n)
		}
		ends = append(ends, i+len(n))
	}
	var rows []map[string]string
	for _, l := range lines[head+1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		row := map[string]string{}
		from := 0
		for i, n := range names {
			if ends[i] > len(l) {
				t.Fatalf("short row %q", l)
			}
			row[n] = strings.TrimSpace(l[from:ends[i]])
			from = ends[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// TestBench runs the bench at 200 records without latency: every scenario
// is in the table, each run costs at least its minimum, a run with
// nothing changed costs at most 3 calls, and the writes are the edits.
func TestBench(t *testing.T) {
	var out strings.Builder
	code := runContext(context.Background(), []string{"bench", "--sizes", "200", "--latency", "0", "--log-level", "error"}, strings.NewReader(""), &out, io.Discard)
	if code != 0 {
		t.Fatalf("bench exited %d:\n%s", code, out.String())
	}
	rows := benchTable(t, out.String())
	if len(rows) != len(benchScenarios) {
		t.Fatalf("%d rows, want %d (one per scenario):\n%s", len(rows), len(benchScenarios), out.String())
	}
	num := func(r map[string]string, col string) int {
		t.Helper()
		n, err := strconv.Atoi(strings.ReplaceAll(r[col], ",", ""))
		if err != nil {
			t.Fatalf("%s: column %s is %q", r["scenario"], col, r[col])
		}
		return n
	}
	want := map[string][2]int{ // records written to Salesforce, to the CSV
		"initial load": {200, 0}, "first re-run": {0, 0}, "no-op re-run": {0, 0}, "1% changed": {2, 0}, "two-way": {2, 2}, "export to CSV": {0, 200},
	}
	for i, r := range rows {
		if r["scenario"] != benchScenarios[i] || r["records"] != "200" {
			t.Fatalf("row %d is %q at %q records, want %q at 200", i, r["scenario"], r["records"], benchScenarios[i])
		}
		calls, min := num(r, "API calls"), num(r, "minimum")
		if min < 2 || calls < min {
			t.Errorf("%s: %d API calls, minimum %d: the minimum is a lower bound of at least describe and a query", r["scenario"], calls, min)
		}
		if w := want[r["scenario"]]; num(r, "to SF") != w[0] || num(r, "to CSV") != w[1] {
			t.Errorf("%s: wrote %s to Salesforce and %s to the CSV, want %d and %d", r["scenario"], r["to SF"], r["to CSV"], w[0], w[1])
		}
		if num(r, "records/s") <= 0 || r["wall"] == "" || r["peak heap"] == "" {
			t.Errorf("%s: no timing or memory: %v", r["scenario"], r)
		}
	}
	if c := num(rows[2], "API calls"); c > 3 {
		t.Errorf("the no-op re-run made %d API calls, want at most 3", c)
	}
	// One Collections request of 200 records, a describe and a query: a
	// call or two more (a count, the limits) is sensible, a call per
	// record or per batch of less than 200 is not.
	if c, m := num(rows[0], "API calls"), num(rows[0], "minimum"); m != 3 || c > m+2 {
		t.Errorf("the initial load of 200 made %d calls (minimum %d), want 3 to 5 (describe, query, one Collections upsert)", c, m)
	}
	// The export reads every case once (pages of 2,000) and writes the
	// CSV once: no call per record or per batch.
	if c := num(rows[5], "API calls"); c > 4 {
		t.Errorf("the export of 200 made %d API calls, want a describe, a query and at most two more", c)
	}
	// The two-way run reads the case edited in Salesforce and the
	// records the run before wrote.
	if r := num(rows[4], "SF read"); r < 2 {
		t.Errorf("the two-way run read %d Salesforce records, want at least the 2 edited there", r)
	}
	if !strings.Contains(out.String(), "minimum: one describe") {
		t.Errorf("no legend under the table:\n%s", out.String())
	}
}
