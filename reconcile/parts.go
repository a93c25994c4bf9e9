package reconcile

// This file splits a run too large to hold in memory into parts: the
// records are spread over the parts by a hash of their key, and each part
// is loaded, read, decided and planned (and, after the safety brakes have
// judged the whole plan, applied) on its own, holding only its records.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"math/bits"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/state"
)

// defaultPartSize is how many records a run holds at most before it is
// split into parts (Job.PartSize), the parts then of half as many: a job
// of 100,000 records is not split (its 1% change takes 1.3 s whole), and a
// 1,000,000-row CSV of seven fields plans in 21 parts of about 50,000
// within 145 MB resident, 10.5 s (parts of 100,000: 175 to 230 MB).
const defaultPartSize = 100_000

// maxReplay is how many Salesforce records a run that may be split keeps
// in memory from its first read, to hand to every part instead of reading
// them again (an incremental read's changes, most often). More are kept
// in an encrypted temporary file (connector.Spill).
const maxReplay = 2_000

// parts is how a run is split, and what its first read left for the parts.
type parts struct {
	n, i  int          // number of parts (0: not split) and the current one
	seed  maphash.Seed // the key hash of this run
	limit int          // records held before the run splits (0: never)
	// over is set when the first read passed limit: from then on it
	// counts the keys it meets (seen) instead of holding them.
	over bool
	seen keySketch
	// keyless is set when the first read met a Salesforce record without
	// a key: such records are paired across keys, so the run is not split.
	keyless bool
	// sfRecs holds the first read's Salesforce records for the parts
	// (replayed: no second read), the first maxReplay of them, and spill
	// the others; sfAgain is set when they could not be kept (a spill
	// that failed): each part reads them again. sfCursor is the cursor
	// that read returned, which the run advances to: no later one, so
	// nothing changed during the run is skipped by the next.
	sfRecs   []connector.Record
	spill    *connector.Spill
	sfAgain  bool
	sfCursor connector.Cursor
	sfRead   bool
	// listed holds the keys a listing returned (one string of them all,
	// and where each ends), replayed for each part.
	listed    string
	listedEnd []int
	listedOK  bool
	// state holds the job's stored records sorted into one spill per
	// part (sortState), alias the aliases of all of them: each part loads
	// its own records, not all of them; nil: loaded from the store.
	state []*connector.Spill
	alias map[string]string
	// local holds the local side's rows sorted into one spill per part
	// (sortLocal), localNoKey those without a usable key (every part
	// counts them); nil: each part reads the local side again.
	local      []*connector.Spill
	localNoKey []connector.Record
	// sfParts holds the Salesforce records kept sorted into one spill per
	// part (sortSF); sfRecs then holds those without a usable key.
	sfParts []*connector.Spill
	// reread: the run reads its sides again whole (the keyless fallback).
	reread bool
	// gcRestore ends the tighter collector of a split run (goOver).
	gcRestore func()
	// quiet: the pass that applies neither counts reads nor logs the
	// errors of records read (the pass that plans did).
	quiet bool
	// What the first read found of the state, which the parts keep:
	// parts applied write the state that later parts load.
	first, staleRules bool
	stateN            int
}

// keep keeps rec, read from Salesforce by the first read, for the parts.
func (p *parts) keep(rec connector.Record) {
	if len(p.sfRecs) < maxReplay && p.spill == nil {
		rec.Fields = maps.Clone(rec.Fields) // a connector may reuse its maps
		p.sfRecs = append(p.sfRecs, rec)
		return
	}
	if p.spill == nil {
		s, err := connector.NewSpill("")
		if err != nil {
			p.drop()
			return
		}
		p.spill = s
	}
	if p.spill.Add(rec) != nil {
		p.drop()
	}
}

// drop lets go of the records kept: each part reads Salesforce again.
func (p *parts) drop() {
	if p.spill != nil {
		p.spill.Close()
		p.spill = nil
	}
	p.sfRecs, p.sfAgain = nil, true
}

// goOver marks the first read as past the part size: the run will be
// split. The garbage collector is then held tighter until the run ends
// (tightenGC): a split run exists to stay small.
func (p *parts) goOver() {
	if !p.over && p.gcRestore == nil {
		p.gcRestore = tightenGC()
	}
	p.over = true
}

