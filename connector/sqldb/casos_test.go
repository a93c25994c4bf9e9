package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sqldb"
	"github.com/casebridge/casebridge/internal/testdb"
)

// loadSQL runs a fixture file of statements ending in ";" at the end of a
// line, on one connection (the file sets its session's sql_mode).
func loadSQL(t *testing.T, db *sql.DB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var stmt strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		stmt.WriteString(line)
		stmt.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if _, err := conn.ExecContext(ctx, stmt.String()); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			stmt.Reset()
		}
	}
}

func gt(y int, m time.Month, d, h, min, s int) time.Time {
	loc, _ := time.LoadLocation("America/Guatemala")
	return time.Date(y, m, d, h, min, s, 0, loc)
}

// TestCasosFixture runs the connector over doc/architecture.md §11.5's legacy MySQL
// table: zero dates, TINYINT(1) soft delete, DATETIME in Guatemalan local
// time, DECIMAL amounts, an ENUM, the AUTO_INCREMENT key and the sf_id link.
func TestCasosFixture(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.MySQL(t)
	c, err := sqldb.New("ngo-gt-db", sqldb.Config{Driver: sqldb.MySQL, DSN: sqldb.DSN(dsn), TimeZone: "America/Guatemala", Tables: map[string]sqldb.Table{
		"casos":     {Key: "id", Link: "sf_id", UpdatedAt: "actualizado_en", SoftDelete: "eliminado"},
		"servicios": {Key: "id", Link: "sf_id"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	loadSQL(t, c.DB(), "../../fixtures/sql/casos.mysql.sql")
	clock := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return clock }

	// sample.yaml describes this fixture: it must pass Check against it.
	var sample sqldb.Config
	if err := yaml.Unmarshal([]byte(sqldb.Sample), &sample); err != nil {
		t.Fatal(err)
	}
	sample.DSN = sqldb.DSN(dsn)
	sc, err := sqldb.New("sample", sample)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Check(ctx); err != nil {
		t.Errorf("sample.yaml against the fixture: %v", err)
	}
	if o, err := sc.Describe(ctx, "casos"); err == nil {
		if f := o.Field("tipo_explotacion"); f == nil || f.Type != connector.TypeMultiPicklist {
			t.Errorf("tipo_explotacion: %+v", f)
		}
	}
	err = sc.ReadKeys(ctx, "casos", []string{"42"}, func(r connector.Record) error {
		if v := r.Fields["tipo_explotacion"]; !v.Equal(connector.Multi("trabajo forzoso", "explotacion sexual")) {
			t.Errorf("42.tipo_explotacion = %s %q", v.Kind(), v.Raw())
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	sc.Close()

	var tz string
	if err := c.DB().QueryRow("SELECT @@session.time_zone").Scan(&tz); err != nil {
		t.Fatal(err)
	}
	if tz != "-06:00" && tz != "America/Guatemala" {
		t.Errorf("session time_zone %q, want Guatemala's", tz)
	}

	o, err := c.Describe(ctx, "casos")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		typ  connector.FieldType
		chk  func(*connector.Field) bool
	}{
		{"id", connector.TypeInt, func(f *connector.Field) bool { return f.ExternalID && f.Unique && !f.Createable && !f.Updateable }},
		{"codigo", connector.TypeString, func(f *connector.Field) bool { return f.Length == 20 && f.Unique && !f.Nillable }},
		{"fecha_nacimiento", connector.TypeDate, func(f *connector.Field) bool { return f.Nillable }},
		{"eliminado", connector.TypeBoolean, func(f *connector.Field) bool { return !f.Nillable }},
		{"consentimiento_compartir", connector.TypePicklist, func(f *connector.Field) bool {
			return f.Restricted && slices.Equal(f.Picklist, []string{"si", "no", "retirado"})
		}},
		{"actualizado_en", connector.TypeDateTime, func(f *connector.Field) bool { return true }},
		{"sf_id", connector.TypeString, func(f *connector.Field) bool { return f.Length == 18 && f.ExternalID && f.Unique }},
	} {
		f := o.Field(tc.name)
		if f == nil || f.Type != tc.typ || !tc.chk(f) {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}

	got, cur := collect(t, c, "casos", "")
	if !slices.Equal(slices.Sorted(slices.Values(keys(got))), []string{"40", "41", "42"}) {
		t.Fatalf("live casos: %v (43 is soft-deleted)", keys(got))
	}
	want := map[string]map[string]connector.Value{
		"40": {
			"fecha_nacimiento": connector.DateValue(connector.Date{Year: 2009, Month: 5, Day: 17}),
			"eliminado":        connector.Bool(false),
			"actualizado_en":   connector.DateTime(gt(2024, 4, 3, 9, 15, 0)),
			"sf_id":            connector.Null(),
			"idioma":           connector.Text("español"),
		},
		"41": {
			"fecha_nacimiento": connector.Null(), // '0000-00-00'
			"actualizado_en":   connector.DateTime(time.Date(2024, 4, 4, 0, 30, 0, 0, time.UTC)),
			"sf_id":            connector.Text("a0B5e00000ExmpAAA1"),
			"sexo":             connector.Text("M"),
		},
		"42": {
			"fecha_nacimiento":            connector.Null(), // '2008-00-00'
			"nombre_completo":             connector.Text("María José Ejemplo Prueba"),
			"idioma":                      connector.Text("k'iche'"),
			"consentimiento_compartir":    connector.Text("retirado"),
			"fecha_retiro_consentimiento": connector.DateTime(time.Date(2024, 4, 6, 5, 45, 10, 0, time.UTC)),
		},
	}
	for k, fields := range want {
		r := got[k]
		if r.Err != nil || r.ID != k || r.Deleted {
			t.Errorf("%s: err %v id %q deleted %v", k, r.Err, r.ID, r.Deleted)
		}
		for name, w := range fields {
			if v := r.Fields[name]; !v.Equal(w) {
				t.Errorf("%s.%s = %s %q, want %s %q", k, name, v.Kind(), v.Raw(), w.Kind(), w.Raw())
			}
		}
	}
	if m := got["41"].Modified; !m.Equal(time.Date(2024, 4, 4, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("41 modified %v", m)
	}

	// Incremental: row 43 was soft-deleted after the newest live row.
	inc, _ := collect(t, c, "casos", cur)
	if r, ok := inc["43"]; !ok || !r.Deleted {
		t.Errorf("incremental: 43 not read as deleted: %v", keys(inc))
	} else if v := r.Fields["fecha_retiro_consentimiento"]; !v.IsNull() || r.Err != nil {
		t.Errorf("43: zero DATETIME read as %s (%v)", v.Kind(), r.Err)
	}

	// Servicios: DECIMAL exact, zero date null.
	svc, _ := collect(t, c, "servicios", "")
	for k, w := range map[string]map[string]connector.Value{
		"7": {"monto_gtq": dec("1250.50"), "fecha": connector.DateValue(connector.Date{Year: 2024, Month: 4, Day: 10})},
		"8": {"monto_gtq": dec("0.1"), "fecha": connector.Null(), "tipo": connector.Text("atención médica")},
		"9": {"monto_gtq": connector.Null()},
	} {
		for name, wv := range w {
			if v := svc[k].Fields[name]; !v.Equal(wv) {
				t.Errorf("servicios %s.%s = %q, want %q", k, name, v.Raw(), wv.Raw())
			}
		}
	}
	if d, _ := svc["7"].Fields["monto_gtq"].Number(); d.String() != "1250.5" || d.Exponent() != -2 {
		t.Errorf("1250.50 not exact: %s exp %d", d.String(), d.Exponent())
	}

	// A case created from Salesforce: no local key, the Salesforce Id in
	// sf_id. The INSERT writes sf_id; the database makes the key.
	newCase := connector.Record{Fields: map[string]connector.Value{
		"sf_id":                       connector.Text("a0B5e00000ExmpAAA9"),
		"codigo":                      connector.Text("GT-2024-0044"),
		"nombre_completo":             connector.Text("Lucía Ejemplo"),
		"consentimiento_compartir":    connector.Text("si"),
		"fecha_retiro_consentimiento": connector.DateTime(time.Date(2024, 4, 6, 5, 45, 10, 0, time.UTC)),
	}}
	res, err := c.Upsert(ctx, "casos", []connector.Record{newCase,
		// matched on sf_id: an update of 41
		{Fields: map[string]connector.Value{"sf_id": connector.Text("a0B5e00000ExmpAAA1"), "estado": connector.Text("cerrado")}},
		// not one of the ENUM's values
		{Key: "40", Fields: map[string]connector.Value{"consentimiento_compartir": connector.Text("quizás")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || !res[0].Created || res[0].Key != "44" || res[0].ID != "44" {
		t.Errorf("create by link: %+v", res[0])
	}
	if res[1].Err != nil || res[1].Created || res[1].Key != "41" {
		t.Errorf("match by link: %+v", res[1])
	}
	if connector.CodeOf(res[2].Err) != connector.CodeBadPicklist {
		t.Errorf("bad enum value: %v", res[2].Err)
	}
	// The crash-and-retry case: the same create again is an update of 44.
	res, err = c.Upsert(ctx, "casos", []connector.Record{newCase})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].Key != "44" {
		t.Errorf("repeated create: %v %+v", err, res)
	}
	var wall, sf string
	var del int
	if err := c.DB().QueryRow("SELECT CAST(fecha_retiro_consentimiento AS CHAR), sf_id, eliminado FROM casos WHERE id = 44").Scan(&wall, &sf, &del); err != nil {
		t.Fatal(err)
	}
	if wall != "2024-04-05 23:45:10" || sf != "a0B5e00000ExmpAAA9" || del != 0 {
		t.Errorf("row 44: %q %q %d", wall, sf, del)
	}

	// Delete sets eliminado and stamps actualizado_en.
	clock = clock.Add(time.Hour)
	dres, err := c.Delete(ctx, "casos", []string{"40", "43"})
	if err != nil {
		t.Fatal(err)
	}
	if dres[0].Err != nil || !errors.Is(dres[1].Err, connector.ErrNotFound) {
		t.Errorf("delete: %+v", dres)
	}
	var stamp string
	if err := c.DB().QueryRow("SELECT eliminado, CAST(actualizado_en AS CHAR) FROM casos WHERE id = 40").Scan(&del, &stamp); err != nil {
		t.Fatal(err)
	}
	if del != 1 || stamp != "2024-05-01 07:00:00" { // 13:00 UTC in Guatemala
		t.Errorf("soft delete: eliminado %d actualizado_en %q", del, stamp)
	}

	// A service whose case does not exist fails alone (foreign key).
	res, err = c.Upsert(ctx, "servicios", []connector.Record{
		{Fields: map[string]connector.Value{"sf_id": connector.Text("a0C5e00000ExmpAAA5"), "caso_id": connector.Int(999), "tipo": connector.Text("albergue")}},
		{Fields: map[string]connector.Value{"sf_id": connector.Text("a0C5e00000ExmpAAA6"), "caso_id": connector.Int(42), "tipo": connector.Text("albergue"), "monto_gtq": dec("99.999")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if connector.CodeOf(res[0].Err) != connector.CodeInvalidValue || res[1].Err != nil {
		t.Errorf("servicios: %+v", res)
	}
	var monto string
	if err := c.DB().QueryRow("SELECT monto_gtq FROM servicios WHERE sf_id = 'a0C5e00000ExmpAAA6'").Scan(&monto); err != nil {
		t.Fatal(err)
	}
	if monto != "100.00" {
		t.Errorf("monto_gtq stored %q, want 100.00 (rounded to the scale)", monto)
	}
}

// TestMySQLStrictTooLong: a TEXT value within the character count but over
// the column's byte limit is refused by the server in strict mode; the
// record fails alone with STRING_TOO_LONG naming the column.
func TestMySQLStrictTooLong(t *testing.T) {
	ctx := context.Background()
	b := backends[2]
	c := setup(t, b, map[string]sqldb.Table{"n": {Key: "k"}}, "", `CREATE TABLE n (k VARCHAR(10) PRIMARY KEY, body TEXT)`)
	long := strings.Repeat("ข", 30000) // 30,000 characters, 90,000 bytes
	res, err := c.Upsert(ctx, "n", []connector.Record{
		{Key: "a", Fields: map[string]connector.Value{"body": connector.Text(long)}},
		{Key: "b", Fields: map[string]connector.Value{"body": connector.Text("ok")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var re *connector.RecordError
	if !errors.As(res[0].Err, &re) || re.Code != connector.CodeTooLong || re.Field != "body" || res[1].Err != nil {
		t.Errorf("results: %+v", res)
	}
	if res[0].Err != nil && strings.Contains(res[0].Err.Error(), "ข") {
		t.Error("error echoes the value")
	}
}
