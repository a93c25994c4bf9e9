package schedules

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/state"
)

// Children whose object has no External ID field (children[].key:
// by_parent) are written by Id (see the Salesforce connector's ByParent):
// the connector is told how their keys derive from their parent
// (parentKeys), and each run hands it the state's pairing of their keys
// and Ids (idPairs), so that an edit updates by a known Id and only a key
// never written searches Salesforce.

// parentKeys converts the configuration's objects keyed by their parent
// for the Salesforce connector (salesforce.Options.ParentKeys).
func parentKeys(cfg *config.Config) map[string]salesforce.ParentKey {
	out := map[string]salesforce.ParentKey{}
	for object, pk := range cfg.ParentKeys() {
		out[object] = salesforce.ParentKey{ParentField: pk.ParentField, ParentKey: pk.ParentKey, Suffix: pk.Suffix, Each: pk.Each}
	}
	return out
}

// withIDPairs returns the run's context carrying the state's pairing of
// keys and Ids (salesforce.WithIDPairs), its writes fenced by the lease
// (token lease) of job. Without a store, or a fingerprint key to hash keys
// with, the connector finds Ids by query alone.
func (r *Runner) withIDPairs(ctx context.Context, opts RunOptions, job string, lease int64) context.Context {
	rk, _ := ctx.Value(fpKey{}).(runKey)
	if r.Store == nil || rk.fp == nil || len(r.Config.ParentKeys()) == 0 {
		return ctx
	}
	return salesforce.WithIDPairs(ctx, &idPairs{store: r.Store, hash: rk.fp.KeyHash, now: r.now, readOnly: opts.DryRun || rk.ephemeral,
		job: job, lease: lease, scopes: map[string]map[string]string{}, byID: map[string]map[string][]string{}})
}

// idPairs keeps the Salesforce Ids of the records of objects keyed by
// their parent in the state's lookup cache (table lookup_ids), one scope
// per object ("id:" and the object's name in lower case: lookup scopes
// are "object.field", so the two never meet), each key by its keyed hash,
// never its text. A scope is read once per run.
type idPairs struct {
	store    state.Store
	hash     func(string) string
	now      func() time.Time
	readOnly bool // a dry run, or a throwaway key: nothing is stored
	// job and lease fence Remember: a replica that lost the job's lease
	// (paused past it) must not replace the Id its successor paired with
	// a key by the Id of the record it created itself, or the successor's
	// record would pass for one a person added by hand. 0: no lease.
	job   string
	lease int64

	mu     sync.Mutex
	scopes map[string]map[string]string   // scope -> hash -> Id
	byID   map[string]map[string][]string // scope -> idKey(Id) -> its hashes
}

// idKey is the form of an Id the pairs of a scope are found by: its
// 15-character form (an 18-character Id adds a case suffix).
func idKey(id string) string {
	if len(id) > 15 {
		return id[:15]
	}
	return id
}

// set pairs hash h of scope with id in memory.
func (p *idPairs) set(scope, h, id string) {
	m := p.scopes[scope]
	if old, ok := m[h]; ok {
		p.unindex(scope, h, old)
	}
	m[h] = id
	p.byID[scope][idKey(id)] = append(p.byID[scope][idKey(id)], h)
}

// drop forgets hash h of scope in memory.
func (p *idPairs) drop(scope, h string) {
	m := p.scopes[scope]
	if old, ok := m[h]; ok {
		p.unindex(scope, h, old)
		delete(m, h)
	}
}

func (p *idPairs) unindex(scope, h, id string) {
	rev := p.byID[scope]
	hs := slices.DeleteFunc(rev[idKey(id)], func(x string) bool { return x == h })
	if len(hs) == 0 {
		delete(rev, idKey(id))
	} else {
		rev[idKey(id)] = hs
	}
}

func pairScope(object string) string { return "id:" + strings.ToLower(object) }

func (p *idPairs) keyHash(scope, keyID string) string {
	return p.hash("pair v1\x00" + scope + "\x00" + keyID)
}

