package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/schedules"
)

func (a *app) validateCommand() *cobra.Command {
	var online bool
	cmd := &cobra.Command{
		Use:   "validate CONFIG",
		Short: "Check a configuration file",
		Long: `Check a configuration file without connecting to anything: its syntax, unknown
or misspelt keys, enum values, required keys, cron schedules and time zones,
references between jobs and sources, secrets given as ${ENV} or *_file.
The sheets (CSV, XLSX) too, as a run opens them: the file and the sheet
exist, and the header row holds the key column and every mapped column (a
missing one is named with the nearest header). Only the header row is
read, and no cell is printed. An SQLite state store can be written: the
file if it is there, and its folder takes new files (a file is made there
and removed), as the user validate runs as; run it as the service's user.

With --online it also logs in to the org (saying on stderr which one
first, and giving up within seconds if it does not answer) and checks every
job against its schema (describe): unknown objects and fields (with a
suggestion), value-map targets the restricted picklist lacks, types that
cannot hold a rule's values, lengths, fields that cannot be written, required
fields nothing maps, key fields that are not external ids. Describe lists a picklist's master values;
record types may allow fewer.

Every problem is printed as FILE:LINE:COL: PATH: MESSAGE, all of them at once,
and the exit code is 1. Warnings (a secret written literally in a file others
can read, an unused source) are printed too but do not fail the check.`,
		Example: `  casebridge validate casebridge.yaml
  casebridge validate fixtures/configs/minimal.yaml
  casebridge validate --online casebridge.yaml`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := config.Load(argv[0])
			var errs config.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(a.stdout, e)
				}
				noun := "problems"
				if len(errs) == 1 {
					noun = "problem"
				}
				fmt.Fprintf(a.stderr, "%s: %d %s\n", argv[0], len(errs), noun)
				return withCode(exitFindings, errReported)
			}
			if err != nil {
				return withCode(exitFindings, err)
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintf(a.stdout, "%s (warning)\n", w)
			}
			for _, w := range schedules.KeyWarnings(cfg) { // where the fingerprint key is kept
				fmt.Fprintf(a.stdout, "%s: %s (warning)\n", cfg.File, w)
			}
			// The sheets as a run opens them first, then (--online) the
			// org: every finding of both, one exit.
			local := mapping.CheckLocal(cmd.Context(), cfg, describeLocal)
			local = append(local, checkStateFolder(cfg)...)
			for _, e := range local {
				fmt.Fprintln(a.stdout, e)
			}
			var remote config.Errors
			if online {
				if remote, err = a.checkOnline(cmd.Context(), cfg); err != nil {
					return err
				}
				for _, e := range remote {
					fmt.Fprintln(a.stdout, e)
				}
			}
			if n := len(local); n > 0 {
				fmt.Fprintf(a.stderr, "%s: %d %s\n", argv[0], n, plural(n, "problem", "problems"))
			}
			if n := len(remote); n > 0 {
				fmt.Fprintf(a.stderr, "%s: %d %s against the org\n", argv[0], n, plural(n, "problem", "problems"))
			}
			if len(local)+len(remote) > 0 {
				return withCode(exitFindings, errReported)
			}
			against := ""
			if online {
				against = ", checked against the org"
			}
			fmt.Fprintf(a.stdout, "%s: OK (%d %s, %d %s%s)\n", argv[0],
				len(cfg.Sources), plural(len(cfg.Sources), "source", "sources"),
				len(cfg.Jobs), plural(len(cfg.Jobs), "job", "jobs"), against)
			return nil
		},
	}
	cmd.Flags().BoolVar(&online, "online", false, "also log in and check the jobs against the org's schema")
	return cmd
}

