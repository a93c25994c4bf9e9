package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestMetricsTextfileFailureStage (issue 14, every run visible): a run of
// casebridge sync that fails before the engine starts (its sheet is gone)
// is in --metrics-textfile's output with the stage that failed and the
// error's code, as the daemon's /metrics counts it; no path or value.
func TestMetricsTextfileFailureStage(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "bd_cases.csv")); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(t.TempDir(), "casebridge.prom")
	var stdout, stderr strings.Builder
	code := runContext(context.Background(), []string{"sync", filepath.Join(dir, "casebridge.yaml"), "bd_cases", "--metrics-textfile", prom},
		strings.NewReader(""), &stdout, &stderr)
	if code == 0 {
		t.Fatalf("sync of a job whose sheet is gone exited 0\n%s%s", stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`casebridge_runs_total{job="bd_cases",outcome="failed"} 1`,
		`casebridge_run_failures_total{code="FILE_NOT_FOUND",job="bd_cases",stage="source"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("--metrics-textfile lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "bd_cases.csv") || strings.Contains(text, dir) {
		t.Errorf("a path reached the metrics:\n%s", text)
	}
}
