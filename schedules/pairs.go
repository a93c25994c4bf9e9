package schedules

import (
	"context"
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
		job: job, lease: lease, scopes: map[string]map[string]string{}})
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
	scopes map[string]map[string]string // scope -> hash -> Id
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
	m, err := p.store.LookupIDs(ctx, scope)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]string{}
	}
	p.scopes[scope] = m
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
	if m, ok := p.scopes[scope]; ok {
		for h, id := range put {
			m[h] = id
		}
	}
	return nil
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
	if m, ok := p.scopes[scope]; ok {
		gone := map[string]bool{}
		for _, id := range ids {
			gone[id] = true
		}
		for h, id := range m {
			if gone[id] {
				delete(m, h)
			}
		}
	}
	return nil
}

var _ salesforce.IDPairs = (*idPairs)(nil)
