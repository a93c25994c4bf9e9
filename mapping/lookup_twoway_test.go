package mapping

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
)

// valueFinder is a fakeFinder that also turns Ids back into values
// (FindValuesIn), from the same table, counting its calls apart.
type valueFinder struct {
	*fakeFinder
	vmu      sync.Mutex
	idCalls  int
	idsAsked []string
}

func (f *valueFinder) FindValuesIn(_ context.Context, object, field string, ids []string) (map[string]string, error) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	f.idCalls++
	f.idsAsked = append(f.idsAsked, ids...)
	out := map[string]string{}
	prefix := object + "." + field + "="
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		for k, v := range f.table {
			if strings.HasPrefix(k, prefix) && len(id) >= 15 && v[:15] == id[:15] {
				out[id] = strings.TrimPrefix(k, prefix)
			}
		}
	}
	return out, nil
}

func (f *valueFinder) resetIDs() (calls int, asked []string) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	calls, asked = f.idCalls, f.idsAsked
	f.idCalls, f.idsAsked = 0, nil
	return calls, asked
}

const (
	partnerField = "vcms__Partner_Code__c"
	p1, p2, p3   = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"
	pGone        = "001000000000009AAA"
)

func partnerFinder() *valueFinder {
	return &valueFinder{fakeFinder: &fakeFinder{table: fakeResolver{
		"Account." + partnerField + "=P01": p1,
		"Account." + partnerField + "=P02": p2,
		"Account." + partnerField + "=P03": p3,
	}}}
}

// TestStoredResolverValues: Ids are turned back into values many per
// search and remembered for the run (an Id's 15-character form is the
// same record); a value found so is learned the other way, for the run
// and in the cache by its hash (never the value), unless the resolver is
// read-only; an Id of no record is ErrNoMatch.
func TestStoredResolverValues(t *testing.T) {
	ctx := context.Background()
	f := partnerFinder()
	cache := newMemCache()
	r := NewStoredResolver(f, cache, testHash)
	noErr(t, r.PrefetchValues(ctx, "Account", partnerField, []string{p1, p3, p3[:15], pGone, ""}))
	if calls, asked := f.resetIDs(); calls != 1 || len(asked) != 3 {
		t.Errorf("PrefetchValues: %d searches of %v, want 1 of 3 Ids", calls, asked)
	}
	for id, want := range map[string]string{p1: "P01", p3: "P03", p3[:15]: "P03"} {
		if v, err := r.Value(ctx, "account", partnerField, id); err != nil || v != want {
			t.Errorf("Value(%s) = %q, %v; want %s", id, v, err, want)
		}
	}
	if _, err := r.Value(ctx, "Account", partnerField, pGone); !errors.Is(err, ErrNoMatch) || strings.Contains(err.Error(), pGone) {
		t.Errorf("Value(gone) = %v, want ErrNoMatch without the Id", err)
	}
	if calls, _ := f.resetIDs(); calls != 0 {
		t.Errorf("Value after PrefetchValues searched %d times", calls)
	}
	// One more Id costs one search of it alone.
	if v, err := r.Value(ctx, "Account", partnerField, p2); err != nil || v != "P02" {
		t.Errorf("Value(p2) = %q, %v", v, err)
	}
	if calls, asked := f.resetIDs(); calls != 1 || !slices.Equal(asked, []string{p2}) {
		t.Errorf("Value of a new Id: %d searches of %v", calls, asked)
	}
	// Learned: the values resolve without a search, now and next run.
	for _, res := range []*StoredResolver{r, NewStoredResolver(f, cache, testHash)} {
		for v, want := range map[string]string{"P01": p1, "p03": p3, "P02": p2} {
			if id, err := res.Resolve(ctx, "Account", partnerField, v); err != nil || id != want {
				t.Errorf("Resolve(%s) = %q, %v; want %s", v, id, err, want)
			}
		}
		if calls, _ := f.reset(); calls != 0 {
			t.Errorf("values learned from their Ids were searched %d times", calls)
		}
	}
	if st := r.Stats(); st.Reversed != 4 || st.Learned != 3 || st.Queries != 2 {
		t.Errorf("Stats = %+v, want 4 Ids reversed, 3 values learned, 2 queries", st)
	}
	if n := cache.len(); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
	for scope, ids := range cache.m {
		for h, id := range ids {
			if strings.Contains(h, "P0") || strings.Contains(scope, "p0") || !slices.Contains([]string{p1, p2, p3}, id) {
				t.Errorf("cache %s: %s -> %s holds a value or a wrong Id", scope, h, id)
			}
		}
	}

	// A read-only resolver (a dry run) learns for its run only; Forget
	// forgets an Id's value too.
	cache2 := newMemCache()
	dry := NewStoredResolver(f, cache2, testHash)
	dry.ReadOnly = true
	noErr(t, dry.PrefetchValues(ctx, "Account", partnerField, []string{p1}))
	if cache2.len() != 0 {
		t.Errorf("a read-only resolver wrote the cache")
	}
	if id, err := dry.Resolve(ctx, "Account", partnerField, "P01"); err != nil || id != p1 {
		t.Errorf("read-only Resolve(P01) = %q, %v", id, err)
	}
	noErr(t, r.Forget(ctx, "Account", partnerField, p1))
	f.resetIDs()
	if v, err := r.Value(ctx, "Account", partnerField, p1); err != nil || v != "P01" {
		t.Errorf("Value(p1) after Forget = %q, %v", v, err)
	}
	if calls, _ := f.resetIDs(); calls != 1 {
		t.Errorf("a forgotten Id was searched %d times, want 1", calls)
	}
}

