package schedules

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// The values below are synthetic and appear nowhere else: a test that
// finds one of them in the state file or the log found a leak.
const (
	leakLastName = "นามสกุลลับเฉพาะ"                         // synced to Salesforce
	leakNote     = "บันทึกลับเฉพาะของเคสนี้"                 // synced to Salesforce
	leakFactory  = "โรงงานลับเฉพาะชื่อยาวเกินยี่สิบตัวอักษร" // too long for Case_Code__c: rejected before it is sent
	leakStage    = "สถานะลับเฉพาะ"                           // not in the value map: the mapping rejects it
	leakLocked   = "บันทึกของเคสที่ถูกล็อกลับเฉพาะ"          // its record is locked in Salesforce: the write fails
	leakSFNote   = "โน้ตฝั่งเซลส์ฟอร์ซลับเฉพาะ"              // synced from Salesforce to the sheet
)

const leakConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  th_tracker: { kind: csv, path: th_tracker.csv, header_row: 2 }
jobs:
  th_cases:
    conflict: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_tracker, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__Last_Name__c, local: ชื่อ-สกุล, transform: thai_name.last, pii: direct, direction: to_salesforce }
      - { sf: vcms__Case_Code__c, local: โรงงาน, pii: quasi, direction: to_salesforce }
      - { sf: vcms__Case_Notes__c, local: หมายเหตุ, pii: sensitive }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ติดตามผล: Follow_Up, ปิดเคส: Closed, ส่งต่อ: Closed_Referred }
`

// TestStateHoldsNoValues syncs distinctive values both ways through the
// real runner, including a value too long for its field and one the
// mapping rejects, then reads every column of
// every table of the SQLite state file, and the raw bytes of the file and
// its WAL, and the run's log: none may hold a value.
func TestStateHoldsNoValues(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	csv, err := os.ReadFile("../fixtures/sheets/th_tracker.csv")
	if err != nil {
		t.Fatal(err)
	}
	csv = append(csv, "5,TH-CL-0001,ด.ญ. ตัวอย่าง ทดสอบ,หญิง,12/03/2553,14,,03/04/2024,ใช่,สูติบัตร,กำลังดำเนินการ,\"3,000\",,,ยินยอม,\r\n"...)
	csv = append(csv, "6,TH-CL-0901,ด.ญ. สมศรี "+leakLastName+",หญิง,12/03/2553,14,,03/04/2024,ใช่,สูติบัตร,กำลังดำเนินการ,,,,ยินยอม,"+leakNote+"\r\n"...)
	csv = append(csv, "7,TH-CL-0902,ด.ช. สมชาย ตัวอย่าง,ชาย,12/03/2553,14,"+leakFactory+",03/04/2024,ใช่,สูติบัตร,กำลังดำเนินการ,,,,ยินยอม,\r\n"...)
	csv = append(csv, "8,TH-CL-0903,ด.ช. สมปอง ตัวอย่าง,ชาย,12/03/2553,14,,03/04/2024,ใช่,สูติบัตร,"+leakStage+",,,,ยินยอม,\r\n"...)
	csv = append(csv, "9,TH-CL-0905,ด.ช. สมหมาย ตัวอย่าง,ชาย,12/03/2553,14,,03/04/2024,ใช่,สูติบัตร,กำลังดำเนินการ,,,,ยินยอม,"+leakLocked+"\r\n"...)
	if err := os.WriteFile(filepath.Join(dir, "th_tracker.csv"), csv, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(leakConfig, "FAKE_ORG_URL", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := Open(context.Background(), cfg, zerolog.New(&logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var outcomes []string
	run := func() {
		t.Helper()
		res, err := r.Run(ctx, "th_cases", RunOptions{})
		if err != nil {
			outcomes = append(outcomes, err.Error())
		}
		if res != nil {
			outcomes = append(outcomes, fmt.Sprint(res.Result.Plan))
		}
	}
	for range 4 {
		org.LockRows("ngo-th-cm:TH-CL-0905")
	}
	run()
	rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0901")
	if !ok || rec.Fields["vcms__Last_Name__c"] != leakLastName || rec.Fields["vcms__Case_Notes__c"] != leakNote {
		t.Fatalf("TH-CL-0901 did not reach the org with its values: %v %v", ok, rec.Fields)
	}
	if rec, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0902"); ok && rec.Fields["vcms__Case_Code__c"] != nil {
		t.Fatalf("TH-CL-0902's case code reached the org although it is too long: %v", rec.Fields["vcms__Case_Code__c"])
	}
	// A case created in Salesforce flows to the sheet.
	if _, err := org.Insert("vcms__Survivor_Case__c", map[string]any{
		"vcms__External_Key__c": "ngo-th-cm:TH-CL-0904", "vcms__Source_System__c": "ngo-th-cm",
		"vcms__Stage__c": "Active", "vcms__Case_Notes__c": leakSFNote}, false); err != nil {
		t.Fatal(err)
	}
	run()
	sheet, err := os.ReadFile(filepath.Join(dir, "th_tracker.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sheet, []byte(leakSFNote)) {
		t.Fatalf("the Salesforce note did not reach the sheet; runs:\n%s", strings.Join(outcomes, "\n"))
	}
	st, err := r.Store.Errors(ctx, "th_cases", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		t.Fatalf("no record errors were recorded: the test does not drive the error paths")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	needles := []string{leakLastName, leakNote, leakFactory, leakStage, leakLocked, leakSFNote}
	check := func(where, text string) {
		t.Helper()
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Errorf("%s holds the value %q", where, n)
			}
		}
	}
	check("the log", logs.String())

	dbPath := filepath.Join(dir, "casebridge.db")
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("the state file has tables %v; want the migrated schema", tables)
	}
	cells := 0
	for _, tab := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tab + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				cells++
				var s string
				switch v := v.(type) {
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					continue
				}
				check(fmt.Sprintf("state table %s column %s", tab, cols[i]), s)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if cells == 0 {
		t.Fatal("the state file holds no cells")
	}
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		check("the bytes of "+filepath.Base(p), string(b))
	}
}
