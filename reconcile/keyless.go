package reconcile

// Salesforce records without the job's key: cases a caseworker opened in
// Salesforce, and the cases of an org that predates casebridge. The
// Salesforce connector reads them as NO_KEY records carrying their Id and
// fields. A run gives each one of three fates:
//
//  1. Paired (first deployment): match_on fields equal to those of exactly
//     one local row new to the job. The Salesforce record takes that row's
//     key (KeySetter, by Id) before anything else is written, then the pair
//     is decided as any first sync pair. A local row whose link column
//     names the record's Id (a store whose keys the database generates) is
//     paired the same way.
//  2. Adopted (Job.Adopt): not paired, so given a key of its own (the
//     job's key prefix and the record's Id, or a field such as an
//     auto-number) on Salesforce first, then created on the local side.
//     The key depends only on the record, so a run that stops between the
//     two steps is finished by the next one: the record then has its key,
//     and an existing row with that key is paired, not duplicated.
//  3. Left alone: the job does not adopt. It is reported once (a plan note
//     the first run that sees it; the state keeps a hash of its Id, never a
//     value), then only counted.
//
// A match_on value shared by several records on either side is ambiguous:
// none of those records is paired, adopted or created, and each is a note
// for a person (the run's exit says so), who sets the key by hand or tells
// the records apart. The match-rate brake of a first sync counts keyless
// records as Salesforce records, so a sheet that matches none of them is
// stopped before it duplicates them.
//
// A record whose key could not be set (a validation rule, a lock) gets no
// write and no state; the run keeps its change cursor so the next run reads
// the record again and retries.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// Adopt makes a job adopt its Salesforce records without a key.
type Adopt struct {
	// Prefix starts every key given: the job's key prefix ("ngo-th-cm:").
	Prefix string
	// Field, when set, is the Salesforce field whose value follows the
	// prefix (an auto-number such as a case number); "" means the
	// record's Id. A record whose field is empty is left alone.
	Field string
}

// keylessPrefix starts the entry id of a keyless record (before it takes a
// key): keys never hold control characters (connector.CheckKey).
const keylessPrefix = "\x00"

// takeKeyless records a Salesforce record read without a key.
func (r *runner) takeKeyless(rec connector.Record) {
	if rec.Deleted {
		return // no key: nothing of the job's was deleted
	}
	id := keylessPrefix + rec.ID
	e := r.entry(id)
	e.keyless = true
	if a := r.job.Adopt; a != nil {
		v := rec.ID
		if a.Field != "" {
			v = ""
			if f, ok := rec.Fields[r.adoptField]; ok && !f.IsNull() {
				v = f.Raw()
			}
		}
		if v = strings.TrimSpace(v); v != "" {
			e.cw().adoptKey = a.Prefix + v
		}
	}
	rec.Err = nil
	r.takeInto(e, SF, rec, id)
}

// rehome moves e to the entry id nid (dropping what was there).
func (r *runner) rehome(e *entry, nid string) {
	delete(r.entries, e.id)
	e.id = nid
	r.entries[nid] = e
}

// absorb pairs the keyless Salesforce record a with the local record b
// (new on the local side): the pair lives under b's key, and Salesforce
// is to take that key before anything is written.
func (r *runner) absorb(a, b *entry) *entry {
	x := a.rw()
	b.pres[SF], b.keys[SF] = pPresent, ""
	y := b.rw()
	y.fp[SF], y.vals[SF], y.id[SF] = x.fp[SF], x.vals[SF], x.id[SF]
	r.setMod(b, SF, a.co().mod[SF])
	b.keyless, b.rekey = true, true
	delete(r.entries, a.id)
	return b
}

