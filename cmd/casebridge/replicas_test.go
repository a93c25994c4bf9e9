//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/internal/testdb"
)

// replica is one casebridge daemon process of TestThreeReplicas, with a
// proxy of its own in front of the fake org so that the test knows which
// process sent which request, and can stop or kill the process at the
// moment it has read Salesforce.
type replica struct {
	name   string
	cmd    *exec.Cmd
	log    *daemonLog
	exited chan struct{}

	mu      sync.Mutex
	writes  []time.Time // when this process sent a write to the org
	trigger func()      // run once, before the next query (or write) is answered
	onWrite bool        // trigger on a write, not a query
}

// sendsWrite tells a request that changes the org from one that reads it
// (describes and lookups travel in POSTed Composite requests too).
func sendsWrite(r *http.Request) bool {
	switch {
	case r.Method == http.MethodGet, strings.Contains(r.URL.Path, "/oauth2/"),
		strings.HasSuffix(r.URL.Path, "/composite"), strings.HasSuffix(r.URL.Path, "/composite/batch"):
		return false
	}
	return true
}

// proxy forwards to the org at target, rewriting the org's own address in
// responses (the token's instance_url) to the proxy's.
func (rp *replica) proxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var self string
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = bytes.ReplaceAll(body, []byte(target), []byte(self))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		rp.mu.Lock()
		f := rp.trigger
		if f != nil && (rp.onWrite && sendsWrite(resp.Request) || !rp.onWrite && strings.Contains(resp.Request.URL.Path, "/query")) {
			rp.trigger = nil
		} else {
			f = nil
		}
		rp.mu.Unlock()
		if f != nil {
			f()
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sendsWrite(r) {
			rp.mu.Lock()
			rp.writes = append(rp.writes, time.Now())
			rp.mu.Unlock()
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	self = srv.URL
	return self
}

func (rp *replica) arm(onWrite bool, f func()) {
	rp.mu.Lock()
	rp.trigger, rp.onWrite = f, onWrite
	rp.mu.Unlock()
}

func (rp *replica) writesSince(at time.Time) int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	n := 0
	for _, w := range rp.writes {
		if !w.Before(at) {
			n++
		}
	}
	return n
}

