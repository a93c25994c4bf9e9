// Package storetest is the one suite every state.Store passes. A store's
// test calls Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
)

// Opener returns a fresh, empty store; reopen, when not nil, returns a new
// handle on the same database (to check that state survives a restart).
type Opener func(t *testing.T) (s state.Store, reopen func() state.Store)

var t0 = time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s state.Store, reopen func() state.Store)
	}{
		{"KeyID", testKeyID},
		{"Records", testRecords},
		{"Rollback", testRollback},
		{"Cursors", testCursors},
		{"Pending", testPending},
		{"Conflicts", testConflicts},
		{"Tombstones", testTombstones},
		{"Runs", testRuns},
		{"RunStage", testRunStage},
		{"InterruptRuns", testInterruptRuns},
		{"Errors", testErrors},
		{"JobsIsolated", testJobsIsolated},
		{"Reopen", testReopen},
		{"Leases", testLeases},
		{"LeaseOfDeadHolder", testLeaseOfDeadHolder},
		{"BreakLease", testBreakLease},
		{"BulkJobs", testBulkJobs},
		{"Lockouts", testLockouts},
		{"ClaimRun", testClaimRun},
		{"ClaimRunConcurrent", testClaimRunConcurrent},
		{"LookupIDs", testLookupIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, reopen := open(t)
			tc.fn(t, s, reopen)
		})
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testKeyID(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.CheckKeyID(ctx, "k1"))
	must(t, s.CheckKeyID(ctx, "k1"))
	if err := s.CheckKeyID(ctx, "k2"); !errors.Is(err, state.ErrKeyMismatch) {
		t.Fatalf("CheckKeyID(other) = %v, want ErrKeyMismatch", err)
	}
}

func rec(key string, n int) state.RecordState {
	rs := state.RecordState{Key: key, SFKey: key, LocalKey: key}
	for i := range n {
		f := state.Fingerprint(uint64(i+1) * 0x9e3779b97f4a7c15)
		rs.SetField(state.FieldState{Field: fmt.Sprintf("f%02d__c", n-i), Base: f, SF: f + 1, Local: f + 2, Rule: ^f})
	}
	return rs
}

func all(t *testing.T, s state.Store, job string) map[string]state.RecordState {
	t.Helper()
	out := map[string]state.RecordState{}
	must(t, s.Records(ctx, job, func(rs state.RecordState) error {
		if _, dup := out[rs.Key]; dup {
			t.Errorf("key %s listed twice", rs.Key)
		}
		out[rs.Key] = rs
		return nil
	}))
	return out
}

func equalRec(a, b state.RecordState) bool {
	return a.Key == b.Key && a.SFKey == b.SFKey && a.LocalKey == b.LocalKey && a.Flags == b.Flags && slices.Equal(a.Fields, b.Fields) &&
		string(a.Salt) == string(b.Salt)
}

func testRecords(t *testing.T, s state.Store, _ func() state.Store) {
	a := rec("ngo-th-cm:th-0001", 3)
	a.Salt = []byte("0123456789abcdef") // bound fingerprints (format 2)
	b := rec("ngo-kh-bb:សួស្តី", 1)     // a record written before they were (format 1)
	b.Flags = state.FlagLocalDeleted
	b.LocalKey = "NGO-KH-BB:សួស្តី"
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.PutRecord(a))
		return tx.PutRecord(b)
	}))
	if got := all(t, s, "j"); len(got) != 2 || !equalRec(got[a.Key], a) || !equalRec(got[b.Key], b) {
		t.Fatalf("Records = %+v", got)
	}
	if !slices.IsSortedFunc(a.Fields, func(x, y state.FieldState) int { return cmpString(x.Field, y.Field) }) {
		t.Fatal("SetField does not keep fields sorted")
	}
	// Update replaces the whole record.
	a2 := rec(a.Key, 2)
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.PutRecord(a2) }))
	got, ok, err := s.Record(ctx, "j", a.Key)
	must(t, err)
	if !ok || !equalRec(got, a2) {
		t.Fatalf("Record after replace = %+v, %v", got, ok)
	}
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.DeleteRecord(a.Key) }))
	if _, ok, _ := s.Record(ctx, "j", a.Key); ok {
		t.Fatal("record still there after DeleteRecord")
	}
	if _, ok, _ := s.Record(ctx, "j", "absent"); ok {
		t.Fatal("Record(absent) ok")
	}
	bad := rec("bad-salt", 1)
	bad.Salt = []byte("short")
	if err := s.Update(ctx, "j", func(tx state.Tx) error { return tx.PutRecord(bad) }); err == nil {
		t.Fatal("a record with a salt of 5 bytes was stored")
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testRollback(t *testing.T, s state.Store, _ func() state.Store) {
	boom := errors.New("boom")
	err := s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.PutRecord(rec("a", 1)))
		must(t, tx.SetCursor("sf", "42"))
		must(t, tx.SetPending(state.Pending{Key: "a", Reason: state.ReasonFailedWrite, Since: t0}))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if len(all(t, s, "j")) != 0 {
		t.Fatal("record written by a failed transaction")
	}
	if c, _ := s.Cursor(ctx, "j", "sf"); c != "" {
		t.Fatal("cursor written by a failed transaction")
	}
	if p, _ := s.Pending(ctx, "j"); len(p) != 0 {
		t.Fatal("pending written by a failed transaction")
	}
}

