package config_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// Each file in testdata/errors holds a configuration, a line of ten
// dashes, and the exact findings Parse must report, one per line. The
// expectations are written by hand; -print shows what Parse says, for
// writing a new case, never to overwrite one.
var printFindings = flag.Bool("print", false, "print the findings of each error case")

// errorCaseOptions are the surroundings every error case is parsed in.
func errorCaseOptions() config.Options {
	return config.Options{
		Getenv: env(map[string]string{"SF_CLIENT_ID": "3MVG9-test"}),
		ReadFile: func(name string) ([]byte, error) {
			switch name {
			case "/etc/casebridge/secrets/present":
				return []byte("synthetic-secret\n"), nil
			case "/etc/casebridge/secrets/locked":
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
		BaseDir: "/etc/casebridge",
	}
}

func TestErrorCases(t *testing.T) {
	paths, err := filepath.Glob("testdata/errors/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no error cases: %v", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(data), "\n----------\n")
			if !ok {
				t.Fatalf("%s: no ---------- line", p)
			}
			_, err = config.Parse("config.yaml", []byte(input+"\n"), errorCaseOptions())
			var errs config.Errors
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("Parse returned %T, want config.Errors: %v", err, err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if *printFindings {
				t.Logf("findings:\n%s", strings.Join(got, "\n"))
			}
			wantLines := strings.Split(strings.TrimRight(want, "\n"), "\n")
			if len(got) == 0 {
				t.Fatalf("Parse found nothing; want:\n%s", strings.Join(wantLines, "\n"))
			}
			if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
				t.Errorf("findings differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
			}
		})
	}
}
