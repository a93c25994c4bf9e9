package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/state"
)

// Counts are a run's totals.
type Counts struct {
	Read      int `json:"read"`
	Creates   int `json:"creates"`
	Updates   int `json:"updates"`
	Deletes   int `json:"deletes"`
	Conflicts int `json:"conflicts"`
	Failures  int `json:"failures"`
	// Unreadable counts rows read without a usable key (their errors are
	// in the run's errors).
	Unreadable int `json:"unreadable"`
	// Unmapped counts cells that did not map (their errors are in the
	// run's errors).
	Unmapped int `json:"unmapped"`
}

// Run is one entry of a job's run history.
type Run struct {
	ID      int64      `json:"id"`
	Job     string     `json:"job"`
	Outcome string     `json:"outcome"` // running, ok, dry_run, aborted, failed
	Start   *time.Time `json:"start,omitempty"`
	End     *time.Time `json:"end,omitempty"`
	// DurationSeconds is End-Start, for finished runs.
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	Counts          Counts  `json:"counts"`
	APICalls        int     `json:"api_calls"`
	// Error is the run's error message, if it failed or aborted. Messages
	// name jobs, objects, fields and codes, never values.
	Error string `json:"error,omitempty"`
	// Stage is where a failed run stopped: start, login, salesforce,
	// state, source, mapping, plan or sync (the stage of its alert and of
	// casebridge_run_failures_total). Absent for runs that did not fail
	// and for failed runs whose stage is not known.
	Stage string `json:"stage,omitempty"`
	// ErrorsURL lists the run's per-record errors.
	ErrorsURL string `json:"errors_url"`
}

// Job is a configured job as GET /api/v1/jobs shows it.
type Job struct {
	Name string `json:"name"`
	// Schedule is the schedule as configured; empty for jobs run only by
	// hand.
	Schedule string     `json:"schedule,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	// Running is true while a run started by this process is in progress
	// (another replica's runs show as a last run with outcome running).
	Running       bool       `json:"running"`
	LastRun       *Run       `json:"last_run"`
	OpenConflicts int        `json:"open_conflicts"`
	Children      []ChildJob `json:"children,omitempty"`
	Links         JobLinks   `json:"links"`
}

// ChildJob is a child member of a job ("th_cases/stipend"), which has its
// own run history and conflict queue.
type ChildJob struct {
	Name    string `json:"name"`
	LastRun *Run   `json:"last_run"`
}

// JobLinks are the URLs of a job's resources.
type JobLinks struct {
	Runs      string `json:"runs"`
	Run       string `json:"run"` // POST
	Conflicts string `json:"conflicts"`
}

// JobList is the body of GET /api/v1/jobs.
type JobList struct {
	Jobs []Job `json:"jobs"`
}

// RunList is the body of GET /api/v1/jobs/{job}/runs.
type RunList struct {
	Job  string `json:"job"`
	Runs []Run  `json:"runs"`
}

// RecordError is one per-record error of a run: which record and field
// failed with which code. Never a value.
type RecordError struct {
	Key     string     `json:"key"`
	Field   string     `json:"field,omitempty"`
	Code    string     `json:"code"`
	Message string     `json:"message"`
	At      *time.Time `json:"at,omitempty"`
}

// ErrorList is the body of GET /api/v1/jobs/{job}/runs/{id}/errors.
type ErrorList struct {
	Job    string        `json:"job"`
	RunID  int64         `json:"run_id"`
	Errors []RecordError `json:"errors"`
}

// Conflict is an entry of a job's manual conflict queue. Fingerprints are
// not shown: they are pseudonymous data (doc/architecture.md §10).
type Conflict struct {
	Job    string     `json:"job"`
	Key    string     `json:"key"`
	Field  string     `json:"field"`
	Status string     `json:"status"` // open, or resolved (applied at the next run)
	Opened *time.Time `json:"opened,omitempty"`
	// Resolution is the winning side once resolved: salesforce or local.
	Resolution string     `json:"resolution,omitempty"`
	Resolved   *time.Time `json:"resolved,omitempty"`
}

// ConflictList is the body of GET /api/v1/conflicts.
type ConflictList struct {
	Conflicts []Conflict `json:"conflicts"`
}

// ResolveRequest is the body of POST /api/v1/conflicts/resolve.
type ResolveRequest struct {
	Job   string `json:"job"`
	Key   string `json:"key"`
	Field string `json:"field"`
	Side  string `json:"side"` // salesforce or local
}

// ResolveResponse answers a resolution.
type ResolveResponse struct {
	Job      string    `json:"job"`
	Key      string    `json:"key"`
	Field    string    `json:"field"`
	Side     string    `json:"side"`
	Resolved time.Time `json:"resolved"`
	// Note says when the resolution takes effect.
	Note string `json:"note"`
}

// Check is one readiness check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Readiness is the body of GET /readyz.
type Readiness struct {
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks"`
}

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func jobPath(job string) string { return "/api/v1/jobs/" + url.PathEscape(job) }

