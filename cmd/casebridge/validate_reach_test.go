package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// reachConfig writes a configuration whose org is at loginURL and whose
// SQLite state store is stateDSN ("" for none written), with the sheet and
// the secret it needs, and returns its path.
func reachConfig(t *testing.T, loginURL, stateDSN string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"secret": sftest.DefaultClientSecret, "t.csv": "id,status\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	state := ""
	if stateDSN != "" {
		state = "state: { driver: sqlite, dsn: " + stateDSN + " }\n"
	}
	text := `version: 1
salesforce:
  login_url: ` + loginURL + `
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret_file: secret }
` + state + `sources:
  tracker: { kind: csv, path: t.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: tracker, key: id, key_prefix: "t:" }
    fields:
      - { sf: vcms__Stage__c, local: status, values: { open: Active, closed: Closed } }
`
	p := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateOnlineUnreachable: validate --online says which org it asks
// before it connects, and an org that does not answer is given up after
// one retry (a run retries four times, over up to 15 s), with an error
// saying the org could not be reached and what to check.
func TestValidateOnlineUnreachable(t *testing.T) {
	// An address nothing listens on: a listener closed at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	cfg := reachConfig(t, closed, "")
	var out, errb bytes.Buffer
	code := runContext(context.Background(), []string{"validate", "--online", cfg}, strings.NewReader(""), &out, &errb)
	if code != exitError {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, exitError, out.String(), errb.String())
	}
	stderr := errb.String()
	for _, want := range []string{
		"checking against the org at " + closed + "…\n",
		"the org at " + closed + " could not be reached",
		"check salesforce.login_url (" + cfg + ":3:14)",
		"`casebridge fakeorg` is running",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if i, j := strings.Index(stderr, "checking against"), strings.Index(stderr, "could not be reached"); i < 0 || j < i {
		t.Errorf("the org asked is not said before the failure:\n%s", stderr)
	}

	// An org that takes the connection and hangs up: every attempt is one
	// connection, and validate makes two (the first and one retry).
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var attempts atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			c.Close()
		}
	}()
	cfg = reachConfig(t, "http://"+l.Addr().String(), "")
	out.Reset()
	errb.Reset()
	code = runContext(context.Background(), []string{"validate", "--online", cfg}, strings.NewReader(""), &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "could not be reached") {
		t.Errorf("hanging-up org: exit %d, stderr:\n%s", code, errb.String())
	}
	// (net/http may open one more connection itself when the server hangs
	// up on a connection it had just made: timing, not casebridge.)
	if n := attempts.Load(); n < 2 || n > 3 {
		t.Errorf("validate connected %d times to an org that does not answer, want 2 (one retry)", n)
	}
}

// TestValidateOnlineSaysWhere: a reachable org is named on stderr before
// the check, and the check passes; a login URL is shown without a user,
// password, query or fragment.
func TestValidateOnlineSaysWhere(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	cfg := reachConfig(t, srv.URL, "")
	var out, errb bytes.Buffer
	if code := runContext(context.Background(), []string{"validate", "--online", cfg}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if want := "checking against the org at " + srv.URL + "…\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb.String(), want)
	}
	for in, want := range map[string]string{
		"https://u:pw@ngo.my.salesforce.com/?sid=x#f": "https://ngo.my.salesforce.com/",
		"":                      "https://login.salesforce.com",
		"http://127.0.0.1:8443": "http://127.0.0.1:8443",
		"not a url":             "the configured login_url",
	} {
		if got := displayURL(in); got != want {
			t.Errorf("displayURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestValidateStateFolder: validate refuses an SQLite state store sync
// could not open (its folder missing, not a folder, or not writable; the
// file there but not writable), naming state.dsn's position, the path and
// what to do; a store in a writable folder passes, and the check leaves
// nothing behind.
func TestValidateStateFolder(t *testing.T) {
	run := func(cfg string) (int, string) {
		var out, errb bytes.Buffer
		code := runContext(context.Background(), []string{"validate", cfg}, strings.NewReader(""), &out, &errb)
		return code, out.String()
	}
	advice := "point state.dsn at a file in a folder this user can write, such as /var/lib/casebridge/casebridge.db"

	missing := filepath.Join(t.TempDir(), "gone", "casebridge.db")
	cfg := reachConfig(t, "https://login.salesforce.com", missing)
	if code, out := run(cfg); code != exitFindings ||
		!strings.Contains(out, cfg+":5:") || !strings.Contains(out, "state.dsn: the state store's folder "+filepath.Dir(missing)+" does not exist") || !strings.Contains(out, advice) {
		t.Errorf("missing folder: exit %d, stdout:\n%s", code, out)
	}

	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = reachConfig(t, "https://login.salesforce.com", filepath.Join(file, "casebridge.db"))
	if code, out := run(cfg); code != exitFindings || !strings.Contains(out, "state.dsn: ") || !strings.Contains(out, advice) {
		t.Errorf("folder that is a file: exit %d, stdout:\n%s", code, out)
	}

	// The default store, casebridge.db beside the configuration, in a
	// folder that takes files: OK, and no file is left there.
	cfg = reachConfig(t, "https://login.salesforce.com", "")
	before, _ := os.ReadDir(filepath.Dir(cfg))
	if code, out := run(cfg); code != exitOK {
		t.Errorf("writable folder: exit %d, stdout:\n%s", code, out)
	}
	if after, _ := os.ReadDir(filepath.Dir(cfg)); len(after) != len(before) {
		t.Errorf("validate left files: %d entries before, %d after", len(before), len(after))
	}

	if os.Geteuid() == 0 {
		t.Log("running as root: folder and file permissions are not enforced, skipping those cases")
		return
	}
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o700)
	cfg = reachConfig(t, "https://login.salesforce.com", filepath.Join(ro, "casebridge.db"))
	if code, out := run(cfg); code != exitFindings || !strings.Contains(out, "no file can be created in the state store's folder "+ro) || !strings.Contains(out, advice) {
		t.Errorf("read-only folder: exit %d, stdout:\n%s", code, out)
	}
	db := filepath.Join(t.TempDir(), "casebridge.db")
	if err := os.WriteFile(db, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	cfg = reachConfig(t, "https://login.salesforce.com", db)
	if code, out := run(cfg); code != exitFindings || !strings.Contains(out, "the state store "+db+" cannot be written") {
		t.Errorf("read-only file: exit %d, stdout:\n%s", code, out)
	}
}
