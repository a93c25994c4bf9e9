package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// leakConfig is a job with every kind of classified rule: direct, quasi
// and sensitive fields, a consent gate, a classified lookup, dates, yes/no,
// value maps, a name split by a transform, a classified each child and a
// child keyed by_parent. Its column names are English so that any Thai
// text in an output can only come from a record.
const leakConfig = `version: 1
salesforce:
  login_url: ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
fingerprint_key_file: KEY_FILE
sources:
  sheet: { kind: csv, path: cases.csv, status_column: Sync, backups: 3 }
alerts:
  - name: hook
    webhook: { url: "HOOK_URL/hook", format: json }
    on: [failure, lockout, brake, conflicts, findings]
    min_findings: 1
jobs:
  cases:
    schedule: "0 0 1 1 *"
    conflict: manual
    deletes: propagate
    max_delete: 100%
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: sheet, key: Case ID, key_prefix: "lk:", key_pattern: "^LK-[0-9]+$" }
    consent: { field: vcms__Consent_Status__c, allowed: [Granted], classes: [direct, sensitive] }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__First_Name__c, local: Full name, transform: thai_name.first, pii: direct, direction: to_salesforce }
      - { sf: vcms__Last_Name__c, local: Full name, transform: thai_name.last, pii: direct, direction: to_salesforce }
      - { sf: vcms__Guardian_Name__c, local: Guardian, pii: direct }
      - { sf: vcms__Case_Code__c, local: Factory code, pii: quasi }
      - sf: vcms__Birthdate__c
        local: Birth date
        pii: direct
        date: { formats: [02/01/2006], era: buddhist, day_first: true }
      - { sf: vcms__Gender__c, local: Sex, pii: quasi, values: { F: Feminine, M: Masculine } }
      - { sf: vcms__Age_Verified__c, local: Verified, pii: quasi, yes_no: { yes: [Y], no: [N] } }
      - { sf: vcms__Workplace__c, local: Workplace, lookup: { object: Account, field: Name }, pii: sensitive, direction: to_salesforce }
      - { sf: vcms__Case_Notes__c, local: Notes, pii: sensitive }
      - { sf: vcms__Home_Address__c, local: Address, pii: direct }
      - { sf: vcms__Stage__c, local: Stage, values: { open: Active, closed: Closed } }
      - { sf: vcms__Consent_Status__c, local: Consent, values: { yes: Granted, no: Not_Obtained, withdrawn: Withdrawn } }
    children:
      - name: svc
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        key_suffix: ":svc"
        each: { local: Services, sf: vcms__Service_Type__c, split: ";", pii: sensitive, values: { shelter: Shelter, medical: Medical } }
        fields:
          - { sf: CurrencyIsoCode, constant: THB }
      - name: note
        object: vcms__Case_Note__c
        key: by_parent
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Note_Type__c, constant: Follow_Up }
          - { sf: vcms__Summary__c, local: Case note, pii: sensitive }
`

var leakColumns = []string{"Case ID", "Full name", "Guardian", "Factory code", "Birth date", "Sex", "Verified",
	"Workplace", "Notes", "Address", "Stage", "Consent", "Services", "Case note"}

// leakMarkers hands out the unique values a leak test seeds: each is
// synthetic, appears in no code, and is looked for on every surface.
type leakMarkers struct {
	all []string
	// whole are values looked for whole only: a picklist value shares
	// its pieces with others (TransgenderMasculine, Masculine).
	whole []string
}

// mark returns a new marker; words is a Thai word to end it with (so that
// it also goes through the name transforms and multi-byte truncation).
func (m *leakMarkers) mark(word string) string {
	s := fmt.Sprintf("LEAKMARK-%02d-%s", len(m.all)+1, word)
	m.all = append(m.all, s)
	return s
}

// long returns a new marker longer than n characters.
func (m *leakMarkers) long(word string, n int) string {
	s := fmt.Sprintf("LEAKMARK-%02d-%s", len(m.all)+1, strings.Repeat(word, n/len([]rune(word))+1))
	m.all = append(m.all, s)
	return s
}

