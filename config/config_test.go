package config_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/fixtures"
)

// env returns a Getenv over vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// files returns a ReadFile over a map of absolute paths.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func mustParse(t *testing.T, name string, data []byte, opt config.Options) *config.Config {
	t.Helper()
	cfg, err := config.Parse(name, data, opt)
	if err != nil {
		var errs config.Errors
		if !errors.As(err, &errs) {
			t.Fatalf("Parse returned %T, want config.Errors: %v", err, err)
		}
		for _, e := range errs {
			t.Errorf("%v", e)
		}
		t.FailNow()
	}
	return cfg
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := fixtures.Configs.ReadFile(path.Join("configs", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sampleOptions are the surroundings sample.yaml needs.
func sampleOptions() config.Options {
	return config.Options{
		Getenv:   env(map[string]string{"SF_CLIENT_ID": "3MVG9-test"}),
		ReadFile: files(map[string]string{"/etc/casebridge/secrets/gt-db.dsn": "cb:synthetic@tcp(127.0.0.1)/gt\n"}),
		BaseDir:  "/etc/casebridge",
	}
}

// TestSampleConfigs loads every embedded sample configuration: they must
// be valid and draw no warning.
func TestSampleConfigs(t *testing.T) {
	entries, err := fixtures.Configs.ReadDir("configs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if path.Ext(e.Name()) != ".yaml" {
			continue // a sheet a sample reads (th-tracker.csv)
		}
		t.Run(e.Name(), func(t *testing.T) {
			cfg := mustParse(t, e.Name(), fixture(t, e.Name()), sampleOptions())
			for _, w := range cfg.Warnings {
				t.Errorf("warning: %v", w)
			}
		})
	}
}

// TestMinimalNeedsNoEnvironment: the README's first command runs with no
// environment variables and no secret files.
func TestMinimalNeedsNoEnvironment(t *testing.T) {
	cfg := mustParse(t, "minimal.yaml", fixture(t, "minimal.yaml"), config.Options{
		Getenv: env(nil), ReadFile: files(nil), BaseDir: "/srv/cb",
	})
	// Defaults, as declared.
	if got := cfg.Salesforce.APIVersion; got != "62.0" {
		t.Errorf("api_version = %q, want 62.0", got)
	}
	if got := cfg.Salesforce.APIBudget.String(); got != "20%" {
		t.Errorf("api_budget = %q, want 20%%", got)
	}
	if cfg.State.Driver != config.StateSQLite || cfg.State.DSN.Reveal() != "/srv/cb/casebridge.db" {
		t.Errorf("state = %s %q, want sqlite /srv/cb/casebridge.db", cfg.State.Driver, cfg.State.DSN.Reveal())
	}
	if cfg.FingerprintKeyFile != "/srv/cb/fingerprint.key" {
		t.Errorf("fingerprint_key_file = %q, want /srv/cb/fingerprint.key", cfg.FingerprintKeyFile)
	}
	j := cfg.Jobs["th_cases"]
	if j.Direction != config.Both || j.Conflict != config.Manual || j.Initial != config.SalesforceWins || j.Deletes != config.DeleteFlag {
		t.Errorf("job defaults = %s %s %s %s", j.Direction, j.Conflict, j.Initial, j.Deletes)
	}
	if j.KeyList.Duration != 24*time.Hour {
		t.Errorf("key_list_every = %v, want 24h", j.KeyList)
	}
	if !j.MaxDelete.IsPercent() || j.MaxDelete.Percent != 10 {
		t.Errorf("max_delete = %v, want 10%%", j.MaxDelete)
	}
	if !j.Schedule.IsZero() {
		t.Errorf("schedule = %q, want none", j.Schedule)
	}
	if j.Source == nil || j.Source.Path != "/srv/cb/th-tracker.csv" || j.Source.Delimiter != "," || j.Source.Encoding != config.EncodingUTF8 {
		t.Errorf("source = %+v", j.Source)
	}
	if j.Fields[0].Direction != config.ToSalesforce || j.Fields[1].Direction != config.Both || j.Fields[1].PII != config.PIINone {
		t.Errorf("rule directions = %s, %s", j.Fields[0].Direction, j.Fields[1].Direction)
	}
}

// TestSampleValues checks what sample.yaml decodes to, against values
// written by hand from the file.
func TestSampleValues(t *testing.T) {
	cfg := mustParse(t, "sample.yaml", fixture(t, "sample.yaml"), sampleOptions())

	if got, want := cfg.JobNames(), []string{"th_cases", "gt_cases"}; !slices.Equal(got, want) {
		t.Errorf("JobNames = %q, want %q", got, want)
	}
	if got, want := cfg.SourceNames(), []string{"th_tracker", "gt_db"}; !slices.Equal(got, want) {
		t.Errorf("SourceNames = %q, want %q", got, want)
	}
	a := cfg.Salesforce.Auth
	if a.Flow != config.FlowJWT || a.ClientID != "3MVG9-test" || a.PrivateKeyFile != "/run/secrets/sf.key" {
		t.Errorf("auth = %s %q %q", a.Flow, a.ClientID, a.PrivateKeyFile)
	}
	if got := cfg.FingerprintKeyFile; got != "/etc/casebridge/fingerprint.key" {
		t.Errorf("fingerprint_key_file = %q", got)
	}

	gt := cfg.Sources["gt_db"]
	if gt.DSN.Reveal() != "cb:synthetic@tcp(127.0.0.1)/gt" {
		t.Errorf("gt_db dsn not read from its file (trailing newline trimmed)")
	}
	if gt.Location.String() != "America/Guatemala" || gt.UpdatedAt != "actualizado_en" || gt.LinkColumn != "sf_id" {
		t.Errorf("gt_db = %v %q %q", gt.Location, gt.UpdatedAt, gt.LinkColumn)
	}
	th := cfg.Sources["th_tracker"]
	if th.Path != "/etc/casebridge/data/th-tracker.csv" || th.HeaderRow != 2 || th.Backups != 5 {
		t.Errorf("th_tracker = %q %d %d", th.Path, th.HeaderRow, th.Backups)
	}

	j := cfg.Jobs["th_cases"]
	// 02:30 in Bangkok (UTC+7) is 19:30 UTC the day before.
	next := j.Schedule.Next(time.Date(2024, 4, 3, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2024, 4, 3, 19, 30, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("th_cases next run = %v, want %v", next.UTC(), want)
	}
	if j.MaxDelete.Of(1000) != 50 {
		t.Errorf("max_delete 5%% of 1000 = %d, want 50", j.MaxDelete.Of(1000))
	}
	if j.Local.KeyPrefix != "ngo-th-cm:" || j.Local.Key != "รหัสเคส Case ID" {
		t.Errorf("local = %+v", j.Local)
	}
	if j.Consent == nil || !slices.Equal(j.Consent.Allowed, []string{"Granted"}) ||
		!slices.Equal(j.Consent.Classes, []config.PII{config.PIIDirect, config.PIISensitive}) {
		t.Errorf("consent = %+v", j.Consent)
	}
	rules := map[string]*config.Rule{}
	for _, r := range j.Fields {
		rules[r.SF] = r
	}
	stage := rules["vcms__Stage__c"]
	var order []string
	for _, e := range stage.Values.Entries {
		order = append(order, e.Local+"="+e.SF)
	}
	if want := []string{"กำลังดำเนินการ=Active", "ติดตามผล=Follow_Up", "ปิดเคส=Closed", "ส่งต่อ=Closed_Referred"}; !slices.Equal(order, want) {
		t.Errorf("stage values = %q, want %q", order, want)
	}
	if f, _ := rules["vcms__Gender__c"].Values.WriteForm("Feminine"); f != "หญิง" {
		t.Errorf("gender write form of Feminine = %q, want หญิง (the first listed)", f)
	}
	bd := rules["vcms__Birthdate__c"]
	if bd.Date == nil || bd.Date.Era != config.Buddhist || !bd.Date.ExcelSerial || !bd.Date.DayFirst ||
		!slices.Equal(bd.Date.Formats, []string{"02/01/2006", "2006-01-02"}) || bd.PII != config.PIIDirect || bd.WriteForm != "02/01/2006" {
		t.Errorf("birthdate rule = %+v", bd.Date)
	}
	if p := bd.At("date"); p.Line != 92 {
		t.Errorf("birthdate date option at %v, want line 92", p)
	}
	yn := rules["vcms__Age_Verified__c"].YesNo
	if yn == nil || !slices.Equal(yn.Yes, []string{"ใช่", "Y", "yes"}) || !slices.Equal(yn.No, []string{"ไม่", "รอ"}) {
		t.Errorf("age verified yes_no = %+v", yn)
	}
	if r := rules["vcms__Source_System__c"]; r.Constant != "ngo-th-cm" || r.Direction != config.ToSalesforce {
		t.Errorf("constant rule = %q %s", r.Constant, r.Direction)
	}
	if len(j.Children) != 2 || j.Children[0].KeySuffix != ":stipend" || j.Children[1].KeySuffix != ":school" {
		t.Errorf("children = %+v", j.Children)
	}

	// Printing the whole configuration shows no secret.
	for _, out := range []string{fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", gt), fmt.Sprintf("%v", cfg.Sources)} {
		if strings.Contains(out, "synthetic@tcp") {
			t.Errorf("printing the configuration shows the DSN")
		}
	}

	g := cfg.Jobs["gt_cases"]
	if g.Schedule.Every != time.Hour || g.Conflict != config.NewestWins {
		t.Errorf("gt_cases schedule every %v, conflict %s", g.Schedule.Every, g.Conflict)
	}
	if g.MaxDelete.IsPercent() || g.MaxDelete.Count != 25 || g.MaxDelete.Of(1000) != 25 {
		t.Errorf("gt_cases max_delete = %v", g.MaxDelete)
	}
	if g.Source != gt || !slices.Equal(g.MatchOn, []string{"vcms__Case_Code__c"}) {
		t.Errorf("gt_cases source/match_on wrong")
	}
}

// TestNewestWinsNeedsModificationTimes: newest_wins is accepted only for a
// database source with updated_at; a sheet keeps no row modification times,
// even when updated_at names a column (the sheet connector reads none).
func TestNewestWinsNeedsModificationTimes(t *testing.T) {
	for _, tc := range []struct {
		source, want string
	}{
		{"{ kind: sqlite, path: l.db, table: cases, updated_at: updated_at }", ""},
		{"{ kind: sqlite, path: l.db, table: cases }", "newest_wins needs each local row's modification time: set updated_at on source local"},
		{"{ kind: csv, path: l.csv }", "source local is a csv file, which keeps none"},
		{"{ kind: csv, path: l.csv, updated_at: Updated }", "source local is a csv file, which keeps none"},
		{"{ kind: xlsx, path: l.xlsx, updated_at: Updated }", "source local is a xlsx file, which keeps none"},
	} {
		data := `version: 1
salesforce:
  auth: { flow: client_credentials, client_id: x, client_secret: "${SECRET}" }
sources:
  local: ` + tc.source + `
jobs:
  j:
    conflict: newest_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: local, key: id }
    fields:
      - { sf: vcms__Stage__c, local: stage }
`
		_, err := config.Parse("c.yaml", []byte(data), config.Options{Getenv: env(map[string]string{"SECRET": "s"})})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.source, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.source, err, tc.want)
		}
	}
}
