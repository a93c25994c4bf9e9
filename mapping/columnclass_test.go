package mapping

import (
	"context"
	"slices"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// sharedNameJob reads the name column through a pii: direct rule and an
// unclassified one (a careless copy of the name into the case notes), and
// the gender column through a pii: quasi rule and an unclassified one.
const sharedNameJob = inlineHead + `    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    consent: { field: vcms__Consent_Status__c, allowed: [Granted] }
    fields:
      - { sf: vcms__Last_Name__c, local: ชื่อ-สกุล, pii: direct }
      - { sf: vcms__Case_Notes__c, local: ชื่อ-สกุล, direction: to_salesforce }
      - { sf: vcms__Gender__c, local: เพศ, pii: quasi, values: { หญิง: Feminine, ชาย: Masculine } }
      - { sf: vcms__Workplace__c, local: เพศ, direction: to_salesforce }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ปิดเคส: Closed }
      - sf: vcms__Consent_Status__c
        local: ยินยอม
        values: { ยินยอม: Granted, ถอนความยินยอม: Withdrawn }
`

// TestColumnClassIsStrictest: a column's class is the strictest of every
// rule that reads it. The unclassified rule reading the name column is
// direct (masked in reports) and held back by the consent gate; the one
// reading a quasi column is quasi, which the default gate lets through.
func TestColumnClassIsStrictest(t *testing.T) {
	cfg := parseInline(t, sharedNameJob)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		class config.PII
		gated bool
	}{
		"vcms__Last_Name__c": {config.PIIDirect, true}, "vcms__Case_Notes__c": {config.PIIDirect, true},
		"vcms__Gender__c": {config.PIIQuasi, false}, "vcms__Workplace__c": {config.PIIQuasi, false},
		"vcms__Stage__c": {"", false}, "vcms__Consent_Status__c": {"", false},
	}
	for _, f := range m.FieldSpecs(caseObj) {
		w, ok := want[f.Name]
		if !ok {
			continue
		}
		if f.Class != w.class || f.Gated != w.gated {
			t.Errorf("%s: class %q gated %v, want %q %v", f.Name, f.Class, f.Gated, w.class, w.gated)
		}
	}
	row := textRow(thKey, map[string]string{thKey: "TH-CL-0008", "ชื่อ-สกุล": "MARKER-NAME-7731", "เพศ": "ชาย", "สถานะ": "ปิดเคส", "ยินยอม": "ถอนความยินยอม"})
	fam, _ := m.ToSalesforce(context.Background(), row, thAccounts)
	for f, v := range fam.Parent.Fields {
		if s, _ := v.Text(); s == "MARKER-NAME-7731" {
			t.Errorf("the name flowed through %s while consent is withdrawn", f)
		}
	}
	if got := fam.Parent.Fields["vcms__Consent_Status__c"].Raw(); got != "Withdrawn" {
		t.Errorf("the withdrawal itself must flow: %q", got)
	}
	keys := make([]string, 0, len(fam.Parent.Fields))
	for k := range fam.Parent.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Contains(keys, "vcms__Workplace__c") || !slices.Contains(keys, "vcms__Stage__c") {
		t.Errorf("ungated fields left out: %v", keys)
	}
}

// TestClassifiedLookupTargets: a lookup's search is classified when its
// rule is, or when another rule classifies the column it reads; an
// unclassified lookup is not.
func TestClassifiedLookupTargets(t *testing.T) {
	cfg := twoWayConfig(t, `      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: vcms__Partner_Code__c }, direction: to_salesforce }
      - { sf: vcms__Stage__c, local: stage }
`)
	m, err := Compile(cfg.Jobs["j"], twoWayObjects())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ClassifiedLookupTargets(); len(got) != 0 {
		t.Errorf("unclassified lookup: %v", got)
	}
	cfg = twoWayConfig(t, `      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: Account, field: vcms__Partner_Code__c }, direction: to_salesforce }
      - { sf: vcms__Stage__c, local: partner, pii: quasi, direction: to_salesforce }
`)
	if m, err = Compile(cfg.Jobs["j"], twoWayObjects()); err != nil {
		t.Fatal(err)
	}
	if got := m.ClassifiedLookupTargets(); !slices.Equal(got, []LookupTarget{{"Account", "vcms__Partner_Code__c"}}) {
		t.Errorf("a lookup reading a quasi column: %v", got)
	}
}
