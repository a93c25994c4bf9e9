package sftest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkCollectionsUpsert measures one 200-record upsert call against an
// org holding 20,000 cases.
func BenchmarkCollectionsUpsert(b *testing.B) {
	org := New(Options{Empty: true})
	for i := 0; i < 20000; i++ {
		if _, err := org.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__External_Key__c": fmt.Sprintf("bench:%d", i)}, false); err != nil {
			b.Fatal(err)
		}
	}
	var recs []string
	for i := 0; i < 200; i++ {
		recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"vcms__Survivor_Case__c"},"vcms__External_Key__c":"bench:%d","vcms__Stage__c":"Active"}`, i*37))
	}
	body := collectionBody(false, recs...)
	h := org.Handler()
	tok := org.IssueToken(DefaultUsername)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := newBenchRecorder()
		req := benchRequest("PATCH", v+"/composite/sobjects/vcms__Survivor_Case__c/vcms__External_Key__c", body, tok)
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkQueryPage measures a 2000-record query page over 20,000 cases.
func BenchmarkQueryPage(b *testing.B) {
	org := New(Options{Empty: true})
	for i := 0; i < 20000; i++ {
		_, _ = org.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__External_Key__c": fmt.Sprintf("bench:%d", i), "vcms__Stage__c": "Active"}, false)
	}
	h := org.Handler()
	tok := org.IssueToken(DefaultUsername)
	q := url.QueryEscape("SELECT Id, vcms__External_Key__c, vcms__Stage__c, SystemModstamp FROM vcms__Survivor_Case__c WHERE vcms__Stage__c = 'Active' ORDER BY SystemModstamp, Id")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := newBenchRecorder()
		h.ServeHTTP(w, benchRequest("GET", v+"/query?q="+q, "", tok))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"nextRecordsUrl"`) {
			b.Fatalf("%d", w.Code)
		}
	}
}
