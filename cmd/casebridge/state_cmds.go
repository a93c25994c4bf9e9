package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// stateJobs returns the state-store job names of the configured jobs named
// (all when none): each job and each of its children ("job/child").
func stateJobs(cfg *config.Config, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n)
		for _, c := range cfg.Jobs[n].Children {
			out = append(out, n+"/"+c.Name)
		}
	}
	return out
}

// withStore loads cfg and opens its state store (no Salesforce login).
func (a *app) withStore(ctx context.Context, path string, fn func(cfg *config.Config, st state.Store) error) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	st, err := schedules.OpenStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	defer st.Close()
	return fn(cfg, st)
}

func (a *app) conflictsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conflicts",
		Short: "List and resolve the fields a manual conflict policy queued",
		Long: `A job with conflict: manual queues each field that changed differently on
both sides since they last agreed, and writes neither value until an admin
decides. The queue names records by key and fields by name; it holds no values
(look at the record in Salesforce and in the sheet to decide).

A resolution takes effect at the job's next run: the chosen side's current
value is written to the other side.`,
	}
	cmd.AddCommand(a.conflictsListCommand(), a.conflictsResolveCommand())
	return cmd
}

func (a *app) conflictsListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list CONFIG [JOB...]",
		Short:   "List queued conflicts",
		Example: "  casebridge conflicts list casebridge.yaml th_cases",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				names, err := jobNames(cfg, argv[1:])
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "JOB\tKEY\tFIELD\tOPENED\tRESOLUTION")
				n := 0
				for _, job := range stateJobs(cfg, names) {
					cs, err := st.Conflicts(cmd.Context(), job)
					if err != nil {
						return err
					}
					for _, c := range cs {
						res := "open"
						if c.Resolution != "" {
							res = string(c.Resolution) + " wins (next run)"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", job, c.Key, c.Field, c.Opened.UTC().Format(time.DateTime), res)
						n++
					}
				}
				tw.Flush()
				fmt.Fprintf(a.stderr, "%d conflict(s)\n", n)
				return nil
			})
		},
	}
}

func (a *app) conflictsResolveCommand() *cobra.Command {
	var field string
	cmd := &cobra.Command{
		Use:   "resolve CONFIG JOB KEY salesforce|local",
		Short: "Choose the side whose value wins a conflict",
		Long: `Choose the side whose current value wins, for one field (--field) or for every
queued field of the record. JOB is the job's name, or job/child for a child
record ("th_cases/stipend"). The next run writes the chosen value.`,
		Example: `  casebridge conflicts resolve casebridge.yaml th_cases ngo-th-cm:TH-CL-0007 salesforce
  casebridge conflicts resolve casebridge.yaml th_cases ngo-th-cm:TH-CL-0007 local --field vcms__Stage__c`,
		Args: args(cobra.ExactArgs(4)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			side := state.Side(argv[3])
			if side != state.SideSalesforce && side != state.SideLocal {
				return usageErrorf("conflicts resolve: the side is salesforce or local, not %q", argv[3])
			}
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				job, key := argv[1], argv[2]
				base, _, _ := strings.Cut(job, "/")
				if _, ok := cfg.Jobs[base]; !ok {
					return usageErrorf("no job %q in %s", base, cfg.File)
				}
				cs, err := st.Conflicts(cmd.Context(), job)
				if err != nil {
					return err
				}
				n := 0
				for _, c := range cs {
					if !strings.EqualFold(c.Key, key) || (field != "" && c.Field != field) {
						continue
					}
					if err := st.ResolveConflict(cmd.Context(), job, c.Key, c.Field, side, time.Now()); err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "%s %s.%s: %s wins at the next run\n", job, c.Key, c.Field, side)
					n++
				}
				if n == 0 {
					return withCode(exitFindings, fmt.Errorf("no queued conflict for %s in job %s", key, job))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&field, "field", "", "resolve only this field (default: every queued field of the record)")
	return cmd
}

func (a *app) historyCommand() *cobra.Command {
	var limit int
	var errorsOf int64
	cmd := &cobra.Command{
		Use:   "history CONFIG [JOB...]",
		Short: "Show recent runs of jobs, or the record errors of one run",
		Example: `  casebridge history casebridge.yaml
  casebridge history casebridge.yaml th_cases --errors 42`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				names, err := jobNames(cfg, argv[1:])
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				if errorsOf != 0 {
					fmt.Fprintln(tw, "JOB\tKEY\tFIELD\tCODE\tMESSAGE")
					for _, job := range stateJobs(cfg, names) {
						es, err := st.Errors(cmd.Context(), job, errorsOf)
						if err != nil {
							return err
						}
						for _, e := range es {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", job, e.Key, e.Field, e.Code, e.Message)
						}
					}
					return tw.Flush()
				}
				fmt.Fprintln(tw, "JOB\tRUN\tSTARTED (UTC)\tTOOK\tOUTCOME\tREAD\tCREATED\tUPDATED\tDELETED\tCONFLICTS\tFAILED\tUNREADABLE\tUNMAPPED\tAPI CALLS")
				for _, job := range stateJobs(cfg, names) {
					runs, err := st.Runs(cmd.Context(), job, limit)
					if err != nil {
						return err
					}
					for _, r := range runs {
						took := "-"
						if !r.End.IsZero() {
							took = r.End.Sub(r.Start).Round(time.Millisecond).String()
						}
						c := r.Counts
						fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", job, r.ID, r.Start.UTC().Format(time.DateTime), took,
							r.Outcome, c.Read, c.Creates, c.Updates, c.Deletes, c.Conflicts, c.Failures, c.Unreadable, c.Unmapped, r.APICalls)
					}
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 10, "runs per job, newest first")
	cmd.Flags().Int64Var(&errorsOf, "errors", 0, "show the record errors of this run id instead (keys, fields and codes; no values)")
	return cmd
}

func (a *app) reconcileCommand() *cobra.Command {
	var reports reportFlags
	cmd := &cobra.Command{
		Use:   "reconcile CONFIG [JOB...]",
		Short: "Compare both sides completely and report every difference; write nothing",
		Long: `A full comparison: read every record on both sides (no cursor), compare each
mapped field with the value both sides last agreed on, and print every
difference with what a sync would do about it. Nothing is written to
Salesforce, the local source or the state's baselines; the run is recorded in
the history as a dry run.`,
		Example: "  casebridge reconcile casebridge.yaml th_cases",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			opts := schedules.RunOptions{DryRun: true, Full: true}
			if err := reports.apply(&opts); err != nil {
				return err
			}
			return a.runConfigJobs(cmd.Context(), argv[0], argv[1:], opts, true, reports)
		},
	}
	reports.register(cmd.Flags())
	return cmd
}
