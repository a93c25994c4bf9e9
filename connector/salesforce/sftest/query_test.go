package sftest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (c *tclient) query(q string, hdr ...string) (int, []byte) {
	c.t.Helper()
	resp, b := c.do("GET", v+"/query?q="+url.QueryEscape(q), "", hdr...)
	return resp.StatusCode, b
}

type queryPage struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []map[string]any
}

func decodePage(t *testing.T, b []byte) queryPage {
	t.Helper()
	var p queryPage
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return p
}

func TestQueryShape(t *testing.T) {
	c := newTestClient(t, Options{})
	st, b := c.query("SELECT Id, Name, vcms__External_Key__c, CreatedDate FROM Account WHERE vcms__Org_Type__c = 'corporatebusiness' ORDER BY Name")
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	assertJSON(t, b, "query_accounts.json")
	if !strings.Contains(string(b), `"url":"/services/data/v62.0/sobjects/Account/001`) {
		t.Errorf("attributes.url: %s", b)
	}
	st, b = c.query(`SELECT vcms__External_Key__c, vcms__Partner_Org__r.Name, Owner.Email, vcms__Partner_Org__r.vcms__External_Key__c,
		vcms__Age_At_Identification__c, vcms__Birthdate__c FROM vcms__Survivor_Case__c WHERE vcms__Age_At_Identification__c != null ORDER BY vcms__External_Key__c`)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	assertJSON(t, b, "query_parent_paths.json")
	if !strings.Contains(string(b), `"vcms__Age_At_Identification__c":13.0`) {
		t.Errorf("numbers should print like Salesforce's doubles: %s", b)
	}
	st, b = c.query("SELECT COUNT() FROM vcms__Survivor_Case__c")
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	assertJSON(t, b, "query_count.json")
	st, b = c.query("SELECT COUNT(vcms__Legal_Working_Age__c) FROM vcms__Survivor_Case__c")
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	assertJSON(t, b, "query_aggregate.json")
}

func keysOf(t *testing.T, b []byte) string {
	t.Helper()
	var keys []string
	for _, r := range decodePage(t, b).Records {
		k, _ := r["vcms__External_Key__c"].(string)
		keys = append(keys, k)
	}
	return strings.Join(keys, " ")
}

const (
	th = "ngo-th-cm:TH-CL-0001"
	kh = "ngo-kh-bb:KH-RT-24-031"
	bd = "ngo-bd-dk:BD-REM-0012"
	gt = "ngo-gt-db:casos:42"
)

