package schedules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// a cell that does not map is reported once per run, split or not.
func TestPartsUnmappedOnce(t *testing.T) {
	for _, ps := range []int{0, 3} {
		cfg := `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  kh_tracker: { kind: csv, path: kh_tracker.csv }
jobs:
  kh_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c, where: "vcms__Source_System__c = 'ngo-kh-bb'" }
    local: { source: kh_tracker, key: Case ID, key_prefix: "ngo-kh-bb:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-kh-bb }
      - { sf: vcms__Last_Name__c, local: Name, pii: direct }
      - sf: vcms__Stage__c
        local: Stage
        values: { a: Active, f: Follow_Up }
`
		r, _, dir := newTestRunner(t, cfg)
		r.Config.Jobs["kh_cases"].PartSize = ps // below what a configuration may set (part_size: at least 10000)
		var b strings.Builder
		b.WriteString("Case ID,Name,Stage\r\n")
		for i := 1; i <= 12; i++ {
			st := "a"
			if i == 2 {
				st = "zzz"
			}
			fmt.Fprintf(&b, "KH-%04d,Name%d,%s\r\n", i, i, st)
		}
		if err := os.WriteFile(filepath.Join(dir, "kh_tracker.csv"), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(context.Background(), "kh_cases", RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		logged, _ := r.Store.Errors(context.Background(), "kh_cases", res.Result.RunID)
		t.Logf("part_size %d: parts %d, mapping errors %d, unmapped count %d, logged %d", ps, res.Result.Parts, len(res.MappingErrors), res.Result.Counts.Unmapped, len(logged))
		if len(res.MappingErrors) != 1 {
			t.Errorf("part_size %d: the unmapped cell reported %d times", ps, len(res.MappingErrors))
		}
	}
}
