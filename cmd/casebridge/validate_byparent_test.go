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

// TestValidateOnlineByParentWarning: validate --online warns (exit 0) at
// the child's key when a child keyed by_parent has an object with an
// External ID field of its own, naming the field to key it by; a child
// whose object has none (case notes) gets no warning.
func TestValidateOnlineByParentWarning(t *testing.T) {
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
	write("t.csv", "id,name,service,note\n")
	cfg := `version: 1
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
      - { sf: vcms__Last_Name__c, local: name }
    children:
      - name: svc
        object: vcms__Assistance__c
        key: by_parent
        parent_field: vcms__Case__c
        key_suffix: ":svc"
        fields:
          - { sf: vcms__Service_Type__c, local: service }
      - name: note
        object: vcms__Case_Note__c
        key: by_parent
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Summary__c, local: note }
`
	p := write("c.yaml", cfg)
	var out, errb bytes.Buffer
	if code := runContext(context.Background(), []string{"validate", "--online", p}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("exit %d, want %d (a warning does not fail); stdout:\n%s\nstderr:\n%s", code, exitOK, out.String(), errb.String())
	}
	var warns []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasSuffix(l, "(warning)") {
			warns = append(warns, l)
		}
	}
	want := "c.yaml:16:14: jobs.cases.children[0].key: vcms__Assistance__c has external id field(s) vcms__External_Service_Key__c: key: vcms__External_Service_Key__c is simpler and lets Bulk API and upserts work (warning)"
	if len(warns) != 1 || !strings.HasSuffix(warns[0], want) {
		t.Errorf("warnings %q, want one ending %q", warns, want)
	}
	if !strings.Contains(out.String(), "checked against the org") {
		t.Errorf("no online confirmation:\n%s", out.String())
	}
}
