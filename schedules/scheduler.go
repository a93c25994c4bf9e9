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
//
// Jobs due at the same time run in their order (SetOrder): a job waits
// for the jobs it runs after that are due then too, as `casebridge sync`
// runs every job one after another.
type Scheduler struct {
	log  zerolog.Logger
	run  RunFunc
	cron *cron.Cron

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	jobs   map[string]cron.EntryID
	scheds map[string]config.Schedule
	after  func(job string) []string
	// fired is each job's latest firing handled (run, or skipped because
	// its previous run was still going), running whether a run is going;
	// changed is closed (and replaced) when either changes.
	fired   map[string]time.Time
	running map[string]bool
	changed chan struct{}
}

// New returns a Scheduler that calls run for each due job.
func New(log zerolog.Logger, run RunFunc) *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	cl := cronLogger{log}
	s := &Scheduler{log: log, run: run, ctx: ctx, cancel: cancel, jobs: map[string]cron.EntryID{},
		scheds: map[string]config.Schedule{}, fired: map[string]time.Time{}, running: map[string]bool{}, changed: make(chan struct{})}
	s.cron = cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(cl),
		// Skipping a job whose run is still going is the scheduler's own
		// (begin), so that a job waiting for it knows its firing passed.
		cron.WithChain(cron.Recover(cl)),
	)
	return s
}

// SetOrder gives the jobs each job runs after (config.Config.RunsAfter:
// the jobs writing the records its lookups search). When a job fires, it
// waits for those of them due at the same time to have run (or to have
// been skipped, then for their run in progress to end). Set it before
// Start.
func (s *Scheduler) SetOrder(after func(job string) []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = after
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
	s.scheds[job] = sched
	s.jobs[job] = s.cron.Schedule(cronSchedule(sched), cron.FuncJob(func() {
		// Recover here, innermost, after end has marked the run over: a
		// panicking run must not keep the job running forever (skipped
		// at every later firing, and waited for by the jobs after it).
		defer func() {
			if r := recover(); r != nil {
				s.log.Error().Str("job", job).Str("panic", fmt.Sprintf("%T", r)).Bytes("stack", debug.Stack()).Msg("scheduled run panicked")
			}
		}()
		start := time.Now()
		at := scheduledTime(s.prev(job), start, sched)
		if !s.begin(job, at) {
			s.log.Info().Str("job", job).Time("scheduled_at", at).Msg("scheduled run skipped: the previous run is still going")
			return
		}
		defer s.end(job)
		if err := s.wait(job, at); err != nil {
			return // stopping
		}
		ctx := WithScheduledAt(s.ctx, at)
		s.log.Info().Str("job", job).Time("scheduled_at", at).Msg("scheduled run starting")
		err := s.run(ctx, job)
		if errors.Is(err, ErrRunClaimed) {
			s.log.Info().Str("job", job).Time("scheduled_at", at).Msg("scheduled run already claimed (by another replica, or a repeated hour): skipped")
			return
		}
		if err != nil && s.stoppedBy(err) {
			s.log.Warn().Str("job", job).Dur("took", time.Since(start)).Msg(MsgStoppedByShutdown)
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

// MsgStoppedByShutdown is logged, at warn level, for a scheduled run that
// Stop cancelled (the daemon's SIGTERM or Ctrl-C): a graceful stop is not
// a failure that needs a person. The next run goes on from there: the
// state of each batch written is committed even when the run is cancelled,
// and the read cursor moves only when a run completes, so the next run
// reads again what this one had not finished.
const MsgStoppedByShutdown = "run stopped by shutdown; the next run goes on from where it stopped"

// stoppedBy reports whether a run's error is Stop's cancellation: the
// scheduler is stopping and the run ended with the context's error. A run
// that failed otherwise while the scheduler stops is still a failure.
func (s *Scheduler) stoppedBy(err error) bool {
	return s.ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// begin records job's firing at at and marks it running; false when its
// previous run is still going (the firing is skipped).
func (s *Scheduler) begin(job string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if at.After(s.fired[job]) {
		s.fired[job] = at
	}
	if s.running[job] {
		return false
	}
	s.running[job] = true
	return true
}

// end marks job's run over.
func (s *Scheduler) end(job string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[job] = false
	s.notify()
}

// notify wakes the runs waiting; callers hold s.mu.
func (s *Scheduler) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait waits, for job's firing at at, until the jobs it runs after that
// are due at at too have handled that firing and have no run going. It
// returns the scheduler's context's error when it stops first.
func (s *Scheduler) wait(job string, at time.Time) error {
	deps := s.dueBefore(job, at)
	if len(deps) == 0 {
		return nil
	}
	logged := false
	for {
		s.mu.Lock()
		var waiting []string
		for _, d := range deps {
			if s.fired[d].Before(at) || s.running[d] {
				waiting = append(waiting, d)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if len(waiting) == 0 {
			return nil
		}
		if !logged {
			s.log.Info().Str("job", job).Strs("after", waiting).Time("scheduled_at", at).Msg("scheduled run waits for the jobs writing what its lookups search")
			logged = true
		}
		select {
		case <-changed:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

// dueBefore returns the scheduled jobs that job runs after and that are
// due at at too. A job that runs after job itself (a cycle, which
// validate refuses) is not waited for: two runs waiting for each other
// would wait forever.
func (s *Scheduler) dueBefore(job string, at time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.after == nil {
		return nil
	}
	var out []string
	for _, d := range s.after(job) {
		sched, ok := s.scheds[d]
		if !ok || d == job || s.reaches(d, job, map[string]bool{}) {
			continue
		}
		if next := cronSchedule(sched).Next(at.Add(-time.Second)); next.Equal(at) {
			out = append(out, d)
		}
	}
	return out
}

// reaches reports whether from runs after to, directly or through other
// jobs; callers hold s.mu.
func (s *Scheduler) reaches(from, to string, seen map[string]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range s.after(from) {
		if d == to || s.reaches(d, to, seen) {
			return true
		}
	}
	return false
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