// loaded returns the scope's pairs, read from the state once.
func (p *idPairs) loaded(ctx context.Context, scope string) (map[string]string, error) {
	if m, ok := p.scopes[scope]; ok {
		return m, nil
	}
	if p.scopes == nil {
		p.scopes = map[string]map[string]string{}
	}
	if p.byID == nil {
		p.byID = map[string]map[string][]string{}
	}
	m, err := p.store.LookupIDs(ctx, scope)
	if err != nil {
		return nil, err
	}
	rev := map[string][]string{}
	for h, id := range m {
		rev[idKey(id)] = append(rev[idKey(id)], h)
	}
	if m == nil {
		m = map[string]string{}
	}
	p.scopes[scope], p.byID[scope] = m, rev
	return m, nil
}

// Lookup implements salesforce.IDPairs.
func (p *idPairs) Lookup(ctx context.Context, object string, keys []string) (map[string]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	scope := pairScope(object)
	m, err := p.loaded(ctx, scope)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		if id, ok := m[p.keyHash(scope, k)]; ok {
			out[k] = id
		}
	}
	return out, nil
}

// Remember implements salesforce.IDPairs.
func (p *idPairs) Remember(ctx context.Context, object string, pairs map[string]string) error {
	if p.readOnly || len(pairs) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	scope := pairScope(object)
	put := make(map[string]string, len(pairs))
	for k, id := range pairs {
		put[p.keyHash(scope, k)] = id
	}
	if err := p.put(ctx, scope, put); err != nil {
		return err
	}
	if _, ok := p.scopes[scope]; ok {
		for h, id := range put {
			p.set(scope, h, id)
		}
	}
	return nil
}

// Unpair implements salesforce.IDPairs. Which Ids hold other entries is
// known from the scope's pairs in memory, so a read that calls it for
// every record it reads goes to the store only for the records that
// moved.
func (p *idPairs) Unpair(ctx context.Context, object string, keep map[string][]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	scope := pairScope(object)
	m, err := p.loaded(ctx, scope)
	if err != nil {
		return err
	}
	forget := map[string][]string{} // Id as stored -> the hashes it keeps
	var stale []string
	for id, keys := range keep {
		hs := p.byID[scope][idKey(id)]
		if len(hs) == 0 {
			continue
		}
		kept := make([]string, len(keys))
		for i, k := range keys {
			kept[i] = p.keyHash(scope, k)
		}
		for _, h := range hs {
			if !slices.Contains(kept, h) {
				stale = append(stale, h)
				forget[m[h]] = kept
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	if !p.readOnly {
		err := p.update(ctx, func(tx state.Tx) error { return tx.ForgetOtherLookupIDs(scope, forget) })
		if err != nil {
			return err
		}
	}
	for _, h := range stale {
		p.drop(scope, h)
	}
	return nil
}

// update runs fn in a transaction fenced by the run's lease when it has
// one.
func (p *idPairs) update(ctx context.Context, fn func(state.Tx) error) error {
	now := p.now()
	return p.store.Update(ctx, p.job, func(tx state.Tx) error {
		if p.lease != 0 {
			if err := tx.FenceOn(p.job, p.lease, now); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// put stores pairs of scope, in a transaction fenced by the run's lease
// when it has one (state.ErrLeaseLost once another holder took it).
func (p *idPairs) put(ctx context.Context, scope string, pairs map[string]string) error {
	now := p.now()
	if p.lease == 0 {
		return p.store.PutLookupIDs(ctx, scope, pairs, now)
	}
	return p.store.Update(ctx, p.job, func(tx state.Tx) error {
		if err := tx.FenceOn(p.job, p.lease, now); err != nil {
			return err
		}
		return tx.PutLookupIDs(scope, pairs, now)
	})
}

// Forget implements salesforce.IDPairs.
func (p *idPairs) Forget(ctx context.Context, object string, ids []string) error {
	if p.readOnly || len(ids) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	scope := pairScope(object)
	if _, err := p.store.ForgetLookupIDs(ctx, scope, ids...); err != nil {
		return err
	}
	if _, ok := p.scopes[scope]; ok {
		for _, id := range ids {
			for _, h := range slices.Clone(p.byID[scope][idKey(id)]) {
				if p.scopes[scope][h] == id {
					p.drop(scope, h)
				}
			}
		}
	}
	return nil
}

var _ salesforce.IDPairs = (*idPairs)(nil)
