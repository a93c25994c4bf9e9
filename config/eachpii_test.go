package config_test

import (
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

const eachPIIConfig = `
version: 1
salesforce:
  login_url: https://login.salesforce.com
  auth: { flow: client_credentials, client_id: id, client_secret: secret }
sources:
  kh: { kind: csv, path: kh.csv }
jobs:
  kh_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: kh, key: Code }
    fields:
      - { sf: vcms__Last_Name__c, local: Name }
    children:
      - name: services
        object: vcms__Assistance__c
        KEY
        parent_field: vcms__Case__c
        key_suffix: ":svc"
        each:
          local: Services
          sf: vcms__Service_Type__c
          pii: sensitive
          values: { shelter: Shelter, medical: Medical }
`

// A classified each (issue 16) is read with its class; under a child
// keyed by_parent, whose keys Salesforce derives from the value itself, it
// is refused.
func TestEachPII(t *testing.T) {
	cfg := mustParse(t, "each.yaml", []byte(strings.Replace(eachPIIConfig, "KEY", "key: vcms__External_Service_Key__c", 1)), config.Options{})
	e := cfg.Jobs["kh_cases"].Children[0].Each
	if e.PII != config.PIISensitive || !e.Classified() {
		t.Errorf("each pii = %q, classified %v", e.PII, e.Classified())
	}
	_, err := config.Parse("each.yaml", []byte(strings.Replace(eachPIIConfig, "KEY", "key: by_parent", 1)), config.Options{})
	if err == nil || !strings.Contains(err.Error(), "each.pii") || !strings.Contains(err.Error(), "by_parent") {
		t.Errorf("a classified each keyed by_parent: %v, want it refused at each.pii", err)
	}
}
