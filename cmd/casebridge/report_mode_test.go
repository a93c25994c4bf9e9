package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestReportFileMode checks that a report, which names record keys and
// with --show-values holds values, is readable by its owner only, also
// when it replaces a file that others could read.
func TestReportFileMode(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "casebridge.yaml")
	fresh := filepath.Join(dir, "fresh.json")
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, p := range []string{fresh, old} {
		var out strings.Builder
		code := runContext(context.Background(), []string{"sync", cfg, "th_cases", "--dry-run", "--show-values", "--show-classes", "direct", "--report", p, "--log-level", "error"},
			strings.NewReader(""), &out, io.Discard)
		if code != exitOK {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
		body, _ := os.ReadFile(p)
		if !strings.Contains(string(body), "สมหญิง") {
			t.Errorf("%s: the report does not hold the value it was asked to show", filepath.Base(p))
		}
	}
}
