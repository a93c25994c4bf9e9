package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// Point names a kill point: a place between two steps of apply where
// Hooks.At is called. Tests stop a run there and run again.
type Point string

// Kill points, in the order a run passes them.
const (
	// BeforeApply: the plan is made; nothing written anywhere.
	BeforeApply Point = "before_apply"
	// AfterState: decisions that write to neither side (new baselines,
	// conflicts, flags, pending) are committed.
	AfterState Point = "after_state"
	// BeforeWrite: before each batch write.
	BeforeWrite Point = "before_write"
	// AfterWrite: a batch was written; its state is not yet committed.
	AfterWrite Point = "after_write"
	// AfterCommit: a batch's state (baselines, pending) is committed.
	AfterCommit Point = "after_commit"
	// BeforeCursor: every batch is done; the cursor is not yet advanced.
	BeforeCursor Point = "before_cursor"
)

// Points lists every kill point in order.
var Points = []Point{BeforeApply, AfterState, BeforeWrite, AfterWrite, AfterCommit, BeforeCursor}

// Hooks are called at the kill points. A non-nil error stops the run
// there, as a crash would (nothing after it happens, not even the run's
// end in the history).
type Hooks struct {
	At func(ctx context.Context, p Point) error
}

// Engine reconciles jobs between a Salesforce-side and a local-side
// connector. The local connector already speaks Salesforce field names and
// canonical values.
type Engine struct {
	SF    connector.Connector
	Local connector.Connector
	Store state.Store
	FP    *Fingerprinter
	Hooks Hooks
	// Now returns the current time; time.Now by default.
	Now func() time.Time
	// Unmapped, when set, returns (and forgets) the cells the sides could
	// not map during the run of job so far: value-free errors naming key,
	// field, column and rule. They are logged with the run's errors and
	// counted (state.Counts.Unmapped); the fields stay unknown for the run.
	Unmapped func(job string) []state.RecordErr
}

// RunOptions are per-run switches.
type RunOptions struct {
	// DryRun plans and stops: nothing is written to either side or to
	// the state (only the run history records the dry run).
	DryRun bool
	// Force overrides the safety aborts (max_delete, match-rate brake).
	Force bool
	// Full reads Salesforce completely instead of from its cursor.
	Full bool
	// Lease is the fencing token of the job's lease (state.Store.Acquire)
	// when replicas share the state: every state transaction of the run
	// first checks it is still held, and the run stops with
	// state.ErrLeaseLost otherwise. 0: no lease.
	Lease int64
	// Resync re-initialises the job's baselines from both sides, as a
	// first sync does: stored record states are set aside, every field is
	// decided by the job's initial policy, and nothing is written that a
	// first sync would not write. It is the one run a locked-out job
	// accepts (see ErrLockedOut), and a successful one (not a dry run)
	// lifts the lockout.
	Resync bool
}

// ErrLockedOut is returned (as a *LockedOutError) by a run of a job that
// an earlier run locked out after a critical error; only a run with
// RunOptions.Resync clears it.
var ErrLockedOut = errors.New("locked out after a critical error")

// LockedOutError says which job is locked out, since when and why.
type LockedOutError struct {
	state.Lockout
}

func (e *LockedOutError) Error() string {
	run := ""
	if e.RunID != 0 {
		run = fmt.Sprintf("run %d, ", e.RunID)
	}
	return fmt.Sprintf("job %s is %s (%s%s: %s); its state may not match what the two sides hold. "+
		"Check both sides, then resync it (casebridge sync --resync CONFIG %s): baselines are "+
		"re-initialised from both sides under the job's initial policy, as at a first sync",
		e.Job, ErrLockedOut, run, e.Since.UTC().Format(time.RFC3339), e.Cause, e.Job)
}

// Is makes errors.Is(err, ErrLockedOut) true.
func (e *LockedOutError) Is(target error) bool { return target == ErrLockedOut }

// criticalError marks an error after which the state cannot vouch for what
// the sides hold: the job is locked out (README.md, "Lockout").
type criticalError struct {
	cause string
	err   error
}

func (e *criticalError) Error() string { return e.err.Error() }
func (e *criticalError) Unwrap() error { return e.err }

// Result is the outcome of a run.
type Result struct {
	RunID  int64
	Plan   *Plan
	Counts state.Counts
	// Failed lists the records whose write failed (they stay pending).
	Failed []state.RecordErr
	// APICalls counts the connector calls the run made.
	APICalls int
	// Children holds the results of the job's child jobs, in order.
	Children []*Result
}

const (
	cursorName = "salesforce"      // the Salesforce change cursor
	listedName = "salesforce_keys" // when Salesforce keys were last listed
)

type presence uint8

const (
	pNone presence = iota // not seen this run
	pPresent
	pAbsent
	pUnknown
)

type decKind uint8

const (
	dNone     decKind = iota
	dBaseline         // both sides hold the same value: new baseline
	dWrite            // write to dec.to the value of the other side
	dConflict         // manual: queued
	dKeep             // one-way field edited on its target: keep, no write
	dGated            // consent withdrawn: no write, baseline kept
	dUnknown          // missing from a side's record: nothing changes
)

type fdec struct {
	kind   decKind
	to     Side
	fp     state.Fingerprint // the value written (dWrite) or agreed (dBaseline)
	base   state.Fingerprint // dKeep after an initial: the new baseline
	reason string
	close  bool // close a queued conflict once this decision holds
}

type outcome uint8

const (
	oNone outcome = iota // not attempted (yet)
	oOK
	oFailed
	oHeld // held back by the write budget
)

type entry struct {
	id            string
	has           bool // has state
	keys          [2]string
	flags         state.Flags
	fs            []fstate // by internal field index
	pres          [2]presence
	x             *extra // the rarer parts, allocated when needed
	listed        bool
	pendingBefore bool

	op       [2]Op
	out      [2]outcome
	newFlags state.Flags
	drop     bool // forget the record (gone on both sides)
	unknown  bool
	matched  bool // paired by match_on
	linked   bool // paired by the local record's link to the Salesforce Id
	rekey    bool // the Salesforce record is to take the local key (link.go)
	gated    bool // created without the consent-gated fields
	tomb     bool // consent withdrawn: keep a tombstone of the key
	dirty    bool // state changes without a write
}

// fstate is a state.FieldState without its name (runner.names gives it)
// and its rule (entry.rule gives it): what a record keeps of each field.
type fstate struct {
	Base, SF, Local state.Fingerprint
}

// extra holds what only records with something to do need, so that the
// 99% that have nothing to do stay small.
type extra struct {
	fp  [2][]state.Fingerprint // current fingerprints; nil: as last seen
	dec []fdec                 // field decisions; nil: nothing to do
	// rules holds each field's stored rule when one of them is not the
	// job's current rule (nil: every field is under its current rule).
	rules    []state.Fingerprint
	rekeyErr error                // why a rekey did not happen
	moved    string               // the state key the record was kept under before a rekey
	vals     [2][]connector.Value // kept canonical values, when needed
	mod      [2]time.Time         // modification times of kept records
	why      [2]string            // why a side is unknown
	opReason [2]string
	err      [2]error
	// id holds each side's Record.ID as read (the Salesforce Id; locally,
	// the Salesforce Id the row links to), or as a create returned it.
	id [2]string
}

var noExtra extra

