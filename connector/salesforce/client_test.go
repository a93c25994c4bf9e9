package salesforce

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// TestRetryTransient: 503 SERVER_UNAVAILABLE and 429 are retried with
// backoff and succeed; Retry-After is honoured but capped at RetryWaitMax.
func TestRetryTransient(t *testing.T) {
	f := newRecorded(t)
	busy := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600") // capped to RetryWaitMax (20ms)
		f.file(503, "server_unavailable.json")(w, r)
	}
	f.handle("GET "+describePath, seq(busy, raw(429, `[]`), f.file(200, "describe_survivor_case.json")))
	c := f.connect(t, nil)
	start := time.Now()
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: Retry-After not capped", d)
	}
	if n := len(f.requests("GET " + describePath)); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if u := c.Usage(); u.Calls != 4 { // token + 3 attempts
		t.Errorf("calls = %d, want 4", u.Calls)
	}
}

// TestRetryGivesUp: a 503 that persists ends after RetryMax retries with
// Salesforce's error kept (passthrough handler), typed as temporary.
func TestRetryGivesUp(t *testing.T) {
	f := newRecorded(t)
	f.handle("GET "+describePath, f.file(503, "server_unavailable.json"))
	c := f.connect(t, func(o *Options) { o.RetryMax = 2 })
	_, err := c.Describe(context.Background(), "vcms__Survivor_Case__c")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "SERVER_UNAVAILABLE" || ae.Message != "server unavailable" || !ae.Temporary() {
		t.Fatalf("err = %#v", err)
	}
	if !connector.IsRetryable(err) {
		t.Error("not retryable by connector.ClassOf")
	}
	if n := len(f.requests("GET " + describePath)); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

// TestNoRetryCreate: a request not marked safe (a POST create) is sent
// exactly once, whatever the answer.
func TestNoRetryCreate(t *testing.T) {
	f := newRecorded(t)
	f.handle("POST /services/data/v62.0/composite/sobjects", f.file(503, "server_unavailable.json"))
	c := f.connect(t, nil)
	err := c.cl.do(context.Background(), request{op: "create", object: "vcms__Survivor_Case__c", method: "POST",
		path: c.cl.dataPath("composite", "sobjects"), body: map[string]any{"allOrNone": false}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(f.requests("POST /services/data/v62.0/composite/sobjects")); n != 1 {
		t.Errorf("create sent %d times", n)
	}
	// A dropped connection is not retried for a create either.
	f.handle("POST /services/data/v62.0/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	f.reset()
	err = c.cl.do(context.Background(), request{op: "create", object: "vcms__Survivor_Case__c", method: "POST",
		path: c.cl.dataPath("composite", "sobjects"), body: map[string]any{"allOrNone": false}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(f.requests("POST /services/data/v62.0/composite/sobjects")); n != 1 {
		t.Errorf("create sent %d times after a dropped connection", n)
	}
}

// TestBadErrorBodies: an HTML 500 page, [], null, truncated JSON and a
// bare string are clear typed errors: no panic, no retry storm.
func TestBadErrorBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"html 500", 500, "", "an HTML or XML page instead of JSON"},
		{"empty array", 400, `[]`, "error body is an empty array"},
		{"null", 400, `null`, "error body is null"},
		{"truncated", 400, `[{"message":"Session exp`, "truncated JSON"},
		{"string", 400, `"oops"`, "a body that is not JSON"},
		{"empty", 502, ``, "empty body"},
		{"no code", 400, `[{"message":"x"}]`, "JSON without an errorCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecorded(t)
			h := raw(tt.status, tt.body)
			if tt.body == "" && tt.status == 500 {
				h = f.file(500, "server_error.html")
			}
			f.handle("GET "+describePath, h)
			c := f.connect(t, func(o *Options) { o.RetryMax = 1 })
			_, err := c.Describe(context.Background(), "vcms__Survivor_Case__c")
			var ae *APIError
			if !errors.As(err, &ae) || !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("err = %v", err)
			}
			if ae.Status != tt.status || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want status %d and %q", err, tt.status, tt.want)
			}
			n := len(f.requests("GET " + describePath))
			if want := map[bool]int{true: 2, false: 1}[shouldRetry(tt.status)]; n != want {
				t.Errorf("%d attempts, want %d", n, want)
			}
		})
	}
	// A 200 whose body is truncated is malformed too.
	f := newRecorded(t)
	f.handle("GET "+describePath, raw(200, `{"name":"vcms__Survivor_Case__c","fields":[{"name":"Id"`))
	c := f.connect(t, nil)
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("truncated 200: err = %v", err)
	}
}

