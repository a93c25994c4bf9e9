package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/connector/sheet"
)

// runCB runs a casebridge command line and returns its exit code and
// what it printed.
func runCB(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append(args, "--log-level", "error"), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// initFixture copies a sheet of fixtures/sheets into dir.
func initFixture(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sheets", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInitFakeOrg: init against the built-in fake org writes a
// configuration that validate accepts, with mode 0600, and never
// overwrites a file without --force.
func TestInitFakeOrg(t *testing.T) {
	dir := t.TempDir()
	sheetPath := initFixture(t, dir, "th_tracker.csv")
	out := filepath.Join(dir, "th.yaml")
	code, stdout, stderr := runCB(t, "init", "--sheet", sheetPath, "--fake-org", "-o", out)
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"wrote " + out, `key:      column "รหัสเคส Case ID" -> vcms__External_Key__c`, "vcms__Survivor_Case__c (chosen:", "Next: casebridge validate"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("output: %v, mode %v", err, fi.Mode())
	}
	written, _ := os.ReadFile(out)
	if !strings.Contains(string(written), "    path: th_tracker.csv\n") {
		t.Errorf("the sheet's path is not relative to the configuration:\n%s", written)
	}
	// casebridge fakeorg listens on a free port unless told one: the
	// login_url written is marked as a stand-in for the URL it prints.
	if !strings.Contains(string(written), "  login_url: \"http://127.0.0.1:8443\"   # TODO: the URL `casebridge fakeorg` prints when it starts") {
		t.Errorf("login_url is not marked as the fake org's URL to put in:\n%s", written)
	}
	if code, stdout, stderr := runCB(t, "validate", out); code != exitOK || !strings.Contains(stdout, "OK (1 source, 1 job)") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}

	// Again: refused, the file untouched; with --force, written.
	if err := os.WriteFile(out, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCB(t, "init", "--sheet", sheetPath, "--fake-org", "-o", out); code != exitUsage || !strings.Contains(stderr, "exists") {
		t.Errorf("init over an existing file: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "mine\n" {
		t.Errorf("the existing file was changed")
	}
	if code, _, stderr := runCB(t, "init", "--sheet", sheetPath, "--fake-org", "-o", out, "--force"); code != exitOK {
		t.Errorf("init --force: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, written) {
		t.Errorf("init --force wrote another file than the first run")
	}

	for _, bad := range [][]string{
		{"init", "--fake-org"},
		{"init", "--sheet", sheetPath},
		{"init", "--sheet", sheetPath, "--fake-org", "--schema", "x.json"},
		{"init", "--sheet", filepath.Join(dir, "missing.csv"), "--fake-org", "-o", filepath.Join(dir, "m.yaml")},
	} {
		if code, _, _ := runCB(t, bad...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", strings.Join(bad, " "), code, exitUsage)
		}
	}
}

// TestInitSchemaFile: init from a file saved by describe --json, offline,
// writes a configuration whose login placeholders validate, for a
// workbook.
func TestInitSchemaFile(t *testing.T) {
	dir := t.TempDir()
	objects, err := fakeOrgObjects(context.Background(), "vcms__Survivor_Case__c")
	if err != nil {
		t.Fatal(err)
	}
	d := describeFile{Format: describeFormat}
	for _, o := range objects {
		d.Objects = append(d.Objects, describedObject(o, nil))
	}
	b, _ := json.Marshal(d)
	schema := filepath.Join(dir, "org.json")
	if err := os.WriteFile(schema, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sheetPath := initFixture(t, dir, "kh_register.xlsx")
	out := filepath.Join(dir, "kh.yaml")
	code, stdout, stderr := runCB(t, "init", "--sheet", sheetPath, "--schema", schema, "-o", out, "--job", "kh_cases", "--key-prefix", "ngo-kh-bb:")
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	y, _ := os.ReadFile(out)
	for _, want := range []string{"  kh_cases:\n    direction", `      key_prefix: "ngo-kh-bb:"`, "    sheet: Register\n", "# TODO: how casebridge logs in to your org: client_id, username, private_key_file",
		// No org named: login_url is a stand-in, marked as such.
		"  login_url: \"https://login.salesforce.com\"   # TODO: your org's login URL", "the URL `casebridge fakeorg --schema org.json` prints"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("no %q in\n%s", want, y)
		}
	}
	if code, stdout, stderr := runCB(t, "validate", out); code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestInitOnline: init logs in with flags and a secret from the
// environment, and the file refers to the variable, never holding the
// secret; validate --online accepts it against the same org.
func TestInitOnline(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	t.Setenv(initSecretEnv.clientSecret, sftest.DefaultClientSecret)
	dir := t.TempDir()
	sheetPath := initFixture(t, dir, "bd_cases.csv")
	out := filepath.Join(dir, "bd.yaml")
	code, stdout, stderr := runCB(t, "init", "--sheet", sheetPath, "--login-url", srv.URL, "--auth-flow", "client_credentials",
		"--client-id", sftest.DefaultClientID, "--object", "vcms__Survivor_Case__c", "-o", out)
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	y, _ := os.ReadFile(out)
	if strings.Contains(string(y), sftest.DefaultClientSecret) || !strings.Contains(string(y), `client_secret: "${CASEBRIDGE_CLIENT_SECRET}"`) {
		t.Errorf("the secret is not a reference to the environment:\n%s", y)
	}
	if want := "  login_url: \"" + srv.URL + "\"\n"; !strings.Contains(string(y), want) { // the org given, nothing to do
		t.Errorf("no %q in\n%s", want, y)
	}
	if code, stdout, stderr := runCB(t, "validate", "--online", out); code != exitOK {
		t.Fatalf("validate --online: exit %d\n%s%s\n%s", code, stdout, stderr, y)
	}
	t.Setenv(initSecretEnv.clientSecret, "wrong")
	if code, _, _ := runCB(t, "init", "--sheet", sheetPath, "--login-url", srv.URL, "--auth-flow", "client_credentials",
		"--client-id", sftest.DefaultClientID, "-o", filepath.Join(dir, "other.yaml")); code != exitError {
		t.Errorf("init with a wrong secret: exit %d, want %d", code, exitError)
	}
}

// TestInitPrintsNoCell: what init prints names columns, fields and
// counts, never a cell of the sheet.
func TestInitPrintsNoCell(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"th_tracker.csv", "bd_cases.csv", "kh_register.xlsx"} {
		sheetPath := initFixture(t, dir, name)
		p, err := sheet.ReadPreview(context.Background(), sheet.SheetConfig{Path: sheetPath}, 100)
		if err != nil {
			t.Fatal(err)
		}
		headers := map[string]bool{}
		for _, r := range p.Rows[:2] { // the header is in row 1 or 2; a title row above it is no cell of a record
			for _, c := range r.Cells {
				headers[strings.TrimSpace(c)] = true
			}
		}
		var cells []string
		for _, r := range p.Rows {
			for _, c := range r.Cells {
				c = strings.TrimSpace(c)
				if utf8.RuneCountInString(c) >= 4 && !headers[c] && strings.Trim(c, "0123456789") != "" {
					cells = append(cells, c)
				}
			}
		}
		if len(cells) < 10 {
			t.Fatalf("%s: %d cells to look for", name, len(cells))
		}
		code, stdout, stderr := runCB(t, "init", "--sheet", sheetPath, "--fake-org", "-o", filepath.Join(dir, name+".yaml"), "--log-level", "debug")
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		for _, c := range cells {
			if strings.Contains(stdout+stderr, c) {
				t.Errorf("%s: cell %q is printed:\n%s%s", name, c, stdout, stderr)
			}
		}
	}
}
