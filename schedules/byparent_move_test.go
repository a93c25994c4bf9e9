package schedules

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// orgMove moves a note under another case, as a person does in
// Salesforce (the note's master-detail field is reparentable).
func (f *notesFixture) orgMove(t *testing.T, id, caseID string) {
	t.Helper()
	c, ok := f.org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:"+caseID)
	if !ok {
		t.Fatalf("no case %s in the org", caseID)
	}
	body, _ := json.Marshal(map[string]any{"vcms__Case__c": c.ID})
	req, _ := http.NewRequest(http.MethodPatch, f.srvURL+"/services/data/v"+sftest.DefaultAPIVersion+"/sobjects/"+noteObject+"/"+id, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+f.org.IssueToken(sftest.DefaultUsername))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("move %s: %s", id, resp.Status)
	}
	if n, _ := f.org.Get(id); n.Fields["vcms__Case__c"] != c.ID {
		t.Fatalf("note %s not moved: %v", id, n.Fields["vcms__Case__c"])
	}
}

// TestChildrenByParentMoved: a person moves a synced note under another
// case. The next run reads it under the other case's key, and the note
// is that case's from then on: its old key is unpaired, so an edit of the
// first case's row creates a note of its own, and deleting the row
// deletes nothing of the other case's.
func TestChildrenByParentMoved(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   string // the case the note is moved under
		held bool   // the case already has a note: the moved one is left alone
	}{
		{name: "to a case without a note", to: "NT-0003"},
		{name: "to a case with a note", to: "NT-0002", held: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newNotesFixture(t, 3)
			f.rows[2][2] = "" // NT-0003 has no note
			f.write(t)
			if r := f.run(t, ctx); r.err != nil || len(r.failures()) != 0 {
				t.Fatalf("first run: %v %v", r.err, r.failures())
			}
			byCase, _ := f.notes(t)
			moved := byCase["ngo-th-cm:NT-0001"].ID
			f.orgMove(t, moved, tc.to)
			if r := f.run(t, ctx); r.err != nil {
				t.Fatalf("run after the move: %v", r.err)
			}
			text := func() any { n, _ := f.org.Get(moved); return n.Fields["vcms__Summary__c"] }
			before := text()

			// An edit of the first case's note never reaches the moved
			// one. (The engine still takes the first case's note for
			// there, so its edit is sent as an update, and the create it
			// turns into lacks the note's other fields: the key fails
			// REQUIRED_FIELD_MISSING rather than write another case's
			// note.)
			f.rows[0][2] = "case one's own"
			f.write(t)
			if r := f.run(t, ctx); r.err != nil {
				t.Fatalf("edit run: %v", r.err)
			}
			if got := text(); got != before {
				t.Errorf("the moved note %s (now %s's) was written with case NT-0001's data: %v", moved, tc.to, got)
			}

			// Deleting the first case's note deletes its own, never the
			// moved one.
			f.rows[0][2] = ""
			f.write(t)
			if r := f.run(t, ctx); r.err != nil {
				t.Fatalf("delete run: %v", r.err)
			}
			if _, ok := f.org.Get(moved); !ok {
				t.Fatalf("the moved note %s (now %s's) was deleted", moved, tc.to)
			}
			if _, count := f.notes(t); count["ngo-th-cm:NT-0001"] != 0 {
				t.Errorf("case NT-0001 has %d notes after its note was deleted, want none", count["ngo-th-cm:NT-0001"])
			}
			if got := text(); got != before {
				t.Errorf("the moved note %s was written: %v", moved, got)
			}
		})
	}
}
