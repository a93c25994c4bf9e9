package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// Local stores whose keys the database generates (doc/architecture.md §5.11, "every
// create is idempotent"). The local side cannot create a record under the
// key Salesforce gives it; it creates the row through a link column that
// holds the Salesforce Id, and the create's Result.Key is the key the
// database generated. The engine then:
//
//  1. sends the Salesforce Id with every create (Record.ID), so the target
//     can link the new record to it;
//  2. after a local create whose Result.Key differs from the planned key,
//     has Salesforce take that key (KeySetter, by Id) and records the pair
//     under it (the state moves from the old key); if that fails, the pair
//     is recorded under the old key with both sides' keys, and step 4
//     retries next run;
//  3. after a Salesforce create, tells the local side the new record's Id
//     (Linker), so the row links to it too;
//  4. on read, a local record of a Linker that Links the object carries
//     in Record.ID the Salesforce Id it links to. A record new on the local side whose link names a
//     Salesforce record the local side lacks (a run that stopped between
//     the insert and recording it) is paired with it instead of being
//     created on Salesforce; a pair whose keys differ while the local
//     record links to the Salesforce one takes the local key as in 2.
//
// A Salesforce record without any key is paired the same way (keyless.go).
// What it leaves: a child of a rekeyed record keeps the key it was created
// under.

// KeySetter is implemented by a Salesforce-side connector that sets the
// key of records identified by their Id.
type KeySetter interface {
	// SetKeys sets, for each record, the key of the record whose Id is
	// ID to Key; one Result per record, in order.
	SetKeys(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error)
}

// Linker is implemented by a local-side connector that keeps, on each
// record, the Salesforce Id of the record it is paired with.
type Linker interface {
	// Links reports whether the records of object carry in Record.ID the
	// Salesforce Id they link to (when they have one).
	Links(object string) bool
	// SetLinks records, for each record, that the record Key links to the
	// Salesforce Id ID. A store that keeps no links does nothing and
	// returns nil results.
	SetLinks(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error)
}

// linkPairs pairs each record new on the local side whose link names a
// Salesforce record that the local side lacks with that record.
func (r *runner) linkPairs() {
	bySF := map[string]*entry{}
	var locals []*entry
	for _, e := range r.entries {
		switch {
		case e.pres[SF] == pPresent && e.pres[Local] == pAbsent && e.ro().id[SF] != "":
			bySF[e.ro().id[SF]] = e
		case !e.has && e.pres[Local] == pPresent && e.pres[SF] == pAbsent && e.ro().id[Local] != "":
			locals = append(locals, e)
		}
	}
	if len(bySF) == 0 {
		return
	}
	for _, b := range locals {
		link := b.ro().id[Local]
		a := bySF[link]
		if a == nil {
			continue
		}
		delete(bySF, link)
		if a.keyless {
			r.absorb(a, b).linked = true
			continue
		}
		a.pres[Local], a.keys[Local], a.rw().fp[Local] = pPresent, b.keys[Local], b.ro().fp[Local]
		r.unbind(a, b.ro().fp[Local]) // a's state was matched to its Salesforce values only
		x := a.rw()
		x.vals[Local], x.id[Local] = b.ro().vals[Local], link
		r.setMod(a, Local, b.co().mod[Local])
		a.linked = true
		delete(r.entries, b.id)
		r.alias[b.id] = a.id
	}
}

// keepID reports whether take keeps the Id of a record read from side s
// (the record is kept, or a pair's keys differ): a create sends the
// Salesforce Id to the local side, pairing and rekeys compare the two
// sides' Ids.
func (r *runner) keepID(e *entry, s Side, keep bool, key string) bool {
	if s == Local {
		return r.links && (keep || r.keyID(key) != e.id)
	}
	return keep || r.links && e.has && e.keys[Local] != "" && r.keyID(e.keys[Local]) != e.id
}

// markRekeys marks the pairs whose Salesforce record is to take the local
// key: keys that differ while the local record links to the Salesforce
// one (its Id read this run: a pair whose Salesforce record was not read
// is not renamed on the strength of the link alone).
func (r *runner) markRekeys() {
	for _, e := range r.entries {
		link := e.ro().id[Local]
		if e.unknown || link == "" || e.ro().id[SF] != link || e.pres[SF] != pPresent || e.pres[Local] != pPresent || e.keys[SF] == "" || e.keys[Local] == "" {
			continue
		}
		if r.keyID(e.keys[SF]) != r.keyID(e.keys[Local]) {
			e.rekey, e.dirty = true, true
		}
	}
}

