package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
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

// tombstoneScope is the object a job's (or a child's, "job/child")
// tombstones are kept under: as the runner names its members.
func tombstoneScope(cfg *config.Config, job string) (string, error) {
	base, child, isChild := strings.Cut(job, "/")
	j, ok := cfg.Jobs[base]
	if !ok {
		return "", usageErrorf("no job %q in %s", base, cfg.File)
	}
	if !isChild {
		return j.Salesforce.Object, nil
	}
	for _, c := range j.Children {
		if c.Name == child {
			return c.Object + "#" + c.Name, nil
		}
	}
	return "", usageErrorf("job %s has no child %q", base, child)
}

func (a *app) tombstonesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tombstones",
		Short: "List and forget the records deleted before, which are not created again",
		Long: `When a record is gone from both sides (deleted on one and the delete
propagated, or deleted on both), casebridge remembers its key as a tombstone:
a hash of the key and when, no values. A row that comes back later (a restored
copy of a sheet, one of casebridge's own backups) is flagged, not created
again in Salesforce. Forget a tombstone when the record is meant to come
back: the next run creates it.`,
	}
	cmd.AddCommand(a.tombstonesListCommand(), a.tombstonesForgetCommand())
	return cmd
}

func (a *app) tombstonesListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list CONFIG [JOB...]",
		Short: "List the tombstones of jobs' objects (hashed keys and when; the keys are not kept)",
		Long: `Lists the tombstones of the jobs' Salesforce objects ("object#child" for a
child): the key's hash (the key itself is not kept, so that a deleted
person's case id does not stay behind) and when the record was deleted. A
run's summary names the key of a row a tombstone holds back.`,
		Example: "  casebridge tombstones list casebridge.yaml th_cases",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				names, err := jobNames(cfg, argv[1:])
				if err != nil {
					return err
				}
				// Tombstones are kept per object (jobs sharing one share
				// them; their key prefixes keep them apart).
				var scopes []string
				for _, job := range stateJobs(cfg, names) {
					scope, err := tombstoneScope(cfg, job)
					if err != nil {
						return err
					}
					if !slices.Contains(scopes, scope) {
						scopes = append(scopes, scope)
					}
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "OBJECT\tKEY HASH\tDELETED (UTC)")
				n := 0
				for _, scope := range scopes {
					ts, err := st.Tombstones(cmd.Context(), scope)
					if err != nil {
						return err
					}
					for _, h := range slices.Sorted(maps.Keys(ts)) {
						fmt.Fprintf(tw, "%s\t%s\t%s\n", scope, h, ts[h].UTC().Format(time.DateTime))
						n++
					}
				}
				tw.Flush()
				fmt.Fprintf(a.stderr, "%d tombstone(s)\n", n)
				return nil
			})
		},
	}
}

func (a *app) tombstonesForgetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "forget CONFIG JOB KEY...",
		Short: "Forget tombstones, so the records may be created again",
		Long: `Forgets the tombstone of each KEY (as a run's summary names it, with the
job's key_prefix: ngo-th-cm:TH-CL-0007). JOB is the job's name, or job/child
for a child record. The next run creates the record from the side that has it.`,
		Example: "  casebridge tombstones forget casebridge.yaml th_cases ngo-th-cm:TH-CL-0007",
		Args:    args(cobra.MinimumNArgs(3)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := a.loadConfig(argv[0])
			if err != nil {
				return err
			}
			fp, err := schedules.Fingerprinter(cfg)
			if err != nil {
				return fmt.Errorf("fingerprint key: %w", err)
			}
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				scope, err := tombstoneScope(cfg, argv[1])
				if err != nil {
					return err
				}
				missing := 0
				for _, key := range argv[2:] {
					forgot := false
					// Keys compare case-insensitively unless the key field
					// says otherwise: both forms are tried.
					for _, id := range []string{connector.KeyID(key, false), connector.KeyID(key, true)} {
						ok, err := st.ForgetTombstone(cmd.Context(), scope, fp.KeyHash(id))
						if err != nil {
							return err
						}
						forgot = forgot || ok
					}
					if forgot {
						fmt.Fprintf(a.stdout, "%s %s: tombstone forgotten; the next run creates it\n", argv[1], key)
					} else {
						fmt.Fprintf(a.stdout, "%s %s: no tombstone\n", argv[1], key)
						missing++
					}
				}
				if missing > 0 {
					return withCode(exitFindings, fmt.Errorf("%d key(s) had no tombstone", missing))
				}
				return nil
			})
		},
	}
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