// twoWayObjects is a small schema of its own (the fake org's seed names
// its key fields as it likes): a case with an external key, a reference
// to Account and a stage; an Account with a unique partner code and a
// name that is not unique.
func twoWayObjects() map[string]*connector.Object {
	text := func(name string) connector.Field {
		return connector.Field{Name: name, Type: connector.TypeString, Length: 80, Nillable: true, Createable: true, Updateable: true}
	}
	key := text("vcms__Case_Key__c")
	key.ExternalID, key.Unique = true, true
	ref := connector.Field{Name: "vcms__Partner_Org__c", Type: connector.TypeReference, Length: 18, Nillable: true, Createable: true, Updateable: true, ReferenceTo: []string{"Account"}, Relationship: "vcms__Partner_Org__r"}
	code := text(partnerField)
	code.ExternalID, code.Unique = true, true
	return map[string]*connector.Object{
		caseObj: {Name: caseObj, Key: "vcms__Case_Key__c", Modified: "SystemModstamp", Fields: []connector.Field{
			{Name: "Id", Type: connector.TypeID, Length: 18}, key, ref, text("vcms__Stage__c")}},
		"Account": {Name: "Account", Key: partnerField, Modified: "SystemModstamp", Fields: []connector.Field{
			{Name: "Id", Type: connector.TypeID, Length: 18}, text("Name"), code}},
	}
}

func twoWayConfig(t *testing.T, rules string) *config.Config {
	t.Helper()
	return parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__Case_Key__c }
    local: { source: s, key: id, key_prefix: "c:" }
    fields:
`+rules)
}

// TestViewTwoWayLookup: a two-way lookup (direction both) compiles, reads
// as the Id its cell resolves to, and writes an Id from Salesforce back
// as the partner's code: the Ids of one write are searched together once,
// a cell already naming the record keeps its spelling, a null blanks the
// cell, an Id of no record fails its record alone (no value in the
// error), and the codes written resolve without a search, in this run
// and the next.
func TestViewTwoWayLookup(t *testing.T) {
	ctx := context.Background()
	cfg := twoWayConfig(t, `      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: vcms__Partner_Code__c } }
      - { sf: vcms__Stage__c, local: stage }
