package reconcile

// This file is the first phase of a run: loading the job's state.

import (
	"context"
	"slices"

	"github.com/casebridge/casebridge/state"
)

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
		copy(e.salt[:], rs.Salt)
		v1 := len(rs.Salt) == 0 // unbound fingerprints (fromV1)
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
			e.cw().rules = rules
		}
		if v1 {
			r.loadV1(e, rs.Fields)
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
		r.v1 = nil
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
		if p.Reason == state.ReasonBudget {
			r.budgetHeld++
		}
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
		if e := r.entries[c.Key]; e != nil && e.v1 {
			r.v1Confl = append(r.v1Confl, v1Conflict{e, c})
		}
	}
	for k := range r.pending {
		r.entry(k).pendingBefore = true
	}
	r.tombs, err = r.Store.Tombstones(ctx, r.job.Object)
	if err != nil {
		return err
	}
	kc, err := r.Store.Cursor(ctx, r.job.Name, keylessName)
	r.loadKeyless(kc)
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
	if r.first || r.opts.Full || r.keylessChanged {
		return true
	}
	for _, e := range r.entries {
		if !e.has {
			continue
		}
		rules := e.co().rules
		if rules == nil {
			continue // every rule current
		}
		for i := range e.fs {
			fs, rule := &e.fs[i], rules[i]
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