// While a split run goes, the collector runs under a soft memory limit
// of splitMemLimit or half again the heap live when the run split,
// whichever is more, raised to a third above the heap live once the first
// part is planned if that is more (fitLimit): the garbage of a part's
// reads is collected before the heap grows past it, where Go's default
// lets the heap double. GOMEMLIMIT set by the operator stands.
const splitMemLimit = 150 << 20

var gcState struct {
	sync.Mutex
	users      int
	savedLimit int64
	setLimit   bool
}

// fitLimit raises the soft memory limit of split runs to a third above
// the heap live now (a part's records held, and the plan so far), when
// that is above it: a job of many fields holds more per record, and a
// limit below its live heap would keep the collector running.
func fitLimit() {
	gcState.Lock()
	defer gcState.Unlock()
	if !gcState.setLimit || gcState.users == 0 {
		return
	}
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if want := int64(sample[0].Value.Uint64()) * 4 / 3; want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

// tightenGC holds the collector tighter while any split run is going; the
// returned func ends one run's share of it.
func tightenGC() (restore func()) {
	gcState.Lock()
	defer gcState.Unlock()
	if gcState.users == 0 {
		gcState.setLimit = os.Getenv("GOMEMLIMIT") == ""
		if gcState.setLimit {
			// Above what the process holds already (a daemon's other
			// jobs, a fake org in the same process): a limit below
			// it would keep the collector running.
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(sample)
			gcState.savedLimit = debug.SetMemoryLimit(max(splitMemLimit, int64(sample[0].Value.Uint64())*3/2))
		}
	}
	gcState.users++
	return func() {
		gcState.Lock()
		defer gcState.Unlock()
		if gcState.users--; gcState.users > 0 {
			return
		}
		if gcState.setLimit {
			debug.SetMemoryLimit(gcState.savedLimit)
		}
	}
}

// release lets go of what the parts were to replay, and ends the lower
// GOGC of a split run.
func (p *parts) release() {
	if p.gcRestore != nil {
		p.gcRestore()
		p.gcRestore = nil
	}
	if p.spill != nil {
		p.spill.Close()
		p.spill = nil
	}
	p.sfRecs, p.listed, p.listedEnd = nil, "", nil
	closeSpills(slices.Concat(p.state, p.local, p.sfParts))
	p.state, p.alias, p.local, p.localNoKey, p.sfParts = nil, nil, nil, nil, nil
}

// splittable reports whether the job's records may be planned in parts:
// nothing in it pairs or compares records across keys.
func (r *runner) splittable() bool {
	j := r.job
	return r.fam == nil && len(j.Children) == 0 && len(r.matchIdx) == 0 && !r.links &&
		j.Adopt == nil && j.partSize() > 0
}

// inPart reports whether the record with KeyID id belongs to the part
// being run (always, when the run is not split).
func (r *runner) inPart(id string) bool {
	return r.pt.n <= 1 || r.partOf(id) == r.pt.i
}

// newSpills makes one spill per part (none, on failure).
func newSpills(n int) ([]*connector.Spill, error) {
	spills := make([]*connector.Spill, n)
	for i := range spills {
		s, err := connector.NewSpill("")
		if err != nil {
			closeSpills(spills)
			return nil, err
		}
		spills[i] = s
	}
	return spills, nil
}

// sealSpills seals the spills (Spill.Seal): filled, they wait to be read
// one at a time.
func sealSpills(spills []*connector.Spill) error {
	for _, s := range spills {
		if err := s.Seal(); err != nil {
			return err
		}
	}
	return nil
}

// closeSpills closes (and so removes) the spills made.
func closeSpills(spills []*connector.Spill) {
	for _, s := range spills {
		if s != nil {
			s.Close()
		}
	}
}

// sortLocal reads the local side once and sorts its rows into one
// encrypted spill per part (connector.Spill), which the parts read
// instead of the local side: a file is parsed, and its rows mapped, twice
// per run rather than once per part per pass. It needs every alias (the
// state sorted, or none stored); otherwise, or when a spill cannot be
// made, each part reads the local side again.
func (r *runner) sortLocal(ctx context.Context) error {
	if r.pt.state == nil && r.stateN > 0 && !r.opts.Resync {
		return nil
	}
	spills, err := newSpills(r.pt.n)
	if err != nil {
		return nil
	}
	r.pt.local = spills
	r.calls++
	var spillErr error
	_, err = r.Local.Read(connector.WithReread(r.sfFields(ctx)), r.job.Object, "", func(rec connector.Record) error {
		if rec.Key == "" || !r.keyOK(rec.Key) {
			rec.Fields = nil // counted, never used: no values kept
			r.pt.localNoKey = append(r.pt.localNoKey, rec)
			return nil
		}
		id := r.keyID(rec.Key)
		if a, ok := r.pt.alias[id]; ok {
			id = a
		}
		spillErr = spills[r.partOf(id)].Add(rec)
		return spillErr
	})
	spillErr = cmp.Or(spillErr, sealSpills(spills))
	if err != nil || spillErr != nil {
		closeSpills(spills)
		r.pt.local, r.pt.localNoKey = nil, nil
	}
	if err != nil && spillErr == nil {
		return fmt.Errorf("job %s: read local: %w", r.job.Name, err)
	}
	return nil // (a spill that failed: each part reads the local side)
}

// sortSF sorts the Salesforce records the first read kept (sfRecs and
// spill) into one spill per part, as sortLocal does the local rows: each
// part replays its own records, not all of them. Records without a usable
// key go to every part (each counts them). On failure the parts replay all
// the records kept.
func (r *runner) sortSF() {
	if !r.pt.sfRead || r.pt.sfAgain || len(r.pt.sfRecs) == 0 && r.pt.spill == nil {
		return
	}
	var noKey []connector.Record
	spills, err := newSpills(r.pt.n)
	if err != nil {
		return
	}
	err = func() error {
		add := func(rec connector.Record) error {
			if rec.Key == "" || !r.keyOK(rec.Key) {
				noKey = append(noKey, rec)
				return nil
			}
			return spills[r.partOf(r.keyID(rec.Key))].Add(rec)
		}
		for _, rec := range r.pt.sfRecs {
			if err := add(rec); err != nil {
				return err
			}
		}
		if r.pt.spill != nil {
			if err := r.pt.spill.Each(add); err != nil {
				return err
			}
		}
		return sealSpills(spills)
	}()
	if err != nil {
		closeSpills(spills)
		return
	}
	if r.pt.spill != nil {
		r.pt.spill.Close()
	}
	r.pt.sfParts, r.pt.sfRecs, r.pt.spill = spills, noKey, nil
}

// partOf returns the part of the record with KeyID id: by a hash of
// the key alone (FNV-1a), so that a record is in the same part run after
// run and plans print in the same order.
func (r *runner) partOf(id string) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return int(h % uint64(r.pt.n))
}

