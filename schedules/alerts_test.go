package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/alert"
	"github.com/casebridge/casebridge/alert/alerttest"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// alertsConfig is a job of a few cases with every kind of alert target:
// json, slack and teams webhooks to HOOK_URL, e-mail to SMTP_ADDR (a relay
// on this machine: tls none).
const alertsConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: CLIENT_SECRET }
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "alrt:" }
    fields:
      - { sf: vcms__Last_Name__c, local: Name, pii: direct }
      - { sf: vcms__Stage__c, local: Stage }
alerts:
  - { name: j, on: [failure, lockout, brake, conflicts, findings], webhook: { url: "HOOK_URL/json" } }
  - { name: s, on: [failure, lockout, findings], webhook: { url: "HOOK_URL/slack", format: slack } }
  - { name: t, on: [failure, lockout, findings], webhook: { url: "HOOK_URL/teams", format: teams } }
  - { name: m, on: [failure, lockout, findings], email: { smtp: "SMTP_ADDR", from: cb@example.org, to: [ops@example.org], tls: none } }
`

// markers are the cases' values: unique words no alert may carry.
var markers = []string{"MRKNAMEqz7181", "MRKNAMEqz7182", "MRKSTAGEqz7183"}

type alertFixture struct {
	r    *Runner
	recv *alerttest.Receiver
	smtp *alerttest.SMTPServer
	dir  string
}

func newAlertFixture(t *testing.T, secret string) (*alertFixture, error) {
	t.Helper()
	_, srv := sftest.NewServer(t, sftest.Options{})
	f := &alertFixture{recv: alerttest.NewReceiver(t), smtp: alerttest.NewSMTPServer(t, false), dir: t.TempDir()}
	// C-2's Stage is no value of the restricted picklist: a finding whose
	// value must not travel.
	sheet := "Case ID,Name,Stage\nC-1," + markers[0] + ",Active\nC-2," + markers[1] + "," + markers[2] + "\n"
	if err := os.WriteFile(filepath.Join(f.dir, "cases.csv"), []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("FAKE_ORG_URL", srv.URL, "HOOK_URL", f.recv.URL, "SMTP_ADDR", f.smtp.Addr, "CLIENT_SECRET", secret).Replace(alertsConfig)
	path := filepath.Join(f.dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.r, err = Open(context.Background(), cfg, zerolog.Nop())
	if err == nil {
		t.Cleanup(func() { f.r.Close() })
	}
	return f, err
}

// sent returns what each target received so far: the kind (or title) of
// every webhook post by path, and the e-mails' subjects.
func (f *alertFixture) sent(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range f.recv.Posts() {
		var m map[string]any
		if err := json.Unmarshal(p.Body, &m); err != nil {
			t.Fatal(err)
		}
		switch p.Path {
		case "/json":
			out["json"] = append(out["json"], m["kind"].(string)+" "+str(m["stage"])+" "+str(m["code"])+str(m["resolves"]))
		case "/slack":
			title, _, _ := strings.Cut(m["text"].(string), "\n")
			out["slack"] = append(out["slack"], title)
		case "/teams":
			out["teams"] = append(out["teams"], "card")
		}
	}
	for _, m := range f.smtp.Mails() {
		for _, l := range strings.Split(m.Data, "\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				out["mail"] = append(out["mail"], s)
			}
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// everything is every byte the targets received.
func (f *alertFixture) everything() string {
	var b strings.Builder
	for _, p := range f.recv.Posts() {
		b.Write(p.Body)
		b.WriteString(p.Path)
	}
	for _, m := range f.smtp.Mails() {
		b.WriteString(m.Data)
	}
	return b.String()
}

// TestAlertsAfterRuns: runs of a job as the targets hear of them. A run
// with a finding (a Stage the org's picklist refuses) alerts findings with
// the code; a run without its sheet alerts failure at stage source
// (FILE_NOT_FOUND) on every target, once: the next failing run is
// de-duplicated (marked in the state store); the sheet back, the next run
// is reported resolved. No target ever receives a value of the cases (the
// markers), a key, or an error's text.
func TestAlertsAfterRuns(t *testing.T) {
	ctx := context.Background()
	f, err := newAlertFixture(t, sftest.DefaultClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Run(ctx, "cases", RunOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.sent(t); len(got) != 0 {
		t.Fatalf("a dry run alerted: %v", got)
	}
	res, err := f.r.Run(ctx, "cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var c alert.Counts
	runCounts(&c, res)
	if c.Findings() == 0 {
		t.Fatalf("the first run has no finding: %+v", res.Result.Counts)
	}
	got := f.sent(t)
	if len(got["json"]) != 1 || !strings.HasPrefix(got["json"][0], "findings ") || len(got["slack"]) != 1 || len(got["teams"]) != 1 || len(got["mail"]) != 1 {
		t.Fatalf("after a run with a finding: %v", got)
	}
	if b := f.recv.Posts()[0].Body; !strings.Contains(string(b), `"codes":[{"code":"`) {
		t.Errorf("the findings alert has no codes: %s", b)
	}

	sheet := filepath.Join(f.dir, "cases.csv")
	if err := os.Rename(sheet, sheet+".away"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.r.Run(ctx, "cases", RunOptions{}); err == nil {
			t.Fatal("a run without its sheet did not fail")
		}
	}
	got = f.sent(t)
	if len(got["json"]) != 2 || got["json"][1] != "failure source FILE_NOT_FOUND" ||
		len(got["slack"]) != 2 || got["slack"][1] != "*casebridge: job cases failed at source (FILE_NOT_FOUND)*" ||
		len(got["teams"]) != 2 || len(got["mail"]) != 2 || got["mail"][1] != "casebridge: job cases failed at source (FILE_NOT_FOUND)" {
		t.Fatalf("after two runs without the sheet: %v", got)
	}
	// The failure alert names its run, as the history recorded it.
	runs, err := f.r.Store.Runs(ctx, "cases", 2)
	if err != nil || len(runs) != 2 || runs[1].Outcome != state.OutcomeFailed {
		t.Fatalf("history %+v %v", runs, err)
	}
	for _, p := range f.recv.Posts() {
		var m struct {
			Kind  string `json:"kind"`
			RunID int64  `json:"run_id"`
		}
		if p.Path == "/json" && json.Unmarshal(p.Body, &m) == nil && m.Kind == "failure" && m.RunID != runs[1].ID {
			t.Errorf("the failure alert names run %d, want %d (the history's): %s", m.RunID, runs[1].ID, p.Body)
		}
	}
	// Another process (casebridge sync from cron: a Runner of its own)
	// de-duplicates against the marks the first left in the state store.
	r2, err := Open(ctx, f.r.Config, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Run(ctx, "cases", RunOptions{}); err == nil {
		t.Fatal("a run without its sheet did not fail")
	}
	r2.Close()
	if again := f.sent(t); len(again["json"]) != 2 || len(again["mail"]) != 2 {
		t.Fatalf("a second process alerted the same failure again: %v", again)
	}
	// The marks are in the state store, and hold no value either.
	marks, err := f.r.Store.Cursor(ctx, "cases", alertsCursor)
	if err != nil || !strings.Contains(marks, `"failure"`) {
		t.Fatalf("marks %q %v", marks, err)
	}

	if err := os.Rename(sheet+".away", sheet); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Run(ctx, "cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	got = f.sent(t)
	if len(got["json"]) != 3 || got["json"][2] != "resolved  failure" || len(got["mail"]) != 3 ||
		got["mail"][2] != "casebridge: job cases runs well again (failure resolved)" {
		t.Fatalf("after the sheet came back: %v", got)
	}

	all := f.everything() + marks
	for _, m := range append(markers, "C-1", "C-2", "alrt:", "cases.csv") {
		if strings.Contains(all, m) {
			t.Errorf("an alert or mark holds %q:\n%s", m, all)
		}
	}
}

// TestAlertOpenFailure: a Salesforce login refused when a Runner opens
// (casebridge sync from cron, the daemon starting or reloading) is alerted
// as a failure of every job at stage login; the first good run afterwards
// reports it resolved.
func TestAlertOpenFailure(t *testing.T) {
	f, err := newAlertFixture(t, "wrong-secret")
	if err == nil {
		t.Fatal("Open logged in with a wrong secret")
	}
	got := f.sent(t)
	if len(got["json"]) != 1 || got["json"][0] != "failure login AUTH_FAILED" || len(got["mail"]) != 1 ||
		got["mail"][0] != "casebridge: every job failed at login (AUTH_FAILED)" {
		t.Fatalf("after a refused login: %v", got)
	}
	if strings.Contains(f.everything(), "wrong-secret") {
		t.Error("an alert holds the secret")
	}
	// The same configuration, logged in: its runs clear the failure.
	path := filepath.Join(f.dir, "casebridge.yaml")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "wrong-secret", sftest.DefaultClientSecret, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, _ = r.Run(context.Background(), "cases", RunOptions{})
	got = f.sent(t)
	if i := len(got["json"]) - 1; i < 1 || got["json"][i] != "resolved  failure" {
		t.Fatalf("after a good run: %v", got)
	}
}

// TestAlertLockoutAndConflicts: a job locked out alerts lockout (not a
// failure) at each target that hears of it, once; its resync run resolves
// it. Open conflicts in the queue alert conflicts with their count.
func TestAlertLockoutAndConflicts(t *testing.T) {
	ctx := context.Background()
	f, err := newAlertFixture(t, sftest.DefaultClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.r.Store.LockOut(ctx, state.Lockout{Job: "cases", Cause: "test", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.r.Run(ctx, "cases", RunOptions{}); !errors.Is(err, reconcile.ErrLockedOut) {
			t.Fatalf("run of a locked-out job: %v", err)
		}
	}
	got := f.sent(t)
	if len(got["json"]) != 1 || got["json"][0] != "lockout start LOCKED_OUT" || len(got["slack"]) != 1 ||
		got["slack"][0] != "*casebridge: job cases is locked out until a resync run*" {
		t.Fatalf("after two locked-out runs: %v", got)
	}
	err = f.r.Store.Update(ctx, "cases", func(tx state.Tx) error {
		return tx.OpenConflict(state.Conflict{Key: "alrt:c-1", Field: "vcms__Stage__c", SF: 1, Local: 2, Opened: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Run(ctx, "cases", RunOptions{Resync: true}); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range f.recv.Posts() {
		if p.Path != "/json" {
			continue
		}
		var m alert.Event
		if err := json.Unmarshal(p.Body, &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, string(m.Kind)+string(m.Resolves))
		if m.Kind == alert.KindConflicts && m.Counts.Conflicts < 1 {
			t.Errorf("conflicts alert without its count: %s", p.Body)
		}
	}
	if strings.Join(kinds, ",") != "lockout,findings,conflicts,resolvedlockout" {
		t.Errorf("json target heard %v", kinds)
	}
}

// TestClassify: the stage and code of the errors the run's stages return.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err         error
		stage, code string
	}{
		{&reconcile.AbortError{Reason: "would delete 9 of 10"}, "sync", "ERROR"}, // (brakes are raised before classify)
		{errors.Join(errors.New("job x: state: commit"), errors.New("x")), "state", "STATE_STORE_ERROR"},
		{&os.PathError{Op: "open", Path: "/tmp/x/cases.csv", Err: os.ErrNotExist}, "source", "FILE_NOT_FOUND"},
		{errors.New("job x: source s: something"), "source", "SOURCE_ERROR"},
		{config.Errors{{Msg: "no such field"}}, "mapping", "MAPPING_INVALID"},
		{state.ErrKeyMismatch, "start", "FINGERPRINT_KEY_MISMATCH"},
		{errors.New("something else"), "sync", "ERROR"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "sync", "UNREACHABLE"},
	} {
		stage, code := classify(tc.err, "sync")
		if stage != tc.stage || code != tc.code {
			t.Errorf("classify(%v) = %s %s, want %s %s", tc.err, stage, code, tc.stage, tc.code)
		}
	}
}
