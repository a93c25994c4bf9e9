package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// ErrRunning is returned by ScheduledRun when a run of the job started
// through this Server is still in progress.
var ErrRunning = errors.New("admin: a run of this job is already in progress")

// maxTriggers is how many runs started through the API are remembered for
// polling; the oldest finished ones are forgotten first.
const maxTriggers = 100

// RunRequest is the body of POST /api/v1/jobs/{job}/run. Every field is
// optional; an empty body is a normal run.
type RunRequest struct {
	DryRun bool `json:"dry_run"`
	Full   bool `json:"full"`
	Force  bool `json:"force"`
}

// Trigger is a run started through the API: POST /api/v1/jobs/{job}/run
// answers 202 with one, and GET its URL shows how it went.
type Trigger struct {
	ID     int64  `json:"id"`
	Job    string `json:"job"`
	DryRun bool   `json:"dry_run"`
	Full   bool   `json:"full"`
	Force  bool   `json:"force"`
	// Status is running or done.
	Status string `json:"status"`
	// Outcome, once done: ok, dry_run, aborted (a safety brake stopped it
	// before any write), locked (another process holds the job's lease),
	// cancelled or failed.
	Outcome   string     `json:"outcome,omitempty"`
	Requested time.Time  `json:"requested"`
	Finished  *time.Time `json:"finished,omitempty"`
	// RunID is the run's id in the job's history, once known.
	RunID  int64   `json:"run_id,omitempty"`
	Counts *Counts `json:"counts,omitempty"`
	// Planned counts the writes the plan held (for a dry run, what would
	// have been written).
	Planned       *int   `json:"planned,omitempty"`
	MappingErrors int    `json:"mapping_errors"`
	Error         string `json:"error,omitempty"`
	URL           string `json:"url"`
}

func (s *Server) isRunning(job string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[job]
}

// claim marks job as running; false if it already is.
func (s *Server) claim(job string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[job] {
		return false
	}
	s.running[job] = true
	return true
}

func (s *Server) release(job string) {
	s.mu.Lock()
	delete(s.running, job)
	s.mu.Unlock()
}

// ScheduledRun runs job once with default options as the daemon's
// scheduler does (it has the signature of schedules.RunFunc), and records
// it in the metrics. A run of the job started through the API and still in
// progress makes it return ErrRunning at once; while it runs, the API
// answers 409 to a run request for the job. Options.Run must be set.
//
// A run that another replica already claimed (the runner returns
// schedules.ErrRunClaimed for the scheduled time in ctx) is logged and
// not counted: the replica that ran it counts it. The error is returned
// for the scheduler, which logs the skip.
func (s *Server) ScheduledRun(ctx context.Context, job string) error {
	if s.opts.Run == nil {
		return errors.New("admin: Options.Run is not set")
	}
	if !s.claim(job) {
		return fmt.Errorf("job %s: %w", job, ErrRunning)
	}
	defer s.release(job)
	start := time.Now()
	res, err := s.opts.Run(ctx, job, schedules.RunOptions{})
	took := time.Since(start)
	if errors.Is(err, schedules.ErrRunClaimed) {
		ev := s.log.Info().Str("job", job)
		if at, ok := schedules.ScheduledAt(ctx); ok {
			ev = ev.Time("scheduled_at", at)
		}
		// Another replica's, or (the daemon's reload) a run of the job
		// under the previous configuration still going: the error says.
		ev.Err(err).Msg("admin: scheduled run already claimed: skipped")
		return err
	}
	s.observe(job, res, err, took, false)
	s.logRun(job, 0, res, err, took, false)
	return err
}

func (s *Server) startRun(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("job")
	if _, ok := s.cfg.Jobs[name]; !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q in the configuration", name))
		return
	}
	if s.opts.Run == nil {
		writeError(w, http.StatusNotImplemented, "this server cannot run jobs")
		return
	}
	var req RunRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		writeError(w, http.StatusBadRequest, `body must be empty or a JSON object {"dry_run":bool,"full":bool,"force":bool}`)
		return
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "the daemon is stopping")
		return
	case s.running[name]:
		s.mu.Unlock()
		writeError(w, http.StatusConflict, fmt.Sprintf("a run of job %s is already in progress", name))
		return
	}
	s.running[name] = true
	s.wg.Add(1)
	t := s.newTriggerLocked(name, req)
	s.mu.Unlock()
	s.log.Info().Str("job", name).Int64("trigger", t.ID).Bool("dry_run", req.DryRun).
		Bool("full", req.Full).Bool("force", req.Force).Msg("admin: run requested")
	go s.runTrigger(t, req)
	w.Header().Set("Location", t.URL)
	writeJSON(w, http.StatusAccepted, s.snapshot(t))
}

