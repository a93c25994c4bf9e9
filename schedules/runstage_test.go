package schedules

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// TestFailedRunsHaveTheirStage (issue 14, every run visible): a failed run
// is in the history with the stage it stopped at, the one its alert and
// the metrics name (FailureStage): a run whose sheet is gone fails at the
// source, as the engine describes the sheet, and a run under another
// fingerprint key at the start, as the engine checks the key (the engine
// records both; the runner adds the stage); a run mapping a field the org
// lacks fails at the mapping before the engine starts (the runner records
// it). Runs that did not fail, and the failed runs before, keep theirs.
func TestFailedRunsHaveTheirStage(t *testing.T) {
	ctx := context.Background()
	f := newCostFixture(t, 3)
	f.run(t, RunOptions{})

	sheet := filepath.Join(f.r.Config.Dir, "cases.csv")
	if err := os.Rename(sheet, sheet+".away"); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	_, err := f.r.Run(ctx, "cases", RunOptions{})
	if err == nil {
		t.Fatal("a run without its sheet did not fail")
	}
	if stage, _ := FailureStage(err); stage != "source" {
		t.Fatalf("FailureStage(%v) = %q, want source", err, stage)
	}
	runs := lastRuns(t, f.r.Store, "cases")
	if len(runs) != 2 || runs[0].Outcome != state.OutcomeFailed || runs[0].Stage != "source" {
		t.Fatalf("history after a run without its sheet: %+v; want the newest failed at stage source", runs)
	}
	if runs[1].Outcome != state.OutcomeOK || runs[1].Stage != "" {
		t.Fatalf("the run before: %+v; want ok with no stage", runs[1])
	}
	if err := os.Rename(sheet+".away", sheet); err != nil {
		t.Fatal(err)
	}

	// Another key: the engine refuses the run while it prepares.
	good := f.r.FP
	other, err := reconcile.NewFingerprinter(bytes.Repeat([]byte{7}, reconcile.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	f.r.FP = other
	f.now = f.now.Add(time.Hour)
	if _, err := f.r.Run(ctx, "cases", RunOptions{}); err == nil {
		t.Fatal("a run under another fingerprint key did not fail")
	}
	runs = lastRuns(t, f.r.Store, "cases")
	if len(runs) != 3 || runs[0].Outcome != state.OutcomeFailed || runs[0].Stage != "start" || runs[1].Stage != "source" {
		t.Fatalf("history after a run under another key: %+v; want the newest failed at stage start, the one before at source", runs)
	}

	f.r.FP = good

	// A field the org does not have: the mapping fails before the engine
	// starts, and the runner records the run itself.
	rule := f.r.Config.Jobs["cases"].Fields[1]
	was := rule.SF
	rule.SF = "vcms__Nowhere__c"
	f.now = f.now.Add(time.Hour)
	if _, err := f.r.Run(ctx, "cases", RunOptions{}); err == nil {
		t.Fatal("a run mapping a field the org lacks did not fail")
	}
	runs = lastRuns(t, f.r.Store, "cases")
	if len(runs) != 4 || runs[0].Outcome != state.OutcomeFailed || runs[0].Stage != "mapping" || runs[1].Stage != "start" {
		t.Fatalf("history after a run mapping a field the org lacks: %+v; want the newest failed at stage mapping", runs)
	}
	rule.SF = was

	f.run(t, RunOptions{})
	runs = lastRuns(t, f.r.Store, "cases")
	if len(runs) != 5 || runs[0].Outcome != state.OutcomeOK || runs[0].Stage != "" || runs[1].Stage != "mapping" {
		t.Fatalf("history after a good run: %+v; want it ok with no stage, the failures' stages kept", runs)
	}
}

func lastRuns(t *testing.T, st state.Store, job string) []state.Run {
	t.Helper()
	runs, err := st.Runs(context.Background(), job, 10)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}
