package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// Exit codes. They are documented in the README ("Exit codes"); keep the
// two in step. Scripts and schedulers (cron, systemd, Kubernetes CronJobs)
// rely on them.
const (
	exitOK        = 0   // everything done
	exitFindings  = 1   // validate found problems; a run finished with per-record failures
	exitUsage     = 2   // bad command line: unknown command or flag, wrong arguments
	exitConfig    = 3   // the configuration could not be loaded, or does not fit the org (a command other than validate)
	exitAbort     = 4   // a safety brake stopped the run before any write (max_delete, match rate)
	exitBudget    = 5   // the API budget was reached; the run resumes next time
	exitLocked    = 6   // another run of the job holds its lock
	exitError     = 7   // any other failure (cannot connect, authentication failed, ...)
	exitLockedOut = 8   // the job is locked out after a critical error until a run with --resync
	exitCancelled = 130 // interrupted (Ctrl-C, SIGTERM)
)

// errReported marks an error whose details the command has already
// printed; run prints nothing more for it.
var errReported = errors.New("reported")

// exitError carries an exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codedError{code: code, err: err} }

func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// exitCode maps an error to the process exit code: this switch is the one
// place where error classes become codes.
func exitCode(err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, state.ErrLeaseLost): // (its run was cancelled: the lease went to another holder)
		return exitLocked
	case errors.Is(err, context.Canceled):
		return exitCancelled
	case errors.Is(err, reconcile.ErrSafetyAbort):
		return exitAbort
	case errors.Is(err, salesforce.ErrBudget), errors.Is(err, salesforce.ErrLimitExceeded):
		return exitBudget
	case errors.Is(err, state.ErrLocked):
		return exitLocked
	case errors.Is(err, reconcile.ErrLockedOut):
		return exitLockedOut
	case isCobraUsage(err):
		return exitUsage
	case errors.As(err, new(config.Errors)), errors.As(err, new(*config.Error)):
		// A configuration that loads but does not fit the org (a
		// constant outside a picklist, a field the object lacks),
		// found when the job is opened against it.
		return exitConfig
	}
	return exitError
}

// isCobraUsage recognises cobra's "unknown command" error, which it does
// not type. Flag and argument errors are typed where they arise
// (SetFlagErrorFunc, args).
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// args wraps a cobra argument validator so that its errors are usage
// errors.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return usageErrorf("%s: %v", cmd.CommandPath(), err)
		}
		return nil
	}
}
