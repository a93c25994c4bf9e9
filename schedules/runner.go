package schedules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/alert"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// ErrLocked is returned when another run holds the job's lease.
var ErrLocked = state.ErrLocked

// Runner runs a configuration's jobs: the one code path shared by the
// daemon's schedules and the CLI's sync and reconcile commands.
type Runner struct {
	Config *config.Config
	Log    zerolog.Logger
	Store  state.Store
	FP     *reconcile.Fingerprinter
	// Salesforce is the org connector. Open sets it from the
	// configuration; the demo sets the in-process fake org's.
	Salesforce connector.Connector
	// Holder names this process in job leases (host:pid by default).
	Holder string
	// LeaseTTL is how long a job lease lasts between renewals (default the
	// configuration's state.lease, 5m).
	LeaseTTL time.Duration
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Progress, when set, hears of records as a run reads and writes them:
	// side is "salesforce" or "local", op "read" or "write", n how many
	// more. It is called from the goroutines doing the work.
	Progress func(job, side, op string, n int)
	// Hooks are passed to the engine (tests stop runs at its kill points).
	Hooks reconcile.Hooks
	// BulkDrainWait bounds the wait, at the start of a run, for a Bulk API
	// job an earlier run left processing (default 10m); BulkDrainPoll is
	// the first wait between checks (default 2s). See OnBulkJob.
	BulkDrainWait time.Duration
	BulkDrainPoll time.Duration
	// Journal keeps a lockout the state store could not record until it
	// can (reconcile.Engine.Journal); Open sets it beside the store.
	Journal reconcile.LockoutJournal

	bulk    bulkRouter
	closers []func() error
	fpMu    sync.Mutex // guards FP while the first writing run makes the key

	alertsOnce sync.Once       // makes alerts (alerts.go) on first use
	alerts     *alert.Notifier // nil: the configuration has no alerts
}

// RunOptions are the switches of one run.
type RunOptions struct {
	// DryRun plans and stops: nothing is written to either side.
	DryRun bool
	// Full reads Salesforce completely instead of from its cursor.
	Full bool
	// Force overrides the safety brakes (max_delete, match rate, deleting
	// parents with children).
	Force bool
	// Resync re-initialises the job's baselines from both sides under its
	// initial policy, as a first sync (reconcile.RunOptions.Resync): the
	// one run a job locked out after a critical error accepts.
	Resync bool
	// CaptureValues, with DryRun, reads the values of the records the plan
	// would write into JobResult.Values, for a report that shows them.
	CaptureValues bool
}

// JobResult is the outcome of one job run.
type JobResult struct {
	Job string
	// Engine is the job as the engine ran it (objects, fields with their
	// sensitivity classes, children): what a report needs.
	Engine *reconcile.Job
	// Start and End bound the run.
	Start, End time.Time
	Result     *reconcile.Result
	// MappingErrors are the per-field errors of local rows that did not
	// map (value-free; the rows' other fields still synced).
	MappingErrors []*connector.RecordError
	// Unreadable are the errors of rows read without a usable key (an
	// emptied key cell), each a *SideError naming the side: they name
	// file, row and column, never a value.
	// While there are any, records synced before and not seen this run are
	// unknown rather than deleted.
	Unreadable []error
	// Values are the plan's records' values, read for a report when
	// RunOptions.CaptureValues asked for them (dry runs only).
	Values Values
	// Usage is the org's API usage after the run, when known.
	Usage *salesforce.Usage
}

// SideError is an error of one side's read: "salesforce" or "local".
type SideError struct {
	Side string
	Err  error
}

func (e *SideError) Error() string { return e.Err.Error() }
func (e *SideError) Unwrap() error { return e.Err }

// ReadSide returns the side whose read the error came from.
func (e *SideError) ReadSide() string { return e.Side }

// Open prepares a Runner for cfg: the state store, the fingerprint key and
// the Salesforce login. Close releases them.
func Open(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*Runner, error) {
	r := &Runner{Config: cfg, Log: log}
	fp, err := existingFingerprinter(cfg)
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	r.FP = fp // nil: no key file yet; the first run that writes makes it
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		alertOpen(ctx, cfg, log, nil, err)
		return nil, fmt.Errorf("state store: %w", err)
	}
	r.Store = st
	r.Journal = LockoutJournal(cfg)
	r.closers = append(r.closers, st.Close)
	sf, err := OpenSalesforce(ctx, cfg, nil, r.OnBulkJob)
	if err != nil {
		alertOpen(ctx, cfg, log, st, err)
		r.Close()
		return nil, fmt.Errorf("salesforce: %w", err)
	}
	r.Salesforce = sf
	return r, nil
}

