package admin

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// Metric names. Labels only ever carry job names (as configured), sides
// (salesforce, local), ops (create, update, delete), outcomes, stages,
// error codes (sanitised, see codeLabel and stageLabel) and the usage
// kind: never a key or a value.
const (
	metricRuns        = "casebridge_runs_total"
	metricRunFailures = "casebridge_run_failures_total"
	metricDuration    = "casebridge_run_duration_seconds"
	metricWritten     = "casebridge_records_written_total"
	metricFailures    = "casebridge_record_failures_total"
	metricConflicts   = "casebridge_conflicts_open"
	metricLastSuccess = "casebridge_last_success_timestamp_seconds"
	metricAPIUsage    = "casebridge_salesforce_api_usage"
)

type metrics struct {
	s        *Server
	runs     *prometheus.CounterVec
	failed   *prometheus.CounterVec // failed runs by stage and code
	duration *prometheus.HistogramVec
	written  *prometheus.CounterVec
	failures *prometheus.CounterVec
	usage    *prometheus.GaugeVec

	mu          sync.Mutex
	lastSuccess map[string]time.Time // observed by this process
}

func newMetrics(s *Server, reg *prometheus.Registry) *metrics {
	m := &metrics{s: s, lastSuccess: map[string]time.Time{}}
	m.runs = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricRuns,
		Help: "Job runs by outcome (ok, dry_run, aborted, locked, cancelled, failed).",
	}, []string{"job", "outcome"}))
	// The stage is a label of its own counter, not of runs_total: the
	// outcomes' series stay as they were, and a failed run is counted
	// once in each.
	m.failed = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricRunFailures,
		Help: "Failed runs (outcome failed) by the stage that failed (login, start, source, mapping, salesforce, state, sync) and the error's code, as the failure alert names them.",
	}, []string{"job", "stage", "code"}))
	m.duration = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    metricDuration,
		Help:    "Wall-clock duration of job runs.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
	}, []string{"job"}))
	m.written = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricWritten,
		Help: "Records written, by side written to and operation (create, update, delete); children count under their job.",
	}, []string{"job", "side", "op"}))
	m.failures = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricFailures,
		Help: "Per-record failures (failed writes and local rows that did not map), by error code.",
	}, []string{"job", "code"}))
	m.usage = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: metricAPIUsage,
		Help: "The org's daily API requests as last reported by Salesforce (kind: used or limit).",
	}, []string{"kind"}))
	// The state-derived gauges are read from the store at scrape time, so
	// they are right after a restart and across replicas sharing a store.
	if err := reg.Register(&stateCollector{m: m}); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err)
		}
	}
	// Make the usual series exist from the start, at zero, so that rate()
	// and increase() see the first run.
	for _, job := range s.cfg.JobNames() {
		m.duration.WithLabelValues(job)
		for _, o := range []state.Outcome{state.OutcomeOK, state.OutcomeAborted, state.OutcomeFailed} {
			m.runs.WithLabelValues(job, string(o))
		}
		for _, side := range []reconcile.Side{reconcile.SF, reconcile.Local} {
			for _, op := range []reconcile.Op{reconcile.OpCreate, reconcile.OpUpdate, reconcile.OpDelete} {
				m.written.WithLabelValues(job, side.String(), op.String())
			}
		}
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name (a second Server on one registry shares the metrics).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}

// Observe records a run that did not go through the API (the daemon's
// scheduled runs, unless it uses ScheduledRun, which observes them itself)
// in the metrics: its outcome, duration, writes, failures and the org's API
// usage. err is the run's error; a nil err counts as outcome ok.
func (s *Server) Observe(job string, res *schedules.JobResult, err error, took time.Duration) {
	s.observe(job, res, err, took, false)
}

func (s *Server) observe(job string, res *schedules.JobResult, err error, took time.Duration, dryRun bool) {
	if _, ok := s.cfg.Jobs[job]; !ok {
		// Job names are the only free text in labels: keep them to the
		// configured ones so that a caller's mistake cannot put anything
		// else there.
		s.log.Warn().Msg("admin: Observe called for a job not in the configuration; not recorded")
		return
	}
	m := s.metrics
	outcome := outcomeOf(err, dryRun)
	m.runs.WithLabelValues(job, outcome).Inc()
	if outcome == string(state.OutcomeFailed) {
		stage, code := schedules.FailureStage(err)
		m.failed.WithLabelValues(job, stageLabel(stage), codeLabel(code)).Inc()
	}
	m.duration.WithLabelValues(job).Observe(took.Seconds())
	if outcome == string(state.OutcomeOK) {
		m.mu.Lock()
		m.lastSuccess[job] = s.opts.Now()
		m.mu.Unlock()
	}
	if res == nil {
		return
	}
	walk(res.Result, func(r *reconcile.Result) {
		for k, n := range written(r) {
			if n > 0 {
				m.written.WithLabelValues(job, k.side, k.op).Add(float64(n))
			}
		}
		for _, f := range r.Failed {
			m.failures.WithLabelValues(job, codeLabel(f.Code)).Inc()
		}
	})
	for _, e := range res.MappingErrors {
		if e != nil {
			m.failures.WithLabelValues(job, codeLabel(string(e.Code))).Inc()
		}
	}
	if u := res.Usage; u != nil && u.Limit > 0 {
		m.usage.WithLabelValues("used").Set(float64(u.Used))
		m.usage.WithLabelValues("limit").Set(float64(u.Limit))
	}
}

