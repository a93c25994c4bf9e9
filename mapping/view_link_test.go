package mapping

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// linkView is a View over a SQLite table whose key the database generates
// (INTEGER PRIMARY KEY, like doc/architecture.md §11.5's casos) with a link column.
func linkView(t *testing.T) (*View, *sqldb.Connector) {
	t.Helper()
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id, key_prefix: "gt:" }
    fields:
      - { sf: vcms__First_Name__c, local: first_name }
`)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	m.LocalObject = "casos"
	db, err := sqldb.New("gt", sqldb.Config{Driver: sqldb.SQLite, DSN: sqldb.DSN(filepath.Join(t.TempDir(), "gt.db")),
		Tables: map[string]sqldb.Table{"casos": {Key: "id", Link: "sf_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		"CREATE TABLE casos (id INTEGER PRIMARY KEY, first_name TEXT, sf_id TEXT UNIQUE)",
		"INSERT INTO casos (first_name) VALUES ('Ana')",
	} {
		if _, err := db.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	v := NewView(db, m, seedObjects(t))
	v.Link = "sf_id"
	return v, db
}

func TestViewLinkCreate(t *testing.T) {
	ctx := context.Background()
	v, db := linkView(t)
	const id = "a0B000000000001AAA"
	rec := connector.Record{Key: "gt:NEW-1", ID: id, Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("Cara")}}
	for i, wantCreated := range []bool{true, false} { // again: the row linked to it, not a second one
		res, err := v.Upsert(ctx, caseObj, []connector.Record{rec})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[0].Key != "gt:2" || res[0].Created != wantCreated {
			t.Fatalf("upsert %d: %+v", i, res[0])
		}
	}
	var n int
	if err := db.DB().QueryRow("SELECT COUNT(*) FROM casos").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows (%v)", n, err)
	}
	// A create without the Salesforce Id cannot link: it fails alone.
	res, err := v.Upsert(ctx, caseObj, []connector.Record{{Key: "gt:NEW-2", Fields: rec.Fields}})
	if err != nil {
		t.Fatal(err)
	}
	if connector.CodeOf(res[0].Err) != connector.CodeInvalidKey {
		t.Fatalf("create without Id: %+v", res[0])
	}
	// Links: the Salesforce Id of a row created on Salesforce's side.
	if !v.Links(caseObj) || v.Only("").Links(caseObj) != true {
		t.Fatal("the view should link its parent records")
	}
	if _, err := v.SetLinks(ctx, caseObj, []connector.Record{{Key: "gt:1", ID: "a0B000000000002AAA"}}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, v, caseObj)
	if got["gt:1"].ID != "a0B000000000002AAA" || got["gt:2"].ID != id || len(got) != 2 {
		t.Fatalf("read: %+v", got)
	}
	// Without a Link, the view keeps no links and creates by key.
	v.Link = ""
	if v.Links(caseObj) {
		t.Fatal("no Link, no links")
	}
	if out, err := v.SetLinks(ctx, caseObj, []connector.Record{{Key: "gt:1", ID: id}}); out != nil || err != nil {
		t.Fatalf("SetLinks without a Link: %v %v", out, err)
	}
}
