package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
)

// TestInstants: columns that carry a zone (PostgreSQL timestamptz, MySQL
// TIMESTAMP) hold instants whatever time_zone says; columns without one
// hold the wall clock of time_zone.
func TestInstants(t *testing.T) {
	ctx := context.Background()
	ddl := map[string]string{
		"postgres": `CREATE TABLE ev (k VARCHAR(10) PRIMARY KEY, at_zone TIMESTAMPTZ(0), at_wall TIMESTAMP(0))`,
		"mysql":    `CREATE TABLE ev (k VARCHAR(10) PRIMARY KEY, at_zone TIMESTAMP NULL, at_wall DATETIME NULL)`,
	}
	at := time.Date(2024, 1, 15, 23, 30, 0, 0, time.UTC)
	for _, b := range backends[1:] {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"ev": {Key: "k"}}, "Asia/Bangkok", ddl[b.name])
			res, err := c.Upsert(ctx, "ev", []connector.Record{{Key: "a", Fields: map[string]connector.Value{
				"at_zone": connector.DateTime(at), "at_wall": connector.DateTime(at)}}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			got, _ := collect(t, c, "ev", "")
			for _, f := range []string{"at_zone", "at_wall"} {
				if v := got["a"].Fields[f]; !v.Equal(connector.DateTime(at)) {
					t.Errorf("%s = %q, want %s", f, v.Raw(), at)
				}
			}
			var wall string
			q := "SELECT CAST(at_wall AS CHAR) FROM ev"
			if b.name == "postgres" {
				q = "SELECT CAST(at_wall AS TEXT) FROM ev"
			}
			if err := c.DB().QueryRow(q).Scan(&wall); err != nil {
				t.Fatal(err)
			}
			if wall != "2024-01-16 06:30:00" { // Bangkok is UTC+7
				t.Errorf("wall clock stored %q", wall)
			}
		})
	}
}

// TestHostileIdentifiers: table and column names with quotes, spaces and
// non-ASCII letters are quoted, never spliced.
func TestHostileIdentifiers(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			q := func(s string) string {
				if b.name == "mysql" {
					return "`" + strings.ReplaceAll(s, "`", "``") + "`"
				}
				return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			table, key, col := `ca"sos; x`, "código `id`", `nombre "completo"`
			ddl := "CREATE TABLE " + q(table) + " (" + q(key) + " VARCHAR(20) PRIMARY KEY, " + q(col) + " VARCHAR(40))"
			c := setup(t, b, map[string]sqldb.Table{"casos": {Table: table, Key: key}}, "", ddl)
			res, err := c.Upsert(ctx, "casos", []connector.Record{{Key: "GT-1", Fields: map[string]connector.Value{col: connector.Text("x'); DROP TABLE y; --")}}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			got, _ := collect(t, c, "casos", "")
			if v := got["GT-1"].Fields[col]; !v.Equal(connector.Text("x'); DROP TABLE y; --")) {
				t.Errorf("value %q", v.Raw())
			}
			dres, err := c.Delete(ctx, "casos", []string{"GT-1"})
			if err != nil || dres[0].Err != nil {
				t.Fatal(err, dres)
			}
		})
	}
}

// TestZeroDateTime: a zero DATETIME reads as null, like a zero DATE.
func TestZeroDateTime(t *testing.T) {
	b := backends[2]
	c := setup(t, b, map[string]sqldb.Table{"z": {Key: "k"}}, "America/Guatemala",
		`CREATE TABLE z (k INT PRIMARY KEY, d DATE NULL, dt DATETIME NULL, ts TIMESTAMP NULL)`)
	conn, err := c.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET SESSION sql_mode = ''", "INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'), (2, '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59')"} {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := collect(t, c, "z", "")
	for _, f := range []string{"d", "dt", "ts"} {
		if v := got["1"].Fields[f]; !v.IsNull() || got["1"].Err != nil {
			t.Errorf("zero %s = %s (%v)", f, v.Kind(), got["1"].Err)
		}
	}
	if v := got["2"].Fields["dt"]; !v.Equal(connector.DateTime(time.Date(2024, 3, 1, 5, 59, 59, 0, time.UTC))) {
		t.Errorf("dt = %q", v.Raw())
	}
	if v := got["2"].Fields["d"]; !v.Equal(connector.DateValue(connector.Date{Year: 2024, Month: 2, Day: 29})) {
		t.Errorf("d = %q", v.Raw())
	}
}

