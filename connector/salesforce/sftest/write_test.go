package sftest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCreateGetUpdateDelete(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("POST", v+"/sobjects/vcms__Assistance__c", `{
		"vcms__External_Service_Key__c": "ngo-th-cm:TH-CL-0001:fees",
		"vcms__Case__r": {"vcms__External_Key__c": "NGO-TH-CM:TH-CL-0001"},
		"vcms__Service_Type__c": "School_Fees", "vcms__Status__c": "Planned",
		"vcms__Period_Start__c": "2024-05-01", "vcms__Amount__c": 1500.456, "vcms__Notes__c": ""}`)
	assertStatus(t, resp, b, 201)
	assertJSON(t, b, "create_success.json")
	var created struct{ ID string }
	_ = json.Unmarshal(b, &created)
	if !strings.HasPrefix(created.ID, "a02") {
		t.Errorf("id %s lacks the Assistance key prefix", created.ID)
	}
	resp, b = c.do("GET", v+"/sobjects/vcms__Assistance__c/"+created.ID, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "assistance_created.json")
	if !strings.Contains(string(b), `"vcms__Amount__c":1500.46`) {
		t.Errorf("amount not rounded to scale 2: %s", b)
	}
	// 15-character ids work too; ?fields= selects.
	resp, b = c.do("GET", v+"/sobjects/vcms__Assistance__c/"+created.ID[:15]+"?fields=Name,vcms__Amount__c", "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"attributes":{"type":"vcms__Assistance__c","url":"<any>"},"Name":"AS-000004","vcms__Amount__c":1500.46}`)

	// PATCH: 204, modstamps advance with the clock, DateTime fields drop milliseconds.
	later := testNow.Add(90 * time.Second)
	c.org.SetClock(func() time.Time { return later })
	rec, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", th)
	resp, b = c.do("PATCH", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, `{"vcms__Source_Modified_At__c": "2024-04-10T09:00:00.789Z", "vcms__Guardian_Name__c": "", "vcms__Age_At_Identification__c": "14.4"}`)
	assertStatus(t, resp, b, 204)
	if len(b) != 0 {
		t.Errorf("204 with body %s", b)
	}
	got, _ := c.org.Get(rec.ID)
	for k, want := range map[string]any{
		"vcms__Source_Modified_At__c":    "2024-04-10T09:00:00.000+0000",
		"SystemModstamp":                 "2024-04-10T08:01:30.123+0000",
		"LastModifiedDate":               "2024-04-10T08:01:30.123+0000",
		"CreatedDate":                    "2024-04-03T02:30:00.000+0000",
		"vcms__Guardian_Name__c":         nil,
		"vcms__Age_At_Identification__c": json.Number("14.0"),
	} {
		if got.Fields[k] != want {
			t.Errorf("%s = %#v, want %#v", k, got.Fields[k], want)
		}
	}

	// DELETE cascades to master-detail children; a deleted record is 404 ENTITY_IS_DELETED.
	resp, b = c.do("DELETE", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, "")
	assertStatus(t, resp, b, 204)
	resp, b = c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, "")
	assertStatus(t, resp, b, 404)
	assertJSON(t, b, "entity_is_deleted.json")
	resp, b = c.do("DELETE", v+"/sobjects/vcms__Assistance__c/"+created.ID, "")
	assertStatus(t, resp, b, 404)
	assertJSON(t, b, "entity_is_deleted.json")
	resp, b = c.do("PATCH", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, `{}`)
	assertStatus(t, resp, b, 404)
	if n := len(c.org.Records("vcms__Consent__c")); n != 2 {
		t.Errorf("a Lookup child must survive its parent's delete, %d consents left", n)
	}
	if cons, _ := c.org.GetByExternalKey("vcms__Consent__c", "ngo-th-cm:TH-CL-0001:consent:1"); cons.Fields["vcms__Case__c"] != nil {
		t.Errorf("lookup to a deleted record not cleared: %v", cons.Fields["vcms__Case__c"])
	}
	if n := len(c.org.Records("vcms__Assistance__c")); n != 1 {
		t.Errorf("master-detail children not deleted with the case: %d left", n)
	}
}