`)
	m, err := Compile(cfg.Jobs["j"], twoWayObjects())
	if err != nil {
		t.Fatal(err)
	}
	m.LocalObject = "Cases"
	r := m.Parent.Rules[0]
	if !r.TwoWay() || r.WritesLocal() {
		t.Fatalf("rule TwoWay %v WritesLocal %v, want a two-way lookup (written by the View)", r.TwoWay(), r.WritesLocal())
	}
	if specs := m.FieldSpecs(caseObj); specs[0].Direction != config.Both {
		t.Errorf("the engine sees direction %s, want both", specs[0].Direction)
	}
	cases := &connector.Object{Name: "Cases", Key: "id"}
	for _, c := range []string{"id", "partner", "stage"} {
		cases.Fields = append(cases.Fields, connector.Field{Name: c, Type: connector.TypeString, Nillable: true, Createable: true, Updateable: true})
	}
	local := memory.New("cases", cases)
	row := func(id, partner string) connector.Record {
		return connector.Record{Key: id, Fields: map[string]connector.Value{"partner": connector.Text(partner), "stage": connector.Text("Open")}}
	}
	if _, err := local.Upsert(ctx, "Cases", []connector.Record{row("C1", "P01"), row("C2", "p02"), row("C4", "P01"), row("C5", "P02")}); err != nil {
		t.Fatal(err)
	}
	f := partnerFinder()
	cache := newMemCache()
	v := NewView(local, m, twoWayObjects())
	v.Resolver = NewStoredResolver(f, cache, testHash)
	got := readAll(t, v, caseObj)
	if id, _ := got["c:C2"].Fields["vcms__Partner_Org__c"].Text(); id != p2 {
		t.Fatalf("C2 reads partner %q, want %s", id, p2)
	}
	f.reset()

	ref := func(id string) map[string]connector.Value {
		if id == "" {
			return map[string]connector.Value{"vcms__Partner_Org__c": connector.Null()}
		}
		return map[string]connector.Value{"vcms__Partner_Org__c": connector.Text(id)}
	}
	res, err := v.Upsert(ctx, caseObj, []connector.Record{
		{Key: "c:C1", Fields: ref(p3)},    // changed in Salesforce
		{Key: "c:C2", Fields: ref(p2)},    // as the cell says
		{Key: "c:C3", Fields: ref(p1)},    // a new row
		{Key: "c:C4", Fields: ref(pGone)}, // a record that is gone
		{Key: "c:C5", Fields: ref("")},    // cleared in Salesforce
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, true, false, true} {
		if (res[i].Err == nil) != want {
			t.Errorf("result %d (%s): %v", i, res[i].Key, res[i].Err)
		}
	}
	if e := res[3].Err; connector.CodeOf(e) != connector.CodeInvalidValue || strings.Contains(e.Error(), pGone) || !strings.Contains(e.Error(), "vcms__Partner_Org__c") {
		t.Errorf("an Id of no record: %v, want INVALID_VALUE naming the field, not the Id", e)
	}
	if calls, asked := f.resetIDs(); calls != 1 || len(asked) != 4 {
		t.Errorf("the write searched Ids %d times (%v), want once for the 4 Ids", calls, asked)
	}
	rows, _ := allRows(t, local)
	for id, want := range map[string]string{"C1": "P03", "C2": "p02", "C3": "P01", "C4": "P01", "C5": ""} {
		if got := rows[id]["partner"]; got != want {
			t.Errorf("%s partner cell %q, want %q", id, got, want)
		}
	}

	// Read back: the codes written resolve without a search (learned),
	// in this run and the next (the cache).
	for run, res := range []Resolver{v.Resolver, NewStoredResolver(f, cache, testHash)} {
		v.Resolver = res
		got = readAll(t, v, caseObj)
		for key, want := range map[string]string{"c:C1": p3, "c:C2": p2, "c:C3": p1} {
			if id, _ := got[key].Fields["vcms__Partner_Org__c"].Text(); id != want {
				t.Errorf("run %d: %s reads partner %q, want %s", run, key, id, want)
			}
		}
		if calls, asked := f.reset(); calls != 0 {
			t.Errorf("run %d: reading the codes written searched %d times (%v), want none", run, calls, asked)
		}
	}
}

// allRows returns the local rows' cells by key.
func allRows(t *testing.T, c *memory.Connector) (map[string]map[string]string, error) {
	t.Helper()
	out := map[string]map[string]string{}
	_, err := c.Read(context.Background(), "Cases", "", func(r connector.Record) error {
		cells := map[string]string{}
		for k, v := range r.Fields {
			cells[k] = v.Raw()
		}
		out[r.Key] = cells
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, nil
}

// TestCheckOnlineTwoWayLookup: a lookup that writes the local side too
// needs a unique field (Unique or External ID, or the Id); one that only
// writes Salesforce may search any field.
func TestCheckOnlineTwoWayLookup(t *testing.T) {
	objs := twoWayObjects()
	describe := func(_ context.Context, object string) (*connector.Object, error) {
		if o, ok := objs[object]; ok {
			return o, nil
		}
		return nil, fmt.Errorf("describe %s: %w", object, connector.ErrObjectNotFound)
	}
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__Case_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: Name } }
  k:
    direction: from_salesforce
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__Case_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: vcms__Partner_Code__c } }
  l:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__Case_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: Name }, direction: to_salesforce }
  m:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__Case_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: Id }, direction: from_salesforce }
`)
	errs := CheckOnline(context.Background(), cfg, describe, "Account", caseObj)
	want := []string{
		`inline.yaml:11:87: jobs.j.fields[0].lookup.field: the lookup is two-way (direction both): each Id read from Salesforce is written to the row as its Name, which is read back to find the record; Account.Name is neither Unique nor an External ID, so a value two records share would make the row ambiguous; look up a unique field, or make the rule direction: to_salesforce`,
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