func TestQueryWhere(t *testing.T) {
	c := newTestClient(t, Options{}) // clock: 2024-04-10T08:00:00.123Z
	sel := "SELECT vcms__External_Key__c FROM vcms__Survivor_Case__c "
	for _, tc := range []struct{ where, want string }{
		{"", th + " " + kh + " " + bd + " " + gt},
		{"WHERE vcms__Stage__c = 'active'", th},
		{"WHERE vcms__Stage__c != 'Active'", kh + " " + bd + " " + gt},
		{"WHERE vcms__Stage__c <> 'Active' AND vcms__Gender__c = 'Masculine'", kh + " " + bd},
		{"WHERE vcms__Trafficking_Status__c != 'ActualVictimOfTrafficking'", th + " " + bd + " " + gt}, // != matches null
		{"WHERE vcms__Trafficking_Status__c = null", th + " " + bd},
		{"WHERE vcms__Birthdate__c < 2009-01-01", kh},
		{"WHERE vcms__Birthdate__c >= 2008-01-01", th + " " + kh},
		{"WHERE vcms__Identification_Date__c = LAST_N_DAYS:7", th + " " + kh + " " + bd},
		{"WHERE vcms__Identification_Date__c < LAST_N_DAYS:7", gt},
		{"WHERE vcms__Identification_Date__c = YESTERDAY", ""},
		{"WHERE CreatedDate = TODAY", ""},
		{"WHERE CreatedDate = LAST_N_DAYS:7", th + " " + kh + " " + bd + " " + gt},
		{"WHERE vcms__Source_Modified_At__c > 2024-04-02T09:15:00Z", th},
		{"WHERE vcms__Source_Modified_At__c >= 2024-04-02T16:15:00+07:00", th + " " + kh},
		{"WHERE vcms__Source_Modified_At__c < 2024-04-03T00:00:00.000Z ORDER BY vcms__Source_Modified_At__c", gt + " " + kh},
		{"WHERE vcms__Age_Verified__c = TRUE", th},
		{"WHERE vcms__Age_Verified__c = null", kh + " " + bd + " " + gt}, // boolean = null means = false
		{"WHERE vcms__Legal_Working_Age__c = 15", th + " " + kh},
		{"WHERE vcms__Age_At_Identification__c > 13.5", th},
		{"WHERE vcms__Age_At_Identification__c < 20", th + " " + bd}, // < never matches null
		{"WHERE vcms__Case_Code__c LIKE 'th-%'", th},
		{"WHERE vcms__Case_Code__c LIKE '%-0_12'", bd},
		{"WHERE vcms__Source_System__c IN ('ngo-kh-bb', 'NGO-BD-DK')", kh + " " + bd},
		{"WHERE vcms__Source_System__c NOT IN ('ngo-kh-bb', 'ngo-bd-dk')", th + " " + gt},
		{"WHERE vcms__Citizenship__c INCLUDES ('TH;MM', 'GT')", th + " " + gt},
		{"WHERE vcms__Citizenship__c INCLUDES ('TH;KH')", ""},
		{"WHERE vcms__Citizenship__c EXCLUDES ('TH', 'KH')", bd + " " + gt},
		{"WHERE vcms__Citizenship__c = 'MM;TH'", th},
		{"WHERE vcms__Type_Of_Exploitation__c INCLUDES ('SexualExploitation')", gt},
		{"WHERE NOT vcms__Stage__c = 'Active'", kh + " " + bd + " " + gt},
		{"WHERE (vcms__Stage__c = 'Active' OR vcms__Stage__c = 'Closed') AND vcms__Gender__c = 'Feminine'", th + " " + gt},
		{"WHERE vcms__Stage__c = 'Closed' OR (vcms__Gender__c = 'Masculine' AND vcms__Birthdate_Estimated__c = false)", gt},
		{"WHERE vcms__Stage__c = 'Closed' OR (vcms__Gender__c = 'Masculine' AND vcms__Birthdate__c != null)", kh + " " + gt},
		{"WHERE NOT (vcms__Gender__c = 'Feminine' OR vcms__Stage__c = 'Identified')", kh},
		{"WHERE vcms__Partner_Org__r.vcms__External_Key__c = 'SEED:ACCOUNT:NGO-EJEMPLO'", th + " " + kh},
		{"WHERE Owner.Email = 'integration@casebridge.example' AND vcms__Stage__c = 'Closed'", gt},
		{"WHERE vcms__Last_Name__c = 'Ejemplo Prueba' AND vcms__First_Name__c = 'María José'", gt},
		{"WHERE vcms__Case_Code__c = 'it\\'s'", ""},
		{"ORDER BY vcms__Trafficking_Status__c, vcms__Case_Code__c DESC", th + " " + bd + " " + kh + " " + gt},
		{"ORDER BY vcms__Trafficking_Status__c DESC NULLS LAST, vcms__Case_Code__c", gt + " " + kh + " " + bd + " " + th},
		{"ORDER BY vcms__Birthdate__c ASC NULLS LAST LIMIT 2", kh + " " + th},
		{"ORDER BY vcms__Case_Code__c LIMIT 2 OFFSET 1", gt + " " + kh},
		{"ORDER BY vcms__Case_Code__c OFFSET 10", ""},
	} {
		t.Run(tc.where, func(t *testing.T) {
			st, b := c.query(sel + tc.where)
			if st != 200 {
				t.Fatalf("%d %s", st, b)
			}
			if got := keysOf(t, b); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	c := newTestClient(t, Options{})
	const wsdl = " Please reference your WSDL or the describe call for the appropriate names."
	for _, tc := range []struct{ q, code, msg string }{
		{"SELECT Id FROM Nope__c", "INVALID_TYPE",
			"\nSELECT Id FROM Nope__c\n               ^\nERROR at Row:1:Column:16\nsObject type 'Nope__c' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name." + wsdl},
		{"SELECT Id, Foo FROM Account", "INVALID_FIELD",
			"\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name." + wsdl},
		{"SELECT Id, vcms__Case__c.Name FROM vcms__Assistance__c", "INVALID_FIELD",
			"\nSELECT Id, vcms__Case__c.Name FROM vcms__Assistance__c\n           ^\nERROR at Row:1:Column:12\nDidn't understand relationship 'vcms__Case__c' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name." + wsdl},
		{"SELECT Id\nFROM Account\nWHERE Nme = 'x'", "INVALID_FIELD",
			"\nWHERE Nme = 'x'\n      ^\nERROR at Row:3:Column:7\nNo such column 'Nme' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name." + wsdl},
		{"SELECT FROM Account", "MALFORMED_QUERY", "\nSELECT FROM Account\n       ^\nERROR at Row:1:Column:8\nunexpected token: 'FROM'"},
		{"SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: <EOF>"},
		{"SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY",
			"\nSELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'\n                                                       ^\nERROR at Row:1:Column:56\nunexpected token: 'OR'"},
		{"SELECT Id FROM Account WHERE CreatedDate > '2024-01-01T00:00:00Z'", "INVALID_FIELD",
			"\nSELECT Id FROM Account WHERE CreatedDate > '2024-01-01T00:00:00Z'\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"SELECT Id FROM Account WHERE Id = 'x'", "INVALID_QUERY_FILTER_OPERATOR",
			"\nSELECT Id FROM Account WHERE Id = 'x'\n                             ^\nERROR at Row:1:Column:30\ninvalid ID field: x"},
		{"SELECT Id FROM vcms__Survivor_Case__c WHERE vcms__Legal_Working_Age__c = '15'", "INVALID_FIELD",
			"\nSELECT Id FROM vcms__Survivor_Case__c WHERE vcms__Legal_Working_Age__c = '15'\n                                            ^\nERROR at Row:1:Column:45\nvalue of filter criterion for field 'vcms__Legal_Working_Age__c' must be of type double and should not be enclosed in quotes"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			st, b := c.query(tc.q)
			if st != 400 {
				t.Fatalf("%d %s", st, b)
			}
			want, _ := json.Marshal([]map[string]string{{"message": tc.msg, "errorCode": tc.code}})
			assertJSON(t, b, string(want))
		})
	}
	st, b := c.query("SELECT Id FROM Account LIMIT 5 OFFSET 2001")
	if st != 400 || !strings.Contains(string(b), "NUMBER_OUTSIDE_VALID_RANGE") {
		t.Errorf("offset > 2000: %d %s", st, b)
	}
}

func TestQueryPaging(t *testing.T) {
	c := newTestClient(t, Options{})
	for i := 0; i < 2496; i++ {
		if _, err := c.org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Test Paging %04d", i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	q := "SELECT Id, Name FROM Account ORDER BY Name"
	// Default batch 2000.
	st, b := c.query(q)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	p := decodePage(t, b)
	if p.TotalSize != 2500 || p.Done || len(p.Records) != 2000 || !strings.HasPrefix(p.NextRecordsURL, v+"/query/01g") || !strings.HasSuffix(p.NextRecordsURL, "-2000") {
		t.Fatalf("first page: total %d done %v n %d next %q", p.TotalSize, p.Done, len(p.Records), p.NextRecordsURL)
	}
	resp, b := c.do("GET", p.NextRecordsURL, "")
	assertStatus(t, resp, b, 200)
	p2 := decodePage(t, b)
	if !p2.Done || len(p2.Records) != 500 || p2.NextRecordsURL != "" || p2.TotalSize != 2500 {
		t.Fatalf("last page: %+v", p2)
	}
	if _, ok := decodeJSON(t, b).(map[string]any)["nextRecordsUrl"]; ok {
		t.Error("last page has nextRecordsUrl")
	}
	// batchSize is clamped to 200..2000.
	for _, tc := range []struct {
		opt  string
		want int
	}{{"batchSize=50", 200}, {"batchSize=700", 700}, {"batchSize=5000", 2000}} {
		st, b := c.query(q, "Sforce-Query-Options: "+tc.opt)
		if p := decodePage(t, b); st != 200 || len(p.Records) != tc.want {
			t.Errorf("%s: %d records", tc.opt, len(p.Records))
		}
	}
	// Locators expire after 15 idle minutes.
	_, b = c.query(q, "Sforce-Query-Options: batchSize=200")
	next := decodePage(t, b).NextRecordsURL
	c.org.SetClock(func() time.Time { return testNow.Add(16 * time.Minute) })
	resp, b = c.do("GET", next, "")
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`)
	// Ten open cursors per user, the oldest is released.
	var urls []string
	for i := 0; i < 11; i++ {
		_, b := c.query(q)
		urls = append(urls, decodePage(t, b).NextRecordsURL)
	}
	if resp, b := c.do("GET", urls[0], ""); resp.StatusCode != 400 {
		t.Errorf("oldest cursor still open: %d %s", resp.StatusCode, b)
	}
	if resp, b := c.do("GET", urls[10], ""); resp.StatusCode != 200 {
		t.Errorf("newest cursor: %d %s", resp.StatusCode, b)
	}
}

func TestQueryAllShowsDeleted(t *testing.T) {
	c := newTestClient(t, Options{})
	rec, _ := c.org.GetByExternalKey("vcms__Monitoring_Visit__c", "ngo-kh-bb:KH-RT-24-031:visit:2024-04-02")
	resp, b := c.do("DELETE", v+"/sobjects/vcms__Monitoring_Visit__c/"+rec.ID, "")
	assertStatus(t, resp, b, 204)
	q := url.QueryEscape("SELECT Id, IsDeleted FROM vcms__Monitoring_Visit__c")
	resp, b = c.do("GET", v+"/query?q="+q, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"totalSize":0,"done":true,"records":[]}`)
	resp, b = c.do("GET", v+"/queryAll?q="+q, "")
	assertStatus(t, resp, b, 200)
	assertJSON(t, b, `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"vcms__Monitoring_Visit__c","url":"<any>"},"Id":"`+rec.ID+`","IsDeleted":true}]}`)
}

// TestQueryKeysetCursor is the client's incremental read: (SystemModstamp, Id)
// keyset paging with case-sensitive Id comparison in creation order.
func TestQueryKeysetCursor(t *testing.T) {
	c := newTestClient(t, Options{Empty: true})
	var ids []string
	for i := 0; i < 60; i++ {
		id, err := c.org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Test Keyset %02d", i)}, false)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var got []string
	last := ""
	for {
		q := "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > 2024-04-10T08:00:00.123Z OR (SystemModstamp = 2024-04-10T08:00:00.123Z AND Id > '" + last + "') ORDER BY SystemModstamp, Id LIMIT 7"
		if last == "" {
			q = "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp, Id LIMIT 7"
		}
		st, b := c.query(q)
		if st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		p := decodePage(t, b)
		if len(p.Records) == 0 {
			break
		}
		for _, r := range p.Records {
			got = append(got, r["Id"].(string))
			last = r["Id"].(string)
		}
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("keyset paging returned %d ids, out of creation order", len(got))
	}
	resp, b := c.do("POST", v+"/sobjects/Account", `[{"Name":"x"}]`)
	assertStatus(t, resp, b, 400)
	assertJSON(t, b, `[{"message":"Cannot deserialize instance of Account from START_ARRAY value [ or request may be missing a required field at [line:1, column:2]","errorCode":"JSON_PARSER_ERROR"}]`)
}
