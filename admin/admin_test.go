package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	endpoints := []struct {
		path, body string
		authed     int // status with the right token
	}{
		{"/api/v1/jobs/bd_cases/run", `{"dry_run":true}`, http.StatusAccepted},
		{"/api/v1/conflicts/resolve", `{"job":"bd_cases","key":"k","field":"vcms__Stage__c","side":"local"}`, http.StatusNotFound},
	}
	for _, ep := range endpoints {
		t.Run(ep.path, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				header string
				want   int
			}{
				{"no token", "", http.StatusUnauthorized},
				{"wrong token", "Bearer not-the-token", http.StatusUnauthorized},
				{"token prefix", "Bearer " + testToken[:len(testToken)-1], http.StatusUnauthorized},
				{"basic scheme", "Basic " + testToken, http.StatusUnauthorized},
				{"right token", "Bearer " + testToken, ep.authed},
			} {
				req, _ := http.NewRequest("POST", e.ts.URL+ep.path, strings.NewReader(ep.body))
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := e.ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body admin.ErrorBody
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("%s: status %d, want %d (%s)", tc.name, resp.StatusCode, tc.want, body.Error)
				}
				if tc.want == http.StatusUnauthorized {
					if resp.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: no WWW-Authenticate header", tc.name)
					}
					if body.Error == "" {
						t.Errorf("%s: no JSON error", tc.name)
					}
				}
			}
		})
	}
	waitIdle(t, e, "bd_cases")
	if n := e.run.calls.Load(); n != 1 {
		t.Errorf("runs: %d, want 1 (only the authorised request runs)", n)
	}
	if strings.Contains(e.logs.String(), testToken) || strings.Contains(e.logs.String(), "not-the-token") {
		t.Errorf("a token reached the log:\n%s", e.logs)
	}
	// Reads need no token by default.
	e.getJSON("/api/v1/jobs", http.StatusOK, nil)
}

func TestNoTokenConfiguredForbidsWrites(t *testing.T) {
	e := newEnv(t, func(o *admin.Options) { o.Token = "" })
	for _, tok := range []string{"", testToken, "anything"} {
		code, _, b := e.do("POST", "/api/v1/jobs/bd_cases/run", tok, "")
		if code != http.StatusForbidden {
			t.Errorf("token %q: status %d, want 403", tok, code)
		}
		var body admin.ErrorBody
		if err := json.Unmarshal(b, &body); err != nil || !strings.Contains(body.Error, "no admin token") {
			t.Errorf("token %q: body %s, want a clear JSON error", tok, b)
		}
		code, _, _ = e.do("POST", "/api/v1/conflicts/resolve", tok, `{"job":"bd_cases","key":"k","field":"f","side":"local"}`)
		if code != http.StatusForbidden {
			t.Errorf("resolve, token %q: status %d, want 403", tok, code)
		}
	}
	if n := e.run.calls.Load(); n != 0 {
		t.Errorf("runs: %d, want 0", n)
	}
	e.getJSON("/api/v1/jobs", http.StatusOK, nil)
}

func TestProtectReads(t *testing.T) {
	e := newEnv(t, func(o *admin.Options) { o.ProtectReads = true })
	for _, p := range []string{"/api/v1/jobs", "/api/v1/jobs/th_cases/runs", "/api/v1/conflicts", "/api/v1/jobs/th_cases/runs/1/errors"} {
		if code, _, _ := e.do("GET", p, "", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without token: %d, want 401", p, code)
		}
		if code, _, b := e.do("GET", p, testToken, ""); code != http.StatusOK {
			t.Errorf("GET %s with token: %d %s", p, code, b)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/"} {
		if code, _, _ := e.do("GET", p, "", ""); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200 without token", p, code)
		}
	}
}

