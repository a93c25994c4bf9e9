package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/report"
	"github.com/casebridge/casebridge/state"
)

var update = flag.Bool("update", false, "rewrite the text summary goldens (formatting only: check their numbers by hand)")

// Distinctive synthetic values. Every value of a classified field carries
// a marker that nothing else in a report can contain.
var (
	seedSF = map[string]map[string]string{
		"TH-0001": {"Name__c": "QZN-สมศรี-0001", "Stage__c": "Active", "Amount__c": "4242.17", "Visit__c": "1987-03-14", "Email__c": "qze-0001@example.org"},
		"TH-0002": {"Name__c": "QZN-សុខា-0002", "Stage__c": "Active", "Amount__c": "100", "Visit__c": "1991-07-21", "Email__c": "qze-0002@example.org"},
		"TH-0003": {"Name__c": "QZN-রহিম-0003", "Stage__c": "Closed", "Amount__c": "250.5", "Visit__c": "1979-11-30", "Email__c": "qze-0003@example.org"},
		"TH-0006": {"Name__c": "QZN-Ana-0006", "Stage__c": "Active", "Amount__c": "5", "Visit__c": "1983-02-02", "Email__c": "qze-0006@example.org"},
	}
	seedLocal = map[string]map[string]string{
		"TH-0004":                      {"Name__c": "QZN-Anan-0004", "Stage__c": "Active", "Amount__c": "61.25", "Visit__c": "1988-08-08", "Email__c": "qze-0004@example.org"},
		"TH-0005":                      {"Name__c": "QZN-Mai-0005", "Stage__c": "Active", "Amount__c": "77", "Visit__c": "1995-05-05", "Email__c": "qze-0005@example.org"},
		"TH-<script>alert(1)</script>": {"Name__c": "QZN-Script-0007", "Stage__c": "Active", "Amount__c": "1", "Visit__c": "1999-09-09", "Email__c": "qze-0007@example.org"},
		"TH-0006":                      seedSF["TH-0006"],
	}
	// Edits between the first and second run.
	editName4   = "QZN-Anan-0004-edited" // local, direct: update to Salesforce
	editVisit5  = "1996-06-16"           // local, quasi: update to Salesforce
	editName2SF = "QZN-សុខា-0002-sf"     // both sides differently: conflict
	editName2Lo = "QZN-សុខា-0002-local"  // (manual policy)
	editStage1  = "Follow_Up"            // Salesforce, unclassified: update to local
	editAmount3 = "7373.01"              // Salesforce, unclassified: the local write fails
	classified  = map[string]string{     // value -> class, of every classified value used
		editName4: report.ClassDirect, editName2SF: report.ClassDirect, editName2Lo: report.ClassDirect,
		editVisit5: report.ClassQuasi,
	}
)

func init() {
	for _, seed := range []map[string]map[string]string{seedSF, seedLocal} {
		for _, rec := range seed {
			classified[rec["Name__c"]] = report.ClassDirect
			classified[rec["Visit__c"]] = report.ClassQuasi
			classified[rec["Email__c"]] = report.ClassSensitive
		}
	}
}

// scenario runs the engine three times: a first sync that creates on both
// sides, a dry run of the edits, and the sync that applies them (an update
// each way, a conflict under manual, a failed write, a flagged delete).
type scenario struct {
	w                *world
	first, dry, sync *run
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	w := newWorld(t)
	for k, v := range seedSF {
		w.sf.set(t, k, v)
	}
	for k, v := range seedLocal {
		w.local.set(t, k, v)
	}
	sc := &scenario{w: w}
	sc.first = w.run(reconcile.RunOptions{})
	if sc.first.err != nil {
		t.Fatal(sc.first.err)
	}
	w.local.set(t, "TH-0004", map[string]string{"Name__c": editName4})
	w.local.set(t, "TH-0005", map[string]string{"Visit__c": editVisit5})
	w.sf.set(t, "TH-0002", map[string]string{"Name__c": editName2SF})
	w.local.set(t, "TH-0002", map[string]string{"Name__c": editName2Lo})
	w.sf.set(t, "TH-0001", map[string]string{"Stage__c": editStage1})
	w.sf.set(t, "TH-0003", map[string]string{"Amount__c": editAmount3})
	w.local.fail("TH-0003")
	w.local.del(t, "TH-0006")
	sc.dry = w.run(reconcile.RunOptions{DryRun: true})
	if sc.dry.err != nil {
		t.Fatal(sc.dry.err)
	}
	sc.sync = w.run(reconcile.RunOptions{})
	if sc.sync.err != nil {
		t.Fatal(sc.sync.err)
	}
	return sc
}