func toRun(r state.Run) Run {
	out := Run{
		ID: r.ID, Job: r.Job, Outcome: string(r.Outcome),
		Start: timePtr(r.Start), End: timePtr(r.End),
		Counts: Counts{
			Read: r.Counts.Read, Creates: r.Counts.Creates, Updates: r.Counts.Updates,
			Deletes: r.Counts.Deletes, Conflicts: r.Counts.Conflicts, Failures: r.Counts.Failures,
			Unreadable: r.Counts.Unreadable, Unmapped: r.Counts.Unmapped,
		},
		APICalls:  r.APICalls,
		Error:     r.Error,
		Stage:     r.Stage,
		ErrorsURL: jobPath(r.Job) + "/runs/" + strconv.FormatInt(r.ID, 10) + "/errors",
	}
	if !r.End.IsZero() && !r.Start.IsZero() && r.End.After(r.Start) {
		out.DurationSeconds = r.End.Sub(r.Start).Seconds()
	}
	return out
}

// members returns a configured job's state job names: the job itself, then
// each child as "job/child" (the names the engine keeps their state under).
func members(j *config.Job) []string {
	out := []string{j.Name}
	for _, c := range j.Children {
		out = append(out, j.Name+"/"+c.Name)
	}
	return out
}

// known reports whether name is a configured job or a child of one.
func (s *Server) known(name string) bool {
	parent, _, _ := strings.Cut(name, "/")
	j, ok := s.cfg.Jobs[parent]
	if !ok {
		return false
	}
	for _, m := range members(j) {
		if m == name {
			return true
		}
	}
	return false
}

// jobParam returns the {job} path value if it names a known job, and
// answers 404 otherwise.
func (s *Server) jobParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("job")
	if !s.known(name) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q in the configuration", name))
		return "", false
	}
	return name, true
}

func (s *Server) storeCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, s.opts.StoreTimeout)
}

