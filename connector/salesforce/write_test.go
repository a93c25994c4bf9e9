package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

const upsertPath = "/services/data/v62.0/composite/sobjects/vcms__Survivor_Case__c/vcms__External_Key__c"
const deletePath = "/services/data/v62.0/composite/sobjects"

type collectionBody struct {
	AllOrNone bool                         `json:"allOrNone"`
	Records   []map[string]json.RawMessage `json:"records"`
}

func parseBody(t *testing.T, s string) collectionBody {
	t.Helper()
	var b collectionBody
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		t.Fatalf("request body: %v", err)
	}
	return b
}

// TestUpsertRecorded: the recorded Collections upsert response gives one
// Result per record with Salesforce's code and field, and no value in any
// message (facts rows on collections and write validation).
func TestUpsertRecorded(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("PATCH "+upsertPath, f.file(200, "collections_upsert.json"))
	c := f.connect(t, nil)
	recs := []connector.Record{
		{Key: "ngo-th-cm:TH-CL-0001", Fields: map[string]connector.Value{
			"vcms__First_Name__c":            connector.Text("Somchai"),
			"vcms__Age_At_Identification__c": dec("14.4"),
			"vcms__Amount_Test__c":           dec("1234567890.995"),
			"vcms__Source_Modified_At__c":    connector.DateTime(time.Date(2024, 1, 15, 10, 30, 0, 500e6, time.UTC)),
			"vcms__Citizenship__c":           connector.Multi("TH", "MM"),
			"vcms__Birthdate__c":             connector.DateValue(connector.Date{Year: 2008, Month: 3, Day: 12}),
			"vcms__Birthdate_Estimated__c":   connector.Bool(true),
			"vcms__Case_Notes__c":            connector.Text(""),
		}},
		{Key: " ngo-th-cm:TH-CL-0009 ", Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Active")}},
		{Key: "ngo-th-cm:TH-CL-0010", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("Somchai Secretname")}},
		{Key: "ngo-th-cm:TH-CL-0011", Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Active")}},
		{Key: "ngo-th-cm:TH-CL-0012", Fields: map[string]connector.Value{}},
		{Key: "ngo-th-cm:TH-CL-0013", Fields: map[string]connector.Value{"vcms__Partner_Org__c": connector.Text("555-0199 Somchai")}},
	}
	res, err := c.Upsert(context.Background(), caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("PATCH " + upsertPath)
	if len(reqs) != 1 {
		t.Fatalf("%d upsert calls", len(reqs))
	}
	body := parseBody(t, reqs[0].Body)
	if body.AllOrNone || len(body.Records) != 6 {
		t.Fatalf("allOrNone %v, %d records", body.AllOrNone, len(body.Records))
	}
	r0 := body.Records[0]
	wantJSON := map[string]string{
		"attributes":                     `{"type":"vcms__Survivor_Case__c"}`,
		"vcms__External_Key__c":          `"ngo-th-cm:TH-CL-0001"`,
		"vcms__Age_At_Identification__c": `14`,            // rounded to scale 0
		"vcms__Amount_Test__c":           `1234567891.00`, // exact decimal, scale 2
		"vcms__Source_Modified_At__c":    `"2024-01-15T10:30:00.000Z"`,
		"vcms__Citizenship__c":           `"MM;TH"`,
		"vcms__Birthdate__c":             `"2008-03-12"`,
		"vcms__Birthdate_Estimated__c":   `true`,
		"vcms__Case_Notes__c":            `null`, // empty text is stored as null
	}
	for k, w := range wantJSON {
		if got := string(r0[k]); got != w && !(k == "vcms__Amount_Test__c" && got == "1234567891") {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	if string(body.Records[1]["vcms__External_Key__c"]) != `"ngo-th-cm:TH-CL-0009"` {
		t.Error("key not normalised")
	}

	if res[0].Err != nil || res[0].ID != "a01xx0000000001AAA" || res[0].Created || res[0].Key != "ngo-th-cm:TH-CL-0001" {
		t.Errorf("result 0 = %+v", res[0])
	}
	if res[1].Err != nil || !res[1].Created || res[1].Key != "ngo-th-cm:TH-CL-0009" {
		t.Errorf("result 1 = %+v", res[1])
	}
	wantErr := []struct {
		code  connector.Code
		field string
	}{
		{"STRING_TOO_LONG", "vcms__First_Name__c"},
		{"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "vcms__Stage__c"},
		{"DUPLICATE_VALUE", ""},
		{"MALFORMED_ID", "vcms__Partner_Org__c"},
	}
	for i, w := range wantErr {
		r := res[i+2]
		var re *connector.RecordError
		if !errors.As(r.Err, &re) {
			t.Errorf("result %d: err %v", i+2, r.Err)
			continue
		}
		if re.Code != w.code || re.Field != w.field || re.Key != recs[i+2].Key || re.Object != caseObject || re.Connector != "vcms_org" || re.Op != "upsert" {
			t.Errorf("result %d: %+v", i+2, re)
		}
		if connector.IsRetryable(r.Err) {
			t.Errorf("result %d retryable", i+2)
		}
		noValues(t, r.Err.Error(), "Somchai", "Secretname", "Trafficked", "555-0199", "uncle")
	}
	if got := res[2].Err.Error(); got != "upsert vcms_org vcms__Survivor_Case__c ngo-th-cm:TH-CL-0010.vcms__First_Name__c: STRING_TOO_LONG: value longer than the field allows" {
		t.Errorf("message = %s", got)
	}
}

// TestUpsertLocalChecks: records that Salesforce would reject for an
// unknown or read-only field, a value of the wrong kind or too long, or an
// empty key fail locally, by field, and are not sent; the rest are.
func TestUpsertLocalChecks(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("PATCH "+upsertPath, raw(200, `[{"id":"a01xx0000000001AAA","success":true,"errors":[],"created":true}]`))
	c := f.connect(t, nil)
	recs := []connector.Record{
		{Key: "k1", Fields: map[string]connector.Value{"vcms__Nope__c": connector.Text("Somchai")}},
		{Key: "k2", Fields: map[string]connector.Value{"vcms__Legal_Working_Age_Date__c": connector.Text("2020-01-01")}},
		{Key: "k3", Fields: map[string]connector.Value{"vcms__Age_At_Identification__c": connector.Text("Somchai")}},
		{Key: "k4", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text(strings.Repeat("ส", 81))}},
		{Key: "  ", Fields: map[string]connector.Value{}},
		{Key: "k6", Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Somchai")}},
		{Key: "k7", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("ok")}},
	}
	res, err := c.Upsert(context.Background(), caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	want := []connector.Code{connector.CodeUnknownField, connector.CodeNotWritable, connector.CodeInvalidValue, connector.CodeTooLong, connector.CodeInvalidKey, connector.CodeBadPicklist}
	for i, w := range want {
		if got := connector.CodeOf(res[i].Err); got != w {
			t.Errorf("record %d: code %q (%v), want %q", i, got, res[i].Err, w)
		}
		if res[i].Err != nil {
			noValues(t, res[i].Err.Error(), "Somchai", "สส")
		}
	}
	if res[6].Err != nil || res[6].ID == "" {
		t.Errorf("good record: %+v", res[6])
	}
	reqs := f.requests("PATCH " + upsertPath)
	if len(reqs) != 1 || len(parseBody(t, reqs[0].Body).Records) != 1 {
		t.Errorf("sent %d calls", len(reqs))
	}
}

// collectionEcho answers each Collections call with success for every
// record, counting calls and records and the calls in flight.
type collectionEcho struct {
	mu       sync.Mutex
	calls    int
	sizes    []int
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	delay    time.Duration
	fail     func(key string, attempt int) string // error code or ""
	attempts map[string]int
}

func (e *collectionEcho) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		for {
			m := e.maxSeen.Load()
			if n <= m || e.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(e.delay)
		var keys []string
		if r.Method == http.MethodDelete {
			keys = strings.Split(r.URL.Query().Get("ids"), ",")
		} else {
			b, _ := readAll(r)
			for _, rec := range parseBody(t, b).Records {
				var k string
				_ = json.Unmarshal(rec["vcms__External_Key__c"], &k)
				keys = append(keys, k)
			}
		}
		e.mu.Lock()
		e.calls++
		e.sizes = append(e.sizes, len(keys))
		if e.attempts == nil {
			e.attempts = map[string]int{}
		}
		var out []string
		for i, k := range keys {
			e.attempts[k]++
			code := ""
			if e.fail != nil {
				code = e.fail(k, e.attempts[k])
			}
			if code != "" {
				out = append(out, fmt.Sprintf(`{"success":false,"errors":[{"statusCode":%q,"message":"unable to obtain exclusive access to this record or 1 records: %s","fields":[]}]}`, code, k))
			} else {
				out = append(out, fmt.Sprintf(`{"id":"a01xx%013dAAA","success":true,"errors":[],"created":true}`, i))
			}
		}
		e.mu.Unlock()
		raw(200, "["+strings.Join(out, ",")+"]")(w, r)
	}
}

func readAll(r *http.Request) (string, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), nil
		}
	}
}

func manyRecords(n int) []connector.Record {
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = connector.Record{Key: fmt.Sprintf("ngo-th-cm:TH-%05d", i), Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("n")}}
	}
	return recs
}

