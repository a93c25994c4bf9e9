package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
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

// TestExitConfigFromOrg: a configuration that loads but does not fit the
// org (found when the job is opened: a constant outside a picklist) exits
// as a configuration problem, not as any other failure.
func TestExitConfigFromOrg(t *testing.T) {
	cerr := &config.Error{File: "casebridge.yaml", Line: 13, Col: 49, Path: "jobs.cases.fields[0].constant", Msg: "the constant does not fit vcms__Source_System__c"}
	for _, err := range []error{fmt.Errorf("job cases: %w", config.Errors{cerr}), fmt.Errorf("job cases: %w", cerr)} {
		if got := exitCode(err); got != exitConfig {
			t.Errorf("exitCode(%T: configuration that does not fit the org) = %d, want %d", errors.Unwrap(err), got, exitConfig)
		}
	}
	if got := exitCode(fmt.Errorf("job cases: describe salesforce: %w", errors.New("connection refused"))); got != exitError {
		t.Errorf("exitCode(other failure) = %d, want %d", got, exitError)
	}
}