// Close releases what Open opened.
func (r *Runner) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	r.closers = nil
	return errors.Join(errs...)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) holder() string {
	if r.Holder != "" {
		return r.Holder
	}
	return state.HolderName()
}

// Run runs the named job once under its lease. A scheduled run (ctx from
// WithScheduledAt) is first claimed in the state store: one already
// claimed returns ErrRunClaimed and does nothing.
func (r *Runner) Run(ctx context.Context, name string, opts RunOptions) (res *JobResult, err error) {
	// The history's id of a run that failed with no result, for its alert.
	var failedRun int64
	defer func() { r.alertRun(ctx, name, opts, res, err, failedRun) }() // whatever stopped it (alerts.go)
	job, ok := r.Config.Jobs[name]
	if !ok {
		return nil, fmt.Errorf("no job %q in %s", name, r.Config.File)
	}
	// The fingerprint key: made by the first run that writes; a dry run
	// before it takes a throwaway one.
	fp, ephemeral, err := r.fingerprinter(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	ctx = context.WithValue(ctx, fpKey{}, runKey{fp, ephemeral})
	// The run's own Salesforce requests are counted from here: its
	// describes and lookups too.
	var calls0 int64
	if u, ok := r.Salesforce.(interface{ Usage() salesforce.Usage }); ok {
		calls0 = u.Usage().Calls
	}
	ctx = context.WithValue(ctx, callsKey{}, calls0)
	if at, ok := ScheduledAt(ctx); ok {
		claimed, err := r.Store.ClaimRun(ctx, name, at, r.holder())
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", name, err)
		}
		if !claimed {
			return nil, fmt.Errorf("job %s: run scheduled at %s: %w", name, at.Format(time.RFC3339), ErrRunClaimed)
		}
	}
	ttl := cmp.Or(r.LeaseTTL, r.Config.State.Lease.Duration, 5*time.Minute)
	token, err := r.Store.Acquire(ctx, name, r.holder(), ttl, r.now())
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	defer r.Store.Release(context.WithoutCancel(ctx), name, token)
	// Runs of the job that a process ended without finishing (killed, the
	// machine stopped) show as failed from now on, not as running forever:
	// under the lease none of them can still be going on.
	if ids, err := r.Store.InterruptRuns(ctx, name, r.now(), interruptedRun); err != nil {
		r.Log.Warn().Str("job", name).Err(err).Msg("could not close the runs a killed process left open")
	} else if len(ids) > 0 {
		r.Log.Warn().Str("job", name).Ints64("runs", ids).Msg("runs left open by a process that ended without finishing them are recorded as failed")
	}
	// Budgets are per run: a count starts from zero, a share is checked
	// against the org's figures of now (salesforce.Connector.StartRun).
	if s, ok := r.Salesforce.(interface {
		StartRun(context.Context) (context.Context, error)
	}); ok {
		if ctx, err = s.StartRun(ctx); err != nil {
			return nil, fmt.Errorf("job %s: %w", name, err)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // renew the lease while the run goes on; a lost lease stops it
		defer wg.Done()
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.Store.Renew(ctx, name, token, ttl, r.now()); err != nil && ctx.Err() == nil {
					r.Log.Error().Str("job", name).Err(err).Msg("job lease lost; stopping the run")
					cancel(state.ErrLeaseLost)
					return
				}
			}
		}
	}()
	defer wg.Wait()
	defer cancel(nil)
	if !opts.DryRun { // a dry run changes nothing, not even a stale bulk job
		if err := r.drainBulkJobs(ctx, name); err != nil {
			return nil, err
		}
	}
	objects := []string{job.Salesforce.Object}
	for _, c := range job.Children {
		objects = append(objects, c.Object)
	}
	r.bulk.start(name, objects)
	start := r.now()
	// (A context of its own: the lease's renewal reads ctx meanwhile.)
	started := new(bool)
	res, err = r.run(context.WithValue(ctx, engineKey{}, started), job, opts, token)
	if ids := r.bulk.stop(name); err == nil {
		r.forgetBulkJobs(ctx, name, ids)
	}
	if err != nil && !errors.Is(err, state.ErrLeaseLost) && errors.Is(context.Cause(ctx), state.ErrLeaseLost) {
		// Stopped by the lease's renewal failing: say so, not "canceled".
		err = fmt.Errorf("%w (another holder runs the job now): %w", state.ErrLeaseLost, err)
	}
	switch {
	case err != nil && !*started:
		failedRun = r.recordFailure(ctx, name, start, err)
	case err != nil && (res == nil || res.Result == nil):
		// The engine recorded the run and failed before it had a result
		// (its describes, the key check): under the lease still held, the
		// job's newest run is that one.
		if runs, rerr := r.Store.Runs(context.WithoutCancel(ctx), name, 1); rerr == nil && len(runs) == 1 && runs[0].Outcome == state.OutcomeFailed {
			failedRun = runs[0].ID
		}
	}
	if err != nil && *started {
		r.recordStage(ctx, job, start, err) // the engine's runs (runstage.go)
	}
	return res, err
}

