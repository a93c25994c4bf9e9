package sftest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// schemaCase is an object as a connector describes it: an org's own
// shape, not the built-in vcms__ schema.
func schemaCase() *connector.Object {
	return &connector.Object{Name: "Intake__c", Label: "Intake", Key: "Intake_Key__c", Modified: "SystemModstamp", Fields: []connector.Field{
		{Name: "Id", Label: "Record ID", Type: connector.TypeID, Defaulted: true, CaseSensitive: true},
		{Name: "Name", Label: "Intake Number", Type: connector.TypeString, Length: 80, Defaulted: true, Calculated: true},
		{Name: "SystemModstamp", Label: "System Modstamp", Type: connector.TypeDateTime, Defaulted: true},
		{Name: "Intake_Key__c", Label: "Intake Key", Type: connector.TypeString, Length: 40, Nillable: true, Createable: true, Updateable: true, ExternalID: true, Unique: true},
		{Name: "District__c", Label: "District", Type: connector.TypePicklist, Length: 255, Nillable: true, Createable: true, Updateable: true, Picklist: []string{"North", "South"}, Restricted: true},
		{Name: "Channel__c", Label: "Channel", Type: connector.TypePicklist, Length: 255, Nillable: true, Createable: true, Updateable: true, Picklist: []string{"Phone"}},
		{Name: "Opened__c", Label: "Opened", Type: connector.TypeDate, Createable: true, Updateable: true},
	}}
}

// TestSchemaOption: an org built from Options.Schema serves those objects
// (and its User) instead of the vcms__ schema, describes their fields as
// given, holds no records, and writes follow the description: a required
// field is required, a restricted picklist refuses other values while an
// unrestricted one takes them, the auto-number Name is filled in, the
// external id upserts.
func TestSchemaOption(t *testing.T) {
	c := newTestClient(t, Options{Schema: []*connector.Object{schemaCase()}})
	resp, b := c.do("GET", v+"/sobjects", "")
	assertStatus(t, resp, b, 200)
	var global struct{ SObjects []struct{ Name string } }
	if err := json.Unmarshal(b, &global); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range global.SObjects {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "Intake__c,User" {
		t.Fatalf("objects %v, want Intake__c and User", names)
	}
	resp, b = c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/describe", "")
	assertStatus(t, resp, b, 404)

	resp, b = c.do("GET", v+"/sobjects/Intake__c/describe", "")
	assertStatus(t, resp, b, 200)
	var d struct {
		Fields []struct {
			Name, Type         string
			Nillable           bool
			ExternalID         bool `json:"externalId"`
			RestrictedPicklist bool
			AutoNumber         bool
			PicklistValues     []struct{ Value string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Fields) != 7 {
		t.Fatalf("%d fields, want the 7 given", len(d.Fields))
	}
	byName := map[string]int{}
	for i, f := range d.Fields {
		byName[f.Name] = i
	}
	if f := d.Fields[byName["District__c"]]; !f.RestrictedPicklist || len(f.PicklistValues) != 2 || f.PicklistValues[1].Value != "South" {
		t.Errorf("District__c described as %+v", f)
	}
	if f := d.Fields[byName["Channel__c"]]; f.RestrictedPicklist {
		t.Errorf("Channel__c is not restricted, described as %+v", f)
	}
	if f := d.Fields[byName["Intake_Key__c"]]; !f.ExternalID || f.Type != "string" {
		t.Errorf("Intake_Key__c described as %+v", f)
	}
	if f := d.Fields[byName["Name"]]; !f.AutoNumber {
		t.Errorf("Name described as %+v, want an auto-number", f)
	}

	resp, b = c.do("GET", v+"/query?q=SELECT+Id+FROM+Intake__c", "")
	assertStatus(t, resp, b, 200)
	if !strings.Contains(string(b), `"totalSize":0`) {
		t.Errorf("a schema org holds no records: %s", b)
	}

	resp, b = c.do("PATCH", v+"/sobjects/Intake__c/Intake_Key__c/K-1", `{"District__c":"North"}`)
	assertStatus(t, resp, b, 400)
	if !strings.Contains(string(b), "REQUIRED_FIELD_MISSING") || !strings.Contains(string(b), "Opened__c") {
		t.Errorf("a create without the required Opened__c: %s", b)
	}
	resp, b = c.do("PATCH", v+"/sobjects/Intake__c/Intake_Key__c/K-1", `{"District__c":"East","Opened__c":"2024-05-01"}`)
	assertStatus(t, resp, b, 400)
	if !strings.Contains(string(b), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") {
		t.Errorf("a value the restricted District__c lacks: %s", b)
	}
	resp, b = c.do("PATCH", v+"/sobjects/Intake__c/Intake_Key__c/K-1", `{"District__c":"North","Channel__c":"Walk-in","Opened__c":"2024-05-01"}`)
	assertStatus(t, resp, b, 201)
	resp, b = c.do("GET", v+"/sobjects/Intake__c/Intake_Key__c/K-1?fields=Name,Channel__c", "")
	assertStatus(t, resp, b, 200)
	if !strings.Contains(string(b), `"Name":"000001"`) || !strings.Contains(string(b), `"Channel__c":"Walk-in"`) {
		t.Errorf("record read back: %s", b)
	}
}
