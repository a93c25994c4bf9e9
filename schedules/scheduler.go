package schedules

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
)

// RunFunc runs one job once. The context is cancelled when the scheduler
// stops, and carries the firing's scheduled time (ScheduledAt), which
// Runner.Run claims so that replicas sharing a state store run each
// scheduled run once.
type RunFunc func(ctx context.Context, job string) error

// Scheduler fires jobs on their schedules. A job whose previous run is still
// going is skipped, not queued; a panicking run is recovered and logged,
// and the scheduler goes on (robfig/cron's default chain recovers nothing).
type Scheduler struct {
	log  zerolog.Logger
	run  RunFunc
	cron *cron.Cron

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	jobs   map[string]cron.EntryID
}

// New returns a Scheduler that calls run for each due job.
func New(log zerolog.Logger, run RunFunc) *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	cl := cronLogger{log}
	s := &Scheduler{log: log, run: run, ctx: ctx, cancel: cancel, jobs: map[string]cron.EntryID{}}
	s.cron = cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
	)
	return s
}

// Add schedules job. The schedule comes from the configuration
// (config.ParseSchedule: a cron spec in UTC unless CRON_TZ= or TZ= says
// otherwise, a descriptor, or a duration).
//
// Each firing's context carries its scheduled time (WithScheduledAt) in
// the schedule's zone. Duration schedules ("30m", "@every 30m") fire at
// multiples of their interval, not counted from the process's start, so
// that replicas fire, and claim, the same times.
//
// Local zones have daylight-saving gaps and repeats: a job at 02:30 in a
// zone that skips that hour does not run that day. A firing in a repeated
// hour comes twice, at two instants with the same wall time; the runs are
// claimed by wall time (state.Store.ClaimRun), so the second is skipped
// (ErrRunClaimed, logged) and the job runs once. Prefer UTC for jobs that
// must run every day.
func (s *Scheduler) Add(job string, sched config.Schedule) error {
	if sched.IsZero() {
		return fmt.Errorf("job %s: no schedule", job)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[job]; dup {
		return fmt.Errorf("job %s: scheduled twice", job)
	}
	s.jobs[job] = s.cron.Schedule(cronSchedule(sched), cron.FuncJob(func() {
		// Recover here, innermost: robfig/cron's SkipIfStillRunning does
		// not give its token back when the job panics, so a panic that
		// reached it would skip the job forever.
		defer func() {
			if r := recover(); r != nil {
				s.log.Error().Str("job", job).Str("panic", fmt.Sprintf("%T", r)).Bytes("stack", debug.Stack()).Msg("scheduled run panicked")
			}
		}()
		start := time.Now()
		at := scheduledTime(s.prev(job), start, sched)
		ctx := WithScheduledAt(s.ctx, at)
		s.log.Info().Str("job", job).Time("scheduled_at", at).Msg("scheduled run starting")
		err := s.run(ctx, job)
		if errors.Is(err, ErrRunClaimed) {
			s.log.Info().Str("job", job).Time("scheduled_at", at).Msg("scheduled run already claimed (by another replica, or a repeated hour): skipped")
			return
		}
		if err != nil {
			s.log.Error().Str("job", job).Err(err).Dur("took", time.Since(start)).Msg("scheduled run failed")
			return
		}
		s.log.Info().Str("job", job).Dur("took", time.Since(start)).Msg("scheduled run done")
	}))
	return nil
}

// prev returns when job's entry was last due (robfig/cron sets it before
// it starts the job; it serves Entry from its own goroutine, after that).
func (s *Scheduler) prev(job string) time.Time {
	s.mu.Lock()
	id, ok := s.jobs[job]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(id).Prev
}

// NextRun returns when job fires next, or the zero time if it is not
// scheduled (or the scheduler has not started).
func (s *Scheduler) NextRun(job string) time.Time {
	s.mu.Lock()
	id, ok := s.jobs[job]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(id).Next
}

// Start starts firing jobs in the background.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops firing jobs, cancels the runs in progress and waits for them
// to return, or for ctx to end.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	s.cancel()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cronLogger adapts zerolog to cron.Logger. cron logs job entry ids and
// times, never job data.
type cronLogger struct{ log zerolog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	l.log.Debug().Fields(kv).Msg("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}