// TestUpsertBatches: N records cost ceil(N/200) calls, at most Concurrency
// in flight; a no-op write costs none.
func TestUpsertBatches(t *testing.T) {
	f := newRecorded(t).withDescribe()
	e := &collectionEcho{delay: 20 * time.Millisecond}
	f.handle("PATCH "+upsertPath, e.handler(t))
	c := f.connect(t, func(o *Options) { o.Concurrency = 2 })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(1001))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Key != fmt.Sprintf("ngo-th-cm:TH-%05d", i) {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if e.calls != 6 {
		t.Errorf("%d calls for 1001 records, want 6", e.calls)
	}
	for _, s := range e.sizes {
		if s > 200 {
			t.Errorf("a call with %d records", s)
		}
	}
	if m := e.maxSeen.Load(); m > 2 {
		t.Errorf("%d calls in flight, concurrency is 2", m)
	}
	before := e.calls
	if res, err := c.Upsert(context.Background(), caseObject, nil); err != nil || len(res) != 0 || e.calls != before {
		t.Errorf("empty upsert: %v %v, %d calls", res, err, e.calls-before)
	}
}

// TestUpsertDuplicateKeys: one key twice goes in two calls, never twice in
// one request.
func TestUpsertDuplicateKeys(t *testing.T) {
	f := newRecorded(t).withDescribe()
	e := &collectionEcho{}
	f.handle("PATCH "+upsertPath, e.handler(t))
	c := f.connect(t, nil)
	recs := manyRecords(3)
	recs = append(recs, connector.Record{Key: "NGO-TH-CM:TH-00001", Fields: map[string]connector.Value{}})
	res, err := c.Upsert(context.Background(), caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	if e.calls != 2 || e.sizes[0] != 3 || e.sizes[1] != 1 {
		t.Errorf("calls %d sizes %v", e.calls, e.sizes)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Error(r.Err)
		}
	}
}