func testCursors(t *testing.T, s state.Store, _ func() state.Store) {
	c, err := s.Cursor(ctx, "j", "sf")
	must(t, err)
	if c != "" {
		t.Fatalf("fresh cursor = %q", c)
	}
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.SetCursor("sf", "2026-03-01T00:00:00Z|001") }))
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.SetCursor("sf", "2026-03-02T00:00:00Z|002") }))
	if c, _ := s.Cursor(ctx, "j", "sf"); c != "2026-03-02T00:00:00Z|002" {
		t.Fatalf("cursor = %q", c)
	}
	if c, _ := s.Cursor(ctx, "j", "local"); c != "" {
		t.Fatalf("other cursor = %q", c)
	}
}

func testPending(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.SetPending(state.Pending{Key: "b", Reason: state.ReasonConflict, Since: t0}))
		must(t, tx.SetPending(state.Pending{Key: "a", Reason: state.ReasonFailedWrite, Code: "STRING_TOO_LONG", Since: t0}))
		must(t, tx.SetPending(state.Pending{Key: "a", Reason: state.ReasonFailedWrite, Code: "UNABLE_TO_LOCK_ROW", Since: t0.Add(time.Hour)}))
		return tx.SetPending(state.Pending{Key: "a", Reason: state.ReasonBudget, Since: t0})
	}))
	p, err := s.Pending(ctx, "j")
	must(t, err)
	want := []state.Pending{
		{Key: "a", Reason: state.ReasonBudget, Since: t0},
		{Key: "a", Reason: state.ReasonFailedWrite, Code: "UNABLE_TO_LOCK_ROW", Since: t0}, // since kept, code refreshed
		{Key: "b", Reason: state.ReasonConflict, Since: t0},
	}
	if !slices.Equal(p, want) {
		t.Fatalf("Pending = %+v\nwant %+v", p, want)
	}
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.ClearPending("a") }))
	p, _ = s.Pending(ctx, "j")
	if len(p) != 1 || p[0].Key != "b" {
		t.Fatalf("Pending after clear = %+v", p)
	}
}

func testConflicts(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		return tx.OpenConflict(state.Conflict{Key: "a", Field: "Stage__c", SF: 1, Local: 2, Opened: t0})
	}))
	// Re-opening refreshes the fingerprints and keeps the opening time.
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		return tx.OpenConflict(state.Conflict{Key: "a", Field: "Stage__c", SF: 3, Local: 4, Opened: t0.Add(time.Hour)})
	}))
	c, err := s.Conflicts(ctx, "j")
	must(t, err)
	if len(c) != 1 || c[0] != (state.Conflict{Key: "a", Field: "Stage__c", SF: 3, Local: 4, Opened: t0}) {
		t.Fatalf("Conflicts = %+v", c)
	}
	if err := s.ResolveConflict(ctx, "j", "a", "Other__c", state.SideLocal, t0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("ResolveConflict(absent) = %v", err)
	}
	if err := s.ResolveConflict(ctx, "j", "a", "Stage__c", "both", t0); err == nil {
		t.Fatal("ResolveConflict(bad side) succeeded")
	}
	must(t, s.ResolveConflict(ctx, "j", "a", "Stage__c", state.SideLocal, t0.Add(2*time.Hour)))
	// A refresh after resolution keeps the resolution.
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		return tx.OpenConflict(state.Conflict{Key: "a", Field: "Stage__c", SF: 5, Local: 6, Opened: t0})
	}))
	c, _ = s.Conflicts(ctx, "j")
	if len(c) != 1 || c[0].Resolution != state.SideLocal || !c[0].Resolved.Equal(t0.Add(2*time.Hour)) || c[0].SF != 5 {
		t.Fatalf("Conflicts after resolve = %+v", c)
	}
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.CloseConflict("a", "Stage__c") }))
	must(t, s.Update(ctx, "j", func(tx state.Tx) error { return tx.CloseConflict("a", "Stage__c") }))
	if c, _ := s.Conflicts(ctx, "j"); len(c) != 0 {
		t.Fatalf("Conflicts after close = %+v", c)
	}
}