// waitIdle waits until no run of job is in progress in the server.
func waitIdle(t *testing.T, e *env, job string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var j admin.Job
		e.getJSON("/api/v1/jobs/"+job, http.StatusOK, &j)
		if !j.Running {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job %s still running", job)
}

// poll GETs a trigger until it is done.
func poll(t *testing.T, e *env, url string) admin.Trigger {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var tr admin.Trigger
		e.getJSON(url, http.StatusOK, &tr)
		if tr.Status == "done" {
			return tr
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("trigger %s not done", url)
	return admin.Trigger{}
}

func TestRunInProgressIs409(t *testing.T) {
	e := newEnv(t, nil)
	e.run.block = make(chan struct{})
	e.run.started = make(chan string, 4)

	code, h, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, `{"dry_run":true,"full":true}`)
	if code != http.StatusAccepted {
		t.Fatalf("first run: %d %s", code, b)
	}
	var tr admin.Trigger
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Status != "running" || tr.Job != "th_cases" || !tr.DryRun || !tr.Full || tr.Force || tr.URL == "" || h.Get("Location") != tr.URL {
		t.Errorf("trigger: %+v, Location %q", tr, h.Get("Location"))
	}
	<-e.run.started

	code, _, b = e.do("POST", "/api/v1/jobs/th_cases/run", testToken, "")
	if code != http.StatusConflict {
		t.Errorf("second run: %d %s, want 409", code, b)
	}
	if !strings.Contains(string(b), "already in progress") {
		t.Errorf("409 body: %s", b)
	}
	// The scheduler's run of the same job is refused too.
	if err := e.srv.ScheduledRun(context.Background(), "th_cases"); !errors.Is(err, admin.ErrRunning) {
		t.Errorf("ScheduledRun during an API run: %v, want ErrRunning", err)
	}
	// Another job runs.
	if code, _, b := e.do("POST", "/api/v1/jobs/bd_cases/run", testToken, ""); code != http.StatusAccepted {
		t.Errorf("other job: %d %s", code, b)
	}
	<-e.run.started

	var j admin.Job
	e.getJSON("/api/v1/jobs/th_cases", http.StatusOK, &j)
	if !j.Running {
		t.Error("job not shown as running")
	}
	close(e.run.block)
	done := poll(t, e, tr.URL)
	if done.Outcome != "dry_run" || done.Finished == nil {
		t.Errorf("done trigger: %+v", done)
	}
	waitIdle(t, e, "th_cases")
	waitIdle(t, e, "bd_cases")
	if code, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, ""); code != http.StatusAccepted {
		t.Errorf("run after the first ended: %d %s", code, b)
	}
	<-e.run.started
	waitIdle(t, e, "th_cases")
	e.run.mu.Lock()
	defer e.run.mu.Unlock()
	if got := e.run.opts[0]; got != (schedules.RunOptions{DryRun: true, Full: true}) {
		t.Errorf("first run's options: %+v", got)
	}
}

func TestScheduledRunMakesAPI409(t *testing.T) {
	e := newEnv(t, nil)
	e.run.block = make(chan struct{})
	e.run.started = make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- e.srv.ScheduledRun(context.Background(), "th_cases") }()
	<-e.run.started
	if code, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, ""); code != http.StatusConflict {
		t.Errorf("run during a scheduled run: %d %s, want 409", code, b)
	}
	close(e.run.block)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if code, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, ""); code != http.StatusAccepted {
		t.Errorf("after: %d %s", code, b)
	}
	waitIdle(t, e, "th_cases")
}

func TestRunRequestValidation(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/api/v1/jobs/nope/run", "", http.StatusNotFound},
		{"/api/v1/jobs/th_cases%2Fstipend/run", "", http.StatusNotFound}, // children run with their parent
		{"/api/v1/jobs/th_cases/run", `{"dry_run":"yes"}`, http.StatusBadRequest},
		{"/api/v1/jobs/th_cases/run", `{"dryrun":true}`, http.StatusBadRequest},
		{"/api/v1/jobs/th_cases/run", `{} {}`, http.StatusBadRequest},
		{"/api/v1/jobs/th_cases/run", `[`, http.StatusBadRequest},
	} {
		code, _, b := e.do("POST", tc.path, testToken, tc.body)
		if code != tc.want {
			t.Errorf("POST %s %s: %d %s, want %d", tc.path, tc.body, code, b, tc.want)
		}
		if strings.Contains(string(b), "yes") {
			t.Errorf("the error echoes the body: %s", b)
		}
	}
	if n := e.run.calls.Load(); n != 0 {
		t.Errorf("runs: %d, want 0", n)
	}
	if code, _, _ := e.do("GET", "/api/v1/jobs/th_cases/run", testToken, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET on the run endpoint: %d, want 405", code)
	}
}

func TestTriggerOutcomes(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.run.result = func(job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
		if opts.Force {
			return nil, fmt.Errorf("job %s: %w", job, state.ErrLocked)
		}
		id := recordRun(t, e.store, job, t0, state.OutcomeOK, state.Counts{Read: 4, Updates: 2}, "")
		return jobResult(job, id), nil
	}
	_, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, "")
	var tr admin.Trigger
	_ = json.Unmarshal(b, &tr)
	done := poll(t, e, tr.URL)
	if done.Outcome != "ok" || done.RunID == 0 || done.Counts == nil || done.Counts.Updates != 1 || done.Counts.Creates != 2 || done.MappingErrors != 1 || done.Planned == nil || *done.Planned != 4 {
		t.Errorf("trigger: %+v", done)
	}
	runs, _ := e.store.Runs(ctx, "th_cases", 1)
	if len(runs) != 1 || runs[0].ID != done.RunID {
		t.Errorf("run id %d not the store's %+v", done.RunID, runs)
	}

	_, _, b = e.do("POST", "/api/v1/jobs/th_cases/run", testToken, `{"force":true}`)
	_ = json.Unmarshal(b, &tr)
	done = poll(t, e, tr.URL)
	if done.Outcome != "locked" || !strings.Contains(done.Error, "locked") {
		t.Errorf("locked trigger: %+v", done)
	}
	// Triggers are looked up under their own job only.
	e.getJSON(strings.Replace(tr.URL, "th_cases", "bd_cases", 1), http.StatusNotFound, nil)
	e.getJSON("/api/v1/jobs/th_cases/triggers/999", http.StatusNotFound, nil)
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, nil)
	var h admin.Health
	e.getJSON("/healthz", http.StatusOK, &h)
	if h.Status != "ok" {
		t.Errorf("healthz: %+v", h)
	}
}

