package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/state"
)

// TestLeaseHolderHelper is not a test: TestLeaseOfKilledProcess starts the
// test binary running it as a process that takes a job's lease as a run
// does (host:pid, an hour) and holds it until killed.
func TestLeaseHolderHelper(t *testing.T) {
	db, job := os.Getenv("CASEBRIDGE_LEASE_HELPER_DB"), os.Getenv("CASEBRIDGE_LEASE_HELPER_JOB")
	if db == "" {
		t.Skip("a helper process of TestLeaseOfKilledProcess")
	}
	st, err := state.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Acquire(context.Background(), job, state.HolderName(), time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	io.Copy(io.Discard, os.Stdin) // until killed
}

// TestLeaseOfKilledProcess (issue 14): a run killed with SIGKILL leaves its
// job's lease behind; the next sync on the same host takes it over at once
// (it exited 6, "held by host:pid", for the lease's 5 minutes). While the
// holder runs, sync is locked out and lease release refuses without
// --force.
func TestLeaseOfKilledProcess(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "casebridge.yaml")
	run := func(args ...string) (int, string) {
		var out strings.Builder
		code := runContext(context.Background(), append(args, "--log-level", "error"), strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := run("sync", cfg, "th_cases"); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s", code, out)
	}

	holder := exec.Command(os.Args[0], "-test.run=^TestLeaseHolderHelper$")
	holder.Env = append(os.Environ(), "CASEBRIDGE_LEASE_HELPER_DB="+filepath.Join(dir, "casebridge.db"), "CASEBRIDGE_LEASE_HELPER_JOB=th_cases")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer holder.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("the holder process said %q, %v", line, err)
	}

	if code, out := run("sync", cfg, "th_cases"); code != exitLocked || !strings.Contains(out, "held by ") {
		t.Fatalf("sync while another process of this host runs with the lease: exit %d, want %d\n%s", code, exitLocked, out)
	}
	if code, out := run("lease", "release", cfg, "th_cases"); code != exitLocked || !strings.Contains(out, "running on this host") {
		t.Fatalf("lease release of a live holder: exit %d, want %d\n%s", code, exitLocked, out)
	}

	if err := holder.Process.Kill(); err != nil { // SIGKILL: no Release
		t.Fatal(err)
	}
	holder.Wait()
	if code, out := run("lease", "show", cfg, "th_cases"); code != exitOK || !strings.Contains(out, "gone from this host") {
		t.Errorf("lease show after the holder was killed: exit %d\n%s", code, out)
	}
	if code, out := run("sync", cfg, "th_cases"); code != exitOK {
		t.Fatalf("sync after the lease holder was killed: exit %d, want 0 (taken over at once)\n%s", code, out)
	}
}
