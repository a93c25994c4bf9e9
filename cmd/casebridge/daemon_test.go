package main

import (
	"context"
	"io"
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

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"daemon", cfgPath, "--log-level", "error"}, strings.NewReader(""), io.Discard, io.Discard)
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
	code := runContext(context.Background(), []string{"daemon", cfgPath}, strings.NewReader(""), io.Discard, &errb)
	if code != exitConfig || !strings.Contains(errb.String(), "no job has a schedule") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
