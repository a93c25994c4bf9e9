package reconcile

import (
	"context"
	"fmt"

	"github.com/casebridge/casebridge/state"
)

// A lockout is recorded always (README.md, "Lockout"). A run locks its job
// out because its state commit failed, or because it lost the lease while
// creates that are not idempotent (CreateIdempotence) were unrecorded. A
// state store that refuses a commit often refuses the lockout's insert too
// (it is down, or its disk is full). Such a lockout is kept in a journal outside
// the store: the job's next run, in this process or another one on this
// host, records it in the store before it reads anything, and refuses to
// start while the store cannot take it. Replicas on other hosts are kept
// off by the lease, which the failed run could not release either: a store
// back before the lease expires records the lockout before any of them can
// take the job.

// LockoutJournal keeps lockouts that the state store could not record.
// Entries hold a job name, a cause, a run id and a time: never a value.
type LockoutJournal interface {
	// Keep notes l durably (it survives the process).
	Keep(l state.Lockout) error
	// Kept returns the lockouts kept for job, oldest first.
	Kept(job string) ([]state.Lockout, error)
	// Forget drops the lockouts kept for job (they are in the store now).
	Forget(job string) error
}

// keep puts l, which the store refused with lerr, in the journal, and
// returns the run's error saying where the lockout is.
func (e *Engine) keep(l state.Lockout, err, lerr error) error {
	if e.Journal == nil {
		return fmt.Errorf("%w (%s; recording the lockout failed too: %v)", err, l.Cause, lerr)
	}
	if jerr := e.Journal.Keep(l); jerr != nil {
		return fmt.Errorf("%w (%s; recording the lockout failed too: %v; keeping it outside the store failed: %v)", err, l.Cause, lerr, jerr)
	}
	return fmt.Errorf("%w (%s: job %s is locked out until a resync run; the state store could not record it (%v), "+
		"so it is kept outside the store and the job's next run records it first)", err, l.Cause, l.Job, lerr)
}

// recordKept records the lockouts kept for job in the store; while the
// store cannot take them, the job does not run.
func (e *Engine) recordKept(ctx context.Context, job string) error {
	if e.Journal == nil {
		return nil
	}
	kept, err := e.Journal.Kept(job)
	if err != nil {
		return fmt.Errorf("job %s: reading the lockouts kept outside the state store: %w", job, err)
	}
	if len(kept) == 0 {
		return nil
	}
	for _, l := range kept {
		if err := e.Store.LockOut(ctx, l); err != nil {
			return fmt.Errorf("job %s: a lockout (%s) is kept outside the state store until the store records it, "+
				"and the store still cannot (%w); the job does not run until it does", job, l.Cause, err)
		}
	}
	return e.Journal.Forget(job)
}
