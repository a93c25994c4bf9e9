package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

const jobsPath = "/services/data/v62.0/jobs/ingest"
const jobPath = jobsPath + "/750xx00000BULK1AAA"

// bulkRoutes plays the documented Bulk API 2.0 ingest flow from the
// recorded bodies.
func bulkRoutes(f *recorded, final string) {
	f.handle("POST "+jobsPath, f.file(200, "bulk_job_open.json"))
	f.handle("PUT "+jobPath+"/batches", raw(201, ""))
	f.handle("PATCH "+jobPath, f.file(200, "bulk_job_upload_complete.json"))
	f.handle("GET "+jobPath, seq(f.file(200, "bulk_job_in_progress.json"), f.file(200, final)))
	f.handle("GET "+jobPath+"/successfulResults", f.file(200, "bulk_successful_results.csv"))
	f.handle("GET "+jobPath+"/failedResults", f.file(200, "bulk_failed_results.csv"))
	f.handle("GET "+jobPath+"/unprocessedrecords", f.file(200, "bulk_unprocessed.csv"))
}

// TestBulkUpsert: above BulkThreshold, one ingest job; the job id reaches
// OnBulkJob before the upload; results map back by key, errors keep code
// and field without values (facts row Bulk API 2.0 ingest).
func TestBulkUpsert(t *testing.T) {
	f := newRecorded(t).withDescribe()
	bulkRoutes(f, "bulk_job_complete.json")
	var mu sync.Mutex
	var jobs []string
	var uploadsAtNotify int
	c := f.connect(t, func(o *Options) {
		o.BulkThreshold = 3
		o.BulkPoll = 1
		o.OnBulkJob = func(object, op, id string) {
			mu.Lock()
			defer mu.Unlock()
			jobs = append(jobs, object+" "+op+" "+id)
			uploadsAtNotify = len(f.requests("PUT " + jobPath + "/batches"))
		}
	})
	recs := manyRecords(7)
	recs[2].Fields["vcms__First_Name__c"] = connector.Null()
	recs[3].Fields["vcms__First_Name__c"] = connector.Text("Somchai Secretname")
	recs[4].Fields["vcms__Stage__c"] = connector.Text("Active")
	res, err := c.Upsert(context.Background(), caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0] != "vcms__Survivor_Case__c upsert 750xx00000BULK1AAA" || uploadsAtNotify != 0 {
		t.Errorf("OnBulkJob: %v (uploads before it: %d)", jobs, uploadsAtNotify)
	}
	create := f.requests("POST " + jobsPath)
	var jr map[string]string
	if len(create) != 1 || json.Unmarshal([]byte(create[0].Body), &jr) != nil ||
		jr["object"] != caseObject || jr["operation"] != "upsert" || jr["externalIdFieldName"] != "vcms__External_Key__c" || jr["contentType"] != "CSV" || jr["lineEnding"] != "LF" {
		t.Errorf("create job: %+v", create)
	}
	up := f.requests("PUT " + jobPath + "/batches")
	if len(up) != 1 || up[0].Header.Get("Content-Type") != "text/csv" {
		t.Fatalf("uploads %+v", up)
	}
	lines := strings.Split(strings.TrimSpace(up[0].Body), "\n")
	if lines[0] != "vcms__External_Key__c,vcms__First_Name__c,vcms__Stage__c" || len(lines) != 8 {
		t.Errorf("csv header %q, %d lines", lines[0], len(lines))
	}
	if lines[3] != "ngo-th-cm:TH-00002,#N/A," || lines[5] != "ngo-th-cm:TH-00004,n,Active" {
		t.Errorf("csv rows %q %q: null is #N/A, an unset field an empty cell", lines[3], lines[5])
	}
	if n := len(f.requests("PATCH " + jobPath)); n != 1 {
		t.Errorf("%d closes", n)
	}
	if len(f.requests("PATCH "+upsertPath)) != 0 {
		t.Error("collections used above the threshold")
	}

	if res[0].Err != nil || res[0].Created || res[0].ID != "a01xx0000000001AAA" {
		t.Errorf("result 0 %+v", res[0])
	}
	if res[1].Err != nil || !res[1].Created {
		t.Errorf("result 1 (key case differs in results) %+v", res[1])
	}
	for i, w := range []struct {
		code  connector.Code
		field string
	}{{"STRING_TOO_LONG", "vcms__First_Name__c"}, {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "vcms__Stage__c"}} {
		var re *connector.RecordError
		if !errors.As(res[3+i].Err, &re) || re.Code != w.code || re.Field != w.field {
			t.Errorf("result %d: %v", 3+i, res[3+i].Err)
			continue
		}
		noValues(t, re.Error(), "Somchai", "Trafficked")
	}
	if connector.CodeOf(res[5].Err) != connector.CodeNotProcessed || !connector.IsRetryable(res[5].Err) {
		t.Errorf("unprocessed: %v", res[5].Err)
	}
	if connector.CodeOf(res[6].Err) != connector.CodeNotProcessed {
		t.Errorf("missing from every result: %v", res[6].Err)
	}
}