func TestSObjectNotFoundAndMethods(t *testing.T) {
	c := newTestClient(t, Options{})
	rec, _ := c.org.GetByExternalKey("Account", "seed:account:ngo-ejemplo")
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/sobjects/Nope__c/001000000000000", 404, "not_found.json"},
		{"GET", "/sobjects/Account/xyz", 404, `[{"message":"Provided external ID field does not exist or is not accessible: xyz","errorCode":"NOT_FOUND"}]`},
		{"GET", "/sobjects/Account/" + makeID("a01", 1), 404, `[{"message":"Provided external ID field does not exist or is not accessible: ` + makeID("a01", 1) + `","errorCode":"NOT_FOUND"}]`},
		{"GET", "/sobjects/Account/" + makeID("001", 999), 404, "not_found.json"},
		{"PUT", "/sobjects/Account/" + rec.ID, 405, "method_not_allowed.json"},
		{"GET", "/sobjects/Account/vcms__External_Key__c/SEED:ACCOUNT:NGO-EJEMPLO?fields=Name", 200, `{"attributes":{"type":"Account","url":"<any>"},"Name":"Ejemplo Prueba Foundation"}`},
		{"PATCH", "/sobjects/Account/Name/x", 404, `[{"message":"Provided external ID field does not exist or is not accessible: Name","errorCode":"NOT_FOUND"}]`},
		{"GET", "/sobjects/Account/" + rec.ID + "?fields=Nope", 400, `[{"message":"No such column 'Nope' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.","errorCode":"INVALID_FIELD"}]`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, b := c.do(tc.method, v+tc.path, "")
			assertStatus(t, resp, b, tc.status)
			assertJSON(t, b, tc.want)
		})
	}
}

