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
