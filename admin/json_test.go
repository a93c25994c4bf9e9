package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/state"
)

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestJobsJSON(t *testing.T) {
	e := newEnv(t, nil)
	recordRun(t, e.store, "th_cases", t0, state.OutcomeOK, state.Counts{Read: 10, Creates: 1}, "")
	id := recordRun(t, e.store, "th_cases", t0.Add(time.Hour), state.OutcomeOK,
		state.Counts{Read: 12, Creates: 2, Updates: 3, Deletes: 1, Conflicts: 1, Failures: 1}, "")
	recordRun(t, e.store, "th_cases/stipend", t0.Add(time.Hour), state.OutcomeOK, state.Counts{Read: 5}, "")
	openConflict(t, e.store, "th_cases", "ngo-th-cm:th-0001", "vcms__Stage__c")
	openConflict(t, e.store, "th_cases/stipend", "ngo-th-cm:th-0001:stipend", "vcms__Amount__c")

	code, _, b := e.do("GET", "/api/v1/jobs", "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var raw struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || len(raw.Jobs) != 2 {
		t.Fatalf("%v %s", err, b)
	}
	wantJob := []string{"children", "last_run", "links", "name", "next_run", "open_conflicts", "running", "schedule"}
	if got := sortedKeys(keys(t, raw.Jobs[0])); !reflect.DeepEqual(got, wantJob) {
		t.Errorf("job keys %v, want %v", got, wantJob)
	}
	var list admin.JobList
	_ = json.Unmarshal(b, &list)
	th, bd := list.Jobs[0], list.Jobs[1]
	if th.Name != "th_cases" || bd.Name != "bd_cases" {
		t.Fatalf("jobs not in configuration order: %s, %s", th.Name, bd.Name)
	}
	if th.Schedule != "@every 1h" || th.NextRun == nil || !th.NextRun.Equal(t0.Add(time.Hour)) {
		t.Errorf("schedule %q next %v", th.Schedule, th.NextRun)
	}
	if bd.Schedule != "" || bd.NextRun != nil || bd.LastRun != nil {
		t.Errorf("by-hand job: %+v", bd)
	}
	lr := th.LastRun
	if lr == nil || lr.ID != id || lr.Outcome != "ok" || lr.Start == nil || !lr.Start.Equal(t0.Add(time.Hour)) ||
		lr.End == nil || lr.DurationSeconds != 90 || lr.APICalls != 7 ||
		lr.Counts != (admin.Counts{Read: 12, Creates: 2, Updates: 3, Deletes: 1, Conflicts: 1, Failures: 1}) {
		t.Errorf("last run: %+v", lr)
	}
	if lr != nil && lr.ErrorsURL != "/api/v1/jobs/th_cases/runs/"+itoa(id)+"/errors" {
		t.Errorf("errors url %q", lr.ErrorsURL)
	}
	if th.OpenConflicts != 2 {
		t.Errorf("open conflicts %d, want 2 (children included)", th.OpenConflicts)
	}
	if len(th.Children) != 1 || th.Children[0].Name != "th_cases/stipend" || th.Children[0].LastRun == nil || th.Children[0].LastRun.Counts.Read != 5 {
		t.Errorf("children: %+v", th.Children)
	}
	if th.Links != (admin.JobLinks{Runs: "/api/v1/jobs/th_cases/runs", Run: "/api/v1/jobs/th_cases/run", Conflicts: "/api/v1/conflicts?job=th_cases"}) {
		t.Errorf("links %+v", th.Links)
	}
	var lastRun map[string]json.RawMessage
	var tmp map[string]json.RawMessage
	_ = json.Unmarshal(raw.Jobs[0], &tmp)
	_ = json.Unmarshal(tmp["last_run"], &lastRun)
	wantRun := []string{"api_calls", "counts", "duration_seconds", "end", "errors_url", "id", "job", "outcome", "start"}
	got := make(map[string]bool)
	for k := range lastRun {
		got[k] = true
	}
	if g := sortedKeys(got); !reflect.DeepEqual(g, wantRun) {
		t.Errorf("run keys %v, want %v", g, wantRun)
	}
	if !strings.Contains(string(tmp["last_run"]), `"counts": {`) || !strings.Contains(string(b), `"creates": 2`) {
		t.Errorf("counts shape: %s", tmp["last_run"])
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func openConflict(t *testing.T, st state.Store, job, key, field string) {
	t.Helper()
	err := st.Update(context.Background(), job, func(tx state.Tx) error {
		return tx.OpenConflict(state.Conflict{Key: key, Field: field, SF: 0x1234, Local: 0x5678, Opened: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunsJSON(t *testing.T) {
	e := newEnv(t, nil)
	var ids []int64
	for i := range 5 {
		ids = append(ids, recordRun(t, e.store, "th_cases", t0.Add(time.Duration(i)*time.Hour), state.OutcomeOK, state.Counts{Read: i}, ""))
	}
	running := recordRun(t, e.store, "th_cases", t0.Add(6*time.Hour), state.OutcomeRunning, state.Counts{}, "")
	var rl admin.RunList
	e.getJSON("/api/v1/jobs/th_cases/runs?limit=3", http.StatusOK, &rl)
	if rl.Job != "th_cases" || len(rl.Runs) != 3 || rl.Runs[0].ID != running || rl.Runs[1].ID != ids[4] {
		t.Fatalf("runs: %+v", rl)
	}
	if r := rl.Runs[0]; r.Outcome != "running" || r.End != nil || r.DurationSeconds != 0 {
		t.Errorf("running run: %+v", r)
	}
	e.getJSON("/api/v1/jobs/th_cases/runs", http.StatusOK, &rl)
	if len(rl.Runs) != 6 {
		t.Errorf("default limit: %d runs", len(rl.Runs))
	}
	for _, bad := range []string{"0", "-1", "x", "501"} {
		e.getJSON("/api/v1/jobs/th_cases/runs?limit="+bad, http.StatusBadRequest, nil)
	}
	// A child's history, by its escaped name.
	recordRun(t, e.store, "th_cases/stipend", t0, state.OutcomeOK, state.Counts{}, "")
	e.getJSON("/api/v1/jobs/th_cases%2Fstipend/runs", http.StatusOK, &rl)
	if rl.Job != "th_cases/stipend" || len(rl.Runs) != 1 {
		t.Errorf("child runs: %+v", rl)
	}
	// An empty history is an empty list, not null.
	code, _, b := e.do("GET", "/api/v1/jobs/bd_cases/runs", "", "")
	if code != http.StatusOK || !strings.Contains(string(b), `"runs": []`) {
		t.Errorf("empty history: %d %s", code, b)
	}
}

func TestErrorsJSON(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id := recordRun(t, e.store, "th_cases", t0, state.OutcomeOK, state.Counts{Failures: 1}, "")
	other := recordRun(t, e.store, "th_cases", t0.Add(time.Hour), state.OutcomeOK, state.Counts{Failures: 1}, "")
	for _, re := range []state.RecordErr{
		{RunID: id, Key: "ngo-th-cm:th-0007", Field: "vcms__Stage__c", Code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", Message: "upsert salesforce vcms__Survivor_Case__c ngo-th-cm:th-0007.vcms__Stage__c: bad value for restricted picklist field", At: t0},
		{RunID: other, Key: "ngo-th-cm:th-0008", Code: "UNABLE_TO_LOCK_ROW", Message: "locked", At: t0},
	} {
		re := re
		if err := e.store.Update(ctx, "th_cases", func(tx state.Tx) error { return tx.LogError(re) }); err != nil {
			t.Fatal(err)
		}
	}
	path := "/api/v1/jobs/th_cases/runs/" + itoa(id) + "/errors"
	code, _, b := e.do("GET", path, "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var el admin.ErrorList
	_ = json.Unmarshal(b, &el)
	if el.Job != "th_cases" || el.RunID != id || len(el.Errors) != 1 {
		t.Fatalf("errors: %+v", el)
	}
	got := el.Errors[0]
	if got.Key != "ngo-th-cm:th-0007" || got.Field != "vcms__Stage__c" || got.Code != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" || got.Message == "" || got.At == nil {
		t.Errorf("error: %+v", got)
	}
	var raw struct {
		Errors []json.RawMessage `json:"errors"`
	}
	_ = json.Unmarshal(b, &raw)
	if g := sortedKeys(keys(t, raw.Errors[0])); !reflect.DeepEqual(g, []string{"at", "code", "field", "key", "message"}) {
		t.Errorf("error keys %v", g)
	}
	// Run ids are per store; another job's errors are not shown under this one.
	e.getJSON("/api/v1/jobs/bd_cases/runs/"+itoa(id)+"/errors", http.StatusOK, &el)
	if len(el.Errors) != 0 {
		t.Errorf("errors under another job: %+v", el)
	}
	e.getJSON("/api/v1/jobs/th_cases/runs/0/errors", http.StatusBadRequest, nil)
	e.getJSON("/api/v1/jobs/th_cases/runs/x/errors", http.StatusBadRequest, nil)
}

func TestConflictsAndResolve(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	openConflict(t, e.store, "th_cases", "ngo-th-cm:th-0001", "vcms__Stage__c")
	openConflict(t, e.store, "th_cases/stipend", "ngo-th-cm:th-0001:stipend", "vcms__Amount__c")
	openConflict(t, e.store, "bd_cases", "ngo-bd:bd-9", "vcms__Stage__c")

	var cl admin.ConflictList
	e.getJSON("/api/v1/conflicts", http.StatusOK, &cl)
	if len(cl.Conflicts) != 3 {
		t.Fatalf("all conflicts: %+v", cl)
	}
	e.getJSON("/api/v1/conflicts?job=th_cases", http.StatusOK, &cl)
	if len(cl.Conflicts) != 2 || cl.Conflicts[0].Job != "th_cases" || cl.Conflicts[1].Job != "th_cases/stipend" {
		t.Fatalf("th_cases conflicts: %+v", cl)
	}
	c := cl.Conflicts[0]
	if c.Key != "ngo-th-cm:th-0001" || c.Field != "vcms__Stage__c" || c.Status != "open" || c.Opened == nil || c.Resolution != "" {
		t.Errorf("conflict: %+v", c)
	}
	code, _, b := e.do("GET", "/api/v1/conflicts?job=th_cases/stipend", "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var raw struct {
		Conflicts []json.RawMessage `json:"conflicts"`
	}
	_ = json.Unmarshal(b, &raw)
	if len(raw.Conflicts) != 1 {
		t.Fatalf("child conflicts: %s", b)
	}
	if g := sortedKeys(keys(t, raw.Conflicts[0])); !reflect.DeepEqual(g, []string{"field", "job", "key", "opened", "status"}) {
		t.Errorf("conflict keys %v", g)
	}
	// Fingerprints are not shown.
	if strings.Contains(string(b), "1234") || strings.Contains(string(b), "5678") || strings.Contains(string(b), "4660") {
		t.Errorf("a fingerprint is shown: %s", b)
	}

	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"job":"th_cases","key":"ngo-th-cm:th-0001","field":"vcms__Stage__c","side":"both"}`, http.StatusBadRequest},
		{`{"job":"th_cases","key":"","field":"vcms__Stage__c","side":"local"}`, http.StatusBadRequest},
		{`{"job":"nope","key":"k","field":"f","side":"local"}`, http.StatusNotFound},
		{`{"job":"th_cases","key":"ngo-th-cm:th-0002","field":"vcms__Stage__c","side":"local"}`, http.StatusNotFound},
		{`{"job":"th_cases","key":"k","field":"f","side":"local","value":"x"}`, http.StatusBadRequest},
		{``, http.StatusBadRequest},
	} {
		if code, _, b := e.do("POST", "/api/v1/conflicts/resolve", testToken, tc.body); code != tc.want {
			t.Errorf("resolve %s: %d %s, want %d", tc.body, code, b, tc.want)
		}
	}
	code, _, b = e.do("POST", "/api/v1/conflicts/resolve", testToken,
		`{"job":"th_cases/stipend","key":"ngo-th-cm:th-0001:stipend","field":"vcms__Amount__c","side":"salesforce"}`)
	if code != http.StatusOK {
		t.Fatalf("resolve: %d %s", code, b)
	}
	var rr admin.ResolveResponse
	_ = json.Unmarshal(b, &rr)
	if rr.Side != "salesforce" || rr.Job != "th_cases/stipend" || !rr.Resolved.Equal(t0.Add(2*time.Hour)) || rr.Note == "" {
		t.Errorf("resolve response: %+v", rr)
	}
	cs, _ := e.store.Conflicts(ctx, "th_cases/stipend")
	if len(cs) != 1 || cs[0].Resolution != state.SideSalesforce {
		t.Errorf("stored: %+v", cs)
	}
	e.getJSON("/api/v1/conflicts?job=th_cases", http.StatusOK, &cl)
	if c := cl.Conflicts[1]; c.Status != "resolved" || c.Resolution != "salesforce" || c.Resolved == nil {
		t.Errorf("resolved conflict: %+v", c)
	}
	var j admin.Job
	e.getJSON("/api/v1/jobs/th_cases", http.StatusOK, &j)
	if j.OpenConflicts != 1 {
		t.Errorf("open conflicts after resolving one: %d", j.OpenConflicts)
	}
}

func TestStatusPage(t *testing.T) {
	e := newEnv(t, nil)
	recordRun(t, e.store, "th_cases", t0, state.OutcomeFailed, state.Counts{Read: 3, Failures: 2}, "job th_cases: <b>boom</b>")
	openConflict(t, e.store, "th_cases", "ngo-th-cm:th-0001", "vcms__Stage__c")
	code, h, b := e.do("GET", "/", "", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	page := string(b)
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
	}
	for _, want := range []string{"th_cases", "bd_cases", "th_cases/stipend", "@every 1h", "failed", "no run yet",
		`href="/api/v1/jobs"`, `href="/api/v1/jobs/th_cases/runs"`, "2026-11-26 03:30:00Z"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, bad := range []string{"src=", "http://", "https://", "<script", "ngo-th-cm:th-0001"} {
		if strings.Contains(page, bad) {
			t.Errorf("status page holds %q", bad)
		}
	}
	if code, _, _ := e.do("GET", "/nope", "", ""); code != http.StatusNotFound {
		t.Errorf("GET /nope: %d", code)
	}
}
