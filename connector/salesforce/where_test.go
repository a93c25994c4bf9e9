package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

const thWhere = "vcms__Source_System__c = 'ngo-th-cm'"

// testClock is a settable clock for the fake org.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func clockedOrg(t *testing.T, mod func(*Options)) (*sftest.Org, *Connector, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Now().UTC()}
	org, srv := sftest.NewServer(t, sftest.Options{Now: clock.now})
	return org, connectFake(t, srv, mod), clock
}

// split reads with fn's records sorted into present and unknown keys.
type split struct{ present, unknown map[string]connector.Record }

func collect() (*split, func(connector.Record) error) {
	s := &split{present: map[string]connector.Record{}, unknown: map[string]connector.Record{}}
	return s, func(r connector.Record) error {
		switch {
		case r.Err != nil:
			s.unknown[r.Key] = r
		case r.Deleted:
		default:
			s.present[r.Key] = r
		}
		return nil
	}
}

// orgKeys returns the keys of the org's live cases, split by whether their
// source system is ngo-th-cm.
func orgKeys(org *sftest.Org) (th, other []string) {
	for _, r := range org.Records(caseObject) {
		k, _ := r.Fields["vcms__External_Key__c"].(string)
		if k == "" {
			continue
		}
		if s, _ := r.Fields["vcms__Source_System__c"].(string); s == "ngo-th-cm" {
			th = append(th, k)
		} else {
			other = append(other, k)
		}
	}
	return th, other
}

