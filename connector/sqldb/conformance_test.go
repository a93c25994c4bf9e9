package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/internal/testdb"
)

// conformanceDDL creates conformance.TestObject as a table in each
// database. The key compares case-insensitively but accent-sensitively, as
// connector.KeyID does: COLLATE NOCASE (SQLite), an ICU level-2
// non-deterministic collation (PostgreSQL), uca1400_as_ci (MariaDB).
// Tags is a native SET on MySQL, and a text column declared a multi-select
// (Table.Columns) elsewhere. updated_at and deleted make reads incremental
// and deletes visible to them.
var conformanceDDL = map[sqldb.Driver][]string{
	sqldb.SQLite: {`CREATE TABLE "ConformanceCase" (
  "Key" VARCHAR(80) NOT NULL COLLATE NOCASE PRIMARY KEY,
  "Name" VARCHAR(80), "Amount" DECIMAL(12,2), "Born" DATE,
  "Active" BOOLEAN NOT NULL DEFAULT 0, "Seen" DATETIME, "Tags" VARCHAR(255),
  updated_at DATETIME, deleted BOOLEAN NOT NULL DEFAULT 0)`},
	sqldb.Postgres: {
		`CREATE COLLATION key_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`CREATE TABLE "ConformanceCase" (
  "Key" VARCHAR(80) COLLATE key_ci NOT NULL PRIMARY KEY,
  "Name" VARCHAR(80), "Amount" NUMERIC(12,2), "Born" DATE,
  "Active" BOOLEAN NOT NULL DEFAULT FALSE, "Seen" TIMESTAMP(0), "Tags" TEXT,
  updated_at TIMESTAMP(6), deleted BOOLEAN NOT NULL DEFAULT FALSE)`},
	sqldb.MySQL: {"CREATE TABLE `ConformanceCase` (" + `
  ` + "`Key`" + ` VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_as_ci NOT NULL PRIMARY KEY,
  Name VARCHAR(80), Amount DECIMAL(12,2), Born DATE,
  Active TINYINT(1) NOT NULL DEFAULT 0, Seen DATETIME,
  Tags SET('legal','medical','shelter','ที่พัก'),
  updated_at DATETIME(6), deleted TINYINT(1) NOT NULL DEFAULT 0
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			zero := sqldb.Duration(0)
			tbl := sqldb.Table{Key: conformance.FieldKey, UpdatedAt: "updated_at", SoftDelete: "deleted", LookBack: &zero}
			if b.driver != sqldb.MySQL {
				tbl.Columns = map[string]sqldb.Column{conformance.FieldTags: {MultiSelect: ";", Values: conformance.TagValues}}
			}
			conformance.Run(t, conformance.Opt{
				New: func(tb testing.TB) connector.Connector {
					c, err := sqldb.New("db", sqldb.Config{Driver: b.driver, DSN: sqldb.DSN(b.dsn(tb)), TimeZone: "Asia/Bangkok",
						Tables: map[string]sqldb.Table{conformance.DefaultObject: tbl}})
					if err != nil {
						tb.Fatal(err)
					}
					tb.Cleanup(func() { c.Close() })
					for _, s := range conformanceDDL[b.driver] {
						if _, err := c.DB().Exec(s); err != nil {
							tb.Fatalf("%s: %v", s, err)
						}
					}
					return c
				},
				TracksChanges: true,
				Invalid: func(key string) connector.Record {
					return connector.Record{Key: key, Fields: map[string]connector.Value{
						conformance.FieldName: connector.Text(strings.Repeat("ก", 81)),
					}}
				},
				ChangeDelay: 2 * time.Millisecond,
			})
		})
	}
}

// TestConformanceDefaultLookBack: with the default look-back an
// incremental read also passes records changed shortly before the cursor
// (read again, never missed).
func TestConformanceDefaultLookBack(t *testing.T) {
	ctx := context.Background()
	c, err := sqldb.New("db", sqldb.Config{Driver: sqldb.SQLite, DSN: sqldb.DSN(testdb.SQLite(t)), Tables: map[string]sqldb.Table{
		conformance.DefaultObject: {Key: conformance.FieldKey, UpdatedAt: "updated_at", SoftDelete: "deleted",
			Columns: map[string]sqldb.Column{conformance.FieldTags: {MultiSelect: ";", Values: conformance.TagValues}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range conformanceDDL[sqldb.SQLite] {
		if _, err := c.DB().Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Upsert(ctx, conformance.DefaultObject, []connector.Record{{Key: "A"}, {Key: "B"}}); err != nil {
		t.Fatal(err)
	}
	_, cur := collect(t, c, conformance.DefaultObject, "")
	got, cur2 := collect(t, c, conformance.DefaultObject, cur)
	if len(got) != 2 || cur2 != cur {
		t.Errorf("re-read under the look-back: %v, cursor %q then %q", keys(got), cur, cur2)
	}
}

// TestConformanceHardDelete: a table with updated_at but no soft-delete
// column tracks changes but not deletions (connector.DeleteTracker false);
// the suite then does not ask its incremental reads for deleted rows.
func TestConformanceHardDelete(t *testing.T) {
	zero := sqldb.Duration(0)
	tbl := sqldb.Table{Key: conformance.FieldKey, UpdatedAt: "updated_at", LookBack: &zero,
		Columns: map[string]sqldb.Column{conformance.FieldTags: {MultiSelect: ";", Values: conformance.TagValues}}}
	conformance.Run(t, conformance.Opt{
		New: func(tb testing.TB) connector.Connector {
			c, err := sqldb.New("db", sqldb.Config{Driver: sqldb.SQLite, DSN: sqldb.DSN(testdb.SQLite(tb)),
				Tables: map[string]sqldb.Table{conformance.DefaultObject: tbl}})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { c.Close() })
			for _, s := range conformanceDDL[sqldb.SQLite] {
				if _, err := c.DB().Exec(s); err != nil {
					tb.Fatalf("%s: %v", s, err)
				}
			}
			if c.TracksDeletes(conformance.DefaultObject) {
				tb.Fatalf("TracksDeletes without a soft-delete column")
			}
			return c
		},
		TracksChanges: true,
		Invalid: func(key string) connector.Record {
			return connector.Record{Key: key, Fields: map[string]connector.Value{
				conformance.FieldName: connector.Text(strings.Repeat("ก", 81)),
			}}
		},
		ChangeDelay: 2 * time.Millisecond,
	})
}
