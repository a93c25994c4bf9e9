package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// fakeOrg starts the fake org and connects to it with the password flow.
func fakeOrg(t *testing.T, mod func(*Options)) (*sftest.Org, *Connector) {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{})
	return org, connectFake(t, srv, mod)
}

// connectFake connects to a fake org's server with the password flow.
func connectFake(t testing.TB, srv *httptest.Server, mod func(*Options)) *Connector {
	t.Helper()
	o := Options{
		Name:     "vcms_org",
		LoginURL: srv.URL,
		Auth: Auth{Flow: FlowPassword, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
			Username: sftest.DefaultUsername, Password: sftest.DefaultPassword},
		HTTPClient:   srv.Client(),
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 10 * time.Millisecond,
		LockWait:     time.Millisecond,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestFakeOrgAuth(t *testing.T) {
	for _, a := range []Auth{
		{Flow: FlowClientCredentials, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret},
		{Flow: FlowRefreshToken, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret, RefreshToken: sftest.DefaultRefreshToken},
	} {
		_, c := fakeOrg(t, func(o *Options) { o.Auth = a })
		if _, err := c.Describe(context.Background(), caseObject); err != nil {
			t.Errorf("%s: %v", a.Flow, err)
		}
	}
	_, keyPEM := rsaKeyPEM(t, false)
	_, c := fakeOrg(t, func(o *Options) {
		o.Auth = Auth{Flow: FlowJWT, ClientID: sftest.DefaultClientID, Username: sftest.DefaultUsername, PrivateKeyPEM: keyPEM}
	})
	if _, err := c.Describe(context.Background(), caseObject); err != nil {
		t.Errorf("jwt: %v", err)
	}

	org, srv := sftest.NewServer(t, sftest.Options{})
	_ = org
	_, err := New(context.Background(), Options{LoginURL: srv.URL, HTTPClient: srv.Client(),
		Auth: Auth{Flow: FlowPassword, ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret, Username: sftest.DefaultUsername, Password: "wrong-pw"}})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "invalid_grant" {
		t.Errorf("wrong password: %v", err)
	} else {
		noValues(t, err.Error(), "wrong-pw", sftest.DefaultClientSecret)
	}
}

func caseRecords(n, from int, name string) []connector.Record {
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = connector.Record{Key: fmt.Sprintf("ngo-th-cm:TH-CL-%05d", from+i), Fields: map[string]connector.Value{
			"vcms__First_Name__c": connector.Text(name),
			"vcms__Last_Name__c":  connector.Text("Test"),
		}}
	}
	return recs
}

// TestFakeOrgEconomy drives the connector against the fake org and counts
// calls from its request log: N changed records cost ceil(N/200)
// collection calls; a no-op write costs none; reads follow the cursor.
func TestFakeOrgEconomy(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	var seed []connector.Record
	cur, err := c.Read(ctx, caseObject, "", func(r connector.Record) error { seed = append(seed, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := len(org.Records(caseObject)); len(seed) != want {
		t.Fatalf("full read gave %d records, the org holds %d", len(seed), want)
	}
	for _, r := range seed {
		if r.Err != nil || r.Key == "" || r.ID == "" || r.Modified.IsZero() {
			t.Errorf("seed record %+v", r)
		}
	}

	org.ResetRequests()
	res, err := c.Upsert(ctx, caseObject, caseRecords(450, 0, "Ann"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || !r.Created || r.ID == "" {
			t.Fatalf("result %+v", r)
		}
	}
	if n := org.CountRequests("collections.upsert"); n != 3 {
		t.Errorf("450 records cost %d collection calls, want 3", n)
	}
	for _, e := range org.Requests() {
		if e.Endpoint == "collections.upsert" && e.Records > 200 {
			t.Errorf("a call with %d records", e.Records)
		}
	}
	org.ResetRequests()
	if _, err := c.Upsert(ctx, caseObject, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(org.Requests()); n != 0 {
		t.Errorf("a no-op write made %d calls", n)
	}

	var changed []connector.Record
	cur, err = c.Read(ctx, caseObject, cur, func(r connector.Record) error { changed = append(changed, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 450 {
		t.Errorf("incremental read gave %d records, want 450", len(changed))
	}

	org.ResetRequests()
	keys := []string{"ngo-th-cm:TH-CL-00000", "NGO-TH-CM:TH-CL-00001", "ngo-th-cm:no-such"}
	res, err = c.Delete(ctx, caseObject, keys)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, connector.ErrNotFound) {
		t.Errorf("delete results %+v", res)
	}
	if q, d := org.CountRequests("query"), org.CountRequests("collections.delete"); q != 1 || d != 1 {
		t.Errorf("delete cost %d queries and %d deletes", q, d)
	}
	var deleted []connector.Record
	if _, err := c.Read(ctx, caseObject, cur, func(r connector.Record) error { deleted = append(deleted, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 2 || !deleted[0].Deleted || !deleted[1].Deleted {
		t.Errorf("deleted records read: %+v", deleted)
	}

	var keysListed []string
	if err := c.ListKeys(ctx, caseObject, func(k string) error { keysListed = append(keysListed, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keysListed) != len(seed)+448 {
		t.Errorf("%d keys listed", len(keysListed))
	}
	var got []connector.Record
	if err := c.ReadKeys(ctx, caseObject, []string{"ngo-th-cm:TH-CL-00002", "NGO-TH-CM:TH-CL-00002", "ngo-th-cm:TH-CL-00000"}, func(r connector.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "ngo-th-cm:TH-CL-00002" {
		t.Errorf("ReadKeys gave %+v", got)
	} else if v, _ := got[0].Fields["vcms__First_Name__c"].Text(); v != "Ann" {
		t.Error("value not read back")
	}
}

// TestFakeOrgFaults: session expiry, 503s and lock errors injected by the
// fake org are absorbed; the daily limit stops the run.
func TestFakeOrgFaults(t *testing.T) {
	ctx := context.Background()
	org, c := fakeOrg(t, nil)
	org.SetSessionMaxRequests(2)
	org.SetFail503Every(3)
	for i := range 3 {
		if _, err := c.Upsert(ctx, caseObject, caseRecords(5, i*5, "Bo")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(ctx, caseObject, "", func(connector.Record) error { return nil }); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n := org.CountRequests("oauth.token"); n < 2 {
		t.Errorf("%d logins: sessions never expired?", n)
	}
	org.SetSessionMaxRequests(0)
	org.SetFail503Every(0)

	org.LockRows("ngo-th-cm:TH-CL-00001")
	res, err := c.Upsert(ctx, caseObject, caseRecords(3, 0, "Cy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("after a lock: %v", r.Err)
		}
	}

	used, limit := org.APIUsage()
	if u := c.Usage(); u.Limit != int64(limit) || u.Used < int64(used)-1 {
		t.Errorf("usage %+v, org says %d/%d", u, used, limit)
	}
	org.SetAPIUsage(limit)
	_, err = c.Upsert(ctx, caseObject, caseRecords(1, 0, "Di"))
	if !errors.Is(err, ErrLimitExceeded) || !IsStop(err) {
		t.Errorf("daily limit: %v", err)
	}
}

// TestFakeOrgBudget: the budget stops the run before the org's limit.
func TestFakeOrgBudget(t *testing.T) {
	org, c := fakeOrg(t, func(o *Options) { o.Budget = 0.5 })
	org.SetDailyLimit(100)
	org.SetAPIUsage(48)
	ctx := context.Background()
	var err error
	for range 5 {
		if _, err = c.Describe(ctx, "Account"); err != nil {
			break
		}
		_, err = c.Read(ctx, "Account", "", func(connector.Record) error { return nil })
		if err != nil {
			break
		}
	}
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v", err)
	}
	if used, _ := org.APIUsage(); used > 50 {
		t.Errorf("org usage %d passed the budget of 50", used)
	}
}

// TestFakeOrgParentByKey: a child sets its master-detail parent by the
// parent's external id ("vcms__Case__r.vcms__External_Key__c"), with no Id
// lookup call.
func TestFakeOrgParentByKey(t *testing.T) {
	testParentByKey(t, false)
}

// TestFakeOrgParentByKeyBulk: the same through Bulk API 2.0, whose CSV
// header names the reference column the same way
// (vcms__Case__r.vcms__External_Key__c: RelationshipName.IndexedFieldName).
func TestFakeOrgParentByKeyBulk(t *testing.T) {
	testParentByKey(t, true)
}

func testParentByKey(t *testing.T, bulk bool) {
	org, c := fakeOrg(t, func(o *Options) {
		// Each object has its own key field, as in real orgs.
		o.KeyFields = map[string]string{"vcms__Assistance__c": "vcms__External_Service_Key__c"}
		if bulk {
			o.BulkThreshold, o.BulkPoll = 1, time.Millisecond
		}
	})
	ctx := context.Background()
	if _, err := c.Upsert(ctx, caseObject, caseRecords(2, 0, "Ed")); err != nil {
		t.Fatal(err)
	}
	org.ResetRequests()
	children := []connector.Record{
		{Key: "ngo-th-cm:AS-1", Fields: map[string]connector.Value{
			"vcms__Case__r.vcms__External_Key__c": connector.Text("NGO-TH-CM:TH-CL-00001"),
			"vcms__Service_Type__c":               connector.Text("Shelter"),
		}},
		{Key: "ngo-th-cm:AS-2", Fields: map[string]connector.Value{
			"vcms__Case__r.vcms__External_Key__c": connector.Text("ngo-th-cm:no-such-case"),
			"vcms__Service_Type__c":               connector.Text("Medical"),
		}},
		{Key: "ngo-th-cm:AS-3", Fields: map[string]connector.Value{
			"vcms__Nope__r.vcms__External_Key__c": connector.Text("x"),
		}},
	}
	res, err := c.Upsert(ctx, "vcms__Assistance__c", children)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatalf("child 0: %v", res[0].Err)
	}
	rec, ok := org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:AS-1")
	parent, _ := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-CL-00001")
	if !ok || rec.Fields["vcms__Case__c"] != parent.ID {
		t.Errorf("child's parent = %v, want %s", rec.Fields["vcms__Case__c"], parent.ID)
	}
	if res[1].Err == nil {
		t.Error("a missing parent key was accepted")
	} else {
		noValues(t, res[1].Err.Error(), "no-such-case")
	}
	if connector.CodeOf(res[2].Err) != connector.CodeUnknownField {
		t.Errorf("unknown relationship: %v", res[2].Err)
	}
	if n := org.CountRequests("query"); n != 0 {
		t.Errorf("%d queries to resolve parents", n)
	}
	if bulk {
		if n := org.CountRequests("bulk.ingest.upload"); n != 1 {
			t.Errorf("%d bulk uploads", n)
		}
		return
	}
	if n := org.CountRequests("collections.upsert"); n != 1 {
		t.Errorf("%d upsert calls", n)
	}
}

// TestFakeOrgBulk: above the threshold, writes go through one Bulk API 2.0
// job on the fake org; results come back per record.
func TestFakeOrgBulk(t *testing.T) {
	var jobs []string
	org, c := fakeOrg(t, func(o *Options) {
		o.BulkThreshold = 100
		o.BulkPoll = time.Millisecond
		o.OnBulkJob = func(_, _, id string) { jobs = append(jobs, id) }
	})
	ctx := context.Background()
	recs := caseRecords(250, 0, "Bulk")
	recs[7].Fields["vcms__First_Name__c"] = connector.Text(string(make([]byte, 81)) + "Somchai")
	recs[8].Fields["vcms__Stage__c"] = connector.Null()
	res, err := c.Upsert(ctx, caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Errorf("%d jobs", len(jobs))
	}
	if n := org.CountRequests("collections.upsert"); n != 0 {
		t.Errorf("%d collection calls", n)
	}
	for i, r := range res {
		if i == 7 {
			if connector.CodeOf(r.Err) != connector.CodeTooLong {
				t.Errorf("record 7: %v", r.Err)
			}
			continue
		}
		if r.Err != nil || !r.Created || r.ID == "" {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if got, ok := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-CL-00100"); !ok || got.Fields["vcms__First_Name__c"] != "Bulk" {
		t.Errorf("record not in the org: %+v", got)
	}
	// Update: now created is false.
	res, err = c.Upsert(ctx, caseObject, caseRecords(150, 0, "Again"))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Created {
		t.Errorf("update %+v", res[0])
	}
	var keys []string
	for i := range 120 {
		keys = append(keys, fmt.Sprintf("NGO-TH-CM:TH-CL-%05d", i))
	}
	keys = append(keys, "ngo-th-cm:none")
	res, err = c.Delete(ctx, caseObject, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:120] {
		if r.Err != nil {
			t.Fatalf("delete %d: %v", i, r.Err)
		}
	}
	if !errors.Is(res[120].Err, connector.ErrNotFound) {
		t.Errorf("missing key: %v", res[120].Err)
	}
	if _, ok := org.GetByExternalKey(caseObject, "ngo-th-cm:TH-CL-00100"); ok {
		t.Error("deleted record still live")
	}
	if len(jobs) != 3 {
		t.Errorf("%d jobs", len(jobs))
	}
}

// TestFakeOrgBulkQuery: a complete read through a Bulk API 2.0 query job
// gives the same records, values and cursor as the REST query.
func TestFakeOrgBulkQuery(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	recs := caseRecords(300, 0, "Query")
	recs[3].Fields["vcms__Citizenship__c"] = connector.Multi("TH", "MM")
	recs[4].Fields["vcms__Birthdate__c"] = connector.DateValue(connector.Date{Year: 2008, Month: 3, Day: 12})
	recs[5].Fields["vcms__Age_At_Identification__c"] = connector.Int(14)
	recs[6].Fields["vcms__Source_Modified_At__c"] = connector.DateTime(time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC))
	recs[7].Fields["vcms__First_Name__c"] = connector.Text("a,\"b\"\nc")
	if _, err := c.Upsert(ctx, caseObject, recs); err != nil {
		t.Fatal(err)
	}
	read := func(c *Connector) (map[string]connector.Record, connector.Cursor) {
		out := map[string]connector.Record{}
		cur, err := c.Read(ctx, caseObject, "", func(r connector.Record) error { out[r.ID] = r; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return out, cur
	}
	want, wantCur := read(c)
	var jobs []string
	c.opts.BulkQueryThreshold = 100
	c.opts.BulkPoll = time.Millisecond
	c.opts.OnBulkJob = func(_, op, id string) { jobs = append(jobs, op) }
	org.ResetRequests()
	got, gotCur := read(c)
	bulkCalls, queries := 0, 0
	for _, e := range org.Requests() {
		if strings.HasPrefix(e.Endpoint, "bulk") {
			bulkCalls++
		}
		if e.Endpoint == "query" {
			queries++
		}
	}
	if len(jobs) != 1 || jobs[0] != "query" || bulkCalls < 3 || queries != 1 {
		t.Fatalf("jobs %v, %d bulk calls, %d queries (want the COUNT() only)", jobs, bulkCalls, queries)
	}
	if len(got) != len(want) {
		t.Fatalf("bulk read %d records, REST %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g.Key != w.Key || !g.Modified.Equal(w.Modified) || (g.Err == nil) != (w.Err == nil) {
			t.Errorf("%s: bulk %+v, REST %+v", id, g, w)
		}
		for name, wv := range w.Fields {
			if gv := g.Fields[name]; !gv.Equal(wv) {
				t.Errorf("%s.%s: bulk %v (%s), REST %v (%s)", w.Key, name, gv, gv.Raw(), wv, wv.Raw())
			}
		}
	}
	if gotCur != wantCur {
		t.Errorf("cursors differ")
	}
}

func TestFakeOrgSOAP(t *testing.T) {
	_, c := fakeOrg(t, func(o *Options) {
		o.Auth = Auth{Flow: FlowSOAP, Username: sftest.DefaultUsername, Password: sftest.DefaultPassword}
	})
	if _, err := c.Describe(context.Background(), caseObject); err != nil {
		t.Fatal(err)
	}
	_, srv := sftest.NewServer(t, sftest.Options{})
	_, err := New(context.Background(), Options{LoginURL: srv.URL, HTTPClient: srv.Client(),
		Auth: Auth{Flow: FlowSOAP, Username: sftest.DefaultUsername, Password: "wrong"}})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "INVALID_LOGIN" {
		t.Errorf("bad password: %v", err)
	}
}

// SetKeys gives records a new key by their Id (a case created locally in
// a table whose key the database generates): the record keeps its Id and
// fields, its old key is gone, repeating it changes nothing, and a record
// without an Id or with a taken key fails alone.
func TestFakeOrgSetKeys(t *testing.T) {
	ctx := context.Background()
	_, c := fakeOrg(t, nil)
	res, err := c.Upsert(ctx, caseObject, []connector.Record{
		{Key: "gt:NEW-1", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("Cara")}},
		{Key: "gt:3", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("Dara")}},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("upsert: %v %+v", err, res)
	}
	id := res[0].ID
	for range 2 {
		out, err := c.SetKeys(ctx, caseObject, []connector.Record{{ID: id, Key: "gt:2"}, {Key: "gt:4"}})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Err != nil || out[0].Key != "gt:2" || out[0].ID != id {
			t.Fatalf("set key: %+v", out[0])
		}
		if connector.CodeOf(out[1].Err) != connector.CodeInvalidKey {
			t.Fatalf("no Id: %+v", out[1])
		}
	}
	out, err := c.SetKeys(ctx, caseObject, []connector.Record{{ID: id, Key: "gt:3"}}) // another record's key
	if err != nil {
		t.Fatal(err)
	}
	if connector.CodeOf(out[0].Err) != "DUPLICATE_VALUE" {
		t.Fatalf("a taken key: %+v", out[0])
	}
	var got []string
	err = c.ReadKeys(ctx, caseObject, []string{"gt:NEW-1", "gt:2"}, func(r connector.Record) error {
		got = append(got, r.Key+" "+r.ID+" "+r.Fields["vcms__First_Name__c"].Raw())
		return nil
	})
	if err != nil || len(got) != 1 || got[0] != "gt:2 "+id+" Cara" {
		t.Fatalf("read: %v %v", got, err)
	}
}

// TestFakeOrgBulkChangeRead: a change read whose first page says it has
// more than BulkQueryThreshold records (the first run after a large load
// reads back what the load wrote) goes on as one Bulk API 2.0 queryAll
// job, not page after page: each record is passed once, deletions
// included, and the cursor is the one the REST read gives.
func TestFakeOrgBulkChangeRead(t *testing.T) {
	org, c := fakeOrg(t, func(o *Options) { o.QueryBatchSize = 200 })
	ctx := context.Background()
	cur, err := c.Read(ctx, caseObject, "", func(connector.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upsert(ctx, caseObject, caseRecords(700, 0, "Ann")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, caseObject, []string{"ngo-th-cm:TH-CL-00003", "ngo-th-cm:TH-CL-00004"}); err != nil {
		t.Fatal(err)
	}
	read := func() (map[string]connector.Record, connector.Cursor, int, int) {
		org.ResetRequests()
		out := map[string]connector.Record{}
		next, err := c.Read(ctx, caseObject, cur, func(r connector.Record) error {
			if _, dup := out[r.Key]; dup {
				t.Errorf("%s passed twice", r.Key)
			}
			out[r.Key] = r
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		queries, bulk := 0, 0
		for _, e := range org.Requests() {
			switch {
			case strings.HasPrefix(e.Endpoint, "query"): // queryAll, its next pages
				queries++
			case strings.HasPrefix(e.Endpoint, "bulk"):
				bulk++
			}
		}
		return out, next, queries, bulk
	}
	want, wantCur, pages, _ := read() // page by page: 4 pages of 200
	if pages != 4 || len(want) != 700 {
		t.Fatalf("REST change read: %d pages, %d records", pages, len(want))
	}
	var jobs []string
	c.opts.BulkQueryThreshold, c.opts.BulkPoll = 300, time.Millisecond
	c.opts.OnBulkJob = func(_, op, _ string) { jobs = append(jobs, op) }
	got, gotCur, queries, bulk := read()
	if queries != 1 || len(jobs) != 1 || bulk < 3 {
		t.Errorf("bulk change read: %d query pages (want the first only), jobs %v, %d bulk calls", queries, jobs, bulk)
	}
	if len(got) != len(want) {
		t.Fatalf("bulk change read passed %d records, REST %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g.Deleted != w.Deleted || g.ID != w.ID || !g.Modified.Equal(w.Modified) || !g.Fields["vcms__First_Name__c"].Equal(w.Fields["vcms__First_Name__c"]) {
			t.Errorf("%s: bulk %+v, REST %+v", k, g, w)
		}
	}
	if !got["ngo-th-cm:TH-CL-00003"].Deleted {
		t.Error("a deleted record is not read as deleted")
	}
	if gotCur != wantCur {
		t.Error("the cursors differ")
	}
}
