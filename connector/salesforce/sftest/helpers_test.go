package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// testNow is the fixed clock of most tests.
var testNow = time.Date(2024, 4, 10, 8, 0, 0, 123_000_000, time.UTC)

type tclient struct {
	t     *testing.T
	org   *Org
	srv   *httptest.Server
	token string
}

func newTestClient(t *testing.T, opts Options) *tclient {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	org, srv := NewServer(t, opts)
	return &tclient{t: t, org: org, srv: srv, token: org.IssueToken(DefaultUsername)}
}

// do sends a request; hdr is a list of "Key: value" strings.
func (c *tclient) do(method, path, body string, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

const v = "/services/data/v62.0"

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return x
}

var idRE = regexp.MustCompile(`^[a-zA-Z0-9]{18}$`)

// matchJSON compares got against want, where want strings may be the
// wildcards "<any>", "<id>" (18-char id), "<datetime>" (Salesforce form).
func matchJSON(path string, got, want any) []string {
	switch w := want.(type) {
	case string:
		switch w {
		case "<any>":
			return nil
		case "<id>":
			if s, ok := got.(string); ok && idRE.MatchString(s) {
				return nil
			}
		case "<datetime>":
			if s, ok := got.(string); ok && regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`).MatchString(s) {
				return nil
			}
		default:
			if got == w {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %#v, want an object", path, got)}
		}
		var out []string
		subset := w["<subset>"] == true
		for k, wv := range w {
			if k == "<subset>" {
				continue
			}
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, matchJSON(path+"."+k, gv, wv)...)
		}
		for k := range g {
			if _, ok := w[k]; !ok && !subset {
				out = append(out, fmt.Sprintf("%s.%s: unexpected key", path, k))
			}
		}
		sort.Strings(out)
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %#v, want %d elements", path, got, len(w))}
		}
		var out []string
		for i := range w {
			out = append(out, matchJSON(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	}
	return nil
}

// assertJSON checks a body against a hand-written expectation (inline JSON
// or a testdata file name ending in .json).
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	if strings.HasSuffix(want, ".json") {
		b, err := os.ReadFile(filepath.Join("testdata", want))
		if err != nil {
			t.Fatal(err)
		}
		want = string(b)
	}
	for _, d := range matchJSON("$", decodeJSON(t, got), decodeJSON(t, []byte(want))) {
		t.Error(d)
	}
	if t.Failed() {
		t.Logf("body: %s", got)
	}
}

func assertStatus(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, body)
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func newBenchRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func benchRequest(method, path, body, token string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}
