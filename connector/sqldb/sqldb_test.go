package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/internal/testdb"
)

// backend is one database the tests run against.
type backend struct {
	name   string
	driver sqldb.Driver
	dsn    func(testing.TB) string
	// ddl maps a portable type name used in the test schemas to this
	// database's spelling.
	types map[string]string
}

var backends = []backend{
	{"sqlite", sqldb.SQLite, testdb.SQLite, map[string]string{
		"KEYTEXT": "VARCHAR(40) COLLATE NOCASE", "BOOL": "BOOLEAN", "DATETIME": "DATETIME", "SERIAL": "INTEGER PRIMARY KEY",
	}},
	{"postgres", sqldb.Postgres, testdb.Postgres, map[string]string{
		"KEYTEXT": "VARCHAR(40)", "BOOL": "BOOLEAN", "DATETIME": "TIMESTAMP(6)", "SERIAL": "SERIAL PRIMARY KEY",
	}},
	{"mysql", sqldb.MySQL, testdb.MySQL, map[string]string{
		"KEYTEXT": "VARCHAR(40)", "BOOL": "TINYINT(1)", "DATETIME": "DATETIME(6)", "SERIAL": "INT AUTO_INCREMENT PRIMARY KEY",
	}},
}

// ddl replaces the portable type names in stmt.
func (b backend) ddl(stmt string) string {
	for k, v := range b.types {
		stmt = strings.ReplaceAll(stmt, "{"+k+"}", v)
	}
	return stmt
}

