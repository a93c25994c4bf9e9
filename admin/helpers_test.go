package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

const testToken = "s3cret-admin-token-7f1c"

// testYAML has a scheduled job with a child and a job run only by hand.
const testYAML = `version: 1
salesforce:
  login_url: https://login.salesforce.com
  auth: { flow: jwt, client_id: synthetic, username: integration@ngo.example, private_key_file: sf.key }
sources:
  th_tracker: { kind: csv, path: th.csv }
  bd_sheet: { kind: csv, path: bd.csv }
jobs:
  th_cases:
    schedule: "@every 1h"
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_tracker, key: case_id }
    fields:
      - { sf: vcms__Stage__c, local: stage }
    children:
      - name: stipend
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Amount__c, local: stipend }
  bd_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: bd_sheet, key: case_id }
    fields:
      - { sf: vcms__Stage__c, local: stage }
`

var t0 = time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "casebridge.yaml"), []byte(testYAML), config.Options{
		Getenv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func openStore(t *testing.T) *state.SQLStore {
	t.Helper()
	st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recordRun adds a finished run to the history through the store's own
// StartRun/FinishRun.
func recordRun(t *testing.T, st state.Store, job string, start time.Time, outcome state.Outcome, c state.Counts, msg string) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := st.StartRun(ctx, job, start)
	if err != nil {
		t.Fatal(err)
	}
	if outcome == state.OutcomeRunning {
		return id
	}
	if err := st.FinishRun(ctx, state.Run{ID: id, Job: job, Start: start, End: start.Add(90 * time.Second),
		Outcome: outcome, Counts: c, APICalls: 7, Error: msg}); err != nil {
		t.Fatal(err)
	}
	return id
}

// fakeRunner is Options.Run for tests: it counts its calls (each would be
// a Salesforce call in the daemon) and can be made to block.
type fakeRunner struct {
	calls   atomic.Int32
	mu      sync.Mutex
	opts    []schedules.RunOptions
	block   chan struct{} // when set, runs wait for it to close
	started chan string   // when set, gets the job name as each run starts
	result  func(job string, opts schedules.RunOptions) (*schedules.JobResult, error)
}

func (f *fakeRunner) Run(ctx context.Context, job string, opts schedules.RunOptions) (*schedules.JobResult, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.opts = append(f.opts, opts)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- job
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.result != nil {
		return f.result(job, opts)
	}
	return &schedules.JobResult{Job: job}, nil
}

type env struct {
	t     *testing.T
	srv   *admin.Server
	ts    *httptest.Server
	store *state.SQLStore
	run   *fakeRunner
	reg   *prometheus.Registry
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, mod func(*admin.Options)) *env {
	t.Helper()
	e := &env{t: t, store: openStore(t), run: &fakeRunner{}, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := admin.Options{
		Config:   testConfig(t),
		Store:    e.store,
		Run:      e.run.Run,
		NextRun:  func(job string) time.Time { return t0.Add(time.Hour) },
		Token:    testToken,
		Log:      zerolog.New(e.logs).Level(zerolog.DebugLevel),
		Now:      func() time.Time { return t0.Add(2 * time.Hour) },
		Registry: e.reg,
	}
	if mod != nil {
		mod(&opts)
	}
	e.srv = admin.New(opts)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() {
		if e.run.block != nil {
			select {
			case <-e.run.block:
			default:
				close(e.run.block)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		e.ts.Close()
	})
	return e
}

// do sends a request; token "" sends no Authorization header.
func (e *env) do(method, path, token, body string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// getJSON GETs path, expects want and decodes the body into v.
func (e *env) getJSON(path string, want int, v any) {
	e.t.Helper()
	code, h, b := e.do("GET", path, "", "")
	if code != want {
		e.t.Fatalf("GET %s: status %d, want %d; body %s", path, code, want, b)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("GET %s: %v; body %s", path, err, b)
		}
	}
}

// keys decodes a JSON object and returns its key set, to pin the shapes.
func keys(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
