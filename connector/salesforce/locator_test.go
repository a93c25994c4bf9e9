package salesforce

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// TestQueryLocatorExpired: a complete read whose nextRecordsUrl expired
// (15 minutes idle, or released by an eleventh cursor) restarts its query
// once and passes every record exactly once; a second expiry fails the read
// with INVALID_QUERY_LOCATOR.
func TestQueryLocatorExpired(t *testing.T) {
	org, c, clock := clockedOrg(t, func(o *Options) { o.QueryBatchSize = 200 })
	ctx := context.Background()
	if _, err := c.Upsert(ctx, caseObject, caseRecords(650, 0, "Ann")); err != nil {
		t.Fatal(err)
	}
	total := len(org.Records(caseObject))
	errStop := errors.New("stop")
	// change changes a record while the read's locator is idle. The first
	// record passed is not passed again by the restarted query, so the
	// cursor must stay behind its change.
	var first string
	var seen map[string]int
	change := func(key string) {
		if seen[key] != 0 && key != first {
			t.Fatalf("%s was passed before it changed", key)
		}
		res, err := c.Upsert(ctx, caseObject, []connector.Record{{Key: key, Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("Changed")}}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("change %s: %v %v", key, err, res)
		}
	}

	for _, tc := range []struct {
		name   string
		expire func() // called once the read is on its second page
		times  int    // how many pages expire
	}{
		{"idle", func() {
			clock.add(16 * time.Minute)
			change(first)
			// The last record (by Id, on the last page) changes later
			// still: the restarted query passes it with the newest
			// SystemModstamp, which must not carry the cursor past the
			// first record's change.
			clock.add(14 * time.Minute)
			recs := org.Records(caseObject)
			change(recs[len(recs)-1].Fields["vcms__External_Key__c"].(string))
		}, 1},
		{"cursor limit", func() {
			for range 10 { // ten more open cursors release the read's
				_, err := c.Read(ctx, caseObject, "", func(connector.Record) error { return errStop })
				if !errors.Is(err, errStop) {
					t.Fatal(err)
				}
			}
		}, 1},
		{"twice", func() { clock.add(16 * time.Minute) }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org.ResetRequests()
			seen = map[string]int{}
			n, expired := 0, 0
			first = ""
			cur, err := c.Read(ctx, caseObject, "", func(r connector.Record) error {
				seen[r.Key]++
				if first == "" {
					first = r.Key
				}
				if n++; n%200 == 50 && n > 200 && expired < tc.times {
					expired++
					tc.expire()
				}
				return nil
			})
			if tc.times > 1 {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != "INVALID_QUERY_LOCATOR" {
					t.Fatalf("second expiry: %v, want INVALID_QUERY_LOCATOR", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if expired != 1 {
				t.Fatalf("the locator was not expired (%d records)", n)
			}
			if len(seen) != total || n != total {
				t.Errorf("read passed %d records (%d keys), the org holds %d", n, len(seen), total)
			}
			for k, times := range seen {
				if times != 1 {
					t.Errorf("%s passed %d times", k, times)
				}
			}
			refused := 0
			for _, e := range org.Requests() {
				if e.Status == 400 {
					refused++
				}
			}
			if refused != 1 {
				t.Errorf("%d requests refused, want the one expired locator", refused)
			}
			// The next incremental read passes what changed during the
			// pause (the first record, in "idle"), and nothing else.
			var again []string
			if _, err := c.Read(ctx, caseObject, cur, func(r connector.Record) error { again = append(again, r.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			want := []string(nil)
			if tc.name == "idle" {
				want = []string{first}
			}
			if !slices.Equal(again, want) {
				t.Errorf("incremental read after the restart passed %v, want %v", again, want)
			}
		})
	}
}
