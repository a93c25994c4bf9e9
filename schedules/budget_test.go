package schedules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// budgetFixture is the cost fixture's job with api_budget set, on a
// runner that lives across runs as the daemon's does.
func budgetFixture(t *testing.T, budget string) (*Runner, *sftest.Org) {
	t.Helper()
	return configFixture(t, func(text string) string {
		return strings.Replace(text, "salesforce:\n", "salesforce:\n  api_budget: "+budget+"\n", 1)
	})
}

// configFixture is the cost fixture's job of two cases, its configuration
// changed by edit.
func configFixture(t *testing.T, edit func(string) string) (*Runner, *sftest.Org) {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cases.csv"), []byte("Case ID,Name,Stage\nC-1,ทดสอบ 1,Active\nC-2,ทดสอบ 2,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(costConfig, "FAKE_ORG_URL", srv.URL)
	text = edit(text)
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, org
}

// TestCountBudgetPerRun (issue 14): api_budget: 8 is each run's, not the
// process's: a daemon's runner runs the job again and again (it stopped
// from the fourth run when the calls of the process's life were counted).
func TestCountBudgetPerRun(t *testing.T) {
	r, _ := budgetFixture(t, "8")
	for i := 1; i <= 6; i++ {
		res, err := r.Run(context.Background(), "cases", RunOptions{})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if calls := res.Result.APICalls; calls > 8 {
			t.Fatalf("run %d made %d calls, over its budget of 8", i, calls)
		}
	}
}

// TestShareBudgetRecovers (issue 14): with api_budget: 20%, a run refused
// because the org's usage is over the share does not stop the daemon for
// good: once the org's usage falls, the next run of the same runner goes
// on. Each run reads the org's figures at its start.
func TestShareBudgetRecovers(t *testing.T) {
	r, org := budgetFixture(t, "20%")
	ctx := context.Background()
	if _, err := r.Run(ctx, "cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	_, limit := org.APIUsage()
	org.SetAPIUsage(limit / 2) // another integration's busy morning
	if _, err := r.Run(ctx, "cases", RunOptions{}); !errors.Is(err, salesforce.ErrBudget) {
		t.Fatalf("org at half its limit, budget 20%%: err = %v, want ErrBudget", err)
	}
	org.SetAPIUsage(limit / 100) // a day later
	res, err := r.Run(ctx, "cases", RunOptions{})
	if err != nil {
		t.Fatalf("the run after the org's usage fell: %v", err)
	}
	if res.Usage == nil || res.Usage.Used > int64(limit/100+5) {
		t.Errorf("usage after the run = %+v, want the org's figures of now", res.Usage)
	}
}
