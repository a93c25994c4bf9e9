package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// TestErase: the named columns of the erased keys' rows are emptied, a
// soft-deleted row's too (it stays deleted); other rows, the key and
// unnamed columns are kept; a dry run writes nothing.
func TestErase(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "UTC", casesDDL)
			recs := []connector.Record{
				{Key: "E-1", Fields: map[string]connector.Value{"name": connector.Text("Zq1"), "notes": connector.Text("Zqnote1"), "email": connector.Text("zq1@example.org"), "qty": connector.Int(2)}},
				{Key: "E-2", Fields: map[string]connector.Value{"name": connector.Text("Zq2"), "notes": connector.Text("Zqnote2")}},
				{Key: "E-3", Fields: map[string]connector.Value{"name": connector.Text("Zq3"), "notes": connector.Text("Zqnote3")}},
			}
			if res, err := c.Upsert(ctx, "cases", recs); err != nil || res[0].Err != nil || res[1].Err != nil || res[2].Err != nil {
				t.Fatal(err, res)
			}
			if res, err := c.Delete(ctx, "cases", []string{"E-3"}); err != nil || res[0].Err != nil { // soft delete: values kept
				t.Fatal(err, res)
			}
			cols := []string{"name", "notes", "email", "missing", "code"}
			dry, err := c.Erase(ctx, "cases", []string{"E-1", "E-3", "E-9"}, cols, true)
			if err != nil {
				t.Fatal(err)
			}
			if count(t, c, "Zq1") != 1 || len(dry) != 2 {
				t.Fatalf("dry run: %v, or it wrote", dry)
			}
			got, err := c.Erase(ctx, "cases", []string{"E-1", "E-3", "E-9"}, cols, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got["E-1"], []string{"name", "notes", "email"}) || !slices.Equal(got["E-3"], []string{"name", "notes"}) || got["E-9"] != nil {
				t.Errorf("erased %v", got)
			}
			for _, v := range []string{"Zq1", "Zqnote1", "zq1@example.org", "Zq3", "Zqnote3"} {
				if n := count(t, c, v); n != 0 {
					t.Errorf("%s still in %d rows", v, n)
				}
			}
			if count(t, c, "Zq2") != 1 || count(t, c, "Zqnote2") != 1 {
				t.Error("the other row was changed")
			}
			live, _ := collect(t, c, "cases", "")
			if _, ok := live["E-3"]; ok {
				t.Error("erase revived the soft-deleted row")
			}
			if r, ok := live["E-1"]; !ok || r.Fields["qty"].Raw() != "2" {
				t.Errorf("E-1 after erase: %v", r.Fields)
			}
		})
	}
}

// count returns how many rows of cases hold v in name, notes or email.
func count(t *testing.T, c *sqldb.Connector, v string) int {
	t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM cases WHERE name = '%s' OR notes = '%s' OR email = '%s'", v, v, v)
	if err := c.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEraseKeyCase: a key is matched as a sync pairs it, whatever the
// collation's "=" does: th-cl-0007 erases the row TH-CL-0007 (PostgreSQL's
// default collation compares case-sensitively; Salesforce pairs both with
// one record). In a case-sensitive key column two rows differing only in
// case make the key ambiguous: an error, nothing erased.
func TestEraseKeyCase(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "UTC", casesDDL)
			recs := []connector.Record{
				{Key: "TH-CL-0007", Fields: map[string]connector.Value{"name": connector.Text("Zq7"), "notes": connector.Text("Zqnote7")}},
				{Key: "TH-CL-0008", Fields: map[string]connector.Value{"name": connector.Text("Zq8")}},
			}
			if res, err := c.Upsert(ctx, "cases", recs); err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatal(err, res)
			}
			got, err := c.Erase(ctx, "cases", []string{"th-cl-0007", "th-cl-0099"}, []string{"name", "notes"}, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got["th-cl-0007"], []string{"name", "notes"}) || len(got) != 1 {
				t.Errorf("erased %v, want th-cl-0007's name and notes only", got)
			}
			if count(t, c, "Zq7") != 0 || count(t, c, "Zqnote7") != 0 || count(t, c, "Zq8") != 1 {
				t.Error("the row TH-CL-0007 was not blanked, or another was")
			}
			if b.name != "postgres" {
				return // the others' key columns compare case-insensitively
			}
			twins := []connector.Record{
				{Key: "TH-CL-0009", Fields: map[string]connector.Value{"name": connector.Text("Zq9")}},
				{Key: "th-cl-0009", Fields: map[string]connector.Value{"name": connector.Text("Zq9b")}},
			}
			if res, err := c.Upsert(ctx, "cases", twins); err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatal(err, res)
			}
			if _, err := c.Erase(ctx, "cases", []string{"Th-Cl-0009"}, []string{"name"}, false); err == nil {
				t.Error("a key matching two rows only case-insensitively was erased")
			}
			if count(t, c, "Zq9") != 1 || count(t, c, "Zq9b") != 1 {
				t.Error("an ambiguous key blanked a row")
			}
		})
	}
}
