package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/state"
)

// TestEraseCommand: casebridge erase --dry-run reports and writes nothing;
// erase is refused with exit 6 while the job's lease is held; then it
// erases, reporting keys and field names, never a value.
func TestEraseCommand(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	dir := t.TempDir()
	csv := "Case ID,Name,Stage\r\nE-1,Zqerase-name,Active\r\nE-2,Zqkeep-name,Active\r\n"
	if err := os.WriteFile(filepath.Join(dir, "cases.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "casebridge.yaml")
	text := `version: 1
salesforce:
  login_url: ` + srv.URL + `
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
fingerprint_key_file: ` + filepath.Join(t.TempDir(), "fp.key") + `
sources:
  office: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: office, key: Case ID, key_prefix: "e:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Last_Name__c, local: Name, pii: direct }
      - { sf: vcms__Stage__c, local: Stage }
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out strings.Builder
		code := runContext(context.Background(), args, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := run("sync", cfg, "--log-level", "error"); code != exitOK {
		t.Fatalf("sync: exit %d\n%s", code, out)
	}
	code, out := run("erase", cfg, "cases", "E-1", "--dry-run", "--log-level", "error")
	if code != exitOK || !strings.Contains(out, "would erase") || !strings.Contains(out, "local: blanked Name") || !strings.Contains(out, "cleared vcms__Last_Name__c (direct)") {
		t.Fatalf("erase --dry-run: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cases.csv")); !strings.Contains(string(b), "Zqerase-name") {
		t.Fatal("a dry run erased")
	}

	st, err := state.OpenSQLite(context.Background(), filepath.Join(dir, "casebridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.Acquire(context.Background(), "cases", "other-host:1", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code, out := run("erase", cfg, "cases", "E-1", "--log-level", "error"); code != exitLocked {
		t.Errorf("erase while the job is run elsewhere: exit %d, want %d\n%s", code, exitLocked, out)
	}
	if err := st.Release(context.Background(), "cases", token); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out = run("erase", cfg, "cases", "E-1", "--log-level", "error")
	if code != exitOK || !strings.Contains(out, "cases erased E-1 (salesforce e:E-1)") || !strings.Contains(out, "tombstone left") {
		t.Fatalf("erase: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "Zq") {
		t.Errorf("the output shows a value:\n%s", out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cases.csv"))
	if strings.Contains(string(b), "Zqerase-name") || !strings.Contains(string(b), "Zqkeep-name") {
		t.Errorf("the sheet after erase:\n%s", b)
	}
}
