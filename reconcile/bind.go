package reconcile

// This file binds the fingerprints the state keeps to their record and
// field (README.md, "Bound fingerprints").
//
// In memory a run compares unbound fingerprints (Fingerprinter.Value): the
// value's alone, as match_on and the consent values need. The state holds
// them bound (binder.bind). A stored fingerprint the run has not matched
// to a value stays bound in memory, recognised by boundBit, and is stored
// again as it is.

import (
	"slices"

	"github.com/casebridge/casebridge/state"
)

// v1Record is a record loaded from a format 1 state (unbound
// fingerprints), as loaded: apply writes it bound before anything else
// (convertV1).
type v1Record struct {
	e     *entry
	key   string
	keys  [2]string
	flags state.Flags
	// other holds the stored fields the job does not have (any more): a
	// run that commits the record drops them, the conversion keeps them.
	other []state.FieldState
}

// v1Conflict is a queued conflict of a format 1 record.
type v1Conflict struct {
	e *entry
	c *state.Conflict
}

// loadV1 reads the fingerprints of a record loaded from format 1 (fromV1)
// and, unless the run writes nothing, gives the record a salt and queues
// it for convertV1. Its fingerprints are unbound already: nothing needs
// either side to convert it, so a run converts every record of its job,
// changed or not, and no one has to sync again.
func (r *runner) loadV1(e *entry, stored []state.FieldState) {
	for i := range e.fs {
		f := &e.fs[i]
		f.Base, f.SF, f.Local = fromV1(f.Base), fromV1(f.SF), fromV1(f.Local)
	}
	if r.opts.DryRun || r.opts.Resync {
		return
	}
	e.v1, e.salt = true, newSalt()
	v := v1Record{e: e, key: e.id, keys: e.keys, flags: e.flags}
	for _, f := range stored {
		if _, ok := slices.BinarySearch(r.names, f.Field); !ok {
			f.Base, f.SF, f.Local = fromV1(f.Base), fromV1(f.SF), fromV1(f.Local)
			v.other = append(v.other, f)
		}
	}
	r.v1 = append(r.v1, v)
}

// convertV1 writes the records loaded from format 1 bound, as they were
// loaded, with their queued conflicts. It runs first in apply's first
// transaction, so the run's own commits of those records come after it;
// a run stopped later leaves them converted and otherwise as they were.
func (r *runner) convertV1(tx state.Tx) error {
	for _, v := range r.v1 {
		e := v.e
		rs := state.RecordState{Key: v.key, SFKey: v.keys[SF], LocalKey: v.keys[Local], Flags: v.flags,
			Fields: make([]state.FieldState, len(r.names))}
		for i, n := range r.names {
			f := e.fs[i]
			rs.Fields[i] = state.FieldState{Field: n, Base: f.Base, SF: f.SF, Local: f.Local, Rule: r.ruleOf(e, i)}
		}
		for _, f := range v.other {
			rs.SetField(f)
		}
		if err := r.put(tx, e, rs); err != nil {
			return err
		}
	}
	for _, v := range r.v1Confl {
		c := *v.c
		i := slices.Index(r.names, c.Field)
		c.SF = r.bnd.bind(&r.scope[i], &v.e.salt, fromV1(c.SF))
		c.Local = r.bnd.bind(&r.scope[i], &v.e.salt, fromV1(c.Local))
		if err := tx.OpenConflict(c); err != nil { // keeps its time and resolution
			return err
		}
	}
	r.v1, r.v1Confl = nil, nil
	return nil
}

// put stores rs, a state of e, bound to e.
func (r *runner) put(tx state.Tx, e *entry, rs state.RecordState) error {
	r.bindState(e, &rs)
	return tx.PutRecord(rs)
}

// saltOf returns e's salt, giving it one if it has none (a record stored
// for the first time, or converted from format 1).
func (r *runner) saltOf(e *entry) *salt {
	if e.salt == (salt{}) {
		e.salt = newSalt()
	}
	return &e.salt
}