// ro returns e's extra for reading (a shared zero one if none).
func (e *entry) ro() *extra {
	if e.x == nil {
		return &noExtra
	}
	return e.x
}

// rw returns e's extra for writing, allocating it.
func (e *entry) rw() *extra {
	if e.x == nil {
		e.x = new(extra)
	}
	return e.x
}

// ruleOf returns the rule the baseline of field i was made under, as
// stored (0: none).
func (r *runner) ruleOf(e *entry, i int) state.Fingerprint {
	if !e.has {
		return 0 // no state: nothing stored
	}
	if e.x == nil || e.x.rules == nil {
		return r.rule[i]
	}
	return e.x.rules[i]
}

// cur returns the current (or last seen) fingerprint of field i on side
// s; 0 means unknown (the field was missing from the record read).
func (e *entry) cur(s Side, i int) state.Fingerprint {
	if e.x != nil && e.x.fp[s] != nil {
		return e.x.fp[s][i]
	}
	if s == SF {
		return e.fs[i].SF
	}
	return e.fs[i].Local
}

func (e *entry) key() string {
	if e.keys[SF] != "" {
		return e.keys[SF]
	}
	if e.keys[Local] != "" {
		return e.keys[Local]
	}
	return e.id
}

func (e *entry) hasWrite() bool { return e.op[SF] != 0 || e.op[Local] != 0 }

// runner holds one run's working set.
type runner struct {
	*Engine
	fam      *family // set for a child job
	orphans  []state.Conflict
	job      *Job
	opts     RunOptions
	obj      [2]*connector.Object
	feat     [2]connector.Features
	sfF      []*connector.Field // Salesforce field descriptions, by job field
	dir      []Direction        // effective direction, by job field
	rule     []state.Fingerprint
	null     []state.Fingerprint // fingerprint of null, by job field
	names    []string
	jobOrder []int // internal field index of each job field
	keyCase  bool
	keyLen   int  // the Salesforce key field's length (0: connector.MaxKeyLength)
	links    bool // the local side's records carry their link (Linker)
	fpBuf    []state.Fingerprint
	fpc      []fpCache // by internal field index
	enc      []byte    // a canonical encoding
	noState  []fstate  // the field states of a record without state (all zero)
	valBuf   []connector.Value
	decBuf   []fdec
	consent  int                        // internal index of the consent field, -1 if none
	gatedF   []bool                     // consent-gated, by internal index
	allowed  map[state.Fingerprint]bool // consent values that let gated fields flow
	blank    state.Fingerprint          // the consent field's null, unless it reads as a value (a checkbox's false)

	entries map[string]*entry
	alias   map[string]string // local KeyID -> state key, for match_on pairs
	pending map[string]bool
	queue   map[[2]string]*state.Conflict
	tombs   map[string]time.Time
	first   bool
	incr    bool
	cursor  connector.Cursor
	calls   int
	runID   int64
	start   time.Time
	plan    *Plan
	counts  state.Counts
	failed  []state.RecordErr
	unread  [2]int
	// damaged counts, of those, the rows read unreadable (ROW_UNREADABLE:
	// an unclosed quote may have swallowed others): the run decides no
	// delete on either side.
	damaged [2]int
	// unreadErrs are the errors of the rows read without a usable key
	// (value-free by the connector contract), for the run's error log.
	unreadErrs []state.RecordErr
	// stopped is the connector.ErrStop a write returned: the run holds
	// the writes not yet sent (pending) and ends with it.
	stopped error
	// outside holds the Salesforce records outside the job's where that
	// the job never held (KeyID -> key): ignored unless the local side
	// has the key.
	outside   map[string]string
	listDone  bool
	attempted int
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) hook(ctx context.Context, p Point) error {
	if e.Hooks.At == nil {
		return nil
	}
	if err := e.Hooks.At(ctx, p); err != nil {
		return fmt.Errorf("stopped at %s: %w", p, err)
	}
	return nil
}

// Run reconciles one job: read both sides, plan, and (unless
// opts.DryRun) apply. A safety abort returns an error wrapping
// ErrSafetyAbort together with the Result holding the plan; nothing was
// written. Per-record failures do not fail the run: they are in
// Result.Failed and pending in the state.
func (e *Engine) Run(ctx context.Context, job *Job, opts RunOptions) (*Result, error) {
	if e.Store == nil {
		return nil, errors.New("reconcile: engine needs SF, Local, Store and FP")
	}
	lo, locked, err := e.Store.Lockout(ctx, job.Name)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	if locked && !opts.Resync {
		return nil, &LockedOutError{Lockout: lo}
	}
	res, err := e.run(ctx, job, opts)
	var ce *criticalError
	switch {
	case errors.As(err, &ce):
		l := state.Lockout{Job: job.Name, Cause: ce.cause, Since: e.now()}
		if res != nil {
			l.RunID = res.RunID
		}
		if lerr := e.Store.LockOut(context.WithoutCancel(ctx), l); lerr != nil {
			err = fmt.Errorf("%w (%s; recording the lockout failed too: %v)", err, ce.cause, lerr)
		} else {
			err = fmt.Errorf("%w (%s: job %s is locked out until a resync run)", err, ce.cause, job.Name)
		}
	case err == nil && locked && !opts.DryRun:
		if err := e.Store.ClearLockout(ctx, job.Name); err != nil {
			return res, fmt.Errorf("job %s: resynced, but the lockout was not lifted: %w", job.Name, err)
		}
	}
	return res, err
}

func (e *Engine) run(ctx context.Context, job *Job, opts RunOptions) (*Result, error) {
	res, r, err := e.runOne(ctx, job, opts, nil)
	if err != nil || len(job.Children) == 0 {
		return res, err
	}
	// Children after their parents; a child whose parent did not make it
	// to both sides this run is skipped (and stays pending).
	skip := r.unsettled()
	for _, c := range job.Children {
		cres, _, err := e.runOne(ctx, c.Job, opts, &family{parent: job.Name, suffix: c.Suffix, skip: skip})
		if cres != nil {
			res.Children = append(res.Children, cres)
		}
		if err != nil {
			return res, fmt.Errorf("child job %s: %w", c.Job.Name, err)
		}
	}
	return res, nil
}

// family is what a child job's run knows of its parent's.
type family struct {
	parent string // the parent job's name
	suffix string
	skip   map[string]bool // parent KeyIDs whose records did not settle
}

// parentOf returns the parent KeyID of a child KeyID.
func (f *family) parentOf(id string) string {
	return strings.TrimSuffix(id, ":"+strings.ToLower(f.suffix))
}

// unsettled returns the KeyIDs of records this run left unsettled: a
// write that failed or was held back, or unknown on a side.
func (r *runner) unsettled() map[string]bool {
	out := map[string]bool{}
	for id, e := range r.entries {
		if e.unknown {
			out[id] = true
		}
		for s := SF; s <= Local; s++ {
			if e.op[s] != 0 && e.out[s] != oOK {
				out[id] = true
			}
		}
	}
	return out
}

