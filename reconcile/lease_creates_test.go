package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// postSide is a Salesforce side whose creates are, or are not, idempotent
// (reconcile.CreateIdempotence): a child keyed by its parent has no
// external id, and its creates are POSTs.
type postSide struct {
	*side
	idempotent bool
}

func (p postSide) CreatesIdempotent(string) bool { return p.idempotent }

var _ reconcile.CreateIdempotence = postSide{}

// leaseLostDuringCreate runs killWorld's changes (TH-0012 is new locally:
// a create on Salesforce) on a Salesforce side with the given create
// idempotence, and has another holder take the lease right after the
// batch that creates TH-0012 on Salesforce was written.
func leaseLostDuringCreate(t *testing.T, idempotent bool) (*world, error) {
	w := killWorld(t)
	w.eng.SF = postSide{side: w.sf, idempotent: idempotent}
	ctx := context.Background()
	tok, err := w.store.Acquire(ctx, w.job.Name, "host-a", 10*time.Minute, w.now)
	if err != nil {
		t.Fatal(err)
	}
	taken := false
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p != reconcile.AfterWrite || taken {
			return nil
		}
		created := false
		if err := w.sf.ReadKeys(ctx, "Case__c", []string{"TH-0012"}, func(connector.Record) error { created = true; return nil }); err != nil || !created {
			return err
		}
		taken = true
		w.now = w.now.Add(time.Hour) // host-a paused past its lease
		if _, err := w.store.Acquire(ctx, w.job.Name, "host-b", time.Hour, w.now); err != nil {
			t.Error(err)
		}
		return nil
	}
	_, err = w.sync(reconcile.RunOptions{Lease: tok})
	w.eng.Hooks.At = nil
	if !taken {
		t.Fatal("the run created nothing on Salesforce")
	}
	return w, err
}

// TestLeaseLostWhileCreatingLocksOut: a replica loses the job's lease
// while a batch of creates of an object without an external id is in
// flight. The new holder may have created the same record (a POST is not
// an upsert), so the job is locked out rather than handed over.
func TestLeaseLostWhileCreatingLocksOut(t *testing.T) {
	w, err := leaseLostDuringCreate(t, false)
	if !errors.Is(err, state.ErrLeaseLost) || !strings.Contains(err.Error(), "locked out") ||
		!strings.Contains(err.Error(), "no external id") {
		t.Fatalf("run that lost its lease while creating: %v", err)
	}
	lo, ok, lerr := w.store.Lockout(context.Background(), w.job.Name)
	if lerr != nil || !ok {
		t.Fatalf("no lockout recorded: %v", lerr)
	}
	if want := "the job's lease was lost while creating records of Case__c, which has no external id"; !strings.HasPrefix(lo.Cause, want) {
		t.Errorf("lockout cause = %q, want it to start with %q", lo.Cause, want)
	}
	if _, err := w.sync(reconcile.RunOptions{}); !errors.Is(err, reconcile.ErrLockedOut) {
		t.Errorf("the next run: %v, want ErrLockedOut", err)
	}
}

// TestLeaseLostWhileCreatingIdempotent: the same loss with creates that
// are upserts by an external id hands the job over, as
// TestLeaseLostHandsOver shows.
func TestLeaseLostWhileCreatingIdempotent(t *testing.T) {
	w, err := leaseLostDuringCreate(t, true)
	if !errors.Is(err, state.ErrLeaseLost) || errors.Is(err, reconcile.ErrLockedOut) || strings.Contains(err.Error(), "locked out") {
		t.Fatalf("run that lost its lease: %v", err)
	}
	if lo, ok, _ := w.store.Lockout(context.Background(), w.job.Name); ok {
		t.Fatalf("a fenced run with idempotent creates locked the job out: %+v", lo)
	}
}

// TestLeaseLostWhileUpdatingLocksOut: an update of an object without an
// external id may be sent as a create (the connector writes by Id, and a
// key it does not know, or whose record is gone, is POSTed), so a replica
// that loses the lease during a batch of updates locks the job out too.
func TestLeaseLostWhileUpdatingLocksOut(t *testing.T) {
	w := newWorld(t)
	w.eng.SF = postSide{side: w.sf, idempotent: false}
	for _, s := range []*side{w.sf, w.local} {
		if err := s.set("TH-0001", map[string]string{"Name__c": "n", "Stage__c": "Active", "Amount__c": "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.local.set("TH-0001", map[string]string{"Amount__c": "2"}); err != nil { // an update on Salesforce
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := w.store.Acquire(ctx, w.job.Name, "host-a", 10*time.Minute, w.now)
	if err != nil {
		t.Fatal(err)
	}
	taken := false
	w.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p != reconcile.AfterWrite || taken {
			return nil
		}
		taken = true
		w.now = w.now.Add(time.Hour) // host-a paused past its lease
		if _, err := w.store.Acquire(ctx, w.job.Name, "host-b", time.Hour, w.now); err != nil {
			t.Error(err)
		}
		return nil
	}
	_, err = w.sync(reconcile.RunOptions{Lease: tok})
	w.eng.Hooks.At = nil
	if !taken {
		t.Fatal("the run wrote nothing")
	}
	if !errors.Is(err, state.ErrLeaseLost) || !strings.Contains(err.Error(), "locked out") {
		t.Fatalf("run that lost its lease while updating: %v", err)
	}
	if _, ok, lerr := w.store.Lockout(ctx, w.job.Name); lerr != nil || !ok {
		t.Fatalf("no lockout recorded: %v", lerr)
	}
}
