package reconcile

// This file is the fourth phase of a run: the plan, and the safety brakes
// that may stop it before apply (apply.go).

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/state"
)

func (r *runner) buildPlan(order []*entry) {
	p := &Plan{Job: r.job.Name, First: r.first, Incremental: r.incr, Unreadable: r.unread, Deferred: r.deferred}
	var ups [2][]Write
	var dels [2][]Write
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
					p.Notes = append(p.Notes, Note{Kind: NoteUnknown, Key: e.key(), Detail: s.String() + ": " + e.ro().why[s]})
				}
			}
			continue
		case !e.has && !e.hasWrite() && (e.pres[SF] == pPresent) != (e.pres[Local] == pPresent):
			if _, dead := r.tombs[r.FP.KeyHash(e.id)]; dead {
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
			w := Write{Side: s, Op: e.op[s], Key: e.keys[s], Reason: e.ro().opReason[s], e: e}
			if w.Key == "" {
				w.Key = e.keys[s.Other()]
			}
			switch e.op[s] {
			case OpCreate:
				for _, i := range r.jobOrder {
					if r.creates(e, s, i) {
						w.Changes = append(w.Changes, Change{Field: r.names[i]})
					}
				}
				ups[s] = append(ups[s], w)
			case OpUpdate:
				for _, i := range r.jobOrder {
					if d := e.x.dec[i]; d.kind == dWrite && d.to == s {
						w.Changes = append(w.Changes, Change{Field: r.names[i], Reason: d.reason})
					}
				}
				ups[s] = append(ups[s], w)
			case OpDelete:
				dels[s] = append(dels[s], w)
			}
		}
	}
	p.Writes = slices.Concat(ups[SF], ups[Local], dels[SF], dels[Local])
	r.keylessReport(p)
	r.plan = p
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
	var ups [2]int
	for _, w := range p.Writes {
		if w.Op == OpUpdate {
			ups[w.Side]++
		}
	}
	for s, n := range ups {
		if n > 0 && r.job.MaxUpdate.exceeded(n, r.stateCount()) {
			return &AbortError{Reason: fmt.Sprintf("job %s would update %d records on %s, above max_update %s; use --force to go ahead", r.job.Name, n, Side(s), r.job.MaxUpdate)}
		}
	}
	if dels := p.Count(OpDelete); dels > 0 && r.job.MaxDelete.exceeded(dels, r.stateCount()) {
		return &AbortError{Reason: fmt.Sprintf("job %s would delete %d records, above max_delete %s; use --force to go ahead", r.job.Name, dels, r.job.MaxDelete)}
	}
	return nil
}

// parentDeletes refuses (without --force) to delete a parent record that
// has children in the state of a child job.
func (r *runner) parentDeletes() error {
	var dels []Write
	for _, w := range r.plan.Writes {
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

func (r *runner) stateCount() int {
	n := 0
	for _, e := range r.entries {
		if e.has {
			n++
		}
	}
	return n
}
