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

// TestShowValues previews a first sync with --show-values: the report shows
// unclassified values (a stage) and masks classified ones (names, notes)
// unless --show-classes names their class; the terminal never shows values.
func TestShowValues(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "casebridge.yaml")
	run := func(args ...string) (int, string) {
		var out strings.Builder
		code := runContext(context.Background(), append(args, "--log-level", "error"), strings.NewReader(""), &out, io.Discard)
		return code, out.String()
	}
	masked := filepath.Join(dir, "masked.json")
	code, out := run("sync", cfg, "th_cases", "--dry-run", "--show-values", "--report", masked)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	body, err := os.ReadFile(masked)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"Active"`) {
		t.Errorf("an unclassified value (stage Active) is not shown:\n%s", body)
	}
	for _, v := range []string{"สมหญิง", "ตัวอย่าง", "2008-03-12"} {
		if strings.Contains(string(body), v) || strings.Contains(out, v) {
			t.Errorf("a classified value %q is shown without --show-classes", v)
		}
	}

	direct := filepath.Join(dir, "direct.json")
	if code, out := run("sync", cfg, "th_cases", "--dry-run", "--show-values", "--show-classes", "direct", "--report", direct); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	body, _ = os.ReadFile(direct)
	if !strings.Contains(string(body), "สมหญิง") {
		t.Errorf("--show-classes direct does not show a direct field's value")
	}
	if strings.Contains(string(body), "นัดเยี่ยมบ้าน") {
		t.Errorf("--show-classes direct shows a sensitive field (case notes)")
	}

	for _, bad := range [][]string{
		{"sync", cfg, "--show-values", "--report", masked},                                     // not a dry run
		{"sync", cfg, "--dry-run", "--show-values"},                                            // no report
		{"sync", cfg, "--dry-run", "--show-classes", "direct"},                                 // classes without values
		{"sync", cfg, "--dry-run", "--show-values", "--show-classes", "x", "--report", masked}, // unknown class
	} {
		if code, _ := run(bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
