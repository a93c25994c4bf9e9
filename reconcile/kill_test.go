package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

// killWorld sets up a world synced once, then edited on both sides so the
// next run writes in several batches on both sides: updates, creates,
// deletes and a conflict.
func killWorld(t *testing.T) *world {
	w := newWorld(t)
	w.job.Deletes = reconcile.Propagate
	w.job.BatchSize = 2
	for i := 1; i <= 6; i++ {
		key := fmt.Sprintf("TH-%04d", i)
		for _, s := range []*side{w.sf, w.local} {
			if err := s.set(key, map[string]string{"Name__c": "n" + key, "Stage__c": "Active", "Amount__c": "1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.local.set("TH-0001", map[string]string{"Amount__c": "2"}))
	must(w.local.set("TH-0002", map[string]string{"Name__c": "Bee"}))
	must(w.local.set("TH-0003", map[string]string{"Stage__c": "Closed"}))
	must(w.sf.set("TH-0004", map[string]string{"Amount__c": "3"}))
	must(w.sf.set("TH-0003", map[string]string{"Stage__c": "Follow_Up"})) // conflict: salesforce wins
	must(w.sf.set("TH-0010", map[string]string{"Name__c": "new sf"}))
	must(w.sf.set("TH-0011", map[string]string{"Name__c": "new sf 2"}))
	must(w.local.set("TH-0012", map[string]string{"Name__c": "new local"}))
	must(w.sf.del("TH-0005"))
	must(w.local.del("TH-0006"))
	// Two cases opened in Salesforce, adopted: each takes a key in
	// Salesforce, then is created locally (keyless.go).
	w.job.Adopt = &reconcile.Adopt{Prefix: "sf:"}
	for _, id := range []string{"a0K1", "a0K2"} {
		w.sf.nokey[id] = connector.Record{ID: id, Fields: map[string]connector.Value{"Name__c": connector.Text("opened in salesforce"), "Stage__c": connector.Null(), "Amount__c": connector.Null()}}
	}
	return w
}

func TestKillPoints(t *testing.T) {
	ctx := context.Background()
	// A clean run: how often each point is passed, and the end state.
	ref := killWorld(t)
	hits := map[reconcile.Point]int{}
	ref.eng.Hooks.At = func(_ context.Context, p reconcile.Point) error { hits[p]++; return nil }
	if _, err := ref.sync(reconcile.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	wantSF, wantLocal := ref.sf.dump(), ref.local.dump()
	if !slices.Equal(wantSF, wantLocal) {
		t.Fatalf("reference run did not converge:\n%v\n%v", wantSF, wantLocal)
	}
	for _, l := range wantSF {
		if strings.HasPrefix(l, "(no key") {
			t.Fatalf("reference run left a record without a key: %s", l)
		}
	}
	if !slices.ContainsFunc(wantLocal, func(l string) bool { return strings.HasPrefix(l, "sf:a0K2 ") }) {
		t.Fatalf("reference run did not adopt: %v", wantLocal)
	}
	if hits[reconcile.BeforeWrite] < 3 {
		t.Fatalf("the scenario should write several batches, got %v", hits)
	}
	killed := errors.New("kill -9")
	for _, p := range reconcile.Points {
		if hits[p] == 0 {
			t.Fatalf("point %s never reached", p)
		}
		for n := 1; n <= hits[p]; n++ {
			t.Run(fmt.Sprintf("%s#%d", p, n), func(t *testing.T) {
				w := killWorld(t)
				seen := 0
				w.eng.Hooks.At = func(_ context.Context, at reconcile.Point) error {
					if at == p {
						if seen++; seen == n {
							return killed
						}
					}
					return nil
				}
				if _, err := w.sync(reconcile.RunOptions{}); !errors.Is(err, killed) {
					t.Fatalf("run with a kill at %s#%d: %v", p, n, err)
				}
				w.eng.Hooks.At = nil
				// Run again until nothing is left to write (at most 3).
				for i := 0; ; i++ {
					res, err := w.sync(reconcile.RunOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if res.Plan.NumWrites() == 0 {
						break
					}
					if i == 2 {
						t.Fatalf("not converged after 3 runs; last plan:\n%s", res.Plan)
					}
				}
				if got := w.sf.dump(); !slices.Equal(got, wantSF) {
					t.Errorf("salesforce after recovery:\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(wantSF, "\n\t"))
				}
				if got := w.local.dump(); !slices.Equal(got, wantLocal) {
					t.Errorf("local after recovery:\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(wantLocal, "\n\t"))
				}
				if ps, _ := w.store.Pending(ctx, w.job.Name); len(ps) != 0 {
					t.Errorf("pending after recovery: %+v", ps)
				}
			})
		}
	}
}
