package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// A key and a value that must never become a label.
const (
	secretKey   = "ngo-th-cm:TH-CL-0007"
	secretValue = "Somchai Jaidee"
)

// jobResult is a run of job with three planned writes: a create and an
// update to Salesforce (the update fails) and an update to local, plus a
// child with one local create and a local row that did not map.
func jobResult(job string, runID int64) *schedules.JobResult {
	return &schedules.JobResult{
		Job: job,
		Result: &reconcile.Result{
			RunID: runID,
			Plan: withWrites(&reconcile.Plan{Job: job}, []reconcile.Write{
				{Side: reconcile.SF, Op: reconcile.OpCreate, Key: "ngo-th-cm:TH-CL-0001", Reason: "new on local"},
				{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: secretKey, Changes: []reconcile.Change{{Field: "vcms__First_Name__c", Reason: "changed on local"}}},
				{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "ngo-th-cm:TH-CL-0003", Changes: []reconcile.Change{{Field: "vcms__Stage__c", Reason: "changed on salesforce"}}},
			}),
			Counts: state.Counts{Read: 4, Creates: 1, Updates: 1, Failures: 1},
			Failed: []state.RecordErr{{RunID: runID, Key: secretKey, Field: "vcms__First_Name__c", Code: "STRING_TOO_LONG",
				Message: "upsert salesforce vcms__Survivor_Case__c " + secretKey + ".vcms__First_Name__c: too long"}},
			Children: []*reconcile.Result{{
				Plan: withWrites(&reconcile.Plan{Job: job + "/stipend"}, []reconcile.Write{
					{Side: reconcile.Local, Op: reconcile.OpCreate, Key: "ngo-th-cm:TH-CL-0001:stipend"},
				}),
				Counts: state.Counts{Creates: 1},
				// A code that is not a code: it must not reach a label.
				Failed: []state.RecordErr{{Key: secretKey + ":stipend", Code: "value " + secretValue}},
			}},
		},
		MappingErrors: []*connector.RecordError{
			connector.NewRecordError("map", "csv", "vcms__Survivor_Case__c", secretKey, "vcms__Birthdate__c", connector.CodeInvalidValue, connector.Permanent, errors.New("not a date")),
		},
		Usage: &salesforce.Usage{Used: 1200, Limit: 15000, Calls: 9},
	}
}

func metricsText(t *testing.T, e *env) string {
	t.Helper()
	code, h, b := e.do("GET", "/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, b)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") && !strings.Contains(ct, "openmetrics") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	return string(b)
}

