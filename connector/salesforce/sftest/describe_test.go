package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestVersions(t *testing.T) {
	c := newTestClient(t, Options{})
	c.token = "" // no auth needed
	resp, b := c.do("GET", "/services/data", "")
	assertStatus(t, resp, b, 200)
	var list []any
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 43 {
		t.Fatalf("want 43 versions (20.0..62.0), got %d: %v", len(list), err)
	}
	ends, _ := json.Marshal([]any{list[0], list[len(list)-1]})
	assertJSON(t, ends, "versions_ends.json")
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "" {
		t.Errorf("versions list is outside /services/data/vXX.X, got limit header %q", h)
	}
}

func TestUnknownVersionIs404(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("GET", "/services/data/v99.0/limits", "")
	assertStatus(t, resp, b, 404)
	assertJSON(t, b, "not_found.json")
}

func TestResources(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("GET", v+"/", "")
	assertStatus(t, resp, b, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	assertJSON(t, b, `{"<subset>": true, "sobjects": "/services/data/v62.0/sobjects", "query": "/services/data/v62.0/query",
		"queryAll": "/services/data/v62.0/queryAll", "limits": "/services/data/v62.0/limits", "composite": "/services/data/v62.0/composite",
		"jobs": "/services/data/v62.0/jobs"}`)
}

func TestLimitsTracksUsage(t *testing.T) {
	c := newTestClient(t, Options{})
	for i := 0; i < 9; i++ {
		c.do("GET", v+"/sobjects", "")
	}
	resp, b := c.do("GET", v+"/limits", "")
	assertStatus(t, resp, b, 200)
	if got := resp.Header.Get("Sforce-Limit-Info"); got != "api-usage=10/15000" {
		t.Errorf("Sforce-Limit-Info = %q", got)
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	assertJSON(t, m["DailyApiRequests"], "limits_daily.json")
}

func TestDescribeGlobal(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("GET", v+"/sobjects", "")
	assertStatus(t, resp, b, 200)
	var g struct {
		Encoding     string            `json:"encoding"`
		MaxBatchSize int               `json:"maxBatchSize"`
		SObjects     []json.RawMessage `json:"sobjects"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Encoding != "UTF-8" || g.MaxBatchSize != 200 {
		t.Errorf("encoding %q maxBatchSize %d", g.Encoding, g.MaxBatchSize)
	}
	var names []string
	for _, raw := range g.SObjects {
		var e struct{ Name string }
		_ = json.Unmarshal(raw, &e)
		names = append(names, e.Name)
		if e.Name == "vcms__Survivor_Case__c" {
			assertJSON(t, raw, "describe_global_case.json")
		}
	}
	want := "Account User vcms__Assistance__c vcms__Case_Note__c vcms__Conformance_Case__c vcms__Consent__c vcms__Monitoring_Visit__c vcms__Referral__c vcms__Survivor_Case__c"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("sobjects = %s", got)
	}
}

// describeFields fetches a describe and returns its fields by name.
func describeFields(t *testing.T, c *tclient, object string) (map[string]json.RawMessage, []byte) {
	t.Helper()
	resp, b := c.do("GET", v+"/sobjects/"+object+"/describe", "")
	assertStatus(t, resp, b, 200)
	var d struct{ Fields []json.RawMessage }
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, f := range d.Fields {
		var n struct{ Name string }
		_ = json.Unmarshal(f, &n)
		out[n.Name] = f
	}
	return out, b
}

func TestDescribeFieldProperties(t *testing.T) {
	c := newTestClient(t, Options{})
	cases, body := describeFields(t, c, "vcms__Survivor_Case__c")
	assertJSON(t, cases["vcms__External_Key__c"], "describe_field_external_key.json")
	assertJSON(t, cases["vcms__Stage__c"], "describe_field_stage.json")
	assertJSON(t, cases["Name"], "describe_field_name_autonumber.json")
	assertJSON(t, cases["vcms__Legal_Working_Age_Date__c"], "describe_field_formula.json")
	assist, _ := describeFields(t, c, "vcms__Assistance__c")
	assertJSON(t, assist["vcms__Case__c"], "describe_field_case_md.json")
	assertJSON(t, assist["vcms__Amount__c"], "describe_field_amount.json")
	if _, ok := assist["OwnerId"]; ok {
		t.Error("a master-detail child has no OwnerId")
	}
	if _, ok := assist["CurrencyIsoCode"]; !ok {
		t.Error("Assistance lacks CurrencyIsoCode")
	}

	var d struct {
		ChildRelationships []json.RawMessage
		RecordTypeInfos    []json.RawMessage
	}
	_ = json.Unmarshal(body, &d)
	found := false
	for _, cr := range d.ChildRelationships {
		if bytes.Contains(cr, []byte(`"vcms__Assistance__r"`)) {
			found = true
			assertJSON(t, cr, "describe_child_assistance.json")
		}
	}
	if !found {
		t.Error("no vcms__Assistance__r child relationship")
	}
	if len(d.RecordTypeInfos) != 3 {
		t.Fatalf("want Master + 2 record types, got %d", len(d.RecordTypeInfos))
	}
	assertJSON(t, d.RecordTypeInfos[2], "describe_recordtype_child_labour.json")
	assertSortedKeys(t, body)
}

// assertSortedKeys checks that every object in a describe has its keys in
// alphabetical order, as Salesforce returns them (urls excepted).
func assertSortedKeys(t *testing.T, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj  bool
		last string
		key  bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].key {
			top := &stack[len(stack)-1]
			if k, ok := tok.(string); ok {
				if k < top.last && top.last != "urls" && k != "urls" {
					t.Errorf("key %q after %q", k, top.last)
				}
				top.last, top.key = k, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

// domainFields is the vcms__ schema (doc/architecture.md §11.1), written out by hand: name type length
// precision scale [values].
var domainFields = map[string]string{
	"vcms__Survivor_Case__c": `
vcms__External_Key__c string 80 externalId unique
vcms__Case_Code__c string 20
vcms__Partner_Org__c reference Account
vcms__Stage__c picklist Identified,Verification,Plan_Pending,Active,Follow_Up,Closed,Closed_Referred
vcms__Identification_Date__c date
vcms__Closure_Date__c date
vcms__Closure_Reason__c picklist Reached_Legal_Working_Age,Plan_Completed,Not_Underage,Referred_Out,Lost_Contact,Consent_Withdrawn,Relocated,Deceased,Duplicate,Other
vcms__First_Name__c string 80
vcms__Last_Name__c string 80
vcms__Name_Local_Script__c string 120
vcms__Birthdate__c date
vcms__Birthdate_Estimated__c boolean
vcms__Age_At_Identification__c double 3,0
vcms__Gender__c picklist Feminine,Masculine,TransgenderFeminine,TransgenderMasculine,NonConforming,NonSpecifiedUnknown
vcms__Citizenship__c multipicklist TH,KH,MM,LA,BD,GT,HN,SV
vcms__Primary_Language__c picklist tha,khm,mya,ben,spa,myn,eng
vcms__Mobile_Phone__c phone
vcms__Guardian_Phone__c phone
vcms__Guardian_Name__c string 120
vcms__Identity_Number__c string 40
vcms__Home_Address__c textarea 255
vcms__Home_Admin_Area__c string 80
vcms__Trafficking_Status__c picklist PossibleVictimOfTrafficking,ActualVictimOfTrafficking,NotAVictimOfTrafficking
vcms__Type_Of_Exploitation__c multipicklist
vcms__Labour_Industry__c picklist
vcms__Workplace__c reference Account
vcms__Buyer__c reference Account
vcms__Age_Verification_Method__c multipicklist Birth_Certificate,National_ID,Household_Registration,School_Record,Parent_Interview,Labour_Authority,Medical_Assessment
vcms__Age_Verified__c boolean
vcms__Legal_Working_Age__c double 2,0
vcms__Legal_Working_Age_Date__c date calculated
vcms__Consent_Status__c picklist Not_Obtained,Granted,Partial,Withdrawn
vcms__Sync_Restricted__c boolean
vcms__Anonymised_At__c datetime
vcms__Retention_Review_Date__c date
vcms__Source_System__c picklist ngo-th-cm,ngo-kh-bb,ngo-bd-dk,ngo-gt-db
vcms__Source_Modified_At__c datetime
vcms__Case_Notes__c textarea 32768`,
	"vcms__Assistance__c": `
vcms__External_Service_Key__c string 80 externalId unique
vcms__Case__c reference vcms__Survivor_Case__c masterDetail
vcms__Service_Type__c picklist Shelter,Medical,Psychosocial,Legal_Aid,School_Enrolment,School_Fees,Vocational_Training,Stipend,Family_Job_Offer,Family_Reunification,Livelihood_Support,Repatriation,Documentation,Other
vcms__Status__c picklist Planned,Delivered,Not_Delivered,Cancelled
vcms__Delivery_Date__c date
vcms__Period_Start__c date
vcms__Period_End__c date
vcms__Amount__c currency 12,2
CurrencyIsoCode picklist THB,KHR,BDT,GTQ,USD
vcms__Funded_By__c picklist Factory,Buyer,NGO,Government,Other
vcms__Provider__c reference Account
vcms__Notes__c textarea 32768`,
	"vcms__Referral__c": `
vcms__Referral_Key__c string 80 externalId unique
vcms__Case__c reference vcms__Survivor_Case__c masterDetail
vcms__Direction__c picklist Incoming,Outgoing
vcms__Counterpart_Org__c reference Account
vcms__Referral_Date__c date
vcms__Reason__c picklist AdditionalServicesRequired,MigrationOrChangeOfLocation,Other
vcms__Service_Requested__c picklist Shelter,Medical,Psychosocial,Legal_Aid,School_Enrolment,School_Fees,Vocational_Training,Stipend,Family_Job_Offer,Family_Reunification,Livelihood_Support,Repatriation,Documentation,Other
vcms__Status__c picklist In_Progress,Accepted,Rejected,Done,Revoked
vcms__Responded_At__c datetime
vcms__Rejected_Reason__c string 255
vcms__Consent_Checked__c boolean
vcms__Consent_Override_Reason__c string 255
vcms__Details__c textarea 32768`,
	"vcms__Monitoring_Visit__c": `
vcms__Follow_Up_Key__c string 80 externalId unique
vcms__Case__c reference vcms__Survivor_Case__c masterDetail
vcms__Visit_Date__c date
vcms__Next_Visit_Due__c date
vcms__Visit_Type__c picklist Home_Visit,School_Visit,Workplace_Visit,Phone_Call,Office_Visit
vcms__Child_Seen__c boolean
vcms__Back_In_Work__c boolean
vcms__In_School__c picklist Yes,No,Unknown
vcms__Attendance_Pct__c percent 3,0
vcms__Stipend_Received__c picklist Yes,Partial,No,Not_Applicable
vcms__Risk_Level__c picklist High,Medium,Low
vcms__Observations__c textarea 32768`,
	"vcms__Consent__c": `
vcms__Consent_Key__c string 80 externalId unique
vcms__Case__c reference vcms__Survivor_Case__c
vcms__Given_By__c picklist Self,Parent,Legal_Guardian,Other_Caregiver
vcms__Child_Assent__c picklist Yes,No,Not_Applicable
vcms__Scope__c multipicklist Case_Management,Share_Service_Providers,Share_Buyer_Status_Only,Share_Authorities,Anonymised_Reporting
vcms__Status__c picklist Granted,Refused,Withdrawn,Expired
vcms__Captured_On__c date
vcms__Effective_To__c date
vcms__Withdrawn_At__c datetime
vcms__Capture_Method__c picklist Paper_Form,Verbal_Witnessed,Thumbprint,E_Signature
vcms__Informed_Purpose__c boolean
vcms__Informed_Retention__c boolean
vcms__Informed_Withdrawal__c boolean
vcms__Withhold_From__c string 255
vcms__Form_Version__c string 20`,
	"Account": `
vcms__Org_Type__c picklist NGO,LawEnforcement,HealthServiceOrganisation,CentralGovernmentOrganisation,LocalGovernmentOrganisation,ImmigrationService,LegalService,CorporateBusiness,SchoolOrCollege
vcms__External_Key__c string 80 externalId unique`,
}

func TestDescribeMatchesDomainSchema(t *testing.T) {
	c := newTestClient(t, Options{})
	for object, spec := range domainFields {
		fields, _ := describeFields(t, c, object)
		for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
			parts := strings.Fields(line)
			name, typ := parts[0], parts[1]
			raw, ok := fields[name]
			if !ok {
				t.Errorf("%s.%s missing", object, name)
				continue
			}
			var f struct {
				Type               string
				Length, Precision  int
				Scale              int
				ExternalID         bool `json:"externalId"`
				Unique             bool
				Calculated         bool
				RestrictedPicklist bool
				CascadeDelete      bool
				ReferenceTo        []string
				PicklistValues     []struct{ Value string }
			}
			_ = json.Unmarshal(raw, &f)
			if f.Type != typ {
				t.Errorf("%s.%s type %s, want %s", object, name, f.Type, typ)
			}
			for _, p := range parts[2:] {
				switch {
				case p == "externalId":
					if !f.ExternalID {
						t.Errorf("%s.%s not external id", object, name)
					}
				case p == "unique":
					if !f.Unique {
						t.Errorf("%s.%s not unique", object, name)
					}
				case p == "calculated":
					if !f.Calculated {
						t.Errorf("%s.%s not calculated", object, name)
					}
				case p == "masterDetail":
					if !f.CascadeDelete {
						t.Errorf("%s.%s not master-detail", object, name)
					}
				case typ == "reference":
					if len(f.ReferenceTo) != 1 || f.ReferenceTo[0] != p {
						t.Errorf("%s.%s referenceTo %v, want %s", object, name, f.ReferenceTo, p)
					}
				case strings.Contains(p, ",") && (typ == "picklist" || typ == "multipicklist"):
					var got []string
					for _, pv := range f.PicklistValues {
						got = append(got, pv.Value)
					}
					if strings.Join(got, ",") != p || !f.RestrictedPicklist {
						t.Errorf("%s.%s values %v (restricted %v), want %s", object, name, got, f.RestrictedPicklist, p)
					}
				case strings.Contains(p, ","):
					if got := fmt.Sprintf("%d,%d", f.Precision, f.Scale); got != p {
						t.Errorf("%s.%s precision,scale %s, want %s", object, name, got, p)
					}
				default:
					if got := fmt.Sprint(f.Length); got != p {
						t.Errorf("%s.%s length %s, want %s", object, name, got, p)
					}
				}
			}
		}
	}
}

func TestDescribeUnknownObject(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("GET", v+"/sobjects/Nope__c/describe", "")
	assertStatus(t, resp, b, http.StatusNotFound)
	assertJSON(t, b, "not_found.json")
}

func TestSeedRecords(t *testing.T) {
	org := New(Options{})
	cases := org.Records("vcms__Survivor_Case__c")
	if len(cases) != 4 {
		t.Fatalf("want 4 seed cases, got %d", len(cases))
	}
	rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "NGO-TH-CM:TH-CL-0001")
	if !ok {
		t.Fatal("case-insensitive external key lookup failed")
	}
	want := map[string]any{
		"Name": "VC-000001", "vcms__Stage__c": "Active", "vcms__Citizenship__c": "TH;MM",
		"vcms__Legal_Working_Age_Date__c": "2025-03-12", "vcms__Age_Verified__c": true,
		"vcms__Source_Modified_At__c": "2024-04-03T02:00:00.000+0000", "CreatedDate": "2024-04-03T02:30:00.000+0000",
		"vcms__Legal_Working_Age__c": json.Number("15.0"),
	}
	for k, w := range want {
		if got := rec.Fields[k]; got != w {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
	if len(New(Options{Empty: true}).Records("Account")) != 0 {
		t.Error("Empty org has accounts")
	}
}

func TestJavaDouble(t *testing.T) {
	for in, want := range map[string]string{"3000": "3000.0", "125.50": "125.5", "15000000": "1.5E7", "0.0001": "1.0E-4", "-2.5": "-2.5", "0": "0.0", "9999999.99": "9999999.99", "12345678": "1.2345678E7"} {
		if got := javaDouble(mustDec(in)); got != want {
			t.Errorf("javaDouble(%s) = %s, want %s", in, got, want)
		}
	}
}
