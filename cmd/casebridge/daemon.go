package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/schedules"
)

func (a *app) daemonCommand() *cobra.Command {
	var stopTimeout time.Duration
	var adminAddr, tokenFile string
	var adminHosts []string
	var protectReads, insecure bool
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
hand and conflict resolutions. No record values are ever served. The JSON
read endpoints (job names, record keys, error codes) are open on the
loopback address; --admin-protect-reads makes them need the token too.
Listening on any other address without a token is refused unless
--admin-insecure; it is warned of either way (the API speaks plain HTTP: put
a TLS proxy in front, and name it with --admin-host).

SIGHUP reloads CONFIG (and the admin token file): the new configuration is
loaded, validated, logged in to Salesforce and checked against the org's
schema (as validate --online: an object or field the org does not have)
first; if any of it fails, the reload is refused, each problem logged with
its position, and the daemon goes on under the configuration it had. (An
object the org cannot be asked about at that moment, with its API limit
spent say, is warned of and not checked.) Otherwise the new schedules take
over at once, and runs
in progress finish under the old configuration (a job whose run is still
going skips its firings under the new one until that run ends).

The alerts of CONFIG (alerts:) tell people, by webhook or e-mail, of a run
that failed at any stage (a refused Salesforce login included), a job locked
out, a safety brake, conflicts held for a person and findings, with job,
stage, counts and codes, never values; an alert like the last is repeated at
most once per its every. casebridge alerts test CONFIG checks the targets.

Ctrl-C or SIGTERM stops it: runs in progress are cancelled and given
--stop-timeout to finish. Run it under systemd (ExecReload=kill -HUP
$MAINPID), a Windows service wrapper or Kubernetes; several replicas may
share a PostgreSQL state store, and each due run is then taken by one of
them.`,
		Example: "  casebridge daemon /etc/casebridge/casebridge.yaml\n  kill -HUP $(pidof casebridge)   # reload the configuration",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			// SIGHUP is caught from the start: it never kills the daemon.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)

			cfg, err := a.loadConfig(argv[0])
			if err != nil {
				return err
			}
			token, err := adminToken(tokenFile)
			if err != nil {
				return withCode(exitConfig, err)
			}
			d := &daemon{log: a.log, path: argv[0], hosts: adminHosts, busy: map[string]bool{},
				exposure: admin.Exposure{Addr: adminAddr, ProtectReads: protectReads, Insecure: insecure}}
			if adminAddr != "" {
				if _, err := d.checkExposure(token); err != nil {
					return withCode(exitUsage, err)
				}
			}
			g, err := d.open(ctx, cfg, token)
			if err != nil {
				return err
			}
			d.cur.Store(g)
			var hs *http.Server
			if adminAddr != "" {
				ln, err := net.Listen("tcp", adminAddr)
				if err != nil {
					g.close(context.Background())
					return withCode(exitError, fmt.Errorf("admin API: %w", err))
				}
				// Each request goes to the current configuration's server.
				hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					d.cur.Load().handler.ServeHTTP(w, r)
				}), ReadHeaderTimeout: 10 * time.Second}
				go hs.Serve(ln)
				a.log.Info().Str("addr", ln.Addr().String()).Bool("token", token != "").Bool("protect_reads", protectReads).Msg("admin API listening")
				if warning, _ := d.checkExposure(token); warning != "" {
					a.log.Warn().Msg(warning)
				}
			}
			g.start()
			for {
				select {
				case <-hup:
					d.reload(ctx, tokenFile)
					continue
				case <-ctx.Done():
				}
				break
			}
			a.log.Info().Msg("stopping: cancelling runs in progress")
			stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			if hs != nil {
				_ = hs.Shutdown(stopCtx)
			}
			if err := d.stop(stopCtx); err != nil {
				return withCode(exitError, fmt.Errorf("runs did not stop within %s", stopTimeout))
			}
			a.log.Info().Msg("stopped")
			return nil
		},
	}
	cmd.Flags().DurationVar(&stopTimeout, "stop-timeout", 30*time.Second, "how long runs in progress get to stop")
	cmd.Flags().StringVar(&adminAddr, "admin", admin.DefaultAddr, "admin API address (loopback by default; \"\" turns it off)")
	cmd.Flags().StringSliceVar(&adminHosts, "admin-host", nil, "a host name the admin API answers besides localhost, 127.0.0.1 and ::1 (a reverse proxy's); repeat for several")
	cmd.Flags().StringVar(&tokenFile, "admin-token-file", "", "file holding the admin API's bearer token (default: $CASEBRIDGE_ADMIN_TOKEN; none: the API is read-only); reread on SIGHUP")
	cmd.Flags().BoolVar(&protectReads, "admin-protect-reads", false, "the admin API's JSON read endpoints need the token too (the status page, /metrics, /healthz and /readyz stay open: no record keys)")
	cmd.Flags().BoolVar(&insecure, "admin-insecure", false, "allow --admin on an address that is not loopback without a token (anyone who reaches it reads job names, record keys and error codes)")
	return cmd
}

// daemon is the daemon's state across configuration reloads: the current
// generation, those still finishing their runs, and the jobs with a run
// in progress under any of them.
type daemon struct {
	log      zerolog.Logger
	path     string
	hosts    []string
	exposure admin.Exposure // how the admin API listens ("" Addr: it does not)
	cur      atomic.Pointer[generation]

	mu   sync.Mutex
	old  []*generation   // replaced, finishing their runs
	busy map[string]bool // jobs with a run in progress in this process
}

// generation is the daemon under one configuration: its runner (state
// store, Salesforce login), admin server and scheduler.
type generation struct {
	d       *daemon
	cfg     *config.Config
	r       *schedules.Runner
	srv     *admin.Server
	sched   *schedules.Scheduler
	handler http.Handler

	mu      sync.Mutex
	retired bool           // replaced: starts no run
	runs    sync.WaitGroup // its runs in progress
	once    sync.Once
}

// errPreviousRun skips a firing of a job whose run under the configuration
// before a reload is still going. It is a claimed run to the scheduler
// and the admin server (logged as skipped, not counted as a run).
var errPreviousRun = fmt.Errorf("a run of this job under the configuration before the reload is still going: skipped (%w)", schedules.ErrRunClaimed)

// errReplaced skips a firing of a replaced configuration's schedule.
var errReplaced = fmt.Errorf("the configuration was reloaded: the new one runs the job (%w)", schedules.ErrRunClaimed)

// open prepares a generation for cfg: everything that can fail before it
// takes over (store, fingerprint key, Salesforce login, schedules).
func (d *daemon) open(ctx context.Context, cfg *config.Config, token string) (*generation, error) {
	scheduled := 0
	for _, name := range cfg.JobNames() {
		if !cfg.Jobs[name].Schedule.IsZero() {
			scheduled++
		}
	}
	if scheduled == 0 {
		return nil, withCode(exitConfig, fmt.Errorf("%s: no job has a schedule; add one (schedule: \"30 2 * * *\") or run jobs with casebridge sync", d.path))
	}
	r, err := schedules.Open(ctx, cfg, d.log)
	if err != nil {
		return nil, err
	}
	g := &generation{d: d, cfg: cfg, r: r}
	g.srv = admin.New(admin.Options{
		Config: cfg, Store: r.Store, Run: g.run, Token: token, Log: d.log, ProtectReads: d.exposure.ProtectReads,
		NextRun: func(job string) time.Time { return g.sched.NextRun(job) },
	})
	// Only loopback names and --admin-host names: a web page cannot
	// rebind a name of its own to 127.0.0.1 and read the API.
	g.handler = admin.HostGuard(g.srv.Handler(), d.hosts...)
	g.sched = schedules.New(d.log, g.scheduled)
	g.sched.SetOrder(cfg.RunsAfter) // jobs due together: lookups after the jobs writing what they search
	for _, name := range cfg.JobNames() {
		job := cfg.Jobs[name]
		if job.Schedule.IsZero() {
			d.log.Info().Str("job", name).Msg("no schedule: runs only by hand")
			continue
		}
		if err := g.sched.Add(name, job.Schedule); err != nil {
			g.close(context.Background())
			return nil, withCode(exitConfig, err)
		}
	}
	return g, nil
}

// start starts the generation's schedules.
func (g *generation) start() {
	g.sched.Start()
	for _, name := range g.cfg.JobNames() {
		if next := g.sched.NextRun(name); !next.IsZero() {
			g.d.log.Info().Str("job", name).Str("schedule", g.cfg.Jobs[name].Schedule.Spec).Time("next_run", next).Msg("scheduled")
		}
	}
}

// scheduled is the scheduler's RunFunc: the admin server's, unless the
// generation was replaced.
func (g *generation) scheduled(ctx context.Context, job string) error {
	g.mu.Lock()
	retired := g.retired
	g.mu.Unlock()
	if retired {
		return errReplaced
	}
	return g.srv.ScheduledRun(ctx, job)
}

// run runs a job under this generation (scheduled or by hand through the
// admin API). A job has one run at a time in the process, whichever
// configuration started it.
func (g *generation) run(ctx context.Context, job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
	g.mu.Lock()
	if g.retired {
		g.mu.Unlock()
		return nil, fmt.Errorf("job %s: %w", job, errReplaced)
	}
	g.runs.Add(1)
	g.mu.Unlock()
	defer g.runs.Done()
	d := g.d
	d.mu.Lock()
	if d.busy[job] {
		d.mu.Unlock()
		return nil, fmt.Errorf("job %s: %w", job, errPreviousRun)
	}
	d.busy[job] = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.busy, job)
		d.mu.Unlock()
	}()
	return g.r.Run(ctx, job, opts)
}

// retire makes the generation start no run, waits for its runs in
// progress to end, then closes it. If ctx ends first (the daemon stops),
// it returns false and leaves the closing, which cancels the runs, to
// the daemon's stop.
func (g *generation) retire(ctx context.Context) bool {
	g.mu.Lock()
	g.retired = true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		g.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return false
	}
	g.close(context.Background()) // nothing runs: nothing to wait for
	return true
}

// close stops the scheduler (cancelling what still runs), the admin
// server's runs and the runner. Once.
func (g *generation) close(ctx context.Context) error {
	var err error
	g.once.Do(func() {
		g.mu.Lock()
		g.retired = true
		g.mu.Unlock()
		err = errors.Join(g.sched.Stop(ctx), g.srv.Close(ctx))
		g.r.Close()
	})
	return err
}

// reload loads the configuration again (SIGHUP). Any failure leaves the
// current configuration running; otherwise the new one takes over and the
// old one finishes its runs in the background.
func (d *daemon) reload(ctx context.Context, tokenFile string) {
	log := d.log.With().Str("config", d.path).Logger()
	log.Info().Msg("SIGHUP: reloading the configuration")
	refuse := func(err error) {
		log.Error().Err(err).Msg("configuration reload refused: the daemon goes on under the configuration it had")
	}
	cfg, err := config.Load(d.path)
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			log.Error().Msg(e.Error())
		}
		refuse(fmt.Errorf("%d configuration problem(s); run 'casebridge validate %s'", len(errs), d.path))
		return
	}
	if err != nil {
		refuse(err)
		return
	}
	for _, w := range cfg.Warnings {
		log.Warn().Msg(w.Error())
	}
	token, err := adminToken(tokenFile)
	if err != nil {
		refuse(err)
		return
	}
	if d.exposure.Addr != "" {
		if _, err := d.checkExposure(token); err != nil { // the token is gone
			refuse(err)
			return
		}
	}
	g, err := d.open(ctx, cfg, token)
	if err != nil {
		refuse(err)
		return
	}
	// Against the org, as validate --online: a configuration naming an
	// object or field the org lacks would fail every run from now on.
	findings, unchecked := checkAgainstOrg(ctx, cfg, g.r.Salesforce.Describe)
	if ctx.Err() != nil { // stopping: the current generation is the one to stop
		g.close(context.Background())
		refuse(ctx.Err())
		return
	}
	if len(findings) > 0 {
		g.close(context.Background())
		for _, e := range findings {
			log.Error().Msg(e.Error())
		}
		refuse(fmt.Errorf("%d %s against the org; run 'casebridge validate --online %s'",
			len(findings), plural(len(findings), "problem", "problems"), d.path))
		return
	}
	for _, u := range unchecked {
		log.Warn().Str("object", u.object).Err(u.err).Msg("configuration reload: the org could not be asked about this object; its part of the configuration is not checked against the org")
	}
	old := d.cur.Swap(g)
	d.mu.Lock()
	d.old = append(d.old, old)
	d.mu.Unlock()
	g.start()
	log.Info().Int("jobs", len(cfg.Jobs)).Msg("configuration reloaded: runs in progress finish under the previous one")
	go func() {
		if !old.retire(ctx) {
			return
		}
		d.mu.Lock()
		for i, o := range d.old {
			if o == old {
				d.old = append(d.old[:i], d.old[i+1:]...)
				break
			}
		}
		d.mu.Unlock()
		log.Info().Msg("the previous configuration's runs are done; it is closed")
	}()
}

// orgCheckTimeout bounds the describes of a reload's check against the
// org: the daemon's signals wait for it.
const orgCheckTimeout = time.Minute

// uncheckedObject is an object a reload could not describe, and why.
type uncheckedObject struct {
	object string
	err    error
}

// checkAgainstOrg checks cfg against the org's schema as validate --online
// does (mapping.CheckOnline). findings are what the org says is wrong (an
// object or field it does not have, a field that cannot be written, ...),
// each at its file:line:col; they refuse a reload. unchecked are the
// objects the org could not be asked about (it did not answer, the API
// budget or the org's daily limit is spent): a reload goes on without
// their check, as it did before reloads were checked online, rather than
// being refused because the org is briefly away.
func checkAgainstOrg(ctx context.Context, cfg *config.Config, describe mapping.DescribeFunc) (findings config.Errors, unchecked []uncheckedObject) {
	ctx, cancel := context.WithTimeout(ctx, orgCheckTimeout)
	defer cancel()
	failed := map[string]error{}
	all := mapping.CheckOnline(ctx, cfg, func(ctx context.Context, object string) (*connector.Object, error) {
		o, err := describe(ctx, object)
		if err != nil && !errors.Is(err, connector.ErrObjectNotFound) {
			if _, seen := failed[object]; !seen {
				failed[object] = err
				unchecked = append(unchecked, uncheckedObject{object, err})
			}
		}
		return o, err
	})
	// CheckOnline reports a describe that failed, other than "no such
	// object", once, as "cannot describe OBJECT: ERR": that is not the
	// org's word on the configuration.
	notAnswered := map[string]bool{}
	for object, err := range failed {
		notAnswered[fmt.Sprintf("cannot describe %s: %v", object, err)] = true
	}
	for _, e := range all {
		if !notAnswered[e.Msg] {
			findings = append(findings, e)
		}
	}
	return findings, unchecked
}

// stop stops every generation: runs in progress are cancelled and waited
// for until ctx ends.
func (d *daemon) stop(ctx context.Context) error {
	d.mu.Lock()
	gens := append([]*generation{d.cur.Load()}, d.old...)
	d.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(gens))
	for i, g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.close(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkExposure judges the admin API's address with token
// (admin.CheckExposure).
func (d *daemon) checkExposure(token string) (string, error) {
	e := d.exposure
	e.Token = token != ""
	return admin.CheckExposure(e)
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
