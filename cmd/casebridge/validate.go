package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
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
read, and no cell is printed.

With --online it also logs in to the org and checks every job against its
schema (describe): unknown objects and fields (with a suggestion), value-map
targets the restricted picklist lacks, types that cannot hold a rule's values,
lengths, fields that cannot be written, required fields nothing maps, key
fields that are not external ids. Describe lists a picklist's master values;
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
func (a *app) checkOnline(ctx context.Context, cfg *config.Config) (config.Errors, error) {
	keys := map[string]string{}
	for _, j := range cfg.Jobs {
		keys[j.Salesforce.Object] = j.Salesforce.Key
	}
	sf, err := schedules.OpenSalesforce(ctx, cfg, keys, nil)
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
