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
			// The key the tombstones were hashed under; never a new one.
			fp, err := schedules.ExistingFingerprinter(cfg)
			if err != nil {
				return fmt.Errorf("fingerprint key: %w", err)
			}
			if fp == nil {
				kf, _ := schedules.KeyFile(cfg)
				return fmt.Errorf("fingerprint key: no key file at %s: the tombstones were kept under a key this configuration cannot find (put the key file back)", kf)
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

// oneLine puts a run's error on one line of the history's table (a
// joined error has several).
func oneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}

func (a *app) historyCommand() *cobra.Command {
	var limit int
	var errorsOf int64
	cmd := &cobra.Command{
		Use:   "history CONFIG [JOB...]",
		Short: "Show recent runs of jobs, or the record errors of one run",
		Long: `Show the recent runs of jobs, newest first: their outcome, counts and API
calls. A failed run's outcome names the stage it stopped at, as its alert and
the metrics do: "failed (source)" (start, login, salesforce, state, source,
mapping or sync); REASON is the error of a run that failed, aborted or
stopped (it names files, objects, fields and codes, never a value).
--errors RUN lists one run's per-record errors instead.`,
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
				fmt.Fprintln(tw, "JOB\tRUN\tSTARTED (UTC)\tTOOK\tOUTCOME\tREAD\tCREATED\tUPDATED\tDELETED\tCONFLICTS\tFAILED\tUNREADABLE\tUNMAPPED\tAPI CALLS\tREASON")
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
						outcome := string(r.Outcome)
						if r.Stage != "" {
							outcome += " (" + r.Stage + ")" // the stage a failed run stopped at
						}
						c := r.Counts
						fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", job, r.ID, r.Start.UTC().Format(time.DateTime), took,
							outcome, c.Read, c.Creates, c.Updates, c.Deletes, c.Conflicts, c.Failures, c.Unreadable, c.Unmapped, r.APICalls)
						if r.Error != "" {
							fmt.Fprintf(tw, "\t%s", oneLine(r.Error))
						}
						fmt.Fprintln(tw)
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
	// reconcile is always a dry run and takes no --dry-run.
	cmd.Flags().Lookup("show-values").Usage = "with --report: show the values that differ, masking direct, quasi and sensitive fields"
	return cmd
}

func (a *app) leaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lease",
		Short: "Show job leases, and release one a dead process left",
		Long: `A run holds its job's lease in the state store while it goes on, so that two
runs of one job never write at once: from cron, the daemon, the admin API or
replicas sharing a PostgreSQL state store. The run renews it every third of
state.lease (5m by default); a run that finds it held exits 6 (locked) and
names the holder as host:pid.

A lease heals by itself: one held by a process of this host that is gone (a
run killed with SIGKILL, a crash, a power cut) is taken over by the next run
at once, and any other lapses state.lease after its last renewal. Release one
by hand only when its holder ran on another machine that you know is gone, or
cannot wait for the lease to lapse. A holder that is in fact still running (a
paused VM) is then fenced: its next renewal fails and it stops, and the state
store refuses its writes.`,
	}
	cmd.AddCommand(a.leaseShowCommand(), a.leaseReleaseCommand())
	return cmd
}

// leaseState says what a lease is at now, for people.
func leaseState(l state.Lease, now time.Time) string {
	switch {
	case !l.Live(now):
		return "free"
	case state.HolderGone(l.Holder):
		return "held by a process gone from this host (the next run takes it over)"
	}
	if _, here := state.HolderHere(l.Holder); here {
		return "held by a process running on this host"
	}
	return "held"
}

func (a *app) leaseShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "show CONFIG [JOB...]",
		Short:   "Show who holds each job's lease, and until when",
		Example: "  casebridge lease show /etc/casebridge/casebridge.yaml",
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				names, err := jobNames(cfg, argv[1:])
				if err != nil {
					return err
				}
				now := time.Now()
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "JOB\tHOLDER\tUNTIL (UTC)\tSTATE")
				for _, job := range names {
					l, ok, err := st.Lease(cmd.Context(), job)
					if err != nil {
						return err
					}
					if !ok || !l.Live(now) {
						fmt.Fprintf(tw, "%s\t-\t-\tfree\n", job)
						continue
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", job, l.Holder, l.Expires.UTC().Format(time.DateTime), leaseState(l, now))
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) leaseReleaseCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "release CONFIG JOB",
		Short: "Release a job's lease whoever holds it, so the next run need not wait",
		Long: `Ends JOB's lease at once. Use it when casebridge sync exits 6 (locked), the
holder it names (host:pid) ran on a machine you know is gone, and the job
should not wait state.lease for the lease to lapse. A process of this host
that is gone needs no release: the next run takes its lease over.

A lease held by a process still running on this host is not released without
--force: that run is going on (see it with ps or the daemon's status page).
With --force, or when the holder runs elsewhere after all, that run stops at
its next renewal, the state store refuses its writes, and it may lock the job
out (exit 8) until a run with --resync.`,
		Example: `  casebridge lease show /etc/casebridge/casebridge.yaml th_cases
  casebridge lease release /etc/casebridge/casebridge.yaml th_cases`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), argv[0], func(cfg *config.Config, st state.Store) error {
				job := argv[1]
				if _, ok := cfg.Jobs[job]; !ok {
					return usageErrorf("no job %q in %s (jobs: %s; a child's runs hold their job's lease)", job, cfg.File, strings.Join(cfg.JobNames(), ", "))
				}
				now := time.Now()
				l, ok, err := st.Lease(cmd.Context(), job)
				if err != nil {
					return err
				}
				if !ok || !l.Live(now) {
					fmt.Fprintf(a.stdout, "%s: no lease is held; nothing to release\n", job)
					return nil
				}
				if pid, here := state.HolderHere(l.Holder); here && !state.HolderGone(l.Holder) && !force {
					return withCode(exitLocked, fmt.Errorf("%s: the lease is held by process %d, running on this host: its run is going on; stop it, or release with --force", job, pid))
				}
				l, ok, err = st.BreakLease(cmd.Context(), job)
				if err != nil {
					return err
				}
				if ok && l.Live(now) {
					fmt.Fprintf(a.stdout, "%s: released the lease %s held until %s UTC; the next run takes it\n", job, l.Holder, l.Expires.UTC().Format(time.DateTime))
				} else {
					fmt.Fprintf(a.stdout, "%s: no lease is held; nothing to release\n", job)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "release a lease held by a process running on this host too")
	return cmd
}
