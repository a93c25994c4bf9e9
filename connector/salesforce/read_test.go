package salesforce

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

const (
	queryPath    = "/services/data/v62.0/query"
	queryAllPath = "/services/data/v62.0/queryAll"
	locatorPath  = "/services/data/v62.0/query/01gxx0000002GJmAAM-2000"
	caseObject   = "vcms__Survivor_Case__c"
)

// TestDescribe: the recorded describe maps onto connector.Object (facts row
// describe), and is fetched once per connector.
func TestDescribe(t *testing.T) {
	f := newRecorded(t).withDescribe()
	c := f.connect(t, nil)
	o, err := c.Describe(context.Background(), caseObject)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != caseObject || o.Label != "Survivor Case" || o.Key != "vcms__External_Key__c" || o.Modified != "SystemModstamp" {
		t.Errorf("object = %s %q key %s modified %s", o.Name, o.Label, o.Key, o.Modified)
	}
	if o.Field("vcms__Visit_Location__c") != nil {
		t.Error("compound location field kept")
	}
	want := map[string]connector.Field{
		"vcms__External_Key__c": {Name: "vcms__External_Key__c", Label: "External Key", Type: connector.TypeString, Length: 80, Nillable: true, Createable: true, Updateable: true, ExternalID: true, Unique: true},
		"vcms__Stage__c": {Name: "vcms__Stage__c", Label: "Stage", Type: connector.TypePicklist, Length: 255, Nillable: true, Createable: true, Updateable: true, Restricted: true,
			Picklist: []string{"Identified", "Verification", "Plan_Pending", "Active", "Follow_Up", "Closed", "Closed_Referred"}},
		"vcms__Citizenship__c":            {Name: "vcms__Citizenship__c", Label: "Citizenship", Type: connector.TypeMultiPicklist, Length: 4099, Nillable: true, Createable: true, Updateable: true, Restricted: true, Picklist: []string{"TH", "KH", "MM", "LA", "BD", "GT", "HN", "SV"}},
		"vcms__Age_At_Identification__c":  {Name: "vcms__Age_At_Identification__c", Label: "Age At Identification", Type: connector.TypeDouble, Precision: 3, Nillable: true, Createable: true, Updateable: true},
		"vcms__Amount_Test__c":            {Name: "vcms__Amount_Test__c", Label: "Amount", Type: connector.TypeCurrency, Precision: 12, Scale: 2, Nillable: true, Createable: true, Updateable: true},
		"vcms__Partner_Org__c":            {Name: "vcms__Partner_Org__c", Label: "Partner Org", Type: connector.TypeReference, Nillable: true, Createable: true, Updateable: true, ReferenceTo: []string{"Account"}, Relationship: "vcms__Partner_Org__r"},
		"vcms__Legal_Working_Age_Date__c": {Name: "vcms__Legal_Working_Age_Date__c", Label: "Legal Working Age Date", Type: connector.TypeDate, Nillable: true, Calculated: true},
		"vcms__Birthdate_Estimated__c":    {Name: "vcms__Birthdate_Estimated__c", Label: "Birthdate Estimated", Type: connector.TypeBoolean, Createable: true, Updateable: true},
		"vcms__Case_Notes__c":             {Name: "vcms__Case_Notes__c", Label: "Case Notes", Type: connector.TypeTextArea, Length: 32768, Nillable: true, Createable: true, Updateable: true},
		"SystemModstamp":                  {Name: "SystemModstamp", Label: "System Modstamp", Type: connector.TypeDateTime},
		"Name":                            {Name: "Name", Label: "Case Number", Type: connector.TypeString, Length: 80, Calculated: true},
		"Id":                              {Name: "Id", Label: "Record ID", Type: connector.TypeID, CaseSensitive: true},
	}
	for name, w := range want {
		got := o.Field(name)
		if got == nil {
			t.Errorf("missing field %s", name)
			continue
		}
		if !fieldEqual(*got, w) {
			t.Errorf("field %s\n got %+v\nwant %+v", name, *got, w)
		}
	}
	// Cached: a second describe costs nothing; the copy is the caller's.
	o.Fields[0].Name = "changed"
	o2, _ := c.Describe(context.Background(), caseObject)
	if o2.Fields[0].Name == "changed" {
		t.Error("Describe returned the cached object itself")
	}
	if n := len(f.requests("GET " + describePath)); n != 1 {
		t.Errorf("%d describe calls, want 1", n)
	}
	c.ForgetDescribes()
	if _, err := c.Describe(context.Background(), caseObject); err != nil || len(f.requests("GET "+describePath)) != 2 {
		t.Errorf("ForgetDescribes: %v", err)
	}
	// Unknown object: 404 NOT_FOUND -> ErrObjectNotFound.
	if _, err := c.Describe(context.Background(), "vcms__Nope__c"); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("unknown object: %v", err)
	}
	if _, err := c.Describe(context.Background(), "Bad Name'--"); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("invalid name: %v", err)
	}
}