// TestUpsertLockRetry: UNABLE_TO_LOCK_ROW per record is re-sent alone, a
// bounded number of times, then reported as retryable.
func TestUpsertLockRetry(t *testing.T) {
	f := newRecorded(t).withDescribe()
	e := &collectionEcho{fail: func(key string, attempt int) string {
		switch {
		case key == "ngo-th-cm:TH-00001" && attempt < 3:
			return "UNABLE_TO_LOCK_ROW"
		case key == "ngo-th-cm:TH-00002":
			return "UNABLE_TO_LOCK_ROW"
		}
		return ""
	}}
	f.handle("PATCH "+upsertPath, e.handler(t))
	c := f.connect(t, func(o *Options) { o.LockRetries = 3 })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(5))
	if err != nil {
		t.Fatal(err)
	}
	if res[1].Err != nil {
		t.Errorf("record 1 not retried to success: %v", res[1].Err)
	}
	if connector.CodeOf(res[2].Err) != connector.CodeLocked || !connector.IsRetryable(res[2].Err) {
		t.Errorf("record 2: %v", res[2].Err)
	} else {
		noValues(t, res[2].Err.Error(), "exclusive access to this record or")
	}
	if e.attempts["ngo-th-cm:TH-00002"] != 4 || e.attempts["ngo-th-cm:TH-00000"] != 1 {
		t.Errorf("attempts %v", e.attempts)
	}
	if e.sizes[0] != 5 || e.sizes[1] != 2 || e.sizes[2] != 2 || e.sizes[3] != 1 {
		t.Errorf("sizes %v: only locked records are re-sent", e.sizes)
	}
}

// TestUpsertRequestErrors: a request-level error fails the batch's records
// with its code; a stop error stops the call, every record not sent
// NOT_PROCESSED wrapping it (pending, not failed).
func TestUpsertRequestErrors(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("PATCH "+upsertPath, f.file(400, "exceeded_id_limit.json"))
	c := f.connect(t, nil)
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if connector.CodeOf(r.Err) != "EXCEEDED_ID_LIMIT" {
			t.Errorf("result %+v", r)
		}
	}
	f.handle("PATCH "+upsertPath, f.file(403, "request_limit_exceeded.json"))
	if res, err := c.Upsert(context.Background(), caseObject, manyRecords(2)); !errors.Is(err, ErrLimitExceeded) || len(res) != 2 ||
		!errors.Is(res[1].Err, connector.ErrStop) || connector.CodeOf(res[1].Err) != connector.CodeNotProcessed {
		t.Errorf("daily limit: %v %v", res, err)
	}
	f.handle("PATCH "+upsertPath, raw(200, `[{"id":"x","success":true,"errors":[]}]`))
	res, err = c.Upsert(context.Background(), caseObject, manyRecords(2))
	if err != nil || !errors.Is(res[0].Err, ErrMalformedResponse) || !connector.IsRetryable(res[0].Err) {
		t.Errorf("short result list: %v %v", res, err)
	}
	if _, err := c.Upsert(context.Background(), "vcms__Nope__c", manyRecords(1)); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("unknown object: %v", err)
	}
}