// rekeys has Salesforce take the local key of each marked entry of es
// (with pre, those marked before apply; else those a local create of this
// batch marked) and moves their state to it.
func (r *runner) rekeys(ctx context.Context, es []*entry, pre bool) error {
	var todo []*entry
	var recs []connector.Record
	for _, e := range es {
		if !e.rekey || e.unknown || (pre && e.op[Local] == OpCreate && !(e.adopt && !r.links)) {
			continue
		}
		id := e.ro().id[SF]
		if id == "" {
			continue
		}
		todo = append(todo, e)
		recs = append(recs, connector.Record{Key: e.keys[Local], ID: id})
	}
	if len(todo) == 0 {
		return nil
	}
	var results []connector.Result
	var err error
	ks, ok := r.SF.(KeySetter)
	if !ok {
		err = fmt.Errorf("%s cannot set keys: %w", r.SF.Name(), connector.ErrReadOnly)
	} else {
		if r.opts.Lease != 0 {
			if err := r.update(ctx, func(state.Tx) error { return nil }); err != nil {
				return fmt.Errorf("job %s: %w", r.job.Name, err)
			}
		}
		r.calls++
		r.attempted += len(recs)
		results, err = ks.SetKeys(ctx, r.job.Object, recs)
		if err == nil && len(results) != len(recs) {
			err = fmt.Errorf("%s returned %d results for %d records", SF, len(results), len(recs))
		}
		if err != nil && (connector.IsFatal(err) || ctx.Err() != nil) {
			return fmt.Errorf("job %s: set keys on %s: %w", r.job.Name, SF, err)
		}
		if err != nil && errors.Is(err, connector.ErrStop) {
			// The budget, the org's limit or an outage: the run stops and
			// holds its writes; nothing failed. A keyless record that did
			// not take its key is read again next run.
			r.stopped = fmt.Errorf("job %s: set keys on %s: %w", r.job.Name, SF, err)
			for _, e := range todo {
				if e.keyless {
					e.cw().rekeyErr = err
					r.holdCursor = true
				}
			}
			return nil
		}
	}
	var failed []state.RecordErr
	now := r.now()
	for i, e := range todo {
		e.rekey = false
		ferr := err
		if ferr == nil {
			ferr = results[i].Err
		}
		if ferr != nil {
			// The pair stays under its old key, both sides' keys recorded,
			// and pending: the next run reads it by key and tries again.
			key := e.keys[SF]
			if e.keyless {
				key = e.keys[Local] // the row's: the record has none
			}
			re := state.RecordErr{RunID: r.runID, Key: key, Code: string(connector.CodeOf(ferr)), Message: "setting the key " + e.keys[Local] + ": " + ferr.Error(), At: now}
			var rerr *connector.RecordError
			if errors.As(ferr, &rerr) {
				re.Field = rerr.Field
			}
			failed = append(failed, re)
			r.counts.Failures++
			e.cw().rekeyErr, e.dirty = ferr, true
			if e.keyless {
				// No key in Salesforce: no write (an upsert by the key
				// would create a second record) and no state; the record
				// is read again next run.
				r.holdCursor = true
			}
			continue
		}
		e.keys[SF] = e.keys[Local]
		e.keyless = false
		if nid := r.keyID(e.keys[Local]); nid != e.id {
			if e.co().moved == "" {
				e.cw().moved = e.id
			}
			e.id = nid
		}
		e.dirty = true
	}
	if len(failed) == 0 {
		return nil
	}
	r.failed = append(r.failed, failed...)
	err = r.update(context.WithoutCancel(ctx), func(tx state.Tx) error {
		for _, re := range failed {
			if err := tx.LogError(re); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: state: %w", r.job.Name, err)
	}
	return nil
}

// afterCreates follows up the creates of a batch just written: local
// creates that got a generated key are rekeyed on Salesforce; Salesforce
// creates are linked locally (best effort: a link of a record created
// under its own key is not needed to keep creates idempotent).
func (r *runner) afterCreates(ctx context.Context, batch []Write) error {
	var es []*entry
	for _, w := range batch {
		if w.Op == OpCreate && w.e.out[w.Side] == oOK {
			es = append(es, w.e)
		}
	}
	if len(es) == 0 {
		return nil
	}
	if batch[0].Side == Local {
		return r.rekeys(ctx, es, false)
	}
	lk, ok := r.Local.(Linker)
	if !ok || !r.links {
		return nil
	}
	var recs []connector.Record
	for _, e := range es {
		if id := e.ro().id[SF]; id != "" && e.keys[Local] != "" {
			recs = append(recs, connector.Record{Key: e.keys[Local], ID: id})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if _, err := lk.SetLinks(ctx, r.job.Object, recs); err != nil && ctx.Err() != nil {
		return fmt.Errorf("job %s: set links on %s: %w", r.job.Name, Local, err)
	}
	return nil
}
