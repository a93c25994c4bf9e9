package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// loadConfig loads a configuration for a command that runs jobs: problems
// are printed with their positions and the exit code is exitConfig.
func (a *app) loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(a.stderr, e)
		}
		return nil, withCode(exitConfig, fmt.Errorf("%s: %d configuration problem(s); run 'casebridge validate %s'", path, len(errs), path))
	}
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	for _, w := range cfg.Warnings {
		a.log.Warn().Str("config", path).Msg(w.Error())
	}
	return cfg, nil
}

// jobNames returns the jobs a command names, or every job of cfg, in the
// order they run: a job after the jobs writing the records its lookups
// search (config.JobOrder), otherwise in the order given.
func jobNames(cfg *config.Config, args []string) ([]string, error) {
	if len(args) == 0 {
		return cfg.JobOrder(cfg.JobNames()), nil
	}
	for _, n := range args {
		if _, ok := cfg.Jobs[n]; !ok {
			return nil, usageErrorf("no job %q in %s (jobs: %s)", n, cfg.File, strings.Join(cfg.JobNames(), ", "))
		}
	}
	return cfg.JobOrder(args), nil
}

func (a *app) syncCommand() *cobra.Command {
	var opts schedules.RunOptions
	var showPlan bool
	var reports reportFlags
	var prof profileFlags
	var metricsFile string
	cmd := &cobra.Command{
		Use:   "sync CONFIG [JOB...]",
		Short: "Run jobs once: compare both sides, then write the changes",
		Long: `Run the named jobs of CONFIG once (every job when none is named): read
Salesforce and the local source, compare each field with the value both sides
last agreed on, and write what changed on one side to the other.

--dry-run plans and stops: it prints every write it would make, with the
reason, and changes nothing on either side. Safety brakes stop a run before
any write when it would delete more than max_delete records, or when a first
sync matches almost no records (a key_prefix typo must not duplicate every
case); --force overrides them after you have checked the plan.

A run whose state store fails after a write locks the job out (when the
store cannot even record that, the lockout is kept beside it and recorded
by the next run before anything else): later runs refuse to start (exit
code 8) until you have checked both sides and run it with --resync, which
re-initialises its baselines from both sides under the job's initial
policy, as a first sync does: records on one side only are created on the
other, differing fields are settled by the initial policy, and nothing is
written that a first sync would not write. --resync --dry-run shows that
plan first. A replica that loses the job's lease while writing (paused
past it) stops and hands the job over without a lockout: the next run
reads both sides and finds what it wrote.

A job larger than its part_size (100,000 records by default) is planned and
applied in parts of about half as many, one held in memory at a time; the
summary then ends "in N parts". Plans, results and counts are those of a
run held whole; the plan's lines come part by part.

Logs and this command's output name jobs, objects, record keys and field
names, never the values in the records.`,
		Example: `  casebridge sync casebridge.yaml --dry-run
  casebridge sync casebridge.yaml th_cases
  casebridge sync casebridge.yaml th_cases --full
  casebridge sync casebridge.yaml th_cases --resync --dry-run
  casebridge sync casebridge.yaml --cpuprofile cpu.out && go tool pprof -top cpu.out`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := reports.apply(&opts); err != nil {
				return err
			}
			stop, err := prof.start()
			if err != nil {
				return err
			}
			a.metricsFile = metricsFile
			err = a.runConfigJobs(cmd.Context(), argv[0], argv[1:], opts, showPlan || opts.DryRun, reports)
			if perr := stop(); perr != nil {
				fmt.Fprintf(a.stderr, "casebridge: %v\n", perr)
			}
			return err
		},
	}
	f := cmd.Flags()
	reports.register(f)
	prof.register(f)
	f.StringVar(&metricsFile, "metrics-textfile", "", "write the runs' Prometheus metrics (the daemon's casebridge_* series) to this file, for node exporter's textfile collector (a .prom file in its directory)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "plan and print the writes, change nothing")
	f.BoolVar(&opts.Full, "full", false, "read Salesforce completely instead of from the last cursor")
	f.BoolVar(&opts.Force, "force", false, "override the safety brakes (max_delete, match rate)")
	f.BoolVar(&opts.Resync, "resync", false, "re-initialise baselines from both sides as a first sync does; clears a lockout after a critical error")
	f.BoolVar(&showPlan, "plan", false, "print the plan of every run, not only of dry runs")
	return cmd
}

