package schedules

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
)

// familyConfig is a job whose rows carry a case, its stipend (Assistance,
// keyed by vcms__External_Service_Key__c) and its last follow-up visit
// (Monitoring Visit, keyed by vcms__Follow_Up_Key__c): each child object
// has its own external id, as in real orgs. With PARTNER set, cases also
// reference their partner organisation through a lookup.
const familyConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  family_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Last_Name__c, local: Name, direction: to_salesforce }
PARTNER
CHILDREN
`

const familyPartner = `      - { sf: vcms__Partner_Org__c, local: Partner, lookup: { object: Account, field: vcms__External_Key__c }, direction: to_salesforce }`

const familyChildren = `    children:
      - name: stipend
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Service_Type__c, constant: Stipend }
          - { sf: vcms__Amount__c, local: Stipend, number: { scale: 2 }, direction: to_salesforce }
      - name: visit
        object: vcms__Monitoring_Visit__c
        key: vcms__Follow_Up_Key__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Visit_Date__c, local: Visit, date: { formats: ["2006-01-02"] }, direction: to_salesforce }`

// familyFixture is a fake org and a sheet of cases, each with a stipend
// and a visit.
type familyFixture struct {
	r     *Runner
	org   *sftest.Org
	sheet string
	rows  [][5]string // case id, name, partner, stipend, visit date

	mu          sync.Mutex
	childBodies []string // bodies of the Collections upserts of child objects
}

// capture records the bodies of the children's Collections upserts, to
// see how a child names its parent.
func (f *familyFixture) capture(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/composite/sobjects/") && !strings.Contains(r.URL.Path, "vcms__Survivor_Case__c") {
			raw, _ := io.ReadAll(r.Body)
			body := raw
			if r.Header.Get("Content-Encoding") == "gzip" {
				if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
					body, _ = io.ReadAll(zr)
				}
			}
			f.mu.Lock()
			f.childBodies = append(f.childBodies, string(body))
			f.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		h.ServeHTTP(w, r)
	})
}

func newFamilyFixture(t testing.TB, cases, partners int, children bool) *familyFixture {
	t.Helper()
	f := &familyFixture{org: sftest.New(sftest.Options{})}
	srv := httptest.NewServer(f.capture(f.org.Handler()))
	t.Cleanup(srv.Close)
	org := f.org
	for i := 1; i <= partners; i++ {
		if _, err := org.Insert("Account", map[string]any{"Name": fmt.Sprintf("Partner %d", i), "vcms__External_Key__c": partnerCode(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	f.sheet = filepath.Join(dir, "cases.csv")
	for i := 1; i <= cases; i++ {
		partner := ""
		if partners > 0 {
			partner = partnerCode(1 + (i-1)%partners)
		}
		f.rows = append(f.rows, [5]string{fmt.Sprintf("FA-%04d", i), fmt.Sprintf("ทดสอบ %d", i), partner,
			fmt.Sprintf("%d.50", 1000+i), fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+i%28)})
	}
	f.write(t)
	cfg := strings.ReplaceAll(familyConfig, "FAKE_ORG_URL", srv.URL)
	p, c := "", ""
	if partners > 0 {
		p = familyPartner
	}
	if children {
		c = familyChildren
	}
	cfg = strings.Replace(strings.Replace(cfg, "PARTNER", p, 1), "CHILDREN", c, 1)
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.r, err = Open(context.Background(), loaded, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.r.Close() })
	return f
}

func (f *familyFixture) write(t testing.TB) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Case ID,Name,Partner,Stipend,Visit\r\n")
	for _, r := range f.rows {
		b.WriteString(strings.Join(r[:], ",") + "\r\n")
	}
	if err := os.WriteFile(f.sheet, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// familyRun is what one run cost.
type familyRun struct {
	res            *JobResult
	calls, writes  int
	parentSearches int            // queries searching cases by key (a child's parent)
	writtenTo      map[string]int // records written, by object
}

func (f *familyFixture) run(t testing.TB) familyRun {
	t.Helper()
	f.org.ResetRequests()
	res, err := f.r.Run(context.Background(), "family_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := familyRun{res: res, writtenTo: map[string]int{}}
	for _, e := range f.org.Requests() {
		if strings.HasPrefix(e.Endpoint, "oauth.") {
			continue
		}
		out.calls++
		switch {
		case strings.HasPrefix(e.Endpoint, "collections.") || strings.HasPrefix(e.Endpoint, "bulk.ingest") ||
			strings.HasPrefix(e.Endpoint, "sobject.") && e.Method != "GET":
			out.writes++
			out.writtenTo[e.Object] += e.Records
		case e.Endpoint == "query":
			q, _ := url.ParseQuery(e.Query)
			if s := q.Get("q"); strings.Contains(s, "FROM vcms__Survivor_Case__c") && strings.Contains(s, " IN (") {
				out.parentSearches++
			}
		}
	}
	return out
}

// failures lists a run's failed writes, children's included.
func (r familyRun) failures() []string {
	var out []string
	for _, e := range r.res.Result.Failed {
		out = append(out, e.Key+" "+e.Code)
	}
	for _, ch := range r.res.Result.Children {
		for _, e := range ch.Failed {
			out = append(out, e.Key+" "+e.Code)
		}
	}
	return out
}

// TestChildrenOwnKeys: a job with two child objects, each keyed by its
// own external id, against the fake org whose objects have their own key
// fields. The first run creates the cases and, in the same run, their
// children under them (the parent goes in the child's write by reference
// to the case's key: no query per parent); the next run writes nothing;
// an edit updates one record of each child object, by its own key.
func TestChildrenOwnKeys(t *testing.T) {
	f := newFamilyFixture(t, 30, 0, true)

	// A dry run plans the children of cases it would create: their
	// parents are referenced by key, not needed in Salesforce first.
	dry, err := f.r.Run(context.Background(), "family_cases", RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range dry.Result.Children {
		n := 0
		for _, w := range ch.Plan.AllWrites() {
			if w.Side == reconcile.SF && w.Op == reconcile.OpCreate {
				n++
			}
		}
		if n != 30 {
			t.Errorf("dry run: %s plans %d creates in Salesforce, want 30", ch.Plan.Job, n)
		}
	}

	first := f.run(t)
	if fails := first.failures(); len(fails) != 0 {
		t.Fatalf("first run: failed %v", fails)
	}
	if first.writtenTo["vcms__Survivor_Case__c"] != 30 || first.writtenTo["vcms__Assistance__c"] != 30 || first.writtenTo["vcms__Monitoring_Visit__c"] != 30 {
		t.Errorf("first run wrote %v, want 30 cases, 30 stipends and 30 visits", first.writtenTo)
	}
	if first.parentSearches > 1 {
		t.Errorf("first run: %d searches for parents, want at most one batch", first.parentSearches)
	}
	// Each child names its parent by the case's key, never by an Id.
	f.mu.Lock()
	bodies := f.childBodies
	f.mu.Unlock()
	if len(bodies) == 0 {
		t.Fatal("no child upsert seen")
	}
	for _, b := range bodies {
		if strings.Contains(b, `"vcms__Case__c"`) || !strings.Contains(b, `"vcms__Case__r":{"attributes":{"type":"vcms__Survivor_Case__c"},"vcms__External_Key__c":"ngo-th-cm:FA-`) {
			t.Fatalf("a child upsert does not name its parent by reference to the case's key: %.300s", b)
		}
	}
	for _, row := range f.rows {
		parent, ok := f.org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:"+row[0])
		if !ok {
			t.Fatalf("case %s not created", row[0])
		}
		for _, c := range []struct{ object, keyField, suffix string }{
			{"vcms__Assistance__c", "vcms__External_Service_Key__c", ":stipend"},
			{"vcms__Monitoring_Visit__c", "vcms__Follow_Up_Key__c", ":visit"},
		} {
			rec, ok := f.org.GetByExternalKey(c.object, "ngo-th-cm:"+row[0]+c.suffix)
			if !ok {
				t.Fatalf("%s of %s not created in the run that created its case", c.object, row[0])
			}
			if rec.Fields[c.keyField] != "ngo-th-cm:"+row[0]+c.suffix || rec.Fields["vcms__Case__c"] != parent.ID {
				t.Errorf("%s %s: key %v, parent %v; want its own key field set and parent %s", c.object, row[0], rec.Fields[c.keyField], rec.Fields["vcms__Case__c"], parent.ID)
			}
		}
	}
	t.Logf("first run: %d API calls (%d writes, %d parent searches)", first.calls, first.writes, first.parentSearches)

	for i := 2; i <= 3; i++ {
		again := f.run(t)
		if again.writes != 0 || len(again.failures()) != 0 {
			t.Errorf("run %d of an unchanged sheet: %d writes (%v), failures %v; want none", i, again.writes, again.writtenTo, again.failures())
		}
		t.Logf("run %d (no change): %d API calls, %d parent searches", i, again.calls, again.parentSearches)
	}

	f.rows[4][3] = "2222.25"
	f.rows[7][4] = "2025-02-03"
	f.write(t)
	edit := f.run(t)
	if fails := edit.failures(); len(fails) != 0 {
		t.Fatalf("edit run: failed %v", fails)
	}
	if edit.writtenTo["vcms__Assistance__c"] != 1 || edit.writtenTo["vcms__Monitoring_Visit__c"] != 1 || edit.writtenTo["vcms__Survivor_Case__c"] != 0 || edit.parentSearches != 0 {
		t.Errorf("edit run wrote %v with %d parent searches, want one stipend and one visit and no search", edit.writtenTo, edit.parentSearches)
	}
	st, _ := f.org.GetByExternalKey("vcms__Assistance__c", "ngo-th-cm:"+f.rows[4][0]+":stipend")
	vi, _ := f.org.GetByExternalKey("vcms__Monitoring_Visit__c", "ngo-th-cm:"+f.rows[7][0]+":visit")
	if fmt.Sprint(st.Fields["vcms__Amount__c"]) != "2222.25" || vi.Fields["vcms__Visit_Date__c"] != "2025-02-03" {
		t.Errorf("after the edit: stipend %v, visit %v", st.Fields["vcms__Amount__c"], vi.Fields["vcms__Visit_Date__c"])
	}
	if again := f.run(t); again.writes != 0 {
		t.Errorf("run after the edit: %d writes, want none", again.writes)
	}
}

// BenchmarkChildrenNoopRun reports the API calls of a no-op run of a job
// with 500 cases, two child objects (stipend, visit; each with its own
// key) and a lookup naming 80 partners, beside the same job without
// children and lookups. The goal: at most one more call per child object.
func BenchmarkChildrenNoopRun(b *testing.B) {
	for _, bc := range []struct {
		name     string
		partners int
		children bool
	}{{"plain", 0, false}, {"children_lookups", 80, true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFamilyFixture(b, 500, bc.partners, bc.children)
			f.run(b)
			f.run(b) // parents created by the first run are searched once
			var calls, writes, searches int
			b.ResetTimer()
			for range b.N {
				r := f.run(b)
				calls += r.calls
				writes += r.writes
				searches += r.parentSearches
			}
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls/run")
			b.ReportMetric(float64(writes)/float64(b.N), "writes/run")
			b.ReportMetric(float64(searches)/float64(b.N), "parent-searches/run")
		})
	}
}
