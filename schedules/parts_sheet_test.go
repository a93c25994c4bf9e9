package schedules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// A job split into parts writes a sheet as a whole run does: Salesforce
// records exported to a new CSV, then edits on both sides (a Salesforce
// stage changed, a row's stage edited, a row deleted), each part writing
// its rows into the one file.
func TestPartsWriteSheetAsWhole(t *testing.T) {
	run := func(partSize int) ([]string, []string) {
		cfg := `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  export: { kind: csv, path: export.csv }
jobs:
  export:
    direction: both
    conflict: salesforce_wins
    initial: salesforce_wins
    deletes: propagate
    max_delete: 50%
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c, where: "vcms__External_Key__c LIKE 'parts:%'" }
    local: { source: export, key: Case ID, key_prefix: "parts:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-gt-db }
      - { sf: vcms__Last_Name__c, local: Name, pii: direct }
      - sf: vcms__Stage__c
        local: Stage
        values: { active: Active, follow up: Follow_Up, closed: Closed }
`
		r, org, dir := newTestRunner(t, cfg)
		r.Config.Jobs["export"].PartSize = partSize // below what a configuration may set (part_size: at least 10000)
		for i := range 60 {
			if _, err := org.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__External_Key__c": fmt.Sprintf("parts:P-%03d", i),
				"vcms__Source_System__c": "ngo-gt-db", "vcms__Last_Name__c": fmt.Sprintf("ทดสอบ %d", i), "vcms__Stage__c": "Active"}, false); err != nil {
				t.Fatal(err)
			}
		}
		csvPath := filepath.Join(dir, "export.csv")
		if err := os.WriteFile(csvPath, []byte("Case ID,Name,Stage\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var summaries []string
		sync := func() {
			t.Helper()
			res, err := r.Run(context.Background(), "export", RunOptions{})
			if err != nil {
				t.Fatalf("part_size %d: %v", partSize, err)
			}
			if partSize > 0 && res.Result.Parts < 2 {
				t.Fatalf("part_size %d: not split (%d parts)", partSize, res.Result.Parts)
			}
			c := res.Result.Counts
			summaries = append(summaries, fmt.Sprintf("read %d created %d updated %d deleted %d failed %d", c.Read, c.Creates, c.Updates, c.Deletes, c.Failures))
		}
		sync() // 60 rows written to the empty CSV
		sink := r.Salesforce.(connector.Sink)
		var edits []connector.Record
		for i := 0; i < 60; i += 7 {
			edits = append(edits, connector.Record{Key: fmt.Sprintf("parts:P-%03d", i), Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Closed")}})
		}
		if _, err := sink.Upsert(context.Background(), "vcms__Survivor_Case__c", edits); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(data), "P-003,ทดสอบ 3,active", "P-003,ทดสอบ 3,follow up", 1)
		var kept []string
		for _, l := range strings.SplitAfter(text, "\n") {
			if !strings.HasPrefix(l, "P-010,") {
				kept = append(kept, l)
			}
		}
		if err := os.WriteFile(csvPath, []byte(strings.Join(kept, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		sync() // Salesforce's edits to the CSV, the CSV's to Salesforce
		sync() // nothing left
		data, err = os.ReadFile(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(data)), "\n")
		for i := range rows {
			rows[i] = strings.TrimSuffix(rows[i], "\r") // (rows created part by part: in another order)
		}
		slices.Sort(rows)
		var org2 []string
		for _, rec := range org.Records("vcms__Survivor_Case__c") {
			if strings.HasPrefix(fmt.Sprint(rec.Fields["vcms__External_Key__c"]), "parts:") {
				org2 = append(org2, fmt.Sprintf("%v %v %v", rec.Fields["vcms__External_Key__c"], rec.Fields["vcms__Last_Name__c"], rec.Fields["vcms__Stage__c"]))
			}
		}
		slices.Sort(org2)
		return append(rows, summaries...), org2
	}
	wholeCSV, wholeOrg := run(-1)
	splitCSV, splitOrg := run(7)
	if !slices.Equal(wholeCSV, splitCSV) {
		t.Errorf("the sheet (and run counts) differ:\nwhole %q\nsplit %q", wholeCSV, splitCSV)
	}
	if !slices.Equal(wholeOrg, splitOrg) {
		t.Errorf("salesforce differs:\nwhole %q\nsplit %q", wholeOrg, splitOrg)
	}
	if len(wholeOrg) != 59 || !strings.Contains(strings.Join(wholeCSV, "\n"), "P-003,ทดสอบ 3,follow up") {
		t.Errorf("the edits did not go through: %d records in salesforce\n%q", len(wholeOrg), wholeCSV)
	}
}