// TestBulkJobFailed: a job that fails before processing gives every record
// the job's (value-free) error.
func TestBulkJobFailed(t *testing.T) {
	f := newRecorded(t).withDescribe()
	bulkRoutes(f, "bulk_job_failed.json")
	c := f.connect(t, func(o *Options) { o.BulkThreshold = 1; o.BulkPoll = 1 })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if connector.CodeOf(r.Err) != connector.CodeNotProcessed || !strings.Contains(r.Err.Error(), "failed: InvalidBatch : Field name not found : vcms__Nope__c") {
			t.Errorf("result %+v", r)
		}
	}
	if n := len(f.requests("GET " + jobPath + "/successfulResults")); n != 0 {
		t.Errorf("results read for a job that processed nothing")
	}
}

// TestBulkUploadFails: a failed upload aborts the job and is not re-sent.
func TestBulkUploadFails(t *testing.T) {
	f := newRecorded(t).withDescribe()
	bulkRoutes(f, "bulk_job_complete.json")
	f.handle("PUT "+jobPath+"/batches", f.file(503, "server_unavailable.json"))
	c := f.connect(t, func(o *Options) { o.BulkThreshold = 1; o.BulkPoll = 1 })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(2))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests("PUT " + jobPath + "/batches")); n != 1 {
		t.Errorf("upload sent %d times", n)
	}
	closes := f.requests("PATCH " + jobPath)
	if len(closes) != 1 || !strings.Contains(closes[0].Body, `"Aborted"`) {
		t.Errorf("job not aborted: %+v", closes)
	}
	if !connector.IsRetryable(res[0].Err) || connector.CodeOf(res[0].Err) != "SERVER_UNAVAILABLE" {
		t.Errorf("result %v", res[0].Err)
	}
}

func TestParseBulkError(t *testing.T) {
	got := parseBulkError("REQUIRED_FIELD_MISSING:Required fields are missing: [vcms__Case__c]:vcms__Case__c --")
	if got.code != "REQUIRED_FIELD_MISSING" || len(got.fields) != 1 || got.fields[0] != "vcms__Case__c" || got.msg != "Required fields are missing: [vcms__Case__c]" {
		t.Errorf("%+v", got)
	}
	got = parseBulkError("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: a01:--")
	if got.code != "UNABLE_TO_LOCK_ROW" || len(got.fields) != 0 {
		t.Errorf("%+v", got)
	}
}