// emptiedKeys finds the Salesforce records without a key that hold, field
// for field, the values last seen of a record the job holds: its key was
// most likely emptied in Salesforce (a cleanup, a mistaken edit). Such a
// record is neither adopted nor paired but held for a person, and the
// record the job holds is unknown rather than deleted.
func (r *runner) emptiedKeys() {
	var keyless []*entry
	for _, e := range r.entries {
		if strings.HasPrefix(e.id, keylessPrefix) && e.ro().fp[SF] != nil {
			keyless = append(keyless, e)
		}
	}
	if len(keyless) == 0 {
		return
	}
	sig := func(fps []state.Fingerprint) string {
		b := make([]byte, 0, 8*len(fps))
		for _, fp := range fps {
			b = fmt.Appendf(b, "%016x", uint64(fp))
		}
		return string(b)
	}
	want := map[string]*entry{}
	for _, k := range keyless {
		want[sig(k.x.fp[SF])] = k
	}
	last := make([]state.Fingerprint, len(r.names))
	for _, e := range r.entries {
		if !e.has || e.readSF {
			continue // read under its key this run: it has one
		}
		bound := false
		for i := range last {
			last[i] = e.fs[i].SF
			bound = bound || last[i]&boundBit != 0
		}
		var k *entry
		if !bound {
			k = want[sig(last)]
		} else {
			// Values the reads did not match stay bound to e: each
			// keyless record's are bound to e to compare (bind.go).
			for _, c := range keyless {
				if r.holds(c, e) {
					k = c
					break
				}
			}
		}
		if k == nil {
			continue
		}
		k.ambiguous = true
		k.cw().note = "salesforce record " + k.ro().id[SF] + " has no key and holds the values of " + e.key() +
			": was its key emptied in Salesforce? Put the key back; until then neither is synced"
		// Not deleted (a complete read did not see it), and not written
		// to by its key either (an upsert would make a second record).
		e.pres[SF] = pUnknown
		e.cw().why[SF] = "salesforce record " + k.ro().id[SF] + " holds its values without a key"
	}
}

