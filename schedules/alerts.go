package schedules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/alert"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// The configuration's alerts (package alert) are raised here, from the one
// code path every run takes (Runner.Run: the daemon's schedules, the admin
// API's runs by hand, casebridge sync from cron) and from Open, whose
// Salesforce login fails before any run. What was sent is marked in the
// state store (the job's "alerts" cursor), so that the runs of separate
// processes de-duplicate against each other.

// alertsCursor is the cursor holding a job's alert marks.
const alertsCursor = "alerts"

// storeMarks keeps alert marks in the state store.
type storeMarks struct{ st state.Store }

func (s storeMarks) LoadMarks(ctx context.Context, job string) (alert.Marks, error) {
	v, err := s.st.Cursor(ctx, job, alertsCursor)
	if err != nil {
		return alert.Marks{}, err
	}
	return alert.DecodeMarks(v)
}

func (s storeMarks) SaveMarks(ctx context.Context, job string, m alert.Marks) error {
	v, err := alert.EncodeMarks(m)
	if err != nil {
		return err
	}
	return s.st.Update(ctx, job, func(tx state.Tx) error { return tx.SetCursor(alertsCursor, v) })
}

// notifier returns the Runner's alert notifier, nil when the configuration
// has no alerts.
func (r *Runner) notifier() *alert.Notifier {
	r.alertsOnce.Do(func() {
		if r.Config == nil || len(r.Config.Alerts) == 0 {
			return
		}
		var marks alert.MarkStore
		if r.Store != nil {
			marks = storeMarks{r.Store}
		}
		r.alerts = alert.New(r.Config.Alerts, r.Log, alert.Options{Marks: marks, Now: r.Now})
	})
	return r.alerts
}

// wantsAlert reports whether any alert target hears of kind.
func wantsAlert(cfg *config.Config, kind config.AlertKind) bool {
	for _, a := range cfg.Alerts {
		if a.Wants(kind) {
			return true
		}
	}
	return false
}

