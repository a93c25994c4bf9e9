package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestEraseCommandKeysAndBackups: a dry run says the encrypted backups it
// cannot open would be removed (and removes none); a name typed for a key
// outside key_pattern is a usage error that shows no part of it and
// removes nothing; a key found nowhere is not reported as a record
// forgotten.
func TestEraseCommandKeysAndBackups(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
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
  office: { kind: csv, path: cases.csv, status_column: Status, backup_encrypt_to: [` + id.Recipient().String() + `] }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: office, key: Case ID, key_prefix: "e:", key_pattern: "^E-[0-9]+$" }
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
		code := runContext(context.Background(), append(args, "--log-level", "error"), strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	if code, out := run("sync", cfg); code != exitOK {
		t.Fatalf("sync: exit %d\n%s", code, out)
	}
	backups := func() int {
		m, err := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "*.bak.age"))
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}
	n := backups()
	if n == 0 {
		t.Fatal("the sync made no encrypted backup: the test proves nothing")
	}

	code, out := run("erase", cfg, "cases", "E-1", "--dry-run")
	if code != exitOK || !strings.Contains(out, "would be removed whole") || strings.Contains(out, "backup removed whole") || strings.Contains(out, "backups removed whole") {
		t.Errorf("erase --dry-run without --age-identity: exit %d, want it to say the backups would be removed\n%s", code, out)
	}
	if got := backups(); got != n {
		t.Fatalf("a dry run left %d backups of %d", got, n)
	}

	code, out = run("erase", cfg, "cases", "Zqtyped Name")
	if code != exitUsage || strings.Contains(out, "Zqtyped") || !strings.Contains(out, "key_pattern") {
		t.Errorf("erase of a name typed for a key: exit %d, want %d, naming key_pattern, not the key\n%s", code, exitUsage, out)
	}
	if got := backups(); got != n {
		t.Errorf("a refused erase left %d backups of %d", got, n)
	}

	code, out = run("erase", cfg, "cases", "E-9")
	if code != exitOK || !strings.Contains(out, "not found anywhere") || strings.Contains(out, "record forgotten") {
		t.Errorf("erase of a key found nowhere: exit %d\n%s", code, out)
	}
}
