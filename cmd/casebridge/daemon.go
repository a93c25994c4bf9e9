package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/schedules"
)

func (a *app) daemonCommand() *cobra.Command {
	var stopTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "daemon CONFIG",
		Short: "Run the configured jobs on their schedules until stopped",
		Long: `Run in the foreground as a service: each job with a schedule runs at its
times (cron specs run in UTC unless they say CRON_TZ=Zone), one run of a job
at a time; a run still going when its next time comes is skipped, not queued.
Jobs without a schedule run only by hand (casebridge sync).

Ctrl-C or SIGTERM stops it: runs in progress are cancelled and given
--stop-timeout to finish. Run it under systemd, a Windows service wrapper or
Kubernetes; several replicas may share a PostgreSQL state store, and each due
run is then taken by one of them.`,
		Example: "  casebridge daemon /etc/casebridge/casebridge.yaml",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig(argv[0])
			if err != nil {
				return err
			}
			r, err := schedules.Open(ctx, cfg, a.log)
			if err != nil {
				return err
			}
			defer r.Close()
			sched := schedules.New(a.log, func(ctx context.Context, job string) error {
				res, err := r.Run(ctx, job, schedules.RunOptions{})
				if res != nil && res.Result != nil {
					c := res.Result.Counts
					a.log.Info().Str("job", job).Int64("run", res.Result.RunID).
						Int("created", c.Creates).Int("updated", c.Updates).Int("deleted", c.Deletes).
						Int("conflicts", c.Conflicts).Int("failed", len(res.Result.Failed)).
						Int("not_mapped", len(res.MappingErrors)).Msg("run summary")
				}
				return err
			})
			scheduled := 0
			for _, name := range cfg.JobNames() {
				job := cfg.Jobs[name]
				if job.Schedule.IsZero() {
					a.log.Info().Str("job", name).Msg("no schedule: runs only by hand")
					continue
				}
				if err := sched.Add(name, job.Schedule); err != nil {
					return withCode(exitConfig, err)
				}
				scheduled++
			}
			if scheduled == 0 {
				return withCode(exitConfig, fmt.Errorf("%s: no job has a schedule; add one (schedule: \"30 2 * * *\") or run jobs with casebridge sync", argv[0]))
			}
			sched.Start()
			for _, name := range cfg.JobNames() {
				if next := sched.NextRun(name); !next.IsZero() {
					a.log.Info().Str("job", name).Str("schedule", cfg.Jobs[name].Schedule.Spec).Time("next_run", next).Msg("scheduled")
				}
			}
			<-ctx.Done()
			a.log.Info().Msg("stopping: cancelling runs in progress")
			stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			if err := sched.Stop(stopCtx); err != nil {
				return withCode(exitError, fmt.Errorf("runs did not stop within %s", stopTimeout))
			}
			a.log.Info().Msg("stopped")
			return nil
		},
	}
	cmd.Flags().DurationVar(&stopTimeout, "stop-timeout", 30*time.Second, "how long runs in progress get to stop")
	return cmd
}