// bindFP returns the bound form of fingerprint fp of field i of e.
func (r *runner) bindFP(e *entry, i int, fp state.Fingerprint) state.Fingerprint {
	return r.bnd.bind(&r.scope[i], r.saltOf(e), fp)
}

// bindState binds the fingerprints of rs, a state of e about to be
// stored: every value's, null's included (an empty field must not read
// alike in every record), and the record's salt goes with them.
func (r *runner) bindState(e *entry, rs *state.RecordState) {
	st := r.saltOf(e)
	rs.Salt = st[:]
	for j := range rs.Fields {
		f := &rs.Fields[j]
		i := j
		if i >= len(r.names) || r.names[i] != f.Field {
			i = slices.Index(r.names, f.Field) // not in job order (never so far)
		}
		var sc *scope
		if i < 0 {
			s := r.FP.scope(r.job.Name, r.obj[SF].Name, f.Field)
			sc = &s
		} else {
			sc = &r.scope[i]
		}
		// Base, last seen on Salesforce and last seen locally are most
		// often one value: bound once.
		var u, b state.Fingerprint
		bind := func(fp state.Fingerprint) state.Fingerprint {
			if fp != u || b == 0 {
				u, b = fp, r.bnd.bind(sc, st, fp)
			}
			return b
		}
		f.Base, f.SF, f.Local = bind(f.Base), bind(f.SF), bind(f.Local)
	}
}

// unbind matches e's stored (bound) fingerprints with the unbound ones
// fps just read from a side: a stored fingerprint equal to the bound form
// of the value read is that value, compared unbound from then on. One
// that matches nothing read keeps its bound form: it is equal to no value
// of the run, and to another stored fingerprint of the same field and
// record exactly when their values are equal, which is all the decisions
// ask of it.
func (r *runner) unbind(e *entry, fps []state.Fingerprint) {
	if !e.has || e.salt == (salt{}) {
		return // new, or loaded from format 1: unbound already
	}
	for i, u := range fps {
		if u != 0 && e.fs[i].bound() {
			r.match(e, i, u)
		}
	}
}

func (f *fstate) bound() bool { return (f.Base|f.SF|f.Local)&boundBit != 0 }

// match replaces the stored fingerprints of field i of e that are the
// bound form of u with u.
func (r *runner) match(e *entry, i int, u state.Fingerprint) {
	f := &e.fs[i]
	b := r.bnd.bind(&r.scope[i], &e.salt, u)
	if f.Base == b {
		f.Base = u
	}
	if f.SF == b {
		f.SF = u
	}
	if f.Local == b {
		f.Local = u
	}
}

// settle matches the stored fingerprints no read matched against the
// values the decisions name without reading them: null (a side's delta,
// the initial rules) and, for the consent field, the allowed values (the
// gate, a withdrawal in the baseline). It runs once both sides are read,
// and costs nothing for a record whose stored fingerprints the reads
// matched.
func (r *runner) settle() {
	for _, e := range r.entries {
		if !e.has || e.salt == (salt{}) {
			continue
		}
		for i := range e.fs {
			if !e.fs[i].bound() {
				continue
			}
			r.match(e, i, r.null[i])
			if i != r.consent {
				continue
			}
			for a := range r.allowed {
				if !e.fs[i].bound() {
					break
				}
				r.match(e, i, a)
			}
		}
	}
}

// holds reports whether k, a Salesforce record without a key, holds field
// for field the values last seen on Salesforce of e, a record with state:
// bound fingerprints compared in e's binding.
func (r *runner) holds(k, e *entry) bool {
	for i, u := range k.x.fp[SF] {
		last := e.fs[i].SF
		if last&boundBit != 0 {
			u = r.bnd.bind(&r.scope[i], &e.salt, u)
		}
		if u != last {
			return false
		}
	}
	return true
}