// TestWriteInsideRead: a Read callback may write back into the connector.
func TestWriteInsideRead(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "", casesDDL)
			var recs []connector.Record
			for _, k := range []string{"A", "B", "C"} {
				recs = append(recs, connector.Record{Key: k, Fields: map[string]connector.Value{"name": connector.Text(k)}})
			}
			if _, err := c.Upsert(ctx, "cases", recs); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err := c.Read(ctx, "cases", "", func(r connector.Record) error {
				res, err := c.Upsert(ctx, "cases", []connector.Record{{Key: r.Key, Fields: map[string]connector.Value{"qty": connector.Int(1)}}})
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				return err
			})
			if err != nil {
				t.Errorf("writing inside Read: %v", err)
			}
			err = c.ListKeys(ctx, "cases", func(k string) error {
				_, err := c.Delete(ctx, "cases", []string{k})
				return err
			})
			if err != nil {
				t.Errorf("deleting inside ListKeys: %v", err)
			}
		})
	}
}

// TestDatabaseDown: an unreachable database fails the call, retryably,
// and no error carries the DSN's password.
func TestDatabaseDown(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		driver sqldb.Driver
		dsn    string
	}{
		{sqldb.Postgres, "postgres://casebridge:s3cr3t-pw@127.0.0.1:1/casos?connect_timeout=2"},
		{sqldb.Postgres, "postgres://casebridge:s3cr3t-pw@[::1/casos"},
		{sqldb.MySQL, "casebridge:s3cr3t-pw@tcp(127.0.0.1:1)/casos?timeout=2s"},
		{sqldb.SQLite, "/nonexistent-dir/s3cr3t-pw/x.db?mode=ro"},
	} {
		c, err := sqldb.New("down", sqldb.Config{Driver: tc.driver, DSN: sqldb.DSN(tc.dsn), Tables: map[string]sqldb.Table{"casos": {Key: "id"}}})
		if err != nil {
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s: New error shows the password: %v", tc.driver, err)
			}
			continue
		}
		errs := []error{c.Check(ctx)}
		_, err = c.Read(ctx, "casos", "", func(connector.Record) error { return nil })
		errs = append(errs, err)
		_, err = c.Upsert(ctx, "casos", []connector.Record{{Key: "1"}})
		errs = append(errs, err)
		for i, err := range errs {
			if err == nil {
				t.Errorf("%s call %d: no error", tc.driver, i)
				continue
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s call %d: error shows the password: %v", tc.driver, i, err)
			}
			if tc.driver != sqldb.SQLite && !strings.Contains(tc.dsn, "[") && !connector.IsRetryable(err) {
				t.Errorf("%s call %d: not retryable: %v", tc.driver, i, err)
			}
			t.Logf("%s: %v", tc.driver, err)
		}
		c.Close()
	}
}

// TestLockContention: a row locked by another transaction fails the whole
// call with a retryable UNABLE_TO_LOCK_ROW once the lock wait times out.
func TestLockContention(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends[1:] {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			if b.name == "postgres" {
				dsn += "&lock_timeout=300" // a run-time parameter, in ms
			} else {
				dsn += "&innodb_lock_wait_timeout=1"
			}
			c, err := sqldb.New("db", sqldb.Config{Driver: b.driver, DSN: sqldb.DSN(dsn), Tables: map[string]sqldb.Table{"u": {Key: "k"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.DB().Exec(`CREATE TABLE u (k VARCHAR(10) PRIMARY KEY, v VARCHAR(10))`); err != nil {
				t.Fatal(err)
			}
			if res, err := c.Upsert(ctx, "u", []connector.Record{{Key: "a"}, {Key: "b"}}); err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			tx, err := c.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec("UPDATE u SET v = 'x' WHERE k = 'a'"); err != nil {
				t.Fatal(err)
			}
			res, err := c.Upsert(ctx, "u", []connector.Record{{Key: "b", Fields: map[string]connector.Value{"v": connector.Text("y")}}, {Key: "a", Fields: map[string]connector.Value{"v": connector.Text("z")}}})
			if err == nil || res != nil || !connector.IsRetryable(err) || connector.CodeOf(err) != "" && connector.CodeOf(err) != connector.CodeLocked {
				t.Fatalf("locked row: results %v, error %v (retryable %v)", res, err, connector.IsRetryable(err))
			}
			t.Log(err)
			tx.Rollback()
			got, _ := collect(t, c, "u", "")
			if v := got["b"].Fields["v"]; !v.IsNull() {
				t.Errorf("b was written by a call that failed: %q", v.Raw())
			}
		})
	}
}

// TestMySQLOtherUniqueIndex: on MySQL, ON DUPLICATE KEY UPDATE fires on
// any unique index. An update whose unique value collides with another row
// must fail, not overwrite that row.
func TestMySQLOtherUniqueIndex(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"u": {Key: "k"}}, "",
				// nick's index comes before k's: MySQL finds its collision first
				`CREATE TABLE u (id {SERIAL}, nick VARCHAR(10) NOT NULL UNIQUE, k VARCHAR(10) NOT NULL UNIQUE, v VARCHAR(10))`)
			if res, err := c.Upsert(ctx, "u", []connector.Record{
				{Key: "a", Fields: map[string]connector.Value{"nick": connector.Text("na"), "v": connector.Text("va")}},
				{Key: "b", Fields: map[string]connector.Value{"nick": connector.Text("nb"), "v": connector.Text("vb")}},
			}); err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatal(err, res)
			}
			res, err := c.Upsert(ctx, "u", []connector.Record{
				{Key: "b", Fields: map[string]connector.Value{"nick": connector.Text("na"), "v": connector.Text("changed")}},
				{Key: "c", Fields: map[string]connector.Value{"nick": connector.Text("na"), "v": connector.Text("new")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if connector.CodeOf(r.Err) != connector.CodeDuplicateKey {
					t.Errorf("record %d: %v, want DUPLICATE_VALUE", i, r.Err)
				}
			}
			got, _ := collect(t, c, "u", "")
			if v := got["a"].Fields["v"]; !v.Equal(connector.Text("va")) || len(got) != 2 {
				t.Errorf("a.v = %q (%d rows): another row was overwritten", v.Raw(), len(got))
			}
		})
	}
}