func TestReadyzMakesNoSalesforceCall(t *testing.T) {
	e := newEnv(t, nil)
	ready := func(want int) admin.Readiness {
		t.Helper()
		var r admin.Readiness
		e.getJSON("/readyz", want, &r)
		if r.Ready != (want == http.StatusOK) {
			t.Errorf("ready=%v with status %d", r.Ready, want)
		}
		return r
	}
	r := ready(http.StatusOK) // no run yet
	if len(r.Checks) == 0 || r.Checks[0].Name != "state store" || !r.Checks[0].OK {
		t.Errorf("checks: %+v", r.Checks)
	}

	recordRun(t, e.store, "th_cases", t0, state.OutcomeOK, state.Counts{}, "")
	ready(http.StatusOK)
	// A failed run of a job run only by hand does not make the daemon unready.
	recordRun(t, e.store, "bd_cases", t0, state.OutcomeFailed, state.Counts{}, "job bd_cases: source: no such file")
	ready(http.StatusOK)
	// An aborted run (a safety brake) is not a fatal failure.
	recordRun(t, e.store, "th_cases", t0.Add(time.Hour), state.OutcomeAborted, state.Counts{}, "safety abort")
	ready(http.StatusOK)
	id := recordRun(t, e.store, "th_cases", t0.Add(2*time.Hour), state.OutcomeFailed, state.Counts{}, "job th_cases: describe: fatal")
	r = ready(http.StatusServiceUnavailable)
	found := false
	for _, c := range r.Checks {
		if c.Name == "job th_cases" {
			found = true
			if c.OK || !strings.Contains(c.Detail, fmt.Sprint(id)) {
				t.Errorf("th_cases check: %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("no th_cases check: %+v", r.Checks)
	}
	recordRun(t, e.store, "th_cases", t0.Add(3*time.Hour), state.OutcomeOK, state.Counts{}, "")
	ready(http.StatusOK)
	// A child's failure counts for its scheduled parent.
	recordRun(t, e.store, "th_cases/stipend", t0.Add(3*time.Hour), state.OutcomeFailed, state.Counts{}, "child failed")
	ready(http.StatusServiceUnavailable)
	recordRun(t, e.store, "th_cases/stipend", t0.Add(4*time.Hour), state.OutcomeOK, state.Counts{}, "")

	for range 50 { // a probe loop
		ready(http.StatusOK)
	}
	if n := e.run.calls.Load(); n != 0 {
		t.Errorf("readiness ran %d jobs (Salesforce calls); want none", n)
	}

	// A state store that does not answer: not ready.
	e.store.Close()
	r = ready(http.StatusServiceUnavailable)
	if r.Checks[0].Name != "state store" || r.Checks[0].OK {
		t.Errorf("checks with the store closed: %+v", r.Checks)
	}
	if n := e.run.calls.Load(); n != 0 {
		t.Errorf("readiness ran %d jobs", n)
	}
}

func TestUnknownAPIPath(t *testing.T) {
	e := newEnv(t, nil)
	e.getJSON("/api/v2/jobs", http.StatusNotFound, nil)
	e.getJSON("/api/v1/jobs/nope/runs", http.StatusNotFound, nil)
	e.getJSON("/api/v1/jobs/nope", http.StatusNotFound, nil)
	e.getJSON("/api/v1/conflicts?job=nope", http.StatusNotFound, nil)
}

func TestCloseCancelsRunsAndRefusesNew(t *testing.T) {
	e := newEnv(t, nil)
	e.run.block = make(chan struct{}) // never closed before Close: the run ends by cancellation
	e.run.started = make(chan string, 1)
	_, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, "")
	var tr admin.Trigger
	_ = json.Unmarshal(b, &tr)
	<-e.run.started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	done := poll(t, e, tr.URL)
	if done.Outcome != "cancelled" {
		t.Errorf("outcome after Close: %+v", done)
	}
	if code, _, b := e.do("POST", "/api/v1/jobs/bd_cases/run", testToken, ""); code != http.StatusServiceUnavailable {
		t.Errorf("run after Close: %d %s, want 503", code, b)
	}
}
