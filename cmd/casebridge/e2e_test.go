package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/internal/testdb"
	"github.com/casebridge/casebridge/state"
)

// TestE2E runs the end-to-end acceptance scripts of issue 7 in
// testdata/e2e: the real casebridge binary entry point against real files
// and databases, and an in-process fake org per script that the script can
// inspect and edit through the commands below.
//
//	fakeorg [-seeded] [-rules] [-schema FILE]
//	    start the fake org (empty unless -seeded; -rules turns on its
//	    validation rules, e.g. a case's last name is required) on 127.0.0.1; sets
//	    $ORG_URL and $ORG_SECRET (configs say login_url: ${ORG_URL} and
//	    client_secret: ${ORG_SECRET}) and writes $WORK/org.secret. -schema
//	    serves the objects of a file saved by describe --json, as fakeorg
//	    --schema does; it may start a second org, which the org commands
//	    and $ORG_URL then address (the first keeps running).
//	org get OBJECT KEY FIELD        print a field of the record with that external key ("null" when null);
//	                                ! org get OBJECT KEY: no live record has that key
//	org set OBJECT KEY|id:ID F=text F:=json ...
//	                                an edit made in Salesforce: a REST upsert by external key
//	org new VAR OBJECT F=text ...   a record without a key (a case opened in Salesforce); $VAR is its Id
//	org delete OBJECT KEY           a delete made in Salesforce (REST)
//	org count OBJECT [N]            print (or assert) the number of live records
//	org writes [N]                  print (or assert) casebridge's write calls since the last reset
//	org reset                       clear the request log
//	org lock KEY...                 the next write touching each key fails once with UNABLE_TO_LOCK_ROW
//	org down | org up               every write answers 503 SERVER_UNAVAILABLE (an outage), or no longer
//	db open sqlite|postgres|mysql   a fresh database for this script (internal/testdb); sets $DB_DSN
//	db run FILE                     run the statements of FILE (each ending in ";" and a newline)
//	db exec 'SQL' [PARAM...]        run a statement with ? placeholders ("null" binds NULL)
//	db query 'SQL' [PARAM...]       print the rows, cells tab-separated ("null" for NULL)
//	xlsx make FILE SHEET CSVFILE [SHEET CSVFILE]...
//	                                write a workbook whose sheets hold the CSV files' cells (as text)
//	xlsx remove-row FILE SHEET ROW  delete a row, as a person in Excel would
//	xlsx get FILE SHEET CELL        print a cell's text
//	xlsx set FILE SHEET CELL VALUE  edit a cell, as a person in Excel would
//	xlsx bomb FILE SHEET            a 1.3 MB workbook whose sheet (header Case ID, First name; one row
//	                                B-001) inflates to 1 GiB: white space between its two rows
//	exitcode CODE PROGRAM ARGS...   run PROGRAM and require exactly this exit code
//	                                (a number or ok, findings, usage, config, abort, budget, locked, error, lockedout)
//	sleep DURATION                  wait (modification times must differ)
//	unescape FILE                   rewrite FILE with each \xHH replaced by the byte HH: a NUL
//	                                or another control character a script cannot type
//	lease STATEDB JOB               another process holds the job's lease (until the script ends)
//
// The org's write calls are counted by endpoint class (creates, updates,
// upserts, deletes, Bulk API ingest) minus those the org commands made
// themselves.
func TestE2E(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/e2e",
		Setup: func(env *testscript.Env) error {
			env.Values[e2eKey{}] = &e2eState{t: env.T().(testing.TB), work: env.WorkDir}
			// Default key files in the script's folder, not in $HOME.
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fakeorg":  cmdFakeorg,
			"org":      cmdOrg,
			"db":       cmdDB,
			"xlsx":     cmdXLSX,
			"exitcode": cmdExitcode,
			"sleep":    cmdSleep,
			"unescape": cmdUnescape,
			"lease":    cmdLease,
		},
	})
}

type e2eKey struct{}

// e2eState is one script's fake org and database.
type e2eState struct {
	t    testing.TB
	work string

	org   *sftest.Org
	url   string
	token string
	own   int // write calls the org commands made since the last reset

	db     *sql.DB
	driver string
}

