package erase_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"
	_ "modernc.org/sqlite"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/erase"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/schedules"
	"github.com/casebridge/casebridge/state"
)

const object = "vcms__Survivor_Case__c"

// Markers: synthetic values, one per classified field of the erased
// record, searched for in every copy afterwards.
var (
	erased = map[string]string{"First": "Zqfirst-one", "Last": "Zqlast-one", "Born": "2011-05-17", "District": "Zqdistrict-one", "Notes": "Zqnotes-one", "Support": "Zqsupport-one"}
	kept   = map[string]string{"First": "Zqfirst-two", "Last": "Zqlast-two", "Born": "2012-07-09", "District": "Zqdistrict-two", "Notes": "Zqnotes-two", "Support": "Zqsupport-two"}
	header = []string{"Case ID", "First", "Last", "Born", "District", "Notes", "Stage", "Support"}
)

func rows() [][]string {
	row := func(key string, m map[string]string) []string {
		return []string{key, m["First"], m["Last"], m["Born"], m["District"], m["Notes"], "Active", m["Support"]}
	}
	return [][]string{header, row("C-1", erased), row("C-2", kept)}
}

const configText = `
version: 1
salesforce:
  login_url: ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
state: { driver: sqlite, dsn: casebridge.db }
fingerprint_key_file: KEY_FILE
sources:
  office: SOURCE
jobs:
  cases:
    conflict: manual
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: office, key: Case ID, key_prefix: "t:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__First_Name__c, local: First, pii: direct }
      - { sf: vcms__Last_Name__c, local: Last, pii: direct }
      - { sf: vcms__Birthdate__c, local: Born, pii: quasi, date: { formats: [yyyy-mm-dd] } }
      - { sf: vcms__Home_Admin_Area__c, local: District, pii: quasi }
      - { sf: vcms__Case_Notes__c, local: Notes, pii: sensitive }
      - { sf: vcms__Stage__c, local: Stage }
    children:
      - name: support
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Service_Type__c, constant: Stipend }
          - { sf: vcms__Notes__c, local: Support, pii: sensitive }
`

type fixture struct {
	dir, file string
	org       *sftest.Org
	r         *schedules.Runner
	cfg       *config.Config
}

// setup writes the source (csv, xlsx or sqlite) and the configuration,
// runs a first sync (the org gets both records) and a write to the file
// that leaves backups holding the markers.
func setup(t *testing.T, kind string) *fixture { return setupWith(t, kind, nil) }

