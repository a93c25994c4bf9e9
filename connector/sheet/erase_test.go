package sheet

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// fileHolds reports whether a file (each part of a workbook, inflated)
// holds s anywhere.
func fileHolds(t *testing.T, path, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(s)) {
		return true
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false // not a workbook
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// TestEraseFileAndBackups: the erased person's cells are blank in the
// file, in every backup and in a row marked deleted; the other rows, the
// key and the unclassified columns are kept; no new backup is made.
func TestEraseFileAndBackups(t *testing.T) {
	for _, ext := range []string{".csv", ".xlsx"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "cases"+ext)
			writeTable(t, p, [][]string{
				{"Case ID", "Name", "Born", "Stage"},
				{"C-1", "Marker-Name-One", "Marker-Born-One", "Active"},
				{"C-2", "Marker-Name-Two", "Marker-Born-Two", "Active"},
			})
			backups := 3
			c, err := New(Config{Name: "files", Backups: &backups, Sheets: []SheetConfig{{Object: "cases", Path: p, Key: "Case ID"}}})
			if err != nil {
				t.Fatal(err)
			}
			// Two writes: two backups holding the markers; the second
			// marks C-1 deleted (its row keeps its values).
			if _, err := c.Upsert(ctx, "cases", []connector.Record{{Key: "C-2", Fields: map[string]connector.Value{"Stage": connector.Text("Closed")}}}); err != nil {
				t.Fatal(err)
			}
			c2, _ := New(Config{Name: "files", Backups: &backups, Sheets: []SheetConfig{{Object: "cases", Path: p, Key: "Case ID"}}})
			if res, err := c2.Delete(ctx, "cases", []string{"C-1"}); err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			before, err := c.Backups("cases")
			if err != nil || len(before) != 2 {
				t.Fatalf("backups %v %v, want 2", before, err)
			}
			for _, f := range append([]string{p}, before...) {
				if !fileHolds(t, f, "Marker-Name-One") {
					t.Fatalf("%s lacks the marker before the erasure: the test proves nothing", f)
				}
			}

			c3, _ := New(Config{Name: "files", Backups: &backups, Sheets: []SheetConfig{{Object: "cases", Path: p, Key: "Case ID"}}})
			dry, err := c3.Erase(ctx, "cases", []string{"C-1"}, []string{"Name", "Born", "Missing"}, true)
			if err != nil || len(dry) != 3 {
				t.Fatalf("dry run: %+v %v, want the file and two backups", dry, err)
			}
			if !fileHolds(t, p, "Marker-Name-One") {
				t.Fatal("a dry run erased")
			}
			got, err := c3.Erase(ctx, "cases", []string{"C-1"}, []string{"Name", "Born", "Missing"}, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].Backup || !got[1].Backup || !slices.Equal(got[0].Columns, []string{"Name", "Born"}) {
				t.Errorf("erased %+v, want Name and Born in the file and two backups", got)
			}
			after, _ := c3.Backups("cases")
			if !slices.Equal(after, before) {
				t.Errorf("backups %v after the erasure, were %v: erase must make none", after, before)
			}
			for _, f := range append([]string{p}, after...) {
				for _, m := range []string{"Marker-Name-One", "Marker-Born-One"} {
					if fileHolds(t, f, m) {
						t.Errorf("%s still holds %s", filepath.Base(f), m)
					}
				}
				if !fileHolds(t, f, "Marker-Name-Two") || !fileHolds(t, f, "C-1") {
					t.Errorf("%s lost what was not erased", filepath.Base(f))
				}
				if st, _ := os.Stat(f); f != p && st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v", f, st.Mode().Perm())
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary file left: %s", e.Name())
				}
			}
			recs, _ := readAll(t, c3, "cases")
			if r, ok := recs["C-2"]; !ok || r.Fields["Name"].Raw() != "Marker-Name-Two" {
				t.Errorf("C-2 after the erasure: %v", r.Fields)
			}
		})
	}
}
