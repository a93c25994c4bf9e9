package reconcile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/reconcile"
)

// A plan's lines come one at a time from All, as Lines gives them, and
// writes that set the same fields share their Changes without mixing them
// up with writes that set others: each update lists its own fields and
// reasons, each create the fields it sets.
func TestPlanLinesOneAtATime(t *testing.T) {
	w := newWorld(t)
	seedBoth(t, w, map[string]map[string]string{
		"TH-0001": {"Name__c": "A", "Stage__c": "Active"},
		"TH-0002": {"Name__c": "B", "Stage__c": "Active"},
		"TH-0003": {"Name__c": "C", "Stage__c": "Active"},
		"TH-0004": {"Name__c": "D", "Stage__c": "Active"},
		"TH-0008": {"Name__c": "H", "Stage__c": "Active"},
		"TH-0009": {"Name__c": "I", "Stage__c": "Active"},
	})
	w.job.Conflict = reconcile.SalesforceWins
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		s   *side
		key string
		kv  map[string]string
	}{
		{w.local, "TH-0001", map[string]string{"Name__c": "A2", "Stage__c": "Active"}},
		{w.local, "TH-0002", map[string]string{"Name__c": "B", "Stage__c": "Closed"}},
		{w.local, "TH-0003", map[string]string{"Name__c": "C2", "Stage__c": "Active"}},
		{w.sf, "TH-0004", map[string]string{"Name__c": "D2", "Stage__c": "Closed"}},
		{w.local, "TH-0005", map[string]string{"Name__c": "E", "Stage__c": "Active", "Amount__c": "1.50"}},
		{w.local, "TH-0006", map[string]string{"Name__c": "F"}},
		{w.local, "TH-0007", map[string]string{"Name__c": "G", "Stage__c": "Active", "Amount__c": "2.50"}},
		{w.sf, "TH-0008", map[string]string{"Name__c": "H2", "Stage__c": "Active"}},
		{w.sf, "TH-0009", map[string]string{"Name__c": "I2", "Stage__c": "Active"}},
		{w.local, "TH-0009", map[string]string{"Name__c": "I3", "Stage__c": "Active"}},
	}
	for _, e := range edits {
		if err := e.s.set(e.key, e.kv); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.sync(reconcile.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"update salesforce TH-0001: Name__c (changed on local)",
		"update salesforce TH-0002: Stage__c (changed on local)",
		"update salesforce TH-0003: Name__c (changed on local)",
		"create salesforce TH-0005: new on local [Name__c Stage__c Amount__c]",
		"create salesforce TH-0006: new on local [Name__c Stage__c Amount__c]",
		"create salesforce TH-0007: new on local [Name__c Stage__c Amount__c]",
		"update local TH-0004: Name__c (changed on salesforce), Stage__c (changed on salesforce)",
		"update local TH-0008: Name__c (changed on salesforce)",
		"update local TH-0009: Name__c (conflict: salesforce_wins)",
	}
	p := res.Plan
	if got := p.Lines(); !slices.Equal(got, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var got []string
	for l := range p.All() {
		got = append(got, l)
	}
	if !slices.Equal(got, want) || p.Len() != len(want) {
		t.Fatalf("All yields (Len %d):\n%s\nwant:\n%s", p.Len(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for l := range p.All() {
		if l != want[0] {
			t.Fatalf("first line %q, want %q", l, want[0])
		}
		break // a consumer may stop early
	}
}
