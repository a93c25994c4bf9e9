package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// TestExitLockedOut: a locked-out job exits with its own code, and the
// README's table says so.
func TestExitLockedOut(t *testing.T) {
	err := fmt.Errorf("job th_cases: %w", &reconcile.LockedOutError{Lockout: state.Lockout{Job: "th_cases", Cause: "x"}})
	if got := exitCode(err); got != exitLockedOut {
		t.Errorf("exitCode(locked out) = %d, want %d", got, exitLockedOut)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), fmt.Sprintf("| %d | the job is locked out after a critical error until a run with `--resync` |", exitLockedOut)) {
		t.Errorf("README's exit code table has no row for %d (locked out until --resync)", exitLockedOut)
	}
}
