package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

// The oracle is a plain model of what each side should hold, written from
// doc/architecture.md §5 in terms of values (no fingerprints, no state store, no
// connectors): a baseline of values per key and field, and the decision
// table applied to it. Job: both directions, salesforce_wins for conflicts
// and at first sync, deletes propagate.

var propFields = []string{"Name__c", "Stage__c", "Amount__c"}

var propValues = map[string][]string{
	"Name__c":   {"", "Ann", "Bob", "ทดสอบ"},
	"Stage__c":  {"", "Active", "Closed"},
	"Amount__c": {"", "1", "2.5"},
}

type orec map[string]string // field -> value; "" is null

type okey struct {
	sf, local orec // nil: absent
	has       bool // the engine keeps state for the key
	base      map[string]*string
}

type oracle struct {
	keys map[string]*okey
	// failing[side] holds the keys whose writes fail this round;
	// unreadable[side] the keys that read with Record.Err (skipped).
	failing    [2]map[string]bool
	unreadable [2]map[string]bool
	// hidden holds, per key, a field local reads leave out (unknown on
	// the local side: no write from or to it, no clear, baseline kept).
	hidden map[string]string
	// dead holds the keys of records gone from both sides after the
	// engine held them: tombstoned, never created again from one side.
	dead map[string]bool
}

// known returns local record r without its hidden field (nil for none):
// what a create from local carries; the other side holds null there.
func (o *oracle) known(key string, r orec) orec {
	r = cloneRec(r)
	if f := o.hidden[key]; f != "" {
		r[f] = ""
	}
	return r
}

func (o *oracle) k(key string) *okey {
	if o.keys[key] == nil {
		o.keys[key] = &okey{}
	}
	return o.keys[key]
}

func cloneRec(r orec) orec { return maps.Clone(r) }

func (o *oracle) tomb(key string) {
	if o.dead == nil {
		o.dead = map[string]bool{}
	}
	o.dead[key] = true
}

func (o *oracle) sync() {
	for key, k := range o.keys {
		if (o.unreadable[0][key] && k.sf != nil) || (o.unreadable[1][key] && k.local != nil) {
			continue // unknown: neither present nor deleted, untouched
		}
		sfOK, locOK := !o.failing[0][key], !o.failing[1][key]
		switch {
		case k.sf == nil && k.local == nil:
			if k.has {
				o.tomb(key)
			}
			k.has, k.base = false, nil
		case !k.has && (k.sf == nil || k.local == nil):
			// New on one side: create on the other, unless it was
			// deleted before (a tombstone).
			if o.dead[key] {
				continue
			}
			if k.sf == nil && sfOK {
				k.sf = o.known(key, k.local)
				k.setBase(k.sf)
			} else if k.local == nil && locOK {
				k.local = cloneRec(k.sf)
				k.setBase(k.sf)
			}
		case k.sf == nil || k.local == nil:
			// Deleted on one side since the baseline.
			kept, keptOK := k.local, sfOK
			if k.local == nil {
				kept, keptOK = k.sf, locOK
			}
			edited := false
			for _, f := range propFields {
				if k.local != nil && o.hidden[key] == f {
					continue // unknown on the kept side: not an edit
				}
				if b := k.base[f]; b == nil || *b != kept[f] {
					edited = true
				}
			}
			delOK := locOK
			if k.local == nil {
				delOK = sfOK
			}
			switch {
			case edited && keptOK: // the edit wins: re-create
				if k.sf == nil {
					k.sf = o.known(key, kept)
					k.setBase(k.sf)
				} else {
					k.local = cloneRec(kept)
					k.setBase(kept)
				}
			case !edited && delOK: // propagate the delete
				k.sf, k.local, k.has, k.base = nil, nil, false, nil
				o.tomb(key)
			}
		default:
			// Both present: field by field.
			toSF, toLocal := map[string]string{}, map[string]string{}
			agreed := map[string]string{}
			for _, f := range propFields {
				if o.hidden[key] == f {
					continue // unknown locally: nothing moves
				}
				s, l := k.sf[f], k.local[f]
				b := k.base[f]
				switch {
				case s == l:
					agreed[f] = s
				case b == nil: // initial
					switch {
					case s == "":
						toSF[f] = l
					default: // l == "" fills from Salesforce; otherwise salesforce_wins
						toLocal[f] = s
					}
				case s != *b && l == *b:
					toLocal[f] = s
				case s == *b && l != *b:
					toSF[f] = l
				default: // both changed, differently: salesforce_wins
					toLocal[f] = s
				}
			}
			if k.base == nil {
				k.base = map[string]*string{}
			}
			k.has = true
			for f, v := range agreed {
				k.base[f] = &v
			}
			if len(toSF) > 0 && sfOK {
				for f, v := range toSF {
					k.sf[f] = v
					k.base[f] = &v
				}
			}
			if len(toLocal) > 0 && locOK {
				for f, v := range toLocal {
					k.local[f] = v
					k.base[f] = &v
				}
			}
		}
	}
}