func (s *Server) lastRun(ctx context.Context, job string) (*Run, error) {
	runs, err := s.store.Runs(ctx, job, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	r := toRun(runs[0])
	return &r, nil
}

func (s *Server) openConflicts(ctx context.Context, j *config.Job) (int, error) {
	n := 0
	for _, m := range members(j) {
		cs, err := s.store.Conflicts(ctx, m)
		if err != nil {
			return 0, err
		}
		for _, c := range cs {
			if c.Resolution == "" {
				n++
			}
		}
	}
	return n, nil
}

// job builds the view of one configured job.
func (s *Server) job(ctx context.Context, j *config.Job) (Job, error) {
	out := Job{
		Name:     j.Name,
		Schedule: j.Schedule.Spec,
		Running:  s.isRunning(j.Name),
		Links: JobLinks{
			Runs:      jobPath(j.Name) + "/runs",
			Run:       jobPath(j.Name) + "/run",
			Conflicts: "/api/v1/conflicts?job=" + url.QueryEscape(j.Name),
		},
	}
	if s.opts.NextRun != nil && !j.Schedule.IsZero() {
		out.NextRun = timePtr(s.opts.NextRun(j.Name))
	}
	var err error
	if out.LastRun, err = s.lastRun(ctx, j.Name); err != nil {
		return out, err
	}
	for _, m := range members(j)[1:] {
		c := ChildJob{Name: m}
		if c.LastRun, err = s.lastRun(ctx, m); err != nil {
			return out, err
		}
		out.Children = append(out.Children, c)
	}
	if out.OpenConflicts, err = s.openConflicts(ctx, j); err != nil {
		return out, err
	}
	return out, nil
}

func (s *Server) jobs(ctx context.Context) ([]Job, error) {
	out := make([]Job, 0, len(s.cfg.Jobs))
	for _, name := range s.cfg.JobNames() {
		j, err := s.job(ctx, s.cfg.Jobs[name])
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// storeFailed answers a state store failure. The store's message stays in
// the log (it names tables, not values); the client gets a fixed one.
func (s *Server) storeFailed(w http.ResponseWriter, what string, err error) {
	s.log.Error().Err(err).Str("what", what).Msg("admin: state store query failed")
	writeError(w, http.StatusServiceUnavailable, "the state store did not answer ("+what+")")
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	jobs, err := s.jobs(ctx)
	if err != nil {
		s.storeFailed(w, "jobs", err)
		return
	}
	writeJSON(w, http.StatusOK, JobList{Jobs: jobs})
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("job")
	j, ok := s.cfg.Jobs[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q in the configuration", name))
		return
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	out, err := s.job(ctx, j)
	if err != nil {
		s.storeFailed(w, "job", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

const (
	defaultRunLimit = 20
	maxRunLimit     = 500
)

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	job, ok := s.jobParam(w, r)
	if !ok {
		return
	}
	limit := defaultRunLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 1 to %d", maxRunLimit))
			return
		}
		limit = n
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	runs, err := s.store.Runs(ctx, job, limit)
	if err != nil {
		s.storeFailed(w, "runs", err)
		return
	}
	out := RunList{Job: job, Runs: make([]Run, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, toRun(run))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) runErrors(w http.ResponseWriter, r *http.Request) {
	job, ok := s.jobParam(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "a run id is a positive whole number (see the job's runs)")
		return
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	errs, err := s.store.Errors(ctx, job, id)
	if err != nil {
		s.storeFailed(w, "errors", err)
		return
	}
	out := ErrorList{Job: job, RunID: id, Errors: make([]RecordError, 0, len(errs))}
	for _, e := range errs {
		out.Errors = append(out.Errors, RecordError{Key: e.Key, Field: e.Field, Code: e.Code, Message: e.Message, At: timePtr(e.At)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listConflicts(w http.ResponseWriter, r *http.Request) {
	var names []string
	if job := r.URL.Query().Get("job"); job != "" {
		if !s.known(job) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q in the configuration", job))
			return
		}
		if j, ok := s.cfg.Jobs[job]; ok {
			names = members(j) // a parent's queue includes its children's
		} else {
			names = []string{job}
		}
	} else {
		for _, n := range s.cfg.JobNames() {
			names = append(names, members(s.cfg.Jobs[n])...)
		}
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	out := ConflictList{Conflicts: []Conflict{}}
	for _, job := range names {
		cs, err := s.store.Conflicts(ctx, job)
		if err != nil {
			s.storeFailed(w, "conflicts", err)
			return
		}
		for _, c := range cs {
			v := Conflict{Job: job, Key: c.Key, Field: c.Field, Status: "open", Opened: timePtr(c.Opened)}
			if c.Resolution != "" {
				v.Status, v.Resolution, v.Resolved = "resolved", string(c.Resolution), timePtr(c.Resolved)
			}
			out.Conflicts = append(out.Conflicts, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) resolveConflict(w http.ResponseWriter, r *http.Request) {
	var req ResolveRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, `body must be a JSON object {"job","key","field","side"}`)
		return
	}
	switch {
	case req.Job == "" || req.Key == "" || req.Field == "":
		writeError(w, http.StatusBadRequest, "job, key and field are required")
		return
	case !s.known(req.Job):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q in the configuration", req.Job))
		return
	}
	side := state.Side(req.Side)
	if side != state.SideSalesforce && side != state.SideLocal {
		writeError(w, http.StatusBadRequest, `side must be "salesforce" or "local"`)
		return
	}
	now := s.opts.Now().UTC()
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	err := s.store.ResolveConflict(ctx, req.Job, req.Key, req.Field, side, now)
	switch {
	case errors.Is(err, state.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such conflict is queued for that job, key and field (see GET /api/v1/conflicts)")
		return
	case err != nil:
		s.storeFailed(w, "resolve", err)
		return
	}
	s.log.Info().Str("job", req.Job).Str("key", req.Key).Str("field", req.Field).Str("side", string(side)).Msg("admin: conflict resolved")
	writeJSON(w, http.StatusOK, ResolveResponse{
		Job: req.Job, Key: req.Key, Field: req.Field, Side: string(side), Resolved: now,
		Note: "the next run of the job writes the winning side's value to the other side",
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

// readyz answers 200 when the state store answers and the last run of each
// scheduled job (and of its children) did not fail fatally; 503 otherwise.
// It reads only the state store: no Salesforce call, ever.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	out := Readiness{Ready: true, Checks: []Check{}}
	add := func(c Check) {
		out.Checks = append(out.Checks, c)
		out.Ready = out.Ready && c.OK
	}
	storeOK := true
	for _, name := range s.cfg.JobNames() {
		j := s.cfg.Jobs[name]
		for _, m := range members(j) {
			runs, err := s.store.Runs(ctx, m, 1)
			if err != nil {
				s.log.Error().Err(err).Msg("admin: readiness: state store query failed")
				storeOK = false
				break
			}
			if j.Schedule.IsZero() {
				continue // run by hand only: its failures are the admin's to see
			}
			c := Check{Name: "job " + m, OK: true, Detail: "no run yet"}
			if len(runs) > 0 {
				last := runs[0]
				c.Detail = fmt.Sprintf("last run %d: %s", last.ID, last.Outcome)
				if last.Stage != "" {
					c.Detail += " at " + last.Stage
				}
				c.OK = last.Outcome != state.OutcomeFailed
			}
			add(c)
		}
		if !storeOK {
			break
		}
	}
	st := Check{Name: "state store", OK: storeOK}
	if !storeOK {
		st.Detail = "did not answer"
	}
	out.Checks = append([]Check{st}, out.Checks...)
	out.Ready = out.Ready && storeOK
	status := http.StatusOK
	if !out.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, out)
}
