package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

func seed(t *testing.T, w *world) {
	t.Helper()
	for _, s := range []*side{w.sf, w.local} {
		for _, k := range []string{"TH-0001", "TH-0002", "TH-0003"} {
			if err := s.set(k, map[string]string{"Name__c": "n" + k, "Stage__c": "Active"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAnotherKeyRefused(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	other, _ := reconcile.NewFingerprinter([]byte(strings.Repeat("x", 32)))
	w.eng.FP = other
	if _, err := w.sync(reconcile.RunOptions{}); !errors.Is(err, state.ErrKeyMismatch) {
		t.Fatalf("run under another key: %v", err)
	}
}

// API economy: a re-run with nothing changed reads incrementally, lists
// keys once and writes nothing.
func TestNothingChangedNoWrites(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	w.sf.ResetCalls()
	w.local.ResetCalls()
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Plan.Incremental || res.Plan.NumWrites() != 0 || len(res.Plan.Notes) != 0 {
		t.Fatalf("plan = %+v", res.Plan)
	}
	for _, s := range []*side{w.sf, w.local} {
		c := s.Calls()
		if c["upsert"]+c["delete"] != 0 || c["read_keys"] != 0 {
			t.Errorf("%s calls: %v", s.Name(), c)
		}
	}
	if c := w.sf.Calls(); c["read"] != 1 || c["list_keys"] != 1 {
		t.Errorf("salesforce calls: %v", c)
	}
}

func TestRunHistoryAndErrorLog(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	seed(t, w)
	w.local.mu.Lock()
	w.local.failing[connector.KeyID("TH-0002", false)] = true
	w.local.mu.Unlock()
	if err := w.sf.set("TH-0002", map[string]string{"Name__c": "secret name"}); err != nil {
		t.Fatal(err)
	}
	if err := w.sf.set("TH-0003", map[string]string{"Name__c": "other"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Updates != 1 || res.Counts.Failures != 1 || len(res.Failed) != 1 {
		t.Fatalf("counts %+v, failed %+v", res.Counts, res.Failed)
	}
	runs, err := w.store.Runs(ctx, "cases", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs: %+v, %v", runs, err)
	}
	if r := runs[0]; r.Outcome != state.OutcomeOK || r.Counts.Updates != 1 || r.Counts.Failures != 1 || r.APICalls == 0 || r.End.IsZero() {
		t.Fatalf("last run: %+v", r)
	}
	errs, err := w.store.Errors(ctx, "cases", res.RunID)
	if err != nil || len(errs) != 1 {
		t.Fatalf("error log: %+v, %v", errs, err)
	}
	if e := errs[0]; e.Key != "TH-0002" || e.Code != string(connector.CodeLocked) || strings.Contains(e.Message, "secret") {
		t.Fatalf("error log entry: %+v", e)
	}
	// The dry run and the safety abort are in the history too.
	if _, err := w.sync(reconcile.RunOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	runs, _ = w.store.Runs(ctx, "cases", 1)
	if runs[0].Outcome != state.OutcomeDryRun {
		t.Fatalf("dry run recorded as %s", runs[0].Outcome)
	}
}

// The plan and its errors never carry a value.
func TestPlanHasNoValues(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	if err := w.local.set("TH-0001", map[string]string{"Name__c": "Somchai Jaidee"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Plan.String(); strings.Contains(s, "Somchai") || !strings.Contains(s, "Name__c") {
		t.Fatalf("plan: %s", s)
	}
}

func TestVanishedFieldIsFatal(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	o := testObject()
	o.Fields = o.Fields[:2] // the local sheet lost its Stage and Amount columns
	w.local.AddObject(o)
	w.sf.ResetCalls()
	_, err := w.sync(reconcile.RunOptions{})
	if !errors.Is(err, connector.ErrFieldNotFound) {
		t.Fatalf("run with a vanished column: %v", err)
	}
	if c := w.sf.Calls(); c["upsert"]+c["delete"] != 0 {
		t.Fatalf("wrote despite the vanished column: %v", c)
	}
}

// A run whose lease was taken over stops before writing state.
func TestLeaseLost(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	seed(t, w)
	tok, err := w.store.Acquire(ctx, "cases", "replica-a", time.Minute, w.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.local.set("TH-0001", map[string]string{"Name__c": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sync(reconcile.RunOptions{Lease: tok, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(5 * time.Minute) // replica-a paused past its lease
	if _, err := w.store.Acquire(ctx, "cases", "replica-b", time.Minute, w.now); err != nil {
		t.Fatal(err)
	}
	_, err = w.sync(reconcile.RunOptions{Lease: tok})
	if !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("run under a lost lease: %v", err)
	}
}

// KeyListEvery: the complete key listing runs only when due; between
// listings, deletes come from the change feed.
func TestKeyListEvery(t *testing.T) {
	w := newWorld(t)
	w.job.KeyListEvery = time.Hour
	w.job.Deletes = reconcile.Propagate
	seed(t, w)
	w.sf.ResetCalls()
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := w.sf.Calls(); c["list_keys"] != 0 {
		t.Fatalf("listed keys again within the hour: %v", c)
	}
	if err := w.sf.del("TH-0001"); err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Count(reconcile.OpDelete) != 1 {
		t.Fatalf("delete from the change feed not seen:\n%s", res.Plan)
	}
	w.now = w.now.Add(2 * time.Hour)
	w.sf.ResetCalls()
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := w.sf.Calls(); c["list_keys"] != 1 {
		t.Fatalf("no listing when due: %v", c)
	}
}

// A local value that does not fit the Salesforce field (text in a
// currency field, from a sheet column typed as text) makes the record
// unknown, named by field and code, never by value.
func TestUnfittingValueUnknown(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	o := testObject()
	for i := range o.Fields {
		if o.Fields[i].Name == "Amount__c" {
			o.Fields[i].Type, o.Fields[i].Scale, o.Fields[i].Precision = connector.TypeString, 0, 0
		}
	}
	w.local.AddObject(o) // the sheet, re-read with a text column
	for _, k := range []string{"TH-0001", "TH-0002", "TH-0003"} {
		v := map[string]string{"Name__c": "n" + k, "Stage__c": "Active"}
		if k == "TH-0002" {
			v["Amount__c"] = "twelve baht"
		}
		if err := w.local.set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w.job.Deletes = reconcile.Propagate
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plan.String(); got != "unknown TH-0002: local: Amount__c: INVALID_VALUE" {
		t.Fatalf("plan:\n%s", got)
	}
}

// A cancelled run ends in the history as failed, with nothing advanced.
func TestCancelledRun(t *testing.T) {
	w := newWorld(t)
	seed(t, w)
	if err := w.local.set("TH-0001", map[string]string{"Name__c": "x"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.BeforeWrite {
			cancel()
		}
		return nil
	}
	if _, err := w.eng.Run(ctx, w.job, reconcile.RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	runs, _ := w.store.Runs(context.Background(), "cases", 1)
	if runs[0].Outcome != state.OutcomeFailed {
		t.Fatalf("cancelled run recorded as %s", runs[0].Outcome)
	}
	w.eng.Hooks.At = nil
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil || res.Counts.Updates != 1 {
		t.Fatalf("run after cancel: %+v, %v", res, err)
	}
}

// A field unknown locally since the first sync keeps no baseline, but
// does not force a complete Salesforce read every run (its Salesforce last
// seen is stored); a field new to the job does.
func TestUnknownFieldStaysIncremental(t *testing.T) {
	w := newWorld(t)
	w.local.hidden[connector.KeyID("TH-0002", false)] = []string{"Stage__c"}
	seed(t, w)
	for range 2 {
		res, err := w.sync(reconcile.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Plan.Incremental || res.Plan.NumWrites() != 0 {
			t.Fatalf("plan = %+v", res.Plan)
		}
	}
	w.job.Fields = append(w.job.Fields, reconcile.FieldSpec{Name: "Email__c", RuleHash: "r1"})
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Incremental {
		t.Fatalf("a new field read incrementally: %+v", res.Plan)
	}
	delete(w.local.hidden, connector.KeyID("TH-0002", false))
	if res, err = w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if res.Plan.NumWrites() != 0 || !res.Plan.Incremental {
		t.Fatalf("plan = %+v", res.Plan)
	}
}

// A Salesforce side whose change feed does not see deletions is listed
// completely every run, whatever KeyListEvery says, or read completely
// when it cannot list keys: a delete is never taken for "unchanged".
func TestBlindChangeFeedFindsDeletes(t *testing.T) {
	for _, listable := range []bool{true, false} {
		t.Run(map[bool]string{true: "key listing", false: "complete read"}[listable], func(t *testing.T) {
			w := newWorld(t)
			b := blindSide{w.sf}
			if listable {
				w.eng.SF = b
			} else {
				w.eng.SF = unlisted{Connector: b, Sink: b, KeyReader: b, ChangeTracker: b, DeleteTracker: b}
			}
			w.job.KeyListEvery = 24 * time.Hour
			seed(t, w)
			if err := w.sf.del("TH-0002"); err != nil {
				t.Fatal(err)
			}
			res, err := w.sync(reconcile.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := "flag TH-0002: deleted on salesforce, kept on local"
			if got := res.Plan.String(); got != want {
				t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
			}
			if res.Plan.Incremental != listable {
				t.Errorf("incremental = %v, want %v", res.Plan.Incremental, listable)
			}
		})
	}
}

// Failed writes and the state's error log name the key as the side spells
// it, never its case-folded KeyID.
func TestFailedKeyAsSpelled(t *testing.T) {
	w := newWorld(t)
	const key = "ngo-bd-dk:BD-REM-0015"
	if err := w.local.set(key, map[string]string{"Name__c": "Rem"}); err != nil {
		t.Fatal(err)
	}
	w.sf.failing[connector.KeyID(key, false)] = true
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Key != key || strings.Contains(res.Failed[0].Message, strings.ToLower(key)) {
		t.Fatalf("failed = %+v", res.Failed)
	}
	logged, err := w.store.Errors(context.Background(), w.job.Name, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0].Key != key {
		t.Fatalf("error log = %+v", logged)
	}
}