func testTombstones(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.AddTombstone("Case__c", "h1", t0))
		must(t, tx.AddTombstone("Case__c", "h1", t0.Add(time.Hour))) // first time kept
		return tx.AddTombstone("Other__c", "h2", t0)
	}))
	ts, err := s.Tombstones(ctx, "Case__c")
	must(t, err)
	if len(ts) != 1 || !ts["h1"].Equal(t0) {
		t.Fatalf("Tombstones = %v", ts)
	}
	// Forgotten, in its scope only.
	if ok, err := s.ForgetTombstone(ctx, "Other__c", "h1"); err != nil || ok {
		t.Fatalf("ForgetTombstone(other scope) = %v, %v", ok, err)
	}
	if ok, err := s.ForgetTombstone(ctx, "Case__c", "h1"); err != nil || !ok {
		t.Fatalf("ForgetTombstone = %v, %v", ok, err)
	}
	if ts, err := s.Tombstones(ctx, "Case__c"); err != nil || len(ts) != 0 {
		t.Fatalf("after forget: %v, %v", ts, err)
	}
	if ts, err := s.Tombstones(ctx, "Other__c"); err != nil || len(ts) != 1 {
		t.Fatalf("the other scope's: %v, %v", ts, err)
	}
}

func testRuns(t *testing.T, s state.Store, _ func() state.Store) {
	id1, err := s.StartRun(ctx, "j", t0)
	must(t, err)
	id2, err := s.StartRun(ctx, "j", t0.Add(time.Hour))
	must(t, err)
	if id2 <= id1 {
		t.Fatalf("run ids not increasing: %d then %d", id1, id2)
	}
	r := state.Run{ID: id1, Job: "j", Start: t0, End: t0.Add(time.Minute), Outcome: state.OutcomeOK,
		Counts: state.Counts{Read: 10, Creates: 1, Updates: 2, Deletes: 3, Conflicts: 4, Failures: 5, Unreadable: 6, Unmapped: 8}, APICalls: 7}
	must(t, s.FinishRun(ctx, r))
	if err := s.FinishRun(ctx, state.Run{ID: id2 + 100}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("FinishRun(absent) = %v", err)
	}
	runs, err := s.Runs(ctx, "j", 10)
	must(t, err)
	if len(runs) != 2 || runs[0].ID != id2 || runs[0].Outcome != state.OutcomeRunning || runs[1] != r {
		t.Fatalf("Runs = %+v", runs)
	}
	if runs, _ := s.Runs(ctx, "j", 1); len(runs) != 1 {
		t.Fatalf("Runs(limit 1) = %d runs", len(runs))
	}
}

// testRunStage: a failed run keeps the stage it stopped at, whether
// FinishRun records it or SetRunStage adds it to a run already finished
// (the engine finishes its runs; the runner knows their stage).
func testRunStage(t *testing.T, s state.Store, reopen func() state.Store) {
	id1, err := s.StartRun(ctx, "j", t0)
	must(t, err)
	id2, err := s.StartRun(ctx, "j", t0.Add(time.Hour))
	must(t, err)
	must(t, s.FinishRun(ctx, state.Run{ID: id1, Job: "j", Start: t0, End: t0.Add(time.Minute), Outcome: state.OutcomeFailed,
		Error: "job j: source cases: open cases.csv: no such file or directory", Stage: "source"}))
	must(t, s.FinishRun(ctx, state.Run{ID: id2, Job: "j", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Minute),
		Outcome: state.OutcomeFailed, Error: "job j: describe Case: HTTP 503"}))
	runs, err := s.Runs(ctx, "j", 10)
	must(t, err)
	if len(runs) != 2 || runs[1].ID != id1 || runs[1].Stage != "source" || runs[0].ID != id2 || runs[0].Stage != "" {
		t.Fatalf("Runs after FinishRun = %+v; want run %d at stage source, run %d at none", runs, id1, id2)
	}
	must(t, s.SetRunStage(ctx, id2, "salesforce"))
	if err := s.SetRunStage(ctx, id2+100, "sync"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("SetRunStage(absent) = %v, want ErrNotFound", err)
	}
	if reopen != nil {
		s = reopen()
	}
	runs, err = s.Runs(ctx, "j", 10)
	must(t, err)
	if len(runs) != 2 || runs[0].Stage != "salesforce" || runs[0].Error != "job j: describe Case: HTTP 503" ||
		runs[0].Outcome != state.OutcomeFailed || runs[1].Stage != "source" {
		t.Fatalf("Runs after SetRunStage = %+v; want run %d at stage salesforce, its error and outcome kept", runs, id2)
	}
}