func e2e(ts *testscript.TestScript) *e2eState { return ts.Value(e2eKey{}).(*e2eState) }

func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("%s does not take !", name)
	}
}

func cmdFakeorg(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "fakeorg")
	st := e2e(ts)
	opts := sftest.Options{Empty: true}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-seeded":
			opts.Empty = false
		case a == "-rules":
			opts.ValidationRules = true
		case a == "-schema" && i+1 < len(args):
			i++
			objects, err := readSchemaFile(ts.MkAbs(args[i]))
			ts.Check(err)
			opts.Schema = objects
		default:
			ts.Fatalf("usage: fakeorg [-seeded] [-rules] [-schema FILE]")
		}
	}
	if st.org != nil && opts.Schema == nil {
		ts.Fatalf("fakeorg: already started")
	}
	org := sftest.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: org.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	st.org, st.url = org, "http://"+ln.Addr().String()
	st.token = org.IssueToken(sftest.DefaultUsername)
	ts.Setenv("ORG_URL", st.url)
	ts.Setenv("ORG_SECRET", sftest.DefaultClientSecret)
	ts.Check(os.WriteFile(filepath.Join(st.work, "org.secret"), []byte(sftest.DefaultClientSecret+"\n"), 0o600))
}

// isWrite reports whether a logged request wrote to the org.
func isWrite(e sftest.LogEntry) bool {
	switch e.Endpoint {
	case "sobject.create", "sobject.update", "sobject.upsert", "sobject.delete",
		"collections.create", "collections.update", "collections.upsert", "collections.delete":
		return true
	case "composite":
		return e.Method != http.MethodGet && !e.ReadOnly
	}
	return strings.HasPrefix(e.Endpoint, "bulk.ingest")
}

func cmdOrg(ts *testscript.TestScript, neg bool, args []string) {
	st := e2e(ts)
	if st.org == nil {
		ts.Fatalf("org: run fakeorg first")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: org get|set|new|delete|count|writes|reset|lock ...")
	}
	org := st.org
	switch args[0] {
	case "get":
		if len(args) != 4 && !(neg && len(args) == 3) {
			ts.Fatalf("usage: org get OBJECT KEY FIELD, or ! org get OBJECT KEY")
		}
		rec, ok := org.GetByExternalKey(args[1], args[2])
		if neg {
			if ok {
				ts.Fatalf("org get: %s %s exists", args[1], args[2])
			}
			return
		}
		if !ok {
			ts.Fatalf("org get: no live %s with external key %s", args[1], args[2])
		}
		v, ok := rec.Fields[args[3]]
		if !ok {
			ts.Fatalf("org get: %s has no field %s", args[1], args[3])
		}
		if v == nil {
			v = "null"
		}
		fmt.Fprintf(ts.Stdout(), "%v\n", v)
	case "set":
		noNeg(ts, neg, "org set")
		if len(args) < 4 {
			ts.Fatalf("usage: org set OBJECT KEY FIELD=text|FIELD:=json ...")
		}
		body := map[string]any{}
		for _, a := range args[3:] {
			if k, v, ok := strings.Cut(a, ":="); ok {
				var j any
				if err := json.Unmarshal([]byte(v), &j); err != nil {
					ts.Fatalf("org set %s: %v", a, err)
				}
				body[k] = j
			} else if k, v, ok := strings.Cut(a, "="); ok {
				body[k] = v
			} else {
				ts.Fatalf("org set: %q is not FIELD=text or FIELD:=json", a)
			}
		}
		if id, ok := strings.CutPrefix(args[2], "id:"); ok {
			st.restURL(ts, http.MethodPatch, fmt.Sprintf("%s/services/data/v%s/sobjects/%s/%s", st.url, st.org.APIVersion(), args[1], url.PathEscape(id)), body)
			break
		}
		st.rest(ts, http.MethodPatch, args[1], args[2], body)
	case "new":
		// A record without the job's key (a case a caseworker opened in
		// Salesforce): its Id goes into the environment variable VAR.
		noNeg(ts, neg, "org new")
		if len(args) < 3 {
			ts.Fatalf("usage: org new VAR OBJECT [FIELD=text ...]")
		}
		fields := map[string]any{}
		for _, a := range args[3:] {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				ts.Fatalf("org new: %q is not FIELD=text", a)
			}
			fields[k] = v
		}
		id, err := org.Insert(args[2], fields, false)
		if err != nil {
			ts.Fatalf("org new: %v", err)
		}
		ts.Setenv(args[1], id)
	case "delete":
		noNeg(ts, neg, "org delete")
		if len(args) != 3 {
			ts.Fatalf("usage: org delete OBJECT KEY")
		}
		st.rest(ts, http.MethodDelete, args[1], args[2], nil)
	case "count":
		noNeg(ts, neg, "org count")
		if len(args) != 2 && len(args) != 3 {
			ts.Fatalf("usage: org count OBJECT [N]")
		}
		n := len(org.Records(args[1]))
		st.printOrAssert(ts, "org count "+args[1], n, args[2:])
	case "writes":
		noNeg(ts, neg, "org writes")
		n := -st.own
		for _, e := range org.Requests() {
			if isWrite(e) {
				n++
			}
		}
		st.printOrAssert(ts, "org writes", n, args[1:])
	case "lock":
		noNeg(ts, neg, "org lock")
		if len(args) < 2 {
			ts.Fatalf("usage: org lock KEY...")
		}
		org.LockRows(args[1:]...)
	case "down", "up":
		noNeg(ts, neg, "org "+args[0])
		org.SetWritesDown(args[0] == "down")
	case "reset":
		noNeg(ts, neg, "org reset")
		org.ResetRequests()
		st.own = 0
	default:
		ts.Fatalf("org: unknown subcommand %q", args[0])
	}
}

