package mapping

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// BatchResolver is a Resolver that resolves many values at once. A View
// reading rows calls Prefetch with the values its rows' lookup rules (and
// its children's parent references) will ask, a chunk of rows at a time,
// before mapping them; Resolve then answers from what Prefetch found.
//
// Prefetch's error is the resolver's own failure to search (a fatal one
// fails the read); the values it could not resolve give that error again
// from Resolve, one field at a time.
type BatchResolver interface {
	Resolver
	Prefetch(ctx context.Context, object, field string, values []string) error
}

// Finder finds the records holding any of many values: for each value,
// the Ids of the records of object whose field equals it (compared as SOQL
// compares: case-insensitively for text). The Salesforce connector's
// FindIDsIn. Its errors must not contain a value.
type Finder interface {
	FindIDsIn(ctx context.Context, object, field string, values []string) (map[string][]string, error)
}

// ValueFinder finds the value a field holds on records by their Ids: the
// other way of a Finder, for two-way lookups (the Salesforce connector's
// FindValuesIn). An Id of no record is missing from the map; a record
// whose field is empty maps to "". Its errors must not contain a value.
type ValueFinder interface {
	FindValuesIn(ctx context.Context, object, field string, ids []string) (map[string]string, error)
}

// Reverser turns the Id a two-way lookup's field holds back into the
// referenced field's value (see FieldRule.TwoWay): the View asks it when
// it writes a record from Salesforce to the local side.
//
// PrefetchValues resolves many Ids at once (the View asks it for the Ids
// of the records one write carries); Value answers one Id, from what
// PrefetchValues found or by searching it alone. Value returns an error
// wrapping ErrNoMatch when no record has the Id or its field is empty.
// Errors must not contain a value.
type Reverser interface {
	PrefetchValues(ctx context.Context, object, field string, ids []string) error
	Value(ctx context.Context, object, field, id string) (string, error)
}

// LookupCache keeps, across runs, the Id each lookup value resolved to:
// by scope (LookupScope) and the value's keyed hash, never the value.
// state.Store is one.
type LookupCache interface {
	LookupIDs(ctx context.Context, scope string) (map[string]string, error)
	PutLookupIDs(ctx context.Context, scope string, ids map[string]string, at time.Time) error
	ForgetLookupIDs(ctx context.Context, scope string, ids ...string) (int, error)
}

// LookupScope names the lookup cache of a lookup's object and field
// ("account.vcms__partner_code__c"): API names compare case-insensitively.
func LookupScope(object, field string) string {
	return strings.ToLower(object) + "." + strings.ToLower(field)
}

// lookupFold is the form in which lookup values compare, as SOQL compares
// text: case-insensitively (and nothing else: two spaces are not one).
func lookupFold(v string) string { return strings.ToLower(v) }

// StoredResolver resolves lookups in batches and remembers, across runs,
// the Id each value resolved to: a run queries Salesforce only for the
// values its cache does not hold (new ones, or forgotten ones), many
// values per query. Values that match no record, or several, and errors
// are remembered for the run only. Make one per run; it is safe for
// concurrent use.
//
// A remembered Id goes stale when its record is deleted (Salesforce then
// rejects a write of it with INVALID_CROSS_REFERENCE_KEY: Forget it) or
// when the value moves to another record (until Forget or ForgetScope,
// which a --full run calls).
type StoredResolver struct {
	find  Finder
	cache LookupCache
	hash  func(string) string

	// ReadOnly keeps the cache as it is: nothing resolved is remembered,
	// nothing is forgotten (a dry run).
	ReadOnly bool
	// Fresh ignores what the cache holds: every value is resolved again
	// (a dry run of a --full run, which cannot forget).
	Fresh bool
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Private holds the scopes (LookupScope) whose values are classified:
	// they are resolved for the run only, never remembered in the cache.
	// A keyed hash of a value stored beside its Id would let whoever can
	// add a row to a synced sheet and read the state confirm a guess (the
	// guessed value's row takes an entry already there).
	Private map[string]bool

	mu     sync.Mutex
	scopes map[string]map[string]string // scope -> value hash -> Id, loaded once
	run    map[lookupKey]lookupResult   // this run's answers, by folded value
	values map[lookupKey]valueResult    // this run's Ids turned back into values, by Id (its first 15 characters)
	stats  LookupStats
}

// valueResult is an Id's value, or why there is none.
type valueResult struct {
	value string
	err   error
}

