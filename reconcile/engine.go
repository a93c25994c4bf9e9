package reconcile

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
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
	// EphemeralKey says FP is a throwaway key for a dry run on a new
	// installation (no key file yet, none written): the state's key id is
	// neither checked nor recorded.
	EphemeralKey bool
	// Journal keeps a lockout the state store could not record (it failed
	// with the commit that caused it) until the store records it: the
	// job's next run records it before anything else, and refuses to
	// start while it cannot. Nil: such a lockout is only reported.
	Journal LockoutJournal
	// APICalls, when set, returns the requests the Salesforce side has
	// sent for the job's run so far (counted from before the caller
	// opened the job: describes and lookups included): a run records
	// (Result.APICalls, the history) those rather than its own count of
	// connector calls. A child job's run records those sent during it.
	APICalls func() int64
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

// CreateIdempotence is implemented by a Salesforce-side connector whose
// creates of some objects are not idempotent. A create sent by a replica
// that has lost the job's lease (paused past it) may meet the new holder's
// create of the same record: for an object upserted by an external id the
// second create updates the first, and the next run reads both sides and
// converges; for one without (a child keyed by its parent: a create is a
// POST) it makes a second record, and the pairing of key and Id that the
// next run relies on is not to be trusted. The engine then locks the job
// out instead of handing it over (README.md, "Lockout"). A connector that
// does not implement it has idempotent creates.
type CreateIdempotence interface {
	// CreatesIdempotent reports whether a create of object sent twice
	// leaves one record (an upsert by an external id).
	CreatesIdempotent(object string) bool
}

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
	// APICalls counts the Salesforce requests the run sent (Engine.APICalls),
	// or else the connector calls it made; a child job's are its own.
	APICalls int
	// Children holds the results of the job's child jobs, in order.
	Children []*Result
	// Timing is how long each phase of the run took (its children's
	// not included).
	Timing Timing
	// Parts is the number of parts the run was split into (Job.PartSize);
	// 0 when it held all its records at once.
	Parts int
}

// Timing is the wall time of a run's phases.
type Timing struct {
	// Read covers loading the state and reading both sides (lookups
	// included); Plan deciding and the safety brakes; Apply the writes
	// and their state commits.
	Read, Plan, Apply time.Duration
}

