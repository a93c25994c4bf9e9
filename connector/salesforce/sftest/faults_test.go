package sftest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLimitHeaderAndDailyLimit(t *testing.T) {
	c := newTestClient(t, Options{DailyLimit: 3})
	for i := 1; i <= 3; i++ {
		resp, b := c.do("GET", v+"/sobjects", "")
		assertStatus(t, resp, b, 200)
		if got, want := resp.Header.Get("Sforce-Limit-Info"), fmt.Sprintf("api-usage=%d/3", i); got != want {
			t.Errorf("header %q, want %q", got, want)
		}
	}
	resp, b := c.do("GET", v+"/sobjects", "")
	assertStatus(t, resp, b, 403)
	assertJSON(t, b, "request_limit_exceeded.json")
	if got := resp.Header.Get("Sforce-Limit-Info"); got != "api-usage=3/3" {
		t.Errorf("header on 403: %q", got)
	}
	// Errors carry the header too.
	c.org.SetDailyLimit(100)
	resp, _ = c.do("GET", v+"/sobjects/Nope__c", "")
	if resp.StatusCode != 404 || resp.Header.Get("Sforce-Limit-Info") != "api-usage=4/100" {
		t.Errorf("404: %d %q", resp.StatusCode, resp.Header.Get("Sforce-Limit-Info"))
	}
	if used, limit := c.org.APIUsage(); used != 4 || limit != 100 {
		t.Errorf("APIUsage %d/%d", used, limit)
	}
}

func TestFail503Every(t *testing.T) {
	c := newTestClient(t, Options{Fail503Every: 3})
	var statuses []int
	for i := 0; i < 6; i++ {
		resp, b := c.do("GET", v+"/limits", "")
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 503 {
			assertJSON(t, b, "server_unavailable.json")
		}
	}
	if fmt.Sprint(statuses) != "[200 200 503 200 200 503]" {
		t.Errorf("statuses %v", statuses)
	}
	if used, _ := c.org.APIUsage(); used != 4 {
		t.Errorf("503s must not count as API calls: used %d", used)
	}
}

func TestSessionExpiry(t *testing.T) {
	c := newTestClient(t, Options{SessionMaxRequests: 2})
	for i, want := range []int{200, 200, 401, 401} {
		resp, b := c.do("GET", v+"/limits", "")
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
		if want == 401 {
			assertJSON(t, b, "invalid_session.json")
		}
	}
	c.token = c.org.IssueToken(DefaultUsername)
	resp, _ := c.do("GET", v+"/limits", "")
	if resp.StatusCode != 200 {
		t.Errorf("fresh token: %d", resp.StatusCode)
	}
	c.org.ExpireSessions()
	resp, _ = c.do("GET", v+"/limits", "")
	if resp.StatusCode != 401 {
		t.Errorf("after ExpireSessions: %d", resp.StatusCode)
	}
}

func TestLockRows(t *testing.T) {
	c := newTestClient(t, Options{LockKeys: []string{"ngo-th-cm:TH-CL-0001:STIPEND"}})
	stipend, _ := c.org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:TH-CL-0001:stipend")
	school, _ := c.org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:TH-CL-0001:school")
	body := collectionBody(false,
		`{"attributes":{"type":"vcms__Assistance__c"},"vcms__External_Service_Key__c":"ngo-th-cm:TH-CL-0001:stipend","vcms__Status__c":"Delivered"}`,
		`{"attributes":{"type":"vcms__Assistance__c"},"vcms__External_Service_Key__c":"ngo-th-cm:TH-CL-0001:school","vcms__Status__c":"Delivered"}`)
	path := v + "/composite/sobjects/vcms__Assistance__c/vcms__External_Service_Key__c"
	resp, b := c.do("PATCH", path, body)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[
		{"id":"`+stipend.ID+`","success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record or 1 records: `+stipend.ID+`","fields":[]}],"created":false},
		{"id":"`+school.ID+`","success":true,"errors":[],"created":false}]`)
	// Once per listed key: the retry succeeds.
	resp, b = c.do("PATCH", path, body)
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"<id>","success":true,"errors":[],"created":false},{"id":"<id>","success":true,"errors":[],"created":false}]`)

	// Object.Field=value and a master-detail parent's id lock too; a single-record call answers 400.
	parent, _ := c.org.GetByExternalKey("vcms__Survivor_Case__c", th)
	c.org.LockRows(parent.ID)
	resp, b = c.do("PATCH", v+"/sobjects/vcms__Assistance__c/"+school.ID, `{"vcms__Status__c":"Planned"}`)
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"unable to obtain exclusive access to this record or 1 records: `+parent.ID+`","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`)
	c.org.LockRows("Account.vcms__External_Key__c=seed:account:ngo-ejemplo")
	acct, _ := c.org.GetByExternalKey("Account", "seed:account:ngo-ejemplo")
	resp, b = c.do("DELETE", v+"/composite/sobjects?ids="+acct.ID, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `[{"id":"`+acct.ID+`","success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record or 1 records: `+acct.ID+`","fields":[]}]}]`)
}

