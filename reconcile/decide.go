package reconcile

// This file is the third phase of a run: deciding each record and field
// (the decision tables of README.md).

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// matchOn pairs records new on both sides whose keys differ but whose
// match_on fields agree (each tuple unique on its side); a Salesforce
// record without a key takes the local key (keyless.go). A tuple shared by
// several records on a side, with records on the other side too, pairs
// none of them: each is held for a person (never created).
func (r *runner) matchOn() {
	if len(r.matchIdx) == 0 {
		return
	}
	type tuple = string
	sig := func(e *entry, s Side) (tuple, bool) {
		t := e.co().match[s]
		return t, t != ""
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
		if len(ls) == 0 {
			continue
		}
		if len(sfs) != 1 || len(ls) != 1 {
			d := fmt.Sprintf("match_on %s: %d salesforce and %d local records agree; a person pairs them (sets the key in Salesforce) or tells them apart",
				strings.Join(r.job.MatchOn, ","), len(sfs), len(ls))
			for _, e := range slices.Concat(sfs, ls) {
				e.ambiguous = true
				e.cw().note = d
			}
			continue
		}
		a, b := sfs[0], ls[0]
		if a.keyless {
			r.absorb(a, b).matched = true
			continue
		}
		a.pres[Local], a.keys[Local], a.rw().fp[Local] = pPresent, b.keys[Local], b.ro().fp[Local]
		a.rw().vals[Local] = b.ro().vals[Local]
		r.setMod(a, Local, b.co().mod[Local])
		a.matched = true
		delete(r.entries, b.id)
		r.alias[b.id] = a.id
	}
}

// matchTuple is a record's match_on tuple, or "" when a match field is
// null or unknown. It compares text as a person reading two sheets would:
// case and runs of white space aside ("bkk-003 " is "BKK-003"); other
// values by fingerprint. It lives in memory only, for records new to the
// job.
func (r *runner) matchTuple(fps []state.Fingerprint, vals []connector.Value) string {
	b := make([]byte, 0, 16*len(r.matchIdx))
	for _, i := range r.matchIdx {
		fp := fps[i]
		if fp == r.null[i] || fp == 0 {
			return ""
		}
		if vals[i].Kind() == connector.KindText {
			t, _ := vals[i].Text()
			b = append(b, 't')
			b = append(b, strings.ToLower(strings.Join(strings.Fields(t), " "))...)
			b = append(b, 0)
			continue
		}
		b = fmt.Appendf(b, "%016x", uint64(fp))
	}
	return string(b)
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
	if e.ambiguous || strings.HasPrefix(e.id, keylessPrefix) {
		return // held for a person, or a keyless record left alone
	}
	if r.deferred && !e.drain {
		return // Salesforce's changes were not read: next run (readPending)
	}
	if e.has && (e.outScope || e.flags&state.FlagLeftScope != 0 && !e.readSF) {
		r.leftScope(e)
		return
	}
	if e.flags&state.FlagLeftScope != 0 {
		// Read in the where again: synced as before.
		e.newFlags &^= state.FlagLeftScope
		e.pendingBefore = true // the cleared flag is recorded
	}
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
		if r.tombstoned(e.id) {
			e.dirty = e.pendingBefore
			return
		}
		if dir.writes(to) {
			e.op[to] = OpCreate
			e.opWhy[to] = newOn[from]
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
			e.cw().why[gone] = fmt.Sprintf("deleted on %s; a delete waits for a complete read (%d %s row(s) unreadable)", gone, n, s)
			return
		}
		r.deleted(e, gone)
	}
}

// opReason says why a record is created or deleted on a side: a byte in
// its entry rather than a string (a first sync holds one per record until
// apply).
type opReason uint8

// The reasons, by the side the record is new on, deleted on, or deleted on
// and edited on the other.
const (
	rNone opReason = iota
	rNewOnSF
	rNewOnLocal
	rDeletedOnSF
	rDeletedOnLocal
	rEditWinsSF    // deleted on salesforce, edited on local
	rEditWinsLocal // deleted on local, edited on salesforce
)

