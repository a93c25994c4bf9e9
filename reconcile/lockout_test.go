package reconcile_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// flakyStore fails every Update while fail is set, as a state store whose
// disk filled up would.
type flakyStore struct {
	state.Store
	fail        bool
	failLockOut bool // LockOut fails too
}

func (f *flakyStore) LockOut(ctx context.Context, l state.Lockout) error {
	if f.failLockOut {
		return errDisk
	}
	return f.Store.LockOut(ctx, l)
}

var errDisk = errors.New("disk I/O error")

func (f *flakyStore) Update(ctx context.Context, job string, fn func(state.Tx) error) error {
	if f.fail {
		return errDisk
	}
	return f.Store.Update(ctx, job, fn)
}

// recoverByResync checks that w's job is locked out, that a normal run and
// a dry run refuse to start naming the cause and the way out, that a
// resync dry run plans without lifting the lockout, and that a resync run
// lifts it and converges.
func recoverByResync(t *testing.T, w *world, cause string) {
	t.Helper()
	ctx := context.Background()
	lo, ok, err := w.store.Lockout(ctx, w.job.Name)
	if err != nil || !ok || !strings.Contains(lo.Cause, cause) {
		t.Fatalf("lockout = %+v, %v, %v; want one for %q", lo, ok, err, cause)
	}
	runs, _ := w.store.Runs(ctx, w.job.Name, 100)
	sfBefore, localBefore := w.sf.dump(), w.local.dump()
	for _, opts := range []reconcile.RunOptions{{}, {DryRun: true}, {Force: true}} {
		res, err := w.sync(opts)
		if !errors.Is(err, reconcile.ErrLockedOut) || res != nil {
			t.Fatalf("run %+v of a locked-out job: %v, %v; want ErrLockedOut", opts, res, err)
		}
		for _, want := range []string{w.job.Name, cause, "--resync"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("lockout error %q does not name %q", err, want)
			}
		}
	}
	if again, _ := w.store.Runs(ctx, w.job.Name, 100); len(again) != len(runs) {
		t.Errorf("refused runs went into the history: %d runs, were %d", len(again), len(runs))
	}
	if _, err := w.sync(reconcile.RunOptions{Resync: true, DryRun: true}); err != nil {
		t.Fatalf("resync dry run: %v", err)
	}
	if _, ok, _ := w.store.Lockout(ctx, w.job.Name); !ok {
		t.Fatal("a resync dry run lifted the lockout")
	}
	if !slices.Equal(w.sf.dump(), sfBefore) || !slices.Equal(w.local.dump(), localBefore) {
		t.Fatal("refused runs or the resync dry run wrote")
	}
	if _, err := w.sync(reconcile.RunOptions{Resync: true}); err != nil {
		t.Fatalf("resync: %v", err)
	}
	if _, ok, _ := w.store.Lockout(ctx, w.job.Name); ok {
		t.Fatal("still locked out after a resync")
	}
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.NumWrites() != 0 {
		t.Errorf("the run after the resync plans writes:\n%s", res.Plan)
	}
	if sf, local := w.sf.dump(), w.local.dump(); !slices.Equal(sf, local) {
		t.Errorf("sides differ after the resync:\n%v\n%v", sf, local)
	}
}

// TestLockoutCommitFailed: the state commit after a batch was written
// fails; the job is locked out until a resync.
func TestLockoutCommitFailed(t *testing.T) {
	w := killWorld(t)
	fs := &flakyStore{Store: w.store}
	w.eng.Store = fs
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.AfterWrite {
			fs.fail = true
		}
		return nil
	}
	_, err := w.sync(reconcile.RunOptions{})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "locked out") {
		t.Fatalf("run whose commit failed: %v", err)
	}
	fs.fail = false
	w.eng.Hooks.At = nil
	recoverByResync(t, w, "state commit after a write failed")
}

