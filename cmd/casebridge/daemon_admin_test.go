package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// syncBuffer is a strings.Builder safe for a daemon's log and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestDaemonAdminExposure (issue 14): the daemon refuses an admin API on an
// address that is not loopback without a token unless --admin-insecure,
// and warns of it either way; --admin-protect-reads puts the JSON reads
// behind the token (and needs one).
func TestDaemonAdminExposure(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "casebridge.yaml")
	tokenFile := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// daemon runs the daemon until ready (or it exits), then returns its
	// exit code channel, a stop function and its stderr.
	daemon := func(args ...string) (<-chan int, func(), *syncBuffer) {
		ctx, cancel := context.WithCancel(context.Background())
		var errb syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- runContext(ctx, append([]string{"daemon", cfg, "--log-format", "json"}, args...), strings.NewReader(""), io.Discard, &errb)
		}()
		return done, cancel, &errb
	}
	refused := func(want string, args ...string) {
		t.Helper()
		done, stop, errb := daemon(args...)
		defer stop()
		select {
		case code := <-done:
			if code != exitUsage || !strings.Contains(errb.String(), want) {
				t.Errorf("daemon %v: exit %d, want %d naming %q; stderr:\n%s", args, code, exitUsage, want, errb)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("daemon %v started; want it refused (%q)", args, want)
		}
	}
	refused("--admin-insecure", "--admin", "0.0.0.0:"+freePort(t))
	refused("--admin-insecure", "--admin", ":"+freePort(t))
	refused("protecting reads needs a token", "--admin", "127.0.0.1:"+freePort(t), "--admin-protect-reads")

	// Forced: it starts, and warns.
	port := freePort(t)
	done, stop, errb := daemon("--admin", "0.0.0.0:"+port, "--admin-insecure")
	waitHTTP(t, done, "http://127.0.0.1:"+port+"/healthz")
	if !strings.Contains(errb.String(), `"level":"warn"`) || !strings.Contains(errb.String(), "open to the network without a token") {
		t.Errorf("no warning for an admin API open to the network:\n%s", errb)
	}
	stop()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after stop", code)
	}

	// Reads behind the token.
	addr := "127.0.0.1:" + freePort(t)
	done, stop, _ = daemon("--admin", addr, "--admin-token-file", tokenFile, "--admin-protect-reads")
	defer stop()
	waitHTTP(t, done, "http://"+addr+"/healthz")
	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/jobs", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/jobs without the token: %d, want 401", code)
	}
	if code := get("s3cret-admin-token"); code != http.StatusOK {
		t.Errorf("GET /api/v1/jobs with the token: %d, want 200", code)
	}
}

// waitHTTP waits until url answers 200, failing if the daemon exits.
func waitHTTP(t *testing.T, done <-chan int, url string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case code := <-done:
			t.Fatalf("the daemon exited with %d", code)
		case <-deadline:
			t.Fatalf("%s did not answer within 30 s", url)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