// runConfigJobs loads a configuration, logs in, and runs the named jobs
// (every job when none is named) with runJobs.
func (a *app) runConfigJobs(ctx context.Context, path string, names []string, opts schedules.RunOptions, showPlan bool, reports reportFlags) error {
	if err := reports.check(); err != nil {
		return err // before anything is read or written
	}
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	jobs, err := jobNames(cfg, names)
	if err != nil {
		return err
	}
	r, err := schedules.Open(ctx, cfg, a.log)
	if err != nil {
		return err
	}
	defer r.Close()
	return a.runJobs(ctx, r, jobs, opts, showPlan, reports)
}

// runJobs runs jobs one after another, printing each plan (when asked)
// and summary, and returns the error that decides the exit code: the
// first fatal one, else findings when a record failed.
func (a *app) runJobs(ctx context.Context, r *schedules.Runner, jobs []string, opts schedules.RunOptions, showPlan bool, reports reportFlags) error {
	var first error
	failed := false
	var observe func(job string, res *schedules.JobResult, err error, took time.Duration)
	if a.metricsFile != "" && !opts.DryRun {
		// The daemon's metrics, for cron and systemd timer users: the
		// runs of this invocation, and the state's gauges.
		reg := prometheus.NewRegistry()
		srv := admin.New(admin.Options{Config: r.Config, Store: r.Store, Log: a.log, Registry: reg})
		defer srv.Close(context.WithoutCancel(ctx))
		observe = srv.Observe
		defer func() {
			if err := prometheus.WriteToTextfile(a.metricsFile, reg); err != nil {
				fmt.Fprintf(a.stderr, "casebridge: --metrics-textfile: %v\n", err)
			}
		}()
	}
	prog := newProgress(a.term)
	r.Progress = prog.add
	defer func() { r.Progress = nil }()
	for _, name := range jobs {
		t0 := time.Now()
		res, err := r.Run(ctx, name, opts)
		if observe != nil {
			observe(name, res, err, time.Since(t0))
		}
		prog.clear()
		if res != nil && res.Result != nil {
			if showPlan {
				writePlans(a.stdout, res.Result)
			}
			writeSummary(a.stdout, name, opts.DryRun, res, err)
			prog.done(name)
			for _, path := range reports.paths {
				if len(jobs) > 1 {
					path = reportPathFor(path, name)
				}
				if werr := writeReport(path, res, opts, reports.classes, err); werr != nil {
					fmt.Fprintf(a.stderr, "%s: report: %v\n", name, werr)
					if first == nil {
						first = werr
					}
				} else {
					fmt.Fprintf(a.stdout, "  report: %s\n", path)
				}
			}
			if findings(res) {
				failed = true
			}
		}
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "job "+name) {
				fmt.Fprintln(a.stderr, msg) // it names the job already
			} else {
				fmt.Fprintf(a.stderr, "job %s: %s\n", name, msg)
			}
			if first == nil {
				first = err
			}
			if errors.Is(err, context.Canceled) {
				break
			}
		}
	}
	if first != nil {
		return withCode(exitCode(first), errReported)
	}
	if failed {
		return withCode(exitFindings, errReported)
	}
	return nil
}