// interruptedRun is the error of a run closed by InterruptRuns.
const interruptedRun = "interrupted: the process running it ended without finishing it (killed, or its machine stopped); the runs after it read both sides again"

// engineKey carries, in a run's context, whether the engine was started
// (it records its own runs in the history, failed ones included).
type engineKey struct{}

// recordFailure puts a run that failed before the engine started (the
// source would not open, the mapping would not compile against the org,
// a describe failed) in the history, with its reason, so that the history,
// the admin API and the status page show it rather than the run before.
// The reason names files, objects and fields, never a value. It returns
// the run's id (0 if the store could not record it), which its alert names.
func (r *Runner) recordFailure(ctx context.Context, job string, start time.Time, cause error) int64 {
	ctx = context.WithoutCancel(ctx)
	id, err := r.Store.StartRun(ctx, job, start)
	if err != nil {
		return 0 // the state store is down: nothing can record it
	}
	if err := r.Store.FinishRun(ctx, state.Run{ID: id, Job: job, Start: start, End: r.now(), Outcome: state.OutcomeFailed, Error: cause.Error(), Stage: runStage(cause)}); err != nil {
		return 0
	}
	return id
}

// lookupObjects lists the objects a job's lookups search (its own and its
// children's rules), each once.
func lookupObjects(job *config.Job) []string {
	rules := slices.Clone(job.Fields)
	for _, c := range job.Children {
		if c != nil {
			rules = append(rules, c.Fields...)
		}
	}
	var out []string
	for _, f := range rules {
		if f != nil && f.Lookup != nil && f.Lookup.Object != "" && !slices.Contains(out, f.Lookup.Object) {
			out = append(out, f.Lookup.Object)
		}
	}
	return out
}