func (sc *scenario) reports(opt func(*report.Options)) map[string]*report.Report {
	o := func(r *run, m report.Mode) report.Options {
		x := sc.w.options(r, m)
		if opt != nil {
			opt(&x)
		}
		return x
	}
	return map[string]*report.Report{
		"first":   report.FromResult("th_cases", sc.first.res, o(sc.first, report.ModeApply)),
		"dry_run": report.FromResult("th_cases", sc.dry.res, o(sc.dry, report.ModeDryRun)),
		"compare": report.FromPlan("th_cases", sc.dry.res.Plan, o(sc.dry, report.ModeCompare)),
		"sync":    report.FromResult("th_cases", sc.sync.res, o(sc.sync, report.ModeApply)),
	}
}

// render writes r in every format.
func render(t *testing.T, r *report.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, f := range map[string]func(*bytes.Buffer, *report.Report) error{
		"json":    func(b *bytes.Buffer, r *report.Report) error { return report.WriteJSON(b, r) },
		"html":    func(b *bytes.Buffer, r *report.Report) error { return report.WriteHTML(b, r) },
		"csv":     func(b *bytes.Buffer, r *report.Report) error { return report.WriteErrorsCSV(b, r) },
		"summary": func(b *bytes.Buffer, r *report.Report) error { return report.WriteSummary(b, r) },
	} {
		var b bytes.Buffer
		if err := f(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// Counts checked by hand against the scenario.
func TestCounts(t *testing.T) {
	sc := newScenario(t)
	rs := sc.reports(nil)
	type sideWant = report.SideCounts
	cases := []struct {
		name    string
		outcome report.Outcome
		sf, lo  sideWant
		obj     report.ObjectCounts
	}{
		// SF holds 1,2,3,6 and gets 4,5,<script>; local holds 4,5,<script>,6
		// and gets 1,2,3; 6 is equal on both.
		{"first", report.OutcomeOK, sideWant{Seen: 4, Created: 3}, sideWant{Seen: 4, Created: 3},
			report.ObjectCounts{Unchanged: 1}},
		// To Salesforce: 4 (name), 5 (visit); to local: 1 (stage), 3
		// (amount, planned here); 2 in conflict; 6 deleted locally, kept
		// (flagged) on Salesforce; <script> unchanged.
		{"dry_run", report.OutcomeDryRun, sideWant{Seen: 7, Updated: 2, Flagged: 1}, sideWant{Seen: 6, Updated: 2},
			report.ObjectCounts{Unchanged: 1, Conflicts: 1}},
		{"compare", report.OutcomeDryRun, sideWant{Seen: 7, Updated: 2, Flagged: 1}, sideWant{Seen: 6, Updated: 2},
			report.ObjectCounts{Unchanged: 1, Conflicts: 1}},
		{"sync", report.OutcomePartial, sideWant{Seen: 7, Updated: 2, Flagged: 1}, sideWant{Seen: 6, Updated: 1, Failed: 1, Pending: 1},
			report.ObjectCounts{Unchanged: 1, Conflicts: 1, Failed: 1}},
	}
	for _, c := range cases {
		r := rs[c.name]
		if len(r.Objects) != 1 {
			t.Fatalf("%s: %d objects", c.name, len(r.Objects))
		}
		want := c.obj
		want.Salesforce, want.Local = c.sf, c.lo
		if got := r.Objects[0].Counts; got != want {
			t.Errorf("%s counts:\n got %+v\nwant %+v", c.name, got, want)
		}
		if r.Outcome != c.outcome {
			t.Errorf("%s outcome = %s, want %s", c.name, r.Outcome, c.outcome)
		}
		if r.Objects[0].Object != "Case__c" || r.Format != report.Format {
			t.Errorf("%s: object %q format %q", c.name, r.Objects[0].Object, r.Format)
		}
	}
	// The totals of applied runs agree with the engine's own counts.
	for name, rn := range map[string]*run{"first": sc.first, "sync": sc.sync} {
		tot, ec := rs[name].Totals, rn.res.Counts
		if tot.Created != ec.Creates || tot.Updated != ec.Updates || tot.Deleted != ec.Deletes ||
			tot.Conflicts != ec.Conflicts || tot.Failed != ec.Failures {
			t.Errorf("%s totals %+v disagree with engine counts %+v", name, tot, ec)
		}
		if rs[name].APICalls.Used != rn.res.APICalls || rs[name].RunID != rn.res.RunID {
			t.Errorf("%s: api calls %d run %d, engine %d %d", name, rs[name].APICalls.Used, rs[name].RunID, rn.res.APICalls, rn.res.RunID)
		}
	}

	// The second sync, in detail.
	o := rs["sync"].Objects[0]
	var changes []string
	for _, c := range o.Changes {
		var fs []string
		for _, f := range c.Fields {
			fs = append(fs, f.Field+"("+f.Class+"|"+f.Reason+")")
		}
		changes = append(changes, fmt.Sprintf("%s %s %s %s %s", c.Side, c.Op, c.Key, c.Status, strings.Join(fs, ",")))
	}
	wantChanges := []string{
		"salesforce update TH-0004 done Name__c(direct|changed on local)",
		"salesforce update TH-0005 done Visit__c(quasi|changed on local)",
		"local update TH-0001 done Stage__c(|changed on salesforce)",
		"local update TH-0003 failed Amount__c(|changed on salesforce)",
	}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
	}
	wantConfl := []report.Conflict{{Key: "TH-0002", Field: "Name__c", Class: "direct", Reason: "manual"}}
	if !reflect.DeepEqual(o.Conflicts, wantConfl) {
		t.Errorf("conflicts = %+v", o.Conflicts)
	}
	if len(o.Errors) != 1 {
		t.Fatalf("errors = %+v", o.Errors)
	}
	if e := o.Errors[0]; e.Key != "TH-0003" || e.Side != "local" || e.Op != "update" || e.Object != "Case__c" || e.Code != "UNABLE_TO_LOCK_ROW" {
		t.Errorf("error = %+v", e)
	}
	if len(o.Notes) != 1 || o.Notes[0].Kind != "flag" || o.Notes[0].Key != "TH-0006" {
		t.Errorf("notes = %+v", o.Notes)
	}
}

var (
	countCell = regexp.MustCompile(`data-object="(\d+)" data-side="(\w*)" data-count="(\w+)">(\d+)<`)
	totalCell = regexp.MustCompile(`data-total="(\w+)">(\d+)<`)
	apiCell   = regexp.MustCompile(`data-api="(\w+)">(\d+)<`)
)

// The HTML and the JSON agree on every count: the HTML's count table and
// tiles are parsed from their data- attributes, the JSON decoded into a
// generic map (not through the model).
func TestHTMLAndJSONAgree(t *testing.T) {
	sc := newScenario(t)
	for name, r := range sc.reports(nil) {
		out := render(t, r)
		var js map[string]any
		if err := json.Unmarshal([]byte(out["json"]), &js); err != nil {
			t.Fatal(err)
		}
		objs := js["objects"].([]any)
		seen := 0
		for _, m := range countCell.FindAllStringSubmatch(out["html"], -1) {
			i, _ := strconv.Atoi(m[1])
			counts := objs[i].(map[string]any)["counts"].(map[string]any)
			if m[2] != "" {
				counts = counts[m[2]].(map[string]any)
			}
			if got := fmt.Sprint(counts[m[3]]); got != m[4] {
				t.Errorf("%s: object %s %s %s: html %s, json %s", name, m[1], m[2], m[3], m[4], got)
			}
			seen++
		}
		// 8 counts per side and 3 per object.
		if want := len(objs) * (2*8 + 3); seen != want {
			t.Errorf("%s: %d count cells in the html, want %d", name, seen, want)
		}
		totals := js["totals"].(map[string]any)
		tiles := totalCell.FindAllStringSubmatch(out["html"], -1)
		if len(tiles) != len(totals) {
			t.Errorf("%s: %d total tiles, %d totals", name, len(tiles), len(totals))
		}
		for _, m := range tiles {
			if got := fmt.Sprint(totals[m[1]]); got != m[2] {
				t.Errorf("%s: total %s: html %s, json %s", name, m[1], m[2], got)
			}
		}
		api := js["api_calls"].(map[string]any)
		for _, m := range apiCell.FindAllStringSubmatch(out["html"], -1) {
			if got := fmt.Sprint(api[m[1]]); got != m[2] {
				t.Errorf("%s: api %s: html %s, json %s", name, m[1], m[2], got)
			}
		}
	}
}

// No value of a classified field appears in any output, by default or
// with ShowValues; a class in ShowClasses shows its own values only.
// Unclassified values appear only with ShowValues.
func TestNoValueLeaks(t *testing.T) {
	sc := newScenario(t)
	// Unclassified values each report must show with ShowValues: new
	// values of its writes.
	unclassified := map[string][]string{
		"first":   {"4242.17", "250.5"},
		"dry_run": {editStage1, editAmount3},
		"compare": {editStage1, editAmount3},
		"sync":    {editStage1, editAmount3},
	}
	for _, c := range []struct {
		name  string
		opt   func(*report.Options)
		shown []string // classes whose values may appear
	}{
		{"default", nil, nil},
		{"no provider", func(o *report.Options) { o.ShowValues, o.Values = true, nil }, nil},
		{"default with classes", func(o *report.Options) { o.ShowClasses = []string{"direct", "quasi", "sensitive"} }, nil},
		{"show values", func(o *report.Options) { o.ShowValues = true }, nil},
		{"show direct", func(o *report.Options) { o.ShowValues, o.ShowClasses = true, []string{"direct"} }, []string{"direct"}},
		{"show quasi sensitive", func(o *report.Options) { o.ShowValues, o.ShowClasses = true, []string{"quasi", "sensitive"} }, []string{"quasi", "sensitive"}},
		{"no job", func(o *report.Options) { o.ShowValues, o.Job = true, nil }, nil},
	} {
		showing := c.opt != nil && c.name != "no provider" && c.name != "default with classes"
		for name, r := range sc.reports(c.opt) {
			for format, text := range render(t, r) {
				for v, class := range classified {
					if strings.Contains(text, v) && !contains(c.shown, class) {
						t.Errorf("%s/%s/%s: %s value %q appears", c.name, name, format, class, v)
					}
				}
				for _, v := range unclassified[name] {
					want := showing && c.name != "no job" && (format == "json" || format == "html")
					if got := strings.Contains(text, v); got != want {
						t.Errorf("%s/%s/%s: unclassified value %q appears: %v, want %v", c.name, name, format, v, got, want)
					}
				}
				if strings.Contains(text, "QZN") && len(c.shown) == 0 {
					t.Errorf("%s/%s/%s: a name marker appears", c.name, name, format)
				}
				if strings.Contains(text, "qze-") && !contains(c.shown, "sensitive") {
					t.Errorf("%s/%s/%s: an email marker appears", c.name, name, format)
				}
			}
		}
	}
	// And the shown classes do show: the direct names of the sync's
	// changes and conflict, masked otherwise.
	r := sc.reports(func(o *report.Options) { o.ShowValues, o.ShowClasses = true, []string{"direct"} })["sync"]
	html := render(t, r)["html"]
	for _, v := range []string{editName4, "QZN-Anan-0004", editName2SF, editName2Lo} {
		if !strings.Contains(html, v) {
			t.Errorf("shown direct value %q missing", v)
		}
	}
	if !strings.Contains(html, report.Mask) || !strings.Contains(html, "quasi") {
		t.Error("masked quasi value not marked")
	}
	r = sc.reports(func(o *report.Options) { o.ShowValues = true })["sync"]
	o := r.Objects[0]
	if f := o.Changes[0].Fields[0]; f.New == nil || !f.New.Masked || f.New.Class != "direct" || f.New.Text != "" {
		t.Errorf("masked change = %+v", f.New)
	}
	if f := o.Changes[2].Fields[0]; f.Old.String() != "Active" || f.New.String() != editStage1 {
		t.Errorf("unclassified change = %v -> %v", f.Old, f.New)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestJSONRoundTrip(t *testing.T) {
	sc := newScenario(t)
	for name, r := range sc.reports(func(o *report.Options) { o.ShowValues = true }) {
		var b bytes.Buffer
		if err := report.WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		back, err := report.ReadJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", name, back, r)
		}
		var again bytes.Buffer
		if err := report.WriteJSON(&again, back); err != nil {
			t.Fatal(err)
		}
		if again.String() != b.String() {
			t.Errorf("%s: re-encoding differs", name)
		}
	}
	if _, err := report.ReadJSON(strings.NewReader(`{"format":"casebridge.report/v0"}`)); err == nil {
		t.Error("another format was accepted")
	}
}

// A key holding markup is escaped, and the page runs no script and loads
// nothing.
func TestHTMLEscapesAndSelfContained(t *testing.T) {
	sc := newScenario(t)
	html := render(t, sc.reports(nil)["first"])["html"]
	if !strings.Contains(html, "TH-&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped script key missing")
	}
	for _, bad := range []string{"<script", "javascript:", "http://", "https://", "src=", "<link", "@import", "url("} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("html contains %q", bad)
		}
	}
	for _, want := range []string{`<meta charset="utf-8">`, `"Noto Sans Thai"`, `"Noto Sans Khmer"`, `"Noto Sans Bengali"`, "@media print"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %s", want)
		}
	}
}

