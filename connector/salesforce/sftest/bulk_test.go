package sftest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func (c *tclient) putCSV(path, body string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest("PUT", c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestBulkIngestUpsert(t *testing.T) {
	c := newTestClient(t, Options{LockKeys: []string{"ngo-th-cm:TH-CL-0001:stipend"}})
	resp, b := c.do("POST", v+"/jobs/ingest", `{"object":"vcms__Assistance__c","externalIdFieldName":"vcms__External_Service_Key__c","contentType":"CSV","operation":"upsert","lineEnding":"LF"}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "bulk_job_created.json")
	var job struct{ ID, ContentURL string }
	_ = json.Unmarshal(b, &job)
	if job.ContentURL != "services/data/v62.0/jobs/ingest/"+job.ID+"/batches" || !strings.HasPrefix(job.ID, "750") {
		t.Errorf("job %+v", job)
	}
	csvData := "vcms__External_Service_Key__c,vcms__Case__r.vcms__External_Key__c,vcms__Service_Type__c,vcms__Amount__c,vcms__Notes__c\n" +
		"ngo-th-cm:TH-CL-0001:stipend,ngo-th-cm:TH-CL-0001,Stipend,3500,#N/A\n" +
		"ngo-th-cm:TH-CL-0001:bulk1,ngo-th-cm:TH-CL-0001,Medical,12.345,\"note, with comma\"\n"
	if r := c.putCSV(v+"/jobs/ingest/"+job.ID+"/batches", csvData); r.StatusCode != 201 {
		t.Fatalf("upload: %d", r.StatusCode)
	}
	// A second upload is appended (its header row dropped).
	more := "vcms__External_Service_Key__c,vcms__Case__r.vcms__External_Key__c,vcms__Service_Type__c,vcms__Amount__c,vcms__Notes__c\n" +
		"ngo-th-cm:TH-CL-0001:bulk2,ngo-th-cm:TH-CL-0001,Nope,,\n" +
		"ngo-th-cm:TH-CL-0001:bulk3,ngo-th-cm:TH-CL-0001,Medical,abc,\n"
	c.putCSV(v+"/jobs/ingest/"+job.ID+"/batches", more)
	resp, b = c.do("PATCH", v+"/jobs/ingest/"+job.ID, `{"state":"UploadComplete"}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"<subset>":true,"state":"UploadComplete"}`)
	resp, b = c.do("GET", v+"/jobs/ingest/"+job.ID, "")
	assertJSON(t, b, `{"<subset>":true,"state":"InProgress"}`)
	resp, b = c.do("GET", v+"/jobs/ingest/"+job.ID, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, "bulk_job_complete.json")

	stipend, _ := c.org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:TH-CL-0001:stipend")
	bulk1, _ := c.org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:TH-CL-0001:bulk1")
	if stipend.Fields["vcms__Amount__c"] != json.Number("3500.0") || stipend.Fields["CurrencyIsoCode"] != "THB" || bulk1.Fields["vcms__Amount__c"] != json.Number("12.35") {
		t.Errorf("stipend %v / bulk1 %v", stipend.Fields["vcms__Amount__c"], bulk1.Fields["vcms__Amount__c"])
	}
	resp, b = c.do("GET", v+"/jobs/ingest/"+job.ID+"/successfulResults/", "")
	assertStatus(t, resp, b, 200)
	want := `"sf__Id","sf__Created",vcms__External_Service_Key__c,vcms__Case__r.vcms__External_Key__c,vcms__Service_Type__c,vcms__Amount__c,vcms__Notes__c
"` + stipend.ID + `","false","ngo-th-cm:TH-CL-0001:stipend","ngo-th-cm:TH-CL-0001","Stipend","3500","#N/A"
"` + bulk1.ID + `","true","ngo-th-cm:TH-CL-0001:bulk1","ngo-th-cm:TH-CL-0001","Medical","12.345","note, with comma"
`
	if string(b) != want {
		t.Errorf("successfulResults:\n%s\nwant\n%s", b, want)
	}
	resp, b = c.do("GET", v+"/jobs/ingest/"+job.ID+"/failedResults/", "")
	want = `"sf__Id","sf__Error",vcms__External_Service_Key__c,vcms__Case__r.vcms__External_Key__c,vcms__Service_Type__c,vcms__Amount__c,vcms__Notes__c
"","INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Service Type: bad value for restricted picklist field: Nope:vcms__Service_Type__c --","ngo-th-cm:TH-CL-0001:bulk2","ngo-th-cm:TH-CL-0001","Nope","",""
"","INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type: abc:vcms__Amount__c --","ngo-th-cm:TH-CL-0001:bulk3","ngo-th-cm:TH-CL-0001","Medical","abc",""
`
	if string(b) != want {
		t.Errorf("failedResults:\n%s\nwant\n%s", b, want)
	}
	resp, b = c.do("GET", v+"/jobs/ingest/"+job.ID+"/unprocessedrecords/", "")
	if string(b) != "vcms__External_Service_Key__c,vcms__Case__r.vcms__External_Key__c,vcms__Service_Type__c,vcms__Amount__c,vcms__Notes__c\n" {
		t.Errorf("unprocessedrecords: %q", b)
	}
}

func TestBulkIngestFailedAndAborted(t *testing.T) {
	c := newTestClient(t, Options{})
	create := func(op string) string {
		_, b := c.do("POST", v+"/jobs/ingest", `{"object":"Account","operation":"`+op+`"}`)
		var job struct{ ID string }
		_ = json.Unmarshal(b, &job)
		return job.ID
	}
	id := create("insert")
	c.putCSV(v+"/jobs/ingest/"+id+"/batches", "Name,Nope__c\nTest,1\n")
	c.do("PATCH", v+"/jobs/ingest/"+id, `{"state":"UploadComplete"}`)
	c.do("GET", v+"/jobs/ingest/"+id, "")
	_, b := c.do("GET", v+"/jobs/ingest/"+id, "")
	assertJSON(t, b, `{"<subset>":true,"state":"Failed","errorMessage":"InvalidBatch : Field name not found : Nope__c","numberRecordsProcessed":0}`)

	id = create("insert")
	c.putCSV(v+"/jobs/ingest/"+id+"/batches", "Name\nTest Aborted\n")
	resp, b := c.do("PATCH", v+"/jobs/ingest/"+id, `{"state":"Aborted"}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"<subset>":true,"state":"Aborted"}`)
	_, b = c.do("GET", v+"/jobs/ingest/"+id+"/unprocessedrecords/", "")
	if string(b) != "Name\n\"Test Aborted\"\n" {
		t.Errorf("unprocessed %q", b)
	}
	if r := c.putCSV(v+"/jobs/ingest/"+id+"/batches", "Name\nx\n"); r.StatusCode == 201 {
		t.Error("upload to an aborted job accepted")
	}
	// Delete by Id.
	acct, _ := c.org.GetByExternalKey("Account", "seed:account:buyer-beispiel")
	id = create("delete")
	c.putCSV(v+"/jobs/ingest/"+id+"/batches", "Id\n"+acct.ID+"\n")
	c.do("PATCH", v+"/jobs/ingest/"+id, `{"state":"UploadComplete"}`)
	if r, _ := c.org.Get(acct.ID); !r.Deleted {
		t.Error("bulk delete not applied")
	}
}

func TestBulkQuery(t *testing.T) {
	c := newTestClient(t, Options{})
	for i := 0; i < 5; i++ {
		_, _ = c.org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Test Bulk %d", i)}, false)
	}
	resp, b := c.do("POST", v+"/jobs/query", `{"operation":"query","query":"SELECT Id, Name, vcms__External_Key__c, CreatedDate, Owner.Email FROM Account WHERE Name LIKE 'Test Bulk%' ORDER BY Name"}`)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"<subset>":true,"state":"UploadComplete","operation":"query","object":"Account"}`)
	var job struct{ ID string }
	_ = json.Unmarshal(b, &job)
	resp, b = c.do("GET", v+"/jobs/query/"+job.ID+"/results", "")
	assertStatus(t, resp, b, 412)
	assertJSON(t, b, `[{"message":"Job is not complete","errorCode":"JOB_NOT_COMPLETE"}]`)
	c.do("GET", v+"/jobs/query/"+job.ID, "")
	_, b = c.do("GET", v+"/jobs/query/"+job.ID, "")
	assertJSON(t, b, `{"<subset>":true,"state":"JobComplete","jobType":"V2Query","numberRecordsProcessed":5}`)
	resp, b = c.do("GET", v+"/jobs/query/"+job.ID+"/results?maxRecords=3", "")
	assertStatus(t, resp, b, 200)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[0] != `"Id","Name","vcms__External_Key__c","CreatedDate","Owner.Email"` ||
		!strings.HasSuffix(lines[1], `,"Test Bulk 0","","2024-04-10T08:00:00.123Z","integration@casebridge.example"`) {
		t.Errorf("page 1:\n%s", b)
	}
	loc := resp.Header.Get("Sforce-Locator")
	if resp.Header.Get("Sforce-NumberOfRecords") != "3" || loc != base64.StdEncoding.EncodeToString([]byte("3")) {
		t.Errorf("headers %q %q", resp.Header.Get("Sforce-NumberOfRecords"), loc)
	}
	resp, b = c.do("GET", v+"/jobs/query/"+job.ID+"/results?maxRecords=3&locator="+loc, "")
	lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], `"Id"`) || resp.Header.Get("Sforce-Locator") != "null" {
		t.Errorf("page 2 (%q):\n%s", resp.Header.Get("Sforce-Locator"), b)
	}
}
