package schedules

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// TestRememberFencedByLease: replica A created a child keyed by its parent
// after it lost the job's lease (it was paused past it); replica B, which
// holds the lease now, has already paired the key with the record it
// created. A's Remember is refused and B's pairing stays, so B's record is
// not taken for one a person added by hand.
func TestRememberFencedByLease(t *testing.T) {
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const job = "cases"
	tokA, err := st.Acquire(ctx, job, "host-a", time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour) // host-a paused past its lease
	tokB, err := st.Acquire(ctx, job, "host-b", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	hash := func(s string) string { return "h(" + s + ")" }
	pairs := func(lease int64) *idPairs {
		return &idPairs{store: st, hash: hash, now: clock, job: job, lease: lease, scopes: map[string]map[string]string{}}
	}
	const object, key = "vcms__Note__c", "th-0001:note"
	if err := pairs(tokB).Remember(ctx, object, map[string]string{key: "a0N000000000002AAA"}); err != nil {
		t.Fatalf("the lease holder's Remember: %v", err)
	}
	if err := pairs(tokA).Remember(ctx, object, map[string]string{key: "a0N000000000001AAA"}); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("Remember of a replica that lost the lease: %v, want state.ErrLeaseLost", err)
	}
	got, err := pairs(tokB).Lookup(ctx, object, []string{key})
	if err != nil {
		t.Fatal(err)
	}
	if got[key] != "a0N000000000002AAA" {
		t.Errorf("key paired with %q, want the lease holder's a0N000000000002AAA", got[key])
	}
}

// TestLeaseLostWhileCreatingNotes: the run creating notes (an object with
// no External ID, created by POST) loses the job's lease right after the
// org created them, before their state is committed. The Salesforce
// connector says, through the job's routes, that those creates are not
// idempotent, so the job is locked out instead of handed over.
func TestLeaseLostWhileCreatingNotes(t *testing.T) {
	f := newNotesFixture(t, 3)
	ctx := context.Background()
	posted := false
	f.onRequest = func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects") {
			posted = true
		}
	}
	taken := false
	f.r.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p != reconcile.AfterWrite || !posted || taken {
			return nil
		}
		taken = true // this replica paused; another took the job
		if _, _, err := f.r.Store.BreakLease(ctx, "notes"); err != nil {
			t.Error(err)
		}
		if _, err := f.r.Store.Acquire(ctx, "notes", "host-b", time.Hour, time.Now()); err != nil {
			t.Error(err)
		}
		return nil
	}
	r := f.run(t, ctx)
	if !taken {
		t.Fatal("the run created no notes")
	}
	if !errors.Is(r.err, state.ErrLeaseLost) || !strings.Contains(r.err.Error(), "no external id") {
		t.Fatalf("run that lost its lease while creating notes: %v", r.err)
	}
	lo, ok, err := f.r.Store.Lockout(ctx, "notes")
	if err != nil || !ok {
		t.Fatalf("the job is not locked out (%v)", err)
	}
	if !strings.Contains(lo.Cause, noteObject) {
		t.Errorf("lockout cause %q does not name %s", lo.Cause, noteObject)
	}
}