func TestRequestLog(t *testing.T) {
	c := newTestClient(t, Options{})
	c.org.ResetRequests()
	c.query("SELECT Id FROM vcms__Assistance__c")
	c.do("PATCH", v+"/composite/sobjects/vcms__Assistance__c/vcms__External_Service_Key__c", collectionBody(false,
		`{"attributes":{"type":"vcms__Assistance__c"},"vcms__External_Service_Key__c":"ngo-th-cm:TH-CL-0001:stipend","vcms__Status__c":"Delivered"}`))
	c.do("GET", v+"/sobjects/Account/describe", "")
	c.token = ""
	c.do("GET", v+"/limits", "")
	got := c.org.Requests()
	want := []struct {
		method, endpoint, object string
		status, records          int
	}{
		{"GET", "query", "vcms__Assistance__c", 200, 3},
		{"PATCH", "collections.upsert", "vcms__Assistance__c", 200, 1},
		{"GET", "describe", "Account", 200, 0},
		{"GET", "limits", "", 401, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("log %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Method != w.method || g.Endpoint != w.endpoint || g.Object != w.object || g.Status != w.status || g.Records != w.records {
			t.Errorf("entry %d: %+v, want %+v", i, g, w)
		}
	}
	if c.org.CountRequests("collections.upsert") != 1 {
		t.Error("CountRequests")
	}
}

func TestLatencyGzipPrettyPrint(t *testing.T) {
	c := newTestClient(t, Options{})
	c.org.SetLatency(30 * time.Millisecond)
	start := time.Now()
	c.do("GET", v+"/limits", "")
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency not applied")
	}
	c.org.SetLatency(0)

	var zbody bytes.Buffer
	zw := gzip.NewWriter(&zbody)
	_, _ = zw.Write([]byte(`{"Name": "Test Gzip Account"}`))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", c.srv.URL+v+"/sobjects/Account", &zbody)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	assertJSON(t, b, "create_success.json")

	resp2, b := c.do("GET", v+"/limits", "", "X-PrettyPrint: 1")
	assertStatus(t, resp2, b, 200)
	if !strings.Contains(string(b), "\n  \"") {
		t.Errorf("not pretty: %s", b)
	}
}

// TestConcurrentBatches runs collection upserts, queries and describes from
// several goroutines, as the client's bounded concurrent batches do.
func TestConcurrentBatches(t *testing.T) {
	c := newTestClient(t, Options{Empty: true})
	errs := make(chan string, 64)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- true }()
			for n := 0; n < 5; n++ {
				var recs []string
				for i := 0; i < 50; i++ {
					recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Account"},"vcms__External_Key__c":"g%d:%d","Name":"Test %d"}`, g, n*50+i, i))
				}
				resp, b := c.do("PATCH", v+"/composite/sobjects/Account/vcms__External_Key__c", collectionBody(false, recs...))
				if resp.StatusCode != 200 || strings.Contains(string(b), `"success":false`) {
					errs <- string(b)
				}
				c.query("SELECT Id FROM Account WHERE Name LIKE 'Test%'")
			}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(c.org.Records("Account")); n != 4*5*50 {
		t.Errorf("%d accounts", n)
	}
	if n := c.org.CountRequests("collections.upsert"); n != 20 {
		t.Errorf("%d upsert calls logged", n)
	}
}
