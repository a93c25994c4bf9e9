package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/state"
)

// TestFailedRunStage (issue 14, every run visible): a failed run's stage
// is in the run JSON (stage), the status page ("failed (source)") and
// the readiness check; a run that did not fail has none.
func TestFailedRunStage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ok := recordRun(t, e.store, "th_cases", t0, state.OutcomeOK, state.Counts{Read: 3}, "")
	failed, err := e.store.StartRun(ctx, "th_cases", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.FinishRun(ctx, state.Run{ID: failed, Job: "th_cases", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Second),
		Outcome: state.OutcomeFailed, Error: "job th_cases: source th: open th_cases.csv: no such file or directory", Stage: "source"}); err != nil {
		t.Fatal(err)
	}
	// A child's failure, its stage added after the engine finished it.
	child := recordRun(t, e.store, "th_cases/stipend", t0.Add(time.Hour), state.OutcomeFailed, state.Counts{}, "child job th_cases/stipend: describe salesforce: HTTP 503")
	if err := e.store.SetRunStage(ctx, child, "salesforce"); err != nil {
		t.Fatal(err)
	}

	code, _, b := e.do("GET", "/api/v1/jobs/th_cases/runs", "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var raw struct {
		Runs []json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || len(raw.Runs) != 2 {
		t.Fatalf("runs: %v %s", err, b)
	}
	var newest, oldest map[string]any
	_ = json.Unmarshal(raw.Runs[0], &newest)
	_ = json.Unmarshal(raw.Runs[1], &oldest)
	if newest["id"] != float64(failed) || newest["outcome"] != "failed" || newest["stage"] != "source" || !strings.Contains(newest["error"].(string), "th_cases.csv") {
		t.Errorf("the failed run's JSON: %s; want stage source and its error", raw.Runs[0])
	}
	if _, has := oldest["stage"]; has || oldest["id"] != float64(ok) {
		t.Errorf("the ok run's JSON has a stage: %s", raw.Runs[1])
	}

	var list admin.JobList
	e.getJSON("/api/v1/jobs", http.StatusOK, &list)
	th := list.Jobs[0]
	if th.LastRun == nil || th.LastRun.Stage != "source" || len(th.Children) != 1 || th.Children[0].LastRun == nil || th.Children[0].LastRun.Stage != "salesforce" {
		t.Errorf("jobs: last run %+v, children %+v; want stages source and salesforce", th.LastRun, th.Children)
	}

	code, _, b = e.do("GET", "/", "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	page := string(b)
	for _, want := range []string{`<td class="failed">failed (source)</td>`, `<td class="failed">failed (salesforce)</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %s", want)
		}
	}
	if strings.Contains(page, "th_cases.csv") {
		t.Error("the status page shows a run's error text")
	}

	var ready admin.Readiness
	e.getJSON("/readyz", http.StatusServiceUnavailable, &ready)
	found := false
	for _, c := range ready.Checks {
		if c.Name == "job th_cases" {
			found = true
			if c.OK || !strings.HasSuffix(c.Detail, ": failed at source") {
				t.Errorf("readiness of th_cases: %+v; want failed at source", c)
			}
		}
	}
	if !found {
		t.Errorf("no readiness check of th_cases: %+v", ready.Checks)
	}
}