// TestLeaseLostHandsOver: another holder takes the job's lease while a
// batch is being written (this replica was paused past its lease); the
// run's commit is fenced off. The job is not locked out: the next holder's
// run finds what the fenced batch wrote by reading both sides, writes
// nothing twice, and converges with no person involved.
func TestLeaseLostHandsOver(t *testing.T) {
	w := killWorld(t)
	ctx := context.Background()
	tok, err := w.store.Acquire(ctx, w.job.Name, "host-a", 10*time.Minute, w.now)
	if err != nil {
		t.Fatal(err)
	}
	var tokB int64
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.AfterWrite && tokB == 0 {
			w.now = w.now.Add(time.Hour) // host-a paused past its lease
			if tokB, err = w.store.Acquire(ctx, w.job.Name, "host-b", time.Hour, w.now); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	_, err = w.sync(reconcile.RunOptions{Lease: tok})
	if !errors.Is(err, state.ErrLeaseLost) || errors.Is(err, reconcile.ErrLockedOut) || strings.Contains(err.Error(), "locked out") {
		t.Fatalf("run that lost its lease: %v", err)
	}
	w.eng.Hooks.At = nil
	if lo, ok, _ := w.store.Lockout(ctx, w.job.Name); ok {
		t.Fatalf("a fenced run locked the job out: %+v", lo)
	}
	w.tick()
	res, err := w.sync(reconcile.RunOptions{Lease: tokB})
	if err != nil {
		t.Fatalf("the next holder's run: %v", err)
	}
	if n := len(res.Failed); n != 0 {
		t.Errorf("the next holder's run failed %d records", n)
	}
	w.tick()
	res, err = w.sync(reconcile.RunOptions{Lease: tokB})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.NumWrites() != 0 || len(res.Plan.Notes) != 0 {
		t.Errorf("not converged after the hand-over:\n%s", res.Plan)
	}
	if sf, local := w.sf.dump(), w.local.dump(); !slices.Equal(sf, local) {
		t.Errorf("sides differ after the hand-over:\n%v\n%v", sf, local)
	}
}

// TestLockoutKeptWhileStoreDown: the state store fails the commit after a
// write and refuses the lockout too (it is down). The lockout is kept
// outside the store; while the store still cannot record it the job does
// not run, and once it can, the next run records it before anything else
// and the job is locked out as it would have been.
func TestLockoutKeptWhileStoreDown(t *testing.T) {
	w := killWorld(t)
	fs := &flakyStore{Store: w.store, failLockOut: true}
	w.eng.Store = fs
	j := &state.FileJournal{Path: t.TempDir() + "/lockouts.json"}
	w.eng.Journal = j
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.AfterWrite {
			fs.fail = true
		}
		return nil
	}
	_, err := w.sync(reconcile.RunOptions{})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "kept outside the store") {
		t.Fatalf("run whose commit and lockout failed: %v", err)
	}
	w.eng.Hooks.At = nil
	if kept, err := j.Kept(w.job.Name); err != nil || len(kept) != 1 || !strings.Contains(kept[0].Cause, "state commit") {
		t.Fatalf("journal = %+v, %v", kept, err)
	}
	sfBefore, localBefore := w.sf.dump(), w.local.dump()
	fs.fail = false // commits work again, but the lockout's insert does not
	if _, err := w.sync(reconcile.RunOptions{}); err == nil || !strings.Contains(err.Error(), "does not run") {
		t.Fatalf("run while the lockout cannot be recorded: %v", err)
	}
	if !slices.Equal(w.sf.dump(), sfBefore) || !slices.Equal(w.local.dump(), localBefore) {
		t.Fatal("a run wrote before the kept lockout was recorded")
	}
	fs.failLockOut = false
	if _, err := w.sync(reconcile.RunOptions{}); !errors.Is(err, reconcile.ErrLockedOut) {
		t.Fatalf("run once the store is back: %v; want ErrLockedOut", err)
	}
	if kept, _ := j.Kept(w.job.Name); len(kept) != 0 {
		t.Errorf("journal still keeps %+v after the store recorded it", kept)
	}
	if _, err := os.Stat(j.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty journal file left behind: %v", err)
	}
	recoverByResync(t, w, "state commit after a write failed")
}

// TestNoLockoutWithoutWrites: failures before any write leave the state
// as good as it was: no lockout.
func TestNoLockoutWithoutWrites(t *testing.T) {
	w := killWorld(t)
	fs := &flakyStore{Store: w.store, fail: true}
	w.eng.Store = fs
	if _, err := w.sync(reconcile.RunOptions{}); !errors.Is(err, errDisk) {
		t.Fatalf("run = %v", err)
	}
	if _, ok, _ := w.store.Lockout(context.Background(), w.job.Name); ok {
		t.Fatal("locked out by a failure before any write")
	}
}

// TestResyncIsAFirstSync: a resync plans what a first sync over the same
// two sides (an empty state) plans, and nothing else.
func TestResyncIsAFirstSync(t *testing.T) {
	w := killWorld(t)
	w.job.Initial = reconcile.LocalWins
	fresh, err := state.OpenSQLite(context.Background(), t.TempDir()+"/fresh.db")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	first := &reconcile.Engine{SF: w.sf, Local: w.local, Store: fresh, FP: w.fp, Now: w.eng.Now}
	want, err := first.Run(context.Background(), w.job, reconcile.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.sync(reconcile.RunOptions{Resync: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if g, wl := got.Plan.Lines(), want.Plan.Lines(); !slices.Equal(g, wl) || len(g) == 0 {
		t.Errorf("resync plan:\n\t%s\nfirst sync plan:\n\t%s", strings.Join(g, "\n\t"), strings.Join(wl, "\n\t"))
	}
}

// TestLeaseFencesChildren: a run under a lease writes its child jobs'
// state too: they are fenced by the parent job's lease.
func TestLeaseFencesChildren(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.sf.AddObject(stipendObject())
	w.local.AddObject(stipendObject())
	stipends := &reconcile.Job{Name: w.job.Name + "/stipend", Object: "Stipend__c", Fields: []reconcile.FieldSpec{{Name: "Amount__c", RuleHash: "r1"}}}
	w.job.Children = []reconcile.Child{{Job: stipends, Suffix: "stipend"}}
	if err := w.local.set("TH-0001", map[string]string{"Name__c": "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.local.Upsert(ctx, "Stipend__c", []connector.Record{{Key: "TH-0001:stipend", Fields: map[string]connector.Value{"Amount__c": connector.Int(500)}}}); err != nil {
		t.Fatal(err)
	}
	tok, err := w.store.Acquire(ctx, w.job.Name, "host-a", time.Hour, w.now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.sync(reconcile.RunOptions{Lease: tok})
	if err != nil {
		t.Fatalf("run under a lease: %v", err)
	}
	if len(res.Children) != 1 || res.Children[0].Counts.Creates != 1 {
		t.Fatalf("child result: %+v", res.Children)
	}
}
