package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
)

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate CONFIG",
		Short: "Check a configuration file",
		Long: `Check a configuration file without connecting to anything: its syntax, unknown
or misspelt keys, enum values, required keys, cron schedules and time zones,
references between jobs and sources, secrets given as ${ENV} or *_file.

Every problem is printed as FILE:LINE:COL: PATH: MESSAGE, all of them at once,
and the exit code is 1. Warnings (a secret written literally in a file others
can read, an unused source) are printed too but do not fail the check.`,
		Example: `  casebridge validate casebridge.yaml
  casebridge validate fixtures/configs/minimal.yaml`,
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
			fmt.Fprintf(a.stdout, "%s: OK (%d %s, %d %s)\n", argv[0],
				len(cfg.Sources), plural(len(cfg.Sources), "source", "sources"),
				len(cfg.Jobs), plural(len(cfg.Jobs), "job", "jobs"))
			return nil
		},
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