func testErrors(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.LogError(state.RecordErr{RunID: 1, Key: "b", Field: "Name__c", Code: "STRING_TOO_LONG", Message: "max length 80", At: t0}))
		return tx.LogError(state.RecordErr{RunID: 2, Key: "a", Code: "UNABLE_TO_LOCK_ROW", At: t0})
	}))
	e, err := s.Errors(ctx, "j", 1)
	must(t, err)
	if len(e) != 1 || e[0] != (state.RecordErr{RunID: 1, Key: "b", Field: "Name__c", Code: "STRING_TOO_LONG", Message: "max length 80", At: t0}) {
		t.Fatalf("Errors(1) = %+v", e)
	}
	if e, _ := s.Errors(ctx, "j", 0); len(e) != 2 {
		t.Fatalf("Errors(all) = %+v", e)
	}
}

func testJobsIsolated(t *testing.T, s state.Store, _ func() state.Store) {
	must(t, s.Update(ctx, "j1", func(tx state.Tx) error {
		must(t, tx.PutRecord(rec("a", 1)))
		must(t, tx.SetCursor("sf", "1"))
		must(t, tx.SetPending(state.Pending{Key: "a", Reason: state.ReasonBudget, Since: t0}))
		return tx.OpenConflict(state.Conflict{Key: "a", Field: "x", Opened: t0})
	}))
	if len(all(t, s, "j2")) != 0 {
		t.Fatal("records leak between jobs")
	}
	if c, _ := s.Cursor(ctx, "j2", "sf"); c != "" {
		t.Fatal("cursors leak between jobs")
	}
	if p, _ := s.Pending(ctx, "j2"); len(p) != 0 {
		t.Fatal("pending leaks between jobs")
	}
	if c, _ := s.Conflicts(ctx, "j2"); len(c) != 0 {
		t.Fatal("conflicts leak between jobs")
	}
}

func testReopen(t *testing.T, s state.Store, reopen func() state.Store) {
	if reopen == nil {
		t.Skip("store cannot be reopened")
	}
	a := rec("a", 4)
	must(t, s.CheckKeyID(ctx, "k1"))
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		must(t, tx.PutRecord(a))
		return tx.SetCursor("sf", "9")
	}))
	must(t, s.Close())
	s2 := reopen()
	defer s2.Close()
	if err := s2.CheckKeyID(ctx, "k2"); !errors.Is(err, state.ErrKeyMismatch) {
		t.Fatalf("key id lost on reopen: %v", err)
	}
	got, ok, err := s2.Record(ctx, "j", "a")
	must(t, err)
	if !ok || !equalRec(got, a) {
		t.Fatalf("record after reopen = %+v", got)
	}
	if c, _ := s2.Cursor(ctx, "j", "sf"); c != "9" {
		t.Fatalf("cursor after reopen = %q", c)
	}
}

