package salesforce

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
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

// TestFindValuesIn turns Ids back into a field's values in one query per
// chunk: an Id asked in its 15-character form gets its record's value
// too, an Id of no record (deleted) and a string that is no Id are
// missing, a record with an empty field maps to "", and 1,200 Ids take
// three chunks of at most 500.
func TestFindValuesIn(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	want := map[string]string{}
	var ids []string
	for i := range 1200 {
		v := fmt.Sprintf("พันธมิตร-%04d", i)
		if i == 7 {
			v = `O'Brien "Foundation"`
		}
		id, err := org.Insert("Account", map[string]any{"Name": "Partner", "vcms__External_Key__c": v}, true)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = v
		ids = append(ids, id)
	}
	empty, err := org.Insert("Account", map[string]any{"Name": "No code"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want[empty] = ""
	short := ids[3][:15]
	want[short] = want[ids[3]]
	gone, err := org.Insert("Account", map[string]any{"Name": "Gone", "vcms__External_Key__c": "gone"}, true)
	if err != nil {
		t.Fatal(err)
	}
	sink := connector.Sink(c)
	if res, err := sink.Delete(ctx, "Account", []string{"gone"}); err != nil || res[0].Err != nil {
		t.Fatalf("deleting: %v %+v", err, res)
	}
	asked := append(slices.Clone(ids), empty, short, gone, "x' OR Name != 'y", ids[0])

	org.ResetRequests()
	got, err := c.FindValuesIn(ctx, "Account", "vcms__External_Key__c", asked)
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range want {
		if g, ok := got[id]; !ok || g != v {
			t.Errorf("FindValuesIn[%s] = %q (present %v), want %q", id, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("FindValuesIn returned %d Ids, want %d (no deleted record, no injected condition)", len(got), len(want))
	}
	if n := org.CountRequests("query"); n != 3 {
		t.Errorf("FindValuesIn made %d query calls for %d Ids, want 3 (chunks of at most %d)", n, len(ids)+1, maxFindIn)
	}
	for _, e := range org.Requests() {
		if q, _ := url.ParseQuery(e.Query); !strings.Contains(q.Get("q"), "SELECT Id, vcms__External_Key__c FROM Account WHERE Id IN (") {
			t.Errorf("query %q, want SELECT Id, vcms__External_Key__c FROM Account WHERE Id IN (...)", q.Get("q"))
		}
	}

	org.ResetRequests()
	if got, err := c.FindValuesIn(ctx, "Account", "vcms__External_Key__c", []string{"not-an-id"}); err != nil || len(got) != 0 || org.CountRequests("query") != 0 {
		t.Errorf("FindValuesIn(no Id) = %v, %v after %d queries; want nothing and no call", got, err, org.CountRequests("query"))
	}
	if _, err := c.FindValuesIn(ctx, "Account", "No_Such_Field__c", ids[:1]); err == nil {
		t.Error("unknown field: want an error")
	}
}

// TestFindIDsInBody: the values of a classified lookup never appear in a
// request URL (issue 16). The statements travel in Composite bodies, five
// to a call; a result longer than a page is followed by its
// nextRecordsUrl, which holds a locator and no value; the answers are
// FindIDsIn's.
func TestFindIDsInBody(t *testing.T) {
	org, c := fakeOrg(t, func(o *Options) { o.QueryBatchSize = 200 })
	ctx := context.Background()
	var values []string
	want := map[string][]string{}
	for i := range 300 {
		v := fmt.Sprintf("สมชาย ใจดี ภาพ-ភាពជាដៃគូ-Marker-%03d", i)
		id, err := org.Insert("Account", map[string]any{"Name": v, "vcms__External_Key__c": fmt.Sprintf("k%d", i)}, true)
		if err != nil {
			t.Fatal(err)
		}
		want[v] = []string{id}
		values = append(values, v)
	}
	// 250 records share one name: its statement's result takes two pages.
	for range 250 {
		id, err := org.Insert("Account", map[string]any{"Name": "Marker-Shared"}, true)
		if err != nil {
			t.Fatal(err)
		}
		want["Marker-Shared"] = append(want["Marker-Shared"], id)
	}
	values = append(values, "Marker-Shared", "Marker-Nobody")
	want["Marker-Nobody"] = nil

	org.ResetRequests()
	got, err := c.FindIDsInBody(ctx, "Account", "Name", values)
	if err != nil {
		t.Fatal(err)
	}
	for v, ids := range want {
		g, w := slices.Clone(got[v]), slices.Clone(ids)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("FindIDsInBody[%q]: %d Ids, want %d", v, len(g), len(w))
		}
	}
	composites, pages := 0, 0
	for _, e := range org.Requests() {
		u, _ := url.QueryUnescape(e.Path + "?" + e.Query)
		if strings.Contains(u, "Marker") || strings.Contains(u, "SELECT") {
			t.Errorf("a value or statement in a request URL: %s %s", e.Method, u)
		}
		switch e.Endpoint {
		case "composite":
			composites++
		case "query.more":
			pages++
		case "describe":
		default:
			t.Errorf("unexpected request %s %s (%s)", e.Method, e.Path, e.Endpoint)
		}
	}
	// The long Thai and Khmer values make seven or so statements of URL
	// size: two Composite calls of at most five query subrequests; the
	// shared name's statement has a second page, fetched by locator.
	if composites != 2 || pages < 1 {
		t.Errorf("%d composite calls and %d pages fetched by locator, want 2 and at least 1", composites, pages)
	}
}
