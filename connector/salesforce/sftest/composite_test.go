package sftest

import (
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