// LookupStats counts a StoredResolver's work in a run.
type LookupStats struct {
	Cached   int   // distinct values answered from the cache
	Resolved int   // distinct values searched in Salesforce
	Reversed int   // distinct Ids searched for their value (two-way lookups)
	Learned  int   // values remembered from the Ids turned back into them
	Queries  int   // FindIDsIn and FindValuesIn calls (each one query or more)
	Forgot   int   // cache entries forgotten
	CacheErr error // the first error writing the cache (the values resolve again next run)
}

// NewStoredResolver returns a run's resolver searching with find and
// remembering in cache under hash (a keyed hash of its argument, as
// tombstones' keys are hashed: the cache holds no value). A nil cache
// remembers for the run only.
func NewStoredResolver(find Finder, cache LookupCache, hash func(string) string) *StoredResolver {
	return &StoredResolver{find: find, cache: cache, hash: hash, scopes: map[string]map[string]string{}, run: map[lookupKey]lookupResult{}, values: map[lookupKey]valueResult{}}
}

// Stats returns the run's counts so far.
func (s *StoredResolver) Stats() LookupStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *StoredResolver) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *StoredResolver) valueHash(scope, fold string) string {
	return s.hash("lookup v1\x00" + scope + "\x00" + fold)
}

// stored returns the scope's cache, loading it on first use; callers hold
// s.mu.
func (s *StoredResolver) stored(ctx context.Context, scope string) (map[string]string, error) {
	if ids, ok := s.scopes[scope]; ok {
		return ids, nil
	}
	ids := map[string]string{}
	if s.cache != nil && s.hash != nil && !s.Fresh && !s.Private[scope] {
		got, err := s.cache.LookupIDs(ctx, scope)
		if err != nil {
			return nil, fmt.Errorf("lookup cache %s: %w", scope, err)
		}
		ids = got
	}
	s.scopes[scope] = ids
	return ids, nil
}

// known answers a value from the run's answers or the cache; callers
// hold s.mu.
func (s *StoredResolver) known(ctx context.Context, object, field, value string) (lookupResult, bool, error) {
	fold := lookupFold(value)
	k := lookupKey{strings.ToLower(object), strings.ToLower(field), fold}
	if res, ok := s.run[k]; ok {
		return res, true, nil
	}
	scope := LookupScope(object, field)
	ids, err := s.stored(ctx, scope)
	if err != nil {
		return lookupResult{}, false, err
	}
	if s.hash == nil {
		return lookupResult{}, false, nil
	}
	if id, ok := ids[s.valueHash(scope, fold)]; ok {
		res := lookupResult{id: id}
		s.run[k] = res
		s.stats.Cached++
		return res, true, nil
	}
	return lookupResult{}, false, nil
}

// Resolve implements Resolver: from the run's answers or the cache, else
// by searching Salesforce for this one value.
func (s *StoredResolver) Resolve(ctx context.Context, object, field, value string) (string, error) {
	s.mu.Lock()
	res, ok, err := s.known(ctx, object, field, value)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	if !ok {
		if err := s.resolve(ctx, object, field, []string{value}); err != nil && connector.IsFatal(err) {
			return "", err
		}
		s.mu.Lock()
		res = s.run[lookupKey{strings.ToLower(object), strings.ToLower(field), lookupFold(value)}]
		s.mu.Unlock()
	}
	return res.id, res.err
}