type sideOp struct{ side, op string }

// written splits a result's applied writes (Counts, which know the op but
// not the side) by side, using the plan (which knows both) and the failed
// keys. A dry run or an aborted run has zero counts and writes nothing.
// When one op has writes on both sides and the plan and the counts
// disagree (a write held back by the API budget, a key failing on one side
// only), the op's count is shared out in the plan's proportions.
func written(r *reconcile.Result) map[sideOp]int {
	out := map[sideOp]int{}
	if r.Plan == nil {
		return out
	}
	failed := map[string]bool{}
	for _, f := range r.Failed {
		failed[f.Key] = true
	}
	sides := []reconcile.Side{reconcile.SF, reconcile.Local}
	for _, op := range []reconcile.Op{reconcile.OpCreate, reconcile.OpUpdate, reconcile.OpDelete} {
		var total int
		switch op {
		case reconcile.OpCreate:
			total = r.Counts.Creates
		case reconcile.OpUpdate:
			total = r.Counts.Updates
		case reconcile.OpDelete:
			total = r.Counts.Deletes
		}
		if total == 0 {
			continue
		}
		var est [2]int
		for _, w := range r.Plan.AllWrites() {
			if w.Op == op && !failed[w.Key] {
				est[w.Side]++
			}
		}
		sum := est[0] + est[1]
		switch {
		case sum == total:
		case est[reconcile.Local] == 0:
			est = [2]int{total, 0}
		case est[reconcile.SF] == 0:
			est = [2]int{0, total}
		default:
			sf := (total*est[reconcile.SF] + sum/2) / sum
			est = [2]int{sf, total - sf}
		}
		for _, s := range sides {
			out[sideOp{s.String(), op.String()}] += est[s]
		}
	}
	return out
}

var codeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// codeLabel returns an error code fit for a label: Salesforce's and the
// connectors' codes are UPPER_SNAKE words; anything else (which might carry
// text from a message) is "OTHER", and no code is "UNKNOWN".
func codeLabel(code string) string {
	switch {
	case code == "":
		return "UNKNOWN"
	case codeRE.MatchString(code):
		return code
	}
	return "OTHER"
}

var stageRE = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

// stageLabel returns a stage fit for a label: the stages are lower-case
// words (schedules.FailureStage); anything else is "other".
func stageLabel(stage string) string {
	if stageRE.MatchString(stage) {
		return stage
	}
	return "other"
}

// stateCollector reports the gauges that come from the state store.
type stateCollector struct{ m *metrics }

var (
	descConflicts = prometheus.NewDesc(metricConflicts,
		"Open (unresolved) conflicts in the job's manual queue, children included.", []string{"job"}, nil)
	descLastSuccess = prometheus.NewDesc(metricLastSuccess,
		"Unix time the job's last successful (ok) run ended.", []string{"job"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConflicts
	ch <- descLastSuccess
}

// lastOKScan is how many recent runs a scrape looks through for the last
// successful one.
const lastOKScan = 50

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.s
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StoreTimeout)
	defer cancel()
	for _, name := range s.cfg.JobNames() {
		j := s.cfg.Jobs[name]
		if n, err := s.openConflicts(ctx, j); err == nil {
			ch <- prometheus.MustNewConstMetric(descConflicts, prometheus.GaugeValue, float64(n), name)
		} else {
			s.log.Warn().Err(err).Str("job", name).Msg("admin: metrics: state store query failed")
		}
		var last time.Time
		if runs, err := s.store.Runs(ctx, name, lastOKScan); err == nil {
			for _, r := range runs {
				if r.Outcome == state.OutcomeOK {
					last = r.End
					break
				}
			}
		}
		c.m.mu.Lock()
		if t := c.m.lastSuccess[name]; t.After(last) {
			last = t
		}
		c.m.mu.Unlock()
		if !last.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue,
				float64(last.UnixNano())/1e9, name)
		}
	}
}
