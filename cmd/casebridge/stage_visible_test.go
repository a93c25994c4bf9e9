package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/schedules"
)

// TestFailedRunStageVisible (issue 14, every run visible): a sync whose
// sheet is gone fails at the source, and says so everywhere a person
// looks: casebridge history ("failed (source)" and the reason), the admin
// API's run JSON (stage "source") and the status page ("failed
// (source)"), as the metrics' stage label does.
func TestFailedRunStageVisible(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	if err := os.Remove(filepath.Join(dir, "bd_cases.csv")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cb := func(argv ...string) (int, string) {
		t.Helper()
		var stdout, stderr strings.Builder
		code := runContext(ctx, argv, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := cb("sync", cfgPath, "bd_cases"); code == 0 {
		t.Fatalf("sync of a job whose sheet is gone exited 0\n%s", out)
	}

	// The history.
	code, out := cb("history", cfgPath, "bd_cases")
	if code != 0 {
		t.Fatalf("history exited %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^JOB\s.*\sOUTCOME\s.*\sAPI CALLS\s+REASON$`).MatchString(out) {
		t.Errorf("history's header has no REASON:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^bd_cases\s+1\s.*\sfailed \(source\)\s.*\sjob bd_cases: .*/bd_cases\.csv: file not found`).MatchString(out) {
		t.Errorf("history does not show the run failed at the source with its reason:\n%s", out)
	}

	// The admin API and the status page, on the same state store.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := schedules.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := admin.New(admin.Options{Config: cfg, Store: st, Log: zerolog.Nop(),
		Run: func(context.Context, string, schedules.RunOptions) (*schedules.JobResult, error) {
			t.Error("the admin API started a run")
			return nil, nil
		}})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Close(ctx)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	var runs admin.RunList
	if err := json.Unmarshal([]byte(get("/api/v1/jobs/bd_cases/runs")), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].Outcome != "failed" || runs.Runs[0].Stage != "source" || !strings.Contains(runs.Runs[0].Error, "bd_cases.csv") {
		t.Errorf("the API's runs: %+v; want one failed at stage source with its reason", runs.Runs)
	}
	var jobs admin.JobList
	if err := json.Unmarshal([]byte(get("/api/v1/jobs")), &jobs); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Jobs {
		if j.Name == "bd_cases" && (j.LastRun == nil || j.LastRun.Stage != "source") {
			t.Errorf("the API's last run of bd_cases: %+v; want stage source", j.LastRun)
		}
	}
	if page := get("/"); !strings.Contains(page, ">failed (source)<") {
		t.Errorf("the status page does not show the run failed at the source:\n%s", page)
	}
}