func TestObserveMetrics(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.Observe("th_cases", jobResult("th_cases", 1), nil, 95*time.Second)
	e.srv.Observe("th_cases", nil, fmt.Errorf("job th_cases: %w", reconcile.ErrSafetyAbort), time.Second)
	e.srv.Observe("bd_cases", nil, errors.New("job bd_cases: source: gone"), 2*time.Second)
	e.srv.Observe("bd_cases", nil, fmt.Errorf("job bd_cases: %w", state.ErrLocked), 0)
	// Failed runs at named stages (issue 14): a sheet gone, an object the
	// org lacks, a refused login; the path names the key, which must not
	// reach a label.
	gone := &fs.PathError{Op: "open", Path: "/data/" + secretKey + ".csv", Err: fs.ErrNotExist}
	e.srv.Observe("bd_cases", nil, fmt.Errorf("job bd_cases: source bd_sheet: %w", gone), time.Second)
	e.srv.Observe("bd_cases", nil, fmt.Errorf("job bd_cases: source bd_sheet: %w", gone), time.Second)
	e.srv.Observe("th_cases", nil, fmt.Errorf("job th_cases: describe vcms__Nope__c: %w", connector.ErrObjectNotFound), time.Second)
	e.srv.Observe("th_cases", nil, fmt.Errorf("job th_cases: %w", salesforce.ErrAuth), time.Second)
	e.srv.Observe("not_a_job "+secretKey, jobResult("x", 2), nil, time.Second) // ignored
	openConflict(t, e.store, "th_cases", "ngo-th-cm:th-0001", "vcms__Stage__c")
	openConflict(t, e.store, "th_cases/stipend", "ngo-th-cm:th-0001:stipend", "vcms__Amount__c")

	text := metricsText(t, e)
	for _, want := range []string{
		`casebridge_runs_total{job="th_cases",outcome="ok"} 1`,
		`casebridge_runs_total{job="th_cases",outcome="aborted"} 1`,
		`casebridge_runs_total{job="bd_cases",outcome="failed"} 3`,
		`casebridge_runs_total{job="th_cases",outcome="failed"} 2`,
		`casebridge_run_failures_total{code="ERROR",job="bd_cases",stage="sync"} 1`,
		`casebridge_run_failures_total{code="FILE_NOT_FOUND",job="bd_cases",stage="source"} 2`,
		`casebridge_run_failures_total{code="OBJECT_NOT_FOUND",job="th_cases",stage="mapping"} 1`,
		`casebridge_run_failures_total{code="AUTH_FAILED",job="th_cases",stage="login"} 1`,
		`casebridge_runs_total{job="bd_cases",outcome="locked"} 1`,
		`casebridge_run_duration_seconds_bucket{job="th_cases",le="120"} 4`,
		`casebridge_run_duration_seconds_bucket{job="th_cases",le="60"} 3`,
		`casebridge_run_duration_seconds_count{job="th_cases"} 4`,
		`casebridge_run_duration_seconds_sum{job="th_cases"} 98`,
		`casebridge_records_written_total{job="th_cases",op="create",side="salesforce"} 1`,
		`casebridge_records_written_total{job="th_cases",op="update",side="local"} 1`,
		`casebridge_records_written_total{job="th_cases",op="create",side="local"} 1`,
		`casebridge_record_failures_total{code="STRING_TOO_LONG",job="th_cases"} 1`,
		`casebridge_record_failures_total{code="INVALID_VALUE",job="th_cases"} 1`,
		`casebridge_record_failures_total{code="OTHER",job="th_cases"} 1`,
		`casebridge_conflicts_open{job="th_cases"} 2`,
		`casebridge_conflicts_open{job="bd_cases"} 0`,
		`casebridge_salesforce_api_usage{kind="used"} 1200`,
		`casebridge_salesforce_api_usage{kind="limit"} 15000`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if got := gauge(t, text, `casebridge_last_success_timestamp_seconds{job="th_cases"}`); got != float64(t0.Add(2*time.Hour).Unix()) {
		t.Errorf("th_cases last success %v, want the Observe time", got)
	}
	if !strings.Contains(text, `casebridge_records_written_total{job="th_cases",op="update",side="salesforce"} 0`+"\n") {
		t.Error("the failed Salesforce update is counted as written")
	}
	if strings.Contains(text, `casebridge_last_success_timestamp_seconds{job="bd_cases"}`) {
		t.Error("bd_cases never succeeded but has a last success")
	}
	// Only failed runs have a stage: not the aborted run (a brake), nor
	// the one another process held (locked).
	if n := strings.Count(text, "\ncasebridge_run_failures_total{"); n != 4 {
		t.Errorf("%d run failure series, want the 4 above:\n%s", n, text)
	}
	checkLabels(t, e)
	if strings.Contains(text, secretKey) || strings.Contains(text, "TH-CL") || strings.Contains(text, secretValue) || strings.Contains(text, "not_a_job") {
		t.Errorf("a key or value reached /metrics:\n%s", text)
	}
}

// gauge returns the value of series in an exposition text.
func gauge(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Errorf("no series %s", series)
	return 0
}

// checkLabels gathers the registry and checks every label of every
// casebridge series against the values a label may take.
func checkLabels(t *testing.T, e *env) {
	t.Helper()
	allowed := map[string]map[string]bool{
		"job":     {"th_cases": true, "bd_cases": true},
		"outcome": {"ok": true, "dry_run": true, "aborted": true, "locked": true, "cancelled": true, "failed": true},
		"stage":   {"login": true, "start": true, "source": true, "mapping": true, "salesforce": true, "state": true, "sync": true},
		"side":    {"salesforce": true, "local": true},
		"op":      {"create": true, "update": true, "delete": true},
		"kind":    {"used": true, "limit": true},
		"le":      nil, // histogram buckets
		"code":    nil, // checked below
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "casebridge_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			n++
			for _, lp := range m.GetLabel() {
				name, val := lp.GetName(), lp.GetValue()
				vals, ok := allowed[name]
				switch {
				case !ok:
					t.Errorf("%s: unexpected label %s", mf.GetName(), name)
				case name == "code":
					if val != strings.ToUpper(val) || strings.ContainsAny(val, " :.-") {
						t.Errorf("%s: code label %q is not a code", mf.GetName(), val)
					}
				case vals != nil && !vals[val]:
					t.Errorf("%s: label %s=%q not allowed", mf.GetName(), name, val)
				}
				if strings.Contains(val, secretKey) || strings.Contains(val, secretValue) || strings.Contains(strings.ToLower(val), "th-cl") {
					t.Errorf("%s: label %s=%q carries a key or value", mf.GetName(), name, val)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no casebridge series gathered")
	}
}

func TestMetricsLastSuccessFromStore(t *testing.T) {
	e := newEnv(t, nil)
	recordRun(t, e.store, "bd_cases", t0, state.OutcomeOK, state.Counts{}, "") // ends t0+90s
	recordRun(t, e.store, "bd_cases", t0.Add(time.Hour), state.OutcomeFailed, state.Counts{}, "x")
	if got := testutil.CollectAndCount(e.reg, "casebridge_last_success_timestamp_seconds"); got != 1 {
		t.Errorf("last success series: %d, want 1", got)
	}
	text := metricsText(t, e)
	if got := gauge(t, text, `casebridge_last_success_timestamp_seconds{job="bd_cases"}`); got != float64(t0.Add(90*time.Second).Unix()) {
		t.Errorf("bd_cases last success %v, want the end of its ok run", got)
	}
}

func TestDryRunThroughAPIIsCountedAsDryRun(t *testing.T) {
	e := newEnv(t, nil)
	e.run.result = func(job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
		r := jobResult(job, 1)
		// A dry run plans and writes nothing: zero counts.
		r.Result.Counts, r.Result.Failed, r.Result.Children = state.Counts{Read: 4}, nil, nil
		return r, nil
	}
	_, _, b := e.do("POST", "/api/v1/jobs/th_cases/run", testToken, `{"dry_run":true}`)
	var tr admin.Trigger
	_ = json.Unmarshal(b, &tr)
	poll(t, e, tr.URL)
	text := metricsText(t, e)
	if !strings.Contains(text, `casebridge_runs_total{job="th_cases",outcome="dry_run"} 1`) {
		t.Errorf("no dry_run outcome:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "casebridge_records_written_total{") && !strings.HasSuffix(line, " 0") {
			t.Errorf("a dry run counted writes: %s", line)
		}
	}
	if !strings.Contains(text, `casebridge_records_written_total{job="th_cases",op="create",side="salesforce"} 0`+"\n") {
		t.Error("written series not initialised at zero")
	}
}

// TestRealEngineRun runs the reconcile engine between two memory
// connectors on the SQLite state store, through the API, with one record
// failing, and checks the run's history, errors and metrics.
func TestRealEngineRun(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := func() *connector.Object {
		rw := func(f connector.Field) connector.Field {
			f.Createable, f.Updateable, f.Nillable = true, true, true
			return f
		}
		return &connector.Object{Name: "Case__c", Key: "Key__c", Modified: "LastModifiedDate", Fields: []connector.Field{
			{Name: "Key__c", Type: connector.TypeString, Length: 80, ExternalID: true, Unique: true, Createable: true, Updateable: true},
			rw(connector.Field{Name: "Name__c", Type: connector.TypeString, Length: 80}),
		}}
	}
	sf := memory.New("salesforce", obj())
	local := memory.New("local", obj())
	for _, k := range []string{"TH-0001", "TH-0002", secretKey} {
		name := "Ann"
		if k == secretKey {
			name = secretValue
		}
		if _, err := local.Upsert(ctx, "Case__c", []connector.Record{{Key: k, Fields: map[string]connector.Value{"Name__c": connector.Text(name)}}}); err != nil {
			t.Fatal(err)
		}
	}
	sf.Fail = func(op, object, key string) error {
		if strings.EqualFold(key, secretKey) {
			return connector.NewRecordError(op, "salesforce", object, key, "Name__c", connector.CodeTooLong, connector.Permanent, errors.New("data value too large"))
		}
		return nil
	}
	key, err := reconcile.LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "fingerprint.key"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := reconcile.NewFingerprinter(key)
	if err != nil {
		t.Fatal(err)
	}
	eng := &reconcile.Engine{SF: sf, Local: local, Store: e.store, FP: fp}
	e.run.result = func(job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
		rj := &reconcile.Job{Name: job, Object: "Case__c", Deletes: reconcile.Flag,
			Fields: []reconcile.FieldSpec{{Name: "Name__c", RuleHash: "v1"}}}
		res, err := eng.Run(ctx, rj, reconcile.RunOptions{DryRun: opts.DryRun, Full: opts.Full, Force: opts.Force})
		return &schedules.JobResult{Job: job, Result: res}, err
	}

	_, _, b := e.do("POST", "/api/v1/jobs/bd_cases/run", testToken, "")
	var tr admin.Trigger
	_ = json.Unmarshal(b, &tr)
	done := poll(t, e, tr.URL)
	if done.Outcome != "ok" || done.RunID == 0 || done.Counts == nil || done.Counts.Creates != 2 || done.Counts.Failures != 1 {
		t.Fatalf("trigger: %+v", done)
	}

	var j admin.Job
	e.getJSON("/api/v1/jobs/bd_cases", http.StatusOK, &j)
	if j.LastRun == nil || j.LastRun.ID != done.RunID || j.LastRun.Outcome != "ok" || j.LastRun.Counts.Creates != 2 || j.LastRun.Counts.Failures != 1 {
		t.Errorf("last run: %+v", j.LastRun)
	}
	var el admin.ErrorList
	e.getJSON(j.LastRun.ErrorsURL, http.StatusOK, &el)
	if len(el.Errors) != 1 || !strings.EqualFold(el.Errors[0].Key, secretKey) || el.Errors[0].Code != "STRING_TOO_LONG" {
		t.Errorf("errors: %+v", el)
	}
	code, _, body := e.do("GET", j.LastRun.ErrorsURL, "", "")
	if code != http.StatusOK || strings.Contains(string(body), secretValue) {
		t.Errorf("errors endpoint: %d, value shown: %s", code, body)
	}

	text := metricsText(t, e)
	for _, want := range []string{
		`casebridge_runs_total{job="bd_cases",outcome="ok"} 1`,
		`casebridge_records_written_total{job="bd_cases",op="create",side="salesforce"} 2`,
		`casebridge_record_failures_total{code="STRING_TOO_LONG",job="bd_cases"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	checkLabels(t, e)
	if strings.Contains(text, secretValue) || strings.Contains(strings.ToLower(text), strings.ToLower(secretKey)) {
		t.Errorf("a key or value reached /metrics")
	}
	if strings.Contains(e.logs.String(), secretValue) {
		t.Errorf("a value reached the log")
	}
}

func TestSharedRegistry(t *testing.T) {
	e := newEnv(t, nil)
	// A second server on the same registry shares the metrics instead of
	// panicking.
	srv2 := admin.New(admin.Options{Config: testConfig(t), Store: e.store, Registry: e.reg})
	srv2.Observe("th_cases", nil, nil, time.Second)
	e.srv.Observe("th_cases", nil, nil, time.Second)
	if !strings.Contains(metricsText(t, e), `casebridge_runs_total{job="th_cases",outcome="ok"} 2`) {
		t.Error("runs not shared")
	}
}

// withWrites adds ws to p, a plan made by hand, and returns it.
func withWrites(p *reconcile.Plan, ws []reconcile.Write) *reconcile.Plan {
	p.AddWrites(ws...)
	return p
}