func (e *Engine) runOne(ctx context.Context, job *Job, opts RunOptions, fam *family) (*Result, *runner, error) {
	r := &runner{Engine: e, job: job, opts: opts, start: e.now(), fam: fam}
	if err := r.prepare(ctx); err != nil {
		return nil, r, err
	}
	id, err := e.Store.StartRun(ctx, job.Name, r.start)
	if err != nil {
		return nil, r, err
	}
	r.runID = id
	res, err := r.run(ctx)
	if errors.Is(err, errKilled) {
		return res, r, err // as if the process died: no end in the history
	}
	r.counts.Unreadable = r.unread[SF] + r.unread[Local]
	if e.Unmapped != nil {
		unmapped := e.Unmapped(job.Name)
		r.counts.Unmapped = len(unmapped)
		r.unreadErrs = append(r.unreadErrs, unmapped[:min(len(unmapped), maxUnreadLogged)]...)
	}
	if len(r.unreadErrs) > 0 && !opts.DryRun && !errors.Is(err, ErrSafetyAbort) {
		// The rows a run could not read (keyless: they name file, row
		// and column) and the cells it could not map are in its error
		// log (history, the admin API).
		now := e.now()
		lerr := r.update(ctx, func(tx state.Tx) error {
			for _, re := range r.unreadErrs {
				re.RunID, re.At = id, now
				if err := tx.LogError(re); err != nil {
					return err
				}
			}
			return nil
		})
		if lerr != nil && err == nil {
			err = fmt.Errorf("job %s: state: %w", job.Name, lerr)
		}
	}
	run := state.Run{ID: id, Job: job.Name, Start: r.start, End: e.now(), Counts: r.counts, APICalls: r.calls}
	switch {
	case errors.Is(err, ErrSafetyAbort):
		run.Outcome = state.OutcomeAborted
		run.Error = err.Error()
	case errors.Is(err, connector.ErrStop):
		run.Outcome = state.OutcomeStopped
		run.Error = err.Error()
	case err != nil:
		run.Outcome = state.OutcomeFailed
		run.Error = err.Error()
	case opts.DryRun:
		run.Outcome = state.OutcomeDryRun
	default:
		run.Outcome = state.OutcomeOK
	}
	if ferr := e.Store.FinishRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
		err = ferr
	}
	if res != nil {
		res.APICalls = r.calls
	}
	return res, r, err
}

// errKilled marks an error from a hook: the run stops as if the process
// died.
var errKilled = errors.New("killed by hook")

func (r *runner) prepare(ctx context.Context) error {
	if r.FP == nil || r.Store == nil || r.SF == nil || r.Local == nil {
		return errors.New("reconcile: engine needs SF, Local, Store and FP")
	}
	for s, c := range []connector.Connector{r.SF, r.Local} {
		r.calls++
		o, err := c.Describe(ctx, r.job.Object)
		if err != nil {
			return fmt.Errorf("job %s: describe %s: %w", r.job.Name, Side(s), err)
		}
		r.obj[s] = o
		r.feat[s] = connector.FeaturesOf(c)
	}
	if err := r.job.Validate(r.obj[SF], r.obj[Local]); err != nil {
		return err
	}
	if err := r.Store.CheckKeyID(ctx, r.FP.KeyID()); err != nil {
		return fmt.Errorf("job %s: %w", r.job.Name, err)
	}
	// Fields are kept in order of name internally, as the state stores
	// them, so a stored record's fields are used as they are decoded;
	// jobOrder gives the job's order for plans.
	n := len(r.job.Fields)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	nameOf := func(k int) string { return r.obj[SF].Field(r.job.Fields[k].Name).Name }
	slices.SortFunc(perm, func(a, b int) int { return strings.Compare(nameOf(a), nameOf(b)) })
	r.sfF = make([]*connector.Field, n)
	r.dir = make([]Direction, n)
	r.rule = make([]state.Fingerprint, n)
	r.null = make([]state.Fingerprint, n)
	r.names = make([]string, n)
	r.jobOrder = make([]int, n)
	for i, k := range perm {
		f := &r.job.Fields[k]
		r.jobOrder[k] = i
		r.sfF[i] = r.obj[SF].Field(f.Name)
		r.names[i] = r.sfF[i].Name
		r.dir[i] = r.job.fieldDirection(f)
		r.rule[i] = r.FP.Rule(f.RuleHash)
		nv, err := connector.Canonicalize(connector.Null(), r.sfF[i])
		if err != nil {
			return fmt.Errorf("job %s: field %s: %w", r.job.Name, f.Name, err)
		}
		r.null[i] = r.FP.Value(nv)
	}
	r.keyCase = r.obj[SF].KeyField().CaseSensitive
	r.keyLen = r.obj[SF].KeyField().Length
	if l, ok := r.Local.(Linker); ok {
		r.links = l.Links(r.job.Object)
	}
	r.consent = -1
	r.gatedF = make([]bool, n)
	if c := r.job.Consent; c != nil {
		for i, name := range r.names {
			if strings.EqualFold(name, c.Field) {
				r.consent = i
			}
			for _, g := range c.Gated {
				if strings.EqualFold(name, g) {
					r.gatedF[i] = true
				}
			}
		}
		r.allowed = map[state.Fingerprint]bool{}
		if nv, _ := connector.Canonicalize(connector.Null(), r.sfF[r.consent]); nv.IsNull() {
			r.blank = r.null[r.consent]
		}
		for _, v := range c.allowed() {
			cv, err := connector.Canonicalize(v, r.sfF[r.consent])
			if err != nil {
				return fmt.Errorf("job %s: consent field %s: an allowed value: %w", r.job.Name, c.Field, err)
			}
			r.allowed[r.FP.Value(cv)] = true
		}
	}
	r.fpBuf = make([]state.Fingerprint, n)
	r.fpc = make([]fpCache, n)
	r.noState = make([]fstate, n)
	r.valBuf = make([]connector.Value, n)
	r.decBuf = make([]fdec, n)
	return nil
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if err := r.read(ctx); err != nil {
		return nil, err
	}
	r.linkPairs()
	r.matchOn()
	order := r.decideAll()
	if err := r.refetch(ctx); err != nil {
		return nil, err
	}
	r.markRekeys()
	r.buildPlan(order)
	res := &Result{RunID: r.runID, Plan: r.plan}
	if err := r.safety(); err != nil {
		return res, err
	}
	if r.opts.DryRun {
		return res, nil
	}
	if err := r.apply(ctx, order); err != nil {
		if errors.Is(err, connector.ErrStop) {
			// Stopped cleanly: what was written is counted.
			res.Counts, res.Failed = r.counts, r.failed
		}
		return res, err
	}
	res.Counts, res.Failed = r.counts, r.failed
	return res, nil
}