// checkOnline logs in to the org and checks cfg's jobs against its schema.
// It says on stderr which org it asks before it connects, since the login
// is the one step that may wait, and retries an org that does not answer
// less than a run does (validateRetry).
func (a *app) checkOnline(ctx context.Context, cfg *config.Config) (config.Errors, error) {
	keys := map[string]string{}
	for _, j := range cfg.Jobs {
		keys[j.Salesforce.Object] = j.Salesforce.Key
	}
	opts := schedules.SalesforceOptions(cfg, keys, nil)
	opts.RetryMax, opts.RetryWaitMin, opts.RetryWaitMax = validateRetryMax, validateRetryWaitMin, validateRetryWaitMax
	loginURL := displayURL(cfg.Salesforce.LoginURL)
	fmt.Fprintf(a.stderr, "checking against the org at %s…\n", loginURL)
	sf, err := salesforce.New(ctx, opts)
	if err != nil && unreachable(err) {
		err = fmt.Errorf("the org at %s could not be reached (%w): check salesforce.login_url (%s) and the network; for the fake org, that `casebridge fakeorg` is running and login_url is the URL it printed",
			loginURL, err, cfg.Salesforce.At("login_url"))
	}
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("--online: %w", err))
	}
	errs := mapping.CheckOnline(ctx, cfg, sf.Describe)
	for _, w := range mapping.ByParentWarnings(ctx, cfg, sf.Describe) {
		fmt.Fprintf(a.stdout, "%s (warning)\n", w)
	}
	return errs, nil
}

// describeLocal describes a job's sheet as a run opens it
// (schedules.OpenSource), reading its header row only. The job is given
// without its rules, so that the sheet connector asks for the key column
// alone and mapping.CheckLocal finds every mapped column missing.
func describeLocal(ctx context.Context, job *config.Job) (*connector.Object, error) {
	bare := *job
	bare.Fields, bare.Children = nil, nil
	object := mapping.LocalObject(job)
	conn, err := schedules.OpenSource(&bare, &mapping.JobMapping{LocalObject: object})
	if err != nil {
		return nil, err
	}
	if c, ok := conn.(io.Closer); ok {
		defer c.Close()
	}
	return conn.Describe(ctx, object)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Transport retries of an interactive validate --online: a person waits
// for the answer, so an org that does not answer is given up after one
// retry within a second, not after a run's four retries over up to 15 s
// (sync and the daemon keep those: a brief outage should not fail a run).
const (
	validateRetryMax     = 1
	validateRetryWaitMin = 250 * time.Millisecond
	validateRetryWaitMax = time.Second
)

// displayURL is a login URL as it may be shown: scheme, host and path,
// without a user, password, query or fragment that might carry a secret.
func displayURL(s string) string {
	if s == "" {
		s = "https://login.salesforce.com" // the connector's default
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "the configured login_url"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// unreachable reports whether a login failed for want of an answer (no
// connection, no name, a connection closed without a response), not
// because the org refused it.
func unreachable(err error) bool {
	// A login that got no HTTP answer at all (Status 0): refused, reset,
	// hung up ("http: server closed idle connection" is none of the error
	// types below, and depends on timing), timed out.
	var ae *salesforce.AuthError
	return errors.As(err, &ae) && ae.Status == 0
}

// checkStateFolder checks what sync would otherwise find only when it
// opens an SQLite state store: that the file, if there, can be written,
// and that its folder exists and takes new files (SQLite creates its
// journal, -wal and -shm, beside the database). A file is created there
// and removed to find out, as the user validate runs as: the packaged
// sample's casebridge.db beside the configuration in /etc/casebridge is
// refused this way under the systemd unit, whose user cannot write there.
func checkStateFolder(cfg *config.Config) config.Errors {
	if cfg.State.Driver == config.StatePostgres {
		return nil
	}
	path := schedules.SQLitePath(cfg)
	dir := filepath.Dir(path)
	fail := func(format string, args ...any) config.Errors {
		pos := cfg.State.At("dsn")
		if !pos.IsValid() {
			pos.File = cfg.File
		}
		msg := fmt.Sprintf(format, args...) + "; point state.dsn at a file in a folder this user can write, such as /var/lib/casebridge/casebridge.db under the systemd unit"
		return config.Errors{{File: pos.File, Line: pos.Line, Col: pos.Col, Path: "state.dsn", Msg: msg}}
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fail("the state store %s is a folder, not a file", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fail("the state store %s cannot be written (%v)", path, errors.Unwrap(err))
		}
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail("the state store %s cannot be read (%v)", path, errors.Unwrap(err))
	}
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("the state store's folder %s does not exist", dir)
		}
		return fail("the state store's folder %s cannot be read (%v)", dir, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return fail("the state store's folder %s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".casebridge-validate-*")
	if err != nil {
		return fail("no file can be created in the state store's folder %s (%v), where the state store and its journal are kept", dir, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
