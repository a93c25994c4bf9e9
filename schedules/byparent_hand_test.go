package schedules

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
	"github.com/rs/zerolog"
)

// handNote adds a second note under a synced case, as a caseworker does
// in Salesforce, and returns its Id.
func (f *notesFixture) handNote(t *testing.T, caseID string) string {
	t.Helper()
	c, ok := f.org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:"+caseID)
	if !ok {
		t.Fatalf("no case %s in the org", caseID)
	}
	id, err := f.org.Insert(noteObject, map[string]any{"vcms__Case__c": c.ID, "vcms__Summary__c": "by hand", "vcms__Note_Type__c": "Legal"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// childUnknown lists the child plan's unknown notes.
func (r notesRun) childUnknown() []string {
	var out []string
	if r.res == nil || r.res.Result == nil {
		return out
	}
	for _, ch := range r.res.Result.Children {
		if ch.Plan == nil {
			continue
		}
		for _, n := range ch.Plan.Notes {
			if n.Kind == reconcile.NoteUnknown {
				out = append(out, n.Key+": "+n.Detail)
			}
		}
	}
	return out
}

// childErrors returns the run's error log of the notes child, as
// `casebridge history --errors` shows it.
func (f *notesFixture) childErrors(t *testing.T, r notesRun) []state.RecordErr {
	t.Helper()
	if r.res == nil || r.res.Result == nil || len(r.res.Result.Children) == 0 {
		t.Fatalf("no child result")
	}
	es, err := f.r.Store.Errors(context.Background(), "notes/note", r.res.Result.Children[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestChildrenByParentHandAdded: a caseworker adds a second note by hand
// under a case whose note the job synced (key: by_parent). The state pairs
// the synced note's Id with the key, so the synced note stays the job's:
// runs go on with no failure and no unknown key, an edit of the row
// updates the synced note, and the hand note is left alone (never
// written), reported once in the run's log by object and Id, no value.
func TestChildrenByParentHandAdded(t *testing.T) {
	ctx := context.Background()
	f := newNotesFixture(t, 3)
	var logs bytes.Buffer
	f.r.Log = zerolog.New(&logs)
	if r := f.run(t, ctx); r.err != nil || len(r.failures()) != 0 {
		t.Fatalf("first run: %v %v", r.err, r.failures())
	}
	byCase, _ := f.notes(t)
	synced := byCase["ngo-th-cm:NT-0002"].ID
	hand := f.handNote(t, "NT-0002")
	logs.Reset()

	r := f.run(t, ctx)
	if r.err != nil || len(r.failures()) != 0 || len(r.childUnknown()) != 0 {
		t.Fatalf("run after the hand note: %v, failed %v, unknown %v; want the synced note to sync on", r.err, r.failures(), r.childUnknown())
	}
	if n := strings.Count(logs.String(), hand); n != 1 || !strings.Contains(logs.String(), noteObject) || strings.Contains(logs.String(), "by hand") {
		t.Errorf("the hand note %s reported %d times (want once, naming %s, no value):\n%s", hand, n, noteObject, logs.String())
	}

	// An edit of the case's note: the synced note is updated, the hand
	// note left alone, and not reported again.
	logs.Reset()
	f.rows[1][2] = "edited"
	f.write(t)
	r = f.run(t, ctx)
	if r.err != nil || len(r.failures()) != 0 || len(r.childUnknown()) != 0 || r.noteUpdates != 1 || r.noteCreates != 0 {
		t.Fatalf("edit run: %v, failed %v, unknown %v, %d updated, %d created; want the synced note updated", r.err, r.failures(), r.childUnknown(), r.noteUpdates, r.noteCreates)
	}
	if n, _ := f.org.Get(synced); n.Fields["vcms__Summary__c"] != "edited" {
		t.Errorf("synced note %s holds %v, want the edit", synced, n.Fields["vcms__Summary__c"])
	}
	if n, _ := f.org.Get(hand); n.Fields["vcms__Summary__c"] != "by hand" {
		t.Errorf("the hand note was written: %v", n.Fields)
	}
	if strings.Contains(logs.String(), hand) {
		t.Errorf("the hand note reported again:\n%s", logs.String())
	}
	if again := f.run(t, ctx); again.err != nil || again.noteWrites != 0 || len(again.failures()) != 0 || len(again.childUnknown()) != 0 {
		t.Errorf("run with nothing changed: %v, %d note writes, failed %v, unknown %v", again.err, again.noteWrites, again.failures(), again.childUnknown())
	}
}

// TestChildrenByParentAmbiguous: with no pairing (a state restored from
// before the notes), a case with two notes in Salesforce is truly
// ambiguous: neither note is written nor copied to the sheet, the key is
// unknown, and the run's error log (history --errors) names the object,
// both records' Ids and what to do. The other cases sync on.
func TestChildrenByParentAmbiguous(t *testing.T) {
	ctx := context.Background()
	f := newNotesFixture(t, 3)
	if r := f.run(t, ctx); r.err != nil || len(r.failures()) != 0 {
		t.Fatalf("first run: %v %v", r.err, r.failures())
	}
	byCase, _ := f.notes(t)
	synced := byCase["ngo-th-cm:NT-0002"].ID
	if _, err := f.r.Store.ForgetLookupIDs(ctx, "id:"+strings.ToLower(noteObject)); err != nil {
		t.Fatal(err)
	}
	hand := f.handNote(t, "NT-0002")
	f.rows[2][2] = "edited 3"
	f.write(t)

	r := f.run(t, ctx)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if u := r.childUnknown(); len(u) != 1 || !strings.HasPrefix(u[0], "ngo-th-cm:NT-0002:note: ") || !strings.Contains(u[0], "DUPLICATE_VALUE") {
		t.Errorf("unknown %v, want NT-0002's note, DUPLICATE_VALUE", u)
	}
	var logged []string
	for _, e := range f.childErrors(t, r) {
		logged = append(logged, e.Key+" "+e.Code+" "+e.Message)
	}
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "ngo-th-cm:NT-0002:note DUPLICATE_VALUE ") ||
		!strings.Contains(logged[0], noteObject) || !strings.Contains(logged[0], synced) || !strings.Contains(logged[0], hand) || !strings.Contains(logged[0], "delete") ||
		strings.Contains(logged[0], "by hand") || strings.Contains(logged[0], f.rows[1][2]) {
		t.Errorf("history --errors: %q; want NT-0002's note, DUPLICATE_VALUE, %s, both Ids and what to do, no value", logged, noteObject)
	}
	if n, _ := f.org.Get(hand); n.Fields["vcms__Summary__c"] != "by hand" {
		t.Errorf("the hand note was written: %v", n.Fields)
	}
	if n, _ := f.org.Get(synced); n.Fields["vcms__Summary__c"] != f.rows[1][2] {
		t.Errorf("the synced note was written: %v", n.Fields)
	}
	if n := byCase["ngo-th-cm:NT-0003"]; r.noteUpdates != 1 {
		t.Errorf("%d notes updated, want NT-0003's (%s)", r.noteUpdates, n.ID)
	}
	sheet := f.sheet(t)
	if !strings.Contains(sheet, "NT-0002,"+f.rows[1][1]+","+f.rows[1][2]+"\r\n") {
		t.Errorf("the sheet's NT-0002 row changed:\n%s", sheet)
	}
}

// sheet returns the job's sheet as it is on disk.
func (f *notesFixture) sheet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
