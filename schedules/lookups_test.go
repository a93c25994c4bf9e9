package schedules

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// lookupConfig is a job whose cases reference their partner
// organisation by its code: a lookup of Account by vcms__External_Key__c.
const lookupConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  partner_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Last_Name__c, local: Name, direction: to_salesforce }
      - { sf: vcms__Partner_Org__c, local: Partner, lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce }
`

// lookupFixture is a fake org with partners partner accounts (codes
// "พันธมิตร-01" ...) and a sheet of cases cases referencing them in turn.
type lookupFixture struct {
	r     *Runner
	org   *sftest.Org
	sheet string
	rows  [][3]string // case id, name, partner code
}

func partnerCode(i int) string { return fmt.Sprintf("พันธมิตร-%02d", i) }

func newLookupFixture(t testing.TB, partners, cases int) *lookupFixture {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{})
	for i := 1; i <= partners; i++ {
		if _, err := org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Partner %d", i), "vcms__External_Key__c": partnerCode(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	f := &lookupFixture{org: org, sheet: filepath.Join(dir, "cases.csv")}
	for i := 1; i <= cases; i++ {
		f.rows = append(f.rows, [3]string{fmt.Sprintf("LK-%04d", i), fmt.Sprintf("ทดสอบ %d", i), partnerCode(1 + (i-1)%partners)})
	}
	f.write(t)
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(lookupConfig, "FAKE_ORG_URL", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.r, err = Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.r.Close() })
	return f
}

func (f *lookupFixture) write(t testing.TB) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Case ID,Name,Partner\r\n")
	for _, r := range f.rows {
		b.WriteString(r[0] + "," + r[1] + "," + r[2] + "\r\n")
	}
	if err := os.WriteFile(f.sheet, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs the job and returns its result, the API calls it made and
// how many of them searched the lookup's object.
func (f *lookupFixture) run(t testing.TB, opts RunOptions) (res *JobResult, calls, lookups int) {
	t.Helper()
	f.org.ResetRequests()
	res, err := f.r.Run(context.Background(), "partner_cases", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.org.Requests() {
		if strings.HasPrefix(e.Endpoint, "oauth.") {
			continue
		}
		calls++
		if e.Endpoint == "query" {
			q, _ := url.ParseQuery(e.Query)
			if strings.Contains(q.Get("q"), "FROM Account") {
				lookups++
			}
		}
	}
	return res, calls, lookups
}

func (f *lookupFixture) partnerOf(t testing.TB, caseID string) string {
	t.Helper()
	rec, ok := f.org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:"+caseID)
	if !ok {
		t.Fatalf("case %s is not in the org", caseID)
	}
	id, _ := rec.Fields["vcms__Partner_Org__c"].(string)
	return id
}

func (f *lookupFixture) accountID(t testing.TB, code string) string {
	t.Helper()
	rec, ok := f.org.GetByExternalKey("Account", code)
	if !ok {
		t.Fatalf("no account %s", code)
	}
	return rec.ID
}

// TestLookupsConstantCost: lookups are searched in batches on the first
// run and remembered: a no-op run searches nothing; an edit introducing
// one new value costs one search; a referenced account deleted in
// Salesforce makes the write of its Id fail once (INVALID_CROSS_REFERENCE_KEY),
// the value is forgotten and the next run resolves it again, to the
// account that holds the code now; --full resolves every value again.
func TestLookupsConstantCost(t *testing.T) {
	f := newLookupFixture(t, 80, 160)

	first, calls, lookups := f.run(t, RunOptions{})
	if lookups != 1 {
		t.Errorf("first run: %d lookup searches for 80 values, want 1", lookups)
	}
	if n := len(first.Result.Failed); n != 0 {
		t.Fatalf("first run: %d failed writes: %+v", n, first.Result.Failed)
	}
	if got, want := f.partnerOf(t, "LK-0081"), f.accountID(t, partnerCode(1)); got != want {
		t.Fatalf("LK-0081 references %q, want partner 1's %s", got, want)
	}
	t.Logf("first run: %d API calls, %d lookup searches", calls, lookups)

	_, calls, lookups = f.run(t, RunOptions{})
	if lookups != 0 {
		t.Errorf("no-op run: %d lookup searches, want none", lookups)
	}
	t.Logf("no-op run: %d API calls, %d lookup searches", calls, lookups)

	// One row now names a partner the sheet never named.
	newID, err := f.org.Insert("Account", map[string]any{"Name": "Partner 81", "vcms__External_Key__c": partnerCode(81)}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.rows[2][2] = partnerCode(81)
	f.write(t)
	_, calls, lookups = f.run(t, RunOptions{})
	if lookups != 1 {
		t.Errorf("edit with one new value: %d lookup searches, want 1", lookups)
	}
	if got := f.partnerOf(t, f.rows[2][0]); got != newID {
		t.Errorf("%s references %q after the edit, want %s", f.rows[2][0], got, newID)
	}
	t.Logf("edit run (one new value): %d API calls, %d lookup searches", calls, lookups)

	// Partner 5 is deleted (Salesforce clears the cases' references to it,
	// which the engine keeps: an edit of a to_salesforce field on its
	// target) and another account takes its code. A row edited to name
	// partner 5 and a new row naming it write the Id the cache holds.
	oldID := f.accountID(t, partnerCode(5))
	sink := f.r.Salesforce.(connector.Sink)
	if res, err := sink.Delete(context.Background(), "Account", []string{partnerCode(5)}); err != nil || res[0].Err != nil {
		t.Fatalf("deleting partner 5: %v %+v", err, res)
	}
	reborn, err := f.org.Insert("Account", map[string]any{"Name": "Partner 5 again", "vcms__External_Key__c": partnerCode(5)}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.rows[3][2] = partnerCode(5)
	f.rows = append(f.rows, [3]string{"LK-0161", "ทดสอบ 161", partnerCode(5)})
	f.write(t)
	stale, _, lookups := f.run(t, RunOptions{})
	rejected := 0
	for _, e := range stale.Result.Failed {
		if e.Code == codeInvalidReference {
			rejected++
		}
	}
	if rejected != 2 || lookups != 0 {
		t.Errorf("run after the delete: %d writes rejected as INVALID_CROSS_REFERENCE_KEY and %d searches, want the 2 rows naming partner 5 and no search (its Id was cached); failed %+v",
			rejected, lookups, stale.Result.Failed)
	}
	after, _, lookups := f.run(t, RunOptions{})
	if lookups != 1 || len(after.Result.Failed) != 0 {
		t.Errorf("next run: %d searches and failures %+v, want partner 5 resolved again in 1 search", lookups, after.Result.Failed)
	}
	for _, id := range []string{f.rows[3][0], "LK-0161"} {
		if got := f.partnerOf(t, id); got != reborn || got == oldID {
			t.Errorf("%s references %q, want the account holding partner 5's code now (%s)", id, got, reborn)
		}
	}
	if _, _, lookups = f.run(t, RunOptions{}); lookups != 0 {
		t.Errorf("no-op run after re-resolving: %d searches, want none", lookups)
	}

	// --full resolves every value again (81 values: one search), once.
	if _, _, lookups = f.run(t, RunOptions{Full: true}); lookups != 1 {
		t.Errorf("--full run: %d searches, want 1 (every value again)", lookups)
	}
	if _, _, lookups = f.run(t, RunOptions{}); lookups != 0 {
		t.Errorf("no-op run after --full: %d searches, want none", lookups)
	}
}

// TestLookupsDryRun: a dry run uses the lookup cache but adds nothing to
// it, and a dry --full run resolves every value without forgetting any.
func TestLookupsDryRun(t *testing.T) {
	f := newLookupFixture(t, 20, 40)
	if _, _, lookups := f.run(t, RunOptions{DryRun: true}); lookups != 1 {
		t.Errorf("dry first run: %d searches, want 1", lookups)
	}
	if _, _, lookups := f.run(t, RunOptions{DryRun: true}); lookups != 1 {
		t.Errorf("second dry run: %d searches, want 1 (a dry run remembers nothing)", lookups)
	}
	f.run(t, RunOptions{})
	if _, _, lookups := f.run(t, RunOptions{DryRun: true, Full: true}); lookups != 1 {
		t.Errorf("dry --full run: %d searches, want 1", lookups)
	}
	if _, _, lookups := f.run(t, RunOptions{}); lookups != 0 {
		t.Errorf("run after a dry --full: %d searches, want none (the dry run forgot nothing)", lookups)
	}
}

// BenchmarkLookupNoopRun reports the API calls of a no-op run of a job
// with 500 cases referencing 80 partners, and how many of them search
// lookups (the goal: none).
func BenchmarkLookupNoopRun(b *testing.B) {
	f := newLookupFixture(b, 80, 500)
	f.run(b, RunOptions{})
	var calls, lookups int
	b.ResetTimer()
	for range b.N {
		_, c, l := f.run(b, RunOptions{})
		calls += c
		lookups += l
	}
	b.ReportMetric(float64(calls)/float64(b.N), "api-calls/run")
	b.ReportMetric(float64(lookups)/float64(b.N), "lookup-searches/run")
}
