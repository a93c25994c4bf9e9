package config_test

import (
	"errors"
	"fmt"

	"github.com/casebridge/casebridge/config"
)

func ExampleParse() {
	input := `version: 1
salesforce:
  auth:
    flow: jwt
    client_id: ${SF_CLIENT_ID}
    username: integration@ngo.example
    private_key_file: /run/secrets/sf.key
sources:
  th_tracker: { kind: csv, path: th.csv, header_row: 2 }
jobs:
  th_cases:
    schedule: "CRON_TZ=Asia/Bangkok 30 2 * * *"
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_traker, key: "รหัสเคส Case ID" }
    fields:
      - { sf: vcms__Stage__c, local: สถานะ, direcion: to_salesforce }
`
	_, err := config.Parse("casebridge.yaml", []byte(input), config.Options{
		Getenv: func(string) (string, bool) { return "", false },
	})
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// casebridge.yaml:5:16: salesforce.auth.client_id: environment variable SF_CLIENT_ID is not set
	// casebridge.yaml:15:22: jobs.th_cases.local.source: no source named "th_traker" (did you mean "th_tracker"?)
	// casebridge.yaml:17:45: jobs.th_cases.fields[0].direcion: unknown key (did you mean "direction"?)
}
