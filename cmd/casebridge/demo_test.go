package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// startFakeorg runs `casebridge fakeorg` with args in the background until
// the test ends, and returns once it listens (it prints its address only
// then).
func startFakeorg(t *testing.T, args []string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, append(args, "--log-level", "error"), strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	listening := false
	for !listening && sc.Scan() {
		listening = strings.HasPrefix(sc.Text(), "fake org listening on ")
	}
	go io.Copy(io.Discard, pr)
	if !listening {
		cancel()
		t.Fatalf("casebridge %s: exit %d before listening", strings.Join(args, " "), <-done)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("fakeorg stopped with exit %d", code)
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestDemoFolderKeepsWorking runs the demo, then does what its last lines
// say: starts the fake org again with the printed command and syncs the
// folder's configuration. The org serves what the demo left in it, so the
// sync succeeds and writes nothing, even reading Salesforce in full; an
// edit synced then survives another restart.
func TestDemoFolderKeepsWorking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--dir", dir}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	demo := out.String()

	// The sheet's deliberate bad cell is shown once, explained once.
	if n := strings.Count(demo, "ngo-bd-dk:BD-REM-0013.vcms__Gender__c: INVALID_VALUE"); n != 1 {
		t.Errorf("the mapping error is printed %d times, want once", n)
	}
	if n := strings.Count(demo, "What this means: the Gender cell of row BD-REM-0013"); n != 1 {
		t.Errorf("the mapping error is explained %d times, want once", n)
	}
	if strings.Contains(demo, "মহিলা") {
		t.Error("the demo printed the cell's value")
	}
	// The demo logs only warnings unless asked: no run log between steps.
	if strings.Contains(errb.String(), "run starting") {
		t.Errorf("demo logged at info level:\n%s", errb.String())
	}

	var restart []string
	for _, l := range strings.Split(demo, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "casebridge" && f[1] == "fakeorg" {
			restart = f[1:]
		}
	}
	if restart == nil {
		t.Fatalf("the demo does not say how to start its fake org again:\n%s", demo)
	}
	stop := startFakeorg(t, restart)

	cfg := filepath.Join(dir, "casebridge.yaml")
	sync := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"sync", cfg, "--log-level", "warn"}, args...), strings.NewReader(""), &out, &errb); code != exitOK {
			t.Fatalf("sync %v: exit %d\n%s\n%s", args, code, out.String(), errb.String())
		}
		return out.String()
	}
	for _, args := range [][]string{nil, {"--full"}} {
		got := sync(args...)
		for _, job := range []string{"th_cases", "bd_cases", "kh_cases"} {
			if !strings.Contains(got, job+" synced: 0 created, 0 updated, 0 deleted, 0 conflicts, 0 failed") {
				t.Errorf("sync %v after the demo: want %s to write nothing:\n%s", args, job, got)
			}
		}
	}

	// A case referred on in the sheet goes to the restarted org, which keeps it.
	if err := editCell(filepath.Join(dir, "th_tracker.csv"), "TH-CL-0011", "ปิดเคส", "ส่งต่อ"); err != nil {
		t.Fatal(err)
	}
	if got := sync("th_cases"); !strings.Contains(got, "th_cases synced: 0 created, 1 updated") {
		t.Errorf("sync after an edit:\n%s", got)
	}
	stop()
	startFakeorg(t, restart)
	if got := sync("th_cases", "--full"); !strings.Contains(got, "th_cases synced: 0 created, 0 updated") {
		t.Errorf("after a second restart the org lost the synced edit:\n%s", got)
	}
}
