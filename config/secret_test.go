package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
)

const marker = "hunter2-MARKER"

func TestSecretRedaction(t *testing.T) {
	s := config.NewSecret(marker)
	type holder struct {
		Name string
		DSN  config.Secret
		Ptr  *config.Secret
	}
	h := holder{Name: "gt_db", DSN: s, Ptr: &s}
	// fmt cannot call String on an unexported field; it prints by
	// reflection, which must not reach the content either.
	type hidden struct {
		name string
		dsn  config.Secret
	}
	hid := hidden{name: "gt_db", dsn: s}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-8v"} {
		for _, arg := range []any{s, &s, h, &h, hid, &hid, []config.Secret{s}, map[string]config.Secret{"k": s}} {
			if out := fmt.Sprintf(verb, arg); strings.Contains(out, marker) || strings.Contains(out, "4d41524b4552") {
				t.Errorf("Sprintf(%q, %T) = %q leaks the secret", verb, arg, out)
			}
		}
	}
	if got := fmt.Sprint(s); got != "[redacted]" {
		t.Errorf("Sprint = %q, want [redacted]", got)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), marker) || !strings.Contains(string(b), `"DSN":"[redacted]"`) {
		t.Errorf("json = %s", b)
	}
	b, _ = json.Marshal(map[config.Secret]int{s: 1})
	if strings.Contains(string(b), marker) {
		t.Errorf("json map key = %s", b)
	}
	if txt, _ := s.MarshalText(); string(txt) != "[redacted]" {
		t.Errorf("MarshalText = %q", txt)
	}
	if s.Reveal() != marker {
		t.Errorf("Reveal lost the content")
	}
	if !config.NewSecret("").IsZero() || s.IsZero() {
		t.Errorf("IsZero wrong")
	}

	// zerolog: Interface (JSON), Stringer and %v via Msgf.
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().Interface("dsn", s).Stringer("s", s).Interface("holder", h).Msgf("connecting with %v %s", s, h)
	if strings.Contains(buf.String(), marker) {
		t.Errorf("zerolog output leaks the secret: %s", buf.String())
	}
}

// TestFindingsNeverCarrySecrets makes many findings around secret values
// (from the environment, from files, and written literally) and checks
// that no message carries one.
func TestFindingsNeverCarrySecrets(t *testing.T) {
	input := `version: 1
salesforce:
  login_url: https://user:` + marker + `@login.example
  api_version: ${SECRET}
  auth:
    flow: ${SECRET}
    client_secret: ` + marker + `
    password_file: /secret
sources:
  gt:
    kind: mysql
    dsn: ` + marker + `
    delimiter: ${SECRET}
    header_row: ` + marker + `
    timezone: ${SECRET}
jobs:
  j:
    schedule: ${SECRET}
    conflict: ${SECRET}
    max_delete: ${SECRET}
    salesforce: { object: "${SECRET}", key: Key__c }
    local: { source: gt, key: id, table: t }
    fields:
      - { sf: A__c, local: a, date: { formats: ["${SECRET}"] } }
      - { sf: B__c, local: b, required: "${SECRET}", number: { scale: "${SECRET}" } }
`
	_, err := config.Parse("leak.yaml", []byte(input), config.Options{
		Getenv:   env(map[string]string{"SECRET": marker}),
		ReadFile: files(map[string]string{"/secret": marker + "\n"}),
		BaseDir:  "/",
		Perm:     0o644,
	})
	if err == nil {
		t.Fatal("Parse found nothing")
	}
	if strings.Contains(err.Error(), marker) {
		t.Errorf("findings carry a secret:\n%s", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n < 10 {
		t.Errorf("only %d findings:\n%s", n, err)
	}
}