func TestErrorsCSV(t *testing.T) {
	sc := newScenario(t)
	out := render(t, sc.reports(nil)["sync"])["csv"]
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !reflect.DeepEqual(rows[0], report.ErrorsCSVHeader) {
		t.Fatalf("rows = %q", rows)
	}
	if got := rows[1][:5]; !reflect.DeepEqual(got, []string{"TH-0003", "Case__c", "local", "", "UNABLE_TO_LOCK_ROW"}) {
		t.Errorf("row = %q", rows[1])
	}

	// Formula-looking cells are defused.
	res := &reconcile.Result{
		Plan: withWrites(&reconcile.Plan{Job: "j"}, []reconcile.Write{
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "=HYPERLINK(\"x\")", Changes: []reconcile.Change{{Field: "+F", Reason: "r"}}},
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "@SUM(1)"},
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "-2+3"},
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "\tK"},
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "\rK"},
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "plain"},
		}),
		Counts: state.Counts{Failures: 6},
	}
	for _, w := range res.Plan.AllWrites() {
		res.Failed = append(res.Failed, state.RecordErr{Key: w.Key, Field: "+F", Code: "-C", Message: "=1+1"})
	}
	var b bytes.Buffer
	if err := report.WriteErrorsCSV(&b, report.FromResult("j", res, report.Options{})); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`'=HYPERLINK("x")`, "'@SUM(1)", "'-2+3", "'\tK", "'\rK", "plain"}
	for i, k := range want {
		row := rows[i+1]
		if row[0] != k || row[3] != "'+F" || row[4] != "'-C" || row[5] != "'=1+1" || row[2] != "salesforce" {
			t.Errorf("row %d = %q", i+1, row)
		}
	}
}

