package schedules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

const costConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "cost:" }
    fields:
      - { sf: vcms__Last_Name__c, local: Name, pii: direct }
      - { sf: vcms__Stage__c, local: Stage }
`

// costFixture is a job of n cases on a fake org whose clock the test
// moves, and a counter of the requests the org received.
type costFixture struct {
	r   *Runner
	org *sftest.Org
	now time.Time
}

func newCostFixture(t testing.TB, n int) *costFixture {
	t.Helper()
	f := &costFixture{now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	org, srv := sftest.NewServer(t, sftest.Options{Now: func() time.Time { return f.now }})
	f.org = org
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Case ID,Name,Stage\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "C-%05d,ทดสอบ %d,Active\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f.r = openRunner(t, dir, costConfig, srv.URL)
	return f
}

// run runs the job an hour after the last run (as a schedule has them)
// and returns its result and the data requests the org received.
func (f *costFixture) run(t testing.TB, opts RunOptions) (*JobResult, int) {
	t.Helper()
	f.now = f.now.Add(time.Hour)
	f.org.ResetRequests()
	res, err := f.r.Run(context.Background(), "cases", opts)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, e := range f.org.Requests() {
		if !strings.HasPrefix(e.Endpoint, "oauth.") {
			calls++
		}
	}
	return res, calls
}

// TestNoopRunCost: a run with nothing changed costs at most 3 API calls at
// any size (issue 13): Salesforce is read from a change cursor at the
// org's time of the last read (not at the newest record, which made every
// run after a load re-read the whole load), deletes are seen through
// queryAll, and the complete key listing waits for key_list_every. 600
// and 4,500 cases (three query pages) cost the same.
func TestNoopRunCost(t *testing.T) {
	var costs []int
	for _, n := range []int{600, 4500} {
		f := newCostFixture(t, n)
		f.run(t, RunOptions{}) // the load
		f.run(t, RunOptions{}) // reads the load's writes once
		res, calls := f.run(t, RunOptions{})
		if w := res.Result.Plan.NumWrites(); w != 0 {
			t.Fatalf("%d cases: the no-op run plans %d writes", n, w)
		}
		if calls > 3 {
			t.Errorf("%d cases: a no-op run made %d API calls, want at most 3", n, calls)
		}
		if got := res.Result.APICalls; got != calls {
			t.Errorf("%d cases: the run recorded %d API calls, the org received %d", n, got, calls)
		}
		costs = append(costs, calls)
		t.Logf("%d cases: a no-op run makes %d API call(s)", n, calls)
		// Not blind: a case edited in Salesforce since is read and
		// reaches the sheet.
		f.now = f.now.Add(time.Minute)
		sink := f.r.Salesforce.(connector.Sink)
		edit := []connector.Record{{Key: "cost:C-00007", Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Closed")}}}
		if res, err := sink.Upsert(context.Background(), "vcms__Survivor_Case__c", edit); err != nil || res[0].Err != nil {
			t.Fatalf("edit in salesforce: %v %v", err, res)
		}
		res, calls = f.run(t, RunOptions{})
		if got := res.Result.Plan.Lines(); len(got) != 1 || got[0] != "update local cost:C-00007: vcms__Stage__c (changed on salesforce)" {
			t.Errorf("%d cases: after an edit in Salesforce the run plans %q", n, got)
		}
		t.Logf("%d cases: a run with one record changed in Salesforce makes %d API call(s)", n, calls)
	}
	if costs[0] != costs[1] {
		t.Errorf("no-op cost grows with size: %v", costs)
	}
	// --full reads everything and lists every key: it costs pages.
	f := newCostFixture(t, 4500)
	f.run(t, RunOptions{})
	if _, calls := f.run(t, RunOptions{Full: true}); calls <= 3 {
		t.Errorf("a --full run made %d calls: it should read every page", calls)
	} else {
		t.Logf("4500 cases: a --full run makes %d API calls", calls)
	}
}

// BenchmarkInitialLoad: a sheet of 10,000 cases into an empty org (one
// run), and the same org's 10,000 cases into an empty sheet; it reports
// the API calls each made. The fake org answers at once (no latency):
// the figures are casebridge's own cost.
func BenchmarkInitialLoad(b *testing.B) {
	n := benchSize()
	b.Run("sheet_to_salesforce", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			f := newCostFixture(b, n)
			b.StartTimer()
			_, calls := f.run(b, RunOptions{})
			b.ReportMetric(float64(calls), "calls")
		}
	})
	b.Run("salesforce_to_sheet", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			f := newCostFixture(b, 0)
			for i := 1; i <= n; i++ {
				if _, err := f.org.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__External_Key__c": fmt.Sprintf("cost:S-%05d", i), "vcms__Last_Name__c": fmt.Sprintf("ทดสอบ %d", i), "vcms__Stage__c": "Active"}, false); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			_, calls := f.run(b, RunOptions{Force: true})
			b.ReportMetric(float64(calls), "calls")
		}
	})
}

// benchSize is the records BenchmarkInitialLoad uses: 10,000, or
// CASEBRIDGE_BENCH_N.
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("CASEBRIDGE_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 10000
}