func TestUpsertByExternalID(t *testing.T) {
	c := newTestClient(t, Options{})
	path := v + "/sobjects/vcms__Monitoring_Visit__c/vcms__Follow_Up_Key__c/ngo-th-cm:TH-CL-0001:visit:1"
	body := `{"vcms__Case__r": {"vcms__External_Key__c": "ngo-th-cm:TH-CL-0001"}, "vcms__Visit_Type__c": "Home_Visit", "vcms__Attendance_Pct__c": 87.6}`
	resp, b := c.do("PATCH", path, body)
	assertStatus(t, resp, b, 201)
	assertJSON(t, b, "upsert_created.json")
	rec, ok := c.org.GetByExternalKey("vcms__Monitoring_Visit__c", "ngo-th-cm:TH-CL-0001:visit:1")
	if !ok || rec.Fields["vcms__Attendance_Pct__c"] != json.Number("88.0") {
		t.Fatalf("created record %v", rec.Fields)
	}
	resp, b = c.do("PATCH", strings.ToUpper(path[:0])+strings.Replace(path, "visit:1", "VISIT:1", 1), `{"vcms__Visit_Type__c": "School_Visit"}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "upsert_updated.json")
	if !strings.Contains(string(b), rec.ID) {
		t.Errorf("update answered another id: %s", b)
	}
	// updateOnly never inserts.
	resp, b = c.do("PATCH", strings.Replace(path, "visit:1", "visit:9", 1)+"?updateOnly=true", body)
	assertStatus(t, resp, b, 404)
	assertJSON(t, b, "not_found.json")
	// Before v46: 201 without "created", then 204.
	old := strings.Replace(path, "v62.0", "v45.0", 1)
	old = strings.Replace(old, "visit:1", "visit:2", 1)
	resp, b = c.do("PATCH", old, body)
	assertStatus(t, resp, b, 201)
	assertJSON(t, b, "create_success.json")
	resp, b = c.do("PATCH", old, body)
	assertStatus(t, resp, b, 204)
	// Several matches: 300 with the records' URLs.
	id1, _ := c.org.Insert("Account", map[string]any{"Name": "Test Dup A", "vcms__External_Key__c": "dup"}, true)
	id2, err := c.org.Insert("Account", map[string]any{"Name": "Test Dup B", "vcms__External_Key__c": "DUP"}, true)
	if err != nil {
		t.Fatal(err)
	}
	resp, b = c.do("PATCH", v+"/sobjects/Account/vcms__External_Key__c/dup", `{"Name": "x"}`)
	assertStatus(t, resp, b, 300)
	assertJSON(t, b, fmt.Sprintf(`["/services/data/v62.0/sobjects/Account/%s","/services/data/v62.0/sobjects/Account/%s"]`, id1, id2))
}

func TestWriteValidation(t *testing.T) {
	c := newTestClient(t, Options{})
	acct, _ := c.org.GetByExternalKey("Account", "seed:account:ngo-ejemplo")
	caseRec, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", th)
	for _, tc := range []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"unknown field", "vcms__Assistance__c", `{"Foo__c": 1}`, 400,
			`[{"message":"No such column 'Foo__c' on sobject of type vcms__Assistance__c","errorCode":"INVALID_FIELD"}]`},
		{"number from text", "vcms__Assistance__c", `{"vcms__Amount__c": "abc"}`, 400,
			`[{"message":"Cannot deserialize instance of double from VALUE_STRING value abc or request may be missing a required field at [line:1, column:26]","errorCode":"JSON_PARSER_ERROR"}]`},
		{"boolean from text", "vcms__Survivor_Case__c", "{\n  \"vcms__Age_Verified__c\": \"maybe\"\n}", 400,
			`[{"message":"Cannot deserialize instance of boolean from VALUE_STRING value maybe or request may be missing a required field at [line:2, column:35]","errorCode":"JSON_PARSER_ERROR"}]`},
		{"not createable", "vcms__Survivor_Case__c", `{"Name": "VC-1", "CreatedDate": "2024-01-01T00:00:00Z"}`, 400,
			`[{"message":"Unable to create/update fields: Name, CreatedDate. Please check the security settings of this field and verify that it is read/write for your profile or permission set.","errorCode":"INVALID_FIELD_FOR_INSERT_UPDATE","fields":["Name","CreatedDate"]}]`},
		{"id on insert", "Account", `{"Id": "` + acct.ID + `", "Name": "Test"}`, 400,
			`[{"message":"cannot specify Id in an insert call","errorCode":"INVALID_FIELD_FOR_INSERT_UPDATE","fields":["Id"]}]`},
		{"too long", "vcms__Survivor_Case__c", `{"vcms__Case_Code__c": "ABCDEFGHIJKLMNOPQRSTU"}`, 400,
			`[{"message":"Case Code: data value too large: ABCDEFGHIJKLMNOPQRSTU (max length=20)","errorCode":"STRING_TOO_LONG","fields":["vcms__Case_Code__c"]}]`},
		{"thai fits", "vcms__Survivor_Case__c", `{"vcms__Case_Code__c": "ตัวอย่างตัวอย่างตัวอ"}`, 201, "create_success.json"},
		{"picklist", "vcms__Survivor_Case__c", `{"vcms__Stage__c": "Open"}`, 400,
			`[{"message":"Stage: bad value for restricted picklist field: Open","errorCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","fields":["vcms__Stage__c"]}]`},
		{"multi-select", "vcms__Survivor_Case__c", `{"vcms__Citizenship__c": "TH;XX"}`, 400,
			`[{"message":"Citizenship: bad value for restricted picklist field: XX","errorCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","fields":["vcms__Citizenship__c"]}]`},
		{"required", "vcms__Assistance__c", `{"vcms__Service_Type__c": "Stipend"}`, 400,
			`[{"message":"Required fields are missing: [vcms__Case__c]","errorCode":"REQUIRED_FIELD_MISSING","fields":["vcms__Case__c"]}]`},
		{"required account name", "Account", `{"Name": ""}`, 400,
			`[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]`},
		{"duplicate", "Account", `{"Name": "Test", "vcms__External_Key__c": "SEED:ACCOUNT:NGO-EJEMPLO"}`, 400,
			`[{"message":"duplicate value found: vcms__External_Key__c duplicates value on record with id: ` + acct.ID[:15] + `","errorCode":"DUPLICATE_VALUE","fields":[]}]`},
		{"malformed id", "vcms__Survivor_Case__c", `{"vcms__Partner_Org__c": "xyz"}`, 400,
			`[{"message":"Partner Org: id value of incorrect type: xyz","errorCode":"MALFORMED_ID","fields":["vcms__Partner_Org__c"]}]`},
		{"id of another object", "vcms__Survivor_Case__c", `{"vcms__Partner_Org__c": "` + caseRec.ID + `"}`, 400,
			`[{"message":"Partner Org: id value of incorrect type: ` + caseRec.ID + `","errorCode":"MALFORMED_ID","fields":["vcms__Partner_Org__c"]}]`},
		{"foreign key", "vcms__Assistance__c", `{"vcms__Case__r": {"vcms__External_Key__c": "nope"}}`, 400,
			`[{"message":"Foreign key external ID: nope not found for field vcms__External_Key__c in entity vcms__Survivor_Case__c","errorCode":"INVALID_FIELD","fields":[]}]`},
		{"range", "vcms__Survivor_Case__c", `{"vcms__Age_At_Identification__c": 1000}`, 400,
			`[{"message":"Age At Identification: value outside of valid range on numeric field: 1000","errorCode":"NUMBER_OUTSIDE_VALID_RANGE","fields":["vcms__Age_At_Identification__c"]}]`},
		{"email", "User", `{"Username": "u@example.invalid", "LastName": "Test", "Email": "not an email"}`, 400,
			`[{"message":"Email: invalid email address: not an email","errorCode":"INVALID_EMAIL_ADDRESS","fields":["Email"]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := c.do("POST", v+"/sobjects/"+tc.path, tc.body)
			assertStatus(t, resp, b, tc.status)
			assertJSON(t, b, tc.want)
		})
	}
	// An update may not null a required field.
	resp, b := c.do("PATCH", v+"/sobjects/Account/"+acct.ID, `{"Name": null}`)
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]`)
}

func collectionBody(allOrNone bool, recs ...string) string {
	return fmt.Sprintf(`{"allOrNone": %v, "records": [%s]}`, allOrNone, strings.Join(recs, ","))
}

func TestCollectionsCreate(t *testing.T) {
	c := newTestClient(t, Options{})
	rec := func(key, stage string) string {
		return fmt.Sprintf(`{"attributes": {"type": "vcms__Survivor_Case__c"}, "vcms__External_Key__c": %q, "vcms__Stage__c": %q}`, key, stage)
	}
	before := len(c.org.Records("vcms__Survivor_Case__c"))
	resp, b := c.do("POST", v+"/composite/sobjects", collectionBody(true, rec("t:1", "Identified"), rec("t:2", "Open"), rec("t:3", "Active")))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "collection_rolled_back.json")
	if n := len(c.org.Records("vcms__Survivor_Case__c")); n != before {
		t.Fatalf("allOrNone left %d new records", n-before)
	}
	resp, b = c.do("POST", v+"/composite/sobjects", collectionBody(false, rec("t:1", "Identified"), rec("t:2", "Open"), rec("t:3", "Active")))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "collection_partial.json")
	if n := len(c.org.Records("vcms__Survivor_Case__c")); n != before+2 {
		t.Fatalf("want 2 new records, got %d", n-before)
	}
	// Two rows of one request with the same unique value.
	resp, b = c.do("POST", v+"/composite/sobjects", collectionBody(false, rec("t:9", "Active"), rec("T:9", "Active")))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"<id>","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"duplicate value found: <unknown> duplicates value on record with id: <unknown>","fields":[]}]}]`)
	// Unknown field fails the whole request.
	resp, b = c.do("POST", v+"/composite/sobjects", collectionBody(false, rec("t:4", "Active"), `{"attributes": {"type": "vcms__Survivor_Case__c"}, "Nope__c": 1}`))
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"No such column 'Nope__c' on sobject of type vcms__Survivor_Case__c","errorCode":"INVALID_FIELD"}]`)
	// More than 200 records.
	var many []string
	for i := 0; i < 201; i++ {
		many = append(many, rec(fmt.Sprintf("m:%d", i), "Active"))
	}
	resp, b = c.do("POST", v+"/composite/sobjects", collectionBody(false, many...))
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, "exceeded_id_limit.json")
	if e := c.org.Requests(); e[len(e)-1].Endpoint != "collections.create" || e[len(e)-1].Records != 201 {
		t.Errorf("log entry %+v", e[len(e)-1])
	}
}

func TestCollectionsUpdateUpsertDeleteRetrieve(t *testing.T) {
	c := newTestClient(t, Options{})
	caseRec, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", kh)
	// Update: missing Id, malformed Id, success.
	resp, b := c.do("PATCH", v+"/composite/sobjects", collectionBody(false,
		`{"attributes": {"type": "vcms__Survivor_Case__c"}, "vcms__Stage__c": "Active"}`,
		`{"attributes": {"type": "vcms__Survivor_Case__c"}, "id": "a01xx", "vcms__Stage__c": "Active"}`,
		`{"attributes": {"type": "vcms__Survivor_Case__c"}, "id": "`+caseRec.ID+`", "vcms__Stage__c": "Active"}`))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[
		{"success":false,"errors":[{"statusCode":"MISSING_ARGUMENT","message":"Id not specified in an update call","fields":["Id"]}]},
		{"success":false,"errors":[{"statusCode":"MALFORMED_ID","message":"Survivor Case ID: id value of incorrect type: a01xx","fields":["Id"]}]},
		{"id":"`+caseRec.ID+`","success":true,"errors":[]}]`)

	// Upsert by external id with created flags; allOrNone rollback keeps update ids.
	up := func(key, typ string) string {
		return fmt.Sprintf(`{"attributes": {"type": "vcms__Assistance__c"}, "vcms__External_Service_Key__c": %q, "vcms__Case__r": {"vcms__External_Key__c": %q}, "vcms__Service_Type__c": %q}`, key, kh, typ)
	}
	resp, b = c.do("PATCH", v+"/composite/sobjects/vcms__Assistance__c/vcms__External_Service_Key__c", collectionBody(false, up("kh:a:1", "Shelter"), up("NGO-TH-CM:TH-CL-0001:STIPEND", "Stipend")))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"<id>","success":true,"errors":[],"created":true},{"id":"<id>","success":true,"errors":[],"created":false}]`)
	resp, b = c.do("PATCH", v+"/composite/sobjects/vcms__Assistance__c/vcms__External_Service_Key__c", collectionBody(true, up("kh:a:2", "Shelter"), up("kh:a:1", "Medical"), up("kh:a:3", "Nope")))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[
		{"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}],"created":false},
		{"id":"<id>","success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}],"created":false},
		{"success":false,"errors":[{"statusCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","message":"Service Type: bad value for restricted picklist field: Nope","fields":["vcms__Service_Type__c"]}],"created":false}]`)
	if r, _ := c.org.GetByExternalKey("vcms__Assistance__c", "kh:a:1"); r.Fields["vcms__Service_Type__c"] != "Shelter" {
		t.Errorf("rolled-back update applied: %v", r.Fields["vcms__Service_Type__c"])
	}
	if _, ok := c.org.GetByExternalKey("vcms__Assistance__c", "kh:a:2"); ok {
		t.Error("rolled-back create applied")
	}
	// Several existing matches.
	a, _ := c.org.Insert("Account", map[string]any{"Name": "Test Dup A", "vcms__External_Key__c": "dup"}, true)
	bID, _ := c.org.Insert("Account", map[string]any{"Name": "Test Dup B", "vcms__External_Key__c": "dup"}, true)
	resp, b = c.do("PATCH", v+"/composite/sobjects/Account/vcms__External_Key__c", collectionBody(false, `{"attributes":{"type":"Account"},"vcms__External_Key__c":"dup","Name":"x"}`))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"success":false,"errors":[{"statusCode":"DUPLICATE_EXTERNAL_ID","message":"External Key: more than one record found for external id field: [`+a+`, `+bID+`]","fields":["vcms__External_Key__c"]}],"created":false}]`)

	// Retrieve by GET and POST; missing ids are null.
	missing := makeID("a01", 9999)
	resp, b = c.do("GET", v+"/composite/sobjects/vcms__Survivor_Case__c?ids="+caseRec.ID+","+missing+"&fields=Id,vcms__Stage__c", "")
	assertStatus(t, resp, b, 200)
	want := `[{"attributes":{"type":"vcms__Survivor_Case__c","url":"<any>"},"Id":"` + caseRec.ID + `","vcms__Stage__c":"Active"},null]`
	assertJSON(t, b, want)
	resp, b = c.do("POST", v+"/composite/sobjects/vcms__Survivor_Case__c", `{"ids":["`+caseRec.ID+`","`+missing+`"],"fields":["Id","vcms__Stage__c"]}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, want)

	// Delete.
	resp, b = c.do("DELETE", v+"/composite/sobjects?ids="+a+","+missing+"&allOrNone=false", "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"`+a+`","success":true,"errors":[]},{"id":"`+missing+`","success":false,"errors":[{"statusCode":"INVALID_CROSS_REFERENCE_KEY","message":"invalid cross reference id","fields":[]}]}]`)
	resp, b = c.do("DELETE", v+"/composite/sobjects?ids="+bID+","+a+"&allOrNone=true", "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"`+bID+`","success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}]},{"id":"`+a+`","success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}]`)
	if r, _ := c.org.Get(bID); r.Deleted {
		t.Error("rolled-back delete applied")
	}
}

