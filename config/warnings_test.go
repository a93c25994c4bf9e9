package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

func TestWarnings(t *testing.T) {
	input := `version: 1
salesforce:
  auth: { flow: password, client_id: x, client_secret: "${S}", username: u@ngo.example, password: "${S}" }
sources:
  th: { kind: csv, path: th.csv }
  spare: { kind: csv, path: spare.csv }
jobs:
  th_cases:
    schedule: "CRON_TZ=America/New_York 30 2 * * *"
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: id }
    fields: [{ sf: vcms__Stage__c, local: status }]
`
	cfg := mustParse(t, "w.yaml", []byte(input), config.Options{
		Getenv: env(map[string]string{"S": "synthetic"}), ReadFile: files(nil), BaseDir: "/", Perm: 0o644,
	})
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"w.yaml:3:17: salesforce.auth.flow: the OAuth username-password flow is being retired by Salesforce; move to flow jwt or client_credentials",
		"w.yaml:6:10: sources.spare: no job uses this source",
		"w.yaml:9:15: jobs.th_cases.schedule: America/New_York observes daylight saving time: a run in the hour skipped or repeated at a change is skipped or made twice; prefer UTC",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSQLitePathIsNotASecret: a SQLite state or source "dsn" is a file
// path; a readable file holding one gets no literal-secret warning, while a
// PostgreSQL DSN written literally still does.
func TestSQLitePathIsNotASecret(t *testing.T) {
	base := `version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: "${S}" }
state: STATE
sources:
  db: { kind: sqlite, dsn: cases.db, table: casos }
jobs:
  j:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: db, key: id }
    fields: [{ sf: vcms__Stage__c, local: status }]
`
	for _, tc := range []struct {
		state string
		warn  bool
	}{
		{"{ driver: sqlite, dsn: casebridge.db }", false},
		{"{ driver: postgres, dsn: \"postgres://cb:pw@db.example/state\" }", true},
	} {
		cfg := mustParse(t, "s.yaml", []byte(strings.Replace(base, "STATE", tc.state, 1)), config.Options{
			Getenv: env(map[string]string{"S": "synthetic"}), ReadFile: files(nil), BaseDir: "/", Perm: 0o644,
		})
		got := false
		for _, w := range cfg.Warnings {
			if strings.Contains(w.Error(), "literally") {
				got = true
			}
		}
		if got != tc.warn {
			t.Errorf("state %s: literal-secret warning %v, want %v (%v)", tc.state, got, tc.warn, cfg.Warnings)
		}
	}
}
