package schedules

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestTwoSchedulersOneRun: two replicas (two runners and schedulers on one
// state store) fire the same job; each scheduled time runs exactly once.
func TestTwoSchedulersOneRun(t *testing.T) {
	a, _, _ := newTestRunner(t, thConfig)
	a.Holder = "replica-a"
	b := &Runner{Config: a.Config, Log: zerolog.Nop(), Store: a.Store, FP: a.FP, Salesforce: a.Salesforce, Holder: "replica-b"}

	var mu sync.Mutex
	outcomes := map[time.Time][]string{} // scheduled time -> "ran" / "claimed", one per replica
	runWith := func(r *Runner) RunFunc {
		return func(ctx context.Context, job string) error {
			at, ok := ScheduledAt(ctx)
			if !ok {
				t.Error("a scheduled run's context has no scheduled time")
			}
			_, err := r.Run(ctx, job, RunOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				outcomes[at.UTC()] = append(outcomes[at.UTC()], "ran")
			case errors.Is(err, ErrRunClaimed):
				outcomes[at.UTC()] = append(outcomes[at.UTC()], "claimed")
			case errors.Is(err, ErrLocked):
				// Claimed, but the previous run (of the other replica)
				// still held the job's lease: a slow machine.
				outcomes[at.UTC()] = append(outcomes[at.UTC()], "locked")
			default:
				t.Errorf("%s: %v", r.Holder, err)
			}
			return err
		}
	}
	sa, sb := New(zerolog.Nop(), runWith(a)), New(zerolog.Nop(), runWith(b))
	for _, s := range []*Scheduler{sa, sb} {
		if err := s.Add("th_cases", every(t, "@every 1s")); err != nil {
			t.Fatal(err)
		}
		s.Start()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		both := 0
		for _, o := range outcomes {
			if len(o) == 2 {
				both++
			}
		}
		mu.Unlock()
		if both >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range []*Scheduler{sa, sb} {
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ran := 0
	both := 0
	for at, o := range outcomes {
		n := 0
		for _, x := range o {
			if x == "ran" {
				n++
			}
		}
		if n != 1 && !(n == 0 && slices.Contains(o, "locked")) {
			t.Errorf("run scheduled at %s: %v, want exactly one run", at.Format(time.RFC3339), o)
		}
		if len(o) == 2 {
			both++
			if claimed := len(o) - len(slices.DeleteFunc(slices.Clone(o), func(x string) bool { return x == "claimed" })); claimed != 1 {
				t.Errorf("run scheduled at %s: %v, want one replica to find it claimed", at.Format(time.RFC3339), o)
			}
		}
		ran += n
	}
	if both == 0 {
		t.Fatalf("the two schedulers never fired the same time: %v", outcomes)
	}
	runs, err := a.Store.Runs(context.Background(), "th_cases", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != ran {
		t.Errorf("%d runs in the history, %d scheduled times ran", len(runs), ran)
	}
}

func TestAlignedEvery(t *testing.T) {
	s := every(t, "@every 15m")
	c := cronSchedule(s)
	for _, start := range []time.Time{
		time.Date(2026, 3, 1, 10, 2, 3, 4, time.UTC),
		time.Date(2026, 3, 1, 10, 14, 59, 0, time.UTC),
	} {
		if got, want := c.Next(start), time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("Next(%s) = %s, want %s: replicas started at different times must fire together", start, got, want)
		}
	}
	if got := c.Next(time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("Next(10:15) = %s", got)
	}
}

func TestScheduledTimeInZone(t *testing.T) {
	s := every(t, "CRON_TZ=Asia/Bangkok 30 2 * * *")
	prev := time.Date(2026, 2, 28, 19, 30, 0, 0, time.UTC) // 02:30 in Bangkok
	got := scheduledTime(prev, prev.Add(time.Second), s)
	if got.Format("15:04") != "02:30" || !got.Equal(prev) {
		t.Errorf("scheduledTime = %s, want 02:30 Bangkok time", got)
	}
}