var (
	newOn     = [2]opReason{rNewOnSF, rNewOnLocal}
	deletedOn = [2]opReason{rDeletedOnSF, rDeletedOnLocal}
	editWins  = [2]opReason{rEditWinsSF, rEditWinsLocal}
)

var opReasons = [...]string{
	rNewOnSF:        "new on " + SF.String(),
	rNewOnLocal:     "new on " + Local.String(),
	rDeletedOnSF:    "deleted on " + SF.String(),
	rDeletedOnLocal: "deleted on " + Local.String(),
	rEditWinsSF:     fmt.Sprintf("deleted on %s, edited on %s: edit wins", SF, Local),
	rEditWinsLocal:  fmt.Sprintf("deleted on %s, edited on %s: edit wins", Local, SF),
}

func (o opReason) String() string { return opReasons[o] }

// tombstoned reports whether the key of the record id has a tombstone
// (its hash is made only when the object has tombstones at all).
func (r *runner) tombstoned(id string) bool {
	if len(r.tombs) == 0 {
		return false
	}
	_, dead := r.tombs[r.FP.KeyHash(id)]
	return dead
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
	// is created again from the side that kept it; never a record whose
	// consent is withdrawn (the delete may be the person's erasure).
	edited := false
	for i := range r.names {
		if c := e.cur(keep, i); r.dir[i].writes(gone) && c != 0 && c != e.fs[i].Base {
			edited = true
		}
	}
	if r.consent >= 0 && (r.withdrawal(e.fs[r.consent].Base) || r.withdrawn(e, keep)) {
		edited = false
		e.tomb = true
	}
	dir := r.job.direction()
	if edited && dir.writes(gone) { // refetch reads the values if need be
		e.gated = !r.open(e, keep)
		e.op[gone] = OpCreate
		e.opWhy[gone] = editWins[gone]
		return
	}
	if policy == Propagate && dir.writes(keep) {
		e.op[keep] = OpDelete
		e.opWhy[keep] = deletedOn[gone]
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

// withdrawal reports whether a consent fingerprint is a withdrawal: known,
// not blank, not allowed.
func (r *runner) withdrawal(fp state.Fingerprint) bool {
	return fp != 0 && fp != r.blank && !r.allowed[fp]
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
	// Sticky withdrawal: while the agreed value is a withdrawal and
	// Salesforce still holds it, a grant on the local side (most often a
	// restored copy of the sheet) does not lift it by itself: it is
	// queued for a person (conflicts resolve ... local confirms it,
	// salesforce puts the withdrawal back). A grant made in Salesforce
	// lifts it as any change does.
	if wS && !wL && r.open(e, Local) && r.withdrawal(e.fs[c].Base) && r.ruleOf(e, c) == r.rule[c] {
		if q := r.queue[[2]string{e.id, r.names[c]}]; q == nil || q.Resolution == "" {
			r.decBuf[c] = fdec{kind: dConflict, reason: "consent granted again on local after a withdrawal: a person confirms"}
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

// fieldTable is the decision table of doc/architecture.md §5.3 for one field: the two
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
		ms, ml := e.co().mod[SF], e.co().mod[Local]
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

// leftScope decides a record the job held whose Salesforce record is now
// outside the job's where (read as OUT_OF_SCOPE, or flagged so by an
// earlier run and not read in the where since): it is reported once, then
// flagged; nothing is written to either side and nothing is pending, so it
// is neither a finding nor read again by key run after run. Read in the
// where again, it is synced as before (the flag clears).
func (r *runner) leftScope(e *entry) {
	e.unknown = false
	e.pres[SF] = pUnknown // its last seen fingerprints are kept
	if e.flags&state.FlagLeftScope == 0 {
		e.leftNote = true
	}
	e.newFlags = e.flags | state.FlagLeftScope
	e.dirty = e.newFlags != e.flags || e.pendingBefore
}