func sortedKeys(m map[string]connector.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func outOfScope(t *testing.T, r connector.Record) {
	t.Helper()
	if connector.CodeOf(r.Err) != CodeOutOfScope || r.ID == "" || len(r.Fields) != 0 {
		t.Errorf("unknown record %s: err %v, id %q, %d fields; want OUT_OF_SCOPE with an id and no fields", r.Key, r.Err, r.ID, len(r.Fields))
	}
	var re *connector.RecordError
	if !errors.As(r.Err, &re) || re.Key != r.Key || re.Object != caseObject {
		t.Errorf("unknown record %s: error %#v does not name the key and object", r.Key, r.Err)
	}
}

// TestWhereReads: a view scoped by a where reads the matching records and
// reports every other existing record as unknown, in complete and
// incremental reads and by key; ListKeys lists them all, so that none
// looks deleted.
func TestWhereReads(t *testing.T) {
	org, c, clock := clockedOrg(t, nil)
	ctx := context.Background()
	// A case with no source system at all: NOT (where) must find it.
	if _, err := org.Insert(caseObject, map[string]any{"vcms__External_Key__c": "ngo-th-cm:TH-NULL-1", "vcms__Last_Name__c": "Test"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upsert(ctx, caseObject, []connector.Record{
		{Key: "ngo-th-cm:TH-W-1", Fields: map[string]connector.Value{"vcms__Last_Name__c": connector.Text("Test"), "vcms__Source_System__c": connector.Text("ngo-th-cm")}},
		{Key: "ngo-th-cm:TH-W-2", Fields: map[string]connector.Value{"vcms__Last_Name__c": connector.Text("Test"), "vcms__Source_System__c": connector.Text("ngo-th-cm")}},
	}); err != nil {
		t.Fatal(err)
	}
	th, other := orgKeys(org)
	if len(th) < 3 || len(other) < 3 {
		t.Fatalf("seed: %d ngo-th-cm cases, %d others; the test needs both", len(th), len(other))
	}
	v := c.Where(map[string]string{caseObject: thWhere})

	// Complete read.
	got, fn := collect()
	cur, err := v.Read(ctx, caseObject, "", fn)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(th)
	slices.Sort(other)
	if k := sortedKeys(got.present); !slices.Equal(k, th) {
		t.Errorf("complete read: present %v, want the ngo-th-cm cases %v", k, th)
	}
	if k := sortedKeys(got.unknown); !slices.Equal(k, other) {
		t.Errorf("complete read: unknown %v, want every other case %v", k, other)
	}
	for _, r := range got.unknown {
		outOfScope(t, r)
	}
	if _, ok := got.unknown["ngo-th-cm:TH-NULL-1"]; !ok {
		t.Errorf("a case with a null source system is not reported unknown")
	}

	// ListKeys: every existing key, matching or not.
	var listed []string
	if err := v.(connector.KeyLister).ListKeys(ctx, caseObject, func(k string) error { listed = append(listed, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if all := slices.Sorted(slices.Values(append(slices.Clone(th), other...))); !slices.Equal(listed, all) {
		t.Errorf("ListKeys %v, want every existing key %v", listed, all)
	}

	// Incremental: one case leaves the where, one is created inside it,
	// one is created outside it.
	clock.add(time.Hour)
	if _, err := c.Upsert(ctx, caseObject, []connector.Record{
		{Key: "ngo-th-cm:TH-W-1", Fields: map[string]connector.Value{"vcms__Source_System__c": connector.Text("ngo-kh-bb")}},
		{Key: "ngo-th-cm:TH-W-3", Fields: map[string]connector.Value{"vcms__Last_Name__c": connector.Text("Test"), "vcms__Source_System__c": connector.Text("ngo-th-cm")}},
		{Key: "ngo-kh-bb:KH-W-4", Fields: map[string]connector.Value{"vcms__Last_Name__c": connector.Text("Test"), "vcms__Source_System__c": connector.Text("ngo-kh-bb")}},
	}); err != nil {
		t.Fatal(err)
	}
	got, fn = collect()
	cur2, err := v.Read(ctx, caseObject, cur, fn)
	if err != nil {
		t.Fatal(err)
	}
	if k := sortedKeys(got.present); !slices.Equal(k, []string{"ngo-th-cm:TH-W-3"}) {
		t.Errorf("incremental read: present %v, want the new ngo-th-cm case", k)
	}
	if k := sortedKeys(got.unknown); !slices.Equal(k, []string{"ngo-kh-bb:KH-W-4", "ngo-th-cm:TH-W-1"}) {
		t.Errorf("incremental read: unknown %v, want the case that left the where and the new case outside it", k)
	}
	for _, r := range got.unknown {
		outOfScope(t, r)
	}
	// Nothing changed since: the next incremental read passes nothing
	// (the look-back set covers the unknown records too).
	got, fn = collect()
	if _, err := v.Read(ctx, caseObject, cur2, fn); err != nil {
		t.Fatal(err)
	}
	if len(got.present)+len(got.unknown) != 0 {
		t.Errorf("unchanged incremental read passed %v and %v", sortedKeys(got.present), sortedKeys(got.unknown))
	}

	// ReadKeys: matching, out of scope, missing.
	got, fn = collect()
	if err := v.(connector.KeyReader).ReadKeys(ctx, caseObject, []string{"ngo-th-cm:TH-W-2", "ngo-th-cm:TH-W-1", "ngo-th-cm:TH-NOPE"}, fn); err != nil {
		t.Fatal(err)
	}
	if k := sortedKeys(got.present); !slices.Equal(k, []string{"ngo-th-cm:TH-W-2"}) {
		t.Errorf("ReadKeys: present %v", k)
	}
	if k := sortedKeys(got.unknown); !slices.Equal(k, []string{"ngo-th-cm:TH-W-1"}) {
		t.Errorf("ReadKeys: unknown %v, want the case outside the where", k)
	}
	if r := got.present["ngo-th-cm:TH-W-2"]; func() bool { s, _ := r.Fields["vcms__Last_Name__c"].Text(); return s != "Test" }() {
		t.Errorf("ReadKeys: matching record without its fields: %v", r.Fields)
	}

	// An object without a condition reads as the connector does.
	var n int
	if _, err := v.Read(ctx, "vcms__Assistance__c", "", func(r connector.Record) error {
		if r.Err != nil && connector.CodeOf(r.Err) == CodeOutOfScope {
			t.Errorf("unscoped object: %v", r.Err)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := len(org.Records("vcms__Assistance__c")); n != want {
		t.Errorf("unscoped object: %d records, want %d", n, want)
	}
}

// TestWhereWrites: a scoped view never writes or deletes a record outside
// its where; other records are written as usual.
func TestWhereWrites(t *testing.T) {
	org, c, _ := clockedOrg(t, nil)
	ctx := context.Background()
	text := connector.Text
	if _, err := c.Upsert(ctx, caseObject, []connector.Record{
		{Key: "ngo-th-cm:TH-W-1", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("In"), "vcms__Source_System__c": text("ngo-th-cm")}},
		{Key: "ngo-th-cm:TH-W-2", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("Out"), "vcms__Source_System__c": text("ngo-kh-bb")}},
		{Key: "ngo-th-cm:TH-W-3", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("In"), "vcms__Source_System__c": text("ngo-th-cm")}},
	}); err != nil {
		t.Fatal(err)
	}
	v := c.Where(map[string]string{caseObject: thWhere}).(*Scoped)
	res, err := v.Upsert(ctx, caseObject, []connector.Record{
		{Key: "ngo-th-cm:TH-W-2", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("Changed"), "vcms__Source_System__c": text("ngo-th-cm")}},
		{Key: "ngo-th-cm:TH-W-1", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("Changed")}},
		{Key: "ngo-th-cm:TH-W-9", Fields: map[string]connector.Value{"vcms__Last_Name__c": text("New"), "vcms__Source_System__c": text("ngo-th-cm")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || connector.CodeOf(res[0].Err) != CodeOutOfScope || res[0].Key != "ngo-th-cm:TH-W-2" || res[1].Err != nil || res[2].Err != nil || !res[2].Created {
		t.Fatalf("upsert results %+v", res)
	}
	if r, _ := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-W-2"); r.Fields["vcms__Last_Name__c"] != "Out" || r.Fields["vcms__Source_System__c"] != "ngo-kh-bb" {
		t.Errorf("a record outside the where was written: %v", r.Fields)
	}
	if r, _ := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-W-1"); r.Fields["vcms__Last_Name__c"] != "Changed" {
		t.Errorf("a record inside the where was not written: %v", r.Fields)
	}

	res, err = v.Delete(ctx, caseObject, []string{"ngo-th-cm:TH-W-2", "ngo-th-cm:TH-W-3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || connector.CodeOf(res[0].Err) != CodeOutOfScope || res[1].Err != nil {
		t.Fatalf("delete results %+v", res)
	}
	if _, ok := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-W-2"); !ok {
		t.Errorf("a record outside the where was deleted")
	}
	if _, ok := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-W-3"); ok {
		t.Errorf("a record inside the where was not deleted")
	}
}

// TestWhereInvalid: a malformed condition fails the first call with a
// WhereError naming the object and the condition (configuration, so it may
// be shown), without echoing data; a valid one is checked once.
func TestWhereInvalid(t *testing.T) {
	org, c, _ := clockedOrg(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		where, code string
		calls       int
	}{
		{"vcms__Source_System__c = ", "MALFORMED_QUERY", 1},
		{"vcms__No_Such_Field__c = 'x'", "INVALID_FIELD", 1},
		{"vcms__Source_System__c = 'a') OR (vcms__Stage__c = 'b'", "", 0},
		{"vcms__Source_System__c = 'a", "", 0},
	} {
		org.ResetRequests()
		v := c.Where(map[string]string{caseObject: tc.where})
		_, err := v.Read(ctx, caseObject, "", func(connector.Record) error { t.Fatal("a record was read"); return nil })
		var we *WhereError
		tc.where = strings.TrimSpace(tc.where)
		if !errors.As(err, &we) || we.Object != caseObject || we.Where != tc.where {
			t.Errorf("where %q: err %v, want a WhereError", tc.where, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, caseObject) || !strings.Contains(msg, fmt.Sprintf("%q", tc.where)) {
			t.Errorf("where %q: message %q does not name the object and the condition", tc.where, msg)
		}
		var ae *APIError
		if tc.code != "" && (!errors.As(err, &ae) || ae.Code != tc.code) {
			t.Errorf("where %q: %v, want %s", tc.where, err, tc.code)
		}
		if n := org.CountRequests("query"); n != tc.calls {
			t.Errorf("where %q: %d query calls, want %d", tc.where, n, tc.calls)
		}
		if err := v.(connector.KeyReader).ReadKeys(ctx, caseObject, []string{"k"}, func(connector.Record) error { return nil }); !errors.As(err, &we) {
			t.Errorf("where %q: ReadKeys: %v, want a WhereError", tc.where, err)
		}
	}

	// A valid condition costs one check per connector, not one per call.
	org.ResetRequests()
	for range 3 {
		v := c.Where(map[string]string{caseObject: thWhere})
		if _, err := v.Read(ctx, caseObject, "", func(connector.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	checks := 0
	for _, e := range org.Requests() {
		if strings.Contains(e.Query, "LIMIT+1") || strings.Contains(e.Query, "LIMIT%201") {
			checks++
		}
	}
	if n := org.CountRequests("query"); checks != 1 || n != 1+3*2 {
		t.Errorf("three scoped reads: %d checks and %d queries, want 1 and 7", checks, n)
	}
	// A new run (ForgetDescribes) checks it again, once.
	c.ForgetDescribes()
	org.ResetRequests()
	v := c.Where(map[string]string{caseObject: thWhere})
	for range 2 {
		if _, err := v.Read(ctx, caseObject, "", func(connector.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := org.CountRequests("query"); n != 1+2*2 {
		t.Errorf("after ForgetDescribes: %d queries, want one check and two reads of two queries", n)
	}
}
