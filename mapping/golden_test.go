package mapping

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

// TestGolden runs one folder per source layout of doc/architecture.md §11 under
// testdata/<layout>/:
//
//	rules.json    rule name -> {"transform": registered name, "options": {...}}
//	cells.tsv     id, rule, cell (a Go-quoted string)
//	expected.tsv  id, value, flags, honorific: what Parse returns
//	expected.err  id, error message: what Parse refuses, and why
//
// Values are written kind:raw (null, text:"…", number:3000,
// date:2008-03-12, datetime:2024-04-03T16:15:00Z, bool:true,
// multi:"A;B"); flags as Flags.String or "-". The expectations are written
// by hand from the worked examples of doc/architecture.md §11, never generated: there is no
// -update flag. Every cell has exactly one expectation; every value also
// makes the round trip through the rule's write form.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/rules.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden folders: %v", err)
	}
	for _, rules := range dirs {
		dir := filepath.Dir(rules)
		t.Run(filepath.Base(dir), func(t *testing.T) { runGolden(t, dir) })
	}
}

type goldenRule struct {
	Transform string          `json:"transform"`
	Options   json.RawMessage `json:"options"`
}

func runGolden(t *testing.T, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rules map[string]goldenRule
	if err := json.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("rules.json: %v", err)
	}
	transforms := map[string]Transform{}
	for name, r := range rules {
		o, ok := Lookup(r.Transform)
		if !ok {
			t.Fatalf("rule %s: unknown transform %s", name, r.Transform)
		}
		if len(r.Options) > 0 {
			dec := json.NewDecoder(bytes.NewReader(r.Options))
			dec.DisallowUnknownFields()
			if err := dec.Decode(o); err != nil {
				t.Fatalf("rule %s: options: %v", name, err)
			}
		}
		if transforms[name], err = o.Build(); err != nil {
			t.Fatalf("rule %s: %v", name, err)
		}
	}
	cells := readTSV(t, filepath.Join(dir, "cells.tsv"), 2, 2)
	want := readTSV(t, filepath.Join(dir, "expected.tsv"), 2, 3)
	wantErr := readTSV(t, filepath.Join(dir, "expected.err"), 1, 1)
	seen := map[string]bool{}
	for id, row := range cells {
		rule, cell := row[0], unquote(t, row[1])
		tr, ok := transforms[rule]
		if !ok {
			t.Errorf("%s: unknown rule %s", id, rule)
			continue
		}
		r, err := tr.Parse(cell)
		if w, ok := wantErr[id]; ok {
			seen[id] = true
			if err == nil {
				t.Errorf("%s %s: got %s, want error %q", id, rule, describe(r.Value), w[0])
			} else {
				checkError(t, err, cell)
				if err.Error() != w[0] {
					t.Errorf("%s %s: error %q, want %q", id, rule, err, w[0])
				}
			}
			continue
		}
		w, ok := want[id]
		if !ok {
			t.Errorf("%s: no expectation", id)
			continue
		}
		seen[id] = true
		if err != nil {
			t.Errorf("%s %s: %v", id, rule, err)
			continue
		}
		wv := parseGoldenValue(t, w[0])
		flags := r.Flags.String()
		if flags == "" {
			flags = "-"
		}
		hon := w[2]
		if hon == "-" {
			hon = ""
		} else {
			hon = unquote(t, hon)
		}
		if !r.Value.Equal(wv) || flags != w[1] || r.Honorific != hon {
			t.Errorf("%s %s: got %s [%s] %q, want %s [%s] %q", id, rule, describe(r.Value), flags, r.Honorific, describe(wv), w[1], hon)
		}
		if m, ok := tr.(Merger); ok {
			out, err := m.Merge(cell, r.Value)
			if err != nil {
				t.Errorf("%s %s: Merge: %v", id, rule, err)
			} else if back, _ := tr.Parse(out); !back.Value.Equal(r.Value) {
				t.Errorf("%s %s: Merge wrote %q, reads back as %s", id, rule, out, describe(back.Value))
			}
			continue
		}
		out, err := tr.Format(r.Value)
		if err != nil {
			t.Errorf("%s %s: Format: %v", id, rule, err)
		} else if back, err := tr.Parse(out); err != nil || !back.Value.Equal(r.Value) {
			t.Errorf("%s %s: wrote %q, reads back as %s, %v", id, rule, out, describe(back.Value), err)
		}
	}
	for id := range want {
		if _, ok := cells[id]; !ok {
			t.Errorf("expected.tsv: %s has no cell", id)
		}
	}
	for id := range wantErr {
		if _, ok := cells[id]; !ok {
			t.Errorf("expected.err: %s has no cell", id)
		}
		if _, ok := want[id]; ok {
			t.Errorf("%s: expected both a value and an error", id)
		}
	}
	if len(seen) != len(cells) {
		t.Errorf("%d of %d cells checked", len(seen), len(cells))
	}
}

// readTSV reads id-keyed rows of min to max fields after the id, padding
// missing ones with "-"; # starts a comment line.
func readTSV(t *testing.T, path string, min, max int) map[string][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fields := strings.Split(l, "\t")
		if len(fields) < min+1 || len(fields) > max+1 {
			t.Fatalf("%s:%d: want %d to %d tab-separated fields, got %d", path, line, min+1, max+1, len(fields))
		}
		for len(fields) < max+1 {
			fields = append(fields, "-")
		}
		if _, dup := out[fields[0]]; dup {
			t.Fatalf("%s:%d: duplicate id %s", path, line, fields[0])
		}
		out[fields[0]] = fields[1:]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func unquote(t *testing.T, s string) string {
	u, err := strconv.Unquote(s)
	if err != nil {
		t.Fatalf("not a Go-quoted string: %s", s)
	}
	return u
}

func parseGoldenValue(t *testing.T, s string) connector.Value {
	if s == "null" {
		return connector.Null()
	}
	kind, raw, ok := strings.Cut(s, ":")
	if !ok {
		t.Fatalf("value %s: want kind:raw", s)
	}
	switch kind {
	case "text":
		return connector.Text(unquote(t, raw))
	case "number":
		return connector.Number(decimal.RequireFromString(raw))
	case "date":
		d, err := connector.ParseDate(raw)
		if err != nil {
			t.Fatalf("value %s: %v", s, err)
		}
		return connector.DateValue(d)
	case "datetime":
		tm, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			t.Fatalf("value %s: %v", s, err)
		}
		return connector.DateTime(tm)
	case "bool":
		return connector.Bool(raw == "true")
	case "multi":
		return connector.Multi(strings.Split(unquote(t, raw), ";")...)
	}
	t.Fatalf("value %s: unknown kind", s)
	return connector.Value{}
}