// A key written on both sides whose failure does not say which side is
// not attributed to either.
func TestAmbiguousFailure(t *testing.T) {
	res := &reconcile.Result{
		Plan: withWrites(&reconcile.Plan{Job: "j", Seen: [2]int{1, 1}}, []reconcile.Write{
			{Side: reconcile.SF, Op: reconcile.OpUpdate, Key: "K1", Changes: []reconcile.Change{{Field: "A", Reason: "changed on local"}}},
			{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "k1", Changes: []reconcile.Change{{Field: "B", Reason: "changed on salesforce"}}},
		}),
		Counts: state.Counts{Updates: 1, Failures: 1},
		Failed: []state.RecordErr{{Key: "K1", Code: "UNABLE_TO_LOCK_ROW", Message: "locked"}},
	}
	r := report.FromResult("j", res, report.Options{})
	o := r.Objects[0]
	if o.Errors[0].Side != "" || o.Counts.Failed != 1 || o.Counts.Salesforce.Failed+o.Counts.Local.Failed != 0 {
		t.Errorf("counts %+v errors %+v", o.Counts, o.Errors)
	}
	for _, c := range o.Changes {
		if c.Status != report.StatusUnknown {
			t.Errorf("%s status %s", c.Side, c.Status)
		}
	}
	if r.Outcome != report.OutcomePartial || r.Totals.Failed != 1 {
		t.Errorf("outcome %s totals %+v", r.Outcome, r.Totals)
	}
}

