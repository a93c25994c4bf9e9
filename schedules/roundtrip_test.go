package schedules

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/internal/testdb"
)

// Round trips are exact (issue 10, finding 3): values set in Salesforce,
// of every field type and in the text real orgs hold, synced into a
// spreadsheet or table and synced again, make no write on either side, and
// Salesforce keeps every value byte for byte.
//
// CASEBRIDGE_ROUNDTRIP_SEEDS sets how many random orgs each source kind
// is tried with (default 2).

// hostile is text a careless writer or reader changes. Each fits an
// 80-character text field.
var hostile = []string{
	"note\n", "  both ends  ", "\tleading tab", "trailing tab\t", "a\r\nb\r\n", "a\rb", "\r\n", " ",
	"\u00a0leading NBSP", "trailing NBSP\u00a0", "សុខ\u200bដារ៉ា\u200bសុភា", "\u200bzw first", "zw last\u200b",
	"ZWNJ\u200cZWJ\u200d", "a\u2060b", "cafe\u0301 NFD", "café NFC", "\u200fعربي\u200e mixed", "עברית ושלום",
	"emoji 👩‍👩‍👧 🇰🇭", "=1+1", "+1", "-x", "@a", "\t=1+1", "'=x", "''=x", "'plain", "\"quoted\"", "a,b;c",
	"_x0041_", "0042", "-12", "12.50", "2024-04-03", "TRUE", "yes", "#N/A", "สมหญิง ตัวอย่าง", "মহিলা ",
}

// longNote is a cell as long as Excel allows (32,767 characters), in
// Khmer, ending in a line break.
var longNote = strings.Repeat("ក", 32766) + "\n"

func roundTripSeeds(t *testing.T) int {
	if s := os.Getenv("CASEBRIDGE_ROUNDTRIP_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CASEBRIDGE_ROUNDTRIP_SEEDS=%q: want a positive number", s)
		}
		return n
	}
	return 2
}

// rtSource is one kind of local source: its configuration and how to make
// it empty (a header row, a table).
type rtSource struct {
	kind string
	// make creates the empty sheet or tables in dir and returns the
	// source's configuration lines and, for databases, the handle.
	make func(t *testing.T, dir string) (string, *sql.DB)
}

var rtColumns = []string{"case_id", "first_name", "last_name", "local_name", "guardian", "phone", "address", "notes",
	"stage", "citizenship", "birthdate", "modified", "age", "verified"}

var ccColumns = []string{"cc_key", "name", "amount", "born", "active", "seen", "tags"}

