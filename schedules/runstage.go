package schedules

import (
	"context"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/state"
)

// runStage is the stage the history records for a run that failed with
// err (state.Run.Stage): the one its failure alert and the metrics name
// (FailureStage), so that the three agree.
func runStage(err error) string {
	stage, _ := FailureStage(err)
	return stage
}

// recordStage adds to the history the stage at which a run of job that
// failed with runErr stopped. The engine records its own runs (the job's
// and each child's) and knows nothing of how the runner classifies their
// errors, so the stage is set on them afterwards: on the newest run of the
// job and of each child that failed with no stage and started no earlier
// than start (a run of this call, the job's lease still held; an older
// run, a job refused by its lockout that recorded none, is left alone).
// A run that failed before the engine started has its stage already
// (recordFailure).
func (r *Runner) recordStage(ctx context.Context, job *config.Job, start time.Time, runErr error) {
	if runErr == nil || outcomeOf(runErr) != state.OutcomeFailed {
		return
	}
	ctx = context.WithoutCancel(ctx)
	stage := runStage(runErr)
	names := []string{job.Name}
	for _, c := range job.Children {
		if c != nil {
			names = append(names, job.Name+"/"+c.Name)
		}
	}
	// The store keeps microseconds: a run the engine started within the
	// same microsecond as start reads back a little earlier.
	since := start.Truncate(time.Microsecond)
	for _, name := range names {
		runs, err := r.Store.Runs(ctx, name, 1)
		if err != nil || len(runs) == 0 {
			continue
		}
		last := runs[0]
		if last.Outcome != state.OutcomeFailed || last.Stage != "" || last.Start.Before(since) {
			continue
		}
		if err := r.Store.SetRunStage(ctx, last.ID, stage); err != nil {
			r.Log.Warn().Str("job", name).Int64("run", last.ID).Err(err).Msg("could not record the stage the run failed at")
		}
	}
}
