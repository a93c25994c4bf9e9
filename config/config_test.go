package config_test

import (
	"errors"
	"io/fs"
	"path"
	"testing"

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

func loadFixture(t *testing.T, name string, opt config.Options) *config.Config {
	t.Helper()
	data, err := fixtures.Configs.ReadFile(path.Join("configs", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(name, data, opt)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				t.Errorf("%v", e)
			}
			t.FailNow()
		}
		t.Fatal(err)
	}
	return cfg
}

func TestMinimal(t *testing.T) {
	cfg := loadFixture(t, "minimal.yaml", config.Options{Getenv: env(nil), ReadFile: files(nil), BaseDir: "/etc/casebridge"})
	for _, w := range cfg.Warnings {
		t.Errorf("warning: %v", w)
	}
}

func TestSample(t *testing.T) {
	cfg := loadFixture(t, "sample.yaml", config.Options{
		Getenv:   env(map[string]string{"SF_CLIENT_ID": "3MVG9-test"}),
		ReadFile: files(map[string]string{"/etc/casebridge/secrets/gt-db.dsn": "cb:synthetic@tcp(127.0.0.1)/gt\n"}),
		BaseDir:  "/etc/casebridge",
	})
	for _, w := range cfg.Warnings {
		t.Errorf("warning: %v", w)
	}
}
