package config_test

import (
	"testing"

	"github.com/casebridge/casebridge/config"
)

// TestDateEras checks that every era a date column may name decodes,
// including the 544 count of Cambodia, Laos and Myanmar, and that
// era: buddhist keeps meaning the Thai era.
func TestDateEras(t *testing.T) {
	for _, era := range []config.Era{config.Gregorian, config.Buddhist, config.BuddhistThai, config.BuddhistKhmer, config.BuddhistLao, config.BuddhistMyanmar} {
		cfg := mustParse(t, "era.yaml", []byte(`version: 1
salesforce:
  auth: { flow: client_credentials, client_id: id, client_secret_file: sf.secret }
sources:
  kh: { kind: csv, path: kh.csv }
jobs:
  kh_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: kh, key: id }
    fields:
      - { sf: vcms__Birthdate__c, local: born, date: { formats: [02/01/2006], era: `+string(era)+` } }
`), config.Options{Getenv: env(nil), ReadFile: files(map[string]string{"/srv/cb/sf.secret": "s"}), BaseDir: "/srv/cb"})
		if got := cfg.Jobs["kh_cases"].Fields[0].Date.Era; got != era {
			t.Errorf("era %s decoded as %q", era, got)
		}
	}
}