// Prefetch implements BatchResolver: the values neither this run nor the
// cache knows are searched, many per query.
func (s *StoredResolver) Prefetch(ctx context.Context, object, field string, values []string) error {
	var todo []string
	asked := map[string]bool{}
	s.mu.Lock()
	for _, v := range values {
		fold := lookupFold(v)
		if v == "" || asked[fold] {
			continue
		}
		asked[fold] = true
		_, ok, err := s.known(ctx, object, field, v)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		if !ok {
			todo = append(todo, v)
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	return s.resolve(ctx, object, field, todo)
}

// resolve searches values (distinct when folded) and records the answers:
// for the run, and the matches in the cache.
func (s *StoredResolver) resolve(ctx context.Context, object, field string, values []string) error {
	found, err := s.find.FindIDsIn(ctx, object, field, values)
	scope := LookupScope(object, field)
	put := map[string]string{}
	s.mu.Lock()
	s.stats.Queries++
	s.stats.Resolved += len(values)
	ids, _ := s.stored(ctx, scope)
	for _, v := range values {
		fold := lookupFold(v)
		k := lookupKey{strings.ToLower(object), strings.ToLower(field), fold}
		var res lookupResult
		switch got := found[v]; {
		case err != nil:
			res.err = err
		case len(got) == 0:
			res.err = fmt.Errorf("lookup %s.%s: %w", object, field, ErrNoMatch)
		case len(got) > 1:
			res.err = fmt.Errorf("lookup %s.%s: %w", object, field, ErrAmbiguous)
		default:
			res.id = got[0]
			if s.hash != nil && !s.Private[scope] {
				h := s.valueHash(scope, fold)
				put[h] = res.id
				if ids != nil {
					ids[h] = res.id
				}
			}
		}
		s.run[k] = res
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if len(put) > 0 && s.cache != nil && !s.ReadOnly {
		if perr := s.cache.PutLookupIDs(ctx, scope, put, s.now()); perr != nil {
			s.mu.Lock()
			if s.stats.CacheErr == nil {
				s.stats.CacheErr = perr
			}
			s.mu.Unlock()
		}
	}
	return nil
}

// idKey is the run's key of an Id's value: an Id's first 15 characters
// name its record (case-sensitively).
func idKey(object, field, id string) lookupKey {
	if len(id) > 15 {
		id = id[:15]
	}
	return lookupKey{strings.ToLower(object), strings.ToLower(field), id}
}

// Value implements Reverser: from this run's answers, else by searching
// Salesforce for this one Id.
func (s *StoredResolver) Value(ctx context.Context, object, field, id string) (string, error) {
	k := idKey(object, field, id)
	s.mu.Lock()
	res, ok := s.values[k]
	s.mu.Unlock()
	if !ok {
		if err := s.reverse(ctx, object, field, []string{id}); err != nil && connector.IsFatal(err) {
			return "", err
		}
		s.mu.Lock()
		res = s.values[k]
		s.mu.Unlock()
	}
	return res.value, res.err
}

// PrefetchValues implements Reverser: the Ids this run has not turned
// into values yet are searched, many per query.
func (s *StoredResolver) PrefetchValues(ctx context.Context, object, field string, ids []string) error {
	var todo []string
	asked := map[lookupKey]bool{}
	s.mu.Lock()
	for _, id := range ids {
		k := idKey(object, field, id)
		if id == "" || asked[k] {
			continue
		}
		asked[k] = true
		if _, ok := s.values[k]; !ok {
			todo = append(todo, id)
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	return s.reverse(ctx, object, field, todo)
}

// reverse searches the values of ids (distinct) and records them for the
// run. Each value found is learned the other way too, value -> Id, for the
// run and in the cache (by the value's hash), so that the local row
// written with it resolves without a search next time; unless this run
// found the value on several records.
func (s *StoredResolver) reverse(ctx context.Context, object, field string, ids []string) error {
	vf, ok := s.find.(ValueFinder)
	var found map[string]string
	var err error
	if ok {
		found, err = vf.FindValuesIn(ctx, object, field, ids)
	} else {
		err = fmt.Errorf("lookup %s.%s: the Salesforce connector cannot turn Ids back into values", object, field)
	}
	scope := LookupScope(object, field)
	o, f := strings.ToLower(object), strings.ToLower(field)
	put := map[string]string{}
	s.mu.Lock()
	if ok {
		s.stats.Queries++
		s.stats.Reversed += len(ids)
	}
	cached, _ := s.stored(ctx, scope)
	for _, id := range ids {
		var res valueResult
		v, has := found[id]
		switch {
		case err != nil:
			res.err = err
		case !has || v == "":
			res.err = fmt.Errorf("lookup %s.%s: the referenced record is gone or its field is empty: %w", object, field, ErrNoMatch)
		default:
			res.value = v
			k := lookupKey{o, f, lookupFold(v)}
			if prev, known := s.run[k]; known && errors.Is(prev.err, ErrAmbiguous) {
				break
			} else if known && prev.err == nil && prev.id == id {
				break
			}
			s.run[k] = lookupResult{id: id}
			if s.hash != nil && !s.Private[scope] {
				h := s.valueHash(scope, k.value)
				if cached != nil && cached[h] == id {
					break
				}
				put[h] = id
				if cached != nil {
					cached[h] = id
				}
			}
		}
		s.values[idKey(object, field, id)] = res
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if len(put) > 0 && s.cache != nil && !s.ReadOnly {
		perr := s.cache.PutLookupIDs(ctx, scope, put, s.now())
		s.mu.Lock()
		if perr != nil && s.stats.CacheErr == nil {
			s.stats.CacheErr = perr
		}
		if perr == nil {
			s.stats.Learned += len(put)
		}
		s.mu.Unlock()
	}
	return nil
}

// Forget forgets, in the cache and for the rest of the run, the values of
// the lookup (object, field) that resolved to any of ids: records
// Salesforce no longer has. They are resolved again when next asked.
func (s *StoredResolver) Forget(ctx context.Context, object, field string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	gone := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			gone[id] = true
		}
	}
	scope := LookupScope(object, field)
	o, f := strings.ToLower(object), strings.ToLower(field)
	s.mu.Lock()
	for k, res := range s.run {
		if k.object == o && k.field == f && gone[res.id] {
			delete(s.run, k)
		}
	}
	for h, id := range s.scopes[scope] {
		if gone[id] {
			delete(s.scopes[scope], h)
		}
	}
	for id := range gone {
		delete(s.values, idKey(object, field, id))
	}
	s.mu.Unlock()
	if s.cache == nil || s.ReadOnly {
		return nil
	}
	var list []string
	for id := range gone {
		list = append(list, id)
	}
	n, err := s.cache.ForgetLookupIDs(ctx, scope, list...)
	s.mu.Lock()
	s.stats.Forgot += n
	s.mu.Unlock()
	return err
}

// ForgetScope forgets every value of the lookup (object, field): a --full
// run resolves them all again.
func (s *StoredResolver) ForgetScope(ctx context.Context, object, field string) error {
	scope := LookupScope(object, field)
	o, f := strings.ToLower(object), strings.ToLower(field)
	s.mu.Lock()
	for k := range s.run {
		if k.object == o && k.field == f {
			delete(s.run, k)
		}
	}
	for k := range s.values {
		if k.object == o && k.field == f {
			delete(s.values, k)
		}
	}
	s.scopes[scope] = map[string]string{}
	s.mu.Unlock()
	if s.cache == nil || s.ReadOnly {
		return nil
	}
	n, err := s.cache.ForgetLookupIDs(ctx, scope)
	s.mu.Lock()
	s.stats.Forgot += n
	s.mu.Unlock()
	return err
}

// LookupTarget is an object and field the lookups of a job search.
type LookupTarget struct{ Object, Field string }

// LookupTargets returns what the job's lookup rules search, and its
// parent's object and key field when a child references its parent: the
// lookup caches a run uses.
func (m *JobMapping) LookupTargets() []LookupTarget {
	var out []LookupTarget
	seen := map[string]bool{}
	add := func(object, field string) {
		if s := LookupScope(object, field); !seen[s] {
			seen[s] = true
			out = append(out, LookupTarget{object, field})
		}
	}
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			if r.Lookup != nil {
				add(r.Lookup.Object, r.Lookup.Field)
			}
		}
		if !mem.IsParent() && mem.ParentField != "" {
			add(m.Object, m.Key)
		}
	}
	return out
}

// ClassifiedLookupTargets returns what the job's classified lookup rules
// search (a rule whose class, the strictest of its column's, is not none):
// their values are personal data, which a search must not put in a
// request URL (proxies log URLs; see the Salesforce connector's
// FindIDsInBody).
func (m *JobMapping) ClassifiedLookupTargets() []LookupTarget {
	var out []LookupTarget
	seen := map[string]bool{}
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			if r.Lookup == nil || r.Class == "" {
				continue
			}
			if s := LookupScope(r.Lookup.Object, r.Lookup.Field); !seen[s] {
				seen[s] = true
				out = append(out, LookupTarget{r.Lookup.Object, r.Lookup.Field})
			}
		}
	}
	return out
}

