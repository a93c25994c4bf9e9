package schedules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
)

func every(t *testing.T, spec string) config.Schedule {
	t.Helper()
	s, err := config.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchedulerRecoversPanics runs a job every second that panics on its
// first run and checks that the scheduler keeps firing it.
func TestSchedulerRecoversPanics(t *testing.T) {
	var runs atomic.Int32
	s := New(zerolog.Nop(), func(ctx context.Context, job string) error {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		return errors.New("failing is logged, not fatal")
	})
	if err := s.Add("j", every(t, "@every 1s")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("j", every(t, "@every 1s")); err == nil {
		t.Error("adding a job twice: want an error")
	}
	if err := s.Add("unscheduled", config.Schedule{}); err == nil {
		t.Error("no schedule: want an error")
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if runs.Load() < 2 {
		t.Fatalf("job ran %d times; the panic stopped the scheduler", runs.Load())
	}
}

// TestSchedulerStopCancelsRuns checks that Stop cancels a running job's
// context and waits for it.
func TestSchedulerStopCancelsRuns(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	s := New(zerolog.Nop(), func(ctx context.Context, job string) error {
		close(started)
		<-ctx.Done()
		finished.Store(true)
		return ctx.Err()
	})
	if err := s.Add("long", every(t, "@every 1s")); err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("job never started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Stop returned before the run finished")
	}
}

// syncBuffer is a log destination safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b.b.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSchedulerStopIsNoFailure (issue 14): a run that Stop cancels (the
// daemon's SIGTERM) is logged at warn level as stopped by the shutdown,
// not as a failed run at error level ("context canceled"); a run that
// fails on its own is still an error.
func TestSchedulerStopIsNoFailure(t *testing.T) {
	var buf syncBuffer
	started := make(chan struct{})
	var runs atomic.Int32
	s := New(zerolog.New(&buf), func(ctx context.Context, job string) error {
		if runs.Add(1) == 1 {
			return errors.New("job long: source s: boom")
		}
		close(started)
		<-ctx.Done()
		return fmt.Errorf("job long: read salesforce: %w", ctx.Err())
	})
	if err := s.Add("long", every(t, "@every 1s")); err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the second run never started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var failed, stopped int
	for _, m := range buf.lines(t) {
		switch {
		case m["message"] == "scheduled run failed":
			failed++
			if m["level"] != "error" || m["error"] != "job long: source s: boom" {
				t.Errorf("the failed run: %v", m)
			}
		case m["message"] == MsgStoppedByShutdown:
			stopped++
			if m["level"] != "warn" || m["job"] != "long" {
				t.Errorf("the run stopped by Stop: %v", m)
			}
		case m["level"] == "error":
			t.Errorf("logged at error level: %v", m)
		}
	}
	if failed != 1 || stopped != 1 {
		t.Errorf("%d failed and %d stopped runs logged, want 1 and 1:\n%s", failed, stopped, buf.b.String())
	}
}

// orderYAML lists a cases job before the partners job writing the
// accounts its lookups search; both are due every second.
const orderYAML = `version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: y }
sources:
  s: { kind: csv, path: s.csv }
jobs:
  cases:
    schedule: "@every 1s"
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: vcms__Partner_Code__c }, direction: to_salesforce }
  partners:
    schedule: "@every 1s"
    salesforce: { object: Account, key: vcms__Partner_Code__c }
    local: { source: s, key: code }
    fields:
      - { sf: Name, local: name }
`

// TestSchedulerJobOrder: jobs due at the same time run in the
// configuration's job order: the cases job, listed first, starts only
// once the partners job's run of that time is over.
func TestSchedulerJobOrder(t *testing.T) {
	cfg, err := config.Parse("casebridge.yaml", []byte(orderYAML), config.Options{BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if names := cfg.JobNames(); names[0] != "cases" {
		t.Fatalf("the configuration lists %v; the test wants cases first", names)
	}
	type event struct {
		job   string
		at    time.Time
		start bool
	}
	var mu sync.Mutex
	var events []event
	casesRuns := 0
	s := New(zerolog.Nop(), func(ctx context.Context, job string) error {
		at, _ := ScheduledAt(ctx)
		mu.Lock()
		events = append(events, event{job, at, true})
		mu.Unlock()
		if job == "partners" {
			time.Sleep(300 * time.Millisecond) // a run that takes a while
		}
		mu.Lock()
		events = append(events, event{job, at, false})
		if job == "cases" {
			casesRuns++
		}
		mu.Unlock()
		return nil
	})
	s.SetOrder(cfg.RunsAfter)
	for _, name := range cfg.JobNames() {
		if err := s.Add(name, cfg.Jobs[name].Schedule); err != nil {
			t.Fatal(err)
		}
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := casesRuns
		mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if casesRuns < 2 {
		t.Fatalf("cases ran %d times in 10s", casesRuns)
	}
	partnersDone := map[time.Time]bool{}
	checked := 0
	for _, e := range events {
		switch {
		case e.job == "partners" && !e.start:
			partnersDone[e.at.UTC()] = true
		case e.job == "cases" && e.start:
			if !partnersDone[e.at.UTC()] {
				t.Errorf("cases' run of %s started before partners' run of that time was over", e.at.Format(time.TimeOnly))
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no cases run checked")
	}
}
