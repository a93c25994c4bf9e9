package schedules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

const khCSV = "Code,Name (Khmer),Status,Services\r\n" +
	"KH-RT-24-031,សុខ តេស្ត,បើក,\"shelter, medical, ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ\"\r\n" +
	"KH-RT-24-032,ចាន់ ដារា,បើក,ជម្រក\r\n"

const khConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  kh: { kind: csv, path: kh.csv }
jobs:
  kh_cases:
    direction: both
    conflict: salesforce_wins
    initial: local_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: kh, key: Code, key_prefix: "ngo-kh-sv:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-kh-bb }
      - { sf: vcms__Last_Name__c, local: Name (Khmer), transform: khmer_name.last, pii: direct, direction: to_salesforce }
      - sf: vcms__Stage__c
        local: Status
        values: { បើក: Active, បានបិទ: Closed, បានផ្ទេរ: Closed_Referred }
    children:
      - name: services
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        key_suffix: ":svc"
        each:
          local: Services
          sf: vcms__Service_Type__c
          values: { shelter: Shelter, ជម្រក: Shelter, medical: Medical, សុខភាព: Medical, vocational: Vocational_Training, ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ: Vocational_Training }
        fields:
          - { sf: CurrencyIsoCode, constant: KHR }
`

// TestEachServicesRun: the Khmer register's Services column (doc/architecture.md
// §11.3) becomes one Assistance per service under its case, keyed by the
// mapped value; a second run writes nothing.
func TestEachServicesRun(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kh.csv"), []byte(khCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(khConfig, "FAKE_ORG_URL", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c31, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-kh-sv:KH-RT-24-031")
	if !ok {
		t.Fatalf("case not created; plan:\n%s", res.Result.Plan)
	}
	for key, svc := range map[string]string{
		"ngo-kh-sv:KH-RT-24-031:svc:Shelter": "Shelter", "ngo-kh-sv:KH-RT-24-031:svc:Medical": "Medical",
		"ngo-kh-sv:KH-RT-24-031:svc:Vocational_Training": "Vocational_Training", "ngo-kh-sv:KH-RT-24-032:svc:Shelter": "Shelter",
	} {
		a, ok := org.GetByExternalKey("vcms__Assistance__c", key)
		if !ok {
			t.Errorf("%s not created", key)
			continue
		}
		if a.Fields["vcms__Service_Type__c"] != svc || a.Fields["CurrencyIsoCode"] != "KHR" {
			t.Errorf("%s: %v", key, a.Fields)
		}
		if strings.Contains(key, "24-031") && a.Fields["vcms__Case__c"] != c31.ID {
			t.Errorf("%s: parent %v, want %s", key, a.Fields["vcms__Case__c"], c31.ID)
		}
	}
	if _, ok := org.GetByExternalKey("vcms__Assistance__c", "ngo-kh-sv:KH-RT-24-032:svc:Medical"); ok {
		t.Errorf("a service the row does not list was created")
	}

	again, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := again.Result.Plan.NumWrites()
	for _, ch := range again.Result.Children {
		n += ch.Plan.NumWrites()
	}
	if n != 0 {
		t.Errorf("second run plans %d writes", n)
	}

	// A service recorded in Salesforce adds its word to the row's cell.
	c32, _ := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-kh-sv:KH-RT-24-032")
	if _, err := org.Insert("vcms__Assistance__c", map[string]any{"vcms__External_Service_Key__c": "ngo-kh-sv:KH-RT-24-032:svc:Medical",
		"vcms__Case__c": c32.ID, "vcms__Service_Type__c": "Medical", "CurrencyIsoCode": "KHR"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "kh_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "kh.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "KH-RT-24-032,ចាន់ ដារា,បើក,\"ជម្រក, medical\"") {
		t.Errorf("the Salesforce service was not added to the cell:\n%s", data)
	}
}
