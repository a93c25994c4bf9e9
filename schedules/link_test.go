package schedules

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/reconcile"
)

const linkConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  gt: { kind: sqlite, path: local.db, table: casos, link_column: sf_id }
jobs:
  casos:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: gt, key: id, key_prefix: "gt:" }
    fields:
      - { sf: vcms__First_Name__c, local: first_name, pii: direct }
      - { sf: vcms__Stage__c, local: stage }
`

// A run stopped between the local insert of a case created in Salesforce
// (through the link column) and recording it: the next run pairs the row
// by its link instead of creating the case again on either side, and the
// case takes the generated key (doc/architecture.md §5.11, "every create is
// idempotent").
func TestRunnerLinkCreateKilled(t *testing.T) {
	ctx := context.Background()
	r, org, dir := newTestRunner(t, linkConfig)
	db, err := sqldb.New("gt", sqldb.Config{Driver: sqldb.SQLite, DSN: sqldb.DSN(filepath.Join(dir, "local.db")),
		Tables: map[string]sqldb.Table{"casos": {Key: "id", Link: "sf_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE casos (id INTEGER PRIMARY KEY, first_name TEXT, stage TEXT, sf_id TEXT UNIQUE)",
		"INSERT INTO casos (first_name, stage) VALUES ('Ana', 'Active')",
	} {
		if _, err := db.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	const obj = "vcms__Survivor_Case__c"
	id, err := org.Insert(obj, map[string]any{"vcms__External_Key__c": "gt:NEW-1", "vcms__First_Name__c": "Cara", "vcms__Stage__c": "Active"}, false)
	if err != nil {
		t.Fatal(err)
	}
	killed := errors.New("kill -9")
	writes := 0
	r.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		if p == reconcile.AfterWrite {
			// Salesforce's batch first, then the local one: stop after
			// the local insert, before the key is set or recorded.
			if writes++; writes == 2 {
				return killed
			}
		}
		return nil
	}
	if _, err := r.Run(ctx, "casos", RunOptions{}); !errors.Is(err, killed) {
		t.Fatalf("first run: %v", err)
	}
	var link string
	if err := db.DB().QueryRow("SELECT sf_id FROM casos WHERE id = 2").Scan(&link); err != nil || link != id {
		t.Fatalf("row 2 links to %q (%v), want %s", link, err, id)
	}
	if _, ok := org.GetByExternalKey(obj, "gt:NEW-1"); !ok {
		t.Fatal("the kill came too late: the case was rekeyed already")
	}
	r.Hooks.At = nil
	res, err := r.Run(ctx, "casos", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Result.Plan.AllWrites() {
		if w.Op == reconcile.OpCreate {
			t.Errorf("the rerun creates %s on %s:\n%s", w.Key, w.Side, res.Result.Plan)
		}
	}
	var rows int
	if err := db.DB().QueryRow("SELECT COUNT(*) FROM casos").Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d rows (%v), want 2", rows, err)
	}
	rec, ok := org.GetByExternalKey(obj, "gt:2")
	if !ok || rec.ID != id {
		t.Fatalf("the case did not take the generated key gt:2: %+v", rec)
	}
	if _, ok := org.GetByExternalKey(obj, "gt:NEW-1"); ok {
		t.Fatal("gt:NEW-1 still exists")
	}
	one, ok := org.GetByExternalKey(obj, "gt:1")
	if !ok {
		t.Fatal("gt:1 was not created")
	}
	if err := db.DB().QueryRow("SELECT sf_id FROM casos WHERE id = 1").Scan(&link); err != nil || link != one.ID {
		t.Fatalf("row 1 links to %q (%v), want %s", link, err, one.ID)
	}
	n := 0
	for _, c := range org.Records(obj) {
		if k, _ := c.Fields["vcms__External_Key__c"].(string); len(k) > 3 && k[:3] == "gt:" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d gt: cases in the org, want 2", n)
	}
	again, err := r.Run(ctx, "casos", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := again.Result.Plan.NumWrites(); w != 0 {
		t.Fatalf("third run plans %d writes:\n%s", w, again.Result.Plan)
	}
}