// LookupFields returns, for a member's Salesforce field, what the field's
// value was looked up in: a lookup rule's object and field, or the parent's
// object and key for a child's parent field. ok is false for other fields.
func (m *JobMapping) LookupFields(mem *Member, field string) (LookupTarget, bool) {
	for _, r := range mem.Rules {
		if r.Lookup != nil && strings.EqualFold(r.SF, field) {
			return LookupTarget{r.Lookup.Object, r.Lookup.Field}, true
		}
	}
	if !mem.IsParent() && mem.ParentField != "" && strings.EqualFold(mem.ParentField, field) {
		return LookupTarget{m.Object, m.Key}, true
	}
	return LookupTarget{}, false
}

// hasLookups reports whether mapping rows for mems resolves anything:
// a lookup rule of any member (ToSalesforce maps every member of a row)
// or a parent reference of one of mems.
func (m *JobMapping) hasLookups(mems []*Member) bool {
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			if r.Lookup != nil {
				return true
			}
		}
	}
	for _, mem := range mems {
		if !mem.IsParent() && mem.ParentField != "" {
			return true
		}
	}
	return false
}

// lookupValues passes to fn what mapping row (ToSalesforce, then the
// View's parent references for mems) will resolve: each lookup rule's
// value, read as forward reads it, and a present child's parent key.
func (m *JobMapping) lookupValues(ctx context.Context, row *connector.Record, mems []*Member, fn func(object, field, value string)) {
	if row.Err != nil || row.Deleted {
		return
	}
	open := m.gateOpen(ctx, row)
	present := func(mem *Member) bool {
		if mem.IsParent() {
			return true
		}
		return mem.existsOn(row)
	}
	for _, mem := range m.Members() {
		if !present(mem) {
			continue
		}
		for _, r := range mem.Rules {
			if r.Lookup == nil || r.IsConstant || r.flagOf != nil || (!open && m.gate.gated(r)) {
				continue
			}
			cell := row.Fields[r.Local]
			if r.HasDefault && isBlank(cell) {
				cell = connector.Text(r.Default)
			}
			v, err := r.read(cell)
			if err != nil || v.IsNull() {
				continue
			}
			if s, _ := v.Text(); s != "" {
				fn(r.Lookup.Object, r.Lookup.Field, s)
			}
		}
	}
	localKey := connector.NormalizeKey(row.Key)
	if localKey == "" {
		if v, ok := row.Fields[m.LocalKey]; ok {
			localKey = connector.NormalizeKey(v.Raw())
		}
	}
	sfKey := m.SalesforceKey(localKey)
	if sfKey == "" {
		return
	}
	for _, mem := range mems {
		if !mem.IsParent() && mem.ParentField != "" && present(mem) {
			fn(m.Object, m.Key, sfKey)
			return
		}
	}
}

