package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// FuzzParse feeds Parse arbitrary bytes: it must never panic, must return
// either a Config or Errors, and every finding must have a position in
// the file.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"minimal.yaml", "sample.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "fixtures", "configs", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	cases, _ := filepath.Glob("testdata/errors/*.txt")
	for _, p := range cases {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		input, _, _ := strings.Cut(string(data), "\n----------\n")
		f.Add([]byte(input))
	}
	for _, s := range []string{
		"", "---\n---\n", "a: &x [*x]", "<<: *y", "a: &a {<<: *a}", "version: !!str 1",
		"jobs: {j: {<<: [*a, *b]}}", "? [a]\n: b", "version: 1\nsources: {a: {kind: csv, path: ${X}}}",
		"salesforce:\n  auth: {flow: jwt, client_id_file: ${}}", "\t- x", "a: |\n  ${X",
		"version: 1\njobs:\n  j:\n    fields:\n      - {sf: A, values: {a: b, a: c}}\n",
	} {
		f.Add([]byte(s))
	}
	opt := config.Options{
		Getenv:   func(string) (string, bool) { return "fuzz-value", true },
		ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
		BaseDir:  "/etc/casebridge",
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data, opt)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil Config and nil error")
			}
			return
		}
		var errs config.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("Parse returned %T %v, want Errors", err, err)
		}
		for _, e := range errs {
			if e.File != "fuzz.yaml" || e.Line < 1 || e.Col < 0 {
				t.Fatalf("finding without a position: %+v", e)
			}
		}
	})
}