// alertRun tells the alert targets what a run of job came to (Run defers
// it). Dry runs, runs another process claimed or holds, cancelled runs and
// a lease lost to another replica raise nothing. runID is the history's id
// of a run that failed with no result (before the engine had one).
func (r *Runner) alertRun(ctx context.Context, job string, opts RunOptions, res *JobResult, runErr error, runID int64) {
	n := r.notifier()
	if n == nil || opts.DryRun {
		return
	}
	switch {
	case errors.Is(runErr, ErrRunClaimed), errors.Is(runErr, state.ErrLocked), errors.Is(runErr, context.Canceled):
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, ok := r.Config.Jobs[job]; !ok {
		return
	}
	rep := r.runReport(ctx, job, res, runErr, runID)
	n.Notify(ctx, rep)
	if runErr == nil {
		// The run logged in and reached the store: a failure of every
		// job (Open's) is over too.
		n.Notify(ctx, alert.Report{Clear: []alert.Kind{alert.KindFailure}})
	}
}

// runReport builds the alert report of one run.
func (r *Runner) runReport(ctx context.Context, job string, res *JobResult, runErr error, runID int64) alert.Report {
	now := r.now()
	ev := alert.Event{Job: job, RunID: runID, At: now, Outcome: string(outcomeOf(runErr))}
	var result *reconcile.Result
	if res != nil {
		result = res.Result
	}
	if result != nil {
		ev.RunID = result.RunID
	}
	codes := runCounts(&ev.Counts, res)
	rep := alert.Report{Job: job}
	stopped := errors.Is(runErr, connector.ErrStop)
	lockedOut := errors.Is(runErr, reconcile.ErrLockedOut)
	if runErr != nil && !lockedOut && !stopped && wantsAlert(r.Config, config.AlertLockout) {
		// A run that locked its job out fails with the critical error;
		// the lockout is the store's to say.
		if _, ok, err := r.Store.Lockout(ctx, job); err == nil && ok {
			lockedOut = true
		}
	}
	switch {
	case runErr == nil:
		rep.Clear = append(rep.Clear, alert.KindFailure, alert.KindLockout, alert.KindBrake)
	case lockedOut:
		e := ev
		e.Kind, e.Stage, e.Code = alert.KindLockout, "sync", "LOCKED_OUT"
		if errors.Is(runErr, reconcile.ErrLockedOut) {
			e.Stage = "start" // refused: locked out by an earlier run
		}
		rep.Events = append(rep.Events, e)
	case errors.Is(runErr, reconcile.ErrSafetyAbort):
		e := ev
		e.Kind, e.Stage, e.Code = alert.KindBrake, "plan", "SAFETY_ABORT"
		if result != nil && result.Plan != nil {
			e.Counts.Deleted = result.Plan.Count(reconcile.OpDelete) // what it would have deleted
		}
		rep.Events = append(rep.Events, e)
	case stopped:
		// The budget, the org's daily limit or an outage: the run resumes
		// next time; the metrics and the history show it.
	case errors.Is(runErr, state.ErrLeaseLost):
		// Fenced: another replica took the job over and runs it (a lost
		// lease that locked the job out is the lockout above).
	default:
		e := ev
		e.Kind = alert.KindFailure
		e.Stage, e.Code = classify(runErr, "sync")
		rep.Events = append(rep.Events, e)
	}
	if result != nil {
		if ev.Counts.Findings() > 0 {
			e := ev
			e.Kind, e.Codes = alert.KindFindings, alert.CountCodes(codes)
			rep.Events = append(rep.Events, e)
		} else if runErr == nil {
			rep.Clear = append(rep.Clear, alert.KindFindings)
		}
	}
	if wantsAlert(r.Config, config.AlertConflicts) {
		if open, err := r.openConflicts(ctx, job); err == nil {
			if open > 0 {
				e := ev
				e.Kind, e.Counts = alert.KindConflicts, alert.Counts{Conflicts: open}
				rep.Events = append(rep.Events, e)
			} else {
				rep.Clear = append(rep.Clear, alert.KindConflicts)
			}
		}
	}
	return rep
}

// runCounts fills c with a run's counts (children included) and returns
// the codes of its findings, one per finding.
func runCounts(c *alert.Counts, res *JobResult) []string {
	if res == nil {
		return nil
	}
	var codes []string
	var walk func(*reconcile.Result)
	walk = func(rr *reconcile.Result) {
		if rr == nil {
			return
		}
		c.Read += rr.Counts.Read
		c.Created += rr.Counts.Creates
		c.Updated += rr.Counts.Updates
		c.Deleted += rr.Counts.Deletes
		c.Failed += len(rr.Failed)
		for _, f := range rr.Failed {
			codes = append(codes, f.Code)
		}
		if p := rr.Plan; p != nil {
			for _, n := range p.Notes {
				switch {
				case n.Kind == reconcile.NoteUnknown && !strings.Contains(n.Detail, string(connector.CodeNotProcessed)):
					// (A child waiting for its parent is not a finding.)
					c.Unknown++
					codes = append(codes, "UNKNOWN")
				case n.Kind == reconcile.NoteAmbiguous:
					c.Ambiguous++
					codes = append(codes, string(connector.CodeAmbiguousMatch))
				}
			}
		}
		for _, ch := range rr.Children {
			walk(ch)
		}
	}
	walk(res.Result)
	for _, e := range res.MappingErrors {
		if e != nil {
			c.Unmapped++
			codes = append(codes, string(e.Code))
		}
	}
	for _, e := range res.Unreadable {
		c.Unreadable++
		codes = append(codes, string(cmp.Or(connector.CodeOf(e), connector.CodeRowUnreadable)))
	}
	return codes
}

// openConflicts counts the job's open conflicts, its children's included.
func (r *Runner) openConflicts(ctx context.Context, job string) (int, error) {
	members := []string{job}
	if j := r.Config.Jobs[job]; j != nil {
		for _, c := range j.Children {
			if c != nil {
				members = append(members, job+"/"+c.Name)
			}
		}
	}
	n := 0
	for _, m := range members {
		cs, err := r.Store.Conflicts(ctx, m)
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

// outcomeOf is a run's outcome as the history records it.
func outcomeOf(err error) state.Outcome {
	switch {
	case err == nil:
		return state.OutcomeOK
	case errors.Is(err, reconcile.ErrSafetyAbort):
		return state.OutcomeAborted
	case errors.Is(err, connector.ErrStop):
		return state.OutcomeStopped
	}
	return state.OutcomeFailed
}

// FailureStage names the stage at which a failed run stopped and why, as
// a stage and a code, the way its failure alert does (classify): a job
// locked out by an earlier run is refused at the start, a safety brake
// stops the plan. The metrics label failed runs with them (admin), so the
// stage an alert names and the metrics' agree. Codes are error codes,
// never text of a message.
func FailureStage(err error) (stage, code string) {
	switch {
	case errors.Is(err, reconcile.ErrLockedOut):
		return "start", "LOCKED_OUT"
	case errors.Is(err, reconcile.ErrSafetyAbort):
		return "plan", "SAFETY_ABORT"
	}
	return classify(err, "sync")
}

// classify names where a run's error stopped it and why, as a stage and
// a code (alert.Event): from the error's types where they say, else from
// the runner's wording ("source NAME: ..."), else def and the connector
// code it carries, if any. Never from a message's text beyond that.
func classify(err error, def string) (stage, code string) {
	var (
		api     *salesforce.APIError
		cfgErrs config.Errors
		srvErr  *sqldb.ServerError
		unavErr *sqldb.UnavailableError
		pathErr *fs.PathError
		netErr  net.Error
	)
	msg := err.Error()
	switch {
	case errors.Is(err, salesforce.ErrAuth):
		return "login", "AUTH_FAILED"
	case errors.Is(err, state.ErrKeyMismatch):
		return "start", "FINGERPRINT_KEY_MISMATCH"
	case errors.As(err, &api):
		if c := alert.Code(api.Code); c != "" {
			return "salesforce", c
		}
		return "salesforce", fmt.Sprintf("HTTP_%d", api.Status)
	case errors.Is(err, salesforce.ErrMalformedResponse):
		return "salesforce", "MALFORMED_RESPONSE"
	case errors.As(err, &cfgErrs), errors.Is(err, reconcile.ErrInvalidJob):
		return "mapping", "MAPPING_INVALID"
	case errors.Is(err, connector.ErrObjectNotFound):
		return "mapping", "OBJECT_NOT_FOUND"
	case errors.Is(err, connector.ErrFieldNotFound):
		return "mapping", "FIELD_NOT_FOUND"
	case errors.As(err, &unavErr):
		return "source", "DATABASE_UNAVAILABLE"
	case errors.As(err, &srvErr):
		return "source", alert.Code(string(cmp.Or(srvErr.Code, "DATABASE_ERROR")))
	case errors.As(err, &pathErr) && errors.Is(err, fs.ErrNotExist):
		return stageOr(msg, "source"), "FILE_NOT_FOUND"
	case errors.As(err, &pathErr) && errors.Is(err, fs.ErrPermission):
		return stageOr(msg, "source"), "FILE_NOT_READABLE"
	case strings.Contains(msg, ": source "):
		return "source", alert.Code(cmp.Or(string(connector.CodeOf(err)), "SOURCE_ERROR"))
	case strings.Contains(msg, ": state: ") || strings.HasPrefix(msg, "state: "):
		return "state", "STATE_STORE_ERROR"
	case errors.As(err, &netErr):
		return def, "UNREACHABLE" // a server that did not answer (DNS, refused, timed out)
	}
	return def, alert.Code(cmp.Or(string(connector.CodeOf(err)), "ERROR"))
}

// stageOr is the stage of a file's error: the fingerprint key's file is
// the start's, any other file the source's.
func stageOr(msg, def string) string {
	if strings.Contains(msg, "fingerprint") {
		return "start"
	}
	return def
}

// alertOpen tells the alert targets that a Runner could not open: the
// state store (st nil) or the Salesforce login failed, so no job can run.
// The event is about every job (Job ""). With the store open, its marks
// de-duplicate; without it, only this process's do (a cron job's sync
// then alerts at every run, within max_per_hour).
func alertOpen(ctx context.Context, cfg *config.Config, log zerolog.Logger, st state.Store, cause error) {
	if len(cfg.Alerts) == 0 {
		return
	}
	var marks alert.MarkStore
	ev := alert.Event{Kind: alert.KindFailure, Outcome: string(state.OutcomeFailed), At: time.Now()}
	if st != nil {
		marks = storeMarks{st}
		ev.Stage, ev.Code = classify(cause, "login")
		if ev.Stage == "salesforce" {
			ev.Stage = "login" // the login's requests
		}
	} else {
		ev.Stage, ev.Code = "state", "STATE_STORE_UNAVAILABLE"
	}
	alert.New(cfg.Alerts, log, alert.Options{Marks: marks}).Notify(ctx, alert.Report{Events: []alert.Event{ev}})
}
