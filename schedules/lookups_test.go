package schedules

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/mapping"
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
	return newLookupFixtureWith(t, partners, cases, lookupConfig)
}

// newLookupFixtureWith is newLookupFixture with a configuration of its
// own: ACCOUNT_KEY in it stands for Account's external id field, as the
// fake org names it.
func newLookupFixtureWith(t testing.TB, partners, cases int, configText string) *lookupFixture {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{})
	accountKey := externalKeyField(t, org, "Account")
	configText = strings.ReplaceAll(configText, "ACCOUNT_KEY", accountKey)
	for i := 1; i <= partners; i++ {
		if _, err := org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Partner %d", i), accountKey: partnerCode(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	f := &lookupFixture{org: org, sheet: filepath.Join(dir, "cases.csv")}
	for i := 1; i <= cases; i++ {
		f.rows = append(f.rows, [3]string{fmt.Sprintf("LK-%04d", i), fmt.Sprintf("ทดสอบ %d", i), partnerCode(1 + (i-1)%partners)})
	}
	f.write(t)
	f.r = openRunner(t, dir, configText, srv.URL)
	return f
}

// externalKeyField returns an object's external id field in the fake
// org: vcms__External_Key__c where it has one, else its first.
func externalKeyField(t testing.TB, org *sftest.Org, object string) string {
	t.Helper()
	fields := org.ExternalIDFields(object)
	if len(fields) == 0 {
		t.Fatalf("%s has no External ID field", object)
	}
	for _, f := range fields {
		if strings.EqualFold(f, "vcms__External_Key__c") {
			return f
		}
	}
	return fields[0]
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

// twoWayConfig is lookupConfig with a two-way lookup: the partner's code
// goes to Salesforce as the partner's Id, and an Id set in Salesforce
// comes back to the sheet as the partner's code.
const twoWayConfig = `
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
      - { sf: vcms__Partner_Org__c, local: Partner, lookup: { object: Account, field: ACCOUNT_KEY }, direction: both }
`

// accountQueries counts a run's queries of Account: searches by code
// (forward lookups) and by Id (Ids turned back into codes).
func (f *lookupFixture) accountQueries() (byValue, byID int) {
	for _, e := range f.org.Requests() {
		if e.Endpoint != "query" {
			continue
		}
		q, _ := url.ParseQuery(e.Query)
		soql := q.Get("q")
		switch {
		case !strings.Contains(soql, "FROM Account"):
		case strings.Contains(soql, "WHERE Id IN ("):
			byID++
		default:
			byValue++
		}
	}
	return byValue, byID
}

// accountKeyOf returns the Account field the fixture's lookups search.
func accountKeyOf(t testing.TB, f *lookupFixture) string {
	t.Helper()
	return externalKeyField(t, f.org, "Account")
}

// sheetPartner returns the Partner cell of a case's row in the sheet.
func (f *lookupFixture) sheetPartner(t testing.TB, caseID string) string {
	t.Helper()
	file, err := os.Open(f.sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "Partner")
	for _, r := range rows[1:] {
		if r[0] == caseID {
			return r[col]
		}
	}
	t.Fatalf("no row %s in the sheet", caseID)
	return ""
}

// TestLookupTwoWay: with a two-way lookup, a case's partner changed in
// Salesforce shows up as the partner's code in the sheet, at the cost of
// one search by Id and none by code; the run after it is a no-op that
// searches nothing (the code written back resolves from the lookup
// cache, which learned it as a hash).
func TestLookupTwoWay(t *testing.T) {
	f := newLookupFixtureWith(t, 10, 30, twoWayConfig)
	first, _, _ := f.run(t, RunOptions{})
	if n := len(first.Result.Failed); n != 0 {
		t.Fatalf("first run: %d failed writes: %+v", n, first.Result.Failed)
	}
	// The sheet's partners are searched by code, in one search; the cases
	// of the seed that the sheet lacks come to it with their partner's
	// code, turned back from its Id in one search.
	seedPartners := 0
	for _, rec := range f.org.Records("vcms__Survivor_Case__c") {
		key, _ := rec.Fields["vcms__External_Key__c"].(string)
		id, _ := rec.Fields["vcms__Partner_Org__c"].(string)
		caseID, ours := strings.CutPrefix(key, "ngo-th-cm:")
		if !ours || id == "" || strings.HasPrefix(caseID, "LK-") {
			continue
		}
		seedPartners++
		account, _ := f.org.Get(id)
		if code, _ := account.Fields[accountKeyOf(t, f)].(string); f.sheetPartner(t, caseID) != code || code == "" {
			t.Errorf("seed case %s came to the sheet with Partner %q, want its partner's code %q", caseID, f.sheetPartner(t, caseID), code)
		}
	}
	t.Logf("first run: %d seed case(s) came to the sheet with their partner's code", seedPartners)
	if byValue, byID := f.accountQueries(); byValue != 1 || byID != min(seedPartners, 1) {
		t.Errorf("first run: %d searches by code and %d by Id, want 1 and %d", byValue, byID, min(seedPartners, 1))
	}
	if _, calls, lookups := f.run(t, RunOptions{}); lookups != 0 {
		t.Errorf("no-op run: %d lookup searches (%d calls), want none", lookups, calls)
	}

	// In Salesforce, case LK-0003 (partner 3) moves to partner 7.
	moved := f.rows[2][0]
	if f.rows[2][2] != partnerCode(3) {
		t.Fatalf("row 3 names %s", f.rows[2][2])
	}
	sink := f.r.Salesforce.(connector.Sink)
	res, err := sink.Upsert(context.Background(), "vcms__Survivor_Case__c", []connector.Record{{
		Key: "ngo-th-cm:" + moved, Fields: map[string]connector.Value{"vcms__Partner_Org__c": connector.Text(f.accountID(t, partnerCode(7)))}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("moving %s in Salesforce: %v %+v", moved, err, res)
	}
	run, _, _ := f.run(t, RunOptions{})
	if n := len(run.Result.Failed) + len(run.MappingErrors); n != 0 {
		t.Fatalf("run after the move: failures %+v, mapping errors %v", run.Result.Failed, run.MappingErrors)
	}
	if got := f.sheetPartner(t, moved); got != partnerCode(7) {
		t.Errorf("%s's Partner cell is %q, want partner 7's code", moved, got)
	}
	if got := f.sheetPartner(t, f.rows[3][0]); got != f.rows[3][2] {
		t.Errorf("an unmoved row's Partner cell is %q, want %q", got, f.rows[3][2])
	}
	if byValue, byID := f.accountQueries(); byValue != 0 || byID != 1 {
		t.Errorf("run after the move: %d searches by code and %d by Id, want 0 and 1", byValue, byID)
	}
	if got := f.partnerOf(t, moved); got != f.accountID(t, partnerCode(7)) {
		t.Errorf("%s references %q in Salesforce, want partner 7 still", moved, got)
	}

	noop, calls, lookups := f.run(t, RunOptions{})
	if lookups != 0 {
		t.Errorf("no-op run after the move: %d lookup searches, want none", lookups)
	}
	if c := noop.Result.Counts; c.Creates+c.Updates+c.Deletes != 0 {
		t.Errorf("no-op run after the move wrote %+v", c)
	}
	t.Logf("no-op run after the move: %d API calls, %d lookup searches", calls, lookups)
}

// BenchmarkLookupTwoWayNoopRun is BenchmarkLookupNoopRun with the lookup
// two-way: a no-op run turns no Id back and searches nothing.
func BenchmarkLookupTwoWayNoopRun(b *testing.B) {
	f := newLookupFixtureWith(b, 80, 500, twoWayConfig)
	f.run(b, RunOptions{})
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

// TestClassifiedLookupsInBody: the values of a classified lookup never
// travel in a request URL, where proxies log them (issue 16): the fake
// org's request log holds none of them, in a path or a query string, and
// the cases reference their partners as with an unclassified lookup.
func TestClassifiedLookupsInBody(t *testing.T) {
	cfg := strings.Replace(lookupConfig, "lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce",
		"lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce, pii: quasi", 1)
	if cfg == lookupConfig {
		t.Fatal("the lookup rule was not classified")
	}
	f := newLookupFixtureWith(t, 12, 30, cfg)
	res, _, _ := f.run(t, RunOptions{})
	if n := len(res.Result.Failed); n != 0 {
		t.Fatalf("%d records failed: %+v", n, res.Result.Failed[0])
	}
	for _, row := range f.rows {
		if got, want := f.partnerOf(t, row[0]), f.accountID(t, row[2]); got != want {
			t.Errorf("case %s references %q, want %q", row[0], got, want)
		}
	}
	searched := false
	for _, e := range f.org.Requests() {
		u, _ := url.QueryUnescape(e.Path + "?" + e.Query)
		if strings.Contains(u, "พันธมิตร") {
			t.Errorf("a partner code in a request URL: %s %s", e.Method, u)
		}
		searched = searched || e.Endpoint == "composite" && e.Object == "Account" && e.Records > 0
	}
	if !searched {
		t.Error("no Composite request searched the partners")
	}
}

// TestClassifiedLookupsNotCached: the values of a classified lookup are
// resolved for the run only (issue 16): a keyed hash of such a value in
// the state's lookup cache would let whoever can add a row to the sheet
// and read the state confirm a guess, the guessed row taking an entry
// already there. What an earlier version cached is forgotten by the
// first run; the next run searches the values again.
func TestClassifiedLookupsNotCached(t *testing.T) {
	cfg := strings.Replace(lookupConfig, "lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce",
		"lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce, pii: quasi", 1)
	f := newLookupFixtureWith(t, 5, 10, cfg)
	ctx := context.Background()
	scope := mapping.LookupScope("Account", externalKeyField(t, f.org, "Account"))
	// As an earlier version left it: an entry of the classified scope.
	if err := f.r.Store.PutLookupIDs(ctx, scope, map[string]string{"stale-hash": "001000000000001AAA"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		res, _, _ := f.run(t, RunOptions{})
		lookups := 0 // classified values are searched in Composite bodies
		for _, e := range f.org.Requests() {
			if e.Endpoint == "composite" && e.Object == "Account" && e.Records > 0 {
				lookups++
			}
		}
		if n := len(res.Result.Failed); n != 0 {
			t.Fatalf("run %d: %d records failed: %+v", run, n, res.Result.Failed[0])
		}
		ids, err := f.r.Store.LookupIDs(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 0 {
			t.Errorf("run %d: the state caches %d classified lookup value(s)", run, len(ids))
		}
		if lookups == 0 {
			t.Errorf("run %d searched no partner: the values came from a cache", run)
		}
	}
	for _, row := range f.rows {
		if got, want := f.partnerOf(t, row[0]), f.accountID(t, row[2]); got != want {
			t.Errorf("case %s references %q, want %q", row[0], got, want)
		}
	}
}

// TestOpenLookupScopes: a field some job looks up unclassified is cached
// by that job, so a job looking it up classified leaves the cache alone
// (it forgot the other job's entries on every run, which then searched
// every value again).
func TestOpenLookupScopes(t *testing.T) {
	partner := &config.LookupRule{Object: "Account", Field: "vcms__Partner_Code__c"}
	other := &config.LookupRule{Object: "Contact", Field: "vcms__National_ID__c"}
	cfg := &config.Config{Jobs: map[string]*config.Job{
		"a": {Fields: []*config.Rule{{SF: "vcms__Partner__c", Lookup: partner, PII: config.PIIQuasi}, {SF: "vcms__Person__c", Lookup: other, PII: config.PIIDirect}}},
		"b": {Children: []*config.Child{{Fields: []*config.Rule{{SF: "vcms__Partner__c", Lookup: partner, PII: config.PIINone}}}}},
	}}
	got := openLookupScopes(cfg)
	if !got[mapping.LookupScope("Account", "vcms__Partner_Code__c")] || got[mapping.LookupScope("Contact", "vcms__National_ID__c")] || len(got) != 1 {
		t.Errorf("open scopes %v: want the partner code's only", got)
	}
}
