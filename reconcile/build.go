package reconcile

// This file is the fourth phase of a run: the plan, and the safety brakes
// that may stop it before apply (apply.go).

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/state"
)

func (r *runner) buildPlan(order []*entry) {
	p := &Plan{Job: r.job.Name, First: r.first, Incremental: r.incr, Unreadable: r.unread, Deferred: r.deferred}
	// The writes are counted first and placed in one slice of their exact
	// size, in apply order (upserts to Salesforce, upserts to local,
	// deletes on Salesforce, deletes on local): a first sync of a million
	// rows holds a million writes, and no second copy of them.
	var n [4]int // by writeGroup
	for _, e := range order {
		if e.unknown {
			continue
		}
		for s := SF; s <= Local; s++ {
			if e.op[s] != 0 {
				n[writeGroup(s, e.op[s])]++
			}
		}
	}
	ws := make([]Write, n[0]+n[1]+n[2]+n[3])
	pos := [4]int{0, n[0], n[0] + n[1], n[0] + n[1] + n[2]}
	var ch changeLists
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
		r.keylessNotes(p, e)
		if e.leftNote {
			p.Notes = append(p.Notes, Note{Kind: NoteLeftScope, Key: e.key(), Detail: "the salesforce record left the job's where: kept on both sides, no longer synced"})
		}
		switch {
		case e.matched && e.keyless:
			p.Notes = append(p.Notes, Note{Kind: NoteMatched, Key: e.key(), Detail: "match_on pairs salesforce record " + e.ro().id[SF] + ", which has no key: it takes this key"})
		case e.matched:
			p.Notes = append(p.Notes, Note{Kind: NoteMatched, Key: e.key(), Detail: "match_on pairs local " + e.keys[Local]})
		case e.linked && e.keyless:
			p.Notes = append(p.Notes, Note{Kind: NoteLinked, Key: e.key(), Detail: "this row links to salesforce record " + e.ro().id[SF] + ", which has no key: it takes this key"})
		case e.linked:
			p.Notes = append(p.Notes, Note{Kind: NoteLinked, Key: e.key(), Detail: "local " + e.keys[Local] + " links to this record"})
		}
		if e.rekey && !e.unknown && !e.keyless {
			p.Notes = append(p.Notes, Note{Kind: NoteRekey, Key: e.key(), Detail: "salesforce takes the local key " + e.keys[Local]})
		}
		switch {
		case e.unknown:
			for s := SF; s <= Local; s++ {
				if e.pres[s] == pUnknown {
					p.Notes = append(p.Notes, Note{Kind: NoteUnknown, Key: e.key(), Detail: s.String() + ": " + e.co().why[s]})
				}
			}
			continue
		case !e.has && !e.hasWrite() && (e.pres[SF] == pPresent) != (e.pres[Local] == pPresent):
			if r.tombstoned(e.id) {
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
			w := Write{Side: s, Op: e.op[s], Key: e.keys[s], Reason: e.opWhy[s].String(), e: e}
			if w.Key == "" {
				w.Key = e.keys[s.Other()]
			}
			switch e.op[s] {
			case OpCreate:
				for _, i := range r.jobOrder {
					if r.creates(e, s, i) {
						ch.add(i, "")
					}
				}
				w.Changes = ch.list(r.names)
			case OpUpdate:
				for _, i := range r.jobOrder {
					if d := e.x.dec[i]; d.kind == dWrite && d.to == s {
						ch.add(i, d.reason)
					}
				}
				w.Changes = ch.list(r.names)
			}
			g := writeGroup(s, e.op[s])
			ws[pos[g]] = w
			pos[g]++
		}
	}
	r.keylessReport(p)
	r.writes = ws
	p.addWrites(ws)
	r.plan = p
}

