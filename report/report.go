package report

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// Format is the version tag of the report model, in Report.Format.
const Format = "casebridge.report/v1"

// Mode says what kind of run a report describes.
type Mode string

// Modes.
const (
	ModeApply   Mode = "apply"   // a sync that writes
	ModeDryRun  Mode = "dry_run" // a sync with --dry-run: planned, nothing written
	ModeCompare Mode = "compare" // `casebridge reconcile`: a full comparison, nothing written
)

// Outcome is how the run ended.
type Outcome string

// Outcomes.
const (
	OutcomeOK      Outcome = "ok"      // applied; nothing failed or was held back
	OutcomePartial Outcome = "partial" // applied; some writes failed or were held back (a conflict held for a person too)
	OutcomeDryRun  Outcome = "dry_run" // planned only (dry run or comparison)
	OutcomeAborted Outcome = "aborted" // a safety abort before any write
	OutcomeFailed  Outcome = "failed"  // a fatal error
)

// Status is what became of one planned write.
type Status string

// Write statuses.
const (
	StatusPlanned Status = "planned" // dry run, comparison or safety abort: not written
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
	StatusHeld    Status = "held"    // held back by the write budget; pending
	StatusUnknown Status = "unknown" // the run stopped, or the failure is not attributable
)

// Sensitivity classes of fields (reconcile.FieldSpec.Class).
const (
	ClassDirect    = "direct"
	ClassQuasi     = "quasi"
	ClassSensitive = "sensitive"
	// ClassUnknown is given to a field whose class the report does not
	// know; its values are never shown.
	ClassUnknown = "unknown"
)

// Report is one run of one job (with its child jobs), as reports show it.
// It holds values only as Options allowed.
type Report struct {
	Format      string    `json:"format"`
	Job         string    `json:"job"`
	RunID       int64     `json:"run_id,omitempty"`
	Mode        Mode      `json:"mode"`
	Outcome     Outcome   `json:"outcome"`
	Start       time.Time `json:"start,omitzero"`
	End         time.Time `json:"end,omitzero"`
	Error       string    `json:"error,omitempty"` // the abort reason or fatal error (no values)
	First       bool      `json:"first_sync,omitempty"`
	Incremental bool      `json:"incremental,omitempty"`
	// Values says what the report shows of values.
	Values   ValuePolicy `json:"values"`
	APICalls APICalls    `json:"api_calls"`
	// Totals adds up the objects' counts.
	Totals  Totals   `json:"totals"`
	Objects []Object `json:"objects"`
}

// ValuePolicy records what the report was allowed to show.
type ValuePolicy struct {
	Shown bool `json:"shown"`
	// Classes lists the classified field classes shown unmasked.
	Classes []string `json:"classes,omitempty"`
}

// APICalls are the connector calls the run made, and those left of the
// daily budget when the caller knows it.
type APICalls struct {
	Used int  `json:"used"`
	Left *int `json:"left,omitempty"`
}

// Totals are the run's counts over every object and side.
type Totals struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Flagged   int `json:"flagged"`
	Unchanged int `json:"unchanged"`
	Conflicts int `json:"conflicts"`
	Failed    int `json:"failed"`
	Pending   int `json:"pending"`
	Unknown   int `json:"unknown"`
}

// Object is one job's object: its counts, changes, conflicts, errors and
// notes.
type Object struct {
	Job         string       `json:"job"`
	Object      string       `json:"object"`
	First       bool         `json:"first_sync,omitempty"`
	Incremental bool         `json:"incremental,omitempty"`
	Matched     int          `json:"matched,omitempty"` // first sync: records present on both sides
	Counts      ObjectCounts `json:"counts"`
	Changes     []Change     `json:"changes"`
	Conflicts   []Conflict   `json:"conflicts"`
	Errors      []Error      `json:"errors"`
	Notes       []Note       `json:"notes"`
}

