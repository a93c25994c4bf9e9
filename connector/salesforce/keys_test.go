package salesforce

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// A key that cannot be a key (a NUL, a bidi override, longer than the key
// field) fails alone against the fake org: ReadKeys returns the good keys'
// records, Upsert, Delete and SetKeys fail that record with INVALID_KEY
// and write the others, and no such key reaches a query or a request. The
// errors never hold the key.
func TestInvalidKeysFailAlone(t *testing.T) {
	ctx := context.Background()
	org, c := fakeOrg(t, nil)
	o, err := c.Describe(ctx, caseObject)
	if err != nil {
		t.Fatal(err)
	}
	long := "ngo-th-cm:" + strings.Repeat("L", max(o.KeyField().Length, connector.MaxKeyLength))
	bad := []string{"ngo-th-cm:TH-\x00-1", "ngo-th-cm:TH-\u202e-2", long}
	good := caseRecords(2, 70000, "Ann")
	noKey := func(what string, err error) {
		t.Helper()
		var re *connector.RecordError
		if !errors.As(err, &re) || re.Code != connector.CodeInvalidKey || re.Key != "" {
			t.Errorf("%s: %v, want INVALID_KEY naming no key", what, err)
			return
		}
		if msg := err.Error(); strings.Contains(msg, "LLL") || strings.ContainsAny(msg, "\x00\u202e") {
			t.Errorf("%s: the error holds the key: %q", what, msg)
		}
	}
	org.ResetRequests()
	recs := slices.Clone(good)
	for _, k := range bad {
		recs = append(recs, connector.Record{Key: k, Fields: good[0].Fields})
	}
	res, err := c.Upsert(ctx, caseObject, recs)
	if err != nil {
		t.Fatalf("upsert with invalid keys among good ones: %v", err)
	}
	for i, r := range res {
		if i < len(good) {
			if r.Err != nil || !r.Created {
				t.Errorf("upsert %s: %+v", r.Key, r)
			}
			continue
		}
		noKey("upsert", r.Err)
	}

	var got []string
	keys := []string{good[1].Key, bad[0], bad[1], bad[2], good[0].Key}
	if err := c.ReadKeys(ctx, caseObject, keys, func(r connector.Record) error {
		if r.Err != nil {
			t.Errorf("read by key: %v", r.Err)
		}
		got = append(got, r.Key)
		return nil
	}); err != nil {
		t.Fatalf("ReadKeys with invalid keys among good ones: %v", err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{good[0].Key, good[1].Key}) {
		t.Errorf("ReadKeys gave %q, want the two good keys", got)
	}

	// A record Salesforce holds with such a key reads as a record without
	// one (named by its Id) and is not listed.
	id, err := org.Insert(caseObject, map[string]any{"vcms__External_Key__c": bad[1], "vcms__Last_Name__c": "Test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var odd []connector.Record
	if _, err := c.Read(ctx, caseObject, "", func(r connector.Record) error {
		if r.ID == id {
			odd = append(odd, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(odd) != 1 || odd[0].Key != "" || !strings.Contains(odd[0].Err.Error(), id) {
		t.Errorf("the record with a bad key read as %+v", odd)
	} else {
		noKey("read", odd[0].Err)
	}
	if err := c.ListKeys(ctx, caseObject, func(k string) error {
		if connector.CheckKey(k, 0) != nil {
			t.Errorf("ListKeys passed a key that cannot be a key")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	res, err = c.Delete(ctx, caseObject, append([]string{bad[0], good[0].Key}, bad[1:]...))
	if err != nil {
		t.Fatalf("delete with invalid keys among good ones: %v", err)
	}
	if res[1].Err != nil {
		t.Errorf("delete %s: %v", good[0].Key, res[1].Err)
	}
	for _, i := range []int{0, 2, 3} {
		noKey("delete", res[i].Err)
	}
	if _, ok := org.Get(id); !ok {
		t.Errorf("the record holding the bad key was deleted")
	}

	for _, e := range org.Requests() {
		if strings.Contains(e.Query, "LLL") || strings.Contains(e.Path, "LLL") ||
			strings.ContainsAny(e.Query+e.Path, "\x00\u202e") || strings.Contains(e.Query, `\u`) || strings.Contains(e.Query, "%00") ||
			strings.Contains(strings.ToUpper(e.Query), "%E2%80%AE") {
			t.Errorf("a request holds a bad key: %s %s", e.Endpoint, e.Query)
		}
		if e.Status >= 400 {
			t.Errorf("request %s %s failed: %d", e.Endpoint, e.Query, e.Status)
		}
	}
}
