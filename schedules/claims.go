package schedules

import (
	"context"
	"errors"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/casebridge/casebridge/config"
)

// Scheduled runs and replicas (doc/architecture.md §9): every replica sharing a
// PostgreSQL state store fires the same schedules. Each firing carries its
// scheduled time in its context (WithScheduledAt); Runner.Run claims the
// run (state.Store.ClaimRun, unique on job and scheduled time) before it
// takes the job's lease, and a run already claimed is skipped with
// ErrRunClaimed. A claimed run is never retried by another replica: if
// its claimer dies before it starts, the job runs at its next time.

// ErrRunClaimed is returned by Runner.Run for a scheduled run that was
// already claimed: by another replica, or by this process at the first of
// two instants with the same wall time (a repeated daylight-saving hour).
var ErrRunClaimed = errors.New("scheduled run already claimed")

type scheduledAtKey struct{}

// WithScheduledAt returns a context for the run scheduled at t: Runner.Run
// claims it first. t should be in the schedule's zone (the claim is keyed
// by its wall-clock reading there).
func WithScheduledAt(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, scheduledAtKey{}, t)
}

// ScheduledAt returns the scheduled time WithScheduledAt put in ctx.
func ScheduledAt(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(scheduledAtKey{}).(time.Time)
	return t, ok && !t.IsZero()
}

// alignedEvery is a duration schedule whose times are multiples of its
// interval (since Go's zero time), not of the process's start: replicas
// started at different moments then fire, and claim, the same times.
type alignedEvery time.Duration

func (d alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(time.Duration(d)).Add(time.Duration(d))
}

// cronSchedule returns the schedule the scheduler fires: the parsed one,
// with duration schedules aligned.
func cronSchedule(sched config.Schedule) cron.Schedule {
	if sched.Every > 0 {
		return alignedEvery(max(sched.Every.Truncate(time.Second), time.Second))
	}
	return sched.Cron
}

// scheduledTime is the time a firing was scheduled for, in the schedule's
// zone: prev is the entry's Prev (robfig/cron sets it to the time it was
// due just before starting the job), or, if unknown, now to the second.
func scheduledTime(prev, now time.Time, sched config.Schedule) time.Time {
	t := prev
	if t.IsZero() {
		t = now.Truncate(time.Second)
	}
	if sched.Location != nil {
		t = t.In(sched.Location)
	}
	return t
}