// setup opens the backend's database, runs the DDL statements and returns
// a connector over tables.
func setup(t *testing.T, b backend, tables map[string]sqldb.Table, tz string, ddl ...string) *sqldb.Connector {
	t.Helper()
	dsn := b.dsn(t)
	c, err := sqldb.New("db", sqldb.Config{Driver: b.driver, DSN: sqldb.DSN(dsn), TimeZone: tz, Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, s := range ddl {
		if _, err := c.DB().Exec(b.ddl(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

const casesDDL = `CREATE TABLE cases (
  code {KEYTEXT} NOT NULL PRIMARY KEY,
  name VARCHAR(10) NOT NULL,
  email VARCHAR(80) NULL UNIQUE,
  amount DECIMAL(12,2) NULL,
  qty INT NULL CHECK (qty >= 0),
  active {BOOL} NOT NULL DEFAULT FALSE,
  born DATE NULL,
  seen {DATETIME} NULL,
  notes TEXT NULL,
  updated_at {DATETIME} NULL,
  deleted {BOOL} NOT NULL DEFAULT FALSE
)`

func casesTable() map[string]sqldb.Table {
	return map[string]sqldb.Table{"cases": {Key: "code", UpdatedAt: "updated_at", SoftDelete: "deleted"}}
}

func dec(s string) connector.Value { return connector.Number(decimal.RequireFromString(s)) }

func collect(t *testing.T, c *sqldb.Connector, object string, since connector.Cursor) (map[string]connector.Record, connector.Cursor) {
	t.Helper()
	got := map[string]connector.Record{}
	cur, err := c.Read(context.Background(), object, since, func(r connector.Record) error {
		if _, dup := got[r.Key]; dup {
			t.Errorf("key %s read twice", r.Key)
		}
		got[r.Key] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, cur
}

func TestDescribe(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "", casesDDL)
			o, err := c.Describe(context.Background(), "cases")
			if err != nil {
				t.Fatal(err)
			}
			if o.Key != "code" || o.Modified != "updated_at" {
				t.Errorf("key %q modified %q", o.Key, o.Modified)
			}
			want := map[string]connector.Field{
				"code":       {Type: connector.TypeString, Length: 40, ExternalID: true, Unique: true, CaseSensitive: b.name == "postgres"},
				"name":       {Type: connector.TypeString, Length: 10},
				"email":      {Type: connector.TypeString, Length: 80, Nillable: true, Unique: true},
				"amount":     {Type: connector.TypeDouble, Precision: 12, Scale: 2, Nillable: true},
				"active":     {Type: connector.TypeBoolean},
				"born":       {Type: connector.TypeDate, Nillable: true},
				"seen":       {Type: connector.TypeDateTime, Nillable: true},
				"notes":      {Type: connector.TypeTextArea, Nillable: true},
				"updated_at": {Type: connector.TypeDateTime, Nillable: true},
			}
			for name, w := range want {
				f := o.Field(name)
				if f == nil {
					t.Errorf("no field %s", name)
					continue
				}
				if f.Type != w.Type || (w.Length > 0 && f.Length != w.Length) || f.Precision != w.Precision && w.Precision > 0 ||
					f.Scale != w.Scale || f.Nillable != w.Nillable || f.ExternalID != w.ExternalID || f.Unique != w.Unique ||
					(name == "code" && f.CaseSensitive != w.CaseSensitive) {
					t.Errorf("%s: got %+v, want %+v", name, *f, w)
				}
			}
			if f := o.Field("qty"); f == nil || f.Type != connector.TypeInt {
				t.Errorf("qty: %+v", f)
			}
			if f := o.Field("code"); f.Updateable || !f.Createable {
				t.Errorf("key field must be createable, not updateable: %+v", f)
			}
			if _, err := c.Describe(context.Background(), "nope"); !errors.Is(err, connector.ErrObjectNotFound) {
				t.Errorf("unknown object: %v", err)
			}
		})
	}
}

func TestMissingKeyColumn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			c, err := sqldb.New("db", sqldb.Config{Driver: b.driver, DSN: sqldb.DSN(dsn), Tables: map[string]sqldb.Table{
				"cases": {Key: "case_id"}, "ghost": {Key: "id"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.DB().Exec(b.ddl(casesDDL)); err != nil {
				t.Fatal(err)
			}
			_, err = c.Describe(context.Background(), "cases")
			if !errors.Is(err, connector.ErrFieldNotFound) || !strings.Contains(err.Error(), "table cases has no column case_id") {
				t.Errorf("missing key column: %v", err)
			}
			_, err = c.Describe(context.Background(), "ghost")
			if !errors.Is(err, connector.ErrObjectNotFound) || !strings.Contains(err.Error(), "table ghost does not exist") {
				t.Errorf("missing table: %v", err)
			}
			if err := c.Check(context.Background()); err == nil {
				t.Error("Check passed with a missing table and column")
			}
		})
	}
}

func TestUpsertReadDelete(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "America/Guatemala", casesDDL)
			clock := time.Date(2024, 4, 3, 12, 0, 0, 0, time.UTC)
			c.Now = func() time.Time { return clock }
			seen := time.Date(2024, 4, 3, 15, 15, 0, 0, time.UTC)
			recs := []connector.Record{
				{Key: "TH-1", Fields: map[string]connector.Value{
					"name": connector.Text("Ana"), "amount": dec("3000.505"), "active": connector.Bool(true),
					"born": connector.DateValue(connector.Date{Year: 2009, Month: 5, Day: 17}), "seen": connector.DateTime(seen.Add(400 * time.Millisecond)),
					"notes": connector.Text("ข้อมูล ğ 世界 😀"), "qty": connector.Int(3),
				}},
				{Key: "TH-2", Fields: map[string]connector.Value{"name": connector.Text("Bo"), "email": connector.Text("x@example.org")}},
				{Key: "TH-3", Fields: map[string]connector.Value{"name": connector.Text("far too long a name")}},
				{Key: "TH-4", Fields: map[string]connector.Value{"amount": dec("1")}}, // name is NOT NULL, no default
				{Key: "TH-5", Fields: map[string]connector.Value{"name": connector.Text("Cy"), "email": connector.Text("x@example.org")}},
				{Key: "TH-6", Fields: map[string]connector.Value{"name": connector.Text("Di"), "qty": connector.Int(-1)}},
				{Key: "", Fields: map[string]connector.Value{"name": connector.Text("Ed")}},
				{Key: "TH-7", Fields: map[string]connector.Value{"name": connector.Text("Fa"), "bogus": connector.Text("x")}},
			}
			res, err := c.Upsert(ctx, "cases", recs)
			if err != nil {
				t.Fatal(err)
			}
			wantCode := []connector.Code{"", "", connector.CodeTooLong, connector.CodeRequired, connector.CodeDuplicateKey, connector.CodeInvalidValue, connector.CodeInvalidKey, connector.CodeUnknownField}
			wantField := []string{"", "", "name", "name", "email", "", "code", "bogus"}
			for i, r := range res {
				if got := connector.CodeOf(r.Err); got != wantCode[i] {
					t.Errorf("record %d: code %q, want %q (%v)", i, got, wantCode[i], r.Err)
					continue
				}
				if r.Err != nil {
					var re *connector.RecordError

					if !errors.As(r.Err, &re) || re.Field != wantField[i] || re.Key != recs[i].Key {
						t.Errorf("record %d: %#v, want field %q key %q", i, r.Err, wantField[i], recs[i].Key)
					}
					if strings.Contains(r.Err.Error(), "example.org") || strings.Contains(r.Err.Error(), "far too") {
						t.Errorf("record %d: error echoes a value: %v", i, r.Err)
					}
					if wantCode[i] == connector.CodeDuplicateKey && !strings.Contains(r.Err.Error(), "email") {
						t.Logf("duplicate error does not name the index: %v", r.Err)
					}
				} else if !r.Created || r.Key != recs[i].Key {
					t.Errorf("record %d: %+v, want created", i, r)
				}
			}

			got, cur := collect(t, c, "cases", "")
			if len(got) != 2 {
				t.Fatalf("read %d records, want 2: %v", len(got), got)
			}
			r := got["TH-1"]
			checks := map[string]connector.Value{
				"code":   connector.Text("TH-1"),
				"name":   connector.Text("Ana"),
				"amount": dec("3000.51"), // rounded half away from zero to the scale
				"active": connector.Bool(true),
				"born":   connector.DateValue(connector.Date{Year: 2009, Month: 5, Day: 17}),
				"seen":   connector.DateTime(seen), // whole seconds
				"notes":  connector.Text("ข้อมูล ğ 世界 😀"),
				"qty":    connector.Int(3),
				"email":  connector.Null(),
			}
			for k, w := range checks {
				if v := r.Fields[k]; !v.Equal(w) {
					t.Errorf("TH-1.%s = %s %q, want %q", k, v.Kind(), v.Raw(), w.Raw())
				}
			}
			if !r.Modified.Equal(clock) || r.Deleted || r.Err != nil {
				t.Errorf("TH-1: modified %v deleted %v err %v", r.Modified, r.Deleted, r.Err)
			}
			// The wall clock stored is Guatemala's (UTC-6).
			var wall string
			q := "SELECT CAST(seen AS CHAR(19)) FROM cases WHERE code = 'TH-1'"
			if b.name != "mysql" {
				q = "SELECT CAST(seen AS VARCHAR(19)) FROM cases WHERE code = 'TH-1'"
			}
			if err := c.DB().QueryRow(q).Scan(&wall); err != nil {
				t.Fatal(err)
			}
			if wall != "2024-04-03 09:15:00" {
				t.Errorf("stored wall clock %q, want 2024-04-03 09:15:00", wall)
			}

			// Update: a field left out stays; Null clears.
			clock = clock.Add(time.Hour)
			res, err = c.Upsert(ctx, "cases", []connector.Record{
				{Key: "th-1", Fields: map[string]connector.Value{"qty": connector.Null()}},
				{Key: "TH-2", Fields: map[string]connector.Value{"name": connector.Text("Bob"), "amount": dec("-0.5"), "email": connector.Null()}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if b.name == "postgres" && i == 0 {
					// case-sensitive key: th-1 is a new record, and name is required
					if connector.CodeOf(r.Err) != connector.CodeRequired {
						t.Errorf("postgres th-1: %v", r.Err)
					}
					continue
				}
				if r.Err != nil || r.Created {
					t.Errorf("update %d: %+v", i, r)
				}
			}
			got, cur2 := collect(t, c, "cases", "")
			if b.name != "postgres" {
				if v := got["TH-1"].Fields["qty"]; !v.IsNull() {
					t.Errorf("qty not cleared: %v", v)
				}
				if v := got["TH-1"].Fields["name"]; !v.Equal(connector.Text("Ana")) {
					t.Errorf("name changed by an update that left it out")
				}
			}
			if v := got["TH-2"].Fields["amount"]; !v.Equal(dec("-0.5")) {
				t.Errorf("TH-2 amount %q", v.Raw())
			}

			// Incremental since the first cursor (12:00): TH-2 changed at
			// 13:00; TH-1 is read again under the 5-minute look-back.
			inc, _ := collect(t, c, "cases", cur)
			if _, ok := inc["TH-2"]; !ok || len(inc) != 2 {
				t.Errorf("incremental read: %v", keys(inc))
			}

			// Delete marks the row; it reads as Deleted since the cursor.
			clock = clock.Add(time.Hour)
			dres, err := c.Delete(ctx, "cases", []string{"TH-2", "nope", "TH-2"})
			if err != nil {
				t.Fatal(err)
			}
			if dres[0].Err != nil || !errors.Is(dres[1].Err, connector.ErrNotFound) || !errors.Is(dres[2].Err, connector.ErrNotFound) {
				t.Errorf("delete results: %+v", dres)
			}
			inc, _ = collect(t, c, "cases", cur2)
			if r, ok := inc["TH-2"]; !ok || !r.Deleted {
				t.Errorf("incremental after delete: %v", inc)
			}
			got, _ = collect(t, c, "cases", "")
			if _, ok := got["TH-2"]; ok {
				t.Error("a complete read returns a soft-deleted row")
			}
			var listed []string
			if err := c.ListKeys(ctx, "cases", func(k string) error { listed = append(listed, k); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(listed) != 1 || listed[0] != "TH-1" {
				t.Errorf("ListKeys: %v", listed)
			}
			var byKey []string
			if err := c.ReadKeys(ctx, "cases", []string{"TH-1", "TH-2", "TH-1", "zz"}, func(r connector.Record) error {
				byKey = append(byKey, r.Key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(byKey) != 1 || byKey[0] != "TH-1" {
				t.Errorf("ReadKeys: %v", byKey)
			}
			// Upserting a soft-deleted record revives it: Created.
			res, err = c.Upsert(ctx, "cases", []connector.Record{{Key: "TH-2", Fields: map[string]connector.Value{"name": connector.Text("Bo")}}})
			if err != nil || res[0].Err != nil || !res[0].Created {
				t.Fatalf("revive: %v %+v", err, res)
			}
			got, _ = collect(t, c, "cases", "")
			if len(got) != 2 {
				t.Errorf("after revive: %v", keys(got))
			}
		})
	}
}

func keys(m map[string]connector.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBatchFallback checks that one bad record in a multi-row batch fails
// alone, the others commit, and a key given twice is written in order.
func TestBatchFallback(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "", casesDDL)
			var recs []connector.Record
			for i := range 50 {
				r := connector.Record{Key: "K" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Fields: map[string]connector.Value{"name": connector.Text("n"), "qty": connector.Int(int64(i))}}
				if i == 17 {
					r.Fields["qty"] = connector.Int(-5) // CHECK violation, only the database knows
				}
				recs = append(recs, r)
			}
			res, err := c.Upsert(ctx, "cases", recs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if (i == 17) != (r.Err != nil) {
					t.Errorf("record %d: %v", i, r.Err)
				}
			}
			got, _ := collect(t, c, "cases", "")
			if len(got) != 49 {
				t.Errorf("%d rows committed, want 49", len(got))
			}
			// Partial updates (no name, which is NOT NULL without default) go
			// out as one UPDATE each; one of them breaks the CHECK.
			var upd []connector.Record
			for i := range 10 {
				q := int64(100 + i)
				if i == 6 {
					q = -1
				}
				upd = append(upd, connector.Record{Key: recs[i].Key, Fields: map[string]connector.Value{"qty": connector.Int(q)}})
			}
			res, err = c.Upsert(ctx, "cases", upd)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if (i == 6) != (r.Err != nil) || r.Created {
					t.Errorf("partial update %d: %+v", i, r)
				}
			}
			got, _ = collect(t, c, "cases", "")
			for i := range 10 {
				want := connector.Int(int64(100 + i))
				if i == 6 {
					want = connector.Int(6)
				}
				if v := got[recs[i].Key].Fields["qty"]; !v.Equal(want) {
					t.Errorf("%s.qty = %q, want %q", recs[i].Key, v.Raw(), want.Raw())
				}
			}
			// The same key twice: the second write wins and is not a create.
			res, err = c.Upsert(ctx, "cases", []connector.Record{
				{Key: "NEW", Fields: map[string]connector.Value{"name": connector.Text("one")}},
				{Key: "NEW", Fields: map[string]connector.Value{"name": connector.Text("two")}},
			})
			if err != nil || res[0].Err != nil || res[1].Err != nil || !res[0].Created || res[1].Created {
				t.Fatalf("same key twice: %v %+v", err, res)
			}
			got, _ = collect(t, c, "cases", "")
			if v := got["NEW"].Fields["name"]; !v.Equal(connector.Text("two")) {
				t.Errorf("NEW.name = %q", v.Raw())
			}
		})
	}
}

// TestLinkColumn: a table whose key the database generates; records
// without a key are matched on, and created with, the link column.
func TestLinkColumn(t *testing.T) {
	ctx := context.Background()
	ddl := `CREATE TABLE svc (
  id {SERIAL},
  tipo VARCHAR(40) NOT NULL,
  sf_id CHAR(18) NULL UNIQUE
)`
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"svc": {Key: "id", Link: "sf_id"}}, "", ddl)
			o, err := c.Describe(ctx, "svc")
			if err != nil {
				t.Fatal(err)
			}
			if f := o.Field("id"); f.Type != connector.TypeInt || f.Createable || f.Updateable {
				t.Errorf("generated key: %+v", f)
			}
			mk := func(sf, tipo string) connector.Record {
				return connector.Record{Fields: map[string]connector.Value{"sf_id": connector.Text(sf), "tipo": connector.Text(tipo)}}
			}
			res, err := c.Upsert(ctx, "svc", []connector.Record{mk("a0C000000000001AAA", "albergue"), mk("a0C000000000002AAA", "beca"), {Fields: map[string]connector.Value{"tipo": connector.Text("x")}}})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || res[1].Err != nil || !res[0].Created || res[0].Key == "" || res[0].Key == res[1].Key || res[0].ID != res[0].Key {
				t.Fatalf("create by link: %+v", res)
			}
			if connector.CodeOf(res[2].Err) != connector.CodeInvalidKey {
				t.Errorf("no key, no link: %v", res[2].Err)
			}
			first := res[0].Key
			// The crash case: the same create again matches the row by link.
			res, err = c.Upsert(ctx, "svc", []connector.Record{mk("a0C000000000001AAA", "médico"), mk("a0C000000000003AAA", "x"), mk("a0C000000000003AAA", "y")})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || res[0].Created || res[0].Key != first {
				t.Errorf("re-create matched by link: %+v, want key %s", res[0], first)
			}
			if res[1].Err != nil || res[2].Err != nil || !res[1].Created || res[2].Created || res[1].Key != res[2].Key {
				t.Errorf("same link twice in a batch: %+v", res[1:])
			}
			// By key: an update; an unknown generated key is not created.
			res, err = c.Upsert(ctx, "svc", []connector.Record{
				{Key: first, Fields: map[string]connector.Value{"tipo": connector.Text("albergue")}},
				{Key: "99999", Fields: map[string]connector.Value{"tipo": connector.Text("x")}},
				{Key: "abc", Fields: map[string]connector.Value{"tipo": connector.Text("x")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || res[0].Created || !errors.Is(res[1].Err, connector.ErrNotFound) || connector.CodeOf(res[2].Err) != connector.CodeInvalidKey {
				t.Errorf("upsert by generated key: %+v", res)
			}
			// Keyless creates where one fails (tipo is NOT NULL): the others
			// are created, with the keys their rows really have.
			res, err = c.Upsert(ctx, "svc", []connector.Record{mk("a0C000000000004AAA", "x"),
				{Fields: map[string]connector.Value{"sf_id": connector.Text("a0C000000000005AAA")}}, mk("a0C000000000006AAA", "z")})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || res[2].Err != nil || connector.CodeOf(res[1].Err) != connector.CodeRequired || !res[0].Created || !res[2].Created {
				t.Fatalf("keyless creates with a failure: %+v", res)
			}
			for _, i := range []int{0, 2} {
				var sf string
				if err := c.DB().QueryRow("SELECT sf_id FROM svc WHERE id = " + res[i].Key).Scan(&sf); err != nil || sf != fmt.Sprintf("a0C00000000000%dAAA", 4+i) {
					t.Errorf("row %s: sf_id %q, %v", res[i].Key, sf, err)
				}
			}
			if _, err := c.Delete(ctx, "svc", []string{res[0].Key, res[2].Key}); err != nil {
				t.Fatal(err)
			}
			got, _ := collect(t, c, "svc", "")
			if len(got) != 3 {
				t.Errorf("rows: %v", keys(got))
			}
			if v := got[first].Fields["tipo"]; !v.Equal(connector.Text("albergue")) {
				t.Errorf("tipo = %q", v.Raw())
			}
			if got[first].ID != first {
				t.Errorf("Record.ID %q, want the generated key", got[first].ID)
			}
		})
	}
}

// TestServerErrorsStripValues drives the database into errors whose raw
// messages echo values, and checks none reaches the RecordError.
func TestServerErrorsStripValues(t *testing.T) {
	ctx := context.Background()
	const secret = "María-secreta-42"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"u": {Key: "k"}}, "",
				`CREATE TABLE u (k VARCHAR(40) PRIMARY KEY, nick VARCHAR(40) NOT NULL UNIQUE)`)
			res, err := c.Upsert(ctx, "u", []connector.Record{{Key: "a", Fields: map[string]connector.Value{"nick": connector.Text(secret)}}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			// Raw driver error first, to show what would leak.
			_, raw := c.DB().Exec("INSERT INTO u (k, nick) VALUES ('b', '" + secret + "')")
			if raw == nil {
				t.Fatal("duplicate accepted")
			}
			t.Logf("raw driver error: %v", raw)
			res, err = c.Upsert(ctx, "u", []connector.Record{{Key: "b", Fields: map[string]connector.Value{"nick": connector.Text(secret)}}})
			if err != nil {
				t.Fatal(err)
			}
			e := res[0].Err
			var re *connector.RecordError
			if connector.CodeOf(e) != connector.CodeDuplicateKey || strings.Contains(e.Error(), "secreta") || !errors.As(e, &re) || re.Field != "nick" {
				t.Errorf("duplicate: %v", e)
			}
			t.Logf("record error: %v", e)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  sqldb.Config
		want string
	}{
		{sqldb.Config{Driver: "oracle", DSN: "x", Tables: map[string]sqldb.Table{"a": {Key: "id"}}}, "driver"},
		{sqldb.Config{Driver: "sqlite", Tables: map[string]sqldb.Table{"a": {Key: "id"}}}, "dsn: required"},
		{sqldb.Config{Driver: "sqlite", DSN: "x", TimeZone: "Mars/Olympus", Tables: map[string]sqldb.Table{"a": {Key: "id"}}}, "time_zone"},
		{sqldb.Config{Driver: "sqlite", DSN: "x"}, "tables"},
		{sqldb.Config{Driver: "sqlite", DSN: "x", Tables: map[string]sqldb.Table{"a": {}}}, "tables.a.key"},
		{sqldb.Config{Driver: "sqlite", DSN: "x", Tables: map[string]sqldb.Table{"a": {Key: "id", Link: "id"}}}, "tables.a.link"},
		{sqldb.Config{Driver: "sqlite", DSN: "x", Tables: map[string]sqldb.Table{"a": {Key: "id", KeyCase: "upper"}}}, "key_case"},
		{sqldb.Config{Driver: "mariadb", DSN: "x", Tables: map[string]sqldb.Table{"a": {Key: "id"}}}, ""},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestSample decodes sample.yaml (unknown keys are errors) and validates
// it, so the README's configuration cannot rot.
func TestSample(t *testing.T) {
	var cfg sqldb.Config
	if err := yaml.UnmarshalWithOptions([]byte(sqldb.Sample), &cfg, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	casos := cfg.Tables["casos"]
	if cfg.Driver != sqldb.MySQL || casos.Link != "sf_id" || casos.LookBack == nil || time.Duration(*casos.LookBack) != 5*time.Minute {
		t.Errorf("sample decoded as %+v", cfg)
	}
	if cc := casos.Columns["tipo_explotacion"]; cc.MultiSelect != "," {
		t.Errorf("casos.columns: %+v", casos.Columns)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), sqldb.Sample) {
		t.Error("README.md does not contain sample.yaml verbatim; copy it into the Configuration section")
	}
}

// TestDSNNeverPrinted: a printed Config does not show the DSN.
func TestDSNNeverPrinted(t *testing.T) {
	cfg := sqldb.Config{Driver: sqldb.MySQL, DSN: "casebridge:s3cr3t-pw@tcp(db:3306)/casos"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "s3cr3t") {
			t.Errorf("%s shows the DSN: %s", verb, s)
		}
	}
	if s := fmt.Sprint(cfg.DSN); s != "dsn(redacted)" {
		t.Errorf("DSN prints as %q", s)
	}
}
