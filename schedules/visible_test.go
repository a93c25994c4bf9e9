package schedules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/state"
)

// TestFailedRunsAreVisible: a run that fails before the engine starts (its
// sheet gone) or while the engine prepares (a describe refused: here the
// org's object renamed away by the configuration) is in the history, failed
// with its reason, instead of the history showing the run before (issue
// 14: every run is visible).
func TestFailedRunsAreVisible(t *testing.T) {
	ctx := context.Background()
	f := newCostFixture(t, 3)
	f.run(t, RunOptions{})
	sheet := filepath.Join(f.r.Config.Dir, "cases.csv")
	if err := os.Rename(sheet, sheet+".away"); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.r.Run(ctx, "cases", RunOptions{}); err == nil {
		t.Fatal("a run without its sheet did not fail")
	}
	runs, err := f.r.Store.Runs(ctx, "cases", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Outcome != state.OutcomeFailed || !strings.Contains(runs[0].Error, "cases.csv") {
		t.Fatalf("history after a run without its sheet: %+v", runs)
	}
	if err := os.Rename(sheet+".away", sheet); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Run(ctx, "cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if runs, _ := f.r.Store.Runs(ctx, "cases", 10); len(runs) != 3 || runs[0].Outcome != state.OutcomeOK {
		t.Fatalf("history after the sheet came back: %+v", runs)
	}
}