// TestDelete: keys resolve to Ids with one query, then one Collections
// delete per 200 Ids; a missing key or a record deleted meanwhile is
// ErrNotFound; a repeated key shares its result.
func TestDelete(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("GET "+queryPath, raw(200, `{"totalSize":2,"done":true,"records":[
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000001AAA","vcms__External_Key__c":"ngo-th-cm:TH-CL-0001"},
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000002AAA","vcms__External_Key__c":"ngo-kh-bb:KH-0042"}]}`))
	f.handle("DELETE "+deletePath, f.file(200, "collections_delete.json"))
	c := f.connect(t, nil)
	res, err := c.Delete(context.Background(), caseObject, []string{"ngo-th-cm:TH-CL-0001", "ngo-kh-bb:KH-0042", "ngo-xx:missing", "NGO-TH-CM:TH-CL-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].ID != "a01xx0000000001AAA" {
		t.Errorf("result 0 = %+v", res[0])
	}
	if !errors.Is(res[1].Err, connector.ErrNotFound) || connector.CodeOf(res[1].Err) != connector.CodeNotFound {
		t.Errorf("entity is deleted: %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, connector.ErrNotFound) {
		t.Errorf("missing: %v", res[2].Err)
	}
	if res[3].Err != nil || res[3].Key != "NGO-TH-CM:TH-CL-0001" {
		t.Errorf("repeat: %+v", res[3])
	}
	d := f.requests("DELETE " + deletePath)
	if len(d) != 1 || d[0].Query["ids"][0] != "a01xx0000000001AAA,a01xx0000000002AAA" || d[0].Query["allOrNone"][0] != "false" {
		t.Errorf("delete requests %+v", d)
	}
	if q := f.requests("GET " + queryPath); len(q) != 1 || !strings.Contains(q[0].Query["q"][0], "SELECT Id, vcms__External_Key__c FROM vcms__Survivor_Case__c WHERE vcms__External_Key__c IN (") {
		t.Errorf("resolve query %+v", q)
	}
}

// TestUpsertStopKeepsWhatWasSent: a budget reached partway through a large
// upsert stops sending; the batches sent keep their results (what the org
// received is known), the others are NOT_PROCESSED wrapping the stop.
func TestUpsertStopKeepsWhatWasSent(t *testing.T) {
	f := newRecorded(t).withDescribe()
	var ok []string
	for i := 0; i < 200; i++ {
		ok = append(ok, `{"id":"a015g00000000`+fmt.Sprintf("%02d", i%100)+`AAA","success":true,"errors":[],"created":true}`)
	}
	f.handle("PATCH "+upsertPath, raw(200, "["+strings.Join(ok, ",")+"]"))
	// The token is call 1, describe call 2: two upsert batches fit.
	c := f.connect(t, func(o *Options) { o.MaxCalls = 4 })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(1000))
	if !errors.Is(err, ErrBudget) || !errors.Is(err, connector.ErrStop) {
		t.Fatalf("err = %v, want a budget stop", err)
	}
	if len(res) != 1000 {
		t.Fatalf("%d results for 1000 records", len(res))
	}
	sent, held := 0, 0
	for _, r := range res {
		switch {
		case r.Err == nil:
			sent++
		case errors.Is(r.Err, connector.ErrStop) && connector.CodeOf(r.Err) == connector.CodeNotProcessed:
			held++
		default:
			t.Fatalf("result %+v", r)
		}
	}
	if n := len(f.requests("PATCH " + upsertPath)); sent != 200*n || sent+held != 1000 || n == 0 {
		t.Errorf("%d sent in %d requests, %d held", sent, n, held)
	}
}

// TestUpsertStopAfterLockRetry: records written by a batch before the
// budget stops the re-send of its locked ones keep their results; only the
// locked ones are held (NOT_PROCESSED wrapping the stop).
func TestUpsertStopAfterLockRetry(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("PATCH "+upsertPath, raw(200, `[{"id":"a015g0000000001AAA","success":true,"errors":[],"created":true},
	 {"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record","fields":[]}]}]`))
	// The token is call 1, describe 2, the upsert 3: the re-send is refused.
	c := f.connect(t, func(o *Options) { o.MaxCalls = 3; o.LockWait = time.Millisecond })
	res, err := c.Upsert(context.Background(), caseObject, manyRecords(2))
	if !errors.Is(err, ErrBudget) || len(res) != 2 {
		t.Fatalf("%v %v", res, err)
	}
	if res[0].Err != nil || res[0].ID == "" {
		t.Errorf("the record written: %+v", res[0])
	}
	if !errors.Is(res[1].Err, connector.ErrStop) || connector.CodeOf(res[1].Err) != connector.CodeNotProcessed {
		t.Errorf("the locked record: %+v", res[1])
	}
}