// value registers a value that is not marker-shaped (a valid date) but
// unique to the test, in each form it may take.
func (m *leakMarkers) value(forms ...string) { m.all = append(m.all, forms...) }

// find reports the first marker, or a substring of one of at least 6
// bytes (a truncated value), in b.
func (m *leakMarkers) find(b []byte) (string, bool) {
	for _, s := range append(m.all, m.whole...) {
		if bytes.Contains(b, []byte(s)) {
			return s, true
		}
	}
	for _, s := range m.all {
		for i := 0; i+6 <= len(s); i++ {
			if w := s[i : i+6]; bytes.Contains(b, []byte(w)) {
				return fmt.Sprintf("%q (part of %q)", w, s), true
			}
		}
	}
	return "", false
}

// leakSheet is the sheet's rows by key, read and written as a person would.
type leakSheet struct {
	path   string
	header []string
	rows   [][]string
}

func readLeakSheet(t *testing.T, path string) *leakSheet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return &leakSheet{path: path, header: recs[0], rows: recs[1:]}
}

func (s *leakSheet) set(t *testing.T, key, col, v string) {
	t.Helper()
	c := slices.Index(s.header, col)
	for _, r := range s.rows {
		if r[0] == key && c >= 0 {
			for len(r) <= c {
				r = append(r, "")
			}
			r[c] = v
			return
		}
	}
	t.Fatalf("the sheet has no %s / %s", key, col)
}

func (s *leakSheet) get(key, col string) string {
	c := slices.Index(s.header, col)
	for _, r := range s.rows {
		if r[0] == key && c >= 0 && c < len(r) {
			return r[c]
		}
	}
	return ""
}

// write saves the sheet with a modification time a second later than the
// last, as an edit after a run would have.
func (s *leakSheet) write(t *testing.T) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	w.Write(s.header)
	w.WriteAll(s.rows)
	var mtime time.Time
	if fi, err := os.Stat(s.path); err == nil {
		mtime = fi.ModTime().Add(2 * time.Second)
	}
	if err := os.WriteFile(s.path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		os.Chtimes(s.path, mtime, mtime)
	}
}

