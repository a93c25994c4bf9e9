package salesforce

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

const noteObject = "vcms__Case_Note__c"

// memPairs is an in-memory IDPairs.
type memPairs struct {
	mu sync.Mutex
	m  map[string]string // object \x00 key -> Id
}

func newMemPairs() *memPairs { return &memPairs{m: map[string]string{}} }

func (p *memPairs) Lookup(_ context.Context, object string, keys []string) (map[string]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for _, k := range keys {
		if id, ok := p.m[object+"\x00"+k]; ok {
			out[k] = id
		}
	}
	return out, nil
}

func (p *memPairs) Remember(_ context.Context, object string, pairs map[string]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, id := range pairs {
		p.m[object+"\x00"+k] = id
	}
	return nil
}

func (p *memPairs) Forget(_ context.Context, object string, ids []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, id := range p.m {
		for _, g := range ids {
			if id == g && strings.HasPrefix(k, object+"\x00") {
				delete(p.m, k)
			}
		}
	}
	return nil
}

func (p *memPairs) Unpair(_ context.Context, object string, keep map[string][]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, id := range p.m {
		key, ok := strings.CutPrefix(k, object+"\x00")
		if kept, has := keep[id]; ok && has && !slices.Contains(kept, key) {
			delete(p.m, k)
		}
	}
	return nil
}

