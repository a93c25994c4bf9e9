package mapping_test

import (
	"context"
	"fmt"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/mapping"
)

// ExampleNewView shows the wiring: a job compiled against the org's
// describe becomes a View of the local source in Salesforce terms, and
// FieldSpecs give the engine its field list.
func ExampleNewView() {
	cfg, err := config.Parse("casebridge.yaml", []byte(`version: 1
salesforce:
  auth: { flow: jwt, client_id: synthetic, username: a@ngo.example, private_key_file: sf.key }
sources:
  tracker: { kind: csv, path: tracker.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: tracker, key: Case ID, key_prefix: "ngo-th-cm:" }
    fields:
      - sf: vcms__Stage__c
        local: Status
        values: { กำลังดำเนินการ: Active, active: Active, ปิดเคส: Closed }
`), config.Options{})
	if err != nil {
		panic(err)
	}
	sfCase := &connector.Object{Name: "vcms__Survivor_Case__c", Key: "vcms__External_Key__c", Fields: []connector.Field{
		{Name: "vcms__External_Key__c", Type: connector.TypeString, Length: 80, ExternalID: true, Unique: true, Nillable: true, Createable: true, Updateable: true},
		{Name: "vcms__Stage__c", Type: connector.TypePicklist, Restricted: true, Picklist: []string{"Active", "Closed"}, Nillable: true, Createable: true, Updateable: true},
	}}
	objects := map[string]*connector.Object{sfCase.Name: sfCase}
	m, err := mapping.Compile(cfg.Jobs["cases"], objects)
	if err != nil {
		panic(err) // config.Errors, each at file:line:col
	}
	for _, f := range m.FieldSpecs("vcms__Survivor_Case__c") {
		fmt.Println("field", f.Name, f.Direction)
	}

	// The local sheet, as the sheet connector gives it.
	local := memory.New("tracker", &connector.Object{Name: "tracker", Key: "Case ID", Fields: []connector.Field{
		{Name: "Case ID", Type: connector.TypeString}, {Name: "Status", Type: connector.TypeString, Nillable: true, Createable: true, Updateable: true},
	}})
	ctx := context.Background()
	_, _ = local.Upsert(ctx, "tracker", []connector.Record{{Key: "TH-CL-0007", Fields: map[string]connector.Value{"Status": connector.Text("active")}}})

	v := mapping.NewView(local, m, objects)
	v.OnError = func(e *connector.RecordError) { fmt.Println("error:", e) }
	_, _ = v.Read(ctx, "vcms__Survivor_Case__c", "", func(r connector.Record) error {
		stage, _ := r.Get("vcms__Stage__c").Text()
		fmt.Println("read", r.Key, stage)
		return nil
	})
	res, _ := v.Upsert(ctx, "vcms__Survivor_Case__c", []connector.Record{{Key: "ngo-th-cm:TH-CL-0007",
		Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Closed")}}})
	fmt.Println("upsert", res[0].Key, res[0].Err)
	_ = local.ReadKeys(ctx, "tracker", []string{"TH-CL-0007"}, func(r connector.Record) error {
		fmt.Println("local cell", r.Get("Status").Raw())
		return nil
	})
	// Output:
	// field vcms__Stage__c both
	// read ngo-th-cm:TH-CL-0007 Active
	// upsert ngo-th-cm:TH-CL-0007 <nil>
	// local cell ปิดเคส
}