func rtSources() []rtSource {
	sheetSource := func(ext string) func(t *testing.T, dir string) (string, *sql.DB) {
		return func(t *testing.T, dir string) (string, *sql.DB) {
			files := map[string][]string{"cases": rtColumns, "cc": ccColumns}
			var cfg strings.Builder
			for name, cols := range files {
				p := filepath.Join(dir, name+"."+ext)
				if ext == "csv" {
					if err := os.WriteFile(p, []byte(strings.Join(cols, ",")+"\r\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				} else {
					f := excelize.NewFile()
					if err := f.SetSheetRow("Sheet1", "A1", &cols); err != nil {
						t.Fatal(err)
					}
					if err := f.SaveAs(p); err != nil {
						t.Fatal(err)
					}
					f.Close()
				}
				fmt.Fprintf(&cfg, "  %s: { kind: %s, path: %s }\n", name, ext, p)
			}
			return cfg.String(), nil
		}
	}
	dbSource := func(kind, driver string, dsn func(testing.TB) string, ddl []string) func(t *testing.T, dir string) (string, *sql.DB) {
		return func(t *testing.T, dir string) (string, *sql.DB) {
			d := dsn(t)
			db, err := sql.Open(driver, d)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for _, s := range ddl {
				if _, err := db.Exec(s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			where := "dsn: " + strconv.Quote(d)
			if kind == "sqlite" {
				where = "path: " + strconv.Quote(d)
			}
			return fmt.Sprintf("  cases: { kind: %s, %s, table: cases }\n  cc: { kind: %s, %s, table: cc }\n", kind, where, kind, where), db
		}
	}
	return []rtSource{
		{"csv", sheetSource("csv")},
		{"xlsx", sheetSource("xlsx")},
		{"sqlite", dbSource("sqlite", "sqlite", testdb.SQLite, []string{
			`CREATE TABLE cases (case_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, local_name TEXT, guardian TEXT, phone TEXT,
				address TEXT, notes TEXT, stage TEXT, citizenship TEXT, birthdate DATE, modified DATETIME, age NUMERIC, verified BOOLEAN)`,
			`CREATE TABLE cc (cc_key TEXT PRIMARY KEY, name TEXT, amount NUMERIC, born DATE, active BOOLEAN, seen DATETIME, tags TEXT)`,
		})},
		{"postgres", dbSource("postgres", "pgx", testdb.Postgres, []string{
			`CREATE TABLE cases (case_id VARCHAR(40) PRIMARY KEY, first_name VARCHAR(80), last_name VARCHAR(80), local_name VARCHAR(120),
				guardian VARCHAR(120), phone VARCHAR(80), address VARCHAR(255), notes TEXT, stage VARCHAR(40), citizenship TEXT,
				birthdate DATE, modified TIMESTAMPTZ, age NUMERIC(3,0), verified BOOLEAN)`,
			`CREATE TABLE cc (cc_key VARCHAR(40) PRIMARY KEY, name VARCHAR(80), amount NUMERIC(12,2), born DATE, active BOOLEAN,
				seen TIMESTAMPTZ, tags TEXT)`,
		})},
		{"mysql", dbSource("mysql", "mysql", testdb.MySQL, []string{
			`CREATE TABLE cases (case_id VARCHAR(40) PRIMARY KEY, first_name VARCHAR(80), last_name VARCHAR(80), local_name VARCHAR(120),
				guardian VARCHAR(120), phone VARCHAR(80), address VARCHAR(255), notes MEDIUMTEXT, stage VARCHAR(40), citizenship TEXT,
				birthdate DATE, modified DATETIME, age DECIMAL(3,0), verified BOOLEAN) ENGINE=InnoDB`,
			`CREATE TABLE cc (cc_key VARCHAR(40) PRIMARY KEY, name VARCHAR(80), amount DECIMAL(12,2), born DATE, active BOOLEAN,
				seen DATETIME, tags TEXT) ENGINE=InnoDB`,
		})},
	}
}

const rtJobs = `
jobs:
  cases:
    direction: both
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: case_id, key_prefix: "rt:" }
    fields:
      - { sf: vcms__First_Name__c, local: first_name }
      - { sf: vcms__Last_Name__c, local: last_name }
      - { sf: vcms__Name_Local_Script__c, local: local_name }
      - { sf: vcms__Guardian_Name__c, local: guardian }
      - { sf: vcms__Mobile_Phone__c, local: phone }
      - { sf: vcms__Home_Address__c, local: address }
      - { sf: vcms__Case_Notes__c, local: notes }
      - { sf: vcms__Stage__c, local: stage }
      - { sf: vcms__Citizenship__c, local: citizenship }
      - { sf: vcms__Birthdate__c, local: birthdate }
      - { sf: vcms__Source_Modified_At__c, local: modified }
      - { sf: vcms__Age_At_Identification__c, local: age }
      - { sf: vcms__Age_Verified__c, local: verified }
  cc:
    direction: both
    conflict: salesforce_wins
    salesforce: { object: vcms__Conformance_Case__c, key: vcms__Key__c }
    local: { source: cc, key: cc_key, key_prefix: "rt:" }
    fields:
      - { sf: vcms__Name__c, local: name }
      - { sf: vcms__Amount__c, local: amount }
      - { sf: vcms__Born__c, local: born }
      - { sf: vcms__Active__c, local: active }
      - { sf: vcms__Seen__c, local: seen }
      - { sf: vcms__Tags__c, local: tags }
`

// textFields are the fields whose text must land locally as Salesforce
// holds it, by local column.
var textFields = map[string]string{
	"first_name": "vcms__First_Name__c", "last_name": "vcms__Last_Name__c", "local_name": "vcms__Name_Local_Script__c",
	"guardian": "vcms__Guardian_Name__c", "phone": "vcms__Mobile_Phone__c", "address": "vcms__Home_Address__c",
	"notes": "vcms__Case_Notes__c", "stage": "vcms__Stage__c",
}

// randomOrg fills the org with n cases and n conformance records of
// random values; every hostile text is used at least once per seed.
func randomOrg(t *testing.T, org *sftest.Org, rng *rand.Rand, n int) {
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	next := 0
	text := func() any {
		if rng.IntN(8) == 0 {
			return nil
		}
		s := hostile[next%len(hostile)]
		if rng.IntN(3) == 0 {
			s = hostile[rng.IntN(len(hostile))]
		}
		next++
		return s
	}
	someOf := func(vals ...string) any {
		var out []string
		for _, v := range vals {
			if rng.IntN(3) == 0 {
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return strings.Join(out, ";")
	}
	date := func() string {
		return time.Date(1990+rng.IntN(40), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	instant := func() string {
		return time.Unix(rng.Int64N(2e9), 0).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	for i := range n {
		notes := text()
		if i == 0 {
			notes = longNote
		}
		fields := map[string]any{
			"vcms__External_Key__c": fmt.Sprintf("rt:C-%03d", i),
			"vcms__First_Name__c":   text(), "vcms__Last_Name__c": text(), "vcms__Name_Local_Script__c": text(),
			"vcms__Guardian_Name__c": text(), "vcms__Mobile_Phone__c": pick("+855 12 345 678", " 012-345-678\n", "+66812345678", "0812345678\t"),
			"vcms__Home_Address__c": text(), "vcms__Case_Notes__c": notes,
			"vcms__Stage__c":       pick("Identified", "Active", "Follow_Up", "Closed"),
			"vcms__Citizenship__c": someOf("TH", "KH", "MM", "BD"),
			"vcms__Birthdate__c":   date(), "vcms__Source_Modified_At__c": instant(),
			"vcms__Age_At_Identification__c": rng.IntN(100), "vcms__Age_Verified__c": rng.IntN(2) == 0,
		}
		if _, err := org.Insert("vcms__Survivor_Case__c", fields, false); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		cc := map[string]any{
			"vcms__Key__c": fmt.Sprintf("rt:CC-%03d", i), "vcms__Name__c": text(),
			"vcms__Amount__c": float64(rng.IntN(2000000)-1000000) / 100, "vcms__Born__c": date(),
			"vcms__Active__c": rng.IntN(2) == 0, "vcms__Seen__c": instant(), "vcms__Tags__c": someOf("legal", "medical", "shelter", "ที่พัก"),
		}
		if _, err := org.Insert("vcms__Conformance_Case__c", cc, false); err != nil {
			t.Fatalf("conformance record %d: %v", i, err)
		}
	}
}

func TestSalesforceValuesRoundTrip(t *testing.T) {
	seeds := roundTripSeeds(t)
	for _, src := range rtSources() {
		t.Run(src.kind, func(t *testing.T) {
			for seed := range seeds {
				t.Run("seed"+strconv.Itoa(seed), func(t *testing.T) { roundTrip(t, src, uint64(seed)) })
			}
		})
	}
}

func roundTrip(t *testing.T, src rtSource, seed uint64) {
	ctx := context.Background()
	org, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	randomOrg(t, org, rand.New(rand.NewPCG(seed, 10)), 12)
	before := orgValues(org)

	dir := t.TempDir()
	sources, db := src.make(t, dir)
	cfgText := `
version: 1
salesforce:
  login_url: ` + srv.URL + `
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
` + sources + rtJobs
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	run := func(pass string) {
		t.Helper()
		org.ResetRequests()
		for _, job := range []string{"cases", "cc"} {
			res, err := r.Run(ctx, job, RunOptions{})
			if err != nil {
				t.Fatalf("%s run, job %s: %v", pass, job, err)
			}
			c := res.Result.Counts
			if c.Failures != 0 || len(res.MappingErrors) != 0 || len(res.Unreadable) != 0 {
				t.Errorf("%s run, job %s: %d failed, mapping errors %v, unreadable %v", pass, job, c.Failures, res.MappingErrors, res.Unreadable)
			}
			if pass == "first" && c.Creates != 12 {
				t.Errorf("first run, job %s: %d created, want 12:\n%s", job, c.Creates, res.Result.Plan)
			}
			if pass == "second" && res.Result.Plan.NumWrites() != 0 {
				t.Errorf("second run, job %s plans writes:\n%s", job, res.Result.Plan)
			}
		}
		for _, e := range org.Requests() {
			if strings.HasPrefix(e.Endpoint, "collections.") || strings.HasPrefix(e.Endpoint, "bulk") ||
				strings.HasPrefix(e.Endpoint, "sobject.") && e.Method != "GET" {
				t.Errorf("%s run wrote to Salesforce: %s %s", pass, e.Method, e.Endpoint)
			}
		}
		if got := orgValues(org); !reflect.DeepEqual(got, before) {
			for k, v := range before {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s run changed %s in Salesforce", pass, k)
				}
			}
		}
	}
	run("first")
	local := localState(t, src.kind, dir, db)
	checkLanded(t, src.kind, dir, db, org)
	run("second")
	if got := localState(t, src.kind, dir, db); got != local {
		t.Errorf("the second run changed the local %s", src.kind)
	}
}

// orgValues is every field of every live record, by object, key and field.
func orgValues(org *sftest.Org) map[string]any {
	out := map[string]any{}
	for _, obj := range []string{"vcms__Survivor_Case__c", "vcms__Conformance_Case__c"} {
		for _, rec := range org.Records(obj) {
			for f, v := range rec.Fields {
				if f == "LastModifiedDate" || f == "SystemModstamp" || f == "LastModifiedById" {
					continue
				}
				out[obj+"/"+rec.ID+"/"+f] = v
			}
		}
	}
	return out
}

// localState is the local side's bytes (a file) or rows (a table).
func localState(t *testing.T, kind, dir string, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	if db == nil {
		for _, name := range []string{"cases", "cc"} {
			data, err := os.ReadFile(filepath.Join(dir, name+"."+kind))
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
		}
		return b.String()
	}
	for _, q := range []string{"SELECT * FROM cases ORDER BY case_id", "SELECT * FROM cc ORDER BY cc_key"} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

// checkLanded reads the local cases back as casebridge reads them and
// checks that every text field holds what Salesforce holds (in NFC, as
// text is compared and written).
func checkLanded(t *testing.T, kind, dir string, db *sql.DB, org *sftest.Org) {
	t.Helper()
	local := map[string]map[string]string{} // key -> column -> text
	if db != nil {
		cols := make([]string, 0, len(textFields))
		for col := range textFields {
			cols = append(cols, col)
		}
		rows, err := db.Query("SELECT case_id, " + strings.Join(cols, ", ") + " FROM cases")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for i, col := range cols {
				m[col] = vals[i+1].String
			}
			local[vals[0].String] = m
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	} else {
		readSheet(t, filepath.Join(dir, "cases."+kind), local)
	}
	for _, rec := range org.Records("vcms__Survivor_Case__c") {
		key := strings.TrimPrefix(rec.Fields["vcms__External_Key__c"].(string), "rt:")
		l, ok := local[key]
		if !ok {
			t.Errorf("%s: not in the %s", key, kind)
			continue
		}
		for col, f := range textFields {
			want, _ := rec.Fields[f].(string)
			if got := l[col]; got != norm.NFC.String(want) {
				t.Errorf("%s.%s = %+q, Salesforce holds %+q", key, col, abbrev(got), abbrev(want))
			}
		}
	}
}

// readSheet reads the text columns of a sheet as casebridge reads them.
func readSheet(t *testing.T, path string, into map[string]map[string]string) {
	t.Helper()
	c, err := sheet.New(sheet.Config{Name: "rt", Sheets: []sheet.SheetConfig{{Object: "cases", Path: path, Key: "case_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(context.Background(), "cases", "", func(r connector.Record) error {
		m := map[string]string{}
		for col := range textFields {
			m[col], _ = r.Fields[col].Text()
		}
		into[r.Key] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-20:]
	}
	return s
}