// load reads the job's state: records, pending keys, conflicts, tombstones.
func (r *runner) load(ctx context.Context) error {
	r.alias = map[string]string{}
	var loaded []*entry // the map is made once their number is known
	idx := make(map[string]int, len(r.names))
	for i, n := range r.names {
		idx[n] = i
	}
	err := r.Store.Records(ctx, r.job.Name, func(rs state.RecordState) error {
		e := &entry{id: rs.Key, has: true, keys: [2]string{rs.SFKey, rs.LocalKey}, flags: rs.Flags}
		if rs.LocalKey == rs.SFKey {
			e.keys[Local] = e.keys[SF] // one string for both
		}
		aligned := len(rs.Fields) == len(r.names)
		for i := 0; aligned && i < len(r.names); i++ {
			aligned = rs.Fields[i].Field == r.names[i]
		}
		e.fs = make([]fstate, len(r.names))
		var rules []state.Fingerprint // nil while every rule is current
		if aligned {
			for i := range rs.Fields {
				f := &rs.Fields[i]
				e.fs[i] = fstate{Base: f.Base, SF: f.SF, Local: f.Local}
				if f.Rule != r.rule[i] {
					if rules == nil {
						rules = slices.Clone(r.rule)
					}
					rules[i] = f.Rule
				}
			}
		} else {
			// Fields the job does not have are dropped; fields the state
			// does not have are zero (rule 0: new to the job).
			rules = make([]state.Fingerprint, len(r.names))
			for _, f := range rs.Fields {
				if i, ok := idx[f.Field]; ok {
					e.fs[i] = fstate{Base: f.Base, SF: f.SF, Local: f.Local}
					rules[i] = f.Rule
				}
			}
			if slices.Equal(rules, r.rule) {
				rules = nil
			}
		}
		if rules != nil {
			e.rw().rules = rules
		}
		e.newFlags = e.flags
		loaded = append(loaded, e)
		if rs.LocalKey != rs.SFKey {
			if lid := r.keyID(rs.LocalKey); lid != e.id {
				r.alias[lid] = e.id
			}
		}
		return nil
	})
	if r.opts.Resync {
		// A resync is a first sync over the state: what is stored is set
		// aside (and overwritten record by record as the run commits).
		loaded = nil
		clear(r.alias)
	}
	if err != nil {
		return err
	}
	// Room for the records new this run too, so that the first of them
	// do not grow the map.
	r.entries = make(map[string]*entry, len(loaded)+len(loaded)/64)
	for _, e := range loaded {
		r.entries[e.id] = e
	}
	loaded = nil
	r.first = len(r.entries) == 0
	pend, err := r.Store.Pending(ctx, r.job.Name)
	if err != nil {
		return err
	}
	r.pending = map[string]bool{}
	for _, p := range pend {
		r.pending[p.Key] = true
	}
	confl, err := r.Store.Conflicts(ctx, r.job.Name)
	if err != nil {
		return err
	}
	r.queue = map[[2]string]*state.Conflict{}
	for i := range confl {
		c := &confl[i]
		if !slices.Contains(r.names, c.Field) {
			r.orphans = append(r.orphans, *c) // the field left the job
			continue
		}
		r.queue[[2]string{c.Key, c.Field}] = c
		r.pending[c.Key] = true
	}
	for k := range r.pending {
		r.entry(k).pendingBefore = true
	}
	r.tombs, err = r.Store.Tombstones(ctx, r.job.Object)
	return err
}

func (r *runner) entry(id string) *entry {
	e := r.entries[id]
	if e == nil {
		e = &entry{id: id}
		e.fs = r.noState // read only: no state, nothing stored
		r.entries[id] = e
	}
	return e
}

// needsFull reports whether Salesforce must be read completely: first
// sync, or a field's rule changed (every record must be looked at again).
func (r *runner) needsFull() bool {
	if r.first || r.opts.Full {
		return true
	}
	for _, e := range r.entries {
		if !e.has {
			continue
		}
		if e.x == nil || e.x.rules == nil {
			continue // every rule current
		}
		for i := range e.fs {
			fs, rule := &e.fs[i], e.x.rules[i]
			// A field never initialised because it was unknown on the
			// local side has its Salesforce last seen stored: it needs no
			// complete read. A field new to the job (nothing stored) does.
			if rule != r.rule[i] && !(rule == 0 && fs.SF != 0) {
				return true
			}
		}
	}
	return false
}

