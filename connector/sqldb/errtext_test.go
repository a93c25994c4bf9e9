package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// TestErrorTextByAllowlist: a database or driver message reaches an error
// only in a form known to be value-free (issue 16). A number too large
// for PostgreSQL's int4 is refused by pgx, whose message quotes it
// ("unable to encode 3000000077 into binary format for int4"); MySQL and
// SQLite refuse or store it in their own ways. No error shows the value.
func TestErrorTextByAllowlist(t *testing.T) {
	ctx := context.Background()
	const marker = "3000000077"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"u": {Key: "k"}}, "",
				`CREATE TABLE u (k VARCHAR(40) PRIMARY KEY, n INTEGER)`)
			res, err := c.Upsert(ctx, "u", []connector.Record{{Key: "a", Fields: map[string]connector.Value{
				"n": connector.Number(decimal.RequireFromString(marker))}}})
			var msgs []string
			if err != nil {
				msgs = append(msgs, err.Error())
			}
			for _, r := range res {
				if r.Err != nil {
					msgs = append(msgs, r.Err.Error())
				}
			}
			for _, m := range msgs {
				if strings.Contains(m, marker) {
					t.Errorf("error shows the value: %s", m)
				}
			}
			t.Logf("errors: %q", msgs)
		})
	}
}
