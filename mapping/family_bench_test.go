package mapping

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// BenchmarkThaiTrackerRow maps the Thai tracker's rows (fixtures/sheets)
// to their families: a case and its stipend and school records. Consent is
// set to granted on every row so that every rule runs; lookups go through
// a per-run cache, as in a sync.
func BenchmarkThaiTrackerRow(b *testing.B) {
	m := compileJob(b, "th.yaml", "th_cases")
	_, rows := thTracker(b)
	recs := make([]connector.Record, len(rows))
	for i, r := range rows {
		r["ยินยอม"] = "ยินยอม"
		recs[i] = textRow(thKey, r)
	}
	res := NewCachedResolver(thAccounts)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.ToSalesforce(ctx, recs[i%len(recs)], res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkThaiTrackerReverse maps a changed Salesforce case back to the
// cells of its current row.
func BenchmarkThaiTrackerReverse(b *testing.B) {
	m := compileJob(b, "th.yaml", "th_cases")
	_, rows := thTracker(b)
	cur := textRow(thKey, rows[0])
	sf := connector.Record{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{
		"vcms__Stage__c": connector.Text("Follow_Up"), "vcms__Last_Name__c": connector.Text("ทดสอบ"),
		"vcms__Birthdate__c": date(2008, 3, 13), "vcms__Gender__c": connector.Text("Feminine"),
		"vcms__Consent_Status__c": connector.Text("Granted"),
	}}
	b.ReportAllocs()
	for b.Loop() {
		m.ToLocal("vcms__Survivor_Case__c", sf, &cur)
	}
}
