package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// TestSummaryChildBrake: a safety brake in a child job stops the run after
// the job's own records were written. The summary says so on the child's
// line; the job's line does not claim that nothing was written.
func TestSummaryChildBrake(t *testing.T) {
	res := &schedules.JobResult{Result: &reconcile.Result{
		Plan:   &reconcile.Plan{Job: "cases"},
		Counts: state.Counts{Creates: 1},
		Children: []*reconcile.Result{
			{Plan: &reconcile.Plan{Job: "cases/service"}, Counts: state.Counts{Creates: 1}},
			{Plan: &reconcile.Plan{Job: "cases/note"}},
		},
	}}
	var b strings.Builder
	writeSummary(&b, "cases", false, res, fmt.Errorf("child job cases/note: %w: would delete 1 records", reconcile.ErrSafetyAbort))
	out := b.String()
	for _, want := range []string{
		"cases synced: 1 created",
		"  cases/service: 1 created",
		"  cases/note stopped before writing (safety brake): 0 created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	// The job's own brake: its line says it stopped.
	b.Reset()
	writeSummary(&b, "cases", false, &schedules.JobResult{Result: &reconcile.Result{Plan: &reconcile.Plan{Job: "cases"}}},
		fmt.Errorf("job cases: %w", reconcile.ErrSafetyAbort))
	if !strings.HasPrefix(b.String(), "cases stopped before writing (safety brake): ") {
		t.Errorf("the job's own brake:\n%s", b.String())
	}
}
