package salesforce

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is an httptest server playing Salesforce from the recorded
// responses in testdata/ (the contract tests of doc/architecture.md §12). Routes are
// "METHOD /path" (the path without the query); every request is logged.
type recorded struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	log    []logged
	usage  string    // Sforce-Limit-Info value sent on data responses
	date   time.Time // the Date responses carry; zero: none
}

type logged struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         string
}

func newRecorded(t *testing.T) *recorded {
	t.Helper()
	f := &recorded{t: t, routes: map[string]http.HandlerFunc{}, usage: "api-usage=10/15000"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.handle("POST /services/oauth2/token", f.file(200, "token_password.json"))
	return f
}

func (f *recorded) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.log = append(f.log, logged{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	h := f.routes[r.Method+" "+r.URL.Path]
	usage := f.usage
	date := f.date
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/services/data/") && usage != "" {
		w.Header().Set("Sforce-Limit-Info", usage)
	}
	// The recorded responses are from 2024: the server's Date is the
	// test's (none unless set), not today's.
	w.Header()["Date"] = nil
	if !date.IsZero() {
		w.Header().Set("Date", date.Format(http.TimeFormat))
	}
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write(readTestdata(f.t, "not_found.json"))
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

func (f *recorded) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

// file serves a testdata file with status; INSTANCE in it becomes the
// server's URL.
func (f *recorded) file(status int, name string) http.HandlerFunc {
	data := strings.ReplaceAll(string(readTestdata(f.t, name)), "INSTANCE", f.srv.URL)
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(name, ".html") {
			w.Header().Set("Content-Type", "text/html")
		} else if strings.HasSuffix(name, ".csv") {
			w.Header().Set("Content-Type", "text/csv")
		} else {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, data)
	}
}

// raw serves a literal body.
func raw(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// seq serves the handlers in turn, repeating the last.
func seq(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	i := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(i, len(hs)-1)]
		i++
		mu.Unlock()
		h(w, r)
	}
}

// requests returns the logged requests to method+path ("" matches all).
func (f *recorded) requests(route string) []logged {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []logged
	for _, l := range f.log {
		if route == "" || l.Method+" "+l.Path == route {
			out = append(out, l)
		}
	}
	return out
}

func (f *recorded) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const describePath = "/services/data/v62.0/sobjects/vcms__Survivor_Case__c/describe"

// options returns Options for the password flow against f with fast
// retries.
func (f *recorded) options() Options {
	return Options{
		Name:         "vcms_org",
		LoginURL:     f.srv.URL,
		Auth:         Auth{Flow: FlowPassword, ClientID: "cid", ClientSecret: "csecret-XYZ", Username: "u@example.org", Password: "hunter2-pw"},
		HTTPClient:   f.srv.Client(),
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 20 * time.Millisecond,
		LockWait:     time.Millisecond,
	}
}

func (f *recorded) connect(t *testing.T, mod func(*Options)) *Connector {
	t.Helper()
	o := f.options()
	if mod != nil {
		mod(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// withDescribe registers the recorded describe of vcms__Survivor_Case__c.
func (f *recorded) withDescribe() *recorded {
	f.handle("GET "+describePath, f.file(200, "describe_survivor_case.json"))
	return f
}

// noValues fails if msg contains any of the values.
func noValues(t *testing.T, msg string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(msg, v) {
			t.Errorf("message leaks %q: %s", v, msg)
		}
	}
}
