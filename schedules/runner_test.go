package schedules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
)

// newTestRunner writes the Thai tracker fixture and a configuration naming
// it and the in-process fake org into a temporary directory, and opens a
// Runner on them (SQLite state, a generated fingerprint key).
func newTestRunner(t *testing.T, cfgText string) (*Runner, *sftest.Org, string) {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	csv, err := os.ReadFile("../fixtures/sheets/th_tracker.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The seed org already holds TH-CL-0001 from this tracker: the first
	// sync matches it by key.
	csv = append(csv, "5,TH-CL-0001,ด.ญ. ตัวอย่าง ทดสอบ,หญิง,12/03/2553,14,,03/04/2024,ใช่,สูติบัตร,กำลังดำเนินการ,\"3,000\",,,ยินยอม,\r\n"...)
	if err := os.WriteFile(filepath.Join(dir, "th_tracker.csv"), csv, 0o600); err != nil {
		t.Fatal(err)
	}
	return openRunner(t, dir, cfgText, srv.URL), org, dir
}

const thConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  th_tracker: { kind: csv, path: th_tracker.csv, header_row: 2 }
jobs:
  th_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_tracker, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Last_Name__c, local: ชื่อ-สกุล, transform: thai_name.last, pii: direct, direction: to_salesforce }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ติดตามผล: Follow_Up, ปิดเคส: Closed, ส่งต่อ: Closed_Referred }
`

func TestRunnerFirstSyncThenNoop(t *testing.T) {
	r, org, _ := newTestRunner(t, thConfig)
	ctx := context.Background()

	before := len(org.Records("vcms__Survivor_Case__c"))
	dry, err := r.Run(ctx, "th_cases", RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(org.Records("vcms__Survivor_Case__c")); got != before {
		t.Fatalf("a dry run changed the org: %d cases, was %d", got, before)
	}
	creates := dry.Result.Plan.Count(reconcile.OpCreate)
	if creates == 0 {
		t.Fatalf("dry run plans no creates:\n%s", dry.Result.Plan)
	}

	org.ResetRequests()
	res, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Result.Plan.Count(reconcile.OpCreate); n != creates {
		t.Errorf("apply created %d, the dry run planned %d", n, creates)
	}
	rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007")
	if !ok {
		t.Fatalf("TH-CL-0007 was not created in the org; plan:\n%s", res.Result.Plan)
	}
	if got := rec.Fields["vcms__Stage__c"]; got != "Active" {
		t.Errorf("TH-CL-0007 stage = %v, want Active (กำลังดำเนินการ)", got)
	}

	org.ResetRequests()
	again, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := again.Result.Plan.NumWrites(); w != 0 {
		t.Errorf("second run plans %d writes, want none:\n%s", w, again.Result.Plan)
	}
	for _, e := range org.Requests() {
		if strings.HasPrefix(e.Endpoint, "collections.") || strings.HasPrefix(e.Endpoint, "sobject.") && e.Method != "GET" {
			t.Errorf("second run made a write call: %s %s", e.Method, e.Endpoint)
		}
	}
}