func (r *Runner) run(ctx context.Context, job *config.Job, opts RunOptions, lease int64) (*JobResult, error) {
	log := r.Log.With().Str("job", job.Name).Logger()
	// Describe once per run, not once per process: a daemon runs for
	// months, and an admin adds fields and picklist values meanwhile.
	if f, ok := r.Salesforce.(interface{ ForgetDescribes() }); ok {
		f.ForgetDescribes()
	}
	objects := map[string]*connector.Object{}
	names := []string{job.Salesforce.Object}
	for _, c := range job.Children {
		names = append(names, c.Object)
	}
	// Every object the run may describe, in one API call (a Composite of
	// describes) rather than one call each: the describes below, and those
	// of lookup targets, then cost nothing. Its failures are left to the
	// describe of the object concerned, which reports them.
	if d, ok := r.Salesforce.(interface {
		DescribeAll(context.Context, []string) error
	}); ok {
		_ = d.DescribeAll(ctx, append(slices.Clone(names), lookupObjects(job)...))
	}
	for _, n := range names {
		if _, done := objects[n]; done {
			continue
		}
		o, err := r.Salesforce.Describe(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("job %s: describe %s: %w", job.Name, n, err)
		}
		objects[n] = o
	}
	// A classified each keys its records by a hash under the run's
	// fingerprint key (eachkeys.go).
	rk, _ := ctx.Value(fpKey{}).(runKey)
	m, err := mapping.CompileWith(job, objects, mapping.CompileOptions{EachKey: eachKey(rk.fp, job.Name)})
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	if err := sameKeys(m, objects); err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	if err := r.checkEachKeys(ctx, job, m); err != nil {
		return nil, err
	}
	local, err := OpenSource(job, m)
	if err != nil {
		return nil, fmt.Errorf("job %s: source %s: %w", job.Name, job.Source.Name, err)
	}
	if c, ok := local.(interface{ Close() error }); ok {
		defer c.Close()
	}

	res := &JobResult{Job: job.Name, Start: r.now()}
	defer func() { res.End = r.now() }()
	var mu sync.Mutex
	view := mapping.NewView(local, m, objects)
	// A table whose key the database generates creates rows through its
	// link column (doc/architecture.md §5.11): the view links records by it.
	view.Link = strings.TrimSpace(job.Source.LinkColumn)
	// Children's parents are written by reference to the parent's key
	// (parents.go): the Salesforce sides of children do it (scopes).
	view.ByReference = canReference(r.Salesforce)
	// A run planned in parts (reconcile.Job.PartSize) maps a row in each
	// of its passes: each cell's error is reported once.
	reported := map[string]bool{}
	view.OnError = func(e *connector.RecordError) {
		mu.Lock()
		defer mu.Unlock()
		id := e.Key + "\x00" + e.Field + "\x00" + string(e.Code) + "\x00" + e.Error()
		if reported[id] {
			return
		}
		reported[id] = true
		res.MappingErrors = append(res.MappingErrors, e)
	}
	lookups, err := r.lookupResolver(ctx, m, opts, log)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	view.Resolver = lookups

	rjob, err := engineJob(job, m)
	if err != nil {
		return nil, err
	}
	res.Engine = rjob
	sfSide, localSide := scopes(r.Salesforce, view, m)
	seenUnreadable := map[string]bool{}
	unreadable := func(side string) func(error) {
		return func(err error) {
			mu.Lock()
			defer mu.Unlock()
			// Each member of the job (the parent, each child) reads the
			// same rows: a row is reported once.
			if msg := err.Error(); !seenUnreadable[msg] {
				seenUnreadable[msg] = true
				res.Unreadable = append(res.Unreadable, &SideError{Side: side, Err: err})
			}
		}
	}
	sfSide.unreadable, localSide.unreadable = unreadable("salesforce"), unreadable("local")
	if r.Progress != nil {
		progress := func(side, op string, n int) { r.Progress(job.Name, side, op, n) }
		sfSide.side, sfSide.progress = "salesforce", progress
		localSide.side, localSide.progress = "local", progress
	}
	eng := &reconcile.Engine{SF: sfSide, Local: localSide, Store: r.Store, FP: rk.fp, Now: r.Now, Hooks: r.Hooks, EphemeralKey: rk.ephemeral, Journal: r.Journal}
	if u, ok := r.Salesforce.(interface{ Usage() salesforce.Usage }); ok {
		calls0, _ := ctx.Value(callsKey{}).(int64)
		eng.APICalls = func() int64 { return u.Usage().Calls - calls0 }
	}
	logged := 0 // res.MappingErrors already handed to a run's error log
	eng.Unmapped = func(string) []state.RecordErr {
		mu.Lock()
		defer mu.Unlock()
		var out []state.RecordErr
		for _, e := range res.MappingErrors[logged:] {
			out = append(out, state.RecordErr{Key: e.Key, Field: e.Field, Code: string(cmp.Or(e.Code, connector.CodeOf(e))), Message: e.Error()})
		}
		logged = len(res.MappingErrors)
		return out
	}
	log.Info().Bool("dry_run", opts.DryRun).Bool("full", opts.Full).Bool("resync", opts.Resync).Msg("run starting")
	if started, ok := ctx.Value(engineKey{}).(*bool); ok {
		*started = true
	}
	ctx = r.withIDPairs(ctx, opts, job.Name, lease) // children keyed by_parent are written by Id (pairs.go)
	ctx = salesforce.WithNotes(ctx, func(object, note string) { log.Warn().Str("object", object).Msg(note) })
	out, err := eng.Run(ctx, rjob, reconcile.RunOptions{DryRun: opts.DryRun, Force: opts.Force, Full: opts.Full, Lease: lease, Resync: opts.Resync})
	res.Result = out
	r.lookupsDone(ctx, lookups, view, m, out, log)
	if err == nil && opts.DryRun && opts.CaptureValues {
		if res.Values, err = captureValues(ctx, sfSide, localSide, out, rjob); err != nil {
			err = fmt.Errorf("job %s: reading values for the report: %w", job.Name, err)
		}
	}
	if err == nil && !opts.DryRun {
		// A failed status column is worth a warning, not a failed run:
		// the sync itself is done and recorded.
		if serr := WriteStatus(ctx, local, m, res); serr != nil {
			log.Warn().Err(serr).Msg("could not write the per-row sync status")
		}
	}
	if u, ok := r.Salesforce.(interface{ Usage() salesforce.Usage }); ok {
		usage := u.Usage()
		res.Usage = &usage
	}
	if err != nil {
		// The engine's errors name the job already.
		return res, err
	}
	ev := log.Info().Int("mapping_errors", len(res.MappingErrors))
	if rr := res.Result; rr != nil {
		// Where the time went, and what it cost (children included).
		t, calls := rr.Timing, rr.APICalls
		for _, ch := range rr.Children {
			t.Read, t.Plan, t.Apply = t.Read+ch.Timing.Read, t.Plan+ch.Timing.Plan, t.Apply+ch.Timing.Apply
			calls += ch.APICalls
		}
		ev = ev.Dur("read_ms", t.Read).Dur("plan_ms", t.Plan).Dur("apply_ms", t.Apply).Int("api_calls", calls)
		if rr.Parts > 0 {
			ev = ev.Int("parts", rr.Parts)
		}
	}
	ev.Msg("run done")
	return res, nil
}