const (
	cursorName  = "salesforce"      // the Salesforce change cursor
	listedName  = "salesforce_keys" // when Salesforce keys were last listed
	keylessName = "keyless"         // keyless settings and records reported (keyless.go)
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

// entry is one record of the run, both sides. A run holds one per record
// of the job (and per row read), so its fields are ordered words first,
// then bytes, leaving no padding between them.
type entry struct {
	id   string
	keys [2]string
	fs   []fstate // by internal field index
	x    *extra   // the rarer parts, allocated when needed
	// salt binds the record's stored fingerprints (fingerprint.go); zero
	// until the record has one (new, or loaded from format 1 in a run
	// that does not write).
	salt salt

	has           bool // has state
	flags         state.Flags
	pres          [2]presence
	listed        bool
	pendingBefore bool

	op       [2]Op
	opWhy    [2]opReason // why op is a create or a delete (opReason.String)
	out      [2]outcome
	newFlags state.Flags
	drop     bool // forget the record (gone on both sides)
	unknown  bool
	matched  bool // paired by match_on
	linked   bool // paired by the local record's link to the Salesforce Id
	rekey    bool // the Salesforce record is to take the local key (link.go)
	gated    bool // created without the consent-gated fields
	// keyless: the Salesforce record was read without a key (id[SF]
	// holds its Id) and has not taken one yet (keyless.go).
	keyless   bool
	adopt     bool // adopted: Salesforce takes keys[Local] before the local create
	adopted   bool // adopted (or its stopped adoption finished)
	ambiguous bool // match_on pairs it with several records: held for a person
	readSF    bool // read from Salesforce this run (in the job's where)
	outScope  bool // read this run as outside the job's where (held before)
	leftNote  bool // left the where this run: reported once
	drain     bool // pending, decided by a run that writes held records first
	tomb      bool // consent withdrawn: keep a tombstone of the key
	dirty     bool // state changes without a write
	// v1: the state was loaded from format 1 (unbound fingerprints); this
	// run's apply writes it bound (fingerprint.go, convertV1).
	v1 bool
}

// fstate is a state.FieldState without its name (runner.names gives it)
// and its rule (entry.rule gives it): what a record keeps of each field.
type fstate struct {
	Base, SF, Local state.Fingerprint
}

// extra holds what only records with something to do need, so that the
// 99% that have nothing to do stay small. It is itself kept small: a
// record created or updated carries its fingerprints, decisions, values
// and Ids here (a 1,000,000-row first sync holds one per row), and the
// rest, which few records need, is in cold.
type extra struct {
	fp   [2][]state.Fingerprint // current fingerprints; nil: as last seen
	dec  []fdec                 // field decisions; nil: nothing to do
	vals [2][]connector.Value   // kept canonical values, when needed
	// id holds each side's Record.ID as read (the Salesforce Id; locally,
	// the Salesforce Id the row links to), or as a create returned it.
	id   [2]string
	cold *cold // the rarer parts, allocated when needed
}

// cold holds the parts of a record's extra that few records need: a
// changed rule, a rekey, a newest_wins policy, an unknown side, a failed
// write, a keyless record, a match_on tuple.
type cold struct {
	// rules holds each field's stored rule when one of them is not the
	// job's current rule (nil: every field is under its current rule).
	rules    []state.Fingerprint
	rekeyErr error        // why a rekey did not happen
	moved    string       // the state key the record was kept under before a rekey
	mod      [2]time.Time // modification times of kept records (newest_wins only: runner.needMod)
	why      [2]string    // why a side is unknown
	err      [2]error
	// adoptKey is the key a keyless record takes if adopted; note says
	// why one is not, or why a match is ambiguous (value-free).
	adoptKey string
	note     string
	// match is each side's match_on tuple (matchTuple), for records new
	// to the job.
	match [2]string
}

var (
	noExtra extra
	noCold  cold
)

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

// co returns e's cold parts for reading (a shared zero one if none).
func (e *entry) co() *cold {
	if e.x == nil || e.x.cold == nil {
		return &noCold
	}
	return e.x.cold
}

// cw returns e's cold parts for writing, allocating them.
func (e *entry) cw() *cold {
	x := e.rw()
	if x.cold == nil {
		x.cold = new(cold)
	}
	return x.cold
}

// setMod records the modification time of e's record on side s, when the
// job's policies compare them (runner.needMod): no cold parts otherwise.
func (r *runner) setMod(e *entry, s Side, t time.Time) {
	if !r.needMod || t.IsZero() && e.co().mod[s].IsZero() {
		return
	}
	e.cw().mod[s] = t
}

// ruleOf returns the rule the baseline of field i was made under, as
// stored (0: none).
func (r *runner) ruleOf(e *entry, i int) state.Fingerprint {
	if !e.has {
		return 0 // no state: nothing stored
	}
	if rules := e.co().rules; rules != nil {
		return rules[i]
	}
	return r.rule[i]
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
	if strings.HasPrefix(e.id, keylessPrefix) {
		return e.ro().id[SF] // a keyless record not paired nor adopted
	}
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
	scope    []scope             // binding scope, by job field (fingerprint.go)
	bnd      *binder
	v1       []v1Record   // records loaded from format 1, to be written bound
	v1Confl  []v1Conflict // their queued conflicts
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
	// writes are the plan's writes in apply order, each with its entry
	// (the plan keeps them without).
	writes []Write
	counts state.Counts
	failed []state.RecordErr
	unread [2]int
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
	// unfenced names the object of a batch of creates sent to Salesforce
	// that are not idempotent (CreateIdempotence) while its state is not
	// committed yet: losing the lease then locks the job out (apply.go).
	unfenced string
	// keylessLeft are the keyless records neither paired nor adopted;
	// keylessSeen the hashes of those reported by earlier runs, and
	// keylessChanged whether the settings for them changed since.
	keylessLeft    []*entry
	keylessSeen    map[string]bool
	keylessChanged bool
	keylessLoaded  string // the keyless cursor as loaded
	adoptField     string // Job.Adopt.Field as Salesforce spells it
	matchIdx       []int  // internal indexes of the match_on fields
	// budgetHeld counts the writes an earlier run held back for the API
	// budget or the org's limit; deferred is set when this run writes
	// them before reading Salesforce's changes (read.go, readPending).
	budgetHeld int
	deferred   bool
	// holdCursor keeps the change cursor where it was: a keyless
	// record could not take its key, and must be read again.
	holdCursor bool
	// needMod: a policy of the job is newest_wins, so records keep their
	// modification times (setMod).
	needMod bool
	// pt splits a large run into parts (parts.go); stateN counts the
	// job's stored records (every part's), staleRules says one of them
	// has a field under a rule that is not current (needsFull).
	pt         parts
	stateN     int
	staleRules bool
	// tally counts the writes of the parts planned so far (safety).
	tally writeTally
}

// writeTally counts a plan's updates by side and its deletes.
type writeTally struct {
	ups  [2]int
	dels int
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
	if err := e.recordKept(ctx, job.Name); err != nil {
		return nil, err
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
			err = e.keep(l, err, lerr)
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
		// Unknown, held for a person, left for the next run (a run that
		// wrote held records first), or not keyed in Salesforce yet: the
		// record is not on both sides as far as this run knows.
		if e.unknown || e.ambiguous || r.deferred && !e.drain || e.co().rekeyErr != nil {
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
	var sent0 int64 // a job's run counts from its start (APICalls); a child's from its own
	if e.APICalls != nil && fam != nil {
		sent0 = e.APICalls()
	}
	id, err := e.Store.StartRun(ctx, job.Name, r.start)
	if err != nil {
		return nil, r, err
	}
	r.runID = id
	// A run refused while preparing (a describe, the job's validation, the
	// fingerprint key) is in the history too, failed with its reason.
	var res *Result
	if err = r.prepare(ctx); err == nil {
		res, err = r.run(ctx)
	}
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
	calls := r.calls
	if e.APICalls != nil {
		calls = int(e.APICalls() - sent0)
	}
	run := state.Run{ID: id, Job: job.Name, Start: r.start, End: e.now(), Counts: r.counts, APICalls: calls}
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
		res.APICalls = calls
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
	if a := r.job.Adopt; a != nil && a.Field != "" {
		f := r.obj[SF].Field(a.Field)
		if f == nil {
			return fmt.Errorf("job %s: adopt: %w: salesforce object %s: field %s", r.job.Name, ErrInvalidJob, r.obj[SF].Name, a.Field)
		}
		r.adoptField = f.Name
	}
	if r.EphemeralKey {
		// A dry run's throwaway key: nothing of it is recorded.
	} else if err := r.Store.CheckKeyID(ctx, r.FP.KeyID()); err != nil {
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
	r.scope = make([]scope, n)
	r.bnd = r.FP.binder()
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
		r.scope[i] = r.FP.scope(r.job.Name, r.obj[SF].Name, r.names[i]) // as described: the case a configuration spells it in does not matter
	}
	for _, m := range r.job.MatchOn {
		for i, n := range r.names {
			if strings.EqualFold(n, m) {
				r.matchIdx = append(r.matchIdx, i)
			}
		}
	}
	r.needMod = r.job.conflict() == NewestWins || r.job.initial() == NewestWins
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
	t0 := time.Now()
	if r.splittable() {
		r.pt.limit, r.pt.seed = r.job.partSize(), maphash.MakeSeed()
		defer r.pt.release()
	}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if err := r.read(ctx); err != nil {
		return nil, err
	}
	if r.pt.over && !r.pt.keyless {
		return r.runParts(ctx, t0)
	}
	if r.pt.over {
		// Salesforce records without a key are paired across keys: the
		// run is read again whole.
		r.pt.limit, r.pt.over, r.pt.reread = 0, false, true
		if r.pt.gcRestore != nil {
			r.pt.gcRestore() // not split: no tighter collector for the whole run
			r.pt.gcRestore = nil
		}
		r.resetPart()
		r.counts, r.unreadErrs = state.Counts{}, nil
		if err := r.load(ctx); err != nil {
			return nil, err
		}
		if err := r.read(ctx); err != nil {
			return nil, err
		}
	}
	r.pt.release()
	r.settle()
	var tm Timing
	tm.Read = time.Since(t0)
	t0 = time.Now()
	r.emptiedKeys()
	r.linkPairs()
	r.matchOn()
	r.adoptKeyless()
	order := r.decideAll()
	if err := r.refetch(ctx); err != nil {
		return nil, err
	}
	r.markRekeys()
	r.buildPlan(order)
	res := &Result{RunID: r.runID, Plan: r.plan}
	err := r.safety()
	tm.Plan = time.Since(t0)
	res.Timing = tm
	if err != nil {
		return res, err
	}
	if r.opts.DryRun {
		return res, nil
	}
	t0 = time.Now()
	defer func() { res.Timing.Apply = time.Since(t0) }()
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