// TestEndToEndNoValueLeaks (issue 16) seeds a unique marker into every
// classified cell and field on both sides, valid ones and ones that travel
// through error paths (an unknown picklist or yes/no word, a value too long
// for its field, a bad date, an unknown lookup, a name typed into the key),
// and runs the whole story through the real command line with debug logs in
// both formats: dry runs and runs with every report format, a conflict, a
// locked row, 503s, an outage, a consent withdrawal, an erase, history,
// reconcile, the metrics textfile, the daemon's admin API and an alert
// webhook. No marker, nor 6 bytes of one, may appear on any surface: the
// commands' output and logs, report and metrics files, the state store's
// bytes, admin API bodies, alert bodies, or the URLs sent to Salesforce.
// Markers belong only in the sheet and its backups and in the org's
// records.
func TestEndToEndNoValueLeaks(t *testing.T) {
	org := sftest.New(sftest.Options{Empty: true})
	// While Salesforce fails (503s, an outage), it asks for a retry after
	// a second, so that the client's backoff keeps the test short. A
	// Collections write of a record holding an armed value is answered
	// with that record's failure echoing the value, as a validation rule's
	// message or an error's field list can in a real org.
	var echoMu sync.Mutex
	echo := map[string]leakEcho{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		echoMu.Lock()
		armed := maps.Clone(echo)
		echoMu.Unlock()
		if len(armed) == 0 || !strings.Contains(r.URL.Path, "/composite/sobjects") || r.Method == http.MethodGet || r.Method == http.MethodDelete {
			org.Handler().ServeHTTP(w, r)
			return
		}
		leakEchoWrite(w, r, org.Handler(), armed)
	}))
	defer srv.Close()

	var alertMu sync.Mutex
	var alerts [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		alertMu.Lock()
		alerts = append(alerts, b)
		alertMu.Unlock()
	}))
	defer hook.Close()

	dir := t.TempDir()
	keyDir := t.TempDir()
	cfg := filepath.Join(dir, "casebridge.yaml")
	text := strings.NewReplacer("ORG_URL", srv.URL, "KEY_FILE", filepath.Join(keyDir, "fp.key"), "HOOK_URL", hook.URL).Replace(leakConfig)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(keyDir, "admin.token")
	if err := os.WriteFile(tokenFile, []byte("leak-test-admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var m leakMarkers
	// The lookup's target: an Account named by a marker.
	workplace := m.mark("โรงงาน")
	if _, err := org.Insert("Account", map[string]any{"Name": workplace}, false); err != nil {
		t.Fatal(err)
	}
	// A row's cells; every classified one a marker.
	row := func(key, consent string) []string {
		return []string{key, "ด.ญ. " + m.mark("ชื่อ") + " " + m.mark("นามสกุล"), m.mark("ผู้ปกครอง"), m.mark("รหัส"),
			"", "F", "Y", workplace, m.mark("บันทึก"), m.mark("ที่อยู่"), "open", consent, "shelter;medical", m.mark("โน้ต")}
	}
	var rows [][]string
	for i, d := range [][2]string{{"23/07/2542", "1999-07-23"}, {"04/11/2541", "1998-11-04"}, {"17/02/2543", "2000-02-17"},
		{"09/09/2540", "1997-09-09"}, {"30/05/2539", "1996-05-30"}, {"14/08/2544", "2001-08-14"}} {
		r := row(fmt.Sprintf("LK-%d", i+1), "yes")
		r[4] = d[0]
		m.value(d[0], d[1])
		rows = append(rows, r)
	}
	rows[5][11] = "no" // LK-6: consent not obtained, held back
	// LK-7: every converted cell invalid, each holding a marker.
	bad := row("LK-7", "yes")
	bad[2] = m.long("ผู้ปกครอง", 130) // over the field's 120 characters
	bad[3] = m.long("รหัส", 25)       // over 20
	bad[4] = m.mark("วันเกิด")        // not a date
	bad[5] = m.mark("เพศ")            // not in the value map
	bad[6] = m.mark("ตรวจแล้ว")       // neither yes nor no
	bad[7] = m.mark("นอกโรงงาน")      // no such Account
	bad[10] = m.mark("สถานะ")         // not in the value map
	bad[12] = "shelter;" + m.mark("บริการ")
	rows = append(rows, bad)
	// A name typed into the key cell.
	rows = append(rows, row(m.mark("กุญแจ"), "yes"))

	sheet := &leakSheet{path: filepath.Join(dir, "cases.csv"), header: leakColumns, rows: rows}
	sheet.write(t)

	// A case born in Salesforce under the job's key: its markers flow into the sheet.
	sfNote := m.mark("ฝั่งเซลส์ฟอร์ซ")
	if _, err := org.Insert("vcms__Survivor_Case__c", map[string]any{
		"vcms__External_Key__c": "lk:LK-9", "vcms__Source_System__c": "ngo-th-cm", "vcms__Stage__c": "Active",
		"vcms__Consent_Status__c": "Granted", "vcms__Guardian_Name__c": m.mark("ผู้ปกครองเอสเอฟ"),
		"vcms__Case_Code__c": m.mark("รหัส"), "vcms__Case_Notes__c": sfNote,
		"vcms__Home_Address__c": m.mark("ที่อยู่เอสเอฟ"), "vcms__Birthdate__c": "1995-03-14"}, false); err != nil {
		t.Fatal(err)
	}
	// One whose picklist value the job's value map has no word for.
	if _, err := org.Insert("vcms__Survivor_Case__c", map[string]any{
		"vcms__External_Key__c": "lk:LK-12", "vcms__Source_System__c": "ngo-th-cm", "vcms__Stage__c": "Active",
		"vcms__Consent_Status__c": "Granted", "vcms__Gender__c": "TransgenderMasculine",
		"vcms__Case_Notes__c": m.mark("บันทึกเพศ")}, false); err != nil {
		t.Fatal(err)
	}

	m.value("1995-03-14", "14/03/2538")
	// The services (a classified each) and genders, in the sheet's words
	// and Salesforce's: the configuration names them, nothing else may.
	m.whole = append(m.whole, "TransgenderMasculine", "shelter", "Shelter", "medical", "Medical", "Feminine")

	// Every surface the commands print to, by name.
	surfaces := map[string][]byte{}
	step := 0
	cb := func(args ...string) (int, string) {
		t.Helper()
		step++
		format := "json"
		if step%2 == 0 {
			format = "console"
		}
		var out, errb bytes.Buffer
		start := time.Now()
		code := runContext(context.Background(), append(args, "--log-level", "debug", "--log-format", format), strings.NewReader(""), &out, &errb)
		t.Logf("casebridge %s: exit %d in %v", args[0], code, time.Since(start).Round(time.Millisecond))
		name := fmt.Sprintf("step %d: casebridge %s", step, strings.Join(args, " "))
		surfaces[name+" (stdout)"] = out.Bytes()
		surfaces[name+" (stderr)"] = errb.Bytes()
		return code, out.String() + errb.String()
	}
	reports := func(stem string) []string {
		var args []string
		for _, ext := range []string{"html", "json", "csv"} {
			args = append(args, "--report", filepath.Join(dir, stem+"."+ext))
		}
		return args
	}
	prom := filepath.Join(dir, "casebridge.prom")

	if code, out := cb("validate", cfg); code != exitOK && code != exitFindings {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	cb(append([]string{"sync", cfg, "--dry-run", "--plan"}, reports("dry")...)...)
	// The first run: LK-3's write fails once on a locked row.
	org.LockRows("lk:LK-3")
	code, out := cb(append([]string{"sync", cfg, "--metrics-textfile", prom}, reports("first")...)...)
	if rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "lk:LK-1"); !ok || rec.Fields["vcms__Case_Notes__c"] != rows[0][8] {
		t.Fatalf("LK-1 did not reach the org with its values (exit %d):\n%s", code, out)
	}
	// LK-3 again, now it is unlocked.
	cb("sync", cfg)
	sheet = readLeakSheet(t, sheet.path)
	if sheet.get("LK-9", "Notes") != sfNote {
		t.Fatalf("the case born in Salesforce did not reach the sheet:\n%s", out)
	}

	// A conflict (both sides edit LK-2's notes), a consent withdrawal
	// (LK-4, whose name is edited too), a new name for LK-5; every few
	// calls fails with 503.
	sheet.set(t, "LK-2", "Notes", m.mark("บันทึกรอบสอง"))
	sheet.set(t, "LK-4", "Consent", "withdrawn")
	nameAfterWithdrawal := m.mark("สกุลรอบสอง")
	sheet.set(t, "LK-4", "Full name", "ด.ช. "+m.mark("ชื่อรอบสอง")+" "+nameAfterWithdrawal)
	sheet.set(t, "LK-5", "Guardian", m.mark("ผู้ปกครองรอบสอง"))
	sheet.write(t)
	leakPatch(t, org, srv.URL, "lk:LK-2", map[string]any{"vcms__Case_Notes__c": m.mark("บันทึกเอสเอฟ")})
	leakPatch(t, org, srv.URL, "lk:LK-9", map[string]any{"vcms__Case_Notes__c": m.mark("บันทึกเอสเอฟรอบสอง")})
	// What --show-values shows: classified fields masked.
	cb(append([]string{"sync", cfg, "--dry-run", "--show-values"}, reports("values")...)...)
	// Salesforce refuses two records with messages holding their values.
	noteEcho, addrEcho := m.mark("บันทึกสะท้อน"), m.mark("ที่อยู่สะท้อน")
	sheet.set(t, "LK-3", "Notes", noteEcho)
	sheet.set(t, "LK-1", "Address", addrEcho)
	sheet.write(t)
	echoMu.Lock()
	echo[noteEcho] = leakEcho{"FIELD_CUSTOM_VALIDATION_EXCEPTION", "Notes may not say " + noteEcho + ".", []string{"vcms__Case_Notes__c"}}
	echo[addrEcho] = leakEcho{"REQUIRED_FIELD_MISSING", "Required fields are missing: [" + addrEcho + "]", []string{addrEcho}}
	echoMu.Unlock()
	org.SetFail503Every(4)
	cb(append([]string{"sync", cfg, "--metrics-textfile", prom}, reports("second")...)...)
	org.SetFail503Every(0)
	cb("sync", cfg)
	echoMu.Lock()
	clear(echo)
	echoMu.Unlock()

	// An outage after the reads.
	sheet = readLeakSheet(t, sheet.path)
	sheet.set(t, "LK-1", "Address", m.mark("ที่อยู่รอบสอง"))
	sheet.write(t)
	org.SetWritesDown(true)
	cb("sync", cfg, "--metrics-textfile", prom)
	org.SetWritesDown(false)

	cb("conflicts", "list", cfg)
	cb("lease", "show", cfg)
	cb("history", cfg)
	for id := 1; id <= 8; id++ {
		cb("history", cfg, "--errors", fmt.Sprint(id))
	}
	cb(append([]string{"reconcile", cfg}, reports("reconcile")...)...)
	cb("erase", cfg, "cases", "LK-5", "--dry-run")
	if code, out := cb("erase", cfg, "cases", "LK-5"); code != exitOK {
		t.Errorf("erase: exit %d\n%s", code, out)
	}

	// Rows a person broke: one whose cells are pushed out of place, one
	// whose stray quote swallows the rest of the file. The daemon's run
	// meets them.
	f, err := os.OpenFile(sheet.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "LK-10,%s,%s\r\nLK-11,\"%s,%s,open,yes\r\n", m.mark("ชื่อแถวเสีย"), m.mark("ผู้ปกครองแถวเสีย"), m.mark("เครื่องหมายคำพูด"), m.mark("ท้ายไฟล์"))
	f.Close()

	// The daemon: a run by hand through the admin API, then every read.
	addr := "127.0.0.1:" + freePort(t)
	ctx, stop := context.WithCancel(context.Background())
	var derr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"daemon", cfg, "--admin", addr, "--admin-token-file", tokenFile,
			"--log-level", "debug", "--log-format", "json"}, strings.NewReader(""), &derr, &derr)
	}()
	waitHTTP(t, done, "http://"+addr+"/healthz")
	api := func(method, path string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer leak-test-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		surfaces["admin "+method+" "+path] = b
		return b
	}
	var trig struct {
		ID any `json:"id"`
	}
	json.Unmarshal(api(http.MethodPost, "/api/v1/jobs/cases/run"), &trig)
	for deadline := time.Now().Add(20 * time.Second); ; {
		var j struct {
			Running bool `json:"running"`
			LastRun *struct {
				Outcome string `json:"outcome"`
			} `json:"last_run"`
		}
		json.Unmarshal(api(http.MethodGet, "/api/v1/jobs/cases"), &j)
		if !j.Running && j.LastRun != nil && j.LastRun.Outcome != "running" && strings.Contains(derr.String(), "cases") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run by hand did not end; daemon log:\n%s", derr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if trig.ID != nil {
		api(http.MethodGet, fmt.Sprintf("/api/v1/jobs/cases/triggers/%v", trig.ID))
	}
	for _, p := range []string{"/", "/healthz", "/readyz", "/metrics", "/api/v1/jobs", "/api/v1/conflicts"} {
		api(http.MethodGet, p)
	}
	var jobs struct {
		Jobs []struct {
			Name     string `json:"name"`
			Children []struct {
				Name string `json:"name"`
			} `json:"children"`
		} `json:"jobs"`
	}
	json.Unmarshal(surfaces["admin GET /api/v1/jobs"], &jobs)
	var names []string
	for _, j := range jobs.Jobs {
		names = append(names, j.Name)
		for _, c := range j.Children {
			names = append(names, c.Name)
		}
	}
	if !slices.Contains(names, "cases") {
		t.Fatalf("the admin API lists no job cases: %s", surfaces["admin GET /api/v1/jobs"])
	}
	errorsServed := 0
	for _, name := range names {
		api(http.MethodGet, "/api/v1/jobs/"+url.PathEscape(name))
		var runs struct {
			Runs []struct {
				ID int64 `json:"id"`
			} `json:"runs"`
		}
		json.Unmarshal(api(http.MethodGet, "/api/v1/jobs/"+url.PathEscape(name)+"/runs"), &runs)
		for _, r := range runs.Runs {
			var e struct {
				Errors []json.RawMessage `json:"errors"`
			}
			json.Unmarshal(api(http.MethodGet, fmt.Sprintf("/api/v1/jobs/%s/runs/%d/errors", url.PathEscape(name), r.ID)), &e)
			errorsServed += len(e.Errors)
		}
	}
	stop()
	if code := <-done; code != exitOK {
		t.Errorf("daemon: exit %d", code)
	}
	surfaces["daemon (stdout and stderr)"] = []byte(derr.String())

	// The story was told: the error paths, the conflict, the alerts.
	if errorsServed == 0 {
		t.Error("the admin API served no record errors: the test does not drive the error paths")
	}
	if !bytes.Contains(bytes.ToLower(surfaces["admin GET /api/v1/conflicts"]), []byte("lk:lk-2")) {
		t.Errorf("no conflict on LK-2 was queued: %s", surfaces["admin GET /api/v1/conflicts"])
	}
	alertMu.Lock()
	for i, a := range alerts {
		surfaces[fmt.Sprintf("alert %d", i+1)] = a
	}
	if len(alerts) == 0 {
		t.Error("no alert was sent")
	}
	alertMu.Unlock()
	if sheet = readLeakSheet(t, sheet.path); sheet.get("LK-5", "Guardian") != "" {
		t.Error("erase left LK-5's guardian in the sheet")
	}
	if v := sheet.get("LK-5", "Services"); v != "" {
		t.Errorf("erase left LK-5's services (a classified each) in the sheet: %q", v)
	}
	for _, a := range org.Records("vcms__Assistance__c") {
		if k, _ := a.Fields["vcms__External_Service_Key__c"].(string); strings.HasPrefix(k, "lk:LK-5:svc:") && a.Fields["vcms__Service_Type__c"] != nil {
			t.Errorf("erase left the service of %s in Salesforce", k)
		}
	}
	if n := len(org.Records("vcms__Assistance__c")); n < 8 {
		t.Errorf("%d services in the org, want the each child's 2 for each of LK-1..LK-5 but the erased", n)
	}
	if n := len(org.Records("vcms__Case_Note__c")); n < 4 {
		t.Errorf("%d case notes in the org, want the by_parent child's of LK-1..LK-5", n)
	}
	if rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "lk:LK-4"); !ok || rec.Fields["vcms__Consent_Status__c"] != "Withdrawn" || rec.Fields["vcms__Last_Name__c"] == nameAfterWithdrawal {
		t.Errorf("LK-4's withdrawal: %v %v", ok, rec.Fields)
	}

	// Every file casebridge wrote but the sheet and its backups: the state
	// store and its WAL, reports, the metrics textfile, key files.
	for _, root := range []string{dir, keyDir, os.Getenv("XDG_CONFIG_HOME")} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if p == sheet.path || p == cfg || strings.Contains(p, ".casebridge-backup") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil {
				surfaces["file "+p] = b
			}
			return nil
		})
	}
	for _, want := range []string{"casebridge.db", "dry.html", "dry.json", "dry.csv", "first.json", "reconcile.html", "casebridge.prom"} {
		if _, ok := surfaces["file "+filepath.Join(dir, want)]; !ok {
			t.Errorf("%s was not written", want)
		}
	}
	for _, code := range []string{"FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUIRED_FIELD_MISSING"} {
		if !bytes.Contains(surfaces["admin GET /api/v1/jobs/cases/runs"], []byte(code)) && !slices.ContainsFunc(slices.Collect(maps.Values(surfaces)), func(b []byte) bool { return bytes.Contains(b, []byte(code)) }) {
			t.Errorf("no surface names %s: Salesforce's echoing errors were not met", code)
		}
	}
	// What was sent to Salesforce in URLs (paths and query strings), raw
	// and decoded.
	var urls bytes.Buffer
	for _, e := range org.Requests() {
		q, _ := url.QueryUnescape(e.Query)
		p, _ := url.PathUnescape(e.Path)
		fmt.Fprintf(&urls, "%s %s?%s\n%s?%s\n", e.Method, e.Path, e.Query, p, q)
	}
	surfaces["org request URLs"] = urls.Bytes()

	keys := make([]string, 0, len(surfaces))
	for k := range surfaces {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	total := 0
	for _, k := range keys {
		total += len(surfaces[k])
	}
	t.Logf("%d markers looked for in %d surfaces (%d bytes)", len(m.all)+len(m.whole), len(keys), total)
	for _, k := range keys {
		if found, ok := m.find(surfaces[k]); ok {
			t.Errorf("%s holds %s:\n%s", k, found, leakContext(surfaces[k], found))
		}
	}
}