// engineJob turns a configured job and its compiled mapping into the
// engine's job: the parent's fields, then each child as a child job.
func engineJob(job *config.Job, m *mapping.JobMapping) (*reconcile.Job, error) {
	mk := func(name, object string) (*reconcile.Job, error) {
		j := &reconcile.Job{
			Name:      name,
			Object:    object,
			Direction: reconcile.Direction(job.Direction),
			Conflict:  reconcile.Policy(job.Conflict),
			Initial:   reconcile.Policy(job.Initial),
			Deletes:   reconcile.DeletePolicy(job.Deletes),
			MatchOn:   job.MatchOn,
			// A run lists every key this often (0: every run).
			KeyListEvery: job.KeyList.Duration,
			PartSize:     job.PartSize,
		}
		if job.PartSize <= 0 {
			j.PartSize = -1 // never split
		}
		if job.MaxDelete.IsPercent() {
			j.MaxDelete = reconcile.Limit{Percent: job.MaxDelete.Percent}
		} else {
			j.MaxDelete = reconcile.Limit{Count: int(job.MaxDelete.Count)}
		}
		for _, f := range m.FieldSpecs(object) {
			j.Fields = append(j.Fields, reconcile.FieldSpec{
				Name: f.Name, Direction: reconcile.Direction(f.Direction), RuleHash: f.RuleHash, Class: string(f.Class),
			})
		}
		return j, nil
	}
	parent, err := mk(job.Name, m.Object)
	if err != nil {
		return nil, err
	}
	if a := strings.TrimSpace(job.Adopt); a != "" {
		// Only the parent adopts: a child record is the job's through
		// its parent's key.
		parent.Adopt = &reconcile.Adopt{Prefix: job.Local.KeyPrefix}
		if !strings.EqualFold(a, "id") {
			parent.Adopt.Field = a
		}
	}
	if cs := job.Consent; cs != nil {
		// The engine's gate: withdrawal propagates and the parent's fields
		// of the gated classes do not flow while consent is not allowed.
		// (The mapping leaves those fields out of a closed row: unknown.)
		// The mapping says which: a field is gated when a rule of it
		// reads a column of a gated class, whichever rule classified the
		// column.
		c := &reconcile.Consent{Field: cs.Field, Allowed: cs.Allowed}
		for _, f := range m.FieldSpecs(m.Object) {
			if f.Gated && !strings.EqualFold(f.Name, cs.Field) {
				c.Gated = append(c.Gated, f.Name)
			}
		}
		parent.Consent = c
	}
	for _, c := range m.Children {
		cj, err := mk(job.Name+"/"+c.Name, memberObject(c))
		if err != nil {
			return nil, err
		}
		cj.Fields = nil
		for _, f := range m.FieldSpecs(c.Object) {
			cj.Fields = append(cj.Fields, reconcile.FieldSpec{
				Name: f.Name, Direction: reconcile.Direction(f.Direction), RuleHash: f.RuleHash, Class: string(f.Class),
			})
		}
		suffix, ok := strings.CutPrefix(c.KeySuffix, ":")
		if !ok {
			return nil, fmt.Errorf("job %s: child %s: key_suffix must start with \":\" (a child's key is its parent's key, a colon and a suffix)", job.Name, c.Name)
		}
		parent.Children = append(parent.Children, reconcile.Child{Job: cj, Suffix: suffix})
	}
	return parent, nil
}