// TestLimitInfo: Sforce-Limit-Info is read from every response.
func TestLimitInfo(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.usage = "api-usage=4711/15000, per-app-api-usage=17/250(appName=casebridge)"
	c := f.connect(t, nil)
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	if u := c.Usage(); u.Used != 4711 || u.Limit != 15000 {
		t.Errorf("usage = %+v", u)
	}
}

// TestBudget: a call that would pass Budget x daily limit is refused with
// ErrBudget before it is sent; MaxCalls caps the calls.
func TestBudget(t *testing.T) {
	f := newRecorded(t)
	f.handle("GET /services/data/v62.0/limits", f.file(200, "limits.json"))
	f.usage = "api-usage=49/100"
	c := f.connect(t, func(o *Options) { o.Budget = 0.5 })
	get := func() error {
		var l map[string]any
		return c.cl.do(context.Background(), request{op: "limits", method: "GET", path: c.cl.dataPath("limits"), retrySafe: true}, &l)
	}
	if err := get(); err != nil { // usage unknown before: allowed; now 49/100
		t.Fatal(err)
	}
	if err := get(); err != nil { // 50th call fits the budget
		t.Fatal(err)
	}
	f.usage = "api-usage=50/100"
	_ = get()
	err := get()
	if !errors.Is(err, ErrBudget) || !IsStop(err) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
	before := len(f.requests(""))
	_ = get()
	if len(f.requests("")) != before {
		t.Error("a call over budget was sent")
	}

	g := newRecorded(t)
	g.handle("GET /services/data/v62.0/limits", g.file(200, "limits.json"))
	c = g.connect(t, func(o *Options) { o.MaxCalls = 2 }) // the token is call 1
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := get(); !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
}

// TestDailyLimit: 403 REQUEST_LIMIT_EXCEEDED is a typed stop, not retried.
func TestDailyLimit(t *testing.T) {
	f := newRecorded(t)
	f.handle("GET "+describePath, f.file(403, "request_limit_exceeded.json"))
	c := f.connect(t, nil)
	_, err := c.Describe(context.Background(), "vcms__Survivor_Case__c")
	if !errors.Is(err, ErrLimitExceeded) || !IsStop(err) {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests("GET " + describePath)); n != 1 {
		t.Errorf("%d attempts", n)
	}
	// The concurrent-request limit is the same code but means back off.
	ae := &APIError{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: "ConcurrentRequests (Concurrent API Requests) Limit exceeded."}
	if errors.Is(ae, ErrLimitExceeded) || !ae.Temporary() {
		t.Error("concurrent limit taken for the daily limit")
	}
}

// TestURLStripped: transport errors do not carry the request URL (a query
// URL holds SOQL literals).
func TestURLStripped(t *testing.T) {
	f := newRecorded(t).withDescribe()
	c := f.connect(t, func(o *Options) { o.RetryMax = 1 })
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	err := c.ReadKeys(context.Background(), "vcms__Survivor_Case__c", []string{"ngo-th-cm:Somchai-secret"}, func(connector.Record) error { return nil })
	if err == nil {
		t.Fatal("no error")
	}
	noValues(t, err.Error(), "Somchai", "SELECT", "http://", "/services/")
	if !strings.Contains(err.Error(), "read_keys") {
		t.Errorf("error does not name the operation: %v", err)
	}
}

// TestCancel: a cancelled context stops a hanging request and a backoff
// promptly.
func TestCancel(t *testing.T) {
	f := newRecorded(t)
	release := make(chan struct{})
	defer close(release)
	f.handle("GET "+describePath, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := f.connect(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Describe(ctx, "vcms__Survivor_Case__c")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	// Cancelled during a long backoff.
	g := newRecorded(t)
	g.handle("GET "+describePath, g.file(503, "server_unavailable.json"))
	c = g.connect(t, func(o *Options) { o.RetryWaitMin, o.RetryWaitMax = time.Minute, time.Minute })
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = c.Describe(ctx2, "vcms__Survivor_Case__c")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("backoff took %v", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{"-1", 0, false},
		{"Mon, 15 Jan 2024 10:30:30 GMT", 30 * time.Second, true},
		{"Mon, 15 Jan 2024 10:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v", tt.h, got, ok)
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"120"}}}
	if d := backoff(time.Millisecond, time.Second, 0, resp); d != time.Second {
		t.Errorf("Retry-After 120 with cap 1s gave %v", d)
	}
	for attempt := range 20 {
		if d := backoff(time.Millisecond, 50*time.Millisecond, attempt, nil); d < time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("attempt %d: backoff %v outside [min, max]", attempt, d)
		}
	}
}

