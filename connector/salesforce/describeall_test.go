package salesforce

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// endpoints lists the endpoints of the org's requests since the last reset
// (the token requests left out).
func endpoints(org *sftest.Org) []string {
	var out []string
	for _, e := range org.Requests() {
		if !strings.HasPrefix(e.Endpoint, "oauth.") {
			out = append(out, e.Endpoint)
		}
	}
	return out
}

// TestDescribeAll: the objects of a run are described in one Composite
// call; the describes that follow cost nothing and give what a describe of
// each gives; an unknown object fails alone, reported as Describe reports
// it; cached objects are not asked again, and a single one is described by
// itself.
func TestDescribeAll(t *testing.T) {
	ctx := context.Background()
	org, c := fakeOrg(t, nil)
	_, alone := fakeOrg(t, nil) // describes one object at a time
	const unknown = "vcms__Nothing_Here__c"
	objects := []string{caseObject, "vcms__Assistance__c", unknown, "Account", caseObject}

	org.ResetRequests()
	err := c.DescribeAll(ctx, objects)
	if got := endpoints(org); !reflect.DeepEqual(got, []string{"composite"}) {
		t.Fatalf("DescribeAll made %v, want one composite call", got)
	}
	_, want := alone.Describe(ctx, unknown)
	if err == nil || want == nil || err.Error() != want.Error() || !errors.Is(err, connector.ErrObjectNotFound) {
		t.Fatalf("DescribeAll error %v, want %v (as Describe reports it)", err, want)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "NOT_FOUND" || ae.Object != unknown {
		t.Errorf("DescribeAll error %#v: want the subrequest's NOT_FOUND for %s", ae, unknown)
	}

	org.ResetRequests()
	for _, n := range []string{caseObject, "vcms__Assistance__c", "Account"} {
		got, err := c.Describe(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		w, err := alone.Describe(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s described by DescribeAll differs from its own describe", n)
		}
	}
	if got := endpoints(org); len(got) != 0 {
		t.Errorf("Describe after DescribeAll made %v, want no call", got)
	}

	// Cached objects are skipped: none left, no call; one left, its own
	// describe. The unknown object was not cached: it is asked again.
	org.ResetRequests()
	if err := c.DescribeAll(ctx, []string{caseObject, "Account"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DescribeAll(ctx, []string{caseObject, unknown}); !errors.Is(err, connector.ErrObjectNotFound) {
		t.Errorf("unknown object again: %v", err)
	}
	if got := endpoints(org); !reflect.DeepEqual(got, []string{"describe"}) {
		t.Errorf("DescribeAll of cached objects and one more made %v, want its describe only", got)
	}

	// A run forgets the cache: the next DescribeAll asks again, in one call.
	c.ForgetDescribes()
	org.ResetRequests()
	if err := c.DescribeAll(ctx, []string{caseObject, "Account"}); err != nil {
		t.Fatal(err)
	}
	if got := endpoints(org); !reflect.DeepEqual(got, []string{"composite"}) {
		t.Errorf("DescribeAll after ForgetDescribes made %v", got)
	}
}

// TestDescribeAllChunks: more objects than a Composite call takes (25) are
// described in one call per 25.
func TestDescribeAllChunks(t *testing.T) {
	ctx := context.Background()
	org, c := fakeOrg(t, nil)
	objects := []string{caseObject, "vcms__Assistance__c", "Account"}
	for i := 0; len(objects) < 30; i++ {
		objects = append(objects, "vcms__Missing_"+string(rune('A'+i))+"__c")
	}
	org.ResetRequests()
	err := c.DescribeAll(ctx, objects)
	if got := endpoints(org); !reflect.DeepEqual(got, []string{"composite", "composite"}) {
		t.Fatalf("DescribeAll of 30 objects made %v", got)
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 27 {
		t.Errorf("%d failures, want 27 (one per unknown object)", n)
	}
	org.ResetRequests()
	if _, err := c.Describe(ctx, "Account"); err != nil || len(endpoints(org)) != 0 {
		t.Errorf("Account after DescribeAll: %v, %v", err, endpoints(org))
	}
}
