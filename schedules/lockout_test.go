package schedules

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// TestRunnerLockedOutUntilResync: a job locked out in the state refuses
// to run until a run with Resync, which syncs it and lifts the lockout.
func TestRunnerLockedOutUntilResync(t *testing.T) {
	r, _, _ := newTestRunner(t, thConfig)
	ctx := context.Background()
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Store.LockOut(ctx, state.Lockout{Job: "th_cases", Cause: "the state commit after a write failed", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); !errors.Is(err, reconcile.ErrLockedOut) {
		t.Fatalf("run of a locked-out job: %v", err)
	}
	res, err := r.Run(ctx, "th_cases", RunOptions{Resync: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Result.Plan.First || res.Result.Plan.NumWrites() != 0 {
		t.Errorf("resync of a synced job: first=%v, writes:\n%s", res.Result.Plan.First, res.Result.Plan)
	}
	if _, err := r.Run(ctx, "th_cases", RunOptions{}); err != nil {
		t.Fatalf("run after the resync: %v", err)
	}
}
