package schedules

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

const thConsentConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }
sources:
  th_tracker: { kind: csv, path: th_tracker.csv, header_row: 2 }
jobs:
  th_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_tracker, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    consent: { field: vcms__Consent_Status__c, allowed: [Granted] }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Name_Local_Script__c, local: ชื่อ-สกุล, pii: direct }
      - { sf: vcms__Gender__c, local: เพศ, pii: quasi, values: { หญิง: Feminine, ญ: Feminine, ชาย: Masculine, ช: Masculine } }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ติดตามผล: Follow_Up, ปิดเคส: Closed, ส่งต่อ: Closed_Referred }
      - sf: vcms__Consent_Status__c
        local: ยินยอม
        values: { ยินยอม: Granted, ไม่ยินยอม: Not_Obtained, ถอนความยินยอม: Withdrawn }
`

// The job's consent reaches the engine: the gated fields are the parent's
// fields of the gated classes (direct and sensitive by default), and a
// withdrawal in the sheet propagates to the org while the sheet's edit of
// a gated field does not.
func TestRunnerWiresConsent(t *testing.T) {
	cfg := strings.NewReplacer("CLIENT_ID", sftest.DefaultClientID, "CLIENT_SECRET", sftest.DefaultClientSecret).Replace(thConsentConfig)
	r, org, dir := newTestRunner(t, cfg)
	ctx := context.Background()
	res, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Engine.Consent
	if c == nil || c.Field != "vcms__Consent_Status__c" || !slices.Equal(c.Allowed, []string{"Granted"}) ||
		!slices.Equal(c.Gated, []string{"vcms__Name_Local_Script__c"}) {
		t.Fatalf("engine consent = %+v", c)
	}
	rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007")
	if !ok || rec.Fields["vcms__Consent_Status__c"] != "Granted" {
		t.Fatalf("TH-CL-0007 after the first sync: %v %v", ok, rec.Fields["vcms__Consent_Status__c"])
	}
	name := rec.Fields["vcms__Name_Local_Script__c"]

	// The sheet withdraws TH-CL-0007's consent and renames her.
	path := filepath.Join(dir, "th_tracker.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "1,TH-CL-0007,") {
			l = strings.Replace(l, "ด.ญ. สมหญิง ตัวอย่าง", "ด.ญ. สมหญิง แก้ไข", 1)
			lines[i] = strings.Replace(l, ",ยินยอม,", ",ถอนความยินยอม,", 1)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ = org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007")
	if got := rec.Fields["vcms__Consent_Status__c"]; got != "Withdrawn" {
		t.Errorf("the sheet's withdrawal did not reach the org: status %v; plan:\n%s", got, res.Result.Plan)
	}
	if got := rec.Fields["vcms__Name_Local_Script__c"]; got != name {
		t.Errorf("a gated field flowed after the withdrawal; plan:\n%s", res.Result.Plan)
	}
}

// A column's class is the strictest of every rule that reads it (issue
// 16): the name column copied unclassified into the case notes is gated
// with the name, so after a withdrawal the sheet's rename reaches the org
// through neither rule.
func TestConsentGatesColumnThroughEveryRule(t *testing.T) {
	cfg := strings.NewReplacer("CLIENT_ID", sftest.DefaultClientID, "CLIENT_SECRET", sftest.DefaultClientSecret,
		"      - { sf: vcms__Name_Local_Script__c, local: ชื่อ-สกุล, pii: direct }",
		"      - { sf: vcms__Name_Local_Script__c, local: ชื่อ-สกุล, pii: direct }\n      - { sf: vcms__Case_Notes__c, local: ชื่อ-สกุล, direction: to_salesforce }").Replace(thConsentConfig)
	r, org, dir := newTestRunner(t, cfg)
	ctx := context.Background()
	res, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Engine.Consent; c == nil || !slices.Equal(c.Gated, []string{"vcms__Name_Local_Script__c", "vcms__Case_Notes__c"}) {
		t.Fatalf("engine consent = %+v", c)
	}
	for _, f := range res.Engine.Fields {
		if f.Name == "vcms__Case_Notes__c" && f.Class != "direct" {
			t.Errorf("case notes read the name column: class %q, want direct", f.Class)
		}
	}
	rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007")
	if !ok {
		t.Fatal("TH-CL-0007 not created")
	}
	notes := rec.Fields["vcms__Case_Notes__c"]
	path := filepath.Join(dir, "th_tracker.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "1,TH-CL-0007,") {
			l = strings.Replace(l, "ด.ญ. สมหญิง ตัวอย่าง", "ด.ญ. สมหญิง แก้ไข", 1)
			lines[i] = strings.Replace(l, ",ยินยอม,", ",ถอนความยินยอม,", 1)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err = r.Run(ctx, "th_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, _ = org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0007")
	if got := rec.Fields["vcms__Consent_Status__c"]; got != "Withdrawn" {
		t.Errorf("the withdrawal did not reach the org: %v", got)
	}
	if got := rec.Fields["vcms__Case_Notes__c"]; got != notes {
		t.Errorf("the renamed name reached the org through the unclassified rule after the withdrawal; plan:\n%s", res.Result.Plan)
	}
}