// newTriggerLocked records a new trigger; s.mu is held.
func (s *Server) newTriggerLocked(job string, req RunRequest) *Trigger {
	s.nextID++
	t := &Trigger{
		ID: s.nextID, Job: job, DryRun: req.DryRun, Full: req.Full, Force: req.Force,
		Status: "running", Requested: s.opts.Now().UTC(),
	}
	t.URL = jobPath(job) + "/triggers/" + strconv.FormatInt(t.ID, 10)
	s.triggers[t.ID] = t
	s.order = append(s.order, t.ID)
	// Forget the oldest finished triggers beyond the bound.
	for i := 0; len(s.triggers) > maxTriggers && i < len(s.order); {
		id := s.order[i]
		if s.triggers[id].Status == "done" {
			delete(s.triggers, id)
			s.order = append(s.order[:i], s.order[i+1:]...)
			continue
		}
		i++
	}
	return t
}

func (s *Server) snapshot(t *Trigger) Trigger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *t
}

func (s *Server) runTrigger(t *Trigger, req RunRequest) {
	defer s.wg.Done()
	defer s.release(t.Job)
	ctx := s.ctx
	if s.opts.RunTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.RunTimeout)
		defer cancel()
	}
	start := time.Now()
	var (
		res *schedules.JobResult
		err error
	)
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("job %s: run panicked (%T)", t.Job, p)
			}
		}()
		res, err = s.opts.Run(ctx, t.Job, schedules.RunOptions{DryRun: req.DryRun, Full: req.Full, Force: req.Force})
	}()
	took := time.Since(start)
	s.observe(t.Job, res, err, took, req.DryRun)

	s.mu.Lock()
	t.Status = "done"
	t.Outcome = outcomeOf(err, req.DryRun)
	t.Finished = timePtr(s.opts.Now())
	if err != nil {
		t.Error = err.Error()
	}
	if res != nil {
		t.MappingErrors = len(res.MappingErrors)
		if rr := res.Result; rr != nil {
			t.RunID = rr.RunID
			c := sumCounts(rr)
			t.Counts = &c
			if rr.Plan != nil {
				n := plannedWrites(rr)
				t.Planned = &n
			}
		}
	}
	s.mu.Unlock()
	s.logRun(t.Job, t.ID, res, err, took, req.DryRun)
}

// logRun logs a run's summary: job, run id, outcome and counts, never a
// key or a value.
func (s *Server) logRun(job string, trigger int64, res *schedules.JobResult, err error, took time.Duration, dryRun bool) {
	ev := s.log.Info()
	switch {
	case errors.Is(err, context.Canceled):
		// Stopped (the daemon's graceful stop, Close): not a failure.
		ev = s.log.Warn().Err(err)
	case err != nil:
		ev = s.log.Error().Err(err)
	}
	ev = ev.Str("job", job).Str("outcome", outcomeOf(err, dryRun)).Dur("took", took)
	if trigger != 0 {
		ev = ev.Int64("trigger", trigger)
	}
	if res != nil {
		if r := res.Result; r != nil {
			c := sumCounts(r)
			ev = ev.Int64("run", r.RunID).Int("read", c.Read).Int("created", c.Creates).Int("updated", c.Updates).
				Int("deleted", c.Deletes).Int("conflicts", c.Conflicts).Int("failed", c.Failures)
		}
		ev = ev.Int("not_mapped", len(res.MappingErrors))
	}
	ev.Msg("admin: run done")
}

func (s *Server) getTrigger(w http.ResponseWriter, r *http.Request) {
	job, ok := s.jobParam(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "a trigger id is a whole number")
		return
	}
	s.mu.Lock()
	t, ok := s.triggers[id]
	var v Trigger
	if ok {
		v = *t
	}
	s.mu.Unlock()
	if !ok || v.Job != job {
		writeError(w, http.StatusNotFound, "no such run request (only the last 100 are kept, and none across restarts; see the job's runs)")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// outcomeOf classifies a run's error into the outcome label.
func outcomeOf(err error, dryRun bool) string {
	switch {
	case err == nil && dryRun:
		return string(state.OutcomeDryRun)
	case err == nil:
		return string(state.OutcomeOK)
	case errors.Is(err, reconcile.ErrSafetyAbort):
		return string(state.OutcomeAborted)
	case errors.Is(err, state.ErrLocked):
		return "locked"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	}
	return string(state.OutcomeFailed)
}

// walk calls fn for a result and each of its children's, depth first.
func walk(r *reconcile.Result, fn func(*reconcile.Result)) {
	if r == nil {
		return
	}
	fn(r)
	for _, c := range r.Children {
		walk(c, fn)
	}
}

// sumCounts adds up the counts of a result and its children.
func sumCounts(r *reconcile.Result) Counts {
	var c Counts
	walk(r, func(r *reconcile.Result) {
		c.Read += r.Counts.Read
		c.Creates += r.Counts.Creates
		c.Updates += r.Counts.Updates
		c.Deletes += r.Counts.Deletes
		c.Conflicts += r.Counts.Conflicts
		c.Failures += r.Counts.Failures
	})
	return c
}

func plannedWrites(r *reconcile.Result) int {
	n := 0
	walk(r, func(r *reconcile.Result) {
		if r.Plan != nil {
			n += r.Plan.NumWrites()
		}
	})
	return n
}