func testLeases(t *testing.T, s state.Store, _ func() state.Store) {
	ttl := time.Minute
	tok1, err := s.Acquire(ctx, "j", "host-a", ttl, t0)
	must(t, err)
	if _, err := s.Acquire(ctx, "j", "host-b", ttl, t0.Add(time.Second)); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("Acquire of a held lease = %v, want ErrLocked", err)
	}
	if _, err := s.Acquire(ctx, "other", "host-b", ttl, t0); err != nil {
		t.Fatalf("leases are per job: %v", err)
	}
	must(t, s.Renew(ctx, "j", tok1, ttl, t0.Add(50*time.Second)))
	// host-a pauses past its lease; host-b takes over with a larger token.
	tok2, err := s.Acquire(ctx, "j", "host-b", ttl, t0.Add(3*time.Minute))
	must(t, err)
	if tok2 <= tok1 {
		t.Fatalf("tokens not growing: %d then %d", tok1, tok2)
	}
	if err := s.Renew(ctx, "j", tok1, ttl, t0.Add(3*time.Minute)); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("Renew of a lost lease = %v", err)
	}
	// The stale holder's fenced write is refused and leaves nothing.
	err = s.Update(ctx, "j", func(tx state.Tx) error {
		if err := tx.Fence(tok1, t0.Add(3*time.Minute)); err != nil {
			return err
		}
		return tx.SetCursor("sf", "stale")
	})
	if !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("fenced write under a lost lease = %v", err)
	}
	if c, _ := s.Cursor(ctx, "j", "sf"); c != "" {
		t.Fatal("stale holder wrote")
	}
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		if err := tx.Fence(tok2, t0.Add(3*time.Minute)); err != nil {
			return err
		}
		return tx.SetCursor("sf", "fresh")
	}))
	// A child job's transactions are fenced by its parent's lease.
	must(t, s.Update(ctx, "j/child", func(tx state.Tx) error {
		if err := tx.FenceOn("j", tok2, t0.Add(3*time.Minute)); err != nil {
			return err
		}
		return tx.SetCursor("sf", "child")
	}))
	if err := s.Update(ctx, "j/child", func(tx state.Tx) error { return tx.FenceOn("j", tok1, t0.Add(3*time.Minute)) }); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("FenceOn under a lost lease = %v", err)
	}
	// Released: anyone may take it, and the token still grows.
	must(t, s.Release(ctx, "j", tok2))
	tok3, err := s.Acquire(ctx, "j", "host-a", ttl, t0.Add(4*time.Minute))
	must(t, err)
	if tok3 <= tok2 {
		t.Fatalf("token after release: %d, want > %d", tok3, tok2)
	}
	if err := s.Update(ctx, "j", func(tx state.Tx) error { return tx.Fence(tok3, t0.Add(10*time.Minute)) }); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("fence after expiry = %v", err)
	}
}

// deadPID returns the ID of a process of this machine that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("starting a process to outlive: %v", err)
	}
	return cmd.Process.Pid
}

// testLeaseOfDeadHolder (issue 14): a lease whose holder is a process of
// this host that is gone (a run killed by SIGKILL, a crash) is taken over
// at once; a live holder's, or one on another host, waits for its expiry.
func testLeaseOfDeadHolder(t *testing.T, s state.Store, _ func() state.Store) {
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no host name: %v", err)
	}
	dead := host + ":" + strconv.Itoa(deadPID(t))
	if !state.HolderGone(dead) {
		t.Skip("this platform cannot tell a process is gone")
	}
	tok1, err := s.Acquire(ctx, "j", dead, time.Hour, t0)
	must(t, err)
	tok2, err := s.Acquire(ctx, "j", "other-host:1", time.Hour, t0.Add(time.Second))
	if err != nil {
		t.Fatalf("Acquire of a lease held by %s, gone: %v", dead, err)
	}
	if tok2 <= tok1 {
		t.Fatalf("tokens not growing: %d then %d", tok1, tok2)
	}
	for _, holder := range []string{
		host + ":" + strconv.Itoa(os.Getppid()), // alive
		"some-other-host:" + strconv.Itoa(deadPID(t)),
		state.HolderName(), // this process
	} {
		job := "held-by-" + holder
		_, err := s.Acquire(ctx, job, holder, time.Hour, t0)
		must(t, err)
		if _, err := s.Acquire(ctx, job, "other-host:1", time.Hour, t0.Add(time.Second)); !errors.Is(err, state.ErrLocked) {
			t.Errorf("Acquire of a lease held by %s = %v, want ErrLocked", holder, err)
		}
	}
}

