package sftest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestComposite(t *testing.T) {
	c := newTestClient(t, Options{})
	body := `{"allOrNone": false, "compositeRequest": [
		{"method": "POST", "url": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c", "referenceId": "newCase",
		 "body": {"vcms__External_Key__c": "t:composite:1", "vcms__Stage__c": "Identified"}},
		{"method": "POST", "url": "/services/data/v62.0/sobjects/vcms__Assistance__c", "referenceId": "newAid",
		 "body": {"vcms__Case__c": "@{newCase.id}", "vcms__Service_Type__c": "Shelter"}},
		{"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id,vcms__Case__r.vcms__External_Key__c+FROM+vcms__Assistance__c+WHERE+Id='@{newAid.id}'", "referenceId": "q"},
		{"method": "PATCH", "url": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c/@{newCase.id}", "referenceId": "upd", "body": {"vcms__Stage__c": "Verification"}}
	]}`
	before, _ := c.org.APIUsage()
	resp, b := c.do("POST", v+"/composite", body)
	assertStatus(t, resp, b, 200)
	caseRec, ok := c.org.GetByExternalKey("vcms__Survivor_Case__c", "t:composite:1")
	if !ok {
		t.Fatalf("case not created: %s", b)
	}
	assertJSON(t, b, `{"compositeResponse": [
		{"body": {"id": "`+caseRec.ID+`", "success": true, "errors": []}, "httpHeaders": {"Location": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c/`+caseRec.ID+`"}, "httpStatusCode": 201, "referenceId": "newCase"},
		{"body": {"id": "<id>", "success": true, "errors": []}, "httpHeaders": {"Location": "<any>"}, "httpStatusCode": 201, "referenceId": "newAid"},
		{"body": {"totalSize": 1, "done": true, "records": [{"attributes": {"type": "vcms__Assistance__c", "url": "<any>"}, "Id": "<id>", "vcms__Case__r": {"attributes": {"type": "vcms__Survivor_Case__c", "url": "<any>"}, "vcms__External_Key__c": "t:composite:1"}}]}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "q"},
		{"body": null, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "upd"}]}`)
	if caseRec.Fields["vcms__Stage__c"] != "Verification" {
		t.Errorf("stage %v", caseRec.Fields["vcms__Stage__c"])
	}
	if after, _ := c.org.APIUsage(); after != before+1 {
		t.Errorf("composite used %d API calls", after-before)
	}

	// allOrNone: a failing subrequest rolls back the earlier ones.
	n := len(c.org.Records("vcms__Survivor_Case__c"))
	body = `{"allOrNone": true, "compositeRequest": [
		{"method": "POST", "url": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c", "referenceId": "a", "body": {"vcms__External_Key__c": "t:composite:2"}},
		{"method": "POST", "url": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c", "referenceId": "b", "body": {"vcms__Stage__c": "Open"}},
		{"method": "GET", "url": "/services/data/v62.0/sobjects/vcms__Survivor_Case__c/@{a.id}", "referenceId": "c"}]}`
	resp, b = c.do("POST", v+"/composite", body)
	assertStatus(t, resp, b, 200)
	halted := `{"body": [{"message": "The transaction was rolled back since another operation in the same transaction failed.", "errorCode": "PROCESSING_HALTED"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "%s"}`
	assertJSON(t, b, `{"compositeResponse": [`+fmt.Sprintf(halted, "a")+`,
		{"body": [{"message": "Stage: bad value for restricted picklist field: Open", "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["vcms__Stage__c"]}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "b"},
		`+fmt.Sprintf(halted, "c")+`]}`)
	if got := len(c.org.Records("vcms__Survivor_Case__c")); got != n {
		t.Errorf("allOrNone composite left %d records", got-n)
	}
	// More than 25 subrequests.
	var subs []string
	for i := 0; i < 26; i++ {
		subs = append(subs, fmt.Sprintf(`{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"r%d"}`, i))
	}
	resp, b = c.do("POST", v+"/composite", `{"compositeRequest":[`+strings.Join(subs, ",")+`]}`)
	assertStatus(t, resp, b, 400)
}

// TestCompositeQueryPaging: a query subrequest answers as the Query
// resource does, Sforce-Query-Options in its httpHeaders included: a
// result longer than the batch gives done false and a nextRecordsUrl,
// whose locator a plain GET follows; the statement is nowhere in a URL
// of the top-level requests. A sixth query subrequest is refused.
func TestCompositeQueryPaging(t *testing.T) {
	c := newTestClient(t, Options{})
	for i := range 250 {
		if _, err := c.org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Paged %03d", i)}, true); err != nil {
			t.Fatal(err)
		}
	}
	c.org.ResetRequests()
	body := `{"allOrNone": false, "compositeRequest": [
		{"method": "GET", "url": "/services/data/v62.0/query/?q=SELECT+Id,Name+FROM+Account+WHERE+Name+LIKE+'Paged%25'", "referenceId": "q0",
		 "httpHeaders": {"Sforce-Query-Options": "batchSize=200"}},
		{"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+'nobody'", "referenceId": "q1"},
		{"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Nope__c", "referenceId": "q2"}]}`
	resp, b := c.do("POST", v+"/composite", body)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"compositeResponse": [
		{"body": {"totalSize": 250, "done": false, "nextRecordsUrl": "<any>", "records": "<any>"}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "q0"},
		{"body": {"totalSize": 0, "done": true, "records": []}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "q1"},
		{"body": [{"message": "<any>", "errorCode": "INVALID_TYPE"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "q2"}]}`)
	var out struct {
		CompositeResponse []struct {
			Body json.RawMessage `json:"body"`
		} `json:"compositeResponse"`
	}
	var first struct {
		NextRecordsURL string           `json:"nextRecordsUrl"`
		Records        []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.CompositeResponse[0].Body, &first); err != nil {
		t.Fatal(err)
	}
	if len(first.Records) != 200 || !strings.HasPrefix(first.NextRecordsURL, v+"/query/01g") {
		t.Fatalf("first page: %d records, next %q", len(first.Records), first.NextRecordsURL)
	}
	resp, b = c.do("GET", first.NextRecordsURL, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"totalSize": 250, "done": true, "records": "<any>"}`)
	for _, e := range c.org.Requests() {
		if strings.Contains(e.Path+"?"+e.Query, "Paged") {
			t.Errorf("the statement in a URL: %s %s?%s", e.Method, e.Path, e.Query)
		}
	}
	var subs []string
	for i := range 6 {
		subs = append(subs, fmt.Sprintf(`{"method":"GET","url":"/services/data/v62.0/query?q=SELECT+Id+FROM+Account","referenceId":"q%d"}`, i))
	}
	resp, b = c.do("POST", v+"/composite", `{"compositeRequest":[`+strings.Join(subs, ",")+`]}`)
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message": "<any>", "errorCode": "LIMIT_EXCEEDED"}]`)
}
