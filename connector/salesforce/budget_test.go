package salesforce

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// call makes one API call (the global describe) with ctx.
func call(ctx context.Context, c *Connector) error {
	return c.cl.do(ctx, request{op: "sobjects", method: http.MethodGet, path: c.cl.dataPath("sobjects"), retrySafe: true}, nil)
}

// TestStartRunShareBudget (issue 14): a share budget is checked against the
// org's figures read at the start of each run. A connector stopped by the
// budget stays stopped while its figures say so, and runs again at the
// next run once the org's usage has fallen; a run whose start finds the
// org over the share is refused, whatever the figures held before said.
func TestStartRunShareBudget(t *testing.T) {
	org, c := fakeOrg(t, func(o *Options) { o.Budget = 0.5 })
	org.SetDailyLimit(100)
	org.SetAPIUsage(48)
	ctx, err := c.StartRun(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if used, limit := c.Usage().Used, c.Usage().Limit; used != 49 || limit != 100 {
		t.Fatalf("StartRun read %d/%d, want the org's 49/100 (its /limits call included)", used, limit)
	}
	var stop error
	for range 5 {
		if stop = call(ctx, c); stop != nil {
			break
		}
	}
	if !errors.Is(stop, ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", stop)
	}
	if used, _ := org.APIUsage(); used != 50 {
		t.Fatalf("org usage %d, want the budget's 50", used)
	}

	// Hours later the org's rolling usage has fallen. Without a new run
	// the connector's figures still say 50 of 100.
	org.SetAPIUsage(10)
	if err := call(ctx, c); !errors.Is(err, ErrBudget) {
		t.Fatalf("same run: err = %v, want ErrBudget", err)
	}
	ctx, err = c.StartRun(context.Background())
	if err != nil {
		t.Fatalf("StartRun while the figures held are over the budget: %v", err)
	}
	if err := call(ctx, c); err != nil {
		t.Fatalf("the next run after the org's usage fell: %v", err)
	}

	// Another integration used the org meanwhile: the figures held (12 of
	// 100) are stale, the run's start reads the org's.
	org.SetAPIUsage(70)
	ctx, err = c.StartRun(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := call(ctx, c); !errors.Is(err, ErrBudget) {
		t.Fatalf("org at 71 of 100, budget 50%%: err = %v, want ErrBudget", err)
	}
	if used, _ := org.APIUsage(); used != 71 {
		t.Errorf("org usage %d, want 71 (the /limits call only)", used)
	}
}

// TestStartRunCountBudget (issue 14): a count budget counts each run's
// calls from zero, runs going on together each their own, while
// Usage().Calls counts every call of the process.
func TestStartRunCountBudget(t *testing.T) {
	_, c := fakeOrg(t, func(o *Options) { o.MaxCalls = 3 })
	calls0 := c.Usage().Calls
	for run := 1; run <= 4; run++ {
		ctx, err := c.StartRun(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if err := call(ctx, c); err != nil {
				t.Fatalf("run %d, call %d: %v", run, i, err)
			}
		}
		if err := call(ctx, c); !errors.Is(err, ErrBudget) {
			t.Fatalf("run %d, call 4: err = %v, want ErrBudget", run, err)
		}
	}
	if got := c.Usage().Calls - calls0; got != 12 {
		t.Errorf("Usage().Calls grew by %d, want 12", got)
	}
	a, _ := c.StartRun(context.Background())
	b, _ := c.StartRun(context.Background())
	for i := range 3 {
		if err := call(a, c); err != nil {
			t.Fatalf("run a, call %d: %v", i+1, err)
		}
		if err := call(b, c); err != nil {
			t.Fatalf("run b, call %d (interleaved with a): %v", i+1, err)
		}
	}
	if err := call(a, c); !errors.Is(err, ErrBudget) {
		t.Errorf("run a, call 4: %v", err)
	}
}

// TestStartRunLimitsRefused: a user without View Setup and Configuration
// is refused GET /limits. The run goes on, checked from the figures of its
// first response (the stale ones are forgotten), and later runs do not
// ask again.
func TestStartRunLimitsRefused(t *testing.T) {
	org := sftest.New(sftest.Options{})
	var limitsCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/limits") {
			limitsCalls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`[{"message":"The REST API resource limits requires View Setup and Configuration","errorCode":"INSUFFICIENT_ACCESS"}]`))
			return
		}
		org.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := connectFake(t, srv, func(o *Options) { o.Budget = 0.5 })
	org.SetDailyLimit(100)
	org.SetAPIUsage(60)
	ctx, err := c.StartRun(context.Background())
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	if err := call(ctx, c); err != nil { // figures unknown: sent, and read
		t.Fatal(err)
	}
	if err := call(ctx, c); !errors.Is(err, ErrBudget) {
		t.Fatalf("org at 61 of 100: err = %v, want ErrBudget", err)
	}
	org.SetAPIUsage(10)
	for range 2 {
		ctx, err = c.StartRun(context.Background())
		if err != nil {
			t.Fatalf("StartRun: %v", err)
		}
		if err := call(ctx, c); err != nil {
			t.Fatalf("a run after the usage fell: %v", err)
		}
	}
	if n := limitsCalls.Load(); n != 1 {
		t.Errorf("/limits asked %d times, want once", n)
	}
}