func (k *okey) setBase(r orec) {
	k.has = true
	k.base = map[string]*string{}
	for _, f := range propFields {
		v := r[f]
		k.base[f] = &v
	}
}

func (o *oracle) dump(sideIdx int) []string {
	var out []string
	for key, k := range o.keys {
		r := k.sf
		if sideIdx == 1 {
			r = k.local
		}
		if r == nil {
			continue
		}
		rec := connector.Record{Key: key, Fields: map[string]connector.Value{}}
		for f, v := range r {
			if v != "" {
				rec.Fields[f] = connector.Text(v)
			}
		}
		out = append(out, formatRecord(rec))
	}
	slices.Sort(out)
	return out
}

func TestProperty(t *testing.T) {
	seeds, rounds := 12, 25
	if testing.Short() {
		seeds, rounds = 3, 10
	}
	if n, err := strconv.Atoi(os.Getenv("CASEBRIDGE_PROPERTY_SEEDS")); err == nil && n > 0 {
		seeds = n // a longer soak: CASEBRIDGE_PROPERTY_SEEDS=500
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			propertyRun(t, uint64(seed), rounds, 0)
		})
	}
}

// TestPropertyInParts runs the property test with runs split into parts
// of two records (Job.PartSize): six keys make two to six parts, each
// planned and applied on its own; the oracle knows nothing of parts.
func TestPropertyInParts(t *testing.T) {
	seeds, rounds := 12, 25
	if testing.Short() {
		seeds, rounds = 3, 10
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			propertyRun(t, uint64(seed), rounds, 2)
		})
	}
}

