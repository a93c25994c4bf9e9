package config_test

import (
	"testing"

	"github.com/casebridge/casebridge/config"
)

// TestAnchorsAndMerge: shared settings through anchors (kept under a
// top-level x- key or in an earlier job), aliases and merge keys; explicit
// keys win over merged ones and are not duplicates.
func TestAnchorsAndMerge(t *testing.T) {
	input := `version: 1
salesforce:
  auth: { flow: jwt, client_id: x, username: u@ngo.example, private_key_file: k.pem }
sources:
  th: { kind: csv, path: th.csv }
x-defaults: &job_defaults
  schedule: "@daily"
  conflict: local_wins
  deletes: ignore
jobs:
  a:
    <<: *job_defaults
    conflict: manual
    salesforce: &case { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: id }
    fields: &fields
      - { sf: vcms__Stage__c, local: status, values: &stage { open: Active, closed: Closed } }
  b:
    <<: *job_defaults
    salesforce: *case
    local: { source: th, key: id }
    fields:
      - { sf: vcms__Stage__c, local: status, values: *stage }
`
	cfg := mustParse(t, "anchors.yaml", []byte(input), config.Options{Getenv: env(nil), ReadFile: files(nil), BaseDir: "/"})
	a, b := cfg.Jobs["a"], cfg.Jobs["b"]
	if a.Conflict != config.Manual || b.Conflict != config.LocalWins || a.Deletes != config.DeleteIgnore || b.Schedule.Spec != "@daily" {
		t.Errorf("x-defaults not merged: a %s %s, b %s %q", a.Conflict, a.Deletes, b.Conflict, b.Schedule.Spec)
	}
	if b.Salesforce.Object != "vcms__Survivor_Case__c" {
		t.Errorf("aliased salesforce side: %q", b.Salesforce.Object)
	}

	// Merging a whole job.
	input = `version: 1
salesforce:
  auth: { flow: jwt, client_id: x, username: u@ngo.example, private_key_file: k.pem }
sources:
  th: { kind: csv, path: th.csv }
jobs:
  a: &job_a
    schedule: "@daily"
    conflict: local_wins
    deletes: ignore
    salesforce: &case { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: id }
    fields:
      - { sf: vcms__Stage__c, local: status, values: &stage { open: Active, closed: Closed } }
  b:
    <<: *job_a
    conflict: manual
    fields:
      - { sf: vcms__Stage__c, local: status, values: *stage }
`
	cfg = mustParse(t, "anchors.yaml", []byte(input), config.Options{Getenv: env(nil), ReadFile: files(nil), BaseDir: "/"})
	a, b = cfg.Jobs["a"], cfg.Jobs["b"]
	if a.Conflict != config.LocalWins || b.Conflict != config.Manual {
		t.Errorf("conflict a=%s b=%s, want local_wins, manual", a.Conflict, b.Conflict)
	}
	if b.Deletes != config.DeleteIgnore || b.Schedule.Spec != "@daily" || b.Salesforce.Object != "vcms__Survivor_Case__c" {
		t.Errorf("b did not merge a: deletes %s schedule %q object %q", b.Deletes, b.Schedule.Spec, b.Salesforce.Object)
	}
	if got, _ := b.Fields[0].Values.ToSF("closed"); got != "Closed" {
		t.Errorf("aliased value map: closed -> %q", got)
	}
	if p := b.At("conflict"); p.Line != 17 {
		t.Errorf("b.conflict at %v, want line 17 (the explicit key)", p)
	}
}
