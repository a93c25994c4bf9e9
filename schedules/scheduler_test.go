package schedules

import (
	"context"
	"errors"
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
