package schedules

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// notesConfig is a job whose rows carry a case and its case note: the
// note's object, vcms__Case_Note__c, has no External ID field at all, so
// the child is keyed by its parent (key: by_parent) and written by Id.
const notesConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  notes:
    conflict: salesforce_wins
    deletes: propagate
    max_delete: 100%
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__Last_Name__c, local: Name, direction: to_salesforce }
    children:
      - name: note
        object: vcms__Case_Note__c
        key: by_parent
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Note_Type__c, constant: Follow_Up }
          - { sf: vcms__Summary__c, local: Note }
`

const noteObject = "vcms__Case_Note__c"

// notesFixture is a fake org and a sheet of cases, each with a note.
type notesFixture struct {
	r      *Runner
	org    *sftest.Org
	srvURL string
	dir    string
	rows   [][3]string // case id, name, note
	// onRequest, when set, sees each request after the org served it.
	onRequest func(r *http.Request)
}

func newNotesFixture(t testing.TB, cases int) *notesFixture {
	t.Helper()
	return newNotesFixtureConfig(t, cases, notesConfig)
}

// newNotesFixtureConfig is newNotesFixture with another configuration.
func newNotesFixtureConfig(t testing.TB, cases int, config string) *notesFixture {
	t.Helper()
	f := &notesFixture{org: sftest.New(sftest.Options{}), dir: t.TempDir()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.org.Handler().ServeHTTP(w, r)
		if f.onRequest != nil {
			f.onRequest(r)
		}
	}))
	t.Cleanup(srv.Close)
	f.srvURL = srv.URL
	for i := 1; i <= cases; i++ {
		f.rows = append(f.rows, [3]string{fmt.Sprintf("NT-%04d", i), fmt.Sprintf("ทดสอบ %d", i), fmt.Sprintf("note %d", i)})
	}
	f.write(t)
	f.r = openRunner(t, f.dir, config, srv.URL)
	return f
}

func (f *notesFixture) write(t testing.TB) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Case ID,Name,Note\r\n")
	for _, r := range f.rows {
		b.WriteString(strings.Join(r[:], ",") + "\r\n")
	}
	if err := os.WriteFile(filepath.Join(f.dir, "cases.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// notesRun is what one run did.
type notesRun struct {
	res         *JobResult
	err         error
	calls       int
	noteWrites  int // Collections calls writing notes
	noteCreates int // notes sent in creates
	noteUpdates int // notes sent in updates by Id
	noteFinds   int // queries finding notes by their parents' keys
}

func (f *notesFixture) run(t testing.TB, ctx context.Context) notesRun {
	t.Helper()
	f.org.ResetRequests()
	res, err := f.r.Run(ctx, "notes", RunOptions{})
	out := notesRun{res: res, err: err}
	for _, e := range f.org.Requests() {
		if strings.HasPrefix(e.Endpoint, "oauth.") {
			continue
		}
		out.calls++
		switch {
		case strings.HasPrefix(e.Endpoint, "collections.") && e.Object == noteObject:
			out.noteWrites++
			switch e.Method {
			case http.MethodPost:
				out.noteCreates += e.Records
			case http.MethodPatch:
				out.noteUpdates += e.Records
			}
		case e.Endpoint == "query":
			q, _ := url.ParseQuery(e.Query)
			if s := q.Get("q"); strings.Contains(s, "FROM "+noteObject) && strings.Contains(s, "vcms__Case__r.vcms__External_Key__c IN (") {
				out.noteFinds++
			}
		}
	}
	return out
}

func (r notesRun) failures() []string {
	var out []string
	if r.res == nil || r.res.Result == nil {
		return out
	}
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

// notes returns the org's live notes by their case's key, with the
// number of notes under each.
func (f *notesFixture) notes(t testing.TB) (byCase map[string]sftest.Record, count map[string]int) {
	t.Helper()
	byCase, count = map[string]sftest.Record{}, map[string]int{}
	for _, n := range f.org.Records(noteObject) {
		parent, ok := f.org.Get(fmt.Sprint(n.Fields["vcms__Case__c"]))
		if !ok {
			t.Fatalf("note %s has no parent", n.ID)
		}
		k := fmt.Sprint(parent.Fields["vcms__External_Key__c"])
		byCase[k] = n
		count[k]++
	}
	return byCase, count
}

// pairs returns the state's pairing of note keys and Ids.
func (f *notesFixture) pairs(t testing.TB) map[string]string {
	t.Helper()
	m, err := f.r.Store.LookupIDs(context.Background(), "id:"+strings.ToLower(noteObject))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkOneNoteEach fails unless every row's case has exactly one note
// holding the row's text, and, with paired, that the state pairs each
// key with its Id.
func (f *notesFixture) checkOneNoteEach(t testing.TB, paired bool) {
	t.Helper()
	byCase, count := f.notes(t)
	ids := map[string]bool{}
	for _, id := range f.pairs(t) {
		ids[id] = true
	}
	for _, row := range f.rows {
		k := "ngo-th-cm:" + row[0]
		if row[2] == "" {
			if count[k] != 0 {
				t.Errorf("case %s: %d notes, want none", row[0], count[k])
			}
			continue
		}
		if count[k] != 1 {
			t.Errorf("case %s: %d notes, want exactly one", row[0], count[k])
			continue
		}
		n := byCase[k]
		if n.Fields["vcms__Summary__c"] != row[2] || n.Fields["vcms__Note_Type__c"] != "Follow_Up" {
			t.Errorf("case %s: note %v", row[0], n.Fields)
		}
		if paired && !ids[n.ID] {
			t.Errorf("case %s: note %s not paired in the state", row[0], n.ID)
		}
	}
}

// TestChildrenByParent: a child object with no External ID field is
// keyed by its parent. The first run creates the cases and their notes
// (Collections create, parent by reference) and pairs each note's key with
// its Id in the state, by hash; a run with nothing changed writes and
// searches nothing; an edit updates by Id in one call with no search; with
// the pairing lost, one search per batch finds the notes again (no note is
// created twice); a note deleted in Salesforce is forgotten and written
// again; a cleared cell deletes the note by Id.
func TestChildrenByParent(t *testing.T) {
	ctx := context.Background()
	f := newNotesFixture(t, 30)

	first := f.run(t, ctx)
	if first.err != nil || len(first.failures()) != 0 {
		t.Fatalf("first run: %v, failed %v", first.err, first.failures())
	}
	if first.noteCreates != 30 || first.noteUpdates != 0 || first.noteWrites != 1 {
		t.Errorf("first run: %d notes created, %d updated in %d calls; want 30 created in one call", first.noteCreates, first.noteUpdates, first.noteWrites)
	}
	f.checkOneNoteEach(t, true)
	pairs := f.pairs(t)
	if len(pairs) != 30 {
		t.Errorf("state pairs %d notes, want 30", len(pairs))
	}
	for h := range pairs {
		if strings.Contains(h, "NT-") || strings.Contains(h, "note") {
			t.Fatalf("the state holds a key's text: %q", h)
		}
	}

	for i := 2; i <= 3; i++ {
		again := f.run(t, ctx)
		if again.err != nil || again.noteWrites != 0 || again.noteFinds != 0 || len(again.failures()) != 0 {
			t.Errorf("run %d, nothing changed: %v, %d note writes, %d searches, failed %v; want none", i, again.err, again.noteWrites, again.noteFinds, again.failures())
		}
		t.Logf("run %d (no change): %d API calls", i, again.calls)
	}

	// An edit of k notes: one update call, no search.
	for _, i := range []int{2, 5, 9} {
		f.rows[i][2] = "edited " + f.rows[i][0]
	}
	f.write(t)
	edit := f.run(t, ctx)
	if edit.err != nil || len(edit.failures()) != 0 {
		t.Fatalf("edit run: %v, failed %v", edit.err, edit.failures())
	}
	if edit.noteUpdates != 3 || edit.noteCreates != 0 || edit.noteWrites != 1 || edit.noteFinds != 0 {
		t.Errorf("edit run: %d updated, %d created in %d calls, %d searches; want 3 updated in one call, no search", edit.noteUpdates, edit.noteCreates, edit.noteWrites, edit.noteFinds)
	}
	f.checkOneNoteEach(t, true)

	// The pairing lost (a state restored from before the notes): one
	// search finds the edited notes, which are updated, not created again;
	// another makes sure each note the read saw changed (the last run's
	// edits) is alone under its case before it is paired.
	if _, err := f.r.Store.ForgetLookupIDs(ctx, "id:"+strings.ToLower(noteObject)); err != nil {
		t.Fatal(err)
	}
	f.rows[3][2], f.rows[4][2] = "again 3", "again 4"
	f.write(t)
	lost := f.run(t, ctx)
	if lost.err != nil || len(lost.failures()) != 0 {
		t.Fatalf("run without pairs: %v, failed %v", lost.err, lost.failures())
	}
	if lost.noteUpdates != 2 || lost.noteCreates != 0 || lost.noteFinds != 2 {
		t.Errorf("run without pairs: %d updated, %d created, %d searches; want 2 updated after two searches (the read's, the write's)", lost.noteUpdates, lost.noteCreates, lost.noteFinds)
	}
	paired := map[string]bool{}
	for _, id := range f.pairs(t) {
		paired[id] = true
	}
	byCase, _ := f.notes(t)
	for _, i := range []int{3, 4} {
		if n := byCase["ngo-th-cm:"+f.rows[i][0]]; !paired[n.ID] {
			t.Errorf("after the search note %s of %s is not paired", n.ID, f.rows[i][0])
		}
	}
	f.checkOneNoteEach(t, false)

	// A note deleted in Salesforce (deletes: propagate): the read sees it
	// gone, its pairing is forgotten and its cell cleared.
	byCase, _ = f.notes(t)
	gone := byCase["ngo-th-cm:"+f.rows[3][0]].ID
	f.orgDelete(t, gone)
	if r := f.run(t, ctx); r.err != nil || len(r.failures()) != 0 {
		t.Fatalf("run after a delete in Salesforce: %v, failed %v", r.err, r.failures())
	}
	sheet, err := os.ReadFile(filepath.Join(f.dir, "cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sheet), "\n"+f.rows[3][0]+","+f.rows[3][1]+",\r") {
		t.Fatalf("the deleted note's cell was not cleared:\n%s", sheet)
	}
	f.rows[3][2] = ""
	f.checkOneNoteEach(t, false)
	for _, id := range f.pairs(t) {
		if id == gone {
			t.Errorf("the deleted note %s is still paired", gone)
		}
	}

	// A cleared cell deletes the note, by Id.
	f.rows[7][2] = ""
	f.write(t)
	del := f.run(t, ctx)
	if del.err != nil || len(del.failures()) != 0 {
		t.Fatalf("delete run: %v, failed %v", del.err, del.failures())
	}
	f.checkOneNoteEach(t, false)
	if again := f.run(t, ctx); again.noteWrites != 0 || len(again.failures()) != 0 {
		t.Errorf("run after the delete: %d note writes, failed %v", again.noteWrites, again.failures())
	}
}

// orgDelete deletes a record as a person would, through the REST API.
func (f *notesFixture) orgDelete(t testing.TB, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, f.srvURL+"/services/data/v"+sftest.DefaultAPIVersion+"/sobjects/"+noteObject+"/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+f.org.IssueToken(sftest.DefaultUsername))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete %s: %s", id, resp.Status)
	}
}

// killedPuts stops the run when the pairing of created notes is about to
// be recorded: the notes exist in Salesforce, their Ids are lost.
type killedPuts struct {
	state.Store
	kill func()
}

func (k killedPuts) PutLookupIDs(ctx context.Context, scope string, ids map[string]string, at time.Time) error {
	if strings.HasPrefix(scope, "id:") && k.kill != nil {
		k.kill()
		return context.Canceled
	}
	return k.Store.PutLookupIDs(ctx, scope, ids, at)
}

// Update kills the run the same way when the pairing is recorded inside a
// transaction (fenced by the run's lease: pairs.go).
func (k killedPuts) Update(ctx context.Context, job string, fn func(state.Tx) error) error {
	return k.Store.Update(ctx, job, func(tx state.Tx) error { return fn(killedTx{Tx: tx, kill: k.kill}) })
}

type killedTx struct {
	state.Tx
	kill func()
}

func (k killedTx) PutLookupIDs(scope string, ids map[string]string, at time.Time) error {
	if strings.HasPrefix(scope, "id:") && k.kill != nil {
		k.kill()
		return context.Canceled
	}
	return k.Tx.PutLookupIDs(scope, ids, at)
}

// TestChildrenByParentKillPoints: a run creating cases and their notes
// (an object with no External ID, written by Id) is killed at each of the
// engine's kill points, when the org has created the notes and the answer
// is lost, and when the answer came but the Ids were not recorded. The
// runs after it converge with exactly one note per case, each paired with
// its Id in the state: a create is never sent twice for one key.
func TestChildrenByParentKillPoints(t *testing.T) {
	const cases = 6
	ref := newNotesFixture(t, cases)
	hits := map[reconcile.Point]int{}
	ref.r.Hooks.At = func(_ context.Context, p reconcile.Point) error { hits[p]++; return nil }
	if r := ref.run(t, context.Background()); r.err != nil || len(r.failures()) != 0 {
		t.Fatalf("reference run: %v %v", r.err, r.failures())
	}
	ref.checkOneNoteEach(t, true)

	killed := errors.New("kill -9")
	type kill struct {
		name string
		arm  func(f *notesFixture, cancel context.CancelFunc)
	}
	var kills []kill
	for _, p := range reconcile.Points {
		for n := 1; n <= hits[p]; n++ {
			kills = append(kills, kill{fmt.Sprintf("%s#%d", p, n), func(f *notesFixture, _ context.CancelFunc) {
				seen := 0
				f.r.Hooks.At = func(_ context.Context, at reconcile.Point) error {
					if at == p {
						if seen++; seen == n {
							return killed
						}
					}
					return nil
				}
			}})
		}
	}
	kills = append(kills,
		kill{"create reached the org, answer lost", func(f *notesFixture, cancel context.CancelFunc) {
			f.onRequest = func(r *http.Request) {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite/sobjects") {
					cancel() // before the handler returns: the answer never reaches the run
				}
			}
		}},
		kill{"create answered, Ids not recorded", func(f *notesFixture, cancel context.CancelFunc) {
			f.r.Store = killedPuts{Store: f.r.Store, kill: cancel}
		}},
	)
	for _, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			f := newNotesFixture(t, cases)
			store := f.r.Store
			ctx, cancel := context.WithCancel(context.Background())
			k.arm(f, cancel)
			if r := f.run(t, ctx); r.err == nil {
				t.Fatalf("the killed run succeeded")
			}
			cancel()
			f.r.Hooks.At, f.onRequest, f.r.Store = nil, nil, store
			for i := 0; ; i++ {
				r := f.run(t, context.Background())
				if r.err != nil {
					t.Fatalf("run %d after the kill: %v", i+1, r.err)
				}
				if r.noteCreates+r.noteUpdates == 0 && len(r.failures()) == 0 && r.res.Result.Plan.NumWrites() == 0 {
					break
				}
				if i == 2 {
					t.Fatalf("not converged after 3 runs: failed %v, plan:\n%s", r.failures(), r.res.Result.Plan)
				}
			}
			f.checkOneNoteEach(t, true)
		})
	}
}

// BenchmarkChildrenByParent reports what runs of a job with 500 cases and
// their notes (an object with no External ID, written by Id) cost, beside
// the same job without the notes: a no-op run, and an edit of k notes
// (goal: ceil(k/200) update calls and no search while the state pairs
// their Ids; one search per batch when it does not).
func BenchmarkChildrenByParent(b *testing.B) {
	plain := notesConfig[:strings.Index(notesConfig, "    children:")]
	for _, bc := range []struct {
		name   string
		config string
		edit   int
		forget bool
	}{
		{"plain_noop", plain, 0, false},
		{"notes_noop", notesConfig, 0, false},
		{"notes_edit_250", notesConfig, 250, false},
		{"notes_edit_250_unpaired", notesConfig, 250, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newNotesFixtureConfig(b, 500, bc.config)
			ctx := context.Background()
			f.run(b, ctx)
			f.run(b, ctx)
			var calls, writes, finds int
			b.ResetTimer()
			for n := range b.N {
				if bc.edit > 0 {
					b.StopTimer()
					for i := 0; i < bc.edit; i++ {
						f.rows[i][2] = fmt.Sprintf("edit %d of %s", n, f.rows[i][0])
					}
					f.write(b)
					if bc.forget {
						if _, err := f.r.Store.ForgetLookupIDs(ctx, "id:"+strings.ToLower(noteObject)); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
				r := f.run(b, ctx)
				if r.err != nil || len(r.failures()) != 0 {
					b.Fatalf("run: %v %v", r.err, r.failures())
				}
				calls += r.calls
				writes += r.noteWrites
				finds += r.noteFinds
			}
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls/run")
			b.ReportMetric(float64(writes)/float64(b.N), "note-writes/run")
			b.ReportMetric(float64(finds)/float64(b.N), "note-searches/run")
		})
	}
}
