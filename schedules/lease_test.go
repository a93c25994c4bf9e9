package schedules

import (
	"context"
	"testing"
	"time"
)

// TestLeaseFromConfig (issue 14): a run's lease lasts the configuration's
// state.lease (it was a fixed 5 minutes).
func TestLeaseFromConfig(t *testing.T) {
	r, _ := configFixture(t, func(text string) string { return text + "state: { lease: 90s }\n" })
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	var got time.Duration
	r.Progress = func(job, side, op string, n int) {
		if got == 0 {
			l, ok, err := r.Store.Lease(context.Background(), job)
			if err != nil || !ok {
				t.Errorf("Lease during the run: %v, %v", ok, err)
			}
			got = l.Expires.Sub(now)
		}
	}
	if _, err := r.Run(context.Background(), "cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got != 90*time.Second {
		t.Errorf("the run's lease lasts %v, want state.lease's 90s", got)
	}
}