// Writes held back by the budget are the plan's tail and pending.
func TestHeldByBudget(t *testing.T) {
	w := newWorld(t)
	for _, k := range []string{"A1", "A2", "A3"} {
		w.sf.set(t, k, map[string]string{"Name__c": "QZN-" + k, "Stage__c": "Active"})
	}
	w.local.set(t, "B1", map[string]string{"Name__c": "QZN-B1", "Stage__c": "Active"})
	w.job.MaxWrites = 2
	w.job.MinMatchRate = -1
	rn := w.run(reconcile.RunOptions{})
	if rn.err != nil {
		t.Fatal(rn.err)
	}
	r := report.FromResult(w.job.Name, rn.res, w.options(rn, report.ModeApply))
	c := r.Objects[0].Counts
	// Plan order: create B1 on Salesforce, then A1..A3 on local; two go.
	if c.Salesforce.Created != 1 || c.Local.Created != 1 || c.Local.Pending != 2 || c.Local.Failed != 0 || r.Outcome != report.OutcomePartial {
		t.Errorf("counts %+v outcome %s", c, r.Outcome)
	}
	var st []string
	for _, ch := range r.Objects[0].Changes {
		st = append(st, ch.Key+":"+string(ch.Status))
	}
	if got := strings.Join(st, " "); got != "B1:done A1:done A2:held A3:held" {
		t.Errorf("statuses %s", got)
	}
}

