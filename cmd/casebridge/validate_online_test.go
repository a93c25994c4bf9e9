package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestValidateOnline checks a configuration against the fake org's schema:
// a misspelt field gets a suggestion, a value-map target the restricted
// picklist lacks is named, each at its file:line:col, exit 1; the fixed
// configuration passes.
func TestValidateOnline(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("secret", sftest.DefaultClientSecret)
	write("t.csv", "id,status\n") // validate reads its header
	cfg := func(stageField, active string) string {
		return `version: 1
salesforce:
  login_url: ` + srv.URL + `
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret_file: secret }
sources:
  tracker: { kind: csv, path: t.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: tracker, key: id, key_prefix: "t:" }
    fields:
      - sf: ` + stageField + `
        local: status
        values: { open: ` + active + `, closed: Closed }
`
	}
	bad := write("bad.yaml", cfg("vcms__Stage_c", "Open"))
	var out, errb bytes.Buffer
	code := runContext(context.Background(), []string{"validate", "--online", bad}, strings.NewReader(""), &out, &errb)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, exitFindings, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "bad.yaml:12:13: jobs.cases.fields[0].sf: ") || !strings.Contains(out.String(), `did you mean "vcms__Stage__c"`) {
		t.Errorf("misspelt field not reported at its position with a suggestion:\n%s", out.String())
	}

	half := write("half.yaml", cfg("vcms__Stage__c", "Open"))
	out.Reset()
	errb.Reset()
	code = runContext(context.Background(), []string{"validate", "--online", half}, strings.NewReader(""), &out, &errb)
	if code != exitFindings || !strings.Contains(out.String(), "half.yaml:14:") || !strings.Contains(out.String(), "Open") {
		t.Errorf("picklist value the org lacks: exit %d, stdout:\n%s", code, out.String())
	}

	good := write("good.yaml", cfg("vcms__Stage__c", "Active"))
	out.Reset()
	errb.Reset()
	if code := runContext(context.Background(), []string{"validate", "--online", good}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Errorf("valid configuration: exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "checked against the org") {
		t.Errorf("no online confirmation:\n%s", out.String())
	}
}
