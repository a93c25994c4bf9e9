package sqldb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// TestInvalidKeys: a row whose key cannot be a key (a control character,
// a bidi override, 300 characters) is a Record.Err of its own, INVALID_KEY
// naming the key column, with neither the key nor its text in the record or
// the error; the other rows read, list and read by key as usual.
func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("L", 300)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"bk": {Key: "k"}}, "",
				`CREATE TABLE bk (k VARCHAR(400) NOT NULL PRIMARY KEY, name VARCHAR(20) NULL)`)
			bad := []string{"K-\x1b[2J", "K-\u202e9", long}
			if b.name != "postgres" { // PostgreSQL text cannot hold a NUL
				bad = append(bad, "K-\x002")
			}
			for _, k := range append([]string{"K-1", "K-3"}, bad...) {
				if _, err := c.DB().Exec("INSERT INTO bk (k, name) VALUES ("+ph(b, 1)+", "+ph(b, 2)+")", k, "secret"); err != nil {
					t.Fatal(err)
				}
			}
			var good []string
			n := 0
			_, err := c.Read(ctx, "bk", "", func(r connector.Record) error {
				if r.Err == nil {
					good = append(good, r.Key)
					return nil
				}
				n++
				var re *connector.RecordError
				msg := r.Err.Error()
				if r.Key != "" || connector.CodeOf(r.Err) != connector.CodeInvalidKey || !errors.As(r.Err, &re) || re.Key != "" || re.Field != "k" {
					t.Errorf("record key %q, error %q: want no key, INVALID_KEY on column k", r.Key, msg)
				}
				if _, ok := r.Fields["k"]; ok {
					t.Errorf("the record of an invalid key carries the key column")
				}
				if strings.Contains(msg, "LLL") || strings.Contains(msg, "secret") || strings.ContainsAny(msg, "\x00\x1b\u202e") {
					t.Errorf("error repeats the key or a value: %q", msg)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(good)
			if !slices.Equal(good, []string{"K-1", "K-3"}) || n != len(bad) {
				t.Errorf("read %q and %d errors, want K-1 K-3 and %d errors", good, n, len(bad))
			}
			var listed []string
			if err := c.ListKeys(ctx, "bk", func(k string) error { listed = append(listed, k); return nil }); err != nil {
				t.Fatal(err)
			}
			slices.Sort(listed)
			if !slices.Equal(listed, []string{"K-1", "K-3"}) {
				t.Errorf("listed %q, want K-1 K-3", listed)
			}
			var byKey []string
			if err := c.ReadKeys(ctx, "bk", append([]string{"K-3", "K-1"}, bad...), func(r connector.Record) error {
				if r.Err != nil {
					t.Errorf("read by key: %v", r.Err)
				}
				byKey = append(byKey, r.Key)
				return nil
			}); err != nil {
				t.Fatalf("read by key with invalid keys among them: %v", err)
			}
			slices.Sort(byKey)
			if !slices.Equal(byKey, []string{"K-1", "K-3"}) {
				t.Errorf("read by key %q, want K-1 K-3", byKey)
			}
		})
	}
}

func ph(b backend, i int) string {
	if b.name == "postgres" {
		return "$" + string(rune('0'+i))
	}
	return "?"
}
