package reconcile

// This file is the second phase of a run: reading both sides into entries.

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

func (r *runner) read(ctx context.Context) error {
	ctx = r.sfFields(ctx)
	if r.budgetHeld > 0 && !r.needsFull() && r.feat[SF].KeyReader != nil && r.lastStopped(ctx) {
		return r.readPending(ctx)
	}
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
	if err := r.readSF(ctx, since); err != nil {
		return err
	}
	if r.incr && sf.KeyLister != nil && (!seesDeletes || r.listDue(ctx)) {
		if err := r.listSF(ctx); err != nil {
			return err
		}
		r.listDone = true
	}
	// Local: always a complete read.
	if err := r.readLocal(ctx); err != nil {
		return err
	}
	if err := r.readKeylessWhole(ctx); err != nil {
		return err
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
			if err := r.readSFKeys(ctx, keys, ids); err != nil {
				return err
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
		r.localNotSeen(e)
		if e.pres[SF] == pNone && e.has && r.unread[SF] > 0 {
			e.pres[SF] = pUnknown
			e.cw().why[SF] = fmt.Sprintf("not seen, and %d record(s) had no usable key", r.unread[SF])
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

// readLocal reads the local side completely: a part of a split run the
// rows sorted into its spill (sortLocal), else the local connector.
func (r *runner) readLocal(ctx context.Context) error {
	take := func(rec connector.Record) error {
		r.take(Local, rec)
		return nil
	}
	if r.pt.n > 1 && r.pt.local != nil {
		for _, rec := range r.pt.localNoKey {
			r.take(Local, rec)
		}
		if err := r.pt.local[r.pt.i].Each(take); err != nil {
			return fmt.Errorf("job %s: local rows read: %w", r.job.Name, err)
		}
		return nil
	}
	r.calls++
	if r.pt.n > 1 || r.pt.reread {
		ctx = connector.WithReread(ctx) // read by the first read already
	}
	if _, err := r.Local.Read(r.partFilter(ctx), r.job.Object, "", take); err != nil {
		return fmt.Errorf("job %s: read local: %w", r.job.Name, err)
	}
	return nil
}

// readSF reads Salesforce's records changed since (all, if since is
// empty). The first read of a run that may be split keeps what it read for
// the parts (parts.keep: in memory, then in a spill), which take those
// instead of reading again; the run's cursor is the first read's.
func (r *runner) readSF(ctx context.Context, since connector.Cursor) error {
	if r.pt.sfRead && !r.pt.sfAgain {
		r.cursor = r.pt.sfCursor
		for _, rec := range r.pt.sfRecs {
			r.take(SF, rec)
		}
		kept := r.pt.spill
		if r.pt.n > 1 && r.pt.sfParts != nil {
			kept = r.pt.sfParts[r.pt.i] // sorted into parts (sortSF)
		}
		if kept == nil {
			return nil
		}
		err := kept.Each(func(rec connector.Record) error {
			r.take(SF, rec)
			return nil
		})
		if err != nil {
			return fmt.Errorf("job %s: salesforce records read: %w", r.job.Name, err)
		}
		return nil
	}
	keep := r.pt.limit > 0 && !r.pt.sfRead
	if r.pt.sfRead {
		ctx = connector.WithReread(ctx) // read by the first read already
	}
	r.calls++
	cur, err := r.SF.Read(ctx, r.job.Object, since, func(rec connector.Record) error {
		if keep && !r.pt.sfAgain {
			r.pt.keep(rec)
		}
		r.take(SF, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: read salesforce: %w", r.job.Name, err)
	}
	r.cursor = cur
	if r.pt.sfRead {
		r.cursor = r.pt.sfCursor
	} else if r.pt.limit > 0 {
		r.pt.sfRead, r.pt.sfCursor = true, cur
	}
	return nil
}

// listSF lists every Salesforce key of the job's object. A run that may be
// split keeps the keys of its first listing for the parts.
func (r *runner) listSF(ctx context.Context) error {
	take := func(k string) {
		id := r.keyID(k)
		if _, ok := r.entries[id]; !ok && !r.hold(id) {
			return
		}
		e := r.entry(id)
		e.listed = true
		if e.keys[SF] == "" {
			e.keys[SF] = connector.NormalizeKey(k)
		}
	}
	if r.pt.listedOK {
		from := 0
		for _, end := range r.pt.listedEnd {
			take(r.pt.listed[from:end])
			from = end
		}
		return nil
	}
	keep := r.pt.limit > 0
	var b strings.Builder
	r.calls++
	err := r.feat[SF].KeyLister.ListKeys(ctx, r.job.Object, func(k string) error {
		if keep {
			b.WriteString(k)
			r.pt.listedEnd = append(r.pt.listedEnd, b.Len())
		}
		take(k)
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: list salesforce keys: %w", r.job.Name, err)
	}
	if keep {
		r.pt.listed, r.pt.listedOK = b.String(), true
	}
	return nil
}

// lastStopped reports whether the job's previous run was stopped by the
// budget, the org's limit or an outage (not merely held back by
// max_writes, which must not keep every later run from reading
// Salesforce's changes).
func (r *runner) lastStopped(ctx context.Context) bool {
	runs, err := r.Store.Runs(ctx, r.job.Name, 3)
	if err != nil {
		return false
	}
	for _, run := range runs {
		if run.ID != r.runID {
			return run.Outcome == state.OutcomeStopped
		}
	}
	return false
}

// readSFKeys reads keys (of the entries ids) from Salesforce by key; an
// entry the read did not return is absent there.
func (r *runner) readSFKeys(ctx context.Context, keys, ids []string) error {
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
	return nil
}

// localNotSeen settles e's local side when the complete local read did not
// pass it: absent, or unknown when rows without a usable key may be it.
func (r *runner) localNotSeen(e *entry) {
	if e.pres[Local] != pNone {
		return
	}
	e.pres[Local] = pAbsent
	if e.has && r.unread[Local] > 0 {
		e.pres[Local] = pUnknown
		e.cw().why[Local] = fmt.Sprintf("not seen, and %d row(s) had no usable key", r.unread[Local])
	}
}

// maxDrain bounds the held records one readPending run reads and writes:
// ten Collections requests' worth of keys, so that reading a large backlog
// by key does not spend the budget its writes need.
const maxDrain = 2000

// readPending is the read of a run that follows one the API budget or the
// org's limit stopped: the writes it held back go first, before calls are
// spent on anything that can wait. The local side is read whole (it costs
// no API call); Salesforce only for the pending records, by key. Salesforce's
// change feed is not read, so the run decides the pending records alone
// (the others wait, unchanged, for the next run) and leaves the cursor
// where it was. A budget smaller than a run's reads so still moves the held
// writes on, run after run.
func (r *runner) readPending(ctx context.Context) error {
	r.incr, r.deferred = true, true
	if err := r.readLocal(ctx); err != nil {
		return err
	}
	// At most maxDrain of them, in key order.
	var ids []string
	for id := range r.pending {
		if e := r.entries[id]; e != nil && r.keyOK(cmp.Or(e.keys[SF], e.keys[Local])) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), max(1, maxDrain/max(1, r.pt.n)))] // a split run drains its share in each part
	keys := make([]string, len(ids))
	for i, id := range ids {
		e := r.entries[id]
		e.drain = true
		keys[i] = cmp.Or(e.keys[SF], e.keys[Local])
	}
	if len(keys) > 0 {
		if err := r.readSFKeys(ctx, keys, ids); err != nil {
			return err
		}
	}
	for _, e := range r.entries {
		r.localNotSeen(e)
		if e.pres[SF] == pNone {
			e.pres[SF] = pPresent // unchanged since last seen, for all this run knows
			if !e.has {
				e.pres[SF] = pAbsent
			}
		}
	}
	return nil
}

// refetch reads by key, and decides again, the records whose writes need
// values the first read did not keep (a side not read this run, or read
// unchanged). It is a safety net: pending keys are re-fetched up front.
func (r *runner) refetch(ctx context.Context) error {
	if r.opts.DryRun {
		return nil // values are for writes; a dry run keeps none
	}
	ctx = r.sfFields(ctx)
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
			e.op, e.opWhy, e.gated, e.tomb = [2]Op{}, [2]opReason{}, false, false
			if e.x != nil {
				e.x.dec = nil
			}
			e.newFlags, e.drop, e.unknown, e.dirty = e.flags, false, false, false
			r.decide(e)
		}
	}
	return nil
}

// sfFields asks the Salesforce side for the job's fields only (and the
// field adopt makes keys of), not every field of the object.
func (r *runner) sfFields(ctx context.Context) context.Context {
	fields := slices.Clone(r.names)
	if r.adoptField != "" {
		fields = append(fields, r.adoptField)
	}
	return connector.WithFields(ctx, fields)
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
	if s == SF && rec.Key == "" && rec.ID != "" && connector.CodeOf(rec.Err) == connector.CodeNoKey {
		if r.pt.n > 1 {
			// Met since the first read (a key emptied during the run):
			// the next run's. Until then a record not seen may be this
			// one: no Salesforce record of the part reads as deleted.
			r.unread[SF]++
			return
		}
		r.pt.keyless = true // a run that meets one is not split
		r.takeKeyless(rec)  // not in the job until it takes a key
		return
	}
	if rec.Key == "" || !r.keyOK(rec.Key) {
		// No usable key: a key that cannot be a key (keyOK) is never
		// asked of Salesforce, stored or named, and, like an emptied key
		// cell, makes the records not seen this run unknown.
		r.unread[s]++
		if connector.CodeOf(rec.Err) == connector.CodeRowUnreadable {
			r.damaged[s]++
		}
		switch {
		case len(r.unreadErrs) >= maxUnreadLogged, r.pt.i > 0, r.pt.quiet:
			// (A split run logs them from its first part's read, in the
			// pass that plans.)
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
	if _, ok := r.entries[id]; !ok && !r.hold(id) {
		return // another part's, or counted only (parts.go)
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
		e.keys[s] = ownKey(rec.Key)
	}
	r.takeInto(e, s, rec, id)
}

// ownKey returns key in NormalizeKey form, in memory of its own: a key
// read may share its memory with the whole row read (a Bulk query's CSV
// line), which an entry would keep alive for the run.
func ownKey(key string) string { return strings.Clone(connector.NormalizeKey(key)) }

// takeInto records rec, read from side s, in its entry e (id: its KeyID,
// or for a keyless record its keyless id).
func (r *runner) takeInto(e *entry, s Side, rec connector.Record, id string) {
	if e.pres[s] == pUnknown {
		return
	}
	if rec.Err != nil {
		e.pres[s] = pUnknown
		e.cw().why[s] = string(cmp.Or(connector.CodeOf(rec.Err), connector.CodeRowUnreadable))
		if code := connector.CodeOf(rec.Err); !e.keyless && code != connector.CodeOutOfScope && len(r.unreadErrs) < maxUnreadLogged && !r.pt.quiet {
			// Unknown for the run (two records deriving one key, a row
			// whose key is on several rows, a value that did not
			// decode): the run's error log (history --errors) keeps the
			// connector's message, which names the records (a file's
			// row) and what to do, not just the plan's code. A
			// connector's errors are value-free.
			r.unreadErrs = append(r.unreadErrs, state.RecordErr{Key: e.keys[s], Code: string(code), Message: rec.Err.Error()})
		}
		if s == SF && e.has && connector.CodeOf(rec.Err) == connector.CodeOutOfScope {
			e.outScope = true // left the where (decide.go, leftScope)
		}
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
		e.cw().why[s] = "duplicate key"
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
			e.cw().why[s] = name + ": " + string(cmp.Or(connector.CodeOf(err), connector.CodeInvalidValue))
			return
		}
		vals[i] = v
		fps[i] = r.fingerprint(i, v)
	}
	e.pres[s] = pPresent
	if s == SF {
		e.readSF = true
	}
	if k := connector.NormalizeKey(rec.Key); k != e.keys[s] {
		e.keys[s] = strings.Clone(k)
	}
	if !r.pt.quiet {
		r.counts.Read++ // (a split run counts its reads in the pass that plans)
	}
	r.unbind(e, fps) // the stored fingerprints of these values, unbound
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
		x.fp[s] = slices.Clone(fps)
		r.setMod(e, s, rec.Modified)
		if !r.opts.DryRun {
			// The values a write sends. A dry run writes nothing: it keeps
			// fingerprints only (a plan names fields, never values).
			x.vals[s] = slices.Clone(vals)
		}
		if len(r.matchIdx) > 0 && !e.has {
			e.cw().match[s] = r.matchTuple(fps, vals)
		}
	} else if !same {
		e.rw().fp[s] = slices.Clone(fps)
	}
	if rec.ID != "" && r.keepID(e, s, keep, rec.Key) {
		e.rw().id[s] = strings.Clone(rec.ID)
	}
	clear(vals)
}