// setupWith is setup, the sheet's backups encrypted to id when not nil.
func setupWith(t *testing.T, kind string, id *age.X25519Identity) *fixture {
	t.Helper()
	org, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	dir := t.TempDir()
	f := &fixture{dir: dir, org: org}
	var source string
	switch kind {
	case "csv", "xlsx":
		f.file = filepath.Join(dir, "cases."+kind)
		writeSheet(t, f.file, rows())
		source = fmt.Sprintf("{ kind: %s, path: cases.%s, backups: 3 }", kind, kind)
		if id != nil {
			source = fmt.Sprintf("{ kind: %s, path: cases.%s, backups: 3, backup_encrypt_to: [%s] }", kind, kind, id.Recipient())
		}
	case "sqlite":
		f.file = filepath.Join(dir, "cases.db")
		db, err := sql.Open("sqlite", f.file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE cases ("Case ID" TEXT PRIMARY KEY, First TEXT, Last TEXT, Born TEXT, District TEXT, Notes TEXT, Stage TEXT, Support TEXT)`); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows()[1:] {
			if _, err := db.Exec(`INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		source = "{ kind: sqlite, path: cases.db, table: cases }"
	}
	text := strings.NewReplacer("ORG_URL", srv.URL, "SOURCE", source, "KEY_FILE", filepath.Join(t.TempDir(), "fp.key")).Replace(configText)
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	f.r, err = schedules.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.r.Close() })
	f.sync(t)
	if _, ok := org.GetByExternalKey(object, "t:C-1"); !ok {
		t.Fatal("the first sync did not create t:C-1")
	}
	if kind != "sqlite" {
		// Two writes of the sheet by casebridge, through the source as a
		// run opens it: two backups, each a copy of the markers.
		ctx := context.Background()
		objects := map[string]*connector.Object{}
		for _, n := range []string{object, "vcms__Assistance__c"} {
			o, err := f.r.Salesforce.Describe(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			objects[n] = o
		}
		job := cfg.Jobs["cases"]
		m, err := mapping.Compile(job, objects)
		if err != nil {
			t.Fatal(err)
		}
		for _, stage := range []string{"Closed", "Active"} {
			local, err := schedules.OpenSource(job, m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := local.(connector.Sink).Upsert(ctx, m.LocalObject, []connector.Record{{Key: "C-2", Fields: map[string]connector.Value{"Stage": connector.Text(stage)}}}); err != nil {
				t.Fatal(err)
			}
		}
		if b := f.backups(t); len(b) != 2 {
			t.Fatalf("backups %v, want 2", b)
		}
	}
	for _, p := range f.copies(t) {
		if !holds(t, p, erased["First"]) && id == nil {
			t.Fatalf("%s lacks the marker before the erasure: the test proves nothing", p)
		}
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) sync(t *testing.T) {
	t.Helper()
	res, err := f.r.Run(context.Background(), "cases", schedules.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Result.Failed) + len(res.MappingErrors); n > 0 {
		t.Fatalf("sync: %d failures: %v %v", n, res.Result.Failed, res.MappingErrors)
	}
}

func (f *fixture) backups(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(f.dir, ".casebridge-backup", "*.bak*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// copies are the local file and its backups.
func (f *fixture) copies(t *testing.T) []string {
	return append([]string{f.file}, f.backups(t)...)
}

func (f *fixture) eraser() *erase.Eraser {
	return &erase.Eraser{Config: f.cfg, Store: f.r.Store, Salesforce: f.r.Salesforce, FP: f.r.FP}
}

func TestErase(t *testing.T) {
	for _, kind := range []string{"csv", "xlsx", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			f := setup(t, kind)
			ctx := context.Background()

			if _, ok, _ := f.r.Store.Record(ctx, "cases", "t:c-1"); !ok {
				t.Fatal("no state of t:C-1 before the erasure: the test proves nothing")
			}
			dry, err := f.eraser().Erase(ctx, "cases", []string{"C-1"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(dry.Keys) != 1 || len(dry.Keys[0].Local) != 6 || len(dry.Keys[0].Salesforce) != 6 {
				t.Errorf("dry run reports %+v, want 6 columns and 6 fields (the child's one)", dry.Keys)
			}
			if !holds(t, f.file, erased["First"]) || sfHolds(t, f.org, erased["First"]) == "" {
				t.Fatal("a dry run erased")
			}

			rep, err := f.eraser().Erase(ctx, "cases", []string{"t:C-1"}, false)
			if err != nil {
				t.Fatal(err)
			}
			k := rep.Keys[0]
			if k.Key != "C-1" || !k.LocalFound || !k.SFFound || k.SFError != nil || !k.Tombstone || len(k.Local) != 6 {
				t.Errorf("report %+v", k)
			}
			if kind != "sqlite" && k.Backups != 2 {
				t.Errorf("backups blanked: %d, want 2", k.Backups)
			}
			want := map[string]erase.Action{"vcms__First_Name__c": erase.Cleared, "vcms__Last_Name__c": erase.Cleared,
				"vcms__Birthdate__c": erase.Coarsened, "vcms__Home_Admin_Area__c": erase.Cleared, "vcms__Case_Notes__c": erase.Cleared, "vcms__Notes__c": erase.Cleared}
			for _, d := range k.Salesforce {
				if want[d.Field] != d.Action {
					t.Errorf("%s: %s, want %s", d.Field, d.Action, want[d.Field])
				}
			}
			// The report names keys and fields, never a value.
			if b, _ := json.Marshal(rep); containsAny(string(b), erased) != "" {
				t.Errorf("the report shows a value: %s", b)
			}

			check := func(when string) {
				t.Helper()
				for _, p := range f.copies(t) {
					for name, v := range erased {
						if holds(t, p, v) {
							t.Errorf("%s: %s still holds %s", when, filepath.Base(p), name)
						}
					}
					if !holds(t, p, kept["First"]) {
						t.Errorf("%s: %s lost the other record", when, filepath.Base(p))
					}
				}
				if v := sfHolds(t, f.org, erased["First"], erased["Last"], erased["Born"], erased["District"], erased["Notes"], erased["Support"]); v != "" {
					t.Errorf("%s: the org still holds %s", when, v)
				}
				rec, ok := f.org.GetByExternalKey(object, "t:C-1")
				if !ok {
					t.Fatalf("%s: the record is gone from the org (erase anonymises it)", when)
				}
				for _, fl := range []string{"vcms__First_Name__c", "vcms__Last_Name__c", "vcms__Home_Admin_Area__c", "vcms__Case_Notes__c"} {
					if rec.Fields[fl] != nil {
						t.Errorf("%s: %s is not null", when, fl)
					}
				}
				if rec.Fields["vcms__Birthdate__c"] != "2011-01-01" || rec.Fields["vcms__Stage__c"] != "Active" {
					t.Errorf("%s: birth date %v, stage %v: want 2011-01-01 and Active kept", when, rec.Fields["vcms__Birthdate__c"], rec.Fields["vcms__Stage__c"])
				}
				if other, _ := f.org.GetByExternalKey(object, "t:C-2"); other.Fields["vcms__First_Name__c"] != kept["First"] {
					t.Errorf("%s: the other record was changed", when)
				}
				if ch, ok := f.org.GetByExternalKey("vcms__Assistance__c", "t:C-1:support"); !ok || ch.Fields["vcms__Notes__c"] != nil || ch.Fields["vcms__Service_Type__c"] != "Stipend" {
					t.Errorf("%s: the child t:C-1:support: %v %v", when, ok, ch.Fields["vcms__Notes__c"] != nil)
				}
				if sfHolds(t, f.org, kept["Support"]) == "" {
					t.Errorf("%s: the other record's child was changed", when)
				}
			}
			check("after erase")
			tombs, err := f.r.Store.Tombstones(ctx, object)
			if err != nil || len(tombs) != 1 {
				t.Errorf("tombstones %v %v, want one", tombs, err)
			}
			if _, ok, _ := f.r.Store.Record(ctx, "cases", "t:c-1"); ok {
				t.Error("the record's state (its fingerprints) is kept")
			}

			// The next syncs bring nothing back.
			f.sync(t)
			f.sync(t)
			check("after the next syncs")
			if n, _ := f.r.Store.Conflicts(ctx, "cases"); len(n) != 0 {
				t.Errorf("the sync after erase queued conflicts: %v", n)
			}
		})
	}
}

// TestEraseEncryptedBackups: backups written encrypted (backup_encrypt_to)
// are opened with the identity and blanked; without one they are removed.
func TestEraseEncryptedBackups(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, withID := range []bool{true, false} {
		f := setupWith(t, "xlsx", id)
		bs := f.backups(t)
		for _, b := range bs {
			if !strings.HasSuffix(b, ".bak.age") || !decryptedHolds(t, b, id, erased["First"]) {
				t.Fatalf("%s: not an encrypted copy of the sheet", b)
			}
		}
		e := f.eraser()
		if withID {
			e.BackupIdentities = []age.Identity{id}
		}
		rep, err := e.Erase(context.Background(), "cases", []string{"C-1"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if withID {
			if rep.Keys[0].Backups != 2 || rep.BackupsRemoved != 0 {
				t.Errorf("with the identity: %+v", rep)
			}
			for _, b := range bs {
				if decryptedHolds(t, b, id, erased["First"]) || decryptedHolds(t, b, id, erased["Support"]) || !decryptedHolds(t, b, id, kept["First"]) {
					t.Errorf("%s after erase: the erased values are in it, or the others are not", filepath.Base(b))
				}
			}
		} else if rep.BackupsRemoved != 2 || len(f.backups(t)) != 0 {
			t.Errorf("without the identity: %d removed, %v left; want both removed", rep.BackupsRemoved, f.backups(t))
		}
	}
}

// decryptedHolds decrypts an age file with id and reports whether the
// workbook inside holds s.
func decryptedHolds(t *testing.T, path string, id age.Identity, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "plain.xlsx")
	if err := os.WriteFile(p, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	return holds(t, p, s)
}

func TestEraseRefusedWhileTheJobRuns(t *testing.T) {
	f := setup(t, "csv")
	ctx := context.Background()
	if _, err := f.r.Store.Acquire(ctx, "cases", "another-host:1", time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := f.eraser().Erase(ctx, "cases", []string{"C-1"}, false)
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("erase while the job's lease is held: %v, want ErrLocked", err)
	}
	if !holds(t, f.file, erased["First"]) || sfHolds(t, f.org, erased["First"]) == "" {
		t.Error("erase wrote while the job's lease was held")
	}
}

// holds reports whether a file holds s: its bytes, each part of a
// workbook inflated, or any cell of an SQLite database.
func holds(t *testing.T, path, s string) bool {
	t.Helper()
	if strings.HasSuffix(path, ".db") {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM cases WHERE First = ?1 OR Last = ?1 OR Born = ?1 OR District = ?1 OR Notes = ?1`, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(s)) {
		return true
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// sfHolds returns the first of vals some field of a case in the org
// (deleted ones too) holds, "" if none.
func sfHolds(t *testing.T, org *sftest.Org, vals ...string) string {
	t.Helper()
	for _, r := range append(org.AllRecords(object), org.AllRecords("vcms__Assistance__c")...) {
		for _, v := range r.Fields {
			s := fmt.Sprint(v)
			for _, want := range vals {
				if strings.Contains(s, want) {
					return want
				}
			}
		}
	}
	return ""
}

func containsAny(s string, m map[string]string) string {
	for _, v := range m {
		if strings.Contains(s, v) {
			return v
		}
	}
	return ""
}

// writeSheet writes rows as a CSV file or the first sheet of a workbook.
func writeSheet(t *testing.T, p string, rows [][]string) {
	t.Helper()
	if strings.HasSuffix(p, ".csv") {
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\r\n")
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	x := excelize.NewFile()
	defer x.Close()
	for y, r := range rows {
		for i, v := range r {
			cell, _ := excelize.CoordinatesToCellName(i+1, y+1)
			if err := x.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := x.SaveAs(p); err != nil {
		t.Fatal(err)
	}
}