// adoptKeyless gives the keyless records left after pairing their fate:
// adopted (a key of their own) when the job adopts, else left alone and
// counted.
func (r *runner) adoptKeyless() {
	var left []*entry
	for _, e := range r.entries {
		if e.keyless && strings.HasPrefix(e.id, keylessPrefix) && !e.ambiguous {
			left = append(left, e)
		}
	}
	slices.SortFunc(left, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	for _, e := range left {
		sfID := e.ro().id[SF]
		if r.job.Adopt == nil || !r.job.direction().writes(Local) {
			r.keylessLeft = append(r.keylessLeft, e)
			continue
		}
		k := e.co().adoptKey
		if k == "" || !r.keyOK(k) {
			why := "its " + r.job.Adopt.Field + " is empty"
			if k != "" {
				why = "the key it would take cannot be a key"
			}
			e.cw().note = "salesforce record " + sfID + " has no key and is not adopted: " + why
			r.keylessLeft = append(r.keylessLeft, e)
			continue
		}
		nid := r.keyID(k)
		if o := r.entries[nid]; o != nil {
			if o.has || o.pres[SF] != pAbsent || o.pres[Local] != pPresent {
				e.cw().note = "salesforce record " + sfID + " has no key and is not adopted: the key " + k + " is in use"
				r.keylessLeft = append(r.keylessLeft, e)
				continue
			}
			// A local row already has the key (a run that stopped after
			// creating it): the two are one record.
			r.absorb(e, o).adopted = true
			continue
		}
		r.rehome(e, nid)
		e.keys[Local] = k
		e.adopt, e.adopted, e.rekey = true, true, true
	}
}

// keylessNotes adds the plan's notes on keyless records: pairs, adoptions,
// ambiguous matches, and the records left alone that no earlier run
// reported.
func (r *runner) keylessNotes(p *Plan, e *entry) {
	switch {
	case e.ambiguous:
		p.Notes = append(p.Notes, Note{Kind: NoteAmbiguous, Key: e.key(), Detail: e.co().note})
	case e.keyless && e.adopted && !e.unknown:
		p.Notes = append(p.Notes, Note{Kind: NoteAdopted, Key: e.keys[Local], Detail: "salesforce record " + e.ro().id[SF] + " had no key: it takes this key and is created on local"})
	}
}

// keylessReport counts the keyless records left alone and notes those no
// earlier run reported.
func (r *runner) keylessReport(p *Plan) {
	p.Keyless = len(r.keylessLeft)
	for _, e := range r.keylessLeft {
		h := r.keylessHash(e)
		if r.keylessSeen[h] {
			continue
		}
		p.KeylessNew++
		d := e.co().note
		if d == "" {
			d = "salesforce record " + e.ro().id[SF] + " has no key: not in this job (adopt brings such records, match_on pairs them)"
		}
		p.Notes = append(p.Notes, Note{Kind: NoteKeyless, Key: e.ro().id[SF], Detail: d})
	}
}

// keylessHash is what the state keeps of a keyless record reported: a
// hash of its Id.
func (r *runner) keylessHash(e *entry) string {
	h := r.FP.KeyHash(e.ro().id[SF])
	return h[:min(len(h), 16)]
}

// keylessSig is the settings that decide what happens to keyless records:
// when they change, Salesforce is read completely once, so that records
// read before under other settings get their new fate.
func (r *runner) keylessSig() string {
	s := "v1"
	if a := r.job.Adopt; a != nil {
		s += fmt.Sprintf(" adopt=%q/%q", a.Prefix, a.Field)
	}
	if len(r.job.MatchOn) > 0 {
		s += " match=" + strings.ToLower(strings.Join(r.job.MatchOn, ","))
	}
	return s
}

// maxKeylessKept bounds the reported keyless records the state keeps.
const maxKeylessKept = 20000

// keylessCursor is the state's note of the keyless settings and of the
// keyless records reported (hashes of Ids), as of this run.
func (r *runner) keylessCursor() string {
	seen := map[string]bool{}
	if r.incr {
		for h := range r.keylessSeen {
			seen[h] = true
		}
	}
	for _, e := range r.keylessLeft {
		seen[r.keylessHash(e)] = true
	}
	for id, e := range r.entries {
		if e.ambiguous && strings.HasPrefix(id, keylessPrefix) {
			seen[r.keylessHash(e)] = true // held for a person: still keyless
		}
	}
	hs := make([]string, 0, len(seen))
	for h := range seen {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	if len(hs) > maxKeylessKept {
		hs = hs[:maxKeylessKept]
	}
	sig := r.keylessSig()
	if r.holdCursor && !r.incr {
		// A keyless record read by this complete read could not take its
		// key: the next read must be complete too to find it again (the
		// change cursor alone reaches only records changed since).
		sig = "retry"
	}
	return sig + "\n" + strings.Join(hs, ",")
}

// loadKeyless reads the keyless cursor: whether the settings changed, and
// the records reported before.
func (r *runner) loadKeyless(c string) {
	r.keylessLoaded = c
	sig, list, _ := strings.Cut(c, "\n")
	r.keylessSeen = map[string]bool{}
	r.keylessChanged = sig != r.keylessSig()
	if r.keylessChanged {
		return
	}
	for _, h := range strings.Split(list, ",") {
		if h != "" {
			r.keylessSeen[h] = true
		}
	}
}

// readKeylessWhole reads every Salesforce record without a key that this
// run has not read, when match_on may pair one with a row new to the job:
// an incremental read returns only the records changed since, and a row
// added today may match a legacy case read (and left alone) long ago. It
// costs a complete read, so it runs only while keyless records are known
// (reported or held before) and rows are new.
func (r *runner) readKeylessWhole(ctx context.Context) error {
	if !r.incr || len(r.matchIdx) == 0 || len(r.keylessSeen) == 0 {
		return nil
	}
	fresh := false
	for _, e := range r.entries {
		if !e.has && e.pres[Local] == pPresent && e.pres[SF] == pNone {
			fresh = true
			break
		}
	}
	if !fresh {
		return nil
	}
	r.calls++
	_, err := r.SF.Read(ctx, r.job.Object, "", func(rec connector.Record) error {
		if rec.Key == "" && rec.ID != "" && connector.CodeOf(rec.Err) == connector.CodeNoKey {
			if _, read := r.entries[keylessPrefix+rec.ID]; !read {
				r.takeKeyless(rec)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("job %s: read salesforce records without a key: %w", r.job.Name, err)
	}
	return nil
}
