package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

func stipendObject() *connector.Object {
	return &connector.Object{Name: "Stipend__c", Key: "Key__c", Fields: []connector.Field{
		{Name: "Key__c", Type: connector.TypeString, Length: 120, ExternalID: true, Createable: true, Updateable: true},
		{Name: "Amount__c", Type: connector.TypeCurrency, Precision: 10, Scale: 2, Nillable: true, Createable: true, Updateable: true},
	}}
}

func keysOf(t *testing.T, s *side, object string) []string {
	t.Helper()
	var out []string
	if err := s.ListKeys(context.Background(), object, func(k string) error { out = append(out, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// A row's family: a case and its stipend. Parents are written first; the
// stipend of a case whose create failed is skipped and pending, and goes
// once the case does. Deleting a case that has a stipend needs --force.
func TestFamilies(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.sf.AddObject(stipendObject())
	w.local.AddObject(stipendObject())
	stipends := &reconcile.Job{Name: "stipends", Object: "Stipend__c", Fields: []reconcile.FieldSpec{{Name: "Amount__c", RuleHash: "r1"}}}
	w.job.Children = []reconcile.Child{{Job: stipends, Suffix: "stipend"}}
	w.job.Deletes = reconcile.Propagate
	for _, k := range []string{"TH-0001", "TH-0002"} {
		if err := w.local.set(k, map[string]string{"Name__c": "n" + k}); err != nil {
			t.Fatal(err)
		}
		res, err := w.local.Upsert(ctx, "Stipend__c", []connector.Record{{Key: k + ":stipend", Fields: map[string]connector.Value{"Amount__c": connector.Int(500)}}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
	}
	w.sf.failing[connector.KeyID("TH-0002", false)] = true
	res, err := w.sync(reconcile.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Children) != 1 {
		t.Fatalf("children results: %d", len(res.Children))
	}
	child := res.Children[0]
	if len(child.Failed) != 1 || child.Failed[0].Key != "TH-0002:stipend" || child.Failed[0].Code != string(connector.CodeNotProcessed) {
		t.Fatalf("child failures: %+v", child.Failed)
	}
	if got := keysOf(t, w.sf, "Stipend__c"); !slices.Equal(got, []string{"TH-0001:stipend"}) {
		t.Fatalf("salesforce stipends: %v", got)
	}
	ps, _ := w.store.Pending(ctx, "stipends")
	if len(ps) != 1 || ps[0].Key != "th-0002:stipend" {
		t.Fatalf("child pending: %+v", ps)
	}
	// The parent heals: parent and child go through.
	delete(w.sf.failing, connector.KeyID("TH-0002", false))
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, w.sf, "Stipend__c"); !slices.Equal(got, []string{"TH-0001:stipend", "TH-0002:stipend"}) {
		t.Fatalf("salesforce stipends after healing: %v", got)
	}
	// Deleting a case with a stipend needs --force.
	if err := w.sf.del("TH-0001"); err != nil {
		t.Fatal(err)
	}
	_, err = w.sync(reconcile.RunOptions{})
	if !errors.Is(err, reconcile.ErrSafetyAbort) {
		t.Fatalf("deleting a parent with children: %v", err)
	}
	if got := keysOf(t, w.local, "Case__c"); len(got) != 2 {
		t.Fatalf("local cases after the abort: %v", got)
	}
	if _, err := w.sync(reconcile.RunOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, w.local, "Case__c"); !slices.Equal(got, []string{"TH-0002"}) {
		t.Fatalf("local cases after --force: %v", got)
	}
}
