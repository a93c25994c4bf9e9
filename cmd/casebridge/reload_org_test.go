//go:build unix

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/schedules"
)

// TestDaemonReloadCheckedAgainstOrgAndQuietStop (issue 14) runs casebridge
// daemon as a process. SIGHUP with a configuration that passes offline
// validation but names an object the org does not have is refused, the
// problem logged at its position, and the old configuration runs on (it
// used to be taken, and every later run failed NOT_FOUND). SIGTERM during
// a run then stops it as a shutdown, at warn level, with no error logged
// (it used to log the run as failed, "context canceled").
func TestDaemonReloadCheckedAgainstOrgAndQuietStop(t *testing.T) {
	bin, err := exec.LookPath("casebridge") // the test binary, as TestMain sets it up
	if err != nil {
		t.Fatal(err)
	}
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
	first := strings.Replace(string(text), `schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"`, `schedule: "@every 1s"`, 1)
	nope := strings.Replace(first, "object: vcms__Survivor_Case__c", "object: vcms__Nope__c", 1)
	if first == string(text) || nope == first {
		t.Fatal("the demo configuration no longer has what this test edits")
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(first)

	cmd := exec.Command(bin, "daemon", cfgPath, "--log-format", "json", "--admin", "")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &daemonLog{more: make(chan struct{}, 1)}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		log.read(t, bufio.NewScanner(stderr))
		exitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	i := log.wait(t, exited, 0, "th_cases", "scheduled run done")

	// Offline it is valid; the org has no such object: refused.
	write(nope)
	cmd.Process.Signal(syscall.SIGHUP)
	hup := i
	i = log.wait(t, exited, i, "", "configuration reload refused: the daemon goes on under the configuration it had")
	line := 1 + strings.Count(nope[:strings.Index(nope, "vcms__Nope__c")], "\n")
	at := fmt.Sprintf("%s:%d:", cfgPath, line)
	log.mu.Lock()
	positioned := false
	for _, m := range log.lines[hup:i] {
		msg, _ := m["message"].(string)
		if m["level"] == "error" && strings.HasPrefix(msg, at) && strings.Contains(msg, "vcms__Nope__c") {
			positioned = true
		}
		if msg == "configuration reloaded: runs in progress finish under the previous one" {
			t.Errorf("the configuration naming vcms__Nope__c was taken: %v", m)
		}
	}
	log.mu.Unlock()
	if !positioned {
		t.Errorf("no error at %s naming vcms__Nope__c before the refusal:\n%s", at, log.dump())
	}
	i = log.wait(t, exited, i, "th_cases", "scheduled run done") // the old configuration runs on

	// SIGTERM during a run (slowed down by the org).
	org.SetLatency(300 * time.Millisecond)
	log.mu.Lock()
	slowed := len(log.lines) // a run starting from here is slowed throughout
	log.mu.Unlock()
	start := log.wait(t, exited, max(i, slowed), "th_cases", "scheduled run starting")
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("daemon after SIGTERM: %v", exitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not stop on SIGTERM")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	stopped := false
	for _, m := range log.lines[start:] {
		switch {
		case m["message"] == schedules.MsgStoppedByShutdown && m["job"] == "th_cases":
			stopped = true
			if m["level"] != "warn" {
				t.Errorf("the run stopped by SIGTERM is logged at %v", m["level"])
			}
		case m["level"] == "error":
			t.Errorf("logged at error level on SIGTERM: %v", m)
		}
	}
	if !stopped {
		t.Errorf("no %q for th_cases after SIGTERM (was a run in progress?)", schedules.MsgStoppedByShutdown)
	}
}