// testBreakLease: a person ends a job's lease whoever holds it; the
// holder's renewal and fenced writes fail, the next holder's token is
// larger.
func testBreakLease(t *testing.T, s state.Store, _ func() state.Store) {
	if _, ok, err := s.BreakLease(ctx, "j"); err != nil || ok {
		t.Fatalf("BreakLease of a lease never taken = %v, %v", ok, err)
	}
	tok1, err := s.Acquire(ctx, "j", "host-a:42", time.Hour, t0)
	must(t, err)
	l, ok, err := s.Lease(ctx, "j")
	if err != nil || !ok || l.Holder != "host-a:42" || l.Token != tok1 || !l.Expires.Equal(t0.Add(time.Hour)) || !l.Live(t0) {
		t.Fatalf("Lease = %+v, %v, %v", l, ok, err)
	}
	l, ok, err = s.BreakLease(ctx, "j")
	if err != nil || !ok || l.Holder != "host-a:42" || !l.Live(t0) {
		t.Fatalf("BreakLease = %+v, %v, %v; want the lease as it was", l, ok, err)
	}
	if l, _, _ := s.Lease(ctx, "j"); l.Live(t0) {
		t.Fatalf("lease after BreakLease: %+v, still live", l)
	}
	if err := s.Renew(ctx, "j", tok1, time.Hour, t0.Add(time.Minute)); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("Renew after BreakLease = %v, want ErrLeaseLost", err)
	}
	tok2, err := s.Acquire(ctx, "j", "host-b:7", time.Hour, t0.Add(time.Minute))
	must(t, err)
	if tok2 <= tok1 {
		t.Fatalf("token after BreakLease: %d, want > %d", tok2, tok1)
	}
}

func testBulkJobs(t *testing.T, s state.Store, reopen func() state.Store) {
	b1 := state.BulkJob{Job: "j", Object: "Case__c", Operation: "upsert", ID: "7508d00000AbCdEAAA", Created: t0.Add(time.Minute)}
	b2 := state.BulkJob{Job: "j", Object: "Case__c", Operation: "delete", ID: "7508d00000AbCdFAAA", Created: t0}
	must(t, s.AddBulkJob(ctx, b1))
	must(t, s.AddBulkJob(ctx, b1)) // recorded twice: one entry
	must(t, s.AddBulkJob(ctx, b2))
	must(t, s.AddBulkJob(ctx, state.BulkJob{Job: "other", Object: "Case__c", Operation: "upsert", ID: "7508d00000AbCdGAAA", Created: t0}))
	got, err := s.BulkJobs(ctx, "j")
	must(t, err)
	if !slices.Equal(got, []state.BulkJob{b2, b1}) {
		t.Fatalf("BulkJobs = %+v, want oldest first %+v", got, []state.BulkJob{b2, b1})
	}
	if reopen != nil {
		must(t, s.Close())
		s = reopen()
	}
	must(t, s.RemoveBulkJob(ctx, "j", b2.ID))
	must(t, s.RemoveBulkJob(ctx, "j", b2.ID))
	if got, _ := s.BulkJobs(ctx, "j"); !slices.Equal(got, []state.BulkJob{b1}) {
		t.Fatalf("BulkJobs after remove = %+v", got)
	}
	if got, _ := s.BulkJobs(ctx, "other"); len(got) != 1 {
		t.Fatalf("bulk jobs not kept per job: %+v", got)
	}
}

func testLockouts(t *testing.T, s state.Store, reopen func() state.Store) {
	if _, ok, err := s.Lockout(ctx, "j"); ok || err != nil {
		t.Fatalf("fresh Lockout = %v, %v", ok, err)
	}
	first := state.Lockout{Job: "j", Cause: "state commit after a write failed", RunID: 7, Since: t0}
	must(t, s.LockOut(ctx, first))
	// A second critical error keeps the first cause.
	must(t, s.LockOut(ctx, state.Lockout{Job: "j", Cause: "later", RunID: 8, Since: t0.Add(time.Hour)}))
	if reopen != nil {
		must(t, s.Close())
		s = reopen()
	}
	got, ok, err := s.Lockout(ctx, "j")
	must(t, err)
	if !ok || got != first {
		t.Fatalf("Lockout = %+v, %v; want %+v", got, ok, first)
	}
	if _, ok, _ := s.Lockout(ctx, "other"); ok {
		t.Fatal("lockouts leak between jobs")
	}
	must(t, s.ClearLockout(ctx, "j"))
	must(t, s.ClearLockout(ctx, "j"))
	if _, ok, _ := s.Lockout(ctx, "j"); ok {
		t.Fatal("still locked out after ClearLockout")
	}
}

func claim(t *testing.T, s state.Store, job string, at time.Time, holder string) bool {
	t.Helper()
	ok, err := s.ClaimRun(ctx, job, at, holder)
	must(t, err)
	return ok
}