// records passes the job's stored records: the part's, from its spill,
// when the state was sorted into parts (sortState), else all of them from
// the store.
func (r *runner) records(ctx context.Context, fn func(state.RecordState) error) error {
	if r.pt.n > 1 && r.opts.Resync {
		return nil // set aside by a resync: no part loads them (load)
	}
	if r.pt.n <= 1 || r.pt.state == nil {
		return r.Store.Records(ctx, r.job.Name, fn)
	}
	var rr state.RecordReader
	return r.pt.state[r.pt.i].EachRaw(func(b []byte) error {
		rs, err := rr.Parse(b)
		if err != nil {
			return fmt.Errorf("state sorted into parts: %w", err)
		}
		return fn(rs)
	})
}

// sortState reads the job's stored records once and sorts them into one
// encrypted spill per part (connector.Spill), with the aliases of all of
// them, so that each part then loads its own records rather than the
// whole state. The records of a part change only when that part is
// applied, after it was loaded. On failure the parts load from the store.
func (r *runner) sortState(ctx context.Context) {
	if r.opts.Resync || r.stateN == 0 {
		return // nothing to load
	}
	alias := map[string]string{}
	var buf []byte
	spills, err := newSpills(r.pt.n)
	if err != nil {
		return
	}
	err = func() error {
		return r.Store.Records(ctx, r.job.Name, func(rs state.RecordState) error {
			if rs.LocalKey != rs.SFKey {
				if lid := r.keyID(rs.LocalKey); lid != rs.Key {
					alias[lid] = rs.Key
				}
			}
			buf = state.AppendRecord(buf[:0], rs)
			return spills[r.partOf(rs.Key)].AddRaw(buf)
		})
	}()
	err = cmp.Or(err, sealSpills(spills))
	if err != nil {
		closeSpills(spills)
		return
	}
	r.pt.state, r.pt.alias = spills, alias
}

