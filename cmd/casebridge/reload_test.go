//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// daemonLog collects a daemon process's JSON log lines.
type daemonLog struct {
	mu    sync.Mutex
	lines []map[string]any
	more  chan struct{}
}

func (l *daemonLog) read(t *testing.T, r *bufio.Scanner) {
	for r.Scan() {
		var m map[string]any
		if json.Unmarshal(r.Bytes(), &m) != nil {
			m = map[string]any{"message": r.Text()}
		}
		l.mu.Lock()
		l.lines = append(l.lines, m)
		l.mu.Unlock()
		select {
		case l.more <- struct{}{}:
		default:
		}
	}
}

// wait returns the index of the first line from index from on whose
// message is msg (and whose job is job, when not empty).
func (l *daemonLog) wait(t *testing.T, exited <-chan struct{}, from int, job, msg string) int {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			m := l.lines[i]
			if m["message"] == msg && (job == "" || m["job"] == job) {
				l.mu.Unlock()
				return i
			}
		}
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-time.After(100 * time.Millisecond):
		case <-exited:
			t.Fatalf("the daemon exited while waiting for %q (job %q):\n%s", msg, job, l.dump())
		case <-deadline:
			t.Fatalf("no %q (job %q) within 60 s:\n%s", msg, job, l.dump())
		}
	}
}

func (l *daemonLog) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, m := range l.lines {
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDaemonReloadsOnSIGHUP (issue 14) runs casebridge daemon as a process.
// SIGHUP with an invalid configuration is refused and logged, and the
// daemon goes on under the old one; SIGHUP with a valid one schedules the
// new configuration's jobs, while the run in progress finishes under the
// old one. SIGTERM then stops it with exit 0. (SIGHUP used to kill it.)
func TestDaemonReloadsOnSIGHUP(t *testing.T) {
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
	const daily = `schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"`
	first := strings.Replace(string(text), daily, `schedule: "@every 1s"`, 1)
	second := strings.Replace(first, "  bd_cases:\n", "  bd_cases:\n    schedule: \"@every 1s\"\n", 1)
	if first == string(text) || second == first {
		t.Fatal("the demo configuration no longer has what this test edits")
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(first)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, "daemon", cfgPath, "--log-format", "json", "--admin", adminAddr)
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

	// An invalid configuration: refused, logged, the old one runs on.
	write(first + "\nno_such_key: 1\n")
	cmd.Process.Signal(syscall.SIGHUP)
	i = log.wait(t, exited, i, "", "configuration reload refused: the daemon goes on under the configuration it had")
	i = log.wait(t, exited, i, "th_cases", "scheduled run done")
	if resp, err := http.Get("http://" + adminAddr + "/healthz"); err != nil {
		t.Fatalf("admin API after a refused reload: %v", err)
	} else {
		resp.Body.Close()
	}

	// A valid one while a run is in progress (slowed down by the org):
	// the run finishes under the old configuration; bd_cases is scheduled.
	org.SetLatency(300 * time.Millisecond)
	start := log.wait(t, exited, i, "th_cases", "scheduled run starting")
	write(second)
	cmd.Process.Signal(syscall.SIGHUP)
	reloaded := log.wait(t, exited, start, "", "configuration reloaded: runs in progress finish under the previous one")
	done := log.wait(t, exited, start, "th_cases", "scheduled run done")
	if done < reloaded {
		t.Fatalf("the run in progress ended before the reload took effect: the test proves nothing; make the org slower\n%s", log.dump())
	}
	log.mu.Lock()
	for _, m := range log.lines[start:done] {
		if m["message"] == "scheduled run failed" && m["job"] == "th_cases" {
			t.Errorf("the run in progress failed: %v", m)
		}
	}
	log.mu.Unlock()
	log.wait(t, exited, reloaded, "", "the previous configuration's runs are done; it is closed")
	org.SetLatency(0)
	log.wait(t, exited, reloaded, "bd_cases", "scheduled run done")
	if _, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-bd-dk:BD-REM-0014"); !ok {
		t.Error("bd_cases ran under the new configuration but its case is not in the org")
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("daemon after SIGTERM: %v", exitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not stop on SIGTERM")
	}
}