// writePlans prints the plan of a run and of its child runs, one line per
// write or decision (keys and field names with reasons, never values).
func writePlans(w io.Writer, res *reconcile.Result) {
	if res == nil || res.Plan == nil {
		return
	}
	fmt.Fprintf(w, "plan for %s: %d line(s)\n", res.Plan.Job, res.Plan.Len())
	for l := range res.Plan.All() { // one line at a time: a plan may hold millions
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, c := range res.Children {
		writePlans(w, c)
	}
}

// totals are a run's counts, of the job alone or with its children.
type totals struct {
	creates, updates, deletes, conflicts int
	failed                               []state.RecordErr
	flagged, unknown                     []reconcile.Note
	// held are the fields conflict: manual holds for a person.
	held []reconcile.Note
	// ambiguous are the records match_on pairs with several others:
	// held for a person, never created.
	ambiguous []reconcile.Note
	// adopted counts the Salesforce records without a key given one and
	// brought to the local side; keyless those left alone, keylessNew
	// (with notes) those no earlier run reported.
	adopted, keyless int
	keylessNew       []reconcile.Note
	// left are the records that left the job's where this run.
	left []reconcile.Note
	// waitingWrites are planned writes not sent (a budget or the org's
	// limit stopped the run): pending for the next run, not failed.
	waitingWrites int
	// waiting are children held back because their parent is not in
	// Salesforce yet (a dry run before the first sync): not a finding.
	waiting []reconcile.Note
}

// sumResult adds res (and, with children, its child runs) to t.
func sumResult(t *totals, res *reconcile.Result, dry, children bool) {
	if res == nil {
		return
	}
	c := res.Counts
	if p := res.Plan; p != nil {
		if dry {
			c.Creates, c.Updates, c.Deletes = p.Count(reconcile.OpCreate), p.Count(reconcile.OpUpdate), p.Count(reconcile.OpDelete)
		}
		for _, n := range p.Notes {
			switch n.Kind {
			case reconcile.NoteFlag, reconcile.NoteBlocked:
				t.flagged = append(t.flagged, n)
			case reconcile.NoteUnknown:
				if strings.Contains(n.Detail, string(connector.CodeNotProcessed)) {
					t.waiting = append(t.waiting, n)
				} else {
					t.unknown = append(t.unknown, n)
				}
			case reconcile.NoteConflict:
				if dry {
					c.Conflicts++
				}
				t.held = append(t.held, n)
			case reconcile.NoteAmbiguous:
				t.ambiguous = append(t.ambiguous, n)
			case reconcile.NoteAdopted:
				t.adopted++
			case reconcile.NoteKeyless:
				t.keylessNew = append(t.keylessNew, n)
			case reconcile.NoteLeftScope:
				t.left = append(t.left, n)
			}
		}
		t.keyless += p.Keyless
	}
	if p := res.Plan; p != nil && !dry {
		t.waitingWrites += max(p.NumWrites()-c.Creates-c.Updates-c.Deletes-c.Failures, 0)
	}
	t.creates += c.Creates
	t.updates += c.Updates
	t.deletes += c.Deletes
	t.conflicts += c.Conflicts
	t.failed = append(t.failed, res.Failed...)
	if children {
		for _, ch := range res.Children {
			sumResult(t, ch, dry, true)
		}
	}
}

func (t *totals) line(w io.Writer, head string, unreadable int) {
	fmt.Fprintf(w, "%s: %d created, %d updated, %d deleted, %d conflicts, %d failed, %d flagged, %d unknown",
		head, t.creates, t.updates, t.deletes, t.conflicts, len(t.failed), len(t.flagged), len(t.unknown)+unreadable)
}

// maxListed bounds the records of one kind a summary lists by key.
const maxListed = 10

// findings reports whether a run left something for a person to look at:
// failed records, cells that did not map, unreadable rows, unknown keys.
func findings(res *schedules.JobResult) bool {
	var t totals
	sumResult(&t, res.Result, false, true)
	return len(t.failed) > 0 || len(t.unknown) > 0 || len(t.held) > 0 || len(t.ambiguous) > 0 || len(res.MappingErrors) > 0 || len(res.Unreadable) > 0
}

// writeSummary prints a run's closing summary, over the job and its
// children: counts, then each failed, unknown and flagged record by key
// and field with its code (never a value), and API calls.
func writeSummary(w io.Writer, job string, dry bool, res *schedules.JobResult, runErr error) {
	mode, stop := "synced", ""
	if dry {
		mode = "dry run"
	}
	switch {
	case errors.Is(runErr, reconcile.ErrSafetyAbort):
		stop = "stopped before writing (safety brake)"
	case errors.Is(runErr, connector.ErrStop):
		stop = "stopped (resumes next run)"
	case runErr != nil:
		stop = "stopped"
	}
	// A child job's error stops the run after the job's own records (and
	// the children before it) were written: the job's line says what was
	// done, the stopped child's line that it stopped.
	stoppedChild := ""
	if ch := res.Result.Children; stop != "" && len(ch) > 0 && ch[len(ch)-1].Plan != nil &&
		strings.HasPrefix(runErr.Error(), "child job "+ch[len(ch)-1].Plan.Job+":") {
		stoppedChild = ch[len(ch)-1].Plan.Job
	} else if stop != "" {
		mode = stop
	}
	var own totals
	sumResult(&own, res.Result, dry, false)
	own.line(w, job+" "+mode, len(res.Unreadable))
	if r := res.Result; r != nil {
		calls := r.APICalls
		for _, ch := range r.Children {
			calls += ch.APICalls
		}
		fmt.Fprintf(w, "; %d API call(s)", calls)
		if r.Parts > 0 {
			// Larger than part_size: held one part at a time.
			fmt.Fprintf(w, "; in %d parts", r.Parts)
		}
	}
	if res.Usage != nil && res.Usage.Limit > 0 {
		fmt.Fprintf(w, " (the org: %d of %d used today)", res.Usage.Used, res.Usage.Limit)
	}
	fmt.Fprintln(w)
	for _, ch := range res.Result.Children {
		var ct totals
		sumResult(&ct, ch, dry, true)
		name := job
		if ch.Plan != nil {
			name = ch.Plan.Job
		}
		if name == stoppedChild {
			name += " " + stop
		}
		ct.line(w, "  "+name, 0)
		fmt.Fprintln(w)
	}
	var t totals
	sumResult(&t, res.Result, dry, true)
	for _, e := range t.failed {
		field := ""
		if e.Field != "" {
			field = "." + e.Field
		}
		fmt.Fprintf(w, "  failed %s%s: %s %s\n", e.Key, field, e.Code, e.Message)
	}
	for _, n := range t.unknown {
		fmt.Fprintf(w, "  unknown %s: %s (left alone: neither synced nor deleted)\n", n.Key, n.Detail)
	}
	for _, n := range t.held {
		fmt.Fprintf(w, "  conflict %s.%s: held for a person (casebridge conflicts list, then resolve)\n", n.Key, n.Field)
	}
	for _, n := range t.ambiguous {
		fmt.Fprintf(w, "  ambiguous %s: %s (held for a person: nothing is paired or created)\n", n.Key, n.Detail)
	}
	if t.adopted > 0 {
		verb := "adopted"
		if dry {
			verb = "to adopt"
		}
		fmt.Fprintf(w, "  %d case(s) opened in Salesforce %s: each takes a key in Salesforce and gets a local row\n", t.adopted, verb)
	}
	for _, n := range t.left {
		fmt.Fprintf(w, "  left the where %s: kept on both sides, no longer synced (reported once)\n", n.Key)
	}
	for i, n := range t.keylessNew {
		if i == maxListed {
			fmt.Fprintf(w, "  ... and %d more Salesforce record(s) without a key (the plan lists each: --plan)\n", len(t.keylessNew)-i)
			break
		}
		fmt.Fprintf(w, "  keyless %s: %s\n", n.Key, n.Detail)
	}
	if old := t.keyless - len(t.keylessNew); old > 0 {
		fmt.Fprintf(w, "  %d Salesforce record(s) without a key left alone, reported before (adopt or match_on brings them)\n", old)
	}
	for _, e := range res.Unreadable {
		fmt.Fprintf(w, "  unreadable row: %v\n", e)
	}
	if t.waitingWrites > 0 && errors.Is(runErr, connector.ErrStop) {
		fmt.Fprintf(w, "  %d write(s) held for the next run (pending, not failed)\n", t.waitingWrites)
	}
	if res.Result != nil && res.Result.Plan != nil && res.Result.Plan.Deferred {
		fmt.Fprintln(w, "  the writes held back last time went first: Salesforce's other changes are read next run")
	}
	if n := len(t.waiting); n > 0 {
		fmt.Fprintf(w, "  %d child record(s) wait for their parent to reach Salesforce\n", n)
	}
	for _, n := range t.flagged {
		hint := ""
		if n.Kind == reconcile.NoteBlocked {
			hint = " (deleted before; `casebridge tombstones forget` lets it be created)"
		}
		fmt.Fprintf(w, "  flagged %s: %s%s\n", n.Key, n.Detail, hint)
	}
	for _, e := range res.MappingErrors {
		fmt.Fprintf(w, "  not mapped: %v\n", e)
	}
}