// lookupChunk is how many rows a View reads before resolving their lookup
// values together.
const lookupChunk = 2000

// prefetcher holds a View's rows back a chunk at a time, so that their
// lookup values are resolved in batches before the rows are mapped.
type prefetcher struct {
	ctx  context.Context
	m    *JobMapping
	mems []*Member
	res  BatchResolver
	each func(connector.Record) error
	rows []connector.Record
}

// prefetch returns the row function of a read: each itself when the
// view's resolver cannot batch or the rows resolve nothing; otherwise a
// function holding rows back (flush passes the last ones).
func (v *View) prefetch(ctx context.Context, mems []*Member, each func(connector.Record) error) (add func(connector.Record) error, flush func() error) {
	br, ok := v.Resolver.(BatchResolver)
	if !ok || !v.m.hasLookups(mems) {
		return each, func() error { return nil }
	}
	p := &prefetcher{ctx: ctx, m: v.m, mems: mems, res: br, each: each}
	return p.add, p.flush
}

func (p *prefetcher) add(row connector.Record) error {
	p.rows = append(p.rows, row)
	if len(p.rows) < lookupChunk {
		return nil
	}
	return p.flush()
}

func (p *prefetcher) flush() error {
	if len(p.rows) == 0 {
		return nil
	}
	type target struct{ object, field string }
	values := map[target][]string{}
	var order []target
	for i := range p.rows {
		p.m.lookupValues(p.ctx, &p.rows[i], p.mems, func(object, field, value string) {
			t := target{object, field}
			if _, ok := values[t]; !ok {
				order = append(order, t)
			}
			values[t] = append(values[t], value)
		})
	}
	for _, t := range order {
		if err := p.res.Prefetch(p.ctx, t.object, t.field, values[t]); err != nil && (connector.IsFatal(err) || errors.Is(err, context.Canceled)) {
			return err
		}
	}
	for i, row := range p.rows {
		p.rows[i] = connector.Record{} // the row is the mapping's now
		if err := p.each(row); err != nil {
			return err
		}
	}
	p.rows = p.rows[:0]
	return nil
}
