package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/alert/alerttest"
)

// TestAlertsTestCommand: casebridge alerts test sends one test message to
// each target (a webhook, an e-mail through a relay on this machine) and
// says which were delivered; an unreachable one makes exit 7 and names
// its host only, not the URL's path.
func TestAlertsTestCommand(t *testing.T) {
	recv := alerttest.NewReceiver(t)
	smtp := alerttest.NewSMTPServer(t, false)
	dead := alerttest.NewReceiver(t)
	deadURL := dead.URL
	dead.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "casebridge.yaml")
	text := `version: 1
salesforce:
  login_url: https://login.salesforce.com
  auth: { flow: client_credentials, client_id: id, client_secret: x }
sources:
  s: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: Case__c, key: Key__c }
    local: { source: s, key: ID }
    fields: [{ sf: Name__c, local: Name }]
alerts:
  - { name: chat, webhook: { url: "HOOK/hook/TOKEN123", format: slack } }
  - { name: mail, email: { smtp: "SMTP", from: cb@example.org, to: [ops@example.org], tls: none } }
  - { name: gone, webhook: { url: "DEAD/hook/TOKEN456" } }
`
	text = strings.NewReplacer("HOOK", recv.URL, "SMTP", smtp.Addr, "DEAD", deadURL).Replace(text)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code := runContext(context.Background(), []string{"alerts", "test", cfg, "chat", "mail", "--log-level", "error"}, strings.NewReader(""), &out, io.Discard)
	if code != exitOK || out.String() != "chat.webhook: delivered\nmail.email: delivered\n" {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	posts := recv.Posts()
	var body map[string]string
	if len(posts) != 1 || json.Unmarshal(posts[0].Body, &body) != nil || !strings.Contains(body["text"], "a test alert") {
		t.Fatalf("posts %v", posts)
	}
	if m := smtp.Mails(); len(m) != 1 || !strings.Contains(m[0].Data, "Subject: casebridge: a test alert") {
		t.Fatalf("mails %v", m)
	}

	out.Reset()
	code = runContext(context.Background(), []string{"alerts", "test", cfg, "--log-level", "error"}, strings.NewReader(""), &out, io.Discard)
	if code != exitError || !strings.Contains(out.String(), "gone.webhook: not delivered: webhook 127.0.0.1:") || strings.Contains(out.String(), "TOKEN") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if code := runContext(context.Background(), []string{"alerts", "test", cfg, "nosuch"}, strings.NewReader(""), io.Discard, io.Discard); code != exitUsage {
		t.Errorf("an unknown alert name: exit %d", code)
	}
}