// TestBulkDelete: keys resolve to Ids, one delete job with an Id column;
// ENTITY_IS_DELETED is ErrNotFound.
func TestBulkDelete(t *testing.T) {
	f := newRecorded(t).withDescribe()
	bulkRoutes(f, "bulk_job_complete.json")
	f.handle("GET "+queryPath, raw(200, `{"totalSize":2,"done":true,"records":[
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000001AAA","vcms__External_Key__c":"k1"},
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000002AAA","vcms__External_Key__c":"k2"}]}`))
	f.handle("GET "+jobPath+"/successfulResults", raw(200, "\"sf__Id\",\"sf__Created\",Id\n\"a01xx0000000001AAA\",\"false\",a01xx0000000001AAA\n"))
	f.handle("GET "+jobPath+"/failedResults", raw(200, "\"sf__Id\",\"sf__Error\",Id\n\"a01xx0000000002AAA\",\"ENTITY_IS_DELETED:entity is deleted:--\",a01xx0000000002AAA\n"))
	f.handle("GET "+jobPath+"/unprocessedrecords", raw(200, "Id\n"))
	c := f.connect(t, func(o *Options) { o.BulkThreshold = 1; o.BulkPoll = 1 })
	res, err := c.Delete(context.Background(), caseObject, []string{"k1", "k2", "k3"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].ID != "a01xx0000000001AAA" || !errors.Is(res[1].Err, connector.ErrNotFound) || !errors.Is(res[2].Err, connector.ErrNotFound) {
		t.Errorf("results %+v", res)
	}
	up := f.requests("PUT " + jobPath + "/batches")
	var jr map[string]string
	_ = json.Unmarshal([]byte(f.requests("POST " + jobsPath)[0].Body), &jr)
	if len(up) != 1 || up[0].Body != "Id\na01xx0000000001AAA\na01xx0000000002AAA\n" || jr["operation"] != "delete" {
		t.Errorf("upload %+v, job %v", up, jr)
	}
}

// TestBulkQueryPages: a complete read above BulkQueryThreshold counts,
// runs a query job and follows Sforce-Locator until "null"; CSV cells
// decode per describe type (facts row Bulk API 2.0 query).
func TestBulkQueryPages(t *testing.T) {
	f := newRecorded(t).withDescribe()
	const qjob = "/services/data/v62.0/jobs/query/750xx00000QUERY1AA"
	f.handle("GET "+queryPath, raw(200, `{"totalSize":3,"done":true,"records":[]}`))
	f.handle("POST /services/data/v62.0/jobs/query", raw(200, `{"id":"750xx00000QUERY1AA","operation":"query","object":"vcms__Survivor_Case__c","state":"UploadComplete","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":62.0,"lineEnding":"LF","columnDelimiter":"COMMA"}`))
	f.handle("GET "+qjob, seq(raw(200, `{"id":"750xx00000QUERY1AA","state":"InProgress"}`), raw(200, `{"id":"750xx00000QUERY1AA","operation":"query","state":"JobComplete","numberRecordsProcessed":3,"retries":0,"totalProcessingTime":334}`)))
	header := `"Id","IsDeleted","SystemModstamp","vcms__External_Key__c","vcms__Amount_Test__c","vcms__Citizenship__c","vcms__Birthdate_Estimated__c","vcms__First_Name__c"` + "\n"
	f.handle("GET "+qjob+"/results", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-NumberOfRecords", "2")
		if r.URL.Query().Get("locator") == "" {
			w.Header().Set("Sforce-Locator", "MjAwMDA")
			_, _ = w.Write([]byte(header +
				`"a01xx0000000001AAA","false","2024-01-15T10:30:00.000Z","k1","3000.10","TH;MM","true","line ""one"", two"` + "\n" +
				`"a01xx0000000002AAA","false","2024-01-16T08:00:01.123Z","k2","","","false",""` + "\n"))
			return
		}
		w.Header().Set("Sforce-Locator", "null")
		_, _ = w.Write([]byte(header + `"a01xx0000000003AAA","false","2024-01-16T09:00:00.000Z","","1","GT","false","x"` + "\n"))
	})
	var jobs []string
	c := f.connect(t, func(o *Options) {
		o.BulkQueryThreshold, o.BulkPoll = 2, 1
		o.OnBulkJob = func(_, op, id string) { jobs = append(jobs, op+" "+id) }
	})
	var recs []connector.Record
	cur, err := c.Read(context.Background(), caseObject, "", func(r connector.Record) error { recs = append(recs, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || len(jobs) != 1 || jobs[0] != "query 750xx00000QUERY1AA" {
		t.Fatalf("%d records, jobs %v", len(recs), jobs)
	}
	if q := f.requests("GET " + queryPath); len(q) != 1 || q[0].Query["q"][0] != "SELECT COUNT() FROM vcms__Survivor_Case__c" {
		t.Errorf("count query %+v", q)
	}
	var jr map[string]string
	_ = json.Unmarshal([]byte(f.requests("POST /services/data/v62.0/jobs/query")[0].Body), &jr)
	if jr["operation"] != "query" || strings.Contains(jr["query"], "ORDER BY") || !strings.HasPrefix(jr["query"], "SELECT Id, IsDeleted") {
		t.Errorf("job request %v", jr)
	}
	pages := f.requests("GET " + qjob + "/results")
	if len(pages) != 2 || pages[1].Query["locator"][0] != "MjAwMDA" || pages[0].Header.Get("Accept") != "text/csv" {
		t.Errorf("pages %+v", pages)
	}
	r := recs[0]
	if v, _ := r.Fields["vcms__Amount_Test__c"].Number(); v.String() != "3000.1" || r.Key != "k1" ||
		!r.Fields["vcms__Citizenship__c"].Equal(connector.Multi("MM", "TH")) || !r.Fields["vcms__Birthdate_Estimated__c"].Equal(connector.Bool(true)) ||
		r.Fields["vcms__First_Name__c"].Raw() != `line "one", two` {
		t.Errorf("record 1 %v", r.Fields)
	}
	if !recs[1].Fields["vcms__Amount_Test__c"].IsNull() || !recs[1].Fields["vcms__First_Name__c"].IsNull() {
		t.Error("empty cells are not null")
	}
	if recs[2].Err == nil {
		t.Error("keyless record without Err")
	}
	st, _ := decodeCursor(cur)
	if st == nil || st.ID != "a01xx0000000003AAA" {
		t.Errorf("cursor %+v", st)
	}
}