// sameKeys checks that the Salesforce connector upserts each member's
// object by the key field the mapping keys its records by (a child's key):
// the two disagree only when the connector was given other key fields than
// the configuration's (config.Config.KeyFields), or under another spelling
// of the object's name.
func sameKeys(m *mapping.JobMapping, described map[string]*connector.Object) error {
	for _, mem := range m.Members() {
		for name, o := range described {
			if strings.EqualFold(name, mem.Object) && o != nil && !strings.EqualFold(o.Key, mem.Desc.Key) {
				return fmt.Errorf("the Salesforce connector upserts %s by %s, and the job keys its records by %s; write the object's name as the org spells it (casebridge validate --online checks it)",
					mem.Object, o.Key, mem.Desc.Key)
			}
		}
	}
	return nil
}

// memberObject is the object name a job member has on both sides of the
// engine: the Salesforce object for the parent, "object#child" for a child
// (two children may share one object).
func memberObject(mem *mapping.Member) string {
	if mem.IsParent() {
		return mem.Object
	}
	return mem.Object + "#" + mem.Name
}

// scopes gives each member of the job its own object on both sides (see
// routed): on Salesforce, only the keys of that member of this job; locally,
// the view of that member.
func scopes(sf connector.Connector, view *mapping.View, m *mapping.JobMapping) (sfSide, localSide *routed) {
	sfSide = &routed{name: sf.Name(), routes: map[string]route{}}
	localSide = &routed{name: view.Name(), routes: map[string]route{}}
	for _, mem := range m.Members() {
		mem := mem
		name := memberObject(mem)
		conn := memberSF(sf, m, mem)
		if c, ok := conn.(sfConn); ok && !mem.IsParent() && mem.ParentRef != "" && view.ByReference {
			conn = byReference{sfConn: c, m: m}
		}
		sfSide.routes[name] = route{conn: conn, object: mem.Object, accept: func(key string) bool {
			got, ok := m.MemberOf(mem.Object, key)
			return ok && got.Name == mem.Name
		}, keyless: mem.IsParent()}
		localSide.routes[name] = route{conn: view.Only(mem.Name), object: mem.Object, accept: func(string) bool { return true }}
	}
	return sfSide, localSide
}

// fpKey carries, in a run's context, its fingerprint key (runKey).
type fpKey struct{}

type runKey struct {
	fp        *reconcile.Fingerprinter
	ephemeral bool // a dry run's throwaway key (Runner.fingerprinter)
}

// callsKey carries, in a run's context, the Salesforce requests the
// connector had sent when the run started.
type callsKey struct{}

// orgResolver resolves lookups against the org: the Id of the record whose
// field holds a value.
type orgResolver struct{ sf connector.Connector }

func (o orgResolver) Resolve(ctx context.Context, object, field, value string) (string, error) {
	f, ok := o.sf.(interface {
		FindIDs(ctx context.Context, object, field, value string, limit int) ([]string, error)
	})
	if !ok {
		return "", fmt.Errorf("lookup %s.%s: the Salesforce connector cannot search", object, field)
	}
	ids, err := f.FindIDs(ctx, object, field, value, 2)
	switch {
	case err != nil:
		return "", err
	case len(ids) == 0:
		return "", fmt.Errorf("lookup %s.%s: %w", object, field, mapping.ErrNoMatch)
	case len(ids) > 1:
		return "", fmt.Errorf("lookup %s.%s: %w", object, field, mapping.ErrAmbiguous)
	}
	return ids[0], nil
}