func TestGetUpdatedGetDeleted(t *testing.T) {
	c := newTestClient(t, Options{})
	rec, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", bd)
	other, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", kh)
	c.do("PATCH", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, `{"vcms__Stage__c":"Verification"}`) // at 08:00:00.123
	c.org.SetClock(func() time.Time { return testNow.Add(2 * time.Minute) })
	c.do("DELETE", v+"/sobjects/vcms__Survivor_Case__c/"+other.ID, "") // at 08:02:00.123
	c.org.SetClock(func() time.Time { return testNow.Add(3*time.Minute + 30*time.Second) })

	resp, b := c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/updated/?start=2024-04-10T07:59:30%2B00:00&end=2024-04-10T09:00:00%2B00:00", "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"ids":["`+rec.ID+`"],"latestDateCovered":"2024-04-10T08:03:00.000+0000"}`)
	resp, b = c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/deleted/?start=2024-04-10T08:00:00Z&end=2024-04-10T08:03:00Z", "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"deletedRecords":[{"id":"`+other.ID+`","deletedDate":"2024-04-10T08:02:00.123+0000"}],"earliestDateAvailable":"2024-03-11T08:03:00.000+0000","latestDateCovered":"2024-04-10T08:03:00.000+0000"}`)
	// [start, end): a write in the end minute is not covered yet.
	resp, b = c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/deleted/?start=2024-04-10T08:00:00Z&end=2024-04-10T08:02:00Z", "")
	assertJSON(t, b, `{"<subset>":true,"deletedRecords":[]}`)
	resp, b = c.do("GET", v+"/sobjects/vcms__Survivor_Case__c/updated/?start=2024-02-01T00:00:00Z&end=2024-04-10T08:00:00Z", "")
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"startDate cannot be more than 30 days ago","errorCode":"INVALID_REPLICATION_DATE"}]`)
}

func TestValidationRules(t *testing.T) {
	c := newTestClient(t, Options{ValidationRules: true})
	resp, b := c.do("POST", v+"/sobjects/vcms__Survivor_Case__c", `{"vcms__First_Name__c": "Test"}`)
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"Last name is required when any name is known.","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":["vcms__Last_Name__c"]}]`)
	rec, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", th)
	resp, b = c.do("PATCH", v+"/sobjects/vcms__Survivor_Case__c/"+rec.ID, `{"vcms__Last_Name__c": ""}`)
	assertStatus(t, resp, b, 400)
	resp, b = c.do("PATCH", v+"/composite/sobjects/vcms__Referral__c/vcms__Referral_Key__c", collectionBody(false,
		`{"attributes":{"type":"vcms__Referral__c"},"vcms__Referral_Key__c":"ngo-kh-bb:KH-RT-24-031:ref:1","vcms__Consent_Checked__c":false}`,
		`{"attributes":{"type":"vcms__Referral__c"},"vcms__Referral_Key__c":"ngo-kh-bb:KH-RT-24-031:ref:1b","vcms__Case__r":{"vcms__External_Key__c":"`+kh+`"},"vcms__Direction__c":"Outgoing","vcms__Consent_Override_Reason__c":"vital interest (test)"}`))
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"<id>","success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"An outgoing referral needs consent checked or an override reason.","fields":["vcms__Consent_Checked__c"]}],"created":false},
		{"id":"<id>","success":true,"errors":[],"created":true}]`)
	// Off by default.
	c2 := newTestClient(t, Options{})
	resp, b = c2.do("POST", v+"/sobjects/vcms__Survivor_Case__c", `{"vcms__First_Name__c": "Test"}`)
	assertStatus(t, resp, b, 201)
}
