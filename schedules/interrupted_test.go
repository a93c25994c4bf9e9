package schedules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
)

// TestKilledRunsClosed (issue 14, every run visible): a run whose process
// was killed stays "running" in the history, the admin API and the status
// page forever; the job's next run, holding its lease, records it (and
// its children's) as failed, interrupted.
func TestKilledRunsClosed(t *testing.T) {
	f := newLookupFixture(t, 2, 3)
	ctx := context.Background()
	killed, err := f.r.Store.StartRun(ctx, "partner_cases", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	child, err := f.r.Store.StartRun(ctx, "partner_cases/notes", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f.run(t, RunOptions{})
	for job, id := range map[string]int64{"partner_cases": killed, "partner_cases/notes": child} {
		runs, err := f.r.Store.Runs(ctx, job, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range runs {
			if r.ID != id {
				continue
			}
			found = true
			if r.Outcome != state.OutcomeFailed || !strings.HasPrefix(r.Error, "interrupted") || r.End.IsZero() {
				t.Errorf("killed run %d of %s after the next run: %s, %q, end %v", id, job, r.Outcome, r.Error, r.End)
			}
		}
		if !found {
			t.Errorf("run %d of %s is gone from the history", id, job)
		}
	}
	runs, _ := f.r.Store.Runs(ctx, "partner_cases", 1)
	if len(runs) != 1 || runs[0].Outcome != state.OutcomeOK {
		t.Errorf("the run after it: %+v", runs)
	}
}
