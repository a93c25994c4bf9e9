package erase_test

import (
	"context"
	"errors"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
)

// failingSF is the org's connector with every write of one Salesforce key
// failing for that record alone, as a record Salesforce rejects
// (a validation rule, a locked row) fails in a batch that goes on.
type failingSF struct {
	connector.Connector
	key string
}

func (s *failingSF) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	return s.Connector.(connector.KeyReader).ReadKeys(ctx, object, keys, fn)
}

func (s *failingSF) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	var pass []connector.Record
	for _, r := range recs {
		if !s.fails(r.Key) {
			pass = append(pass, r)
		}
	}
	res, err := s.Connector.(connector.Sink).Upsert(ctx, object, pass)
	return s.merge(recs, res, func(i int) string { return recs[i].Key }), err
}

func (s *failingSF) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	var pass []string
	for _, k := range keys {
		if !s.fails(k) {
			pass = append(pass, k)
		}
	}
	res, err := s.Connector.(connector.Sink).Delete(ctx, object, pass)
	return s.merge(keys, res, func(i int) string { return keys[i] }), err
}

func (s *failingSF) fails(k string) bool {
	return connector.KeyID(k, false) == connector.KeyID(s.key, false)
}

// merge puts the failing key's result back in its place among res.
func (s *failingSF) merge(all any, res []connector.Result, key func(int) string) []connector.Result {
	n := 0
	switch a := all.(type) {
	case []connector.Record:
		n = len(a)
	case []string:
		n = len(a)
	}
	out := make([]connector.Result, 0, n)
	for i := range n {
		if s.fails(key(i)) {
			out = append(out, connector.Result{Key: key(i), Err: &connector.RecordError{Op: "upsert", Key: key(i), Err: errors.New("FIELD_CUSTOM_VALIDATION_EXCEPTION")}})
			continue
		}
		out = append(out, res[0])
		res = res[1:]
	}
	return out
}

// TestEraseSalesforceFailure: a key whose Salesforce write fails is not
// erased: its state is kept and no tombstone left (forgotten, the next
// sync would pair it as a first sync and write Salesforce's values back
// into the blanked cells), runs of the job are refused meanwhile, and an
// erase again completes it and lifts the lockout.
func TestEraseSalesforceFailure(t *testing.T) {
	for _, failing := range []string{"t:C-1", "t:C-1:support"} {
		t.Run(failing, func(t *testing.T) {
			f := setup(t, "csv")
			ctx := context.Background()
			e := f.eraser()
			e.Salesforce = &failingSF{Connector: f.r.Salesforce, key: failing}
			rep, err := e.Erase(ctx, "cases", []string{"C-1"}, false)
			if err != nil {
				t.Fatal(err)
			}
			k := rep.Keys[0]
			if k.SFError == nil || k.StateForgotten || k.Tombstone || k.Erased() || len(rep.Incomplete) != 1 || !rep.LockedOut {
				t.Errorf("report %+v, incomplete %v: want the failure reported, the key not erased", k, rep.Incomplete)
			}
			if _, ok, _ := f.r.Store.Record(ctx, "cases", "t:c-1"); !ok {
				t.Error("the state of a key Salesforce kept was forgotten")
			}
			if tombs, _ := f.r.Store.Tombstones(ctx, object); len(tombs) != 0 {
				t.Errorf("tombstones %v, want none", tombs)
			}
			if lo, ok, _ := f.r.Store.Lockout(ctx, "cases"); !ok || lo.Cause == "" {
				t.Error("the job is not locked out while the erasure is incomplete")
			}
			var lerr *reconcile.LockedOutError
			if _, err := f.r.Run(ctx, "cases", schedules.RunOptions{}); !errors.As(err, &lerr) {
				t.Errorf("a run while the erasure is incomplete: %v, want it refused", err)
			}
			if holds(t, f.file, erased["First"]) {
				t.Error("the local cells were not blanked")
			}

			rep, err = f.eraser().Erase(ctx, "cases", []string{"C-1"}, false)
			if err != nil {
				t.Fatal(err)
			}
			if k := rep.Keys[0]; !k.Erased() || !k.Tombstone || len(rep.Incomplete) != 0 {
				t.Errorf("erase again: %+v, incomplete %v", k, rep.Incomplete)
			}
			if _, ok, _ := f.r.Store.Lockout(ctx, "cases"); ok {
				t.Error("the lockout outlived the completed erasure")
			}
			f.sync(t)
			f.sync(t)
			for _, v := range erased {
				if holds(t, f.file, v) {
					t.Errorf("the sheet holds an erased value again")
				}
			}
			if v := sfHolds(t, f.org, erased["First"], erased["Last"], erased["Notes"], erased["Support"]); v != "" {
				t.Errorf("the org still holds %s", v)
			}
		})
	}
}

