package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/schedules"
)

func (a *app) daemonCommand() *cobra.Command {
	var stopTimeout time.Duration
	var adminAddr, tokenFile string
	var adminHosts []string
	cmd := &cobra.Command{
		Use:   "daemon CONFIG",
		Short: "Run the configured jobs on their schedules until stopped",
		Long: `Run in the foreground as a service: each job with a schedule runs at its
times (cron specs run in UTC unless they say CRON_TZ=Zone), one run of a job
at a time; a run still going when its next time comes is skipped, not queued.
Jobs without a schedule run only by hand (casebridge sync).

It serves the admin API on --admin (127.0.0.1:9477 by default; "" turns it
off): a status page, /healthz and /readyz (no Salesforce calls), Prometheus
/metrics, JSON run history, per-record errors and conflicts, and, with the
bearer token read from --admin-token-file or $CASEBRIDGE_ADMIN_TOKEN, runs by
hand and conflict resolutions. No record values are ever served.

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
			token, err := adminToken(tokenFile)
			if err != nil {
				return withCode(exitConfig, err)
			}
			var sched *schedules.Scheduler
			srv := admin.New(admin.Options{
				Config: cfg, Store: r.Store, Run: r.Run, Token: token, Log: a.log,
				NextRun: func(job string) time.Time { return sched.NextRun(job) },
			})
			sched = schedules.New(a.log, srv.ScheduledRun)
			sched.SetOrder(cfg.RunsAfter) // jobs due together: lookups after the jobs writing what they search
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
			var hs *http.Server
			if adminAddr != "" {
				ln, err := net.Listen("tcp", adminAddr)
				if err != nil {
					return withCode(exitError, fmt.Errorf("admin API: %w", err))
				}
				// Only loopback names and --admin-host names: a web page
				// cannot rebind a name of its own to 127.0.0.1 and read the API.
				hs = &http.Server{Handler: admin.HostGuard(srv.Handler(), adminHosts...), ReadHeaderTimeout: 10 * time.Second}
				go hs.Serve(ln)
				a.log.Info().Str("addr", ln.Addr().String()).Bool("token", token != "").Msg("admin API listening")
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
			if hs != nil {
				_ = hs.Shutdown(stopCtx)
			}
			_ = srv.Close(stopCtx)
			if err := sched.Stop(stopCtx); err != nil {
				return withCode(exitError, fmt.Errorf("runs did not stop within %s", stopTimeout))
			}
			a.log.Info().Msg("stopped")
			return nil
		},
	}
	cmd.Flags().DurationVar(&stopTimeout, "stop-timeout", 30*time.Second, "how long runs in progress get to stop")
	cmd.Flags().StringVar(&adminAddr, "admin", admin.DefaultAddr, "admin API address (loopback by default; \"\" turns it off)")
	cmd.Flags().StringSliceVar(&adminHosts, "admin-host", nil, "a host name the admin API answers besides localhost, 127.0.0.1 and ::1 (a reverse proxy's); repeat for several")
	cmd.Flags().StringVar(&tokenFile, "admin-token-file", "", "file holding the admin API's bearer token (default: $CASEBRIDGE_ADMIN_TOKEN; none: the API is read-only)")
	return cmd
}

// adminToken reads the admin API token from file, or from
// $CASEBRIDGE_ADMIN_TOKEN; "" leaves the API read-only.
func adminToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv("CASEBRIDGE_ADMIN_TOKEN")), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--admin-token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("--admin-token-file %s is empty", file)
	}
	return t, nil
}
