package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// withLiteralSecret is minimal.yaml's shape with a client secret written
// into the file.
const withLiteralSecret = `version: 1
salesforce:
  auth:
    flow: client_credentials
    client_id: 3MVG9-synthetic
    client_secret: synthetic-literal-secret
sources:
  th: { kind: csv, path: th.csv }
jobs:
  th_cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: th, key: id }
    fields: [{ sf: vcms__Stage__c, local: status }]
`

func writeConfig(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // umask
		t.Fatal(err)
	}
	return p
}

func TestLoadMinimalFromDisk(t *testing.T) {
	data := fixture(t, "minimal.yaml")
	p := writeConfig(t, "casebridge.yaml", string(data), 0o644)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if cfg.Dir != dir || cfg.Sources["th_tracker"].Path != filepath.Join(dir, "th-tracker.csv") ||
		cfg.Salesforce.Auth.PrivateKeyFile != filepath.Join(dir, "sf-demo.key") {
		t.Errorf("paths not resolved beside the file: dir %q, source %q", cfg.Dir, cfg.Sources["th_tracker"].Path)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestLoadSampleWithEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "gt-db.dsn"), []byte("cb:synthetic@tcp(127.0.0.1)/gt\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "sample.yaml")
	if err := os.WriteFile(p, fixture(t, "sample.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SF_CLIENT_ID", "3MVG9-from-env")
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Salesforce.Auth.ClientID != "3MVG9-from-env" || cfg.Sources["gt_db"].DSN.Reveal() != "cb:synthetic@tcp(127.0.0.1)/gt" {
		t.Errorf("env or secret file not applied")
	}
}

func TestLoadSampleWithoutEnvironment(t *testing.T) {
	p := writeConfig(t, "sample.yaml", string(fixture(t, "sample.yaml")), 0o600)
	t.Setenv("SF_CLIENT_ID", "") // restored after the test
	if err := os.Unsetenv("SF_CLIENT_ID"); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(p)
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v, want Errors", err)
	}
	got := err.Error()
	for _, want := range []string{
		"sample.yaml:21:16: salesforce.auth.client_id: environment variable SF_CLIENT_ID is not set",
		"sources.gt_db.dsn_file: cannot read secret file " + filepath.Join(filepath.Dir(p), "secrets", "gt-db.dsn") + ": no such file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Msg, "no such file") {
		t.Fatalf("Load = %v", err)
	}
}

func TestLiteralSecretPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	p := writeConfig(t, "casebridge.yaml", withLiteralSecret, 0o644)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := p + ":6:20: this file holds 1 secret(s) literally and is readable by group or others (mode 0644); use ${ENV} or *_file, or chmod 600 " + p
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != want {
		t.Errorf("warnings = %q, want %q", cfg.Warnings, want)
	}
	if strings.Contains(cfg.Warnings.String(), "synthetic-literal-secret") {
		t.Errorf("warning carries the secret")
	}

	p = writeConfig(t, "casebridge.yaml", withLiteralSecret, 0o600)
	if cfg, err = config.Load(p); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("0600 file: err %v, warnings %v", err, cfg.Warnings)
	}
	// Secrets from the environment are not "literal".
	p = writeConfig(t, "casebridge.yaml", strings.Replace(withLiteralSecret, "synthetic-literal-secret", "${CB_TEST_SECRET}", 1), 0o644)
	t.Setenv("CB_TEST_SECRET", "x")
	if cfg, err = config.Load(p); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("secret from env: err %v, warnings %v", err, cfg.Warnings)
	}
}
