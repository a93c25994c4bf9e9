package reconcile

// This file is the first phase of a run: loading the job's state.

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/state"
)

// load reads the job's state: records, pending keys, conflicts, tombstones.
func (r *runner) load(ctx context.Context) error {
	r.alias = map[string]string{}
	r.stateN, r.staleRules = 0, false
	var loaded []*entry // the map is made once their number is known
	idx := make(map[string]int, len(r.names))
	for i, n := range r.names {
		idx[n] = i
	}
	err := r.records(ctx, func(rs state.RecordState) error {
		r.stateN++
		if rs.LocalKey != rs.SFKey {
			if lid := r.keyID(rs.LocalKey); lid != rs.Key {
				r.alias[lid] = rs.Key
			}
		}
		if !r.staleRules {
			r.staleRules = r.rulesStale(rs.Fields, idx)
		}
		switch {
		case r.pt.n > 1 && !r.inPart(rs.Key):
			return nil // another part's
		case r.pt.over || r.pt.limit > 0 && r.pt.n == 0 && len(loaded) >= r.pt.limit:
			r.pt.goOver() // too many to hold: counted, for the parts
			r.pt.seen.add(r.pt.seed, rs.Key)
			return nil
		}
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
		return nil
	})
	if r.pt.state != nil {
		r.alias = maps.Clone(r.pt.alias) // every part's (parts.go, sortState)
	}
	if r.opts.Resync {
		// A resync is a first sync over the state: what is stored is set
		// aside (and overwritten record by record as the run commits).
		loaded = nil
		clear(r.alias)
		r.v1 = nil
		r.stateN, r.staleRules = 0, false
		if r.pt.over {
			r.pt.over, r.pt.seen = false, keySketch{}
		}
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
	r.first = r.stateN == 0
	if r.pt.n > 1 {
		// As the first read found them: parts applied before this one
		// have written the state since.
		r.first, r.stateN, r.staleRules = r.pt.first, r.pt.stateN, r.pt.staleRules
	}
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
			if r.pt.i == 0 { // once, not once per part
				r.orphans = append(r.orphans, *c) // the field left the job
			}
			continue
		}
		r.queue[[2]string{c.Key, c.Field}] = c
		r.pending[c.Key] = true
		if e := r.entries[c.Key]; e != nil && e.v1 {
			r.v1Confl = append(r.v1Confl, v1Conflict{e, c})
		}
	}
	for k := range r.pending {
		if _, ok := r.entries[k]; ok || r.hold(k) {
			r.entry(k).pendingBefore = true
		}
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
		id = strings.Clone(id) // not the row it was read from (ownKey)
		e = &entry{id: id}
		e.fs = r.noState // read only: no state, nothing stored
		r.entries[id] = e
	}
	return e
}

// needsFull reports whether Salesforce must be read completely: first
// sync, or a field's rule changed (every record must be looked at again).
func (r *runner) needsFull() bool {
	return r.first || r.opts.Full || r.keylessChanged || r.staleRules
}

// rulesStale reports whether a stored record's fields (idx: the job's
// field indexes by name) need a complete Salesforce read: a field under a
// rule that is not current, or new to the job. A field never initialised
// because it was unknown on the local side has its Salesforce last seen
// stored: it needs no complete read.
func (r *runner) rulesStale(fields []state.FieldState, idx map[string]int) bool {
	if len(fields) == len(r.names) {
		// Most records: the job's fields, in its order, under its
		// current rules (no lookup by name).
		current := true
		for i := range fields {
			if fields[i].Field != r.names[i] || fields[i].Rule != r.rule[i] {
				current = false
				break
			}
		}
		if current {
			return false
		}
	}
	seen := 0
	for k := range fields {
		f := &fields[k]
		i, ok := idx[f.Field]
		if !ok {
			continue // a field the job no longer has
		}
		seen++
		if f.Rule != r.rule[i] && !(f.Rule == 0 && f.SF != 0) {
			return true
		}
	}
	return seen < len(r.names) // a field new to the job: nothing stored
}
