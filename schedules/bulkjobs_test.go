package schedules

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/api"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
)

// bulkRunner is newTestRunner with a Salesforce connector that writes
// through Bulk API 2.0 from three records on, its OnBulkJob wired to the
// runner (through onBulk, when set, to stop the run there).
func bulkRunner(t *testing.T, onBulk func(object, operation, id string)) (*Runner, *sftest.Org, *salesforce.Connector) {
	t.Helper()
	r, org, _ := newTestRunner(t, thConfig)
	hook := r.OnBulkJob
	if onBulk != nil {
		hook = onBulk
	}
	sf, err := salesforce.New(context.Background(), salesforce.Options{
		LoginURL:      r.Config.Salesforce.LoginURL,
		KeyFields:     map[string]string{"vcms__Survivor_Case__c": "vcms__External_Key__c"},
		Auth:          salesforce.Auth{Flow: salesforce.FlowClientCredentials, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret},
		BulkThreshold: 2,
		BulkPoll:      5 * time.Millisecond,
		OnBulkJob:     hook,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Salesforce = sf
	r.BulkDrainPoll = 5 * time.Millisecond
	return r, org, sf
}

// converged checks that the org holds each tracker case once and that a
// further run plans nothing.
func converged(t *testing.T, r *Runner, org *sftest.Org) {
	t.Helper()
	seen := map[any]int{}
	for _, rec := range org.Records("vcms__Survivor_Case__c") {
		seen[rec.Fields["vcms__External_Key__c"]]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("case %v is in the org %d times", k, n)
		}
	}
	res, err := r.Run(context.Background(), "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Result.Plan.NumWrites(); w != 0 {
		t.Errorf("run after the drain plans %d writes:\n%s", w, res.Result.Plan)
	}
	if left, _ := r.Store.BulkJobs(context.Background(), "th_cases"); len(left) != 0 {
		t.Errorf("bulk jobs still recorded after a good run: %+v", left)
	}
}

// TestBulkJobDrainedAfterCrash kills a run after its bulk job was recorded
// and ran (its results not yet in the state); the next run finds the job
// recorded, sees it has ended, forgets it, and converges without
// duplicating a case.
func TestBulkJobDrainedAfterCrash(t *testing.T) {
	r, org, sf := bulkRunner(t, nil)
	ctx := context.Background()
	before := len(org.Records("vcms__Survivor_Case__c"))
	kill := errors.New("kill -9")
	r.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.AfterWrite {
			return kill
		}
		return nil
	}
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); !errors.Is(err, kill) {
		t.Fatalf("first run: %v, want the kill", err)
	}
	recs, err := r.Store.BulkJobs(ctx, "th_cases")
	if err != nil || len(recs) != 1 {
		t.Fatalf("bulk jobs recorded = %+v, %v; want the one the killed run started", recs, err)
	}
	if info, err := sf.BulkJob(ctx, recs[0].ID); err != nil || info.State != api.JobComplete {
		t.Fatalf("bulk job %s: %+v, %v", recs[0].ID, info, err)
	}
	created := len(org.Records("vcms__Survivor_Case__c")) - before
	if created < 3 {
		t.Fatalf("the killed run created %d cases; the test needs a bulk write", created)
	}

	r.Hooks.At = nil
	res, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Result.Plan.Count(reconcile.OpCreate); n != 0 {
		t.Errorf("the run after the crash plans %d creates; the bulk job made them:\n%s", n, res.Result.Plan)
	}
	if got := len(org.Records("vcms__Survivor_Case__c")) - before; got != created {
		t.Errorf("cases created: %d after the second run, %d by the first", got, created)
	}
	converged(t, r, org)
}

// TestBulkJobOpenAborted stops a run between creating its bulk job and
// uploading the data (the job stays Open in the org, as after a crash
// during the upload); the next run aborts it before planning, then
// creates the cases itself.
func TestBulkJobOpenAborted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r *Runner
	var openID string
	r, org, sf := bulkRunner(t, func(object, operation, id string) {
		r.OnBulkJob(object, operation, id)
		if openID == "" {
			openID = id
			cancel() // the process dies before the upload
		}
	})
	before := len(org.Records("vcms__Survivor_Case__c"))
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); err == nil {
		t.Fatal("the interrupted run succeeded")
	}
	if info, err := sf.BulkJob(context.Background(), openID); err != nil || info.State != api.JobOpen {
		t.Fatalf("bulk job after the interrupted run: %+v, %v; want Open", info, err)
	}
	if recs, _ := r.Store.BulkJobs(context.Background(), "th_cases"); len(recs) != 1 || recs[0].ID != openID {
		t.Fatalf("bulk jobs recorded = %+v, want %s", recs, openID)
	}

	res, err := r.Run(context.Background(), "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := sf.BulkJob(context.Background(), openID); err != nil || info.State != api.JobAborted {
		t.Fatalf("bulk job left open: %+v, %v; want Aborted", info, err)
	}
	if n := res.Result.Counts.Creates; n < 3 || len(org.Records("vcms__Survivor_Case__c"))-before != n {
		t.Errorf("created %d, org grew by %d", n, len(org.Records("vcms__Survivor_Case__c"))-before)
	}
	converged(t, r, org)
}