// ObjectCounts are one object's counts: per side, and those that belong
// to the record rather than a side.
type ObjectCounts struct {
	Salesforce SideCounts `json:"salesforce"`
	Local      SideCounts `json:"local"`
	// Unchanged counts records present on both sides that the run neither
	// writes nor notes. The plan does not say on which side an untouched
	// record present on one side only lies (deletes: ignore, a one-way
	// job), so this is the smaller of the two sides' untouched counts:
	// exact when there are none.
	Unchanged int `json:"unchanged"`
	// Conflicts counts fields queued for manual resolution.
	Conflicts int `json:"conflicts"`
	// Unknown counts records skipped as unreadable, duplicate or not
	// fitting their field on a side.
	Unknown int `json:"unknown"`
	// Failed counts every failed write of the object, including any whose
	// side could not be told (Error.Side "").
	Failed int `json:"failed"`
}

// SideCounts are one object's counts on one side.
type SideCounts struct {
	Seen       int `json:"seen"`       // records present
	Unreadable int `json:"unreadable"` // records without a usable key
	Created    int `json:"created"`
	Updated    int `json:"updated"`
	Deleted    int `json:"deleted"`
	Flagged    int `json:"flagged"` // deleted on the other side, kept here
	Failed     int `json:"failed"`
	Pending    int `json:"pending"` // writes left for the next run
}

// Side returns the counts of side s ("salesforce" or "local").
func (c *ObjectCounts) Side(s string) *SideCounts {
	if s == reconcile.Local.String() {
		return &c.Local
	}
	return &c.Salesforce
}