func testClaimRun(t *testing.T, s state.Store, reopen func() state.Store) {
	if !claim(t, s, "j", t0, "host-a") {
		t.Fatal("first claim refused")
	}
	if claim(t, s, "j", t0, "host-b") || claim(t, s, "j", t0, "host-a") {
		t.Fatal("a run claimed twice")
	}
	if !claim(t, s, "other", t0, "host-b") || !claim(t, s, "j", t0.Add(time.Minute), "host-b") {
		t.Fatal("claims are per job and scheduled time")
	}
	if reopen != nil {
		must(t, s.Close())
		s = reopen()
	}
	if claim(t, s, "j", t0, "host-c") {
		t.Fatal("claim lost on reopen")
	}
	// The repeated hour at the end of daylight saving time: 01:30 at
	// UTC-4, then 01:30 again an hour later at UTC-5. One wall time, one
	// run.
	edt, est := time.FixedZone("EDT", -4*3600), time.FixedZone("EST", -5*3600)
	first := time.Date(2026, 11, 1, 1, 30, 0, 0, edt)
	second := time.Date(2026, 11, 1, 1, 30, 0, 0, est)
	if second.Sub(first) != time.Hour {
		t.Fatal("test times are not an hour apart")
	}
	if !claim(t, s, "dst", first, "host-a") || claim(t, s, "dst", second, "host-a") {
		t.Fatal("the repeated hour's second 01:30 was claimed again")
	}
	// Old claims are forgotten; a claim's time must be given.
	if !claim(t, s, "j", t0.Add(40*24*time.Hour), "host-a") {
		t.Fatal("claim refused")
	}
	if !claim(t, s, "j", t0, "host-d") {
		t.Error("a 40-day-old claim was not forgotten")
	}
	if _, err := s.ClaimRun(ctx, "j", time.Time{}, "host-a"); err == nil {
		t.Error("ClaimRun without a time succeeded")
	}
}