func propertyRun(t *testing.T, seed uint64, rounds, partSize int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	w := newWorld(t)
	w.job.PartSize = partSize
	w.job.Deletes = reconcile.Propagate
	w.job.MinMatchRate = -1 // random sides often share nothing at first
	o := &oracle{keys: map[string]*okey{}, hidden: map[string]string{}}
	keys := []string{"K1", "K2", "K3", "K4", "K5", "K6"}
	sides := []*side{w.sf, w.local}
	edit := func(si int) {
		key := keys[rng.IntN(len(keys))]
		k := o.k(key)
		cur := &k.sf
		if si == 1 {
			cur = &k.local
		}
		if *cur != nil && rng.IntN(5) == 0 {
			if err := sides[si].del(key); err != nil {
				t.Fatal(err)
			}
			*cur = nil
			return
		}
		kv := map[string]string{}
		if *cur == nil {
			*cur = orec{}
			for _, f := range propFields { // a create sets every field
				v := propValues[f][rng.IntN(len(propValues[f]))]
				kv[f], (*cur)[f] = v, v
			}
		} else {
			f := propFields[rng.IntN(len(propFields))]
			v := propValues[f][rng.IntN(len(propValues[f]))]
			kv[f], (*cur)[f] = v, v
		}
		if err := sides[si].set(key, kv); err != nil {
			t.Fatal(err)
		}
	}
	lastPlan := ""
	split := 0 // runs split into parts
	defer func() {
		if partSize > 0 && split == 0 && !t.Failed() {
			t.Errorf("seed %d: no run was split into parts of %d", seed, partSize)
		}
	}()
	check := func(when string) {
		t.Helper()
		for si, s := range sides {
			if got, want := s.dump(), o.dump(si); !slices.Equal(got, want) {
				t.Errorf("seed %d %s: %s side differs from the oracle\n got:\n\t%s\nwant:\n\t%s", seed, when, reconcile.Side(si),
					strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
		}
		if t.Failed() {
			t.Log(lastPlan)
			t.FailNow()
		}
	}
	for round := range rounds {
		for si := range sides {
			for range rng.IntN(4) {
				edit(si)
			}
		}
		for si, s := range sides {
			s.mu.Lock()
			s.failing = map[string]bool{}
			o.failing[si] = map[string]bool{}
			if rng.IntN(4) == 0 {
				k := keys[rng.IntN(len(keys))]
				s.failing[connector.KeyID(k, false)] = true
				o.failing[si][k] = true
			}
			s.unreadable = map[string]bool{}
			o.unreadable[si] = map[string]bool{}
			// Only local rows are unreadable: Salesforce is read from a
			// cursor, so whether an unreadable record is read at all (and
			// so unknown) depends on the engine, not on the model.
			if si == 1 && rng.IntN(4) == 0 {
				k := keys[rng.IntN(len(keys))]
				s.unreadable[connector.KeyID(k, false)] = true
				o.unreadable[si][k] = true
			}
			// A local cell that does not map: the field is missing from
			// the record read (unknown), never null.
			if si == 1 {
				s.hidden = map[string][]string{}
				o.hidden = map[string]string{}
				if rng.IntN(3) == 0 {
					k, f := keys[rng.IntN(len(keys))], propFields[rng.IntN(len(propFields))]
					s.hidden[connector.KeyID(k, false)] = []string{f}
					o.hidden[k] = f
				}
			}
			s.mu.Unlock()
		}
		before := [2][]string{w.sf.dump(), w.local.dump()}
		res, err := w.sync(reconcile.RunOptions{})
		if err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
		split += min(res.Parts, 1)
		lastPlan = fmt.Sprintf("before: sf %q local %q; failing %v unreadable %v hidden %v\nplan:\n%s", before[0], before[1], o.failing, o.unreadable, o.hidden, res.Plan)
		o.sync()
		check(fmt.Sprintf("round %d", round))
	}
	// Failures stop: both sides converge and a further run plans nothing.
	for si, s := range sides {
		s.mu.Lock()
		s.failing = map[string]bool{}
		o.failing[si] = map[string]bool{}
		s.unreadable = map[string]bool{}
		o.unreadable[si] = map[string]bool{}
		s.hidden = map[string][]string{}
		s.mu.Unlock()
	}
	o.hidden = map[string]string{}
	for i := range 2 {
		if _, err := w.sync(reconcile.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		o.sync()
		check(fmt.Sprintf("healed run %d", i))
	}
	// Converged, but for the records deleted before that came back on one
	// side: tombstoned, flagged, never created again on the other.
	blocked := func(dump []string) []string {
		return slices.DeleteFunc(dump, func(line string) bool {
			key, _, _ := strings.Cut(line, " ")
			k := o.keys[key]
			return o.dead[key] && k != nil && (k.sf == nil) != (k.local == nil)
		})
	}
	if a, b := blocked(w.sf.dump()), blocked(w.local.dump()); !slices.Equal(a, b) {
		t.Fatalf("seed %d: not converged\nsf:\n\t%s\nlocal:\n\t%s", seed, strings.Join(a, "\n\t"), strings.Join(b, "\n\t"))
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.NumWrites() != 0 {
		t.Fatalf("seed %d: converged sides still plan:\n%s", seed, res.Plan)
	}
	ps, _ := w.store.Pending(context.Background(), w.job.Name)
	if len(ps) != 0 {
		t.Fatalf("seed %d: pending after convergence: %+v", seed, ps)
	}
}