// Change is one write of one record to one side.
type Change struct {
	Side   string        `json:"side"`
	Op     string        `json:"op"` // create, update, delete
	Key    string        `json:"key"`
	Reason string        `json:"reason,omitempty"` // creates and deletes
	Status Status        `json:"status"`
	Fields []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one field a write sets.
type FieldChange struct {
	Field  string `json:"field"`
	Class  string `json:"class,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Old is the value the target side holds, New the value written;
	// both nil unless values are shown.
	Old *Value `json:"old,omitempty"`
	New *Value `json:"new,omitempty"`
}

// Conflict is one field changed differently on both sides, queued for
// manual resolution.
type Conflict struct {
	Key        string `json:"key"`
	Field      string `json:"field"`
	Class      string `json:"class,omitempty"`
	Reason     string `json:"reason"`
	Salesforce *Value `json:"salesforce,omitempty"`
	Local      *Value `json:"local,omitempty"`
}

// Error is one failed write: the record, the field when known, the error
// code and the engine's message (which carries no value).
type Error struct {
	Key     string `json:"key"`
	Object  string `json:"object"`
	Side    string `json:"side,omitempty"` // "" when it cannot be told
	Op      string `json:"op,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// Note is a decision that writes nothing: a new baseline, a flagged
// delete, a record skipped as unknown, a tombstone, a match_on pair, a
// field gated by consent.
type Note struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Values returns the value of field of the record key on side
// ("salesforce" or "local"), as it stood when the run planned; ok is false
// when it has none to give. A change asks for the new value on the source
// side and the old one on the target side, both under the write's key
// (reconcile.Write.Key, the target's: the two sides' keys differ only for
// records paired by match_on). It is asked only for values the report
// will show.
type Values func(side, key, field string) (v connector.Value, ok bool)

// Options are what a report needs beyond the engine's result.
type Options struct {
	// Mode of the run; "" means ModeApply for FromResult and ModeDryRun
	// for FromPlan.
	Mode Mode
	// Start and End of the run, when known (state.Run has them).
	Start, End time.Time
	// Err is the error the run returned, if any: a safety abort
	// (reconcile.ErrSafetyAbort) or a fatal error. Its message is shown;
	// engine errors carry no values.
	Err error
	// APICallsLeft is the daily API budget left, when the caller knows it.
	APICallsLeft *int
	// Job is the job that ran: it names the objects (with its children)
	// and gives each field's sensitivity class. Without it every field's
	// class is unknown and no value is ever shown.
	Job *reconcile.Job
	// Values gives field values to show; nil: none are shown.
	Values Values
	// ShowValues shows values of unclassified fields, and masks the
	// others (--show-values).
	ShowValues bool
	// ShowClasses lists the classes (direct, quasi, sensitive) whose
	// values are shown rather than masked, with ShowValues.
	ShowClasses []string
	// Unreadable are the errors of the rows the run could not read (an
	// unclosed quote, an emptied key cell): they name file, row and
	// column, never a value, and are listed with the job's errors (op
	// read; side local unless the error has a ReadSide method saying
	// otherwise) so that whoever mends the file sees where.
	Unreadable []error
	// Unmapped are the errors of the cells that did not map (key, field,
	// column and rule; never the value), listed with the job's errors
	// (side local, op map).
	Unmapped []error
}

// FromResult builds the report of a run of job from the engine's result.
// res may be the partial result returned with a safety abort (opt.Err
// then wraps reconcile.ErrSafetyAbort) or nil after an early fatal error.
func FromResult(job string, res *reconcile.Result, opt Options) *Report {
	if opt.Mode == "" {
		opt.Mode = ModeApply
	}
	r := newReport(job, opt)
	if res != nil {
		r.RunID = res.RunID
		r.APICalls.Used = res.APICalls
	}
	b := builder{opt: opt, r: r}
	b.result(res, opt.Job, true)
	b.unreadable()
	b.finish()
	return r
}

// HasErrors reports whether the report lists any error: a failed write or
// a row that could not be read.
func (r *Report) HasErrors() bool {
	for _, o := range r.Objects {
		if len(o.Errors) > 0 {
			return true
		}
	}
	return false
}

// unreadable lists the rows the run could not read and the cells it could
// not map with the first object's errors (the job's own object: rows are
// read for the parent).
func (b *builder) unreadable() {
	if len(b.opt.Unreadable)+len(b.opt.Unmapped) == 0 || len(b.r.Objects) == 0 {
		return
	}
	o := &b.r.Objects[0]
	add := func(op string, err error) {
		e := Error{Object: o.Object, Side: reconcile.Local.String(), Op: op, Code: string(connector.CodeOf(err)), Message: err.Error()}
		if s, ok := err.(interface{ ReadSide() string }); ok {
			e.Side = s.ReadSide()
		}
		for u := err; u != nil && e.Field == ""; u = errors.Unwrap(u) {
			if re, ok := u.(*connector.RecordError); ok {
				e.Field, e.Key = re.Field, cmp.Or(e.Key, re.Key)
			}
		}
		o.Errors = append(o.Errors, e)
	}
	for _, err := range b.opt.Unreadable {
		add("read", err)
	}
	for _, err := range b.opt.Unmapped {
		add("map", err)
	}
}

// FromPlan builds the report of a dry run or comparison from its plan
// alone (nothing was written). Options.Mode "" means ModeDryRun.
func FromPlan(job string, p *reconcile.Plan, opt Options) *Report {
	if opt.Mode == "" {
		opt.Mode = ModeDryRun
	}
	if opt.Mode == ModeApply {
		opt.Mode = ModeDryRun
	}
	r := newReport(job, opt)
	b := builder{opt: opt, r: r}
	b.result(&reconcile.Result{Plan: p}, opt.Job, true)
	b.unreadable()
	b.finish()
	return r
}

func newReport(job string, opt Options) *Report {
	r := &Report{Format: Format, Job: job, Mode: opt.Mode, Start: utc(opt.Start), End: utc(opt.End)}
	if opt.APICallsLeft != nil {
		n := *opt.APICallsLeft
		r.APICalls.Left = &n
	}
	r.Values.Shown = opt.ShowValues && opt.Values != nil
	if r.Values.Shown {
		for _, c := range []string{ClassDirect, ClassQuasi, ClassSensitive} {
			if slices.Contains(opt.ShowClasses, c) {
				r.Values.Classes = append(r.Values.Classes, c)
			}
		}
	}
	if opt.Err != nil {
		r.Error = opt.Err.Error()
	}
	return r
}

type builder struct {
	opt Options
	r   *Report
}

// result adds the objects of res (and its children) to the report. The
// job, when known, names the object and the fields' classes.
func (b *builder) result(res *reconcile.Result, job *reconcile.Job, top bool) {
	obj := Object{Changes: []Change{}, Conflicts: []Conflict{}, Errors: []Error{}, Notes: []Note{}}
	classes := map[string]string{}
	if job != nil {
		obj.Job, obj.Object = job.Name, job.Object
		for _, f := range job.Fields {
			classes[strings.ToLower(f.Name)] = f.Class
		}
	}
	var p *reconcile.Plan
	if res != nil {
		p = res.Plan
	}
	if p != nil && obj.Job == "" {
		obj.Job = p.Job
	}
	if obj.Job == "" && top {
		obj.Job = b.r.Job
	}
	if obj.Object == "" {
		obj.Object = obj.Job
	}
	if p != nil {
		obj.First, obj.Incremental, obj.Matched = p.First, p.Incremental, p.Matched
		if top {
			b.r.First, b.r.Incremental = p.First, p.Incremental
		}
		b.plan(&obj, res, p, classes)
	}
	b.r.Objects = append(b.r.Objects, obj)
	if res == nil {
		return
	}
	for i, c := range res.Children {
		var cj *reconcile.Job
		if job != nil && i < len(job.Children) {
			cj = job.Children[i].Job
		}
		b.result(c, cj, false)
	}
}

// applied reports whether the run's writes were attempted and the result
// tells how each went.
func (b *builder) applied() bool {
	return b.opt.Mode == ModeApply && b.opt.Err == nil
}

func (b *builder) plan(obj *Object, res *reconcile.Result, p *reconcile.Plan, classes map[string]string) {
	c := &obj.Counts
	c.Salesforce.Seen, c.Local.Seen = p.Seen[reconcile.SF], p.Seen[reconcile.Local]
	c.Salesforce.Unreadable, c.Local.Unreadable = p.Unreadable[reconcile.SF], p.Unreadable[reconcile.Local]

	status := make([]Status, p.NumWrites())
	base := StatusPlanned
	switch {
	case b.opt.Mode == ModeApply && errors.Is(b.opt.Err, connector.ErrStop):
		// Stopped cleanly by a budget or limit: the counts are exact, the
		// writes not sent are the plan's tail, held (below).
		base = StatusDone
	case b.opt.Mode == ModeApply && b.opt.Err != nil && !errors.Is(b.opt.Err, reconcile.ErrSafetyAbort):
		base = StatusUnknown // the run stopped somewhere in apply
	case b.applied():
		base = StatusDone
	}
	for i := range status {
		status[i] = base
	}
	// Failures, matched to writes by key. A key written on both sides
	// whose failure does not say which cannot be attributed.
	byKey := map[string][]int{}
	for i, w := range p.AllWrites() {
		k := keyID(w.Key)
		byKey[k] = append(byKey[k], i)
	}
	if base == StatusDone {
		for _, fe := range res.Failed {
			e := Error{Key: fe.Key, Object: obj.Object, Field: fe.Field, Code: fe.Code, Message: fe.Message}
			var cand []int
			for _, i := range byKey[keyID(fe.Key)] {
				if status[i] == StatusDone {
					cand = append(cand, i)
				}
			}
			sides := map[reconcile.Side]bool{}
			for _, i := range cand {
				sides[p.WriteAt(i).Side] = true
			}
			switch {
			case len(cand) == 0:
			case len(sides) == 1:
				i := cand[0]
				status[i] = StatusFailed
				w := p.WriteAt(i)
				e.Side, e.Op = w.Side.String(), w.Op.String()
			default:
				for _, i := range cand {
					status[i] = StatusUnknown
				}
			}
			obj.Errors = append(obj.Errors, e)
			c.Failed++
		}
		// Writes held back by the budget are never attempted: they are the
		// plan's tail, after every write that was done or failed.
		done := res.Counts.Creates + res.Counts.Updates + res.Counts.Deletes
		held := p.NumWrites() - done - res.Counts.Failures
		for i := p.NumWrites() - 1; i >= 0 && held > 0; i-- {
			if status[i] == StatusDone {
				status[i] = StatusHeld
				held--
			}
		}
	}
	for i, w := range p.AllWrites() {
		sc := c.Side(w.Side.String())
		switch status[i] {
		case StatusDone, StatusPlanned:
			switch w.Op {
			case reconcile.OpCreate:
				sc.Created++
			case reconcile.OpUpdate:
				sc.Updated++
			case reconcile.OpDelete:
				sc.Deleted++
			}
		case StatusFailed:
			sc.Failed++
			sc.Pending++
		case StatusHeld:
			sc.Pending++
		}
		ch := Change{Side: w.Side.String(), Op: w.Op.String(), Key: w.Key, Reason: w.Reason, Status: status[i]}
		for _, f := range w.Changes {
			fc := FieldChange{Field: f.Field, Reason: f.Reason, Class: classOf(classes, f.Field)}
			if w.Op == reconcile.OpUpdate {
				fc.Old = b.value(w.Side, w.Key, f.Field, fc.Class)
			}
			fc.New = b.value(w.Side.Other(), w.Key, f.Field, fc.Class)
			ch.Fields = append(ch.Fields, fc)
		}
		obj.Changes = append(obj.Changes, ch)
	}
	b.notes(obj, p, classes)
}

func (b *builder) notes(obj *Object, p *reconcile.Plan, classes map[string]string) {
	c := &obj.Counts
	var touched [2]map[string]bool
	touched[reconcile.SF], touched[reconcile.Local] = map[string]bool{}, map[string]bool{}
	mark := func(s reconcile.Side, key string) { touched[s][keyID(key)] = true }
	both := func(key string) { mark(reconcile.SF, key); mark(reconcile.Local, key) }
	for _, w := range p.AllWrites() {
		switch w.Op {
		case reconcile.OpCreate: // present only on the source side
			mark(w.Side.Other(), w.Key)
		case reconcile.OpUpdate:
			both(w.Key)
		case reconcile.OpDelete: // gone from the other side
			mark(w.Side, w.Key)
		}
	}
	unknown := map[string]bool{}
	for _, n := range p.Notes {
		switch n.Kind {
		case reconcile.NoteConflict:
			both(n.Key)
			c.Conflicts++
			obj.Conflicts = append(obj.Conflicts, Conflict{
				Key: n.Key, Field: n.Field, Class: classOf(classes, n.Field), Reason: n.Detail,
			})
			cf := &obj.Conflicts[len(obj.Conflicts)-1]
			cf.Salesforce = b.value(reconcile.SF, n.Key, n.Field, cf.Class)
			cf.Local = b.value(reconcile.Local, n.Key, n.Field, cf.Class)
			continue
		case reconcile.NoteFlag:
			if kept, ok := sideAfter(n.Detail, "kept on "); ok {
				mark(kept, n.Key)
				c.Side(kept.String()).Flagged++
			} else {
				both(n.Key)
			}
		case reconcile.NoteUnknown:
			// "salesforce: ROW_UNREADABLE": not present on that side; the
			// other side's record is skipped too.
			if !unknown[keyID(n.Key)] {
				unknown[keyID(n.Key)] = true
				c.Unknown++
			}
			if s, ok := sidePrefix(n.Detail); ok {
				mark(s.Other(), n.Key)
			} else {
				both(n.Key)
			}
		case reconcile.NoteBlocked, reconcile.NoteAmbiguous, reconcile.NoteKeyless, reconcile.NoteLeftScope:
			// Present on one side, which the note does not say (or, left
			// the where, no longer the job's): counted as unchanged there.
		case reconcile.NoteAdopted:
			// Written: the create's change marks it.
		default: // baseline, matched, gated: present on both sides
			both(n.Key)
		}
		obj.Notes = append(obj.Notes, Note{Kind: string(n.Kind), Key: n.Key, Field: n.Field, Detail: n.Detail})
	}
	u := [2]int{}
	for s := range u {
		u[s] = max(p.Seen[s]-len(touched[s]), 0)
	}
	c.Unchanged = min(u[0], u[1])
}

// sideAfter finds the side named right after marker in s ("deleted on
// local, kept on salesforce").
func sideAfter(s, marker string) (reconcile.Side, bool) {
	_, rest, ok := strings.Cut(s, marker)
	if !ok {
		return 0, false
	}
	return parseSide(strings.TrimSpace(rest))
}

// sidePrefix finds the side s starts with ("salesforce: duplicate key").
func sidePrefix(s string) (reconcile.Side, bool) {
	name, _, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	return parseSide(name)
}

func parseSide(s string) (reconcile.Side, bool) {
	for _, side := range []reconcile.Side{reconcile.SF, reconcile.Local} {
		if strings.HasPrefix(s, side.String()) {
			return side, true
		}
	}
	return 0, false
}

func (b *builder) finish() {
	r := b.r
	var failures, held int
	for _, o := range r.Objects {
		c := o.Counts
		for _, sc := range []SideCounts{c.Salesforce, c.Local} {
			r.Totals.Created += sc.Created
			r.Totals.Updated += sc.Updated
			r.Totals.Deleted += sc.Deleted
			r.Totals.Flagged += sc.Flagged
			r.Totals.Pending += sc.Pending
			held += sc.Pending - sc.Failed
		}
		r.Totals.Unchanged += c.Unchanged
		r.Totals.Conflicts += c.Conflicts
		r.Totals.Unknown += c.Unknown
		r.Totals.Failed += c.Failed
		failures += c.Failed
		for _, ch := range o.Changes {
			if ch.Status == StatusUnknown {
				held++ // not known to be done
			}
		}
		for _, n := range o.Notes {
			if n.Kind == string(reconcile.NoteAmbiguous) {
				held++ // a match held for a person
			}
		}
	}
	switch {
	case b.opt.Err != nil && errors.Is(b.opt.Err, reconcile.ErrSafetyAbort):
		r.Outcome = OutcomeAborted
	case b.opt.Err != nil && errors.Is(b.opt.Err, connector.ErrStop) && r.Mode == ModeApply:
		r.Outcome = OutcomePartial // stopped by a budget or limit: the rest is held
	case b.opt.Err != nil:
		r.Outcome = OutcomeFailed
	case r.Mode != ModeApply:
		r.Outcome = OutcomeDryRun
	case failures > 0 || held > 0 || r.Totals.Conflicts > 0:
		r.Outcome = OutcomePartial
	default:
		r.Outcome = OutcomeOK
	}
}

func keyID(k string) string { return connector.KeyID(k, false) }

func classOf(classes map[string]string, field string) string {
	c, ok := classes[strings.ToLower(field)]
	if !ok {
		return ClassUnknown
	}
	return c
}

// value returns what the report shows of field of key on side: nil when
// values are not shown (or the provider has none), a masked Value when the
// class is not allowed, the value otherwise.
func (b *builder) value(side reconcile.Side, key, field, class string) *Value {
	if !b.r.Values.Shown {
		return nil
	}
	if class != "" && !slices.Contains(b.r.Values.Classes, class) {
		return &Value{Masked: true, Class: class}
	}
	v, ok := b.opt.Values(side.String(), key, field)
	if !ok {
		return nil
	}
	if v.IsNull() {
		return &Value{Null: true}
	}
	return &Value{Text: v.Raw(), Class: class}
}

// Value is a field value as a report shows it: the text, null, or masked
// (only the class is said).
type Value struct {
	Text   string `json:"text,omitempty"`
	Null   bool   `json:"null,omitempty"`
	Masked bool   `json:"masked,omitempty"`
	Class  string `json:"class,omitempty"`
}

// Mask is how a masked value is printed.
const Mask = "••••"

// String prints the value for people: the text, "null", or the mask with
// the class ("•••• (direct)").
func (v *Value) String() string {
	switch {
	case v == nil:
		return ""
	case v.Masked:
		return Mask + " (" + v.Class + ")"
	case v.Null:
		return "null"
	}
	return v.Text
}

// WithRun returns opt with Start, End and (unless set) Err taken from the
// run's history entry (state.Store.Runs).
func (opt Options) WithRun(run state.Run) Options {
	opt.Start, opt.End = run.Start, run.End
	if opt.Err == nil && run.Error != "" {
		err := errors.New(run.Error)
		if run.Outcome == state.OutcomeAborted {
			err = &reconcile.AbortError{Reason: strings.TrimPrefix(run.Error, "safety abort: ")}
		}
		opt.Err = err
	}
	return opt
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}