// writeGroup is the place of a write of op on side s in a plan's order:
// upserts to Salesforce, upserts to local, deletes on Salesforce, deletes
// on local.
func writeGroup(s Side, op Op) int {
	if op == OpDelete {
		return 2 + int(s)
	}
	return int(s)
}

// changeLists makes the Changes of a plan's writes, one list shared by
// every write that sets the same fields for the same reasons: most writes
// of a run set alike (every field of a create, the one field edited), so a
// plan of a million writes holds a handful of lists rather than a million.
type changeLists struct {
	sig   []byte // the list being made: field indexes and reasons
	idx   []int
	why   []string
	lists map[string][]Change
}

// add appends field i, set for reason, to the list being made.
func (c *changeLists) add(i int, reason string) {
	c.sig = binary.AppendUvarint(c.sig, uint64(i))
	c.sig = binary.AppendUvarint(c.sig, uint64(len(reason)))
	c.sig = append(c.sig, reason...)
	c.idx = append(c.idx, i)
	c.why = append(c.why, reason)
}

// list returns the list made since the last call (nil if empty), shared
// with the writes that set the same, and starts the next.
func (c *changeLists) list(names []string) []Change {
	defer func() { c.sig, c.idx, c.why = c.sig[:0], c.idx[:0], c.why[:0] }()
	if len(c.idx) == 0 {
		return nil
	}
	if l, ok := c.lists[string(c.sig)]; ok {
		return l
	}
	l := make([]Change, len(c.idx))
	for k, i := range c.idx {
		l[k] = Change{Field: names[i], Reason: c.why[k]}
	}
	if c.lists == nil {
		c.lists = map[string][]Change{}
	}
	c.lists[string(c.sig)] = l
	return l
}

// safety applies the aborts that come before any write.
func (r *runner) safety() error {
	if r.opts.Force {
		return nil
	}
	p := r.plan
	if smaller := min(p.Seen[SF], p.Seen[Local]); r.first && r.job.minMatchRate() > 0 && smaller > 0 && smaller >= r.job.minMatchSample() {
		if float64(p.Matched) < r.job.minMatchRate()*float64(smaller) {
			hint := "check the key and key_prefix, or use --force"
			if p.Keyless > 0 {
				hint = fmt.Sprintf("%d salesforce record(s) have no key: match_on pairs them with the local rows (a case code, say), adopt gives them keys; or use --force", p.Keyless)
			}
			return &AbortError{Reason: fmt.Sprintf("first sync of job %s matches %d of %d records (brake at %g); %s",
				r.job.Name, p.Matched, smaller, r.job.minMatchRate(), hint)}
		}
	}
	if err := r.parentDeletes(); err != nil {
		return err
	}
	t := r.tally // a split run's, counted part by part
	if r.pt.n <= 1 {
		t = writeTally{}
		t.add(r.writes)
	}
	return r.tallyBrakes(t)
}

// tallyBrakes applies max_update and max_delete to the writes counted in t.
func (r *runner) tallyBrakes(t writeTally) error {
	for s, n := range t.ups {
		if n > 0 && r.job.MaxUpdate.exceeded(n, r.stateCount()) {
			return &AbortError{Reason: fmt.Sprintf("job %s would update %d records on %s, above max_update %s; use --force to go ahead", r.job.Name, n, Side(s), r.job.MaxUpdate)}
		}
	}
	if dels := t.dels; dels > 0 && r.job.MaxDelete.exceeded(dels, r.stateCount()) {
		return &AbortError{Reason: fmt.Sprintf("job %s would delete %d records, above max_delete %s; use --force to go ahead", r.job.Name, dels, r.job.MaxDelete)}
	}
	return nil
}

// parentDeletes refuses (without --force) to delete a parent record that
// has children in the state of a child job.
func (r *runner) parentDeletes() error {
	var dels []Write
	for _, w := range r.writes {
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

// stateCount is the number of records the job holds in its state (every
// part's), none for a resync (it sets them aside).
func (r *runner) stateCount() int { return r.stateN }
