package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/config"
)

const alertsBase = `version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: "${S}" }
sources:
  th: { kind: csv, path: th.csv }
jobs:
  th_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: id }
    fields: [{ sf: vcms__Stage__c, local: status }]
`

// TestAlertsDecode: an alert's defaults, its secrets through ${...}, and
// each kind of target.
func TestAlertsDecode(t *testing.T) {
	cfg := mustParse(t, "a.yaml", []byte(alertsBase+`alerts:
  - name: chat
    webhook: { url: "${HOOK}", format: slack }
  - name: ops
    on: [failure, findings]
    min_findings: 5
    every: 30m
    email: { smtp: "smtp.example.org:587", from: cb@example.org, to: [ops@example.org], username: cb, password: "${PW}" }
`), config.Options{Getenv: env(map[string]string{"S": "s", "HOOK": "https://hooks.slack.com/services/T/B/X", "PW": "pw"}), ReadFile: files(nil), BaseDir: "/"})
	if len(cfg.Alerts) != 2 {
		t.Fatalf("%d alerts", len(cfg.Alerts))
	}
	chat, ops := cfg.Alerts[0], cfg.Alerts[1]
	if !slices.Equal(chat.On, []config.AlertKind{"failure", "lockout", "brake"}) || chat.Every.Duration != time.Hour ||
		chat.MinFindings != 1 || chat.MaxPerHour != 30 || chat.Webhook.Format != config.WebhookSlack ||
		chat.Webhook.URL.Reveal() != "https://hooks.slack.com/services/T/B/X" || chat.Webhook.Timeout.Duration != 10*time.Second {
		t.Errorf("chat: %+v %+v", chat, chat.Webhook)
	}
	if !ops.Wants(config.AlertFindings) || ops.Wants(config.AlertLockout) || ops.MinFindings != 5 || ops.Every.Duration != 30*time.Minute ||
		ops.Email.TLS != config.SMTPStartTLS || ops.Email.Password.Reveal() != "pw" || len(cfg.Warnings) != 0 {
		t.Errorf("ops: %+v %+v %v", ops, ops.Email, cfg.Warnings)
	}
}

// TestAlertsFindings: every mistake found at once, at its position, and
// no message quotes a webhook URL (it holds a token).
func TestAlertsFindings(t *testing.T) {
	_, err := config.Parse("a.yaml", []byte(alertsBase+`alerts:
  - name: chat
    on: [failure, breaks]
    webhook: { url: "ftp://hooks.example.org/TOKEN", format: discord }
  - name: chat
    every: 10s
  - name: ops
    email: { smtp: smtp.example.org, from: nobody, to: [ops@example.org, "not an address"], username: cb, tls: none }
`), config.Options{Getenv: env(map[string]string{"S": "s"}), ReadFile: files(nil), BaseDir: "/"})
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err %v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`a.yaml:13:19: alerts[0].on[1]: "breaks" is not one of failure, lockout, brake, conflicts, findings (did you mean "brake"?)`,
		`a.yaml:14:21: alerts[0].webhook.url: want an http or https URL`,
		`a.yaml:14:62: alerts[0].webhook.format: "discord" is not one of json, slack, teams`,
		`a.yaml:15:5: alerts[1]: an alert needs a webhook, an email, or both`,
		`a.yaml:15:11: alerts[1].name: alert "chat" is already named at line 12; give each target its own name`,
		`a.yaml:16:12: alerts[1].every: want 1m to 30d`,
		`a.yaml:18:12: alerts[2].email.password: username is set: password needs a value`,
		`a.yaml:18:20: alerts[2].email.smtp: want host:port, such as smtp.example.org:587`,
		`a.yaml:18:44: alerts[2].email.from: not an e-mail address`,
		`a.yaml:18:74: alerts[2].email.to[1]: not an e-mail address`,
		`a.yaml:18:112: alerts[2].email.tls: a password is never sent without TLS: use starttls or implicit, or a relay that needs no login`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "TOKEN") {
		t.Errorf("a message quotes the URL: %v", err)
	}
}

// TestAlertsPlainHTTPWarning: plain http to another machine is a warning;
// to this machine (a local relay, a test) it is not.
func TestAlertsPlainHTTPWarning(t *testing.T) {
	opt := config.Options{Getenv: env(map[string]string{"S": "s"}), ReadFile: files(nil), BaseDir: "/"}
	cfg := mustParse(t, "a.yaml", []byte(alertsBase+`alerts:
  - { name: far, webhook: { url: "http://chat.example.org/hook" } }
  - { name: near, webhook: { url: "http://127.0.0.1:9000/hook" } }
`), opt)
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Error(), "alerts[0].webhook.url: plain http to another machine") {
		t.Errorf("warnings %v", cfg.Warnings)
	}
}
