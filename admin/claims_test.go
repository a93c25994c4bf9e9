package admin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/schedules"
)

// TestScheduledRunClaimedElsewhere: a scheduled run another replica
// claimed is skipped: the error says so, and no run is counted here.
func TestScheduledRunClaimedElsewhere(t *testing.T) {
	e := newEnv(t, nil)
	e.run.result = func(job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
		return nil, fmt.Errorf("job %s: %w", job, schedules.ErrRunClaimed)
	}
	ctx := schedules.WithScheduledAt(context.Background(), t0)
	if err := e.srv.ScheduledRun(ctx, "th_cases"); !errors.Is(err, schedules.ErrRunClaimed) {
		t.Fatalf("ScheduledRun = %v, want ErrRunClaimed", err)
	}
	for _, line := range strings.Split(metricsText(t, e), "\n") {
		if strings.HasPrefix(line, `casebridge_runs_total{job="th_cases"`) && !strings.HasSuffix(line, " 0") {
			t.Errorf("a skipped run was counted: %s", line)
		}
	}
}