// TestReviveTwiceInBatch: a soft-deleted key upserted twice in one batch
// is revived by the first record (Created, old values gone) and updated by
// the second.
func TestReviveTwiceInBatch(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, casesTable(), "", casesDDL)
			if res, err := c.Upsert(ctx, "cases", []connector.Record{{Key: "R", Fields: map[string]connector.Value{"name": connector.Text("old"), "amount": dec("5")}}}); err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			if res, err := c.Delete(ctx, "cases", []string{"R"}); err != nil || res[0].Err != nil {
				t.Fatal(err, res)
			}
			res, err := c.Upsert(ctx, "cases", []connector.Record{
				{Key: "R", Fields: map[string]connector.Value{"name": connector.Text("new")}},
				{Key: "R", Fields: map[string]connector.Value{"qty": connector.Int(2)}},
			})
			if err != nil || res[0].Err != nil || res[1].Err != nil || !res[0].Created || res[1].Created {
				t.Fatalf("%v %+v", err, res)
			}
			got, _ := collect(t, c, "cases", "")
			r := got["R"]
			if !r.Fields["amount"].IsNull() || !r.Fields["name"].Equal(connector.Text("new")) || !r.Fields["qty"].Equal(connector.Int(2)) {
				t.Errorf("revived R: amount %q name %q qty %q", r.Fields["amount"].Raw(), r.Fields["name"].Raw(), r.Fields["qty"].Raw())
			}
		})
	}
}

// TestKeyCase: the key's case sensitivity comes from its collation, and
// key_case overrides it.
func TestKeyCase(t *testing.T) {
	ctx := context.Background()
	ddl := map[string]string{
		"sqlite":   `CREATE TABLE a (k VARCHAR(10) PRIMARY KEY); CREATE TABLE b (k VARCHAR(10) COLLATE NOCASE PRIMARY KEY)`,
		"postgres": `CREATE TABLE a (k VARCHAR(10) PRIMARY KEY); CREATE TABLE b (k VARCHAR(10) COLLATE "C" PRIMARY KEY)`,
		"mysql":    `CREATE TABLE a (k VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY); CREATE TABLE b (k VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY)`,
	}
	want := map[string][2]bool{"sqlite": {true, false}, "postgres": {true, true}, "mysql": {true, false}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, b, map[string]sqldb.Table{"a": {Key: "k"}, "b": {Key: "k"}, "c": {Table: "a", Key: "k", KeyCase: sqldb.KeyCaseInsensitive}}, "",
				strings.Split(ddl[b.name], "; ")...)
			for i, o := range []string{"a", "b", "c"} {
				d, err := c.Describe(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				w := i < 2 && want[b.name][i]
				if got := d.KeyField().CaseSensitive; got != w {
					t.Errorf("%s: CaseSensitive %v, want %v", o, got, w)
				}
			}
		})
	}
}
