package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// askSide records every key the engine names to a side: asked by key,
// written or deleted.
type askSide struct {
	*side
	mu    sync.Mutex
	asked []string
}

func (a *askSide) note(keys ...string) {
	a.mu.Lock()
	a.asked = append(a.asked, keys...)
	a.mu.Unlock()
}

func (a *askSide) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	a.note(keys...)
	return a.side.ReadKeys(ctx, object, keys, fn)
}

func (a *askSide) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	for _, r := range recs {
		a.note(r.Key)
	}
	return a.side.Upsert(ctx, object, recs)
}

func (a *askSide) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	a.note(keys...)
	return a.side.Delete(ctx, object, keys)
}

// A local record whose key cannot be a key (a NUL, a bidi override, longer
// than the Salesforce key field's 80 characters) is that record's problem
// only: the rest of the plan goes on (an edit and a create reach
// Salesforce), the bad keys are never asked of Salesforce, written, stored
// or named in the plan, they count as rows without a usable key, and
// nothing synced before is deleted because of them.
func TestInvalidKeyLeavesThePlanIntact(t *testing.T) {
	w := newWorld(t)
	w.job.Deletes = reconcile.Propagate
	seed(t, w)
	sf := &askSide{side: w.sf}
	w.eng.SF = sf
	// The local store takes keys longer than Salesforce's key field, as a
	// sheet does.
	o := testObject()
	o.Fields[0].Length = 0
	w.local.AddObject(o) // the store re-read: its records set again below
	for _, k := range []string{"TH-0002", "TH-0003"} {
		if err := w.local.set(k, map[string]string{"Name__c": "n" + k, "Stage__c": "Active"}); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("L", 81)
	bad := []string{"TH-\x00005", "TH-\u202e0006", long}
	for _, k := range append([]string{"TH-0004"}, bad...) {
		if err := w.local.set(k, map[string]string{"Name__c": "new", "Stage__c": "Active"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.local.set("TH-0001", map[string]string{"Name__c": "edited", "Stage__c": "Active"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	p := res.Plan
	if got, want := p.Unreadable, [2]int{0, 3}; got != want {
		t.Errorf("unreadable = %v, want %v", got, want)
	}
	if p.Count(reconcile.OpCreate) != 1 || p.Count(reconcile.OpUpdate) != 1 || p.Count(reconcile.OpDelete) != 0 {
		t.Errorf("plan, want one create (TH-0004) and one update (TH-0001):\n%s", p)
	}
	if s := p.String(); strings.Contains(s, "LLLL") || strings.ContainsAny(s, "\x00\u202e") {
		t.Errorf("the plan names a bad key:\n%q", s)
	}
	got := strings.Join(w.sf.dump(), "\n")
	for _, want := range []string{"TH-0001 Name__c=edited", "TH-0004 Name__c=new"} {
		if !strings.Contains(got, want) {
			t.Errorf("salesforce lacks %q:\n%s", want, got)
		}
	}
	for _, k := range sf.asked {
		if connector.CheckKey(k, 80) != nil {
			t.Errorf("salesforce was asked about a key that cannot be a key (%d bytes)", len(k))
		}
	}
	if err := w.store.Records(context.Background(), "cases", func(rs state.RecordState) error {
		if connector.CheckKey(rs.Key, 80) != nil || connector.CheckKey(rs.LocalKey, 80) != nil {
			t.Errorf("the state holds a bad key")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pend, err := w.store.Pending(context.Background(), "cases")
	if err != nil {
		t.Fatal(err)
	}
	for _, pe := range pend {
		if connector.CheckKey(pe.Key, 80) != nil {
			t.Errorf("the state holds a bad key as pending")
		}
	}
	// The next run: the same, nothing written.
	res, err = w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if res.Plan.NumWrites() != 0 || res.Plan.Unreadable != [2]int{0, 3} {
		t.Errorf("second run plan (unreadable %v):\n%s", res.Plan.Unreadable, res.Plan)
	}
}

// keyErrSide reads every record whose key cannot be a key with an error
// that, like a mapping layer's, names the record by that key.
type keyErrSide struct{ *side }

func (k keyErrSide) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return k.side.Read(ctx, object, since, func(r connector.Record) error {
		if connector.CheckKey(r.Key, 80) != nil {
			r.Err = connector.NewRecordError("map", "local", object, r.Key, "", connector.CodeInvalidKey, connector.Permanent, errors.New("key too long for salesforce"))
		}
		return fn(r)
	})
}

// The run's error log names a key that cannot be a key by why it cannot,
// never by its text (a name typed into a key cell must not reach the
// state, history or admin API), even when the record's own error names it.
func TestInvalidKeyNotLogged(t *testing.T) {
	w := newWorld(t)
	o := testObject()
	o.Fields[0].Length = 0
	w.local.AddObject(o)
	w.eng.Local = keyErrSide{w.local}
	long := "Somchai " + strings.Repeat("Jaidee", 14) // 92 characters: over the key field's 80
	for _, k := range []string{"TH-0001", long, "TH-\u202e0006"} {
		if err := w.local.set(k, map[string]string{"Name__c": "n", "Stage__c": "Active"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := w.store.Errors(context.Background(), "cases", res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 {
		t.Fatalf("%d errors logged, want 2: %+v", len(errs), errs)
	}
	for _, e := range errs {
		if e.Code != string(connector.CodeInvalidKey) || e.Key != "" || strings.Contains(e.Message, "Somchai") || strings.Contains(e.Message, "Jaidee") || strings.ContainsRune(e.Message, '\u202e') {
			t.Errorf("logged %+v", e)
		}
		if !strings.Contains(e.Message, "a key that cannot be a key") {
			t.Errorf("logged %q: says not why", e.Message)
		}
	}
	runs, _ := w.store.Runs(context.Background(), "cases", 1)
	if len(runs) != 1 || runs[0].Counts.Unreadable != 2 {
		t.Errorf("runs %+v, want 2 unreadable", runs)
	}
}

// A local row read with an error under a usable key (a row the file could
// not give whole, a key on two rows) is in the run's error log, with its
// key and the connector's value-free message, as a Salesforce record read
// so is: history --errors accounts for every record the run left unknown.
func TestLocalRowErrorLogged(t *testing.T) {
	w := newWorld(t)
	for _, k := range []string{"K1", "K2"} {
		if err := w.local.set(k, map[string]string{"Name__c": "n", "Stage__c": "Active", "Amount__c": "1"}); err != nil {
			t.Fatal(err)
		}
	}
	w.local.unreadable[connector.KeyID("K2", false)] = true
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := w.store.Errors(context.Background(), w.job.Name, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Key != "K2" || errs[0].Code != string(connector.CodeRowUnreadable) || !strings.Contains(errs[0].Message, "injected") {
		t.Fatalf("error log %+v, want K2's ROW_UNREADABLE", errs)
	}
}
