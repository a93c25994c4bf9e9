package mapping

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// fakeFinder answers FindIDsIn from a fakeResolver's table, matching
// values case-insensitively as SOQL does, and counts its calls.
type fakeFinder struct {
	mu    sync.Mutex
	table fakeResolver
	calls int
	asked []string // every value asked, in order
	err   error
}

func (f *fakeFinder) FindIDsIn(_ context.Context, object, field string, values []string) (map[string][]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.asked = append(f.asked, values...)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string][]string{}
	prefix := strings.ToLower(object + "." + field + "=")
	for _, v := range values {
		out[v] = nil
		for k, id := range f.table {
			if strings.EqualFold(k, object+"."+field+"="+v) || strings.ToLower(k) == prefix+strings.ToLower(v) {
				out[v] = append(out[v], id)
			}
		}
	}
	return out, nil
}

func (f *fakeFinder) reset() (calls int, asked []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls, asked = f.calls, f.asked
	f.calls, f.asked = 0, nil
	return calls, asked
}

// memCache is a LookupCache in memory.
type memCache struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func newMemCache() *memCache { return &memCache{m: map[string]map[string]string{}} }

func (c *memCache) LookupIDs(_ context.Context, scope string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m[scope]), nil
}

func (c *memCache) PutLookupIDs(_ context.Context, scope string, ids map[string]string, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[scope] == nil {
		c.m[scope] = map[string]string{}
	}
	maps.Copy(c.m[scope], ids)
	return nil
}

func (c *memCache) ForgetLookupIDs(_ context.Context, scope string, ids ...string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for h, id := range c.m[scope] {
		if len(ids) == 0 || strings.Contains(strings.Join(ids, "\x00"), id) {
			delete(c.m[scope], h)
			n++
		}
	}
	return n, nil
}

func (c *memCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.m {
		n += len(s)
	}
	return n
}

// testHash stands in for the fingerprint key's keyed hash.
func testHash(s string) string {
	h := sha256.Sum256([]byte("test key\x00" + s))
	return hex.EncodeToString(h[:16])
}

// readObjects reads the parent's and the children's objects through v.
func readObjects(t *testing.T, v *View) map[string]connector.Record {
	t.Helper()
	out := map[string]connector.Record{}
	for _, obj := range []string{caseObj, assistObj} {
		maps.Copy(out, readAll(t, v, obj))
	}
	return out
}