// TestSafeMessage: Salesforce's message is never kept, whatever its
// shape: a known code is casebridge's description, an unknown one a
// generic text; a message shaped like a list of names ("Required fields
// are missing: [<text>]") can carry a value (issue 16).
func TestSafeMessage(t *testing.T) {
	tests := []struct{ code, msg, want string }{
		{"STRING_TOO_LONG", "First Name: data value too large: Somchai Secretname (max length=80)", "value longer than the field allows"},
		{"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Stage: bad value for restricted picklist field: Somchai", "not one of the restricted picklist's values"},
		{"DUPLICATE_VALUE", "duplicate value found: vcms__Case_Code__c duplicates value on record with id: a01xx0000000001", "duplicate value on a unique field"},
		{"MALFORMED_ID", "Partner Org: id value of incorrect type: Somchai", "id value of incorrect type"},
		{"JSON_PARSER_ERROR", "Cannot deserialize instance of double from VALUE_STRING value Somchai or request may be missing a required field at [line:1, column:30]", "value not of the field's type"},
		{"INVALID_FIELD", "No such column 'Somchai' on sobject of type vcms__Survivor_Case__c", "no such field or relationship"},
		{"REQUIRED_FIELD_MISSING", "Required fields are missing: [Somchai]", "required field missing"},
		{"REQUIRED_FIELD_MISSING", "Required fields are missing: [vcms__Last_Name__c]", "required field missing"},
		{"UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: ngo-th-cm:TH-CL-0001", "unable to obtain exclusive access to the record"},
		{"INVALID_QUERY_FILTER_OPERATOR", "\nSELECT Id FROM X WHERE Id = 'Somchai'\n ^\nERROR at Row:1:Column:25\ninvalid ID field: Somchai", "invalid filter in SOQL query"},
		{"REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", dailyLimitDescription},
		{"REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", concurrentLimitDescription},
		{"SOME_NEW_CODE", "Somchai", unknownCodeDescription},
		{"", "Session expired or invalid", noCodeDescription},
	}
	for _, tt := range tests {
		if got := SafeMessage(tt.code, tt.msg); got != tt.want {
			t.Errorf("SafeMessage(%s) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestSOQLErrors: the query excerpt of a SOQL error is dropped; a safe last
// line is kept.
func TestSOQLErrors(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("GET /services/data/v62.0/query", f.file(400, "soql_invalid_field.json"))
	c := f.connect(t, nil)
	err := c.ReadKeys(context.Background(), "vcms__Survivor_Case__c", []string{"ngo-th-cm:Somchai Dee"}, func(connector.Record) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "INVALID_FIELD" || ae.Message != "no such field or relationship" {
		t.Fatalf("err = %v", err)
	}
	noValues(t, err.Error(), "Somchai", "SELECT")

	f.handle("GET /services/data/v62.0/query", f.file(400, "soql_malformed.json"))
	err = c.ReadKeys(context.Background(), "vcms__Survivor_Case__c", []string{"x"}, func(connector.Record) error { return nil })
	if !errors.As(err, &ae) || ae.Code != "MALFORMED_QUERY" || ae.Message != "malformed SOQL query" {
		t.Fatalf("err = %v", err)
	}
	noValues(t, err.Error(), "Somchai")
}

// TestConcurrentLimitBackoff: 403 REQUEST_LIMIT_EXCEEDED for concurrent
// long-running requests backs off and retries; the daily limit does not.
func TestConcurrentLimitBackoff(t *testing.T) {
	f := newRecorded(t)
	f.handle("GET "+describePath, seq(
		raw(403, `[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`),
		f.file(200, "describe_survivor_case.json")))
	c := f.connect(t, nil)
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests("GET " + describePath)); n != 2 {
		t.Errorf("%d attempts", n)
	}
}

// FuzzSafeMessage: whatever Salesforce sends, the message is one of
// casebridge's fixed descriptions.
func FuzzSafeMessage(f *testing.F) {
	f.Add("STRING_TOO_LONG", "First Name: data value too large: Somchai (max length=80)")
	f.Add("INVALID_FIELD", "No such column 'vcms__X__c' on entity 'vcms__Y__c'. Somchai")
	f.Add("MALFORMED_QUERY", "\nSELECT Id FROM X WHERE N = 'Somchai\n ^\nERROR at Row:1:Column:30\nunexpected token: 'Somchai'")
	f.Add("", "Required fields are missing: [A, B] Somchai")
	f.Fuzz(func(t *testing.T, code, msg string) {
		out := SafeMessage(code, msg)
		for _, d := range codeDescriptions {
			if out == d {
				return
			}
		}
		switch out {
		case unknownCodeDescription, noCodeDescription, dailyLimitDescription, concurrentLimitDescription:
			return
		}
		t.Fatalf("SafeMessage(%q, %q) = %q: not one of casebridge's descriptions", code, msg, out)
	})
}