func (st *e2eState) printOrAssert(ts *testscript.TestScript, what string, n int, want []string) {
	if len(want) == 0 {
		fmt.Fprintf(ts.Stdout(), "%d\n", n)
		return
	}
	w, err := strconv.Atoi(want[0])
	ts.Check(err)
	if n != w {
		if what == "org writes" {
			for _, e := range st.org.Requests() {
				if isWrite(e) {
					ts.Logf("write: %s %s %s (%d records)", e.Method, e.Path, e.Endpoint, e.Records)
				}
			}
		}
		ts.Fatalf("%s: %d, want %d", what, n, w)
	}
}

// rest makes one REST call by external key, as a person editing the
// record in Salesforce would; it fails the script on an error status. The
// key is the object's own external id (vcms__External_Key__c on cases,
// vcms__External_Service_Key__c on Assistance: the fake org's objects
// each have their own).
func (st *e2eState) rest(ts *testscript.TestScript, method, object, key string, body map[string]any) {
	field := "vcms__External_Key__c"
	if ids := st.org.ExternalIDFields(object); len(ids) > 0 && !slices.Contains(ids, field) {
		field = ids[0]
	}
	st.restURL(ts, method, fmt.Sprintf("%s/services/data/v%s/sobjects/%s/%s/%s", st.url, st.org.APIVersion(), object, field, url.PathEscape(key)), body)
}

func (st *e2eState) restURL(ts *testscript.TestScript, method, u string, body map[string]any) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		ts.Check(err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	st.own++
	if resp.StatusCode >= 300 {
		ts.Fatalf("org %s %s: %s %s", method, u, resp.Status, out)
	}
}