// TestStoredResolverAcrossRuns: a first run resolves the tracker's lookup
// values and parent references in one search per lookup (object and
// field), a second run with the same cache searches nothing, and both map
// the records exactly as a per-run CachedResolver does. The cache holds
// hashes and Ids, no value.
func TestStoredResolverAcrossRuns(t *testing.T) {
	local, _ := thLocal(t)
	base, _ := thView(t, local) // the per-run CachedResolver's mapping
	want := readObjects(t, base)

	finder := &fakeFinder{table: thOrg}
	cache := newMemCache()
	run := func() map[string]connector.Record {
		v, _ := thView(t, local)
		v.Resolver = NewStoredResolver(finder, cache, testHash)
		return readObjects(t, v)
	}
	got := run()
	calls, asked := finder.reset()
	if calls == 0 || calls > 4 {
		// Each read (parent, then child) asks what it does not know yet:
		// Account.Name, then the cases' keys.
		t.Errorf("first run: %d searches, want one per lookup target (at most 4)", calls)
	}
	for k, r := range want {
		if g, ok := got[k]; !ok || !maps.EqualFunc(g.Fields, r.Fields, connector.Value.Equal) || (g.Err == nil) != (r.Err == nil) {
			t.Errorf("%s: stored resolver mapped %v (err %v), the per-run cache %v (err %v)", k, g.Fields, g.Err, r.Fields, r.Err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("stored resolver read %d records, want %d", len(got), len(want))
	}
	if cache.len() == 0 {
		t.Fatal("nothing cached")
	}
	for scope, ids := range cache.m {
		for h := range ids {
			for _, v := range asked {
				if strings.Contains(h, v) || strings.Contains(scope, strings.ToLower(v)) {
					t.Errorf("cache %s holds the value %q", scope, v)
				}
			}
		}
	}

	// Values no record holds (a case not in Salesforce yet) are not
	// cached: the second run searches them, and only them, again.
	var unmatched []string
	for _, v := range asked {
		if _, err := thOrg.Resolve(context.Background(), "Account", "Name", v); err == nil {
			continue
		}
		if _, err := thOrg.Resolve(context.Background(), caseObj, "vcms__External_Key__c", v); err == nil {
			continue
		}
		unmatched = append(unmatched, v)
	}
	again := run()
	calls, asked = finder.reset()
	slices.Sort(asked)
	slices.Sort(unmatched)
	if !slices.Equal(asked, unmatched) || calls > 2 {
		t.Errorf("second run searched %d times for %q, want only the values that matched nothing (%q)", calls, asked, unmatched)
	}
	for k, r := range want {
		if g := again[k]; !maps.EqualFunc(g.Fields, r.Fields, connector.Value.Equal) {
			t.Errorf("%s on the second run: %v, want %v", k, g.Fields, r.Fields)
		}
	}
}

// TestStoredResolverNewValue: a value the cache does not hold costs one
// search, with every other value of the read answered from the cache; a
// value no record holds is not cached and is searched again next run.
func TestStoredResolverNewValue(t *testing.T) {
	finder := &fakeFinder{table: fakeResolver{
		"Account.Name=P01": "001000000000001AAA",
		"Account.Name=P02": "001000000000002AAA",
		"Account.Name=P03": "001000000000003AAA",
	}}
	cache := newMemCache()
	ctx := context.Background()
	r := NewStoredResolver(finder, cache, testHash)
	if err := r.Prefetch(ctx, "Account", "Name", []string{"P01", "p01", "P02", "missing"}); err != nil {
		t.Fatal(err)
	}
	if calls, asked := finder.reset(); calls != 1 || len(asked) != 3 {
		t.Errorf("first prefetch: %d searches of %d values, want 1 of 3 (P01 and p01 are one value)", calls, len(asked))
	}
	for v, want := range map[string]string{"P01": "001000000000001AAA", "p01": "001000000000001AAA", "P02": "001000000000002AAA"} {
		if id, err := r.Resolve(ctx, "Account", "Name", v); err != nil || id != want {
			t.Errorf("Resolve(%s) = %q, %v; want %s", v, id, err, want)
		}
	}
	if _, err := r.Resolve(ctx, "Account", "Name", "missing"); !errors.Is(err, ErrNoMatch) {
		t.Errorf("Resolve(missing) = %v, want ErrNoMatch", err)
	}
	if calls, _ := finder.reset(); calls != 0 {
		t.Errorf("Resolve after Prefetch searched %d times", calls)
	}
	if n := cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2 (P01, P02; not the missing value)", n)
	}

	// The next run: one new value, the missing one again.
	r = NewStoredResolver(finder, cache, testHash)
	if err := r.Prefetch(ctx, "account", "name", []string{"P01", "P02", "P03", "missing"}); err != nil {
		t.Fatal(err)
	}
	calls, asked := finder.reset()
	if calls != 1 || len(asked) != 2 {
		t.Errorf("next run: %d searches of %v, want 1 of [P03 missing]", calls, asked)
	}
	if st := r.Stats(); st.Cached != 2 || st.Resolved != 2 || st.Queries != 1 {
		t.Errorf("Stats = %+v, want 2 cached, 2 resolved in 1 query", st)
	}
}

// TestStoredResolverForget: a rejected Id is forgotten in the cache and
// for the run, so that the value is searched again; ForgetScope forgets a
// lookup's every value; a read-only resolver (a dry run) writes nothing.
func TestStoredResolverForget(t *testing.T) {
	table := fakeResolver{"Account.Name=P01": "001000000000001AAA", "Account.Name=P02": "001000000000002AAA"}
	finder := &fakeFinder{table: table}
	cache := newMemCache()
	ctx := context.Background()
	r := NewStoredResolver(finder, cache, testHash)
	noErr(t, r.Prefetch(ctx, "Account", "Name", []string{"P01", "P02"}))
	finder.reset()

	// P01's record was deleted and another holds P01 now.
	table["Account.Name=P01"] = "001000000000009AAA"
	noErr(t, r.Forget(ctx, "Account", "Name", "001000000000001AAA"))
	if n := cache.len(); n != 1 {
		t.Errorf("after Forget the cache holds %d entries, want 1", n)
	}
	if id, err := r.Resolve(ctx, "Account", "Name", "P01"); err != nil || id != "001000000000009AAA" {
		t.Errorf("Resolve(P01) after Forget = %q, %v; want the new record's Id", id, err)
	}
	if calls, asked := finder.reset(); calls != 1 || len(asked) != 1 {
		t.Errorf("re-resolving P01: %d searches of %v, want 1 of [P01]", calls, asked)
	}

	dry := NewStoredResolver(finder, cache, testHash)
	dry.ReadOnly, dry.Fresh = true, true
	noErr(t, dry.ForgetScope(ctx, "Account", "Name"))
	noErr(t, dry.Prefetch(ctx, "Account", "Name", []string{"P01", "P02", "P03"}))
	if calls, asked := finder.reset(); calls != 1 || len(asked) != 3 {
		t.Errorf("a fresh resolver searched %d times for %v, want once for all 3", calls, asked)
	}
	if n := cache.len(); n != 2 {
		t.Errorf("a read-only resolver changed the cache: %d entries, want 2", n)
	}

	noErr(t, r.ForgetScope(ctx, "ACCOUNT", "name"))
	if n := cache.len(); n != 0 {
		t.Errorf("after ForgetScope the cache holds %d entries", n)
	}
}

// TestStoredResolverSearchFails: a failed search fails the values it
// asked for the rest of the run (no search per value after it), keeping
// its class; a fatal one fails the read.
func TestStoredResolverSearchFails(t *testing.T) {
	local, _ := thLocal(t)
	finder := &fakeFinder{table: thOrg, err: connector.NewRecordError("find", "org", "Account", "", "", connector.CodeUnavailable, connector.Retryable, errors.New("server unavailable"))}
	v, c := thView(t, local)
	v.Resolver = NewStoredResolver(finder, newMemCache(), testHash)
	recs := readAll(t, v, caseObj)
	calls, _ := finder.reset()
	if calls > 2 {
		t.Errorf("a failing search was tried %d times, want once per lookup target", calls)
	}
	failed := 0
	for _, e := range c.errs {
		if e.Field == "vcms__Workplace__c" {
			failed++
			if e.Class != connector.Retryable {
				t.Errorf("lookup error class %v, want retryable", e.Class)
			}
		}
	}
	if failed == 0 || len(recs) == 0 {
		t.Errorf("%d lookup errors over %d records, want the workplaces unknown", failed, len(recs))
	}

	finder.err = connector.NewRecordError("find", "org", "Account", "", "", connector.CodeUnknownField, connector.Fatal, errors.New("no such field"))
	v.Resolver = NewStoredResolver(finder, newMemCache(), testHash)
	if _, err := v.Read(context.Background(), caseObj, "", func(connector.Record) error { return nil }); !connector.IsFatal(err) {
		t.Errorf("a fatal search error: Read = %v, want it", err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
