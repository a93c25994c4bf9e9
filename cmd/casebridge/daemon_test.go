package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestDaemonRunsScheduledJobs starts the daemon on the demo's files with
// th_cases scheduled every second, waits for a scheduled run to create the
// sheet's cases in the fake org, then stops it as SIGTERM would.
func TestDaemonRunsScheduledJobs(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	text, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	scheduled := strings.Replace(string(text), `schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"`, `schedule: "@every 1s"`, 1)
	if scheduled == string(text) {
		t.Fatal("the demo configuration no longer has the schedule this test replaces")
	}
	if err := os.WriteFile(cfgPath, []byte(scheduled), 0o600); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"daemon", cfgPath, "--log-level", "error", "--admin", adminAddr}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	deadline := time.After(30 * time.Second)
	for {
		if _, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007"); ok {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("daemon exited early with %d", code)
		case <-deadline:
			cancel()
			t.Fatal("no scheduled run created TH-CL-0007 within 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-bd-dk:BD-REM-0014"); ok {
		t.Error("bd_cases has no schedule but ran")
	}
	// The admin API serves the daemon's jobs and metrics, without values.
	for _, path := range []string{"/healthz", "/api/v1/jobs", "/metrics"} {
		resp, err := http.Get("http://" + adminAddr + path)
		if err != nil {
			t.Fatalf("admin %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("admin %s: status %d", path, resp.StatusCode)
		}
		if path == "/api/v1/jobs" && !strings.Contains(string(body), `"th_cases"`) {
			t.Errorf("admin jobs do not list th_cases: %s", body)
		}
		if strings.Contains(string(body), "สมหญิง") {
			t.Errorf("admin %s serves a record value", path)
		}
	}
	// A name that is not loopback (DNS rebinding) is refused.
	req, _ := http.NewRequest(http.MethodGet, "http://"+adminAddr+"/api/v1/jobs", nil)
	req.Host = "rebound.attacker.example"
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("a foreign Host header: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("a foreign Host header: status %d, want 421", resp.StatusCode)
		}
	}
	resp, err := http.Post("http://"+adminAddr+"/api/v1/jobs/th_cases/run", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a run by hand without a configured token: status %d, want 403", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("daemon exit %d after stop, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

// TestDaemonNeedsASchedule: a configuration whose jobs all run by hand is a
// configuration error for the daemon.
func TestDaemonNeedsASchedule(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	text, _ := os.ReadFile(cfgPath)
	unscheduled := strings.Replace(string(text), `schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"`, ``, 1)
	if err := os.WriteFile(cfgPath, []byte(unscheduled), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	code := runContext(context.Background(), []string{"daemon", cfgPath, "--admin", ""}, strings.NewReader(""), io.Discard, &errb)
	if code != exitConfig || !strings.Contains(errb.String(), "no job has a schedule") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
