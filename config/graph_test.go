package config_test

import (
	"slices"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// orderConfig lists the cases before the partners their lookups search,
// a job looking up its own object, and a from_salesforce job whose
// lookups wait for nobody.
const orderConfig = `version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: "${SF_CLIENT_ID}" }
sources:
  s: { kind: csv, path: s.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Partner_Org__c, local: partner, lookup: { object: account, field: vcms__Partner_Code__c }, direction: to_salesforce }
      - { sf: vcms__Related__c, local: rel, lookup: { object: vcms__Survivor_Case__c, field: vcms__Case_Code__c }, direction: to_salesforce }
  notes:
    direction: from_salesforce
    salesforce: { object: vcms__Note__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Case__c, local: case, lookup: { object: vcms__Survivor_Case__c, field: vcms__Case_Code__c } }
  referrals:
    salesforce: { object: vcms__Referral__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Stage__c, local: st }
    children:
      - name: case_link
        object: vcms__Case_Link__c
        parent_field: vcms__Referral__c
        fields:
          - { sf: vcms__Case__c, local: case, lookup: { object: vcms__Survivor_Case__c, field: vcms__Case_Code__c }, direction: to_salesforce }
  partners:
    salesforce: { object: Account, key: vcms__Partner_Code__c }
    local: { source: s, key: code }
    fields:
      - { sf: Name, local: name }
`

// TestJobOrder: a job runs after the jobs writing what its lookups
// search (a child's lookup counts), whatever the file's order; jobs with
// no such link keep the order given.
func TestJobOrder(t *testing.T) {
	cfg, err := config.Parse("config.yaml", []byte(orderConfig), errorCaseOptions())
	if err != nil {
		t.Fatal(err)
	}
	for job, want := range map[string][]string{
		"cases":     {"partners"}, // not itself
		"notes":     nil,          // reads only
		"referrals": {"cases"},
		"partners":  nil,
	} {
		if got := cfg.RunsAfter(job); !slices.Equal(got, want) {
			t.Errorf("RunsAfter(%s) = %v, want %v", job, got, want)
		}
	}
	for _, c := range []struct{ names, want []string }{
		{cfg.JobNames(), []string{"notes", "partners", "cases", "referrals"}},
		{[]string{"referrals", "cases"}, []string{"cases", "referrals"}},
		{[]string{"notes", "cases"}, []string{"notes", "cases"}},
		{[]string{"cases", "partners", "cases"}, []string{"partners", "cases"}},
	} {
		if got := cfg.JobOrder(c.names); !slices.Equal(got, c.want) {
			t.Errorf("JobOrder(%v) = %v, want %v", c.names, got, c.want)
		}
	}
}
