package alert_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/alert"
	"github.com/casebridge/casebridge/alert/alerttest"
	"github.com/casebridge/casebridge/config"
)

// parseAlerts loads a configuration holding alertsYAML (the alerts: key
// and its list) and returns its alerts.
func parseAlerts(t *testing.T, alertsYAML string, env map[string]string) config.Alerts {
	t.Helper()
	text := `version: 1
salesforce:
  login_url: https://login.salesforce.com
  auth: { flow: client_credentials, client_id: id, client_secret: "${SECRET}" }
sources:
  s: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: Case__c, key: Key__c }
    local: { source: s, key: ID }
    fields:
      - { sf: Name__c, local: Name }
` + alertsYAML
	getenv := func(k string) (string, bool) {
		if k == "SECRET" {
			return "s", true
		}
		v, ok := env[k]
		return v, ok
	}
	cfg, err := config.Parse("casebridge.yaml", []byte(text), config.Options{Getenv: getenv, BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Alerts
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func failure(job, stage, code string) alert.Event {
	return alert.Event{Kind: alert.KindFailure, Job: job, Stage: stage, Code: code, Outcome: "failed", At: t0}
}

// TestWebhookBodies: the json, slack and teams formats, as their receivers
// expect them: casebridge-alert/1 with the event's fields; Slack's
// incoming-webhook {"text"} with mrkdwn escaped; a Teams message holding
// one Adaptive Card. The Authorization header is sent; the URL's token
// reaches no log line when the receiver fails.
func TestWebhookBodies(t *testing.T) {
	recv := alerttest.NewReceiver(t)
	alerts := parseAlerts(t, `alerts:
  - { name: j, on: [failure, findings], webhook: { url: "${HOOK}/j/TOKEN-J", authorization: "Bearer ${TOK}" } }
  - { name: s, webhook: { url: "${HOOK}/s/TOKEN-S", format: slack } }
  - { name: t, webhook: { url: "${HOOK}/t/TOKEN-T", format: teams } }
`, map[string]string{"HOOK": recv.URL, "TOK": "abc"})
	n := alert.New(alerts, zerolog.Nop(), alert.Options{Host: "replica-1", Now: (&clock{t0}).now})
	ev := failure("th_cases", "login", "AUTH_FAILED")
	ev.RunID = 42
	n.Notify(context.Background(), alert.Report{Job: "th_cases", Events: []alert.Event{ev}})
	posts := recv.Posts()
	if len(posts) != 3 {
		t.Fatalf("%d posts, want one per target: %+v", len(posts), posts)
	}
	by := map[string]alerttest.Post{}
	for _, p := range posts {
		by[strings.Split(p.Path, "/")[1]] = p
	}

	var j map[string]any
	if err := json.Unmarshal(by["j"].Body, &j); err != nil {
		t.Fatal(err)
	}
	if j["format"] != "casebridge-alert/1" || j["kind"] != "failure" || j["job"] != "th_cases" || j["stage"] != "login" ||
		j["code"] != "AUTH_FAILED" || j["run_id"] != float64(42) || j["host"] != "replica-1" || j["outcome"] != "failed" ||
		!strings.Contains(j["title"].(string), "th_cases failed at login (AUTH_FAILED)") {
		t.Errorf("json body: %s", by["j"].Body)
	}
	if got := by["j"].Header.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization %q", got)
	}
	if got := by["j"].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}

	var s map[string]string
	if err := json.Unmarshal(by["s"].Body, &s); err != nil || len(s) != 1 {
		t.Fatalf("slack body %s: %v", by["s"].Body, err)
	}
	if !strings.HasPrefix(s["text"], "*casebridge: job th_cases failed at login (AUTH_FAILED)*\n") || !strings.Contains(s["text"], "run: 42") {
		t.Errorf("slack text %q", s["text"])
	}
	if by["s"].Header.Get("Authorization") != "" {
		t.Error("an Authorization header was sent to a target without one")
	}

	var tm struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type  string              `json:"type"`
					Text  string              `json:"text"`
					Facts []map[string]string `json:"facts"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(by["t"].Body, &tm); err != nil {
		t.Fatal(err)
	}
	if tm.Type != "message" || len(tm.Attachments) != 1 || tm.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("teams body: %s", by["t"].Body)
	}
	card := tm.Attachments[0].Content
	if card.Type != "AdaptiveCard" || len(card.Body) != 2 || card.Body[0].Type != "TextBlock" || !strings.Contains(card.Body[0].Text, "th_cases failed") || card.Body[1].Type != "FactSet" {
		t.Fatalf("teams card: %s", by["t"].Body)
	}
	facts := map[string]string{}
	for _, f := range card.Body[1].Facts {
		facts[f["title"]] = f["value"]
	}
	if facts["job"] != "th_cases" || facts["stage"] != "login" || facts["code"] != "AUTH_FAILED" {
		t.Errorf("teams facts %v", facts)
	}

	// Slack's mrkdwn: <, > and & are escaped (a job name cannot hold
	// them, a code passed through Code neither; the title's words could).
	if got := alert.Code("<b>x</b>"); got != "OTHER" {
		t.Errorf("Code(<b>x</b>) = %q", got)
	}

	// A failing receiver: the error is logged with the host, never the
	// URL's path (its token).
	recv.SetStatus(http.StatusInternalServerError)
	var logBuf bytes.Buffer
	n = alert.New(alerts, zerolog.New(&logBuf), alert.Options{Now: (&clock{t0}).now})
	n.Notify(context.Background(), alert.Report{Job: "th_cases", Events: []alert.Event{ev}})
	if !strings.Contains(logBuf.String(), "HTTP 500") {
		t.Errorf("the failure is not logged: %s", logBuf.String())
	}
	for _, tok := range []string{"TOKEN-J", "TOKEN-S", "TOKEN-T", "abc"} {
		if strings.Contains(logBuf.String(), tok) {
			t.Errorf("the log holds %s: %s", tok, logBuf.String())
		}
	}
}

// TestWebhookUnreachableNoURL: a receiver that does not answer at all: the
// error (Go's url.Error quotes the whole URL) is logged without the URL.
func TestWebhookUnreachableNoURL(t *testing.T) {
	recv := alerttest.NewReceiver(t)
	url := recv.URL
	recv.Close()
	alerts := parseAlerts(t, `alerts:
  - { name: j, webhook: { url: "${HOOK}/hooks/SECRET-PATH?token=SECRET-QUERY" } }
`, map[string]string{"HOOK": url})
	var logBuf bytes.Buffer
	alert.New(alerts, zerolog.New(&logBuf), alert.Options{}).Notify(context.Background(),
		alert.Report{Job: "j", Events: []alert.Event{failure("j", "sync", "ERROR")}})
	if !strings.Contains(logBuf.String(), "sending failed") {
		t.Fatalf("no failure logged: %s", logBuf.String())
	}
	if strings.Contains(logBuf.String(), "SECRET") {
		t.Errorf("the log holds the URL: %s", logBuf.String())
	}
}

// TestDedupAndRateLimit: the same alert is sent once per every, its
// repeat saying how many runs it stood for; a change (another code) is
// sent at once; a good run sends resolved once; max_per_hour drops the
// rest and the next message counts them.
func TestDedupAndRateLimit(t *testing.T) {
	recv := alerttest.NewReceiver(t)
	alerts := parseAlerts(t, `alerts:
  - { name: j, every: 1h, max_per_hour: 3, on: [failure, conflicts], webhook: { url: "${HOOK}" } }
`, map[string]string{"HOOK": recv.URL})
	c := &clock{t0}
	marks := &alert.MemoryMarks{}
	n := alert.New(alerts, zerolog.Nop(), alert.Options{Now: c.now, Marks: marks})
	ctx := context.Background()
	bodies := func() []map[string]any {
		var out []map[string]any
		for _, p := range recv.Posts() {
			var m map[string]any
			if err := json.Unmarshal(p.Body, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	fail := func(code string) {
		n.Notify(ctx, alert.Report{Job: "a", Events: []alert.Event{failure("a", "source", code)}})
	}

	fail("FILE_NOT_FOUND")
	c.t = c.t.Add(10 * time.Minute)
	fail("FILE_NOT_FOUND") // de-duplicated
	c.t = c.t.Add(10 * time.Minute)
	fail("FILE_NOT_FOUND") // de-duplicated
	if got := len(recv.Posts()); got != 1 {
		t.Fatalf("%d posts after three like failures within the hour, want 1", got)
	}
	c.t = t0.Add(61 * time.Minute)
	fail("FILE_NOT_FOUND") // every passed: a repeat
	b := bodies()
	if len(b) != 2 || b[1]["repeats"] != float64(2) || b[1]["since"] != t0.Format(time.RFC3339) {
		t.Fatalf("the repeat: %v", b)
	}
	c.t = c.t.Add(time.Minute)
	fail("FILE_NOT_READABLE") // another reason: at once
	if b = bodies(); len(b) != 3 || b[2]["code"] != "FILE_NOT_READABLE" || b[2]["repeats"] != nil {
		t.Fatalf("a changed failure: %v", b)
	}
	// Another job's failure is its own.
	n.Notify(ctx, alert.Report{Job: "b", Events: []alert.Event{failure("b", "source", "FILE_NOT_READABLE")}})
	if b = bodies(); len(b) != 4 || b[3]["job"] != "b" {
		t.Fatalf("job b: %v", b)
	}
	// The marks live in the MarkStore: a second process (another
	// Notifier on the same store) de-duplicates against the first.
	n2 := alert.New(alerts, zerolog.Nop(), alert.Options{Now: c.now, Marks: marks})
	n2.Notify(ctx, alert.Report{Job: "b", Events: []alert.Event{failure("b", "source", "FILE_NOT_READABLE")}})
	if got := len(recv.Posts()); got != 4 {
		t.Fatalf("a second notifier on the same marks sent job b's failure again")
	}
	// A good run of a: resolved, once. But max_per_hour (3 sent within
	// the hour: at 10:01 and twice at 10:02) drops it: it is told after
	// the next good run.
	n.Notify(ctx, alert.Report{Job: "a", Clear: []alert.Kind{alert.KindFailure, alert.KindConflicts}})
	if got := len(recv.Posts()); got != 4 {
		t.Fatalf("%d posts, want the 5th within the hour dropped", got)
	}
	c.t = c.t.Add(61 * time.Minute)
	n.Notify(ctx, alert.Report{Job: "a", Clear: []alert.Kind{alert.KindFailure}})
	if b = bodies(); len(b) != 5 || b[4]["kind"] != "resolved" || b[4]["resolves"] != "failure" || b[4]["dropped"] != float64(1) {
		t.Fatalf("resolved after the rate limit: %v", b[4:])
	}
	n.Notify(ctx, alert.Report{Job: "a", Clear: []alert.Kind{alert.KindFailure}})
	if got := len(recv.Posts()); got != 5 {
		t.Fatalf("resolved was sent twice")
	}
	// A kind the target does not hear of is not sent.
	n.Notify(ctx, alert.Report{Job: "b", Events: []alert.Event{{Kind: alert.KindBrake, Job: "b", At: c.t}}})
	if got := len(recv.Posts()); got != 5 {
		t.Fatalf("a brake was sent to a target on [failure, conflicts]")
	}
}

// TestMinFindings: findings below min_findings are not sent.
func TestMinFindings(t *testing.T) {
	recv := alerttest.NewReceiver(t)
	alerts := parseAlerts(t, `alerts:
  - { name: j, on: [findings], min_findings: 3, webhook: { url: "${HOOK}" } }
`, map[string]string{"HOOK": recv.URL})
	n := alert.New(alerts, zerolog.Nop(), alert.Options{})
	ev := alert.Event{Kind: alert.KindFindings, Job: "a", Counts: alert.Counts{Failed: 1, Unmapped: 1}, Codes: alert.CountCodes([]string{"REQUIRED_FIELD_MISSING", "INVALID_VALUE"}), At: t0}
	n.Notify(context.Background(), alert.Report{Job: "a", Events: []alert.Event{ev}})
	if len(recv.Posts()) != 0 {
		t.Fatal("2 findings were sent under min_findings 3")
	}
	ev.Counts.Unreadable = 1
	ev.Codes = alert.CountCodes([]string{"REQUIRED_FIELD_MISSING", "INVALID_VALUE", "INVALID_VALUE"})
	n.Notify(context.Background(), alert.Report{Job: "a", Events: []alert.Event{ev}})
	p := recv.Posts()
	if len(p) != 1 || !strings.Contains(string(p[0].Body), `"codes":[{"code":"INVALID_VALUE","count":2},{"code":"REQUIRED_FIELD_MISSING","count":1}]`) {
		t.Fatalf("findings: %v", p)
	}
}

// TestEmailSTARTTLS: an e-mail through a server offering STARTTLS: the
// password and the message go only after STARTTLS; the message names the
// job, stage and code. A server that does not offer STARTTLS is given
// nothing: no AUTH, no MAIL.
func TestEmailSTARTTLS(t *testing.T) {
	srv := alerttest.NewSMTPServer(t, true)
	alerts := parseAlerts(t, `alerts:
  - name: ops
    email: { smtp: "${SMTP}", from: "casebridge <cb@example.org>", to: [ops@example.org, "On Call <oncall@example.org>"], username: cb, password: "${PW}" }
`, map[string]string{"SMTP": srv.Addr, "PW": "pw-secret"})
	n := alert.New(alerts, zerolog.Nop(), alert.Options{TLS: srv.ClientTLS, Host: "replica-1"})
	n.Notify(context.Background(), alert.Report{Job: "th_cases", Events: []alert.Event{failure("th_cases", "login", "AUTH_FAILED")}})
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails; commands %q", len(mails), srv.Commands())
	}
	m := mails[0]
	if !m.TLS || !m.AuthTLS || m.AuthUser != "cb" || m.AuthPass != "pw-secret" {
		t.Errorf("mail TLS %v, auth over TLS %v, user %q", m.TLS, m.AuthTLS, m.AuthUser)
	}
	if m.From != "cb@example.org" || strings.Join(m.To, ",") != "ops@example.org,oncall@example.org" {
		t.Errorf("envelope %s -> %v", m.From, m.To)
	}
	// (The server's DotReader gives the CRLF line ends as LF.)
	for _, want := range []string{"Subject: casebridge: job th_cases failed at login (AUTH_FAILED)\n", "To: <ops@example.org>, \"On Call\" <oncall@example.org>\n",
		"Auto-Submitted: auto-generated\n", "\n\ncasebridge: job th_cases failed", "stage: login\n", "host: replica-1\n"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, m.Data)
		}
	}
	cmds := srv.Commands()
	if i, j := indexOf(cmds, "STARTTLS"), indexOf(cmds, "AUTH"); i < 0 || j < i {
		t.Errorf("commands %q: AUTH before STARTTLS", cmds)
	}

	// No STARTTLS offered: nothing is sent, the password least of all.
	plain := alerttest.NewSMTPServer(t, false)
	alerts = parseAlerts(t, `alerts:
  - { name: ops, email: { smtp: "${SMTP}", from: cb@example.org, to: [ops@example.org], username: cb, password: "${PW}" } }
`, map[string]string{"SMTP": plain.Addr, "PW": "pw-secret"})
	var logBuf bytes.Buffer
	alert.New(alerts, zerolog.New(&logBuf), alert.Options{TLS: plain.ClientTLS}).Notify(context.Background(),
		alert.Report{Job: "th_cases", Events: []alert.Event{failure("th_cases", "login", "AUTH_FAILED")}})
	if len(plain.Mails()) != 0 || indexOf(plain.Commands(), "AUTH") >= 0 || indexOf(plain.Commands(), "MAIL") >= 0 {
		t.Errorf("sent without STARTTLS: %q", plain.Commands())
	}
	if !strings.Contains(logBuf.String(), "STARTTLS") || strings.Contains(logBuf.String(), "pw-secret") ||
		strings.Contains(logBuf.String(), base64.StdEncoding.EncodeToString([]byte("\x00cb\x00pw-secret"))) {
		t.Errorf("log: %s", logBuf.String())
	}

	// tls: implicit to a STARTTLS server fails the handshake: nothing sent.
	alerts = parseAlerts(t, `alerts:
  - { name: ops, email: { smtp: "${SMTP}", from: cb@example.org, to: [ops@example.org], tls: implicit, timeout: 2s } }
`, map[string]string{"SMTP": srv.Addr})
	alert.New(alerts, zerolog.Nop(), alert.Options{TLS: srv.ClientTLS}).Notify(context.Background(),
		alert.Report{Job: "x", Events: []alert.Event{failure("x", "sync", "ERROR")}})
	if len(srv.Mails()) != 1 {
		t.Errorf("implicit TLS to a plain listener sent a mail")
	}
}

func indexOf(cmds []string, verb string) int {
	for i, c := range cmds {
		if strings.HasPrefix(strings.ToUpper(c), verb) {
			return i
		}
	}
	return -1
}