func cmdDB(ts *testscript.TestScript, neg bool, args []string) {
	st := e2e(ts)
	if len(args) == 0 {
		ts.Fatalf("usage: db open|run|exec|query ...")
	}
	if args[0] == "open" {
		noNeg(ts, neg, "db open")
		if len(args) != 2 || st.db != nil {
			ts.Fatalf("usage: db open sqlite|postgres|mysql (once per script)")
		}
		var dsn, driver string
		switch args[1] {
		case "sqlite":
			dsn, driver = filepath.Join(st.work, "local.db"), "sqlite"
		case "postgres":
			dsn, driver = testdb.Postgres(st.t), "pgx"
		case "mysql":
			dsn, driver = testdb.MySQL(st.t), "mysql"
		default:
			ts.Fatalf("db open: unknown driver %q", args[1])
		}
		db, err := sql.Open(driver, dsn)
		ts.Check(err)
		ts.Defer(func() { db.Close() })
		st.db, st.driver = db, driver
		ts.Setenv("DB_DSN", dsn)
		return
	}
	if st.db == nil {
		ts.Fatalf("db: run db open first")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if args[0] == "run" {
		noNeg(ts, neg, "db run")
		if len(args) != 2 {
			ts.Fatalf("usage: db run FILE")
		}
		for _, stmt := range strings.Split(ts.ReadFile(args[1]), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := st.db.ExecContext(ctx, stmt); err != nil {
				ts.Fatalf("db run %s: %v\n%s", args[1], err, stmt)
			}
		}
		return
	}
	if len(args) < 2 {
		ts.Fatalf("usage: db %s 'SQL' [PARAM...]", args[0])
	}
	stmt, params := st.placeholders(args[1]), make([]any, len(args)-2)
	for i, p := range args[2:] {
		params[i] = p
		if p == "null" {
			params[i] = nil
		}
	}
	switch args[0] {
	case "exec":
		_, err := st.db.ExecContext(ctx, stmt, params...)
		if neg {
			if err == nil {
				ts.Fatalf("db exec: succeeded unexpectedly")
			}
			return
		}
		ts.Check(err)
	case "query":
		noNeg(ts, neg, "db query")
		rows, err := st.db.QueryContext(ctx, stmt, params...)
		ts.Check(err)
		defer rows.Close()
		cols, err := rows.Columns()
		ts.Check(err)
		for rows.Next() {
			cells := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range cells {
				ptrs[i] = &cells[i]
			}
			ts.Check(rows.Scan(ptrs...))
			out := make([]string, len(cells))
			for i, c := range cells {
				switch c := c.(type) {
				case nil:
					out[i] = "null"
				case []byte:
					out[i] = string(c)
				case time.Time: // a DATE prints as MySQL's text does
					if c = c.UTC(); c.Equal(c.Truncate(24 * time.Hour)) {
						out[i] = c.Format(time.DateOnly)
					} else {
						out[i] = c.Format(time.RFC3339Nano)
					}
				default:
					out[i] = fmt.Sprint(c)
				}
			}
			fmt.Fprintln(ts.Stdout(), strings.Join(out, "\t"))
		}
		ts.Check(rows.Err())
	default:
		ts.Fatalf("db: unknown subcommand %q", args[0])
	}
}

// placeholders turns the ? placeholders of stmt into PostgreSQL's $n.
func (st *e2eState) placeholders(stmt string) string {
	if st.driver != "pgx" {
		return stmt
	}
	var b strings.Builder
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cmdXLSX(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "xlsx")
	if len(args) == 0 {
		ts.Fatalf("usage: xlsx make|remove-row|get|set|bomb ...")
	}
	switch args[0] {
	case "make":
		if len(args) < 4 || len(args)%2 != 0 {
			ts.Fatalf("usage: xlsx make FILE SHEET CSVFILE [SHEET CSVFILE]...")
		}
		f := excelize.NewFile()
		defer f.Close()
		for i := 2; i < len(args); i += 2 {
			sheet := args[i]
			if i == 2 {
				ts.Check(f.SetSheetName("Sheet1", sheet))
			} else {
				_, err := f.NewSheet(sheet)
				ts.Check(err)
			}
			for r, line := range strings.Split(strings.TrimRight(ts.ReadFile(args[i+1]), "\n"), "\n") {
				for c, cell := range strings.Split(line, ",") {
					if cell == "" {
						continue
					}
					name, err := excelize.CoordinatesToCellName(c+1, r+1)
					ts.Check(err)
					ts.Check(f.SetCellStr(sheet, name, cell))
				}
			}
		}
		ts.Check(f.SaveAs(ts.MkAbs(args[1])))
	case "remove-row":
		if len(args) != 4 {
			ts.Fatalf("usage: xlsx remove-row FILE SHEET ROW")
		}
		row, err := strconv.Atoi(args[3])
		ts.Check(err)
		f, err := excelize.OpenFile(ts.MkAbs(args[1]))
		ts.Check(err)
		defer f.Close()
		ts.Check(f.RemoveRow(args[2], row))
		ts.Check(f.Save())
	case "get", "set":
		if (args[0] == "get" && len(args) != 4) || (args[0] == "set" && len(args) != 5) {
			ts.Fatalf("usage: xlsx get FILE SHEET CELL | xlsx set FILE SHEET CELL VALUE")
		}
		f, err := excelize.OpenFile(ts.MkAbs(args[1]))
		ts.Check(err)
		defer f.Close()
		if args[0] == "get" {
			v, err := f.GetCellValue(args[2], args[3])
			ts.Check(err)
			fmt.Fprintln(ts.Stdout(), v)
			return
		}
		ts.Check(f.SetCellStr(args[2], args[3], args[4]))
		ts.Check(f.Save())
	case "bomb":
		if len(args) != 3 {
			ts.Fatalf("usage: xlsx bomb FILE SHEET")
		}
		ts.Check(xlsxBomb(ts.MkAbs(args[1]), args[2]))
	default:
		ts.Fatalf("xlsx: unknown subcommand %q", args[0])
	}
}

// xlsxBomb writes a minimal workbook whose one sheet inflates to 1 GiB
// (white space between its two rows), streamed through a BestSpeed
// deflater: about 1.3 MB on disk, written in about a second.
func xlsxBomb(path, sheet string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	z := zip.NewWriter(f)
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + ns + ` xmlns:r="` + rel + `"><sheets><sheet name="` + sheet + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		w, err := z.Create(p[0])
		if err != nil {
			return err
		}
		io.WriteString(w, p[1])
	}
	w, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	io.WriteString(w, `<worksheet `+ns+`><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Case ID</t></is></c><c r="B1" t="inlineStr"><is><t>First name</t></is></c></row>`)
	space := bytes.Repeat([]byte(" "), 1<<20)
	for range 1024 {
		if _, err := w.Write(space); err != nil {
			return err
		}
	}
	io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>B-001</t></is></c><c r="B2" t="inlineStr"><is><t>Bomb</t></is></c></row></sheetData></worksheet>`)
	if err := z.Close(); err != nil {
		return err
	}
	return f.Close()
}

var exitNames = map[string]int{
	"ok": exitOK, "findings": exitFindings, "usage": exitUsage, "config": exitConfig,
	"abort": exitAbort, "budget": exitBudget, "locked": exitLocked, "error": exitError,
	"lockedout": exitLockedOut,
}

func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "exitcode")
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROGRAM ARGS...")
	}
	want, ok := exitNames[args[0]]
	if !ok {
		n, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("exitcode: %q is not a number or one of ok, findings, usage, config, abort, budget, locked, error, lockedout", args[0])
		}
		want = n
	}
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d (%s)", got, want, args[0])
	}
}

func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sleep")
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// cmdUnescape rewrites a file with each \xHH replaced by the byte HH.
func cmdUnescape(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "unescape")
	if len(args) != 1 {
		ts.Fatalf("usage: unescape FILE")
	}
	name := ts.MkAbs(args[0])
	data, err := os.ReadFile(name)
	ts.Check(err)
	var out []byte
	for i := 0; i < len(data); i++ {
		if data[i] == '\\' && i+3 < len(data) && data[i+1] == 'x' {
			if b, err := strconv.ParseUint(string(data[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(b))
				i += 3
				continue
			}
		}
		out = append(out, data[i])
	}
	ts.Check(os.WriteFile(name, out, 0o644))
}

// cmdLease takes a job's lease in a SQLite state store as another process
// would, and holds it until the script ends.
func cmdLease(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "lease")
	if len(args) != 2 {
		ts.Fatalf("usage: lease STATEDB JOB")
	}
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, ts.MkAbs(args[0]))
	ts.Check(err)
	token, err := st.Acquire(ctx, args[1], "other-host:4242", time.Hour, time.Now())
	if err != nil {
		st.Close()
		ts.Fatalf("lease: %v", err)
	}
	ts.Defer(func() {
		st.Release(ctx, args[1], token)
		st.Close()
	})
}