func fieldEqual(a, b connector.Field) bool {
	return a.Name == b.Name && a.Label == b.Label && a.Type == b.Type && a.Length == b.Length && a.Precision == b.Precision &&
		a.Scale == b.Scale && a.Nillable == b.Nillable && a.Createable == b.Createable && a.Updateable == b.Updateable &&
		a.ExternalID == b.ExternalID && a.Unique == b.Unique && a.CaseSensitive == b.CaseSensitive &&
		slices.Equal(a.Picklist, b.Picklist) && a.Restricted == b.Restricted && slices.Equal(a.ReferenceTo, b.ReferenceTo) &&
		a.Relationship == b.Relationship && a.Calculated == b.Calculated
}

func pagedQuery(f *recorded) {
	f.handle("GET "+queryPath, f.file(200, "query_page1.json"))
	f.handle("GET "+locatorPath, f.file(200, "query_page2.json"))
}

func dec(s string) connector.Value { return connector.Number(decimal.RequireFromString(s)) }

// TestReadFull: query pages are followed through nextRecordsUrl with
// batchSize 2000, and values decode exactly per describe type (facts row
// query: datetimes, json.Number, nulls, multi-select).
func TestReadFull(t *testing.T) {
	f := newRecorded(t).withDescribe()
	pagedQuery(f)
	c := f.connect(t, nil)
	var recs []connector.Record
	cur, err := c.Read(context.Background(), caseObject, "", func(r connector.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	q := f.requests("GET " + queryPath)
	if len(q) != 1 || q[0].Header.Get("Sforce-Query-Options") != "batchSize=2000" {
		t.Fatalf("query requests %+v", q)
	}
	soql := q[0].Query["q"][0]
	if !strings.HasPrefix(soql, "SELECT Id, IsDeleted, Name, SystemModstamp, vcms__External_Key__c,") ||
		!strings.HasSuffix(soql, " FROM vcms__Survivor_Case__c ORDER BY SystemModstamp, Id") || strings.Contains(soql, "Visit_Location") {
		t.Errorf("soql = %s", soql)
	}
	if n := len(f.requests("GET " + locatorPath)); n != 1 {
		t.Errorf("%d locator requests", n)
	}

	r := recs[0]
	if r.Key != "ngo-th-cm:TH-CL-0001" || r.ID != "a01xx0000000001AAA" || r.Err != nil || r.Deleted {
		t.Errorf("record 1 = key %q id %q err %v", r.Key, r.ID, r.Err)
	}
	if !r.Modified.Equal(time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("Modified = %v", r.Modified)
	}
	want := map[string]connector.Value{
		"vcms__First_Name__c":            connector.Text("สมชาย"),
		"vcms__Stage__c":                 connector.Text("Active"),
		"vcms__Citizenship__c":           connector.Multi("MM", "TH"),
		"vcms__Birthdate__c":             connector.DateValue(connector.Date{Year: 2008, Month: 3, Day: 12}),
		"vcms__Birthdate_Estimated__c":   connector.Bool(true),
		"vcms__Age_At_Identification__c": dec("14"),
		"vcms__Amount_Test__c":           dec("3000.10"),
		"vcms__Source_Modified_At__c":    connector.DateTime(time.Date(2024, 1, 14, 16, 59, 59, 0, time.UTC)),
		"vcms__Partner_Org__c":           connector.Text("001xx000003DGb2AAG"),
		"vcms__Case_Notes__c":            connector.Null(),
		"vcms__External_Key__c":          connector.Text("ngo-th-cm:TH-CL-0001"),
	}
	for k, w := range want {
		if got := r.Fields[k]; !got.Equal(w) {
			t.Errorf("%s = %v (%s), want %v", k, got, got.Raw(), w)
		}
	}
	if got := recs[1].Fields["vcms__Amount_Test__c"]; got.Raw() != "12345678901.99" {
		t.Errorf("large currency = %s (float64 would lose it)", got.Raw())
	}
	if got := recs[1].Fields["vcms__Case_Notes__c"]; got.Raw() != "line one\nline two" {
		t.Error("text with newline")
	}
	if got := recs[1].Fields["vcms__Citizenship__c"]; !got.IsNull() {
		t.Error("null multi-select")
	}
	// Record 3 has no key: passed as NO_KEY with its Id and fields (the
	// engine may pair it by match_on or adopt it); the error names no value.
	if r3 := recs[2]; r3.Err == nil || connector.CodeOf(r3.Err) != connector.CodeNoKey || r3.ID != "a01xx0000000003AAA" || r3.Key != "" || len(r3.Fields) == 0 {
		t.Errorf("keyless record: %+v", r3)
	} else {
		noValues(t, r3.Err.Error(), "Ana")
	}
	if !recs[2].Modified.Equal(time.Date(2024, 1, 16, 8, 0, 1, 123e6, time.UTC)) {
		t.Errorf("SystemModstamp keeps ms: %v", recs[2].Modified)
	}
	st, err := decodeCursor(cur)
	if err != nil || !st.T.Equal(recs[2].Modified) || st.ID != "a01xx0000000003AAA" || len(st.Seen) != 1 {
		t.Errorf("cursor %+v %v", st, err)
	}
}

// TestReadIncremental: with a cursor, queryAll from the cursor's time less
// the look-back window; records already passed on with the same
// SystemModstamp are skipped; deleted records come with Deleted.
func TestReadIncremental(t *testing.T) {
	f := newRecorded(t).withDescribe()
	pagedQuery(f)
	c := f.connect(t, func(o *Options) { o.LookBack = 48 * time.Hour })
	cur, err := c.Read(context.Background(), caseObject, "", func(connector.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Second read: the window holds the same three records, one changed
	// and one deleted since.
	changed := `{"totalSize":3,"done":true,"records":[
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000001AAA","IsDeleted":false,"SystemModstamp":"2024-01-15T10:30:00.000+0000","vcms__External_Key__c":"ngo-th-cm:TH-CL-0001"},
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000003AAA","IsDeleted":false,"SystemModstamp":"2024-01-16T08:00:01.123+0000","vcms__External_Key__c":null},
	 {"attributes":{"type":"vcms__Survivor_Case__c"},"Id":"a01xx0000000002AAA","IsDeleted":true,"SystemModstamp":"2024-01-16T09:00:00.000+0000","vcms__External_Key__c":"ngo-kh-bb:KH-0042"}]}`
	f.handle("GET "+queryAllPath, raw(200, changed))
	var got []connector.Record
	cur2, err := c.Read(context.Background(), caseObject, cur, func(r connector.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	qa := f.requests("GET " + queryAllPath)
	if len(qa) != 1 {
		t.Fatalf("%d queryAll calls", len(qa))
	}
	if soql := qa[0].Query["q"][0]; !strings.Contains(soql, " WHERE SystemModstamp >= 2024-01-14T08:00:01Z ORDER BY SystemModstamp, Id") {
		t.Errorf("soql = %s", soql)
	}
	if len(got) != 1 || got[0].Key != "ngo-kh-bb:KH-0042" || !got[0].Deleted {
		t.Fatalf("incremental read passed %d records: %+v", len(got), got)
	}
	// A third read with nothing new passes nothing.
	got = nil
	if _, err := c.Read(context.Background(), caseObject, cur2, func(r connector.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("unchanged re-read passed %d records", len(got))
	}
	if _, err := c.Read(context.Background(), caseObject, "garbage", func(connector.Record) error { return nil }); err == nil {
		t.Error("malformed cursor accepted")
	}
}

// TestReadCursorAtServerTime: the change cursor stands at the org's time
// before the query (the Date of an earlier response), not at the newest
// record read: the next read asks only for what changed since then, less
// the look-back, instead of the look-back before the newest record again.
func TestReadCursorAtServerTime(t *testing.T) {
	f := newRecorded(t).withDescribe()
	pagedQuery(f)
	server := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) // after every record
	f.date = server
	c := f.connect(t, nil)
	cur, err := c.Read(context.Background(), caseObject, "", func(connector.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeCursor(cur)
	if err != nil || !st.T.Equal(server.Add(-time.Second)) || len(st.Seen) != 0 {
		t.Fatalf("cursor %+v %v, want the server's time less a second", st, err)
	}
	f.handle("GET "+queryAllPath, raw(200, `{"totalSize":0,"done":true,"records":[]}`))
	if _, err := c.Read(context.Background(), caseObject, cur, func(connector.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	q := f.requests("GET " + queryAllPath)
	if len(q) == 0 || !strings.Contains(q[0].Query["q"][0], "SystemModstamp >= 2024-03-01T11:54:59Z") {
		t.Errorf("incremental query %v", q)
	}
}

// TestReadSelectsFields: a read asked for some fields (connector.WithFields)
// selects those, with Id, IsDeleted, the key and SystemModstamp, not every
// field of the object.
func TestReadSelectsFields(t *testing.T) {
	f := newRecorded(t).withDescribe()
	pagedQuery(f)
	c := f.connect(t, nil)
	ctx := connector.WithFields(context.Background(), []string{"vcms__stage__c", "vcms__First_Name__c", "No_Such__c"})
	if _, err := c.Read(ctx, caseObject, "", func(connector.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	soql := f.requests("GET " + queryPath)[0].Query["q"][0]
	sel, _, _ := strings.Cut(strings.TrimPrefix(soql, "SELECT "), " FROM ")
	got := strings.Split(sel, ", ")
	slices.Sort(got)
	want := []string{"Id", "IsDeleted", "SystemModstamp", "vcms__External_Key__c", "vcms__First_Name__c", "vcms__Stage__c"}
	if !slices.Equal(got, want) {
		t.Errorf("selected %v, want %v", got, want)
	}
}

// TestListKeys: SELECT Id, key; records without a key are not listed.
func TestListKeys(t *testing.T) {
	f := newRecorded(t).withDescribe()
	pagedQuery(f)
	c := f.connect(t, nil)
	var keys []string
	if err := c.ListKeys(context.Background(), caseObject, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"ngo-th-cm:TH-CL-0001", "ngo-kh-bb:KH-0042"}) {
		t.Errorf("keys = %v", keys)
	}
	if soql := f.requests("GET " + queryPath)[0].Query["q"][0]; soql != "SELECT Id, vcms__External_Key__c FROM vcms__Survivor_Case__c" {
		t.Errorf("soql = %s", soql)
	}
}

// TestReadKeysChunked: keys are de-duplicated, quoted, and split so each
// statement stays under the URL limit.
func TestReadKeysChunked(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("GET "+queryPath, raw(200, `{"totalSize":0,"done":true,"records":[]}`))
	c := f.connect(t, nil)
	var keys []string
	for i := range 1500 {
		keys = append(keys, "ngo-th-cm:ทดสอบ'"+strings.Repeat("ก", 20)+string(rune('a'+i%26))+strings.Repeat("x", i%7)+"-"+itoa(i))
	}
	keys = append(keys, keys[0], "  "+keys[1]+" ", "", "NGO-TH-CM:ทดสอบ'"+keys[2][len("ngo-th-cm:ทดสอบ'"):])
	if err := c.ReadKeys(context.Background(), caseObject, keys, func(connector.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("GET " + queryPath)
	if len(reqs) < 2 {
		t.Fatalf("%d queries: not chunked", len(reqs))
	}
	total := 0
	for _, r := range reqs {
		soql := r.Query["q"][0]
		if n := len(url.QueryEscape(soql)); n > maxQueryURL {
			t.Errorf("statement of %d encoded characters", n)
		}
		total += strings.Count(soql, `ทดสอบ\'`)
	}
	if total != 1500 {
		t.Errorf("%d keys queried, want 1500 (deduplicated, case-insensitive)", total)
	}
}

func itoa(i int) string { return decimal.NewFromInt(int64(i)).String() }

// TestQueryNotDoneWithoutLocator: a page that is not done and has no
// nextRecordsUrl (or one pointing elsewhere) is malformed, not a loop.
func TestQueryNotDoneWithoutLocator(t *testing.T) {
	for _, next := range []string{"", "https://evil.example/services/data/v62.0/query/x", "/other"} {
		f := newRecorded(t).withDescribe()
		f.handle("GET "+queryPath, func(w http.ResponseWriter, r *http.Request) {
			raw(200, `{"totalSize":5,"done":false,"nextRecordsUrl":"`+next+`","records":[]}`)(w, r)
		})
		c := f.connect(t, nil)
		err := c.ListKeys(context.Background(), caseObject, func(string) error { return nil })
		if !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("next %q: err = %v", next, err)
		}
	}
}

func TestDecodeValueErrors(t *testing.T) {
	tests := []struct {
		typ connector.FieldType
		v   any
	}{
		{connector.TypeDouble, "Somchai"},
		{connector.TypeDate, "15/01/2024"},
		{connector.TypeDateTime, "2024-01-15 10:30"},
		{connector.TypeBoolean, "Somchai"},
		{connector.TypeString, map[string]any{"a": 1}},
		{connector.TypeMultiPicklist, true},
	}
	for _, tt := range tests {
		_, err := decodeValue(&connector.Field{Name: "F", Type: tt.typ}, tt.v)
		if err == nil {
			t.Errorf("%s %v: no error", tt.typ, tt.v)
			continue
		}
		noValues(t, err.Error(), "Somchai", "15/01", "10:30")
	}
}