// TestEraseIncompleteKeptAcrossErases: an erase of other keys does not
// lift the lockout an incomplete erasure left: it names the keys still
// incomplete.
func TestEraseIncompleteKeptAcrossErases(t *testing.T) {
	f := setup(t, "csv")
	ctx := context.Background()
	e := f.eraser()
	e.Salesforce = &failingSF{Connector: f.r.Salesforce, key: "t:C-1"}
	if _, err := e.Erase(ctx, "cases", []string{"C-1"}, false); err != nil {
		t.Fatal(err)
	}
	rep, err := f.eraser().Erase(ctx, "cases", []string{"C-2"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incomplete) != 1 || rep.Incomplete[0] != "C-1" || !rep.Keys[0].Erased() {
		t.Errorf("incomplete %v, C-2 %+v: want C-1 left, C-2 erased", rep.Incomplete, rep.Keys[0])
	}
	if _, ok, _ := f.r.Store.Lockout(ctx, "cases"); !ok {
		t.Error("erasing another key lifted the lockout of C-1's incomplete erasure")
	}
}

// TestEraseNotFound: a key neither side holds (a typo) is reported as not
// found, and leaves no tombstone that would keep a real case of that key
// from ever being created.
func TestEraseNotFound(t *testing.T) {
	f := setup(t, "csv")
	ctx := context.Background()
	rep, err := f.eraser().Erase(ctx, "cases", []string{"C-1", "C-404"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Keys) != 2 || rep.Keys[0].NotFound || !rep.Keys[0].Tombstone || !rep.Keys[1].NotFound || rep.Keys[1].Tombstone {
		t.Errorf("report %+v", rep.Keys)
	}
	if tombs, _ := f.r.Store.Tombstones(ctx, object); len(tombs) != 1 {
		t.Errorf("tombstones %v, want C-1's only", tombs)
	}
}

// TestEraseKeyForms: a Salesforce key's prefix is cut whatever its case,
// and keys naming one record (T:C-1, c-1) are erased once, in one report.
func TestEraseKeyForms(t *testing.T) {
	f := setup(t, "csv")
	rep, err := f.eraser().Erase(context.Background(), "cases", []string{"T:C-1", "c-1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Keys) != 1 || rep.Keys[0].Key != "C-1" || !rep.Keys[0].LocalFound || !rep.Keys[0].SFFound || !rep.Keys[0].Tombstone {
		t.Errorf("report %+v, want one key C-1 found on both sides", rep.Keys)
	}
}

// TestEraseDatabaseKeyCase: a key typed in another case than the
// database row's (SQLite's default collation compares case-sensitively,
// as PostgreSQL's does) still finds the row a sync pairs with the record:
// blanked, nothing comes back at the next syncs.
func TestEraseDatabaseKeyCase(t *testing.T) {
	f := setup(t, "sqlite")
	ctx := context.Background()
	rep, err := f.eraser().Erase(ctx, "cases", []string{"c-1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if k := rep.Keys[0]; !k.LocalFound || len(k.Local) != 6 || !k.Erased() {
		t.Errorf("report %+v, want the row C-1 found and blanked", k)
	}
	f.sync(t)
	f.sync(t)
	for name, v := range erased {
		if holds(t, f.file, v) {
			t.Errorf("the database holds %s after the syncs", name)
		}
	}
	if v := sfHolds(t, f.org, erased["First"], erased["Last"], erased["Notes"], erased["Support"]); v != "" {
		t.Errorf("the org holds %s after the syncs", v)
	}
}