// testClaimRunConcurrent: replicas racing for one run; exactly one wins.
func testClaimRunConcurrent(t *testing.T, s state.Store, _ func() state.Store) {
	const n = 8
	wins := make(chan bool, n)
	for i := range n {
		go func() {
			ok, err := s.ClaimRun(ctx, "j", t0, fmt.Sprintf("host-%d", i))
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	won := 0
	for range n {
		if <-wins {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing claims won, want 1", won, n)
	}
}

// testLookupIDs: the lookup cache keeps an Id per value hash and scope,
// replaces an entry's Id, survives a reopen, and forgets the entries of a
// deleted record's Id, or a whole scope, in that scope only.
func testLookupIDs(t *testing.T, s state.Store, reopen func() state.Store) {
	const acc, user = "account.vcms__external_key__c", "user.email"
	got, err := s.LookupIDs(ctx, acc)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("LookupIDs(empty) = %v", got)
	}
	must(t, s.PutLookupIDs(ctx, acc, map[string]string{"h1": "001A", "h2": "001B", "h3": "001B"}, t0))
	must(t, s.PutLookupIDs(ctx, acc, map[string]string{"h1": "001C"}, t0.Add(time.Hour))) // replaced
	must(t, s.PutLookupIDs(ctx, user, map[string]string{"h1": "005A"}, t0))
	must(t, s.PutLookupIDs(ctx, user, nil, t0))
	if got, err = s.LookupIDs(ctx, acc); err != nil || !maps.Equal(got, map[string]string{"h1": "001C", "h2": "001B", "h3": "001B"}) {
		t.Fatalf("LookupIDs = %v, %v", got, err)
	}
	if reopen != nil {
		must(t, s.Close())
		s = reopen()
		defer s.Close()
	}
	// A deleted target: every value that resolved to it, in its scope.
	if n, err := s.ForgetLookupIDs(ctx, acc, "001B", "001Z"); err != nil || n != 2 {
		t.Fatalf("ForgetLookupIDs(001B) = %d, %v; want 2", n, err)
	}
	if n, err := s.ForgetLookupIDs(ctx, user, "001C"); err != nil || n != 0 {
		t.Fatalf("ForgetLookupIDs(another scope's id) = %d, %v; want 0", n, err)
	}
	if got, err = s.LookupIDs(ctx, acc); err != nil || !maps.Equal(got, map[string]string{"h1": "001C"}) {
		t.Fatalf("after forgetting 001B: %v, %v", got, err)
	}
	// --full: the whole scope.
	if n, err := s.ForgetLookupIDs(ctx, acc); err != nil || n != 1 {
		t.Fatalf("ForgetLookupIDs(scope) = %d, %v; want 1", n, err)
	}
	if got, err = s.LookupIDs(ctx, acc); err != nil || len(got) != 0 {
		t.Fatalf("after forgetting the scope: %v, %v", got, err)
	}
	if got, err = s.LookupIDs(ctx, user); err != nil || !maps.Equal(got, map[string]string{"h1": "005A"}) {
		t.Fatalf("the other scope's entries: %v, %v", got, err)
	}

	// A pairing scope: an Id keeps only the hashes listed for it, in its
	// scope; other Ids, and an Id listed with none, as told.
	const pair = "id:note"
	must(t, s.PutLookupIDs(ctx, pair, map[string]string{"k1": "a0A", "k2": "a0A", "mark": "a0A", "k3": "a0B", "k4": "a0C", "k5": "a0C"}, t0))
	must(t, s.PutLookupIDs(ctx, user, map[string]string{"k1": "a0A"}, t0))
	must(t, s.Update(ctx, "j", func(tx state.Tx) error {
		return tx.ForgetOtherLookupIDs(pair, map[string][]string{"a0A": {"k2", "mark"}, "a0C": nil, "a0Z": {"k9"}})
	}))
	if got, err = s.LookupIDs(ctx, pair); err != nil || !maps.Equal(got, map[string]string{"k2": "a0A", "mark": "a0A", "k3": "a0B"}) {
		t.Fatalf("after ForgetOtherLookupIDs: %v, %v", got, err)
	}
	if got, err = s.LookupIDs(ctx, user); err != nil || !maps.Equal(got, map[string]string{"h1": "005A", "k1": "a0A"}) {
		t.Fatalf("ForgetOtherLookupIDs touched another scope: %v, %v", got, err)
	}
}

// testInterruptRuns: the runs of a job and of its children that a killed
// process left running are closed as failed; finished runs, other jobs'
// runs and a job whose name merely starts alike are left alone.
func testInterruptRuns(t *testing.T, s state.Store, _ func() state.Store) {
	t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	start := func(job string) int64 {
		id, err := s.StartRun(ctx, job, t0)
		must(t, err)
		return id
	}
	done := start("th_cases")
	must(t, s.FinishRun(ctx, state.Run{ID: done, Job: "th_cases", Start: t0, End: t0.Add(time.Minute), Outcome: state.OutcomeOK}))
	parent, child := start("th_cases"), start("th_cases/stipend")
	other, alike, wild, upper := start("bd_cases"), start("th_cases2"), start("th%cases/x"), start("TH_CASES/x")
	ids, err := s.InterruptRuns(ctx, "th_cases", t0.Add(time.Hour), "interrupted")
	must(t, err)
	if !slices.Equal(ids, []int64{parent, child}) {
		t.Fatalf("InterruptRuns closed %v, want %v", ids, []int64{parent, child})
	}
	for _, c := range []struct {
		job  string
		id   int64
		want state.Outcome
	}{{"th_cases", done, state.OutcomeOK}, {"th_cases", parent, state.OutcomeFailed}, {"th_cases/stipend", child, state.OutcomeFailed},
		{"bd_cases", other, state.OutcomeRunning}, {"th_cases2", alike, state.OutcomeRunning}, {"th%cases/x", wild, state.OutcomeRunning},
		{"TH_CASES/x", upper, state.OutcomeRunning}} {
		runs, err := s.Runs(ctx, c.job, 10)
		must(t, err)
		var got *state.Run
		for i := range runs {
			if runs[i].ID == c.id {
				got = &runs[i]
			}
		}
		if got == nil || got.Outcome != c.want {
			t.Errorf("run %d of %s: %+v, want outcome %s", c.id, c.job, got, c.want)
			continue
		}
		if c.want == state.OutcomeFailed && (got.Error != "interrupted" || !got.End.Equal(t0.Add(time.Hour))) {
			t.Errorf("closed run %d: error %q, end %v", c.id, got.Error, got.End)
		}
	}
	if ids, err := s.InterruptRuns(ctx, "th_cases", t0.Add(2*time.Hour), "again"); err != nil || len(ids) != 0 {
		t.Errorf("second InterruptRuns = %v, %v; want nothing", ids, err)
	}
}