// partFilter asks the local side's read of a part for the part's records
// only (connector.WithKeyFilter), so that the rows of the other parts are
// not mapped in every part.
//
// The first read of a run that may be split asks the same way: once it
// holds the part size, the rows it only counts are not mapped either.
func (r *runner) partFilter(ctx context.Context) context.Context {
	if r.pt.n <= 1 && r.pt.limit == 0 {
		return ctx
	}
	return connector.WithKeyFilter(ctx, func(key string) bool {
		if !r.keyOK(key) {
			return true // the engine counts it as unreadable
		}
		id := r.keyID(key)
		if a, ok := r.alias[id]; ok {
			id = a
		}
		if _, ok := r.entries[id]; ok {
			return true
		}
		return r.hold(id)
	})
}

// hold reports whether a record with KeyID id, not held yet, is to be
// held: false once the first read of a run that may split has passed its
// limit (it is counted instead).
func (r *runner) hold(id string) bool {
	if !r.pt.over {
		if r.pt.limit > 0 && r.pt.n == 0 && len(r.entries) >= r.pt.limit {
			r.pt.goOver()
		} else {
			return r.inPart(id)
		}
	}
	if _, ok := r.entries[id]; ok {
		return true
	}
	r.pt.seen.add(r.pt.seed, id)
	return false
}

// resetPart clears what a pass over the records left, for the next: the
// entries and everything made from them. What the run as a whole keeps
// (its counts of writes, failures, calls, the budget spent) stays.
func (r *runner) resetPart() {
	r.entries, r.alias, r.pending, r.queue = nil, nil, nil, nil
	r.orphans, r.v1, r.v1Confl = nil, nil, nil
	r.outside, r.keylessLeft = nil, nil
	r.unread, r.damaged = [2]int{}, [2]int{}
	r.plan, r.writes = nil, nil
	r.listDone = false
}

// add counts the writes ws.
func (t *writeTally) add(ws []Write) {
	for _, w := range ws {
		switch w.Op {
		case OpUpdate:
			t.ups[w.Side]++
		case OpDelete:
			t.dels++
		}
	}
}

// runParts runs a job whose first read passed its part size: every part
// is planned, the safety brakes judge the plan of all of them, and (not a
// dry run) every part with something to write is planned again from the
// same sorted reads and applied.
func (r *runner) runParts(ctx context.Context, t0 time.Time) (*Result, error) {
	for id := range r.entries {
		r.pt.seen.add(r.pt.seed, id)
	}
	held := r.pt.seen.count()
	// Parts of half the part size: a part holds well below what a run
	// not split may hold.
	half := max(1, r.pt.limit/2)
	r.pt.n = max(2, (held+half-1)/half)
	r.pt.over, r.pt.seen = false, keySketch{}
	var tm Timing
	whole := &Plan{Job: r.job.Name}
	// busy marks the parts whose plan writes anything, to either side or
	// to the state: the others are not read again to be applied.
	busy := make([]bool, r.pt.n)
	// The first read's view of the state holds for every part.
	r.pt.first, r.pt.staleRules, r.pt.stateN = r.first, r.staleRules, r.stateN
	r.resetPart() // the first read's records, let go before the state is sorted
	r.sortState(ctx)
	if err := r.sortLocal(ctx); err != nil {
		return nil, err
	}
	r.sortSF()
	// The pass that plans counts the records read and logs the errors of
	// those it could not use (the rows without a usable key from the first
	// part's read); the pass that applies counts its writes only.
	r.counts, r.unreadErrs = state.Counts{}, nil
	pass := func(apply bool) error {
		r.pt.quiet = apply
		for r.pt.i = 0; r.pt.i < r.pt.n; r.pt.i++ {
			if apply && !busy[r.pt.i] {
				continue
			}
			r.resetPart()
			// The last part's records are garbage now: collected, and
			// their memory handed back, before the next part's are read,
			// so that the process's size is one part's, not a heap grown
			// over every part.
			debug.FreeOSMemory()
			t := time.Now()
			if err := r.load(ctx); err != nil {
				return err
			}
			if err := r.read(ctx); err != nil {
				return err
			}
			if !apply {
				tm.Read += time.Since(t)
				t = time.Now()
			}
			r.settle()
			order := r.decideAll()
			if apply {
				if err := r.refetch(ctx); err != nil {
					return err
				}
			}
			r.markRekeys()
			r.buildPlan(order)
			if apply && !r.opts.Force {
				// The brakes judged the plan; a part read again may
				// plan more (a sheet emptied meanwhile): the writes
				// applied stay within the same limits.
				r.tally.add(r.writes)
				if err := r.tallyBrakes(r.tally); err != nil {
					var ae *AbortError
					if errors.As(err, &ae) && r.pt.i > 0 {
						ae.Reason += fmt.Sprintf(" (found applying part %d of %d, read again after the plan: records changed during the run; the parts before it were applied)", r.pt.i+1, r.pt.n)
					}
					return err
				}
			}
			if !apply && r.pt.i == 0 {
				fitLimit()
			}
			if !apply {
				whole.merge(r.plan, r.writes, r.pt.i == 0)
				r.tally.add(r.writes)
				busy[r.pt.i] = r.busy(order)
				tm.Plan += time.Since(t)
				continue
			}
			if err := r.apply(ctx, order); err != nil {
				return err
			}
		}
		return nil
	}
	tm.Read = time.Since(t0) // the first read, which found the run too large
	if err := pass(false); err != nil {
		return nil, err
	}
	r.plan = whole
	res := &Result{RunID: r.runID, Plan: whole, Parts: r.pt.n}
	t := time.Now()
	err := r.safety()
	tm.Plan += time.Since(t)
	res.Timing = tm
	if err != nil || r.opts.DryRun {
		return res, err
	}
	t1 := time.Now()
	r.tally = writeTally{}
	err = pass(true)
	if err == nil && !busy[r.pt.n-1] {
		// The last part had nothing to apply: the cursors move here.
		r.pt.i = r.pt.n - 1
		err = r.advance(ctx, r.keylessCursor())
	}
	res.Timing.Apply = time.Since(t1)
	if err != nil {
		if errors.Is(err, connector.ErrStop) {
			res.Counts, res.Failed = r.counts, r.failed
		}
		return res, err
	}
	res.Counts, res.Failed = r.counts, r.failed
	return res, nil
}

