package schedules

import (
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// runEndpoints lists the endpoints of the last run's requests (the token
// requests left out).
func runEndpoints(org *sftest.Org) []string {
	var out []string
	for _, e := range org.Requests() {
		if !strings.HasPrefix(e.Endpoint, "oauth.") {
			out = append(out, e.Endpoint)
		}
	}
	return out
}

func endpointCount(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// TestChildrenNoopRunCost: a run describes the job's objects (the parent,
// each child, the lookup targets) in one call, so a no-op run of a job with
// two child objects and a lookup costs the plain job's calls plus one
// query per child object; and a lookup search does not describe its
// object again.
func TestChildrenNoopRunCost(t *testing.T) {
	plain := newFamilyFixture(t, 60, 0, false)
	plain.run(t)
	plain.run(t)
	base := plain.run(t).calls

	f := newFamilyFixture(t, 60, 8, true)
	f.run(t)
	f.run(t)
	r := f.run(t)
	if r.writes != 0 {
		t.Fatalf("the no-op run wrote %d times", r.writes)
	}
	got := runEndpoints(f.org)
	if r.calls != base+2 || endpointCount(got, "composite") != 1 || endpointCount(got, "describe") != 0 {
		t.Errorf("no-op run with two child objects: %d calls %v, want %d (the plain job's %d plus one query per child object), its objects described in one composite call",
			r.calls, got, base+2, base)
	}

	// A new partner: the lookup searches Account, described already.
	if _, err := f.org.Insert("Account", map[string]any{"Name": "Partner 9", "vcms__External_Key__c": partnerCode(9)}, false); err != nil {
		t.Fatal(err)
	}
	f.rows[0][2] = partnerCode(9)
	f.write(t)
	r = f.run(t)
	if fails := r.failures(); len(fails) != 0 || r.writtenTo["vcms__Survivor_Case__c"] != 1 {
		t.Fatalf("edit run: failures %v, cases written %d", fails, r.writtenTo["vcms__Survivor_Case__c"])
	}
	if got := runEndpoints(f.org); endpointCount(got, "describe") != 0 || endpointCount(got, "composite") != 1 {
		t.Errorf("a run resolving a new lookup value made %v: the lookup's object is described with the job's, once", got)
	}
}
