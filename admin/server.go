package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

// DefaultAddr is where the daemon should listen unless told otherwise: the
// loopback interface only (doc/architecture.md §10). Exposing the API further is a
// deliberate choice of the operator, behind a proxy that terminates TLS.
const DefaultAddr = "127.0.0.1:9477"

// RunFunc runs one job once, as schedules.Runner.Run does.
type RunFunc func(ctx context.Context, job string, opts schedules.RunOptions) (*schedules.JobResult, error)

// Options configure a Server. Config and Store are required; the rest have
// defaults.
type Options struct {
	// Config is the loaded configuration: its jobs are the API's jobs.
	Config *config.Config
	// Store is the state store holding run history, errors and conflicts.
	Store state.Store
	// Run runs a job by hand (POST /api/v1/jobs/{job}/run) and, through
	// ScheduledRun, on its schedule. Nil: runs by hand answer 501.
	Run RunFunc
	// NextRun returns when a job fires next (schedules.Scheduler.NextRun);
	// the zero time for none. Nil: next runs are not shown.
	NextRun func(job string) time.Time
	// Token is the bearer token every state-changing endpoint requires.
	// Empty: those endpoints answer 403 (the API is read-only). The Server
	// keeps only a hash of it, and never logs it.
	Token string
	// ProtectReads makes the JSON read endpoints (/api/v1/...) require the
	// token too. /healthz, /readyz, /metrics and the status page stay open;
	// they carry no record keys.
	ProtectReads bool
	// Log receives one line per request (method, route pattern, status,
	// duration) and per run started here; never a token, a query string or
	// a value.
	Log zerolog.Logger
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Registry receives the casebridge_* metrics and is what /metrics
	// serves. Nil: a new registry holding only them.
	Registry *prometheus.Registry
	// RunTimeout bounds a run started through the API (0: no bound beyond
	// the job lease).
	RunTimeout time.Duration
	// StoreTimeout bounds each state store query of readiness checks and
	// metric scrapes (default 5s).
	StoreTimeout time.Duration
}

// Server is the admin HTTP API, the Prometheus metrics and the status page.
// It is safe for concurrent use.
type Server struct {
	opts      Options
	cfg       *config.Config
	store     state.Store
	log       zerolog.Logger
	tokenHash [32]byte
	hasToken  bool
	metrics   *metrics
	handler   http.Handler

	ctx    context.Context // parent of runs started through the API
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool            // Close was called: no new runs
	running  map[string]bool // jobs with a run in progress in this process
	triggers map[int64]*Trigger
	order    []int64 // trigger ids, oldest first
	nextID   int64
}

// New returns a Server. It panics if Config or Store is nil: the daemon
// cannot serve an admin API without them.
func New(opts Options) *Server {
	if opts.Config == nil || opts.Store == nil {
		panic("admin.New: Options.Config and Options.Store are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 5 * time.Second
	}
	s := &Server{
		opts:     opts,
		cfg:      opts.Config,
		store:    opts.Store,
		log:      opts.Log,
		running:  map[string]bool{},
		triggers: map[int64]*Trigger{},
	}
	if opts.Token != "" {
		s.tokenHash = sha256.Sum256([]byte(opts.Token))
		s.hasToken = true
	}
	s.opts.Token = "" // keep the hash only
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics = newMetrics(s, opts.Registry)
	s.handler = s.routes()
	return s
}

// Handler returns the HTTP handler serving every endpoint (see the package
// documentation).
func (s *Server) Handler() http.Handler { return s.handler }

// Close cancels the runs started through the API and waits for them to
// return, or for ctx to end.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	read := s.readEndpoint
	mux.HandleFunc("GET /{$}", s.statusPage)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/jobs", read(s.listJobs))
	mux.HandleFunc("GET /api/v1/jobs/{job}", read(s.getJob))
	mux.HandleFunc("GET /api/v1/jobs/{job}/runs", read(s.listRuns))
	mux.HandleFunc("GET /api/v1/jobs/{job}/runs/{id}/errors", read(s.runErrors))
	mux.HandleFunc("GET /api/v1/jobs/{job}/triggers/{id}", read(s.getTrigger))
	mux.HandleFunc("GET /api/v1/conflicts", read(s.listConflicts))
	mux.HandleFunc("POST /api/v1/jobs/{job}/run", s.writeEndpoint(s.startRun))
	mux.HandleFunc("POST /api/v1/conflicts/resolve", s.writeEndpoint(s.resolveConflict))
	mux.HandleFunc("/api/v1/jobs/{job}/run", methodNotAllowed("POST"))
	mux.HandleFunc("/api/v1/conflicts/resolve", methodNotAllowed("POST"))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint; see GET /api/v1/jobs")
	})
	return s.logRequests(mux)
}

// methodNotAllowed answers 405 with a JSON error naming the allowed method.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "use "+allow)
	}
}

// readEndpoint guards a JSON read endpoint: open unless ProtectReads.
func (s *Server) readEndpoint(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.ProtectReads && !s.authorize(w, r) {
			return
		}
		h(w, r)
	}
}

// writeEndpoint guards a state-changing endpoint: the bearer token, always.
func (s *Server) writeEndpoint(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorize(w, r) {
			return
		}
		h(w, r)
	}
}

// authorize checks the request's bearer token in constant time (it compares
// SHA-256 hashes, so not even the token's length leaks) and answers the
// request itself when it fails: 403 when no token is configured, 401 when
// the token is missing or wrong.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !s.hasToken {
		writeError(w, http.StatusForbidden, "no admin token is configured: this endpoint is disabled (set the daemon's admin token to enable it)")
		return false
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="casebridge"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer <token>)")
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="casebridge", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "wrong bearer token")
		return false
	}
	return true
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request by its route pattern, not its URL: no
// query string, no header, no body.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		ev := s.log.Debug()
		if rec.status >= 500 {
			ev = s.log.Warn()
		}
		ev.Str("method", r.Method).Str("route", route).Int("status", rec.status).
			Dur("took", time.Since(start)).Msg("admin request")
	})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorBody{Error: msg})
}

// decodeBody decodes a small JSON object body into v, rejecting unknown
// fields. An empty body leaves v as it is when allowEmpty. The error
// message names what is expected and never echoes the body.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body := http.MaxBytesReader(w, r.Body, 64<<10)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && allowEmpty {
		return nil
	}
	if err != nil {
		return errBadBody
	}
	if dec.More() {
		return errBadBody
	}
	return nil
}

var errBadBody = errors.New("bad body")