// TestThreeReplicas (issue 14) runs three casebridge daemon processes on
// one PostgreSQL state store, the job firing every two seconds:
//
//   - every scheduled run executes exactly once, on one of them;
//   - a replica frozen (SIGSTOP) just after reading Salesforce, past its
//     lease, then resumed, writes nothing: the others take the job over
//     once its lease ends, create the record it would have created, once,
//     and the job is not locked out (no person involved);
//   - a replica killed (SIGKILL) in a run: the job runs at its next firing
//     on another one (a lease of a dead process on this host is taken over
//     at once, not after its 30 s).
func TestThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three daemons for about a minute")
	}
	bin, err := exec.LookPath("casebridge")
	if err != nil {
		t.Fatal(err)
	}
	dsn := testdb.Postgres(t)
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(dir, "casebridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const daily = `schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"`
	const sqlite = `state: { driver: sqlite, dsn: casebridge.db }`
	base := strings.Replace(string(text), daily, `schedule: "*/2 * * * * *"`, 1)
	base = strings.Replace(base, sqlite, `state: { driver: postgres, dsn: "`+dsn+`", lease: 30s }`, 1)
	if !strings.Contains(string(text), daily) || !strings.Contains(string(text), sqlite) {
		t.Fatal("the demo configuration no longer has what this test edits")
	}
	// The first sync (and the key file) before the replicas start.
	cfg0 := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(cfg0, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := runContext(context.Background(), []string{"sync", cfg0, "th_cases", "--log-level", "error"}, strings.NewReader(""), &out, &out); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s", code, out.String())
	}

	reps := make([]*replica, 3)
	for i := range reps {
		rp := &replica{name: string(rune('a' + i)), log: &daemonLog{more: make(chan struct{}, 1)}, exited: make(chan struct{})}
		cfg := filepath.Join(dir, "replica-"+rp.name+".yaml")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(base, srv.URL, rp.proxy(t, srv.URL))), 0o600); err != nil {
			t.Fatal(err)
		}
		rp.cmd = exec.Command(bin, "daemon", cfg, "--log-format", "json", "--admin", "")
		stderr, err := rp.cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := rp.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			rp.log.read(t, bufio.NewScanner(stderr))
			rp.cmd.Wait()
			close(rp.exited)
		}()
		t.Cleanup(func() {
			rp.cmd.Process.Signal(syscall.SIGCONT)
			rp.cmd.Process.Kill()
			<-rp.exited
		})
		reps[i] = rp
	}

	// 1. Exactly once: each firing is started by every replica and run by
	// one; the two others find it claimed.
	for _, rp := range reps {
		rp.log.wait(t, rp.exited, 0, "th_cases", "scheduled run done")
	}
	time.Sleep(6 * time.Second)
	starts, skips := map[string]int{}, map[string]int{}
	for _, rp := range reps {
		rp.log.mu.Lock()
		for _, m := range rp.log.lines {
			at, _ := m["scheduled_at"].(string)
			switch m["message"] {
			case "scheduled run starting":
				starts[at]++
			case "scheduled run already claimed (by another replica, or a repeated hour): skipped":
				skips[at]++
			}
		}
		rp.log.mu.Unlock()
	}
	complete := 0
	for at, n := range starts {
		if n == 3 { // every replica has logged this firing's outcome by now
			complete++
			if skips[at] != 2 {
				t.Errorf("firing %s: run by %d replicas, want 1", at, n-skips[at])
			}
		}
	}
	if complete < 2 {
		t.Fatalf("only %d firings seen by all three replicas in 6 s", complete)
	}

	// 2. A replica frozen past its lease just after it wrote a change of
	// the sheet to Salesforce, before it could record it.
	frozen := make(chan *replica, 1)
	var once sync.Once
	for _, rp := range reps {
		rp.arm(true, func() {
			once.Do(func() {
				for _, o := range reps {
					o.arm(false, nil)
				}
				syscall.Kill(rp.cmd.Process.Pid, syscall.SIGSTOP)
				frozen <- rp
			})
		})
	}
	sheet := filepath.Join(dir, "th_tracker.csv")
	if err := editCell(sheet, "TH-CL-0008", "ติดตามผล", "ปิดเคส"); err != nil {
		t.Fatal(err)
	}
	var x *replica
	select {
	case x = <-frozen:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica wrote the sheet's change to Salesforce within 30 s")
	}
	pausedAt := time.Now()
	before, _ := os.ReadFile(sheet)
	// The others wait for its lease to end, then run the job: nothing left
	// to write, and no lockout.
	for _, rp := range reps {
		if rp == x {
			continue
		}
		rp.log.mu.Lock()
		n := len(rp.log.lines)
		rp.log.mu.Unlock()
		rp.log.wait(t, rp.exited, n, "th_cases", "scheduled run done")
	}
	if held := time.Since(pausedAt); held < 25*time.Second {
		t.Errorf("the job was taken from the frozen replica after %v, before its 30 s lease ended", held)
	}
	resumedAt := time.Now()
	x.log.mu.Lock()
	from := len(x.log.lines)
	x.log.mu.Unlock()
	syscall.Kill(x.cmd.Process.Pid, syscall.SIGCONT)
	i := x.log.wait(t, x.exited, from, "th_cases", "scheduled run failed")
	x.log.mu.Lock()
	e, _ := x.log.lines[i]["error"].(string)
	x.log.mu.Unlock()
	if !strings.Contains(e, "lease lost") || strings.Contains(e, "locked out") {
		t.Errorf("the resumed replica's run failed with %q, want its lease lost and no lockout", e)
	}
	if n := x.writesSince(resumedAt); n != 0 {
		t.Errorf("the resumed replica sent %d writes to the org after its lease was over", n)
	}
	// The job goes on, on every replica, the resumed one included.
	for _, rp := range reps {
		rp.log.mu.Lock()
		n := len(rp.log.lines)
		rp.log.mu.Unlock()
		rp.log.wait(t, rp.exited, n, "th_cases", "scheduled run done")
	}
	if after, _ := os.ReadFile(sheet); !bytes.Equal(before, after) {
		t.Error("the sheet changed after the frozen replica's write: its change was not simply found in Salesforce")
	}
	if rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0008"); !ok || rec.Fields["vcms__Stage__c"] != "Closed" {
		t.Errorf("the case's status in the org: %v (found %v), want Closed", rec.Fields["vcms__Stage__c"], ok)
	}

	// 3. A replica killed in a run: the next firing runs on another one.
	killed := make(chan *replica, 1)
	var once2 sync.Once
	for _, rp := range reps {
		rp.arm(false, func() {
			once2.Do(func() {
				for _, o := range reps {
					o.arm(false, nil)
				}
				syscall.Kill(rp.cmd.Process.Pid, syscall.SIGKILL)
				killed <- rp
			})
		})
	}
	var k *replica
	select {
	case k = <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica read Salesforce within 30 s")
	}
	killedAt := time.Now()
	<-k.exited
	froms := map[*replica]int{}
	for _, rp := range reps {
		rp.log.mu.Lock()
		froms[rp] = len(rp.log.lines)
		rp.log.mu.Unlock()
	}
	ranAgain := func() bool {
		for _, rp := range reps {
			if rp == k {
				continue
			}
			rp.log.mu.Lock()
			lines := rp.log.lines[froms[rp]:]
			rp.log.mu.Unlock()
			for _, m := range lines {
				if m["message"] == "scheduled run done" && m["job"] == "th_cases" {
					return true
				}
			}
		}
		return false
	}
	for !ranAgain() {
		if time.Since(killedAt) > 10*time.Second {
			t.Fatalf("no run of the job on the other replicas within 10 s of a replica's SIGKILL (its lease lasts 30 s)")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
