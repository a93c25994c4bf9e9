package schedules

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/mapping"
)

// statusCSV is a Thai tracker (doc/architecture.md §11.2) with its title row and a
// sync status column field staff read. TH-ST-0001's single-token name is
// a last name, which the job does not send: it syncs. TH-ST-0002's stage
// is not one the job maps (a mapping error). TH-ST-0003's first name is
// known and the job sends no last name, which the org's validation rule
// refuses.
const statusCSV = "\"ข้อมูลลับ ห้ามส่งต่อ / CONFIDENTIAL – อัปเดต 03/04/2567\",,,,\r\n" +
	"ลำดับ,รหัสเคส Case ID,ชื่อ-สกุล,สถานะ,สถานะซิงค์\r\n" +
	"1,TH-ST-0001,สมหญิง,กำลังดำเนินการ,\r\n" +
	"2,TH-ST-0002,สมชาย,ไม่ทราบ,\r\n" +
	"3,TH-ST-0003,ด.ญ. สมหญิง ตัวอย่าง,ติดตามผล,\r\n"

const statusConfig = `
version: 1
salesforce:
  login_url: FAKE_ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
sources:
  th_tracker: { kind: csv, path: th_status.csv, status_column: สถานะซิงค์, backups: 2 }
jobs:
  th_cases:
    direction: to_salesforce
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th_tracker, key: "รหัสเคส Case ID", key_prefix: "ngo-th-st:" }
    fields:
      - { sf: vcms__Source_System__c, constant: ngo-th-cm }
      - { sf: vcms__First_Name__c, local: ชื่อ-สกุล, transform: thai_name.first, pii: direct }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ติดตามผล: Follow_Up, ปิดเคส: Closed, ส่งต่อ: Closed_Referred }
`

// TestStatusColumn: after a run against the fake org, each row's status
// cell says what happened to it — the synced time, or the error code and
// the column — and never a value. The header row is found (no
// header_row), and the configured backups count is the one kept.
func TestStatusColumn(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{ValidationRules: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "th_status.csv")
	if err := os.WriteFile(path, []byte(statusCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(statusConfig, "FAKE_ORG_URL", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sources["th_tracker"].HeaderRow != 0 {
		t.Fatalf("header_row default %d, want 0 (found by the key header)", cfg.Sources["th_tracker"].HeaderRow)
	}
	r, err := Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()

	res, err := r.Run(ctx, "th_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-st:TH-ST-0001"); !ok {
		t.Fatalf("TH-ST-0001 not created; plan:\n%s", res.Result.Plan)
	}
	if _, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-st:TH-ST-0003"); ok {
		t.Fatalf("TH-ST-0003 was created despite the validation rule")
	}

	job := cfg.Jobs["th_cases"]
	objects := map[string]*connector.Object{}
	if objects["vcms__Survivor_Case__c"], err = r.Salesforce.Describe(ctx, "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Compile(job, objects)
	if err != nil {
		t.Fatal(err)
	}
	local, err := OpenSource(job, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteStatus(ctx, local, m, res); err != nil {
		t.Fatal(err)
	}

	status := readStatus(t, path)
	synced := regexp.MustCompile(`^synced \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if got := status["TH-ST-0001"]; !synced.MatchString(got) {
		t.Errorf("TH-ST-0001 status %q, want synced <time>", got)
	}
	if got, want := status["TH-ST-0002"], "error INVALID_VALUE สถานะ"; got != want {
		t.Errorf("TH-ST-0002 status %q, want %q (the column, never the value)", got, want)
	}
	if got := status["TH-ST-0003"]; got != "error FIELD_CUSTOM_VALIDATION_EXCEPTION vcms__Last_Name__c" {
		t.Errorf("TH-ST-0003 status %q", got)
	}
	for k, s := range status {
		if strings.Contains(s, "ไม่ทราบ") || strings.Contains(s, "สมหญิง") {
			t.Errorf("%s status holds a value: %q", k, s)
		}
	}

	// The file kept its title row and headers; a backup was kept.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "\"ข้อมูลลับ") {
		t.Errorf("title row lost:\n%s", data)
	}
	// One backup per writing connector: the run's, and this test's own
	// WriteStatus when the status time moved to the next second.
	backups, _ := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "*"))
	if len(backups) < 1 || len(backups) > 2 {
		t.Errorf("backups %v, want one or two", backups)
	}
}

// readStatus returns the status column's cells by case id.
func readStatus(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	header := recs[1]
	col := -1
	for i, h := range header {
		if h == "สถานะซิงค์" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no status column in %v", header)
	}
	for _, rec := range recs[2:] {
		if len(rec) > col {
			out[rec[1]] = rec[col]
		}
	}
	return out
}

// TestSheetOptions: a sheet source's configuration reaches the sheet
// connector: the header row found under a title row, soft_delete as the
// column a delete marks "deleted", and the configuration's backups count
// (default 3, not the sheet connector's 5).
func TestSheetOptions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "th.csv")
	if err := os.WriteFile(path, []byte(statusCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "c.yaml"), []byte(`
version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: y }
sources:
  th: { kind: csv, path: th.csv, soft_delete: ลบแล้ว }
jobs:
  th_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: "รหัสเคส Case ID" }
    fields:
      - { sf: vcms__Stage__c, local: สถานะ }
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := cfg.Jobs["th_cases"]
	if job.Source.Backups != 3 || job.Source.HeaderRow != 0 {
		t.Fatalf("defaults: backups %d, header_row %d", job.Source.Backups, job.Source.HeaderRow)
	}
	local, err := OpenSource(job, &mapping.JobMapping{LocalObject: "th"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys := func() []string {
		var out []string
		if _, err := local.Read(ctx, "th", "", func(r connector.Record) error {
			if r.Err == nil && !r.Deleted {
				out = append(out, r.Key)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := strings.Join(keys(), ","); got != "TH-ST-0001,TH-ST-0002,TH-ST-0003" {
		t.Fatalf("rows under the found header: %s", got)
	}
	stages := []string{"ติดตามผล", "ปิดเคส", "ส่งต่อ", "กำลังดำเนินการ", "ติดตามผล"}
	clock := time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC)
	for _, st := range stages {
		// One run each (a run opens the source and keeps one backup).
		local, err := OpenSource(job, &mapping.JobMapping{LocalObject: "th"})
		if err != nil {
			t.Fatal(err)
		}
		local.(*sheet.Connector).Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
		res, err := local.(connector.Sink).Upsert(ctx, "th", []connector.Record{{Key: "TH-ST-0001", Fields: map[string]connector.Value{"สถานะ": connector.Text(st)}}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("upsert: %v %+v", err, res)
		}
	}
	if backups, _ := filepath.Glob(filepath.Join(dir, ".casebridge-backup", "th.csv.*.bak")); len(backups) != 3 {
		t.Errorf("%d backups kept, want 3 (the configuration's default)", len(backups))
	}
	keys() // this connector reads the file the runs above wrote
	res, err := local.(connector.Sink).Delete(ctx, "th", []string{"TH-ST-0002"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %+v", err, res)
	}
	if got := strings.Join(keys(), ","); got != "TH-ST-0001,TH-ST-0003" {
		t.Errorf("after the delete: %s", got)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "ลบแล้ว") || !strings.Contains(string(data), "TH-ST-0002,สมชาย,ไม่ทราบ,,deleted") {
		t.Errorf("the delete did not mark the soft_delete column:\n%s", data)
	}
}