func (p *memPairs) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// notesOrg is the fake org with three cases (K1..K3) and a connector
// keying case notes by their parent (with each: by their type too).
func notesOrg(t *testing.T, each string, h func(http.Handler) http.Handler) (*sftest.Org, *Connector) {
	t.Helper()
	org := sftest.New(sftest.Options{})
	var handler http.Handler = org.Handler()
	if h != nil {
		handler = h(handler)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	for _, k := range []string{"K1", "K2", "K3"} {
		if _, err := org.Insert(caseObject, map[string]any{"vcms__External_Key__c": k, "vcms__Last_Name__c": "x"}, false); err != nil {
			t.Fatal(err)
		}
	}
	c := connectFake(t, srv, func(o *Options) {
		o.KeyFields = map[string]string{caseObject: "vcms__External_Key__c", noteObject: ByParent}
		o.ParentKeys = map[string]ParentKey{noteObject: {ParentField: "vcms__Case__c", ParentKey: "vcms__External_Key__c", Suffix: ":note", Each: each}}
	})
	return org, c
}

func noteRecord(parent, key, summary string) connector.Record {
	return connector.Record{Key: key, Fields: map[string]connector.Value{
		"vcms__Case__r.vcms__External_Key__c": connector.Text(parent),
		"vcms__Summary__c":                    connector.Text(summary),
		"vcms__Note_Type__c":                  connector.Text("Follow_Up"),
	}}
}

// noteCalls counts the org's note creates, updates and searches.
func noteCalls(org *sftest.Org) (creates, updates, finds int) {
	for _, e := range org.Requests() {
		switch {
		case e.Endpoint == "query" && strings.Contains(e.Query, "vcms__Case__r.vcms__External_Key__c+IN"):
			finds++
		case strings.HasPrefix(e.Endpoint, "collections.") && e.Method == http.MethodPost:
			creates += e.Records
		case strings.HasPrefix(e.Endpoint, "collections.") && e.Method == http.MethodPatch:
			updates += e.Records
		}
	}
	return
}

func failedResults(rs []connector.Result) []string {
	var out []string
	for _, r := range rs {
		if r.Err != nil {
			out = append(out, r.Key+": "+r.Err.Error())
		}
	}
	return out
}

// TestByParentWrites: an object without an External ID field, keyed by
// its parent. Creates by POST with the parent by reference, remembers the
// Ids; updates by Id with no search; finds the Ids again by one query when
// the pairs are lost (updates, never a second create); reads derive the
// keys; a stale pair (its record deleted) is forgotten and the record
// found again; two records deriving one key are ambiguous; deletes by Id.
func TestByParentWrites(t *testing.T) {
	org, c := notesOrg(t, "", nil)
	pairs := newMemPairs()
	ctx := WithIDPairs(context.Background(), pairs)

	o, err := c.Describe(ctx, noteObject)
	if err != nil {
		t.Fatal(err)
	}
	if kf := o.KeyField(); o.Key != ByParent || kf == nil || !kf.ExternalID || kf.Createable || kf.Updateable {
		t.Fatalf("described key %q %+v, want %s, an External ID no write sets", o.Key, kf, ByParent)
	}

	org.ResetRequests()
	recs := []connector.Record{noteRecord("K1", "K1:note", "one"), noteRecord("K2", "K2:note", "two"), noteRecord("K3", "K3:note", "three")}
	res, err := c.Upsert(ctx, noteObject, recs)
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("create: %v %v", err, failedResults(res))
	}
	for _, r := range res {
		if !r.Created || !isSalesforceID(r.ID) {
			t.Errorf("create %s: %+v", r.Key, r)
		}
	}
	if cr, up, finds := noteCalls(org); cr != 3 || up != 0 || finds != 1 {
		t.Errorf("create: %d created, %d updated, %d searches; want 3 created after one search", cr, up, finds)
	}
	if pairs.len() != 3 {
		t.Errorf("%d pairs remembered, want 3", pairs.len())
	}
	notes := org.Records(noteObject)
	if len(notes) != 3 {
		t.Fatalf("%d notes in the org, want 3", len(notes))
	}

	// Updates by Id, from the pairs: no search.
	org.ResetRequests()
	recs[0] = noteRecord("K1", "K1:note", "one, edited")
	res, err = c.Upsert(ctx, noteObject, recs[:2])
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("update: %v %v", err, failedResults(res))
	}
	if cr, up, finds := noteCalls(org); cr != 0 || up != 2 || finds != 0 {
		t.Errorf("update: %d created, %d updated, %d searches; want 2 updated, no search", cr, up, finds)
	}

	// Reads derive the keys from the parents' keys.
	got := map[string]string{}
	if _, err := c.Read(ctx, noteObject, "", func(r connector.Record) error {
		if r.Err != nil {
			t.Errorf("read %s: %v", r.Key, r.Err)
		}
		s, _ := r.Fields["vcms__Summary__c"].Text()
		got[r.Key] = s
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["K1:note"] != "one, edited" || got["K3:note"] != "three" {
		t.Errorf("read %v", got)
	}
	got = map[string]string{}
	if err := c.ReadKeys(ctx, noteObject, []string{"K2:note", "K9:note"}, func(r connector.Record) error {
		s, _ := r.Fields["vcms__Summary__c"].Text()
		got[r.Key] = s
		return nil
	}); err != nil || len(got) != 1 || got["K2:note"] != "two" {
		t.Errorf("read by keys: %v %v", got, err)
	}
	var listed []string
	if err := c.ListKeys(ctx, noteObject, func(k string) error { listed = append(listed, k); return nil }); err != nil || len(listed) != 3 {
		t.Errorf("list keys: %v %v", listed, err)
	}

	// Pairs lost: one search, updates, no second create.
	lost := WithIDPairs(context.Background(), newMemPairs())
	org.ResetRequests()
	res, err = c.Upsert(lost, noteObject, recs)
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("update without pairs: %v %v", err, failedResults(res))
	}
	if cr, up, finds := noteCalls(org); cr != 0 || up != 3 || finds != 1 {
		t.Errorf("update without pairs: %d created, %d updated, %d searches; want 3 updated after one search", cr, up, finds)
	}
	if n := len(org.Records(noteObject)); n != 3 {
		t.Errorf("%d notes, want 3", n)
	}

	// A stale pair: K3's pair names a deleted note. The update fails
	// ENTITY_IS_DELETED, the pair is forgotten, K3 is found again.
	dres, err := c.Delete(ctx, noteObject, []string{"K1:note"})
	if err != nil || len(failedResults(dres)) != 0 {
		t.Fatalf("delete: %v %v", err, failedResults(dres))
	}
	if n := len(org.Records(noteObject)); n != 2 {
		t.Fatalf("after the delete %d notes, want 2", n)
	}
	if ids, _ := pairs.Lookup(ctx, noteObject, []string{"k1:note"}); len(ids) != 0 {
		t.Errorf("the deleted note is still paired: %v", ids)
	}
	deletedID := dres[0].ID
	_ = pairs.Remember(ctx, noteObject, map[string]string{o.KeyID("K3:note"): deletedID})
	org.ResetRequests()
	res, err = c.Upsert(ctx, noteObject, []connector.Record{noteRecord("K3", "K3:note", "three, edited")})
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("update by a stale pair: %v %v", err, failedResults(res))
	}
	if cr, _, finds := noteCalls(org); cr != 0 || finds != 1 {
		t.Errorf("update by a stale pair: %d created, %d searches; want the note found again by one search", cr, finds)
	}
	if ids, _ := pairs.Lookup(ctx, noteObject, []string{"k3:note"}); ids["k3:note"] == deletedID || ids["k3:note"] != res[0].ID {
		t.Errorf("K3 paired with %v, want %s", ids, res[0].ID)
	}

	// A second note under K2, added by hand: K2 is ambiguous when its Id
	// must be found; K3 goes on.
	k2, _ := org.GetByExternalKey(caseObject, "K2")
	if _, err := org.Insert(noteObject, map[string]any{"vcms__Case__c": k2.ID, "vcms__Summary__c": "by hand"}, false); err != nil {
		t.Fatal(err)
	}
	res, err = c.Upsert(WithIDPairs(context.Background(), newMemPairs()), noteObject, []connector.Record{noteRecord("K2", "K2:note", "two, edited"), noteRecord("K3", "K3:note", "three, again")})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil || connector.CodeOf(res[0].Err) != connector.CodeDuplicateKey || !strings.Contains(res[0].Err.Error(), noteObject) || res[1].Err != nil {
		t.Errorf("ambiguous K2: %v; K3: %v", res[0].Err, res[1].Err)
	}
	for _, n := range org.Records(noteObject) {
		if n.Fields["vcms__Summary__c"] == "two, edited" {
			t.Errorf("an ambiguous note was written")
		}
	}
	// The read passes the paired note and leaves the other alone.
	var dup []string
	if _, err := c.Read(ctx, noteObject, "", func(r connector.Record) error {
		if r.Err != nil {
			dup = append(dup, r.Key+" "+string(connector.CodeOf(r.Err)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dup) != 0 {
		t.Errorf("read of a paired key with a second note: %v", dup)
	}
}

// TestByParentEach: with an each field, the key ends with the field's
// value; one note per value under one case.
func TestByParentEach(t *testing.T) {
	org, c := notesOrg(t, "vcms__Note_Type__c", nil)
	ctx := WithIDPairs(context.Background(), newMemPairs())
	rec := func(typ, summary string) connector.Record {
		r := noteRecord("K1", "K1:note:"+typ, summary)
		r.Fields["vcms__Note_Type__c"] = connector.Text(typ)
		return r
	}
	res, err := c.Upsert(ctx, noteObject, []connector.Record{rec("Intake", "a"), rec("Legal", "b")})
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("create: %v %v", err, failedResults(res))
	}
	res, err = c.Upsert(WithIDPairs(context.Background(), newMemPairs()), noteObject, []connector.Record{rec("Legal", "b2")})
	if err != nil || len(failedResults(res)) != 0 || res[0].Created {
		t.Fatalf("update: %v %+v", err, res)
	}
	keys := map[string]bool{}
	if err := c.ListKeys(ctx, noteObject, func(k string) error { keys[k] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys["K1:note:Intake"] || !keys["K1:note:Legal"] || len(org.Records(noteObject)) != 2 {
		t.Errorf("keys %v, %d notes", keys, len(org.Records(noteObject)))
	}
}

// TestByParentCreateNeverTwice: the org creates the notes and the answer
// is lost (the connection drops after the org committed): the connector
// never re-sends a create; the next call finds the notes by their keys
// and updates them. Exactly one note per key.
func TestByParentCreateNeverTwice(t *testing.T) {
	var drop atomic.Bool
	drop.Store(true)
	org, c := notesOrg(t, "", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects") && drop.Load() {
				h.ServeHTTP(httptest.NewRecorder(), r) // the org commits ...
				hj, ok := w.(http.Hijacker)
				if !ok {
					t.Error("cannot drop the connection")
					return
				}
				conn, _, _ := hj.Hijack()
				conn.Close() // ... and the answer never comes
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	pairs := newMemPairs()
	ctx := WithIDPairs(context.Background(), pairs)
	recs := []connector.Record{noteRecord("K1", "K1:note", "one"), noteRecord("K2", "K2:note", "two")}
	res, err := c.Upsert(ctx, noteObject, recs)
	if err == nil && len(failedResults(res)) == 0 {
		t.Fatal("a create whose answer was lost succeeded")
	}
	if n := org.CountRequests("collections.create"); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
	if n := len(org.Records(noteObject)); n != 2 || pairs.len() != 0 {
		t.Fatalf("after the lost answer: %d notes, %d pairs; want 2 notes (created) and nothing paired", n, pairs.len())
	}
	drop.Store(false)
	org.ResetRequests()
	res, err = c.Upsert(ctx, noteObject, recs)
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("next call: %v %v", err, failedResults(res))
	}
	if cr, up, _ := noteCalls(org); cr != 0 || up != 2 {
		t.Errorf("next call: %d created, %d updated; want the 2 notes found and updated", cr, up)
	}
	if n := len(org.Records(noteObject)); n != 2 || pairs.len() != 2 {
		t.Errorf("%d notes, %d pairs; want 2 and 2", n, pairs.len())
	}
}

// TestByParentDeletedDuplicate: a second note a person added by hand
// under a synced case, then deleted (as the DUPLICATE_VALUE error asks),
// is read by the next incremental read as a deleted record deriving the
// case's key. It says nothing of the paired note, which is still there:
// the read must not pass it as the key's deletion (a sync would then
// delete the row's note cells, or the paired note).
func TestByParentDeletedDuplicate(t *testing.T) {
	org, c := notesOrg(t, "", nil)
	ctx := WithIDPairs(context.Background(), newMemPairs())
	res, err := c.Upsert(ctx, noteObject, []connector.Record{noteRecord("K1", "K1:note", "one"), noteRecord("K2", "K2:note", "two")})
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("create: %v %v", err, failedResults(res))
	}
	cur, err := c.Read(ctx, noteObject, "", func(connector.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := org.GetByExternalKey(caseObject, "K2")
	hand, err := org.Insert(noteObject, map[string]any{"vcms__Case__c": k2.ID, "vcms__Summary__c": "by hand"}, false)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodDelete, "/services/data/v"+org.APIVersion()+"/sobjects/"+noteObject+"/"+hand, nil)
	req.Header.Set("Authorization", "Bearer "+org.IssueToken(sftest.DefaultUsername))
	rw := httptest.NewRecorder()
	org.Handler().ServeHTTP(rw, req)
	if rw.Code != http.StatusNoContent {
		t.Fatalf("deleting the hand note: %d %s", rw.Code, rw.Body)
	}
	if _, err := c.Read(ctx, noteObject, cur, func(r connector.Record) error {
		if r.Deleted || r.Err != nil {
			t.Errorf("read %s (Id %s): deleted %v, error %v; the paired note is still there", r.Key, r.ID, r.Deleted, r.Err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(org.Records(noteObject)); n != 2 {
		t.Errorf("%d notes, want 2", n)
	}
}

// handNote adds a note under the case with key parent, as a caseworker
// would, and returns its Id.
func handNote(t *testing.T, org *sftest.Org, parent string) string {
	t.Helper()
	p, ok := org.GetByExternalKey(caseObject, parent)
	if !ok {
		t.Fatalf("no case %s", parent)
	}
	id, err := org.Insert(noteObject, map[string]any{"vcms__Case__c": p.ID, "vcms__Summary__c": "by hand"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// readNotes reads every note and returns the records passed, by Id.
func readNotes(t *testing.T, ctx context.Context, c *Connector) map[string]connector.Record {
	t.Helper()
	got := map[string]connector.Record{}
	if _, err := c.Read(ctx, noteObject, "", func(r connector.Record) error {
		if prev, ok := got[r.ID]; ok && prev.Err == nil {
			t.Errorf("record %s passed twice", r.ID)
		}
		got[r.ID] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestByParentHandAdded: a second note a person added by hand under a
// case whose note the pairs name is left alone: the read passes the
// paired note (no error: its key syncs on) and not the other, reporting
// it once by object and Id; an update goes to the paired note. When the
// paired note is gone (deleted, its deletion never read), the read finds
// that out by Id and the hand note takes the key. With nothing paired,
// two notes deriving one key are ambiguous: DUPLICATE_VALUE naming both
// Ids, and neither paired.
func TestByParentHandAdded(t *testing.T) {
	org, c := notesOrg(t, "", nil)
	pairs := newMemPairs()
	var notes []string
	ctx := WithNotes(WithIDPairs(context.Background(), pairs), func(object, note string) { notes = append(notes, object+" | "+note) })
	res, err := c.Upsert(ctx, noteObject, []connector.Record{noteRecord("K1", "K1:note", "one"), noteRecord("K2", "K2:note", "two")})
	if err != nil || len(failedResults(res)) != 0 {
		t.Fatalf("create: %v %v", err, failedResults(res))
	}
	k1, synced := res[0].ID, res[1].ID
	hand := handNote(t, org, "K2")

	org.ResetRequests()
	got := readNotes(t, ctx, c)
	if r, ok := got[synced]; !ok || r.Err != nil || r.Key != "K2:note" {
		t.Errorf("the paired note: %+v (passed %v), want K2:note with no error", r, ok)
	}
	if r, ok := got[hand]; ok {
		t.Errorf("the hand note was passed: key %s, error %v", r.Key, r.Err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], noteObject) || !strings.Contains(notes[0], hand) || strings.Contains(notes[0], "by hand") {
		t.Errorf("notes %q, want one naming %s and %s, no value", notes, noteObject, hand)
	}
	if n := org.CountRequests("query"); n != 1 {
		t.Errorf("%d queries; the paired note was read, none more is needed", n)
	}
	readNotes(t, ctx, c)
	if len(notes) != 1 {
		t.Errorf("reported again: %q", notes[1:])
	}

	res, err = c.Upsert(ctx, noteObject, []connector.Record{noteRecord("K2", "K2:note", "two, edited")})
	if err != nil || len(failedResults(res)) != 0 || res[0].ID != synced {
		t.Fatalf("update K2: %v %v %+v", err, failedResults(res), res)
	}
	if n, _ := org.Get(hand); n.Fields["vcms__Summary__c"] != "by hand" {
		t.Errorf("the hand note was written: %v", n.Fields)
	}

	// The paired note deleted and its deletion never read (a read that
	// passes no deleted records): the hand note takes the key.
	deleteNote(t, org, synced)
	got = readNotes(t, ctx, c)
	if r, ok := got[hand]; !ok || r.Err != nil || r.Key != "K2:note" {
		t.Errorf("with the paired note gone, the hand note: %+v (passed %v), want K2:note", r, ok)
	}
	if ids, _ := pairs.Lookup(ctx, noteObject, []string{"k2:note"}); ids["k2:note"] != hand {
		t.Errorf("K2 paired with %v, want the hand note %s", ids, hand)
	}

	// Nothing paired: two notes under K1 are ambiguous.
	hand1 := handNote(t, org, "K1")
	fresh := newMemPairs()
	var dup []string
	if _, err := c.Read(WithIDPairs(context.Background(), fresh), noteObject, "", func(r connector.Record) error {
		if r.Err != nil {
			dup = append(dup, r.Key+" "+string(connector.CodeOf(r.Err))+" "+r.Err.Error())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dup) != 1 || !strings.HasPrefix(dup[0], "K1:note "+string(connector.CodeDuplicateKey)) || !strings.Contains(dup[0], hand1) || !strings.Contains(dup[0], k1) {
		t.Errorf("two unpaired notes under K1: %q", dup)
	}
	if ids, _ := fresh.Lookup(ctx, noteObject, []string{"k1:note"}); len(ids) != 0 {
		t.Errorf("an ambiguous key was paired: %v", ids)
	}
}

// deleteNote deletes a note as a person would, through the REST API.
func deleteNote(t *testing.T, org *sftest.Org, id string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodDelete, "/services/data/v"+org.APIVersion()+"/sobjects/"+noteObject+"/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+org.IssueToken(sftest.DefaultUsername))
	rw := httptest.NewRecorder()
	org.Handler().ServeHTTP(rw, req)
	if rw.Code != http.StatusNoContent {
		t.Fatalf("deleting note %s: %d %s", id, rw.Code, rw.Body)
	}
}
