package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

func TestFindIDs(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	uid := org.UserID(sftest.DefaultUsername)

	ids, err := c.FindIDs(ctx, "User", "Username", strings.ToUpper(sftest.DefaultUsername), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != uid {
		t.Errorf("FindIDs(User.Username) = %v, want [%s] (case-insensitive match)", ids, uid)
	}

	org.ResetRequests()
	ids, err = c.FindIDs(ctx, "User", "Username", "nobody' OR Username != '", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("an injected condition matched %v: the value changed the query", ids)
	}
	if n := org.CountRequests("query"); n != 1 {
		t.Errorf("FindIDs made %d query calls, want 1", n)
	}

	if _, err := c.FindIDs(ctx, "User", "No_Such_Field__c", "x", 2); err == nil || strings.Contains(err.Error(), "x\"") {
		t.Errorf("unknown field: err = %v", err)
	}
}

// TestFindIDsIn resolves many values in few queries: values with quotes,
// backslashes and Thai and Khmer text come back under the value asked
// (matched case-insensitively), a value no record holds maps to no Id, a
// value two records hold to both, and an injected condition matches
// nothing.
func TestFindIDsIn(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	want := map[string][]string{}
	insert := func(key string) string {
		t.Helper()
		id, err := org.Insert("Account", map[string]any{"Name": "Partner", "vcms__External_Key__c": key}, true)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	var values []string
	// Enough long Thai and Khmer values that one URL cannot hold them.
	for i := range 300 {
		v := fmt.Sprintf("พันธมิตร-ភាពជាដៃគូ-%03d", i)
		want[v] = []string{insert(v)}
		values = append(values, v)
	}
	for _, v := range []string{`O'Brien Foundation`, `back\slash "quoted"`, "Mixed-Case-P01"} {
		want[v] = []string{insert(v)}
		values = append(values, v)
	}
	// Asked in another case: SOQL matches text case-insensitively.
	want["mixed-case-p01"] = want["Mixed-Case-P01"]
	values = append(values, "mixed-case-p01")
	dup := []string{insert("shared"), insert("SHARED")}
	want["shared"] = dup
	values = append(values, "shared", "no-such-partner", "x' OR Name != 'y", "shared")
	want["no-such-partner"], want["x' OR Name != 'y"] = nil, nil

	org.ResetRequests()
	got, err := c.FindIDsIn(ctx, "Account", "vcms__External_Key__c", values)
	if err != nil {
		t.Fatal(err)
	}
	for v, ids := range want {
		g := slices.Clone(got[v])
		slices.Sort(g)
		w := slices.Clone(ids)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("FindIDsIn[%q] = %v, want %v", v, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("FindIDsIn returned %d values, want %d", len(got), len(want))
	}
	queries := org.CountRequests("query")
	// The Thai and Khmer values take about 175 characters each once
	// URL-encoded: some 53,000 in all, five statements under the limit.
	if queries < 2 || queries > 6 {
		t.Errorf("FindIDsIn made %d query calls for %d values, want a few chunks (2 to 6)", queries, len(values))
	}
	for _, e := range org.Requests() {
		if len(e.Path)+len(e.Query) > 16000 {
			t.Errorf("a query URL of %d bytes: over the URI limit", len(e.Path)+len(e.Query))
		}
	}

	org.ResetRequests()
	if got, err := c.FindIDsIn(ctx, "Account", "vcms__External_Key__c", nil); err != nil || len(got) != 0 || org.CountRequests("query") != 0 {
		t.Errorf("FindIDsIn(no values) = %v, %v after %d queries; want nothing and no call", got, err, org.CountRequests("query"))
	}
	if _, err := c.FindIDsIn(ctx, "Account", "No_Such_Field__c", []string{"secret-value"}); err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("unknown field: err = %v", err)
	}
}
