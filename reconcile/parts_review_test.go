package reconcile_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

// a split run that applies logs the rows it could not read, as a whole run does.
func TestPartsReviewUnreadLogged(t *testing.T) {
	for _, ps := range []int{-1, 5} {
		w, _ := partsWorld(t, 40, 40, ps)
		w.local.keyless[connector.KeyID("C0007", false)] = true
		res, err := w.sync(reconcile.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		errs, _ := w.store.Errors(context.Background(), "cases", res.RunID)
		runs, _ := w.store.Runs(context.Background(), "cases", 1)
		t.Logf("part size %d: parts %d, %d errors logged, counts %+v", ps, res.Parts, len(errs), runs[0].Counts)
		if len(errs) == 0 {
			t.Errorf("part size %d: the unreadable row was never logged", ps)
		}
	}
}

// a no-op re-run records how many records it read.
func TestPartsReviewCountsRead(t *testing.T) {
	for _, ps := range []int{-1, 5} {
		w, _ := partsWorld(t, 40, 40, ps)
		if _, err := w.sync(reconcile.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		res, err := w.sync(reconcile.RunOptions{Full: true})
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := w.store.Runs(context.Background(), "cases", 1)
		t.Logf("part size %d: parts %d, writes %d, history counts %+v", ps, res.Parts, res.Plan.NumWrites(), runs[0].Counts)
		if runs[0].Counts.Read != 80 {
			t.Errorf("part size %d: Read = %d, want 80", ps, runs[0].Counts.Read)
		}
	}
}

// max_delete judges the plan of what is applied: rows gone between the
// plan pass and the apply pass are not deleted past the brake.
func TestPartsReviewBrakeBetweenPasses(t *testing.T) {
	for _, ps := range []int{-1, 5} {
		w, _ := partsWorld(t, 40, 40, ps)
		w.job.Deletes = reconcile.Propagate
		w.job.MaxDelete = reconcile.Limit{Count: 5}
		if _, err := w.sync(reconcile.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 40; i++ { // every part has an update
			k := fmt.Sprintf("C%04d", i)
			if err := w.local.set(k, map[string]string{"Name__c": "name " + k, "Stage__c": "Active", "Amount__c": fmt.Sprint(1000 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		emptied := false
		w.eng.Hooks.At = func(ctx context.Context, p reconcile.Point) error {
			if p == reconcile.BeforeApply && !emptied {
				emptied = true // the local file is emptied while the run applies
				for i := 1; i <= 40; i++ {
					w.local.del(fmt.Sprintf("C%04d", i))
				}
			}
			return nil
		}
		res, err := w.sync(reconcile.RunOptions{})
		t.Logf("part size %d: parts %d, err %v, planned deletes %d, counts %+v, salesforce holds %d", ps, res.Parts, err, res.Plan.Count(reconcile.OpDelete), res.Counts, len(w.sf.dump()))
		if got := len(w.sf.dump()); got < 35 {
			t.Errorf("part size %d: salesforce holds %d of 40 records: deleted past max_delete 5", ps, got)
		}
	}
}

// emptyingSF empties a record's key in Salesforce (it stays, keyless)
// just after the run's first read.
type emptyingSF struct {
	*side
	reads int
	key   string
}

func (e *emptyingSF) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	e.reads++
	if e.reads == 2 && e.key != "" {
		e.side.nokey["a01000000000005AAA"] = connector.Record{ID: "a01000000000005AAA", Fields: map[string]connector.Value{
			"Name__c": connector.Text("name " + e.key), "Stage__c": connector.Text("Active"), "Amount__c": connector.Text("5")}}
		e.side.del(e.key)
	}
	return e.side.Read(ctx, object, since, fn)
}

// a split run whose spill failed (each part reads Salesforce again)
// drops a record whose key was emptied meanwhile, and deletes its row.
func TestPartsReviewSfAgainEmptiedKey(t *testing.T) {
	w, _ := partsWorld(t, 2100, 2100, 1000)
	t.Setenv("TMPDIR", "/nonexistent-review") // the spill cannot be made
	w.job.Deletes = reconcile.Propagate
	w.job.MaxDelete = reconcile.Limit{Count: 100}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	es := &emptyingSF{side: w.sf, key: "C0005"}
	w.eng.SF = es
	res, err := w.sync(reconcile.RunOptions{Full: true})
	t.Logf("parts %d, err %v, sf reads %d, writes %v", res.Parts, err, es.reads, res.Plan.Lines())
	for _, l := range w.local.dump() {
		if l[:5] == "C0005" {
			return
		}
	}
	t.Errorf("local row C0005 deleted while its salesforce record lost only its key")
}

// limitSide records the soft memory limit under which the local side is
// read again.
type limitSide struct {
	*side
	limits []int64
}

func (l *limitSide) Read(ctx context.Context, o string, c connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	if connector.Reread(ctx) {
		l.limits = append(l.limits, debug.SetMemoryLimit(-1))
	}
	return l.side.Read(ctx, o, c, fn)
}

// A run read again whole (it met a Salesforce record without a key) is
// not held to the tighter collector of a split run.
func TestPartsKeylessFallbackLimit(t *testing.T) {
	w, _ := partsWorld(t, 20, 10, 4)
	w.sf.nokey["a01000000000001AAA"] = connector.Record{ID: "a01000000000001AAA", Fields: map[string]connector.Value{"Name__c": connector.Text("x"), "Stage__c": connector.Null(), "Amount__c": connector.Null()}}
	ls := &limitSide{side: w.local}
	w.eng.Local = ls
	before := debug.SetMemoryLimit(-1)
	if res, err := w.sync(reconcile.RunOptions{DryRun: true}); err != nil || res.Parts != 0 {
		t.Fatalf("err %v, parts %d", err, res.Parts)
	}
	if len(ls.limits) != 1 || ls.limits[0] != before {
		t.Fatalf("the whole re-read ran under memory limit %v, want %d", ls.limits, before)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Fatalf("memory limit left at %d, was %d", after, before)
	}
}