// A safety abort: nothing written, the writes planned, the reason shown.
func TestSafetyAbort(t *testing.T) {
	sc := newScenario(t)
	w := sc.w
	w.job.Deletes = reconcile.Propagate
	w.job.MaxDelete = reconcile.Limit{Count: 1}
	w.sf.del(t, "TH-0004")
	w.sf.del(t, "TH-0005")
	rn := w.run(reconcile.RunOptions{})
	if !errors.Is(rn.err, reconcile.ErrSafetyAbort) {
		t.Fatalf("err = %v", rn.err)
	}
	r := report.FromResult(w.job.Name, rn.res, w.options(rn, report.ModeApply))
	if r.Outcome != report.OutcomeAborted || !strings.Contains(r.Error, "max_delete") {
		t.Errorf("outcome %s error %q", r.Outcome, r.Error)
	}
	if r.Totals.Deleted < 2 {
		t.Errorf("planned deletes %d", r.Totals.Deleted)
	}
	for _, ch := range r.Objects[0].Changes {
		if ch.Status != report.StatusPlanned {
			t.Errorf("%s %s status %s", ch.Op, ch.Key, ch.Status)
		}
	}
	runs, err := w.store.Runs(t.Context(), w.job.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	r2 := report.FromResult(w.job.Name, rn.res, report.Options{Job: w.job}.WithRun(runs[0]))
	if r2.Outcome != report.OutcomeAborted || r2.Error != r.Error || !r2.Start.Equal(rn.start) {
		t.Errorf("from the run history: outcome %s error %q start %v", r2.Outcome, r2.Error, r2.Start)
	}
	checkGolden(t, "abort.txt", render(t, r)["summary"])
}

// Families: a child job's object gets its own counts.
func TestChildren(t *testing.T) {
	res := &reconcile.Result{
		RunID: 9, APICalls: 12,
		Plan: withWrites(&reconcile.Plan{Job: "cases", Seen: [2]int{2, 2}}, []reconcile.Write{
			{Side: reconcile.Local, Op: reconcile.OpUpdate, Key: "C1", Changes: []reconcile.Change{{Field: "Stage__c", Reason: "changed on salesforce"}}},
		}),
		Counts: state.Counts{Updates: 1},
		Children: []*reconcile.Result{{
			Plan: withWrites(&reconcile.Plan{Job: "stipends", Seen: [2]int{0, 1}}, []reconcile.Write{
				{Side: reconcile.SF, Op: reconcile.OpCreate, Key: "C1:stipend", Reason: "new on local", Changes: []reconcile.Change{{Field: "Amount__c"}}},
			}),
			Counts: state.Counts{Failures: 1},
			Failed: []state.RecordErr{{Key: "C1:stipend", Code: "NOT_PROCESSED", Message: "create Stipend__c C1:stipend: NOT_PROCESSED parent record failed"}},
		}},
	}
	job := &reconcile.Job{Name: "cases", Object: "Case__c", Children: []reconcile.Child{{Suffix: "stipend", Job: &reconcile.Job{Name: "stipends", Object: "Stipend__c"}}}}
	r := report.FromResult("cases", res, report.Options{Job: job})
	if len(r.Objects) != 2 || r.Objects[1].Object != "Stipend__c" || r.Objects[1].Job != "stipends" {
		t.Fatalf("objects %+v", r.Objects)
	}
	if c := r.Objects[1].Counts; c.Salesforce.Failed != 1 || c.Salesforce.Created != 0 || c.Unchanged != 0 {
		t.Errorf("child counts %+v", c)
	}
	if r.Objects[1].Errors[0].Object != "Stipend__c" || r.Totals.Updated != 1 || r.Totals.Failed != 1 {
		t.Errorf("errors %+v totals %+v", r.Objects[1].Errors, r.Totals)
	}
	checkGolden(t, "children.txt", render(t, r)["summary"])
}

// The text summaries. Their numbers were checked by hand against the
// scenario (see TestCounts); -update rewrites formatting only.
func TestSummaryGolden(t *testing.T) {
	sc := newScenario(t)
	dump := os.Getenv("CASEBRIDGE_REPORT_DUMP") // a directory to write every output to, to look at
	for name, r := range sc.reports(func(o *report.Options) {
		if dump != "" {
			o.ShowValues, o.ShowClasses = true, []string{"direct", "quasi", "sensitive"}
		}
	}) {
		out := render(t, r)
		if dump != "" {
			for format, text := range out {
				if err := os.WriteFile(filepath.Join(dump, name+"."+format), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		checkGolden(t, "summary_"+name+".txt", out["summary"])
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// sfReadError is an unreadable record of the Salesforce side (as the
// runner's SideError reports it).
type sfReadError struct{ error }

func (sfReadError) ReadSide() string { return "salesforce" }

func (e sfReadError) Unwrap() error { return e.error }

// The rows a run could not read and the cells it could not map are
// listed with the job's errors, side, key and column named, in every
// format; a read error that says its side keeps it.
func TestUnreadableRowsListed(t *testing.T) {
	sc := newScenario(t)
	rowErr := connector.NewRecordError("read", "th_tracker", "th_tracker", "", "Notes", connector.CodeRowUnreadable, connector.Permanent,
		errors.New("tracker.csv row 9 (line 9) column C: an unclosed quote"))
	keyErr := sfReadError{connector.NewRecordError("read", "salesforce", "vcms__Survivor_Case__c", "", "", connector.CodeInvalidKey, connector.Permanent, errors.New("record a015g0000000002AAA has an empty key"))}
	mapErr := connector.NewRecordError("map", "th_tracker", "vcms__Survivor_Case__c", "TH-0002", "Visit__c", connector.CodeInvalidValue, connector.Permanent,
		errors.New(`expected a date (column "Found", rule jobs.cases.fields[2])`))
	for name, r := range sc.reports(func(o *report.Options) {
		o.Unreadable = []error{rowErr, keyErr}
		o.Unmapped = []error{mapErr}
	}) {
		var read, mapped []report.Error
		for _, e := range r.Objects[0].Errors {
			switch e.Op {
			case "read":
				read = append(read, e)
			case "map":
				mapped = append(mapped, e)
			}
		}
		if len(mapped) != 1 || mapped[0].Key != "TH-0002" || mapped[0].Field != "Visit__c" || mapped[0].Code != "INVALID_VALUE" || mapped[0].Side != "local" {
			t.Errorf("%s: unmapped cells %+v", name, mapped)
		}
		if len(read) != 2 || read[0].Side != "local" || read[0].Field != "Notes" || read[0].Code != "ROW_UNREADABLE" ||
			read[1].Side != "salesforce" || read[1].Code != "INVALID_KEY" {
			t.Errorf("%s: read errors %+v", name, read)
		}
		out := render(t, r)
		for _, f := range []string{"json", "html", "csv"} {
			if !strings.Contains(out[f], "row 9 (line 9) column C") {
				t.Errorf("%s %s: the unreadable row is not listed", name, f)
			}
		}
	}
}

// withWrites adds ws to p, a plan made by hand, and returns it.
func withWrites(p *reconcile.Plan, ws []reconcile.Write) *reconcile.Plan {
	p.AddWrites(ws...)
	return p
}