func (r *runner) read(ctx context.Context) error {
	var since connector.Cursor
	// A tracker that does not see deletions (connector.DeleteTracker) is
	// read incrementally only with a complete key listing beside it.
	sf := r.feat[SF]
	seesDeletes := sf.SeesDeletes(r.job.Object)
	if !r.needsFull() && sf.Tracker != nil && sf.Tracker.TracksChanges(r.job.Object) && (seesDeletes || sf.KeyLister != nil) {
		c, err := r.Store.Cursor(ctx, r.job.Name, cursorName)
		if err != nil {
			return err
		}
		since = connector.Cursor(c)
	}
	r.incr = since != ""
	// Salesforce.
	r.calls++
	cur, err := r.SF.Read(ctx, r.job.Object, since, func(rec connector.Record) error {
		r.take(SF, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: read salesforce: %w", r.job.Name, err)
	}
	r.cursor = cur
	if r.incr && sf.KeyLister != nil && (!seesDeletes || r.listDue(ctx)) {
		r.calls++
		err := r.feat[SF].KeyLister.ListKeys(ctx, r.job.Object, func(k string) error {
			e := r.entry(r.keyID(k))
			e.listed = true
			if e.keys[SF] == "" {
				e.keys[SF] = connector.NormalizeKey(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("job %s: list salesforce keys: %w", r.job.Name, err)
		}
		r.listDone = true
	}
	// Local: always a complete read.
	r.calls++
	if _, err := r.Local.Read(ctx, r.job.Object, "", func(rec connector.Record) error {
		r.take(Local, rec)
		return nil
	}); err != nil {
		return fmt.Errorf("job %s: read local: %w", r.job.Name, err)
	}
	// Re-fetch by key what Salesforce did not return but we need: pending
	// keys, records new on the local side, keys listed but not read.
	if r.incr {
		var keys []string
		var ids []string
		for id, e := range r.entries {
			if e.pres[SF] != pNone {
				continue
			}
			if _, out := r.outside[id]; out {
				continue // read this run: outside the where, not the job's
			}
			if r.pending[id] || (!e.has && (e.pres[Local] != pNone || e.listed)) {
				keys = append(keys, e.key())
				ids = append(ids, id)
			}
		}
		if len(keys) > 0 {
			if r.feat[SF].KeyReader == nil {
				return fmt.Errorf("job %s: salesforce connector cannot read by key; pending records need it", r.job.Name)
			}
			slices.Sort(keys)
			r.calls++
			err := r.feat[SF].KeyReader.ReadKeys(ctx, r.job.Object, keys, func(rec connector.Record) error {
				r.take(SF, rec)
				return nil
			})
			if err != nil {
				return fmt.Errorf("job %s: read salesforce by key: %w", r.job.Name, err)
			}
			for _, id := range ids {
				if e := r.entries[id]; e.pres[SF] == pNone {
					e.pres[SF] = pAbsent
				}
			}
		}
	}
	// What was not seen: absent after a complete read or listing, as last
	// seen otherwise. A read that passed rows without a usable key (an
	// emptied key cell) is not a complete listing for the records synced
	// before: any of them may be such a row, so those not seen are unknown,
	// never deleted. Records never synced are not held back: at worst a
	// create duplicates a row someone must mend, which loses nothing.
	for _, e := range r.entries {
		if e.pres[Local] == pNone {
			e.pres[Local] = pAbsent
			if e.has && r.unread[Local] > 0 {
				e.pres[Local] = pUnknown
				e.rw().why[Local] = fmt.Sprintf("not seen, and %d row(s) had no usable key", r.unread[Local])
			}
		}
		if e.pres[SF] == pNone && e.has && r.unread[SF] > 0 {
			e.pres[SF] = pUnknown
			e.rw().why[SF] = fmt.Sprintf("not seen, and %d record(s) had no usable key", r.unread[SF])
		}
		if e.pres[SF] == pNone {
			switch {
			case !r.incr:
				e.pres[SF] = pAbsent
			case r.listDone && !e.listed:
				e.pres[SF] = pAbsent
			case !e.has:
				e.pres[SF] = pAbsent
			case e.flags&state.FlagSFDeleted != 0 && !e.listed:
				e.pres[SF] = pAbsent
			default:
				e.pres[SF] = pPresent // unchanged since last seen
			}
		}
	}
	return nil
}

// refetch reads by key, and decides again, the records whose writes need
// values the first read did not keep (a side not read this run, or read
// unchanged). It is a safety net: pending keys are re-fetched up front.
func (r *runner) refetch(ctx context.Context) error {
	var need [2][]*entry
	for _, e := range r.entries {
		var miss [2]bool
		for s := SF; s <= Local; s++ {
			switch e.op[s] {
			case OpCreate:
				miss[s.Other()] = miss[s.Other()] || e.ro().vals[s.Other()] == nil
			case OpUpdate:
				for _, d := range e.ro().dec {
					if d.kind == dWrite && d.to == s && e.ro().vals[s.Other()] == nil {
						miss[s.Other()] = true
					}
				}
			}
		}
		for s := range miss {
			if miss[s] {
				need[s] = append(need[s], e)
			}
		}
	}
	for s, es := range need {
		if len(es) == 0 {
			continue
		}
		kr := r.feat[s].KeyReader
		if kr == nil {
			continue // the writes fail as not processed and stay pending
		}
		keys := make([]string, len(es))
		for i, e := range es {
			keys[i] = e.keys[s]
			e.pres[s] = pNone
			if e.x != nil {
				e.x.fp[s], e.x.vals[s] = nil, nil
			}
			r.pending[e.id] = true // keep the values this time
		}
		slices.Sort(keys)
		r.calls++
		err := kr.ReadKeys(ctx, r.job.Object, keys, func(rec connector.Record) error {
			r.take(Side(s), rec)
			return nil
		})
		if err != nil {
			return fmt.Errorf("job %s: read %s by key: %w", r.job.Name, Side(s), err)
		}
		for _, e := range es {
			if e.pres[s] == pNone {
				e.pres[s] = pAbsent
			}
			e.op, e.gated, e.tomb = [2]Op{}, false, false
			if e.x != nil {
				e.x.dec, e.x.opReason = nil, [2]string{}
			}
			e.newFlags, e.drop, e.unknown, e.dirty = e.flags, false, false, false
			r.decide(e)
		}
	}
	return nil
}

// listDue reports whether this incremental run lists Salesforce keys.
func (r *runner) listDue(ctx context.Context) bool {
	every := min(r.job.KeyListEvery, 15*24*time.Hour)
	if r.job.KeyListEvery == 0 {
		return true
	}
	last, err := r.Store.Cursor(ctx, r.job.Name, listedName)
	if err != nil || last == "" {
		return true
	}
	t, err := time.Parse(time.RFC3339, last)
	return err != nil || r.start.Sub(t) >= every
}

// take records one record read from side s.
func (r *runner) take(s Side, rec connector.Record) {
	if rec.Key == "" || !r.keyOK(rec.Key) {
		// No usable key: a key that cannot be a key (keyOK) is never
		// asked of Salesforce, stored or named, and, like an emptied key
		// cell, makes the records not seen this run unknown.
		r.unread[s]++
		if connector.CodeOf(rec.Err) == connector.CodeRowUnreadable {
			r.damaged[s]++
		}
		switch {
		case len(r.unreadErrs) >= maxUnreadLogged:
		case rec.Key != "":
			// A key that cannot be a key: its error may carry the key
			// (a name typed into the key cell), so only why is logged.
			lim := r.keyLen
			if lim <= 0 {
				lim = connector.MaxKeyLength
			}
			r.unreadErrs = append(r.unreadErrs, state.RecordErr{Code: string(connector.CodeInvalidKey),
				Message: fmt.Sprintf("%s: a key that cannot be a key: %v", s, connector.CheckKey(rec.Key, lim))})
		case rec.Err != nil:
			re := state.RecordErr{Code: string(cmp.Or(connector.CodeOf(rec.Err), connector.CodeRowUnreadable)), Message: rec.Err.Error()}
			for err := rec.Err; err != nil && re.Field == ""; err = errors.Unwrap(err) {
				if ferr, ok := err.(*connector.RecordError); ok {
					re.Field = ferr.Field // a view wraps the connector's, which names the column
				}
			}
			r.unreadErrs = append(r.unreadErrs, re)
		}
		return
	}
	id := r.keyID(rec.Key)
	if s == Local {
		if a, ok := r.alias[id]; ok {
			id = a
		}
	}
	if s == SF && connector.CodeOf(rec.Err) == connector.CodeOutOfScope {
		// Outside the job's where. A record the job never held is none
		// of its business: not unknown, not pending, not reported, never
		// read again by key (unless the local side has the key: then the
		// local read below makes it unknown). One the job holds left the
		// scope: unknown, as any record read with an error.
		// (An entry only a key listing made is no holding.)
		if e, known := r.entries[id]; (!known || !e.has && e.pres[SF] == pNone && e.pres[Local] == pNone) && !r.pending[id] {
			if r.outside == nil {
				r.outside = map[string]string{}
			}
			r.outside[id] = connector.NormalizeKey(rec.Key)
			return
		}
	}
	if k, ok := r.outside[id]; ok && s == Local {
		delete(r.outside, id)
		r.entry(id) // known now: the Salesforce side reads as unknown
		r.take(SF, connector.Record{Key: k, Err: &connector.ValueError{Code: connector.CodeOutOfScope, Detail: "the local row's key is a Salesforce record outside the job's where"}})
	}
	e := r.entry(id)
	if e.keys[s] == "" {
		// As the side spells it (plans, notes and errors name it so; the
		// KeyID stays internal), even for a record that turns out unknown.
		e.keys[s] = connector.NormalizeKey(rec.Key)
	}
	if e.pres[s] == pUnknown {
		return
	}
	if rec.Err != nil {
		e.pres[s] = pUnknown
		e.rw().why[s] = string(cmp.Or(connector.CodeOf(rec.Err), connector.CodeRowUnreadable))
		return
	}
	if rec.Deleted {
		if e.pres[s] == pNone {
			e.pres[s] = pAbsent
		}
		return
	}
	if e.pres[s] == pPresent {
		e.pres[s] = pUnknown
		e.rw().why[s] = "duplicate key"
		e.x.fp[s], e.x.vals[s] = nil, nil
		return
	}
	fps, vals := r.fpBuf, r.valBuf
	for i, name := range r.names {
		raw, ok := rec.Fields[name]
		if !ok {
			// Unknown on this side for this run (a cell that did not map,
			// a closed consent gate): fingerprint 0, never null.
			vals[i], fps[i] = connector.Null(), 0
			continue
		}
		v, err := canonical(raw, r.sfF[i])
		if err != nil {
			e.pres[s] = pUnknown
			e.rw().why[s] = name + ": " + string(cmp.Or(connector.CodeOf(err), connector.CodeInvalidValue))
			return
		}
		vals[i] = v
		fps[i] = r.fingerprint(i, v)
	}
	e.pres[s] = pPresent
	if k := connector.NormalizeKey(rec.Key); k != e.keys[s] {
		e.keys[s] = k
	}
	r.counts.Read++
	keep := !e.has || r.pending[id]
	same := e.has
	for i := range fps {
		last := e.fs[i].SF
		if s == Local {
			last = e.fs[i].Local
		}
		if fps[i] != last {
			same = false
		}
		if fps[i] != e.fs[i].Base || r.ruleOf(e, i) != r.rule[i] {
			keep = true
		}
	}
	if keep {
		x := e.rw()
		x.fp[s], x.vals[s], x.mod[s] = slices.Clone(fps), slices.Clone(vals), rec.Modified
	} else if !same {
		e.rw().fp[s] = slices.Clone(fps)
	}
	if rec.ID != "" && r.keepID(e, s, keep, rec.Key) {
		e.rw().id[s] = rec.ID
	}
	clear(vals)
}

// matchOn pairs records new on both sides whose keys differ but whose
// match_on fields agree (each tuple unique on its side).
func (r *runner) matchOn() {
	if len(r.job.MatchOn) == 0 {
		return
	}
	var idx []int
	for _, m := range r.job.MatchOn {
		for i, n := range r.names {
			if strings.EqualFold(n, m) {
				idx = append(idx, i)
			}
		}
	}
	type tuple string
	sig := func(e *entry, s Side) (tuple, bool) {
		b := make([]byte, 0, 8*len(idx))
		for _, i := range idx {
			fp := e.x.fp[s][i]
			if fp == r.null[i] || fp == 0 {
				return "", false
			}
			b = fmt.Appendf(b, "%016x", uint64(fp))
		}
		return tuple(b), true
	}
	var side [2]map[tuple][]*entry
	for s := range side {
		side[s] = map[tuple][]*entry{}
	}
	for _, e := range r.entries {
		if e.has || e.pres[SF] == e.pres[Local] {
			continue
		}
		for s := SF; s <= Local; s++ {
			if e.pres[s] == pPresent && e.pres[s.Other()] == pAbsent && e.ro().fp[s] != nil {
				if t, ok := sig(e, s); ok {
					side[s][t] = append(side[s][t], e)
				}
			}
		}
	}
	for t, sfs := range side[SF] {
		ls := side[Local][t]
		if len(sfs) != 1 || len(ls) != 1 {
			continue
		}
		a, b := sfs[0], ls[0]
		a.pres[Local], a.keys[Local], a.rw().fp[Local] = pPresent, b.keys[Local], b.ro().fp[Local]
		a.rw().vals[Local], a.rw().mod[Local] = b.ro().vals[Local], b.ro().mod[Local]
		a.matched = true
		delete(r.entries, b.id)
		r.alias[b.id] = a.id
	}
}

// decideAll decides every entry and returns them in key order.
func (r *runner) decideAll() []*entry {
	order := make([]*entry, 0, len(r.entries))
	for _, e := range r.entries {
		order = append(order, e)
	}
	slices.SortFunc(order, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	for _, e := range order {
		r.decide(e)
	}
	return order
}

func (r *runner) decide(e *entry) {
	if e.pres[SF] == pUnknown || e.pres[Local] == pUnknown {
		e.unknown = true
		e.dirty = e.has || e.pendingBefore || e.pres[SF] == pPresent || e.pres[Local] == pPresent
		return
	}
	sfP, locP := e.pres[SF] == pPresent, e.pres[Local] == pPresent
	dir := r.job.direction()
	switch {
	case !e.has && sfP && locP:
		r.decideFields(e)
		e.dirty = true
	case !e.has && (sfP || locP):
		from := SF
		if locP {
			from = Local
		}
		to := from.Other()
		if _, dead := r.tombs[r.FP.KeyHash(e.id)]; dead {
			e.dirty = e.pendingBefore
			return
		}
		if dir.writes(to) {
			e.op[to] = OpCreate
			e.rw().opReason[to] = "new on " + from.String()
			e.gated = !r.open(e, from)
		}
		e.dirty = e.pendingBefore
	case !e.has:
		e.dirty = e.pendingBefore
	case sfP && locP:
		e.newFlags = 0
		e.dirty = e.flags != 0 || e.ro().fp[SF] != nil || e.ro().fp[Local] != nil || e.pendingBefore
		r.decideFields(e)
	case !sfP && !locP:
		e.drop = true
		e.dirty = true
	default:
		gone := SF
		if sfP {
			gone = Local
		}
		if s, n := r.incomplete(); n > 0 {
			// A read that passed rows it could not read whole (an
			// unclosed quote may have swallowed others) decides no delete
			// on either side: the record stays as it was until a run
			// reads both sides whole. (A row with an emptied key cell
			// only makes the records not seen on its side unknown.)
			e.unknown, e.dirty, e.pres[gone] = true, true, pUnknown
			e.rw().why[gone] = fmt.Sprintf("deleted on %s; a delete waits for a complete read (%d %s row(s) unreadable)", gone, n, s)
			return
		}
		r.deleted(e, gone)
	}
}

// maxUnreadLogged bounds the unreadable rows one run logs (a file of
// garbage must not fill the state store); the count is exact.
const maxUnreadLogged = 1000

// incomplete returns a side whose read passed rows it could not read
// whole, and how many, or 0.
func (r *runner) incomplete() (Side, int) {
	for s := SF; s <= Local; s++ {
		if r.damaged[s] > 0 {
			return s, r.damaged[s]
		}
	}
	return SF, 0
}

// deleted decides a record with state that side gone no longer has.
func (r *runner) deleted(e *entry, gone Side) {
	keep := gone.Other()
	goneFlag := state.FlagSFDeleted
	if gone == Local {
		goneFlag = state.FlagLocalDeleted
	}
	e.dirty = e.ro().fp[keep] != nil || e.pendingBefore
	policy := r.job.deletes()
	if e.flags&goneFlag != 0 && policy != Propagate {
		if policy == Flag {
			e.newFlags = e.flags
		}
		return
	}
	// Delete versus edit: an edit since the baseline wins, and the record
	// is created again from the side that kept it.
	edited := false
	for i := range r.names {
		if c := e.cur(keep, i); r.dir[i].writes(gone) && c != 0 && c != e.fs[i].Base {
			edited = true
		}
	}
	dir := r.job.direction()
	if edited && dir.writes(gone) { // refetch reads the values if need be
		e.gated = !r.open(e, keep)
		e.op[gone] = OpCreate
		e.rw().opReason[gone] = fmt.Sprintf("deleted on %s, edited on %s: edit wins", gone, keep)
		return
	}
	if policy == Propagate && dir.writes(keep) {
		e.op[keep] = OpDelete
		e.rw().opReason[keep] = "deleted on " + gone.String()
		return
	}
	e.newFlags = e.flags | goneFlag
	e.dirty = true
}

// decideFields decides every field of a record both sides hold; e.dec
// stays nil when no field has anything to do.
func (r *runner) decideFields(e *entry) {
	any := !e.has
	for i := range r.names {
		r.decBuf[i] = r.field(e, i)
	}
	if r.consent >= 0 {
		r.gate(e)
	}
	for i := range r.names {
		if r.decBuf[i].kind != dNone {
			any = true
		}
	}
	if any {
		e.rw().dec = slices.Clone(r.decBuf)
		r.setOps(e)
	}
	if e.tomb {
		if _, ok := r.tombs[r.FP.KeyHash(e.id)]; !ok {
			e.dirty = true
		}
	}
}

// open reports whether side s lets the gated fields flow: no consent in
// the job, or its consent value is known and one of the allowed values.
func (r *runner) open(e *entry, s Side) bool {
	if r.consent < 0 {
		return true
	}
	return r.allowed[e.cur(s, r.consent)]
}

// withdrawn reports whether side s holds consent withdrawn: a value that
// is known, not null and not allowed (a blank or unknown consent keeps the
// gate closed without being a withdrawal).
func (r *runner) withdrawn(e *entry, s Side) bool {
	if r.consent < 0 {
		return false
	}
	c := e.cur(s, r.consent)
	return c != 0 && c != r.blank && !r.allowed[c]
}

// gate applies consent to the field decisions in decBuf: a new withdrawal
// on one side (a change into a value that is not allowed) is written to
// the other whatever the direction or policy, and while either side is
// closed the gated fields do not flow. The key of a withdrawn record gets
// a tombstone, so that once the person is erased an old row cannot create
// them again.
func (r *runner) gate(e *entry) {
	c := r.consent
	if r.open(e, SF) && r.open(e, Local) {
		return
	}
	why := "consent not given"
	wS, wL := r.withdrawn(e, SF), r.withdrawn(e, Local)
	if wS || wL {
		e.tomb = true
		why = "consent withdrawn"
	}
	if wS != wL {
		from := SF
		if wL {
			from = Local
		}
		// A withdrawal, unless the withdrawn side is the old state and the
		// other side granted consent again since.
		if fp := e.cur(from, c); fp != e.fs[c].Base || r.ruleOf(e, c) != r.rule[c] {
			r.decBuf[c] = write(from.Other(), fp, "consent withdrawn on "+from.String())
		}
	}
	for i, g := range r.gatedF {
		if g && (r.decBuf[i].kind == dWrite || r.decBuf[i].kind == dConflict) {
			r.decBuf[i] = fdec{kind: dGated, reason: why}
		}
	}
}

// creates reports whether a create on side to sets field i: a field the
// source side did not give (unknown) is left out.
func (r *runner) creates(e *entry, to Side, i int) bool {
	return r.dir[i].writes(to) && !(e.gated && r.gatedF[i]) && e.cur(to.Other(), i) != 0
}

// setOps turns field decisions into per-side update operations.
func (r *runner) setOps(e *entry) {
	for _, d := range e.ro().dec {
		if d.kind == dWrite && e.op[d.to] == 0 {
			e.op[d.to] = OpUpdate
		}
	}
}

func write(to Side, fp state.Fingerprint, reason string) fdec {
	return fdec{kind: dWrite, to: to, fp: fp, reason: reason}
}

// field applies the decision table to field i of a record both sides hold.
func (r *runner) field(e *entry, i int) fdec {
	s, l := e.cur(SF, i), e.cur(Local, i)
	if s == 0 || l == 0 {
		// Missing from a side's record: unknown there this run. No write
		// from it or to it, no clear, no new baseline, no conflict.
		return fdec{kind: dUnknown}
	}
	ds, dl := r.delta(e, i, s), r.delta(e, i, l)
	initial := ds&DeltaNew != 0
	if q := r.queue[[2]string{e.id, r.names[i]}]; q != nil {
		pol, what := r.job.conflict(), "manual"
		if initial {
			pol, what = r.job.initial(), "initial: manual"
		}
		switch {
		case s == l:
			return fdec{kind: dBaseline, fp: s, reason: "conflict gone: both sides agree", close: true}
		case q.Resolution == state.SideSalesforce:
			d := write(Local, s, "conflict resolved: salesforce")
			d.close = true
			return d
		case q.Resolution == state.SideLocal:
			d := write(SF, l, "conflict resolved: local")
			d.close = true
			return d
		case pol == Manual:
			return fdec{kind: dConflict, reason: what}
		}
		// The job left manual: decide afresh and drop the queue entry.
		var d fdec
		if initial {
			d = r.initialField(e, i, s, l, ds, dl)
		} else {
			d = r.fieldTable(e, i, s, l, ds, dl)
		}
		d.close = true
		return d
	}
	if initial {
		return r.initialField(e, i, s, l, ds, dl)
	}
	return r.fieldTable(e, i, s, l, ds, dl)
}

// fieldTable is DESIGN.md §5's decision table for one field: the two
// sides' deltas joined, after checking whether both now hold equal values.
func (r *runner) fieldTable(e *entry, i int, s, l state.Fingerprint, ds, dl Delta) fdec {
	sc, lc := ds&DeltaChanged != 0, dl&DeltaChanged != 0
	if src, oneWay := r.dir[i].source(); oneWay {
		cs, srcChanged := s, sc
		if src == Local {
			cs, srcChanged = l, lc
		}
		switch {
		case s == l && !sc:
			return fdec{}
		case s == l:
			return fdec{kind: dBaseline, fp: cs, reason: "both changed alike"}
		case srcChanged:
			return write(src.Other(), cs, "changed on "+src.String()+", one-way")
		}
		return fdec{kind: dKeep, base: e.fs[i].Base, reason: "edited on " + src.Other().String() + ", one-way field: kept"}
	}
	switch {
	case !sc && !lc:
		return fdec{}
	case sc && !lc:
		return write(Local, s, "changed on salesforce")
	case !sc && lc:
		return write(SF, l, "changed on local")
	case s == l:
		return fdec{kind: dBaseline, fp: s, reason: "both changed alike"}
	}
	return r.policy(e, i, r.job.conflict(), "conflict")
}

// policy decides a difference between both sides by p.
func (r *runner) policy(e *entry, i int, p Policy, what string) fdec {
	s, l := e.cur(SF, i), e.cur(Local, i)
	switch p {
	case SalesforceWins:
		return write(Local, s, what+": salesforce_wins")
	case LocalWins:
		return write(SF, l, what+": local_wins")
	case NewestWins:
		ms, ml := e.ro().mod[SF], e.ro().mod[Local]
		switch {
		case ms.IsZero() || ml.IsZero():
			return fdec{kind: dConflict, reason: what + ": newest_wins without modification times: manual"}
		case ms.After(ml):
			return write(Local, s, what+": newest_wins (salesforce newer)")
		case ml.After(ms):
			return write(SF, l, what+": newest_wins (local newer)")
		}
		return fdec{kind: dConflict, reason: what + ": newest_wins tie: manual"}
	}
	return fdec{kind: dConflict, reason: what + ": manual"}
}

// initialField decides field i with no baseline under its current rule:
// first sync, a new field, or a changed rule.
func (r *runner) initialField(e *entry, i int, s, l state.Fingerprint, ds, dl Delta) fdec {
	if s == l {
		return fdec{kind: dBaseline, fp: s, reason: "initial: equal"}
	}
	if src, oneWay := r.dir[i].source(); oneWay {
		cs, dsrc := s, ds
		if src == Local {
			cs, dsrc = l, dl
		}
		if dsrc&DeltaNull != 0 {
			return fdec{kind: dKeep, base: cs, reason: "initial: null never overwrites"}
		}
		return write(src.Other(), cs, "initial: one-way from "+src.String())
	}
	switch {
	case ds&DeltaNull != 0:
		return write(SF, l, "initial: fills null")
	case dl&DeltaNull != 0:
		return write(Local, s, "initial: fills null")
	}
	return r.policy(e, i, r.job.initial(), "initial")
}

func (r *runner) buildPlan(order []*entry) {
	p := &Plan{Job: r.job.Name, First: r.first, Incremental: r.incr, Unreadable: r.unread}
	var ups [2][]Write
	var dels [2][]Write
	for _, e := range order {
		if e.pres[SF] == pPresent {
			p.Seen[SF]++
		}
		if e.pres[Local] == pPresent {
			p.Seen[Local]++
		}
		if e.pres[SF] == pPresent && e.pres[Local] == pPresent && !e.has {
			p.Matched++
		}
		if e.matched {
			p.Notes = append(p.Notes, Note{Kind: NoteMatched, Key: e.key(), Detail: "match_on pairs local " + e.keys[Local]})
		}
		if e.linked {
			p.Notes = append(p.Notes, Note{Kind: NoteLinked, Key: e.key(), Detail: "local " + e.keys[Local] + " links to this record"})
		}
		if e.rekey && !e.unknown {
			p.Notes = append(p.Notes, Note{Kind: NoteRekey, Key: e.key(), Detail: "salesforce takes the local key " + e.keys[Local]})
		}
		switch {
		case e.unknown:
			for s := SF; s <= Local; s++ {
				if e.pres[s] == pUnknown {
					p.Notes = append(p.Notes, Note{Kind: NoteUnknown, Key: e.key(), Detail: s.String() + ": " + e.ro().why[s]})
				}
			}
			continue
		case !e.has && !e.hasWrite() && (e.pres[SF] == pPresent) != (e.pres[Local] == pPresent):
			if _, dead := r.tombs[r.FP.KeyHash(e.id)]; dead {
				p.Notes = append(p.Notes, Note{Kind: NoteBlocked, Key: e.key(), Detail: "tombstone: not created again"})
			}
		case e.has && !e.hasWrite() && r.job.deletes() == Flag && e.newFlags != 0 && (e.pres[SF] == pPresent) != (e.pres[Local] == pPresent):
			gone := SF
			if e.pres[Local] != pPresent {
				gone = Local
			}
			p.Notes = append(p.Notes, Note{Kind: NoteFlag, Key: e.key(), Detail: "deleted on " + gone.String() + ", kept on " + gone.Other().String()})
		}
		for _, i := range r.jobOrder {
			if e.ro().dec == nil {
				break
			}
			d := e.x.dec[i]
			switch d.kind {
			case dBaseline:
				if d.reason != "initial: equal" {
					p.Notes = append(p.Notes, Note{Kind: NoteBaseline, Key: e.key(), Field: r.names[i], Detail: d.reason})
				}
			case dGated:
				p.Notes = append(p.Notes, Note{Kind: NoteGated, Key: e.key(), Field: r.names[i], Detail: d.reason})
			case dConflict:
				p.Notes = append(p.Notes, Note{Kind: NoteConflict, Key: e.key(), Field: r.names[i], Detail: strings.TrimPrefix(d.reason, "conflict: ")})
			}
		}
		for s := SF; s <= Local; s++ {
			if e.op[s] == 0 {
				continue
			}
			w := Write{Side: s, Op: e.op[s], Key: e.keys[s], Reason: e.ro().opReason[s], e: e}
			if w.Key == "" {
				w.Key = e.keys[s.Other()]
			}
			switch e.op[s] {
			case OpCreate:
				for _, i := range r.jobOrder {
					if r.creates(e, s, i) {
						w.Changes = append(w.Changes, Change{Field: r.names[i]})
					}
				}
				ups[s] = append(ups[s], w)
			case OpUpdate:
				for _, i := range r.jobOrder {
					if d := e.x.dec[i]; d.kind == dWrite && d.to == s {
						w.Changes = append(w.Changes, Change{Field: r.names[i], Reason: d.reason})
					}
				}
				ups[s] = append(ups[s], w)
			case OpDelete:
				dels[s] = append(dels[s], w)
			}
		}
	}
	p.Writes = slices.Concat(ups[SF], ups[Local], dels[SF], dels[Local])
	r.plan = p
}

// safety applies the aborts that come before any write.
func (r *runner) safety() error {
	if r.opts.Force {
		return nil
	}
	p := r.plan
	if smaller := min(p.Seen[SF], p.Seen[Local]); r.first && r.job.minMatchRate() > 0 && smaller > 0 && smaller >= r.job.minMatchSample() {
		if float64(p.Matched) < r.job.minMatchRate()*float64(smaller) {
			return &AbortError{Reason: fmt.Sprintf("first sync of job %s matches %d of %d records (brake at %g); check the key and key_prefix, or use --force",
				r.job.Name, p.Matched, smaller, r.job.minMatchRate())}
		}
	}
	if err := r.parentDeletes(); err != nil {
		return err
	}
	var ups [2]int
	for _, w := range p.Writes {
		if w.Op == OpUpdate {
			ups[w.Side]++
		}
	}
	for s, n := range ups {
		if n > 0 && r.job.MaxUpdate.exceeded(n, r.stateCount()) {
			return &AbortError{Reason: fmt.Sprintf("job %s would update %d records on %s, above max_update %s; use --force to go ahead", r.job.Name, n, Side(s), r.job.MaxUpdate)}
		}
	}
	if dels := p.Count(OpDelete); dels > 0 && r.job.MaxDelete.exceeded(dels, r.stateCount()) {
		return &AbortError{Reason: fmt.Sprintf("job %s would delete %d records, above max_delete %s; use --force to go ahead", r.job.Name, dels, r.job.MaxDelete)}
	}
	return nil
}

// parentDeletes refuses (without --force) to delete a parent record that
// has children in the state of a child job.
func (r *runner) parentDeletes() error {
	var dels []Write
	for _, w := range r.plan.Writes {
		if w.Op == OpDelete {
			dels = append(dels, w)
		}
	}
	if len(dels) == 0 || len(r.job.Children) == 0 {
		return nil
	}
	parents := map[string]bool{}
	for _, c := range r.job.Children {
		f := &family{suffix: c.Suffix}
		err := r.Store.Records(context.Background(), c.Job.Name, func(rs state.RecordState) error {
			parents[f.parentOf(rs.Key)] = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, w := range dels {
		if parents[w.e.id] {
			return &AbortError{Reason: fmt.Sprintf("job %s would delete %s %s, which has child records; use --force", r.job.Name, w.Side, w.Key)}
		}
	}
	return nil
}

func (r *runner) stateCount() int {
	n := 0
	for _, e := range r.entries {
		if e.has {
			n++
		}
	}
	return n
}

// Tombstone records that the record with key (an erased or withdrawn
// person) must never be created again in job's object: only a hash of the
// key is kept. A record that still exists on a side is not touched, but a
// side that lacks it will not get it back.
func (e *Engine) Tombstone(ctx context.Context, job *Job, key string) error {
	o, err := e.SF.Describe(ctx, job.Object)
	if err != nil {
		return err
	}
	h := e.FP.KeyHash(o.KeyID(key))
	return e.Store.Update(ctx, job.Name, func(tx state.Tx) error {
		return tx.AddTombstone(job.Object, h, e.now())
	})
}
