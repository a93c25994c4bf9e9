package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// apply carries out the plan: state-only decisions first, then the writes
// in batches (each batch's state committed after its write returned), then
// the cursor.
func (r *runner) apply(ctx context.Context, order []*entry) (err error) {
	defer func() {
		// The lease lost once a write was sent (this replica was paused
		// past its lease, or its renewal failed): the fence let no write
		// of this run through after that, and another holder runs the job
		// now. The last batch's writes may not be recorded, but every
		// write is an upsert by key or a delete, so the next run finds
		// what they did by reading both sides: the job is handed over,
		// not locked out (README.md, "Lockout"). Not so for creates that
		// are not idempotent, sent in a batch whose commit the fence
		// refused (any non-delete batch of such an object: its updates
		// may be sent as creates): the new holder may have created the
		// same record.
		if err != nil && r.unfenced != "" && !errors.Is(err, errKilled) &&
			(errors.Is(err, state.ErrLeaseLost) || errors.Is(context.Cause(ctx), state.ErrLeaseLost)) {
			if !errors.Is(err, state.ErrLeaseLost) {
				err = fmt.Errorf("%w: %w", state.ErrLeaseLost, err)
			}
			err = &criticalError{cause: fmt.Sprintf("the job's lease was lost while creating records of %s, which has no external id: a create may have been sent twice", r.unfenced), err: err}
			return
		}
		if err != nil && r.attempted > 0 && !errors.Is(err, errKilled) &&
			!errors.Is(err, state.ErrLeaseLost) && errors.Is(context.Cause(ctx), state.ErrLeaseLost) {
			err = fmt.Errorf("%w: %w", state.ErrLeaseLost, err)
		}
	}()
	if err := r.hookKill(ctx, BeforeApply); err != nil {
		return err
	}
	// Records paired by their link whose Salesforce key is not the local
	// one yet take it before anything is recorded (link.go).
	if err := r.rekeys(ctx, order, true); err != nil {
		return err
	}
	now := r.now()
	err = r.update(ctx, func(tx state.Tx) error {
		if err := r.convertV1(tx); err != nil {
			return err
		}
		for _, c := range r.orphans {
			if err := tx.CloseConflict(c.Key, c.Field); err != nil {
				return err
			}
		}
		for _, e := range order {
			if !e.hasWrite() && (e.dirty || e.unknown) {
				if err := r.commit(tx, e, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: state: %w", r.job.Name, err)
	}
	if err := r.hookKill(ctx, AfterState); err != nil {
		return err
	}
	budget := r.job.MaxWrites
	writes := r.writes
	for len(writes) > 0 {
		// One batch: same side, same kind (upsert or delete), at most
		// BatchSize records.
		n := 1
		del := writes[0].Op == OpDelete
		for n < len(writes) && n < r.job.batchSize() && writes[n].Side == writes[0].Side && (writes[n].Op == OpDelete) == del {
			n++
		}
		batch := writes[:n:n]
		writes = writes[n:]
		var held []Write
		if r.stopped != nil {
			// Stopped by the budget or the org's limit: the rest waits.
			held, batch = batch, nil
			for _, w := range held {
				w.e.out[w.Side] = oHeld
			}
		}
		if budget > 0 {
			left := max(budget-r.attempted, 0)
			if left < len(batch) {
				held = batch[left:]
				batch = batch[:left]
				for _, w := range held {
					w.e.out[w.Side] = oHeld
				}
			}
		}
		if len(batch) > 0 {
			if err := r.hookKill(ctx, BeforeWrite); err != nil {
				return err
			}
			if r.opts.Lease != 0 { // still ours? checked before every write
				if err := r.update(ctx, func(state.Tx) error { return nil }); err != nil {
					return fmt.Errorf("job %s: %w", r.job.Name, err)
				}
			}
			r.attempted += len(batch)
			// Any write but a delete: an object whose creates are not
			// idempotent is written by Id, and an update of a key whose
			// record is not known (or gone) is sent as a create too.
			if !del && batch[0].Side == SF && !r.createsIdempotent() {
				r.unfenced = r.job.Object
			}
			if err := r.write(ctx, batch, del); err != nil {
				return err
			}
			if err := r.hookKill(ctx, AfterWrite); err != nil {
				return err
			}
			if err := r.afterCreates(ctx, batch); err != nil {
				return err
			}
		}
		// Once a batch is written its state is committed even if the run
		// is being cancelled (the lease fence still applies).
		if err := r.commitBatch(context.WithoutCancel(ctx), append(batch, held...)); err != nil {
			if r.attempted > 0 && len(batch) > 0 && !errors.Is(err, state.ErrLeaseLost) { // (a lost lease: below)
				return &criticalError{cause: "the state commit after a write failed", err: err}
			}
			return err
		}
		// Committed under the lease: no other holder has run the job
		// since, so nothing it created can meet these creates.
		r.unfenced = ""
		if len(batch) > 0 {
			if err := r.hookKill(ctx, AfterCommit); err != nil {
				return err
			}
		}
	}
	kc := r.keylessCursor()
	if r.stopped != nil {
		// The cursor stays: the next run reads from where this one did
		// (the keyless records reported are recorded all the same).
		if kc != r.keylessLoaded {
			if err := r.update(context.WithoutCancel(ctx), func(tx state.Tx) error { return tx.SetCursor(keylessName, kc) }); err != nil {
				return fmt.Errorf("job %s: state: %w", r.job.Name, err)
			}
		}
		return r.stopped
	}
	if !r.lastPart() {
		return nil // the cursors move once every part is applied (parts.go)
	}
	return r.advance(ctx, kc)
}

// advance moves the job's cursors (Salesforce's change cursor, when its
// keys were last listed, the keyless records reported: kc) once the run's
// writes are done.
func (r *runner) advance(ctx context.Context, kc string) error {
	if err := r.hookKill(ctx, BeforeCursor); err != nil {
		return err
	}
	if (r.cursor != "" && !r.holdCursor) || kc != r.keylessLoaded {
		err := r.update(ctx, func(tx state.Tx) error {
			if kc != r.keylessLoaded {
				if err := tx.SetCursor(keylessName, kc); err != nil {
					return err
				}
			}
			if r.cursor == "" || r.holdCursor {
				return nil
			}
			if r.listDone || !r.incr {
				if err := tx.SetCursor(listedName, r.start.Format(time.RFC3339)); err != nil {
					return err
				}
			}
			return tx.SetCursor(cursorName, string(r.cursor))
		})
		if err != nil {
			return fmt.Errorf("job %s: state: %w", r.job.Name, err)
		}
	}
	return nil
}

// createsIdempotent reports whether a create of the job's object sent
// twice to Salesforce leaves one record (CreateIdempotence).
func (r *runner) createsIdempotent() bool {
	c, ok := r.SF.(CreateIdempotence)
	return !ok || c.CreatesIdempotent(r.job.Object)
}

func (r *runner) hookKill(ctx context.Context, p Point) error {
	if err := r.hook(ctx, p); err != nil {
		return fmt.Errorf("%w: %w", errKilled, err)
	}
	return nil
}

// record builds the record a write sends: the key and the fields it sets,
// with the other side's canonical values.
func (r *runner) record(w Write) (connector.Record, bool) {
	e := w.e
	src := w.Side.Other()
	vals := e.ro().vals[src]
	if vals == nil {
		return connector.Record{}, false
	}
	rec := connector.Record{Key: w.Key, Fields: make(map[string]connector.Value, len(w.Changes))}
	if e.co().moved != "" && e.keys[w.Side] != "" {
		rec.Key = e.keys[w.Side] // rekeyed before apply: the key it has now
	}
	if w.Op == OpCreate && w.Side == Local {
		rec.ID = e.ro().id[SF] // a local store whose keys are generated links to it
	}
	for i, n := range r.names {
		switch w.Op {
		case OpCreate:
			if r.creates(e, w.Side, i) {
				rec.Fields[n] = vals[i]
			}
		case OpUpdate:
			if d := e.ro().dec[i]; d.kind == dWrite && d.to == w.Side {
				rec.Fields[n] = vals[i]
			}
		}
	}
	return rec, true
}

func (r *runner) write(ctx context.Context, batch []Write, del bool) error {
	s := batch[0].Side
	sink := r.feat[s].Sink
	fail := func(w Write, err error) {
		w.e.out[s], w.e.cw().err[s] = oFailed, err
		r.counts.Failures++
	}
	if sink == nil {
		for _, w := range batch {
			fail(w, connector.NewRecordError(w.Op.String(), "", r.job.Object, w.Key, "", "", connector.Permanent, connector.ErrReadOnly))
		}
		return nil
	}
	{
		// A Salesforce record without a key that has not taken one: no
		// write to it (an upsert by the key would create a second record)
		// and none from it once taking the key failed (keyless.go).
		kept := batch[:0:0]
		for _, w := range batch {
			if e := w.e; e.keyless && e.keys[SF] == "" && (s == SF || e.co().rekeyErr != nil) {
				fail(w, connector.NewRecordError(w.Op.String(), "", r.job.Object, w.Key, "", connector.CodeNotProcessed, connector.Permanent,
					errors.New("the Salesforce record did not take its key")))
				continue
			}
			kept = append(kept, w)
		}
		if batch = kept; len(batch) == 0 {
			return nil
		}
	}
	if r.fam != nil {
		kept := batch[:0:0]
		for _, w := range batch {
			if r.fam.skip[r.fam.parentOf(w.e.id)] {
				fail(w, connector.NewRecordError(w.Op.String(), "", r.job.Object, w.Key, "", connector.CodeNotProcessed, connector.Permanent,
					errors.New("parent record failed")))
				continue
			}
			kept = append(kept, w)
		}
		if batch = kept; len(batch) == 0 {
			return nil
		}
	}
	var results []connector.Result
	var err error
	var sent []Write
	if del {
		keys := make([]string, len(batch))
		for i, w := range batch {
			keys[i] = w.Key
		}
		sent = batch
		r.calls++
		results, err = sink.Delete(ctx, r.job.Object, keys)
	} else {
		recs := make([]connector.Record, 0, len(batch))
		for _, w := range batch {
			rec, ok := r.record(w)
			if !ok {
				fail(w, connector.NewRecordError(w.Op.String(), "", r.job.Object, w.Key, "", connector.CodeNotProcessed, connector.Permanent, fmt.Errorf("values of %s were not read this run", s.Other())))
				continue
			}
			recs = append(recs, rec)
			sent = append(sent, w)
		}
		if len(recs) == 0 {
			return nil
		}
		r.calls++
		results, err = sink.Upsert(ctx, r.job.Object, recs)
	}
	if err != nil && errors.Is(err, connector.ErrStop) {
		// The budget, the org's limit or an outage: what was not sent is
		// held for the next run, not failed. With a result per record the
		// connector says which were sent (connector.Sink); without, none.
		r.stopped = fmt.Errorf("job %s: write %s: %w", r.job.Name, s, err)
		if len(results) != len(sent) {
			for _, w := range sent {
				w.e.out[s] = oHeld
			}
			return nil
		}
		err = nil
	}
	if err == nil && len(results) != len(sent) {
		err = fmt.Errorf("%s returned %d results for %d records", s, len(results), len(sent))
	}
	if err != nil {
		if connector.IsFatal(err) || ctx.Err() != nil {
			return fmt.Errorf("job %s: write %s: %w", r.job.Name, s, err)
		}
		for _, w := range sent {
			fail(w, err)
		}
		return nil
	}
	for i, w := range sent {
		res := results[i]
		if res.Err != nil && errors.Is(res.Err, connector.ErrStop) {
			w.e.out[s] = oHeld // not sent: the run stopped
			if r.stopped == nil {
				r.stopped = fmt.Errorf("job %s: write %s: %w", r.job.Name, s, res.Err)
			}
			continue
		}
		if res.Err != nil && !(del && connector.CodeOf(res.Err) == connector.CodeNotFound) {
			if connector.IsFatal(res.Err) {
				return fmt.Errorf("job %s: write %s: %w", r.job.Name, s, res.Err)
			}
			fail(w, res.Err)
			continue
		}
		w.e.out[s] = oOK
		if res.Key != "" && !del {
			if w.Op == OpCreate && s == Local && r.keyID(res.Key) != r.keyID(w.Key) {
				// The local store generated the key (a create through its
				// link column): Salesforce is to take it (link.go).
				w.e.rekey = true
			}
			w.e.keys[s] = connector.NormalizeKey(res.Key)
		}
		if w.Op == OpCreate && s == SF && res.ID != "" {
			w.e.rw().id[SF] = res.ID
		}
		switch w.Op {
		case OpCreate:
			r.counts.Creates++
		case OpUpdate:
			r.counts.Updates++
		case OpDelete:
			r.counts.Deletes++
		}
	}
	return nil
}

func (r *runner) commitBatch(ctx context.Context, batch []Write) error {
	now := r.now()
	err := r.update(ctx, func(tx state.Tx) error {
		for _, w := range batch {
			if err := r.commit(tx, w.e, now); err != nil {
				return err
			}
			if w.e.out[w.Side] == oFailed {
				ferr := w.e.co().err[w.Side]
				re := state.RecordErr{RunID: r.runID, Key: w.Key, Code: string(connector.CodeOf(ferr)), Message: ferr.Error(), At: now}
				if rerr, ok := ferr.(*connector.RecordError); ok {
					re.Field = rerr.Field
				}
				r.failed = append(r.failed, re)
				if err := tx.LogError(re); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: state: %w", r.job.Name, err)
	}
	return nil
}

// commit writes one entry's state as far as its writes have gone: fields
// whose write succeeded get their new baseline, the rest keep theirs; the
// pending reasons and conflicts follow.
func (r *runner) commit(tx state.Tx, e *entry, now time.Time) error {
	if e.keyless && e.keys[SF] == "" {
		// It did not take its key: nothing is recorded, the record is
		// read again next run (the cursor is held).
		r.holdCursor = true
		return nil
	}
	if e.co().moved != "" {
		// Rekeyed: the record's state moves to its new key.
		if err := tx.ClearPending(e.co().moved); err != nil {
			return err
		}
		if e.has {
			if err := tx.DeleteRecord(e.co().moved); err != nil {
				return err
			}
		}
	}
	if err := tx.ClearPending(e.id); err != nil {
		return err
	}
	pend := func(reason state.Reason, code string) error {
		return tx.SetPending(state.Pending{Key: e.id, Reason: reason, Code: code, Since: now})
	}
	if e.tomb {
		if err := tx.AddTombstone(r.job.Object, r.FP.KeyHash(e.id), now); err != nil {
			return err
		}
	}
	if e.unknown {
		if e.has || e.pres[SF] == pPresent || e.pres[Local] == pPresent {
			return pend(state.ReasonUnknown, e.co().why[SF]+e.co().why[Local])
		}
		return nil
	}
	// Pending reasons from the writes.
	for s := SF; s <= Local; s++ {
		if e.op[s] == 0 {
			continue
		}
		reason := state.ReasonFailedWrite
		if e.op[s] == OpCreate {
			reason = state.ReasonPendingCreate
		}
		var err error
		switch e.out[s] {
		case oFailed:
			err = pend(reason, string(connector.CodeOf(e.co().err[s])))
		case oHeld:
			if err = pend(state.ReasonBudget, ""); err == nil && reason == state.ReasonPendingCreate {
				err = pend(reason, "")
			}
		case oNone:
			err = pend(reason, string(connector.CodeNotProcessed))
		}
		if err != nil {
			return err
		}
	}
	if e.co().rekeyErr != nil {
		if err := pend(state.ReasonFailedWrite, string(cmp.Or(connector.CodeOf(e.co().rekeyErr), connector.CodeNotProcessed))); err != nil {
			return err
		}
	}
	del := e.drop
	for s := SF; s <= Local; s++ {
		if e.op[s] == OpDelete && e.out[s] == oOK {
			del = true
		}
	}
	if del {
		for _, name := range r.names {
			if r.queue[[2]string{e.id, name}] != nil {
				if err := tx.CloseConflict(e.id, name); err != nil {
					return err
				}
			}
		}
		if e.has {
			// Gone from both sides: remember the key (hashed, no values),
			// so that a row coming back (a restored copy of a sheet) is
			// flagged, not created again, until a person forgets it.
			if err := tx.AddTombstone(r.job.Object, r.FP.KeyHash(e.id), now); err != nil {
				return err
			}
			return tx.DeleteRecord(e.id)
		}
		return nil
	}
	// A create that went through: a fresh state for every field.
	for s := SF; s <= Local; s++ {
		if e.op[s] == OpCreate && e.out[s] == oOK {
			return r.put(tx, e, r.createdState(e, s))
		}
	}
	if e.ro().dec == nil {
		if e.has && (e.newFlags != e.flags || e.ro().fp[SF] != nil || e.ro().fp[Local] != nil || e.co().moved != "") {
			return r.put(tx, e, r.lastSeen(e))
		}
		return nil
	}
	rs := state.RecordState{Key: e.id, SFKey: e.keys[SF], LocalKey: e.keys[Local], Flags: e.newFlags, Fields: make([]state.FieldState, 0, len(r.names))}
	conflict := false
	for i, d := range e.x.dec {
		s, l := e.cur(SF, i), e.cur(Local, i)
		fs := e.fs[i]
		ns := state.FieldState{Field: r.names[i], Base: fs.Base, SF: s, Local: l, Rule: r.ruleOf(e, i)}
		// An unknown side keeps its last seen fingerprint.
		if s == 0 {
			ns.SF = fs.SF
		}
		if l == 0 {
			ns.Local = fs.Local
		}
		closeQ := d.close
		switch d.kind {
		case dNone:
			ns.Rule = r.rule[i]
		case dBaseline:
			ns.Base, ns.Rule = d.fp, r.rule[i]
		case dKeep:
			ns.Base, ns.Rule = d.base, r.rule[i]
		case dWrite:
			if e.out[d.to] == oOK {
				ns.Base, ns.SF, ns.Local, ns.Rule = d.fp, d.fp, d.fp, r.rule[i]
			} else {
				closeQ = false
			}
		case dConflict:
			conflict = true
			r.counts.Conflicts++
			c := state.Conflict{Key: e.id, Field: r.names[i], SF: r.bindFP(e, i, s), Local: r.bindFP(e, i, l), Opened: now}
			if err := tx.OpenConflict(c); err != nil {
				return err
			}
		}
		if closeQ {
			if err := tx.CloseConflict(e.id, r.names[i]); err != nil {
				return err
			}
		}
		rs.SetField(ns)
	}
	if conflict {
		if err := pend(state.ReasonConflict, ""); err != nil {
			return err
		}
	}
	return r.put(tx, e, rs)
}

// createdState is the state of a record just created on side to from the
// other side.
func (r *runner) createdState(e *entry, to Side) state.RecordState {
	from := to.Other()
	rs := state.RecordState{Key: e.id, Fields: make([]state.FieldState, 0, len(r.names))}
	rs.SFKey, rs.LocalKey = e.keys[SF], e.keys[Local]
	if to == SF && rs.SFKey == "" {
		rs.SFKey = e.keys[Local]
	}
	if to == Local && rs.LocalKey == "" {
		rs.LocalKey = e.keys[SF]
	}
	for i, n := range r.names {
		v := e.cur(from, i)
		ns := state.FieldState{Field: n, Base: v, SF: v, Local: v, Rule: r.rule[i]}
		if !r.creates(e, to, i) {
			// Not written (one-way the other way, gated by consent, or
			// unknown on the source side, whose last seen stays 0): the
			// new record holds null there, and so does the baseline.
			ns.Base = r.null[i]
			if to == SF {
				ns.SF = r.null[i]
			} else {
				ns.Local = r.null[i]
			}
		}
		rs.SetField(ns)
	}
	return rs
}

// lastSeen is the entry's state with the last seen fingerprints and flags
// updated and baselines kept.
func (r *runner) lastSeen(e *entry) state.RecordState {
	rs := state.RecordState{Key: e.id, SFKey: e.keys[SF], LocalKey: e.keys[Local], Flags: e.newFlags, Fields: make([]state.FieldState, 0, len(r.names))}
	for i := range r.names {
		fs := e.fs[i]
		ns := state.FieldState{Field: r.names[i], Base: fs.Base, SF: fs.SF, Local: fs.Local, Rule: r.ruleOf(e, i)}
		// A field unknown on a side (0) keeps its last seen fingerprint.
		if c := e.cur(SF, i); e.pres[SF] == pPresent && c != 0 {
			ns.SF = c
		}
		if c := e.cur(Local, i); e.pres[Local] == pPresent && c != 0 {
			ns.Local = c
		}
		rs.SetField(ns)
	}
	return rs
}

// update runs fn in one state transaction, fenced by the run's lease when
// it has one: a run whose lease was lost writes nothing more.
func (r *runner) update(ctx context.Context, fn func(state.Tx) error) error {
	return r.Store.Update(ctx, r.job.Name, func(tx state.Tx) error {
		if r.opts.Lease != 0 {
			leased := r.job.Name // the lease is the run's: a child's parent holds it
			if r.fam != nil {
				leased = r.fam.parent
			}
			if err := tx.FenceOn(leased, r.opts.Lease, r.now()); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}
