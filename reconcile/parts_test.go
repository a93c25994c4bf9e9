package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// countingSide counts the complete and incremental reads of a side.
type countingSide struct {
	*side
	reads atomic.Int32
}

func (c *countingSide) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	c.reads.Add(1)
	return c.side.Read(ctx, object, since, fn)
}

// countingStore counts the complete reads of the job's records.
type countingStore struct {
	state.Store
	n atomic.Int32
}

func (c *countingStore) Records(ctx context.Context, job string, fn func(state.RecordState) error) error {
	c.n.Add(1)
	return c.Store.Records(ctx, job, fn)
}

// partsWorld is a world of n cases: keys C001..Cn, the first sfN on
// Salesforce, all of them locally, with the Salesforce side counting reads.
func partsWorld(t *testing.T, n, sfN, partSize int) (*world, *countingSide) {
	w := newWorld(t)
	w.job.PartSize = partSize
	w.job.MinMatchRate = -1
	cs := &countingSide{side: w.sf}
	w.eng.SF = cs
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("C%04d", i)
		kv := map[string]string{"Name__c": "name " + key, "Stage__c": "Active", "Amount__c": fmt.Sprint(i)}
		if err := w.local.set(key, kv); err != nil {
			t.Fatal(err)
		}
		if i <= sfN {
			if i%3 == 0 {
				kv["Stage__c"] = "Closed" // a difference the first sync decides
			}
			if err := w.sf.set(key, kv); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w, cs
}

func sortedLines(p *reconcile.Plan) []string {
	return slices.Sorted(p.All())
}

// A run split into parts plans what a whole run plans, reads Salesforce
// once (its records replayed to each part), and applies to the same end.
func TestPartsPlanAsWhole(t *testing.T) {
	testPartsPlanAsWhole(t, 60, 25, 8)
}

// Salesforce records beyond what a split run keeps in memory are kept in
// an encrypted temporary file (connector.Spill) and replayed from it:
// Salesforce is still read once.
func TestPartsSpillSalesforce(t *testing.T) {
	testPartsPlanAsWhole(t, 3000, 2700, 400)
}

func testPartsPlanAsWhole(t *testing.T, n, sfN, partSize int) {
	whole, _ := partsWorld(t, n, sfN, -1)
	split, sfReads := partsWorld(t, n, sfN, partSize)
	for _, dry := range []bool{true, false} {
		rw, err := whole.sync(reconcile.RunOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		sfReads.reads.Store(0)
		rs, err := split.sync(reconcile.RunOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		if rw.Parts != 0 || rs.Parts < n/partSize {
			t.Fatalf("dry run %v: parts %d (whole) and %d (split), want 0 and at least %d", dry, rw.Parts, rs.Parts, n/partSize)
		}
		if got := sfReads.reads.Load(); got != 1 {
			t.Errorf("dry run %v: salesforce read %d times, want once (replayed to the parts)", dry, got)
		}
		if a, b := sortedLines(rw.Plan), sortedLines(rs.Plan); !slices.Equal(a, b) {
			t.Fatalf("dry run %v: plans differ\nwhole:\n%q\nsplit:\n%q", dry, a, b)
		}
		// Creates on Salesforce, and a Stage update of every third
		// record both hold (salesforce_wins at first sync).
		if want := n - sfN + sfN/3; rs.Plan.NumWrites() != want {
			t.Errorf("dry run %v: %d writes, want %d", dry, rs.Plan.NumWrites(), want)
		}
		if !dry && rs.Counts != rw.Counts {
			t.Errorf("counts: split %+v, whole %+v", rs.Counts, rw.Counts)
		}
	}
	for _, w := range []*world{whole, split} {
		if a, b := w.sf.dump(), w.local.dump(); !slices.Equal(a, b) {
			t.Fatalf("sides differ after the sync:\nsf %q\nlocal %q", a, b)
		}
	}
	if a, b := split.sf.dump(), whole.sf.dump(); !slices.Equal(a, b) {
		t.Fatalf("split and whole runs wrote differently:\nsplit %q\nwhole %q", a, b)
	}
	// Synced: the next split runs plan nothing, and still move their
	// cursors (here the time of the last key listing: every run lists).
	// The state and the local side are read twice, whatever the number
	// of parts: the first read, and once to sort them into parts.
	stateReads := &countingStore{Store: split.store}
	split.eng.Store = stateReads
	for run := range 2 {
		stateReads.n.Store(0)
		before, _ := split.store.Cursor(context.Background(), split.job.Name, "salesforce_keys")
		localReads := &countingSide{side: split.local}
		split.eng.Local = localReads
		res, err := split.sync(reconcile.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Plan.NumWrites() != 0 || !res.Plan.Incremental || res.Parts < 2 {
			t.Fatalf("re-run %d: %d writes, incremental %v, %d parts; want none, incremental, split\n%s", run, res.Plan.NumWrites(), res.Plan.Incremental, res.Parts, res.Plan)
		}
		after, _ := split.store.Cursor(context.Background(), split.job.Name, "salesforce_keys")
		if after == before {
			t.Errorf("re-run %d: the cursor stayed at %q", run, before)
		}
		if got := int(localReads.reads.Load()); got != 2 {
			t.Errorf("re-run %d: the local side was read %d times, want twice: the first read, and once to sort its rows into parts", run, got)
		}
		if got := stateReads.n.Load(); got != 2 {
			t.Errorf("re-run %d: the state's records were read %d times, want twice: the first read, and once to sort them into parts", run, got)
		}
	}
}

// The safety brakes judge the plan of every part together: deletes spread
// over parts, each below max_delete, still stop the run before any write.
func TestPartsBrakeOnWholePlan(t *testing.T) {
	w, _ := partsWorld(t, 40, 40, 5)
	w.job.Deletes = reconcile.Propagate
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		if err := w.local.del(fmt.Sprintf("C%04d", i*3)); err != nil {
			t.Fatal(err)
		}
	}
	w.job.MaxDelete = reconcile.Limit{Count: 10}
	sfBefore := w.sf.dump()
	res, err := w.sync(reconcile.RunOptions{})
	if !errors.Is(err, reconcile.ErrSafetyAbort) {
		t.Fatalf("err = %v, want a safety abort (12 deletes over max_delete 10)", err)
	}
	if res.Parts < 2 || res.Plan.Count(reconcile.OpDelete) != 12 {
		t.Fatalf("parts %d, deletes planned %d; want split, 12", res.Parts, res.Plan.Count(reconcile.OpDelete))
	}
	if got := w.sf.dump(); !slices.Equal(got, sfBefore) {
		t.Fatal("an aborted run deleted records")
	}
	w.job.MaxDelete = reconcile.Limit{Count: 20}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := len(w.sf.dump()); got != 28 {
		t.Fatalf("salesforce holds %d records after the deletes, want 28", got)
	}
}

// A run that meets a Salesforce record without a key is not split: such
// records are paired across keys (keyless.go). It is read again whole.
func TestPartsNotWithKeyless(t *testing.T) {
	w, _ := partsWorld(t, 20, 10, 4)
	w.sf.nokey["a01000000000001AAA"] = connector.Record{ID: "a01000000000001AAA", Fields: map[string]connector.Value{"Name__c": connector.Text("opened in salesforce"), "Stage__c": connector.Null(), "Amount__c": connector.Null()}}
	res, err := w.sync(reconcile.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != 0 {
		t.Fatalf("split into %d parts with a keyless record", res.Parts)
	}
	if res.Plan.Keyless != 1 || res.Plan.NumWrites() != 10+3 {
		t.Fatalf("keyless %d, writes %d; want 1, 13\n%s", res.Plan.Keyless, res.Plan.NumWrites(), res.Plan)
	}
}