// leakEcho is a Salesforce error a record holding a value is answered
// with.
type leakEcho struct {
	code, message string
	fields        []string
}

// leakEchoWrite serves a Collections write through org, then answers each
// record of the request that holds an armed value with its leakEcho
// instead of its result (the org has written it; what matters here is
// what casebridge makes of the message).
func leakEchoWrite(w http.ResponseWriter, r *http.Request, org http.Handler, armed map[string]leakEcho) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, _ = io.ReadAll(zr)
		}
	}
	r.Header.Del("Accept-Encoding") // a plain answer, to rewrite
	rec := httptest.NewRecorder()
	org.ServeHTTP(rec, r)
	var req struct {
		Records []json.RawMessage `json:"records"`
	}
	var res []map[string]any
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(rec.Body.Bytes(), &res) != nil || len(res) != len(req.Records) {
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	for i, raw := range req.Records {
		var fields map[string]any
		json.Unmarshal(raw, &fields)
		for _, v := range fields {
			s, _ := v.(string)
			if e, ok := armed[s]; ok {
				res[i] = map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": e.code, "message": e.message, "fields": e.fields}}}
			}
		}
	}
	out, _ := json.Marshal(res)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	w.Write(out)
}

// leakContext is the line of b around the marker found, for the failure
// message.
func leakContext(b []byte, found string) string {
	s := found
	if i := strings.Index(found, " (part of"); i >= 0 {
		s = found[:i]
	}
	s = strings.Trim(s, `"`)
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		return ""
	}
	lo, hi := max(0, i-300), min(len(b), i+len(s)+300)
	return string(b[lo:hi])
}

// leakPatch edits a case in Salesforce, as a caseworker would: a REST
// update by external key.
func leakPatch(t *testing.T, org *sftest.Org, base, key string, fields map[string]any) {
	t.Helper()
	body, _ := json.Marshal(fields)
	u := fmt.Sprintf("%s/services/data/v%s/sobjects/vcms__Survivor_Case__c/vcms__External_Key__c/%s", base, org.APIVersion(), url.PathEscape(key))
	req, _ := http.NewRequest(http.MethodPatch, u, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+org.IssueToken(sftest.DefaultUsername))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PATCH %s: %s %s", key, resp.Status, b)
	}
}