// busy reports whether the part just planned has anything to apply:
// writes, or state changes without a write (apply's first transaction).
func (r *runner) busy(order []*entry) bool {
	if len(r.writes) > 0 || len(r.v1) > 0 || len(r.orphans) > 0 {
		return true
	}
	for _, e := range order {
		if e.dirty || e.unknown {
			return true
		}
	}
	return false
}

// lastPart reports whether the part being run is the run's last (or the
// run is not split): the cursors advance after it only.
func (r *runner) lastPart() bool { return r.pt.n <= 1 || r.pt.i == r.pt.n-1 }

// merge adds a part's plan to p, the plan of the whole run; first is the
// first part's (counts that every part reads alike are taken from it).
func (p *Plan) merge(q *Plan, ws []Write, first bool) {
	if first {
		p.First, p.Incremental, p.Unreadable = q.First, q.Incremental, q.Unreadable
	}
	p.Deferred = p.Deferred || q.Deferred
	p.addWrites(ws) // without their entries: the part's records are let go
	p.Notes = append(p.Notes, q.Notes...)
	p.Seen[SF] += q.Seen[SF]
	p.Seen[Local] += q.Seen[Local]
	p.Matched += q.Matched
}

// keySketch counts the distinct keys a run meets (state, Salesforce, local:
// one key may be met three times) in a fixed 2 MiB, by linear counting: each
// key sets one bit of a bitmap chosen by its hash, and n distinct keys leave
// about m·e^(−n/m) of its m bits clear. Within 1% up to tens of millions.
type keySketch struct {
	bits []uint64
}

const sketchBits = 1 << 24

func (k *keySketch) add(seed maphash.Seed, id string) {
	if k.bits == nil {
		k.bits = make([]uint64, sketchBits/64)
	}
	h := maphash.String(seed, id) % sketchBits
	k.bits[h/64] |= 1 << (h % 64)
}

// count estimates the number of distinct keys added.
func (k *keySketch) count() int {
	if k.bits == nil {
		return 0
	}
	set := 0
	for _, w := range k.bits {
		set += bits.OnesCount64(w)
	}
	zero := sketchBits - set
	if zero == 0 {
		zero = 1 // saturated: far more keys than the sketch tells apart
	}
	return int(math.Round(-float64(sketchBits) * math.Log(float64(zero)/float64(sketchBits))))
}
