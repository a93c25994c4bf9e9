package casebridge_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/casebridge/casebridge"

// goPackages returns the directories holding non-test Go files, relative to
// the repository root, with the imports of their non-test files.
func goPackages(t *testing.T) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		pkgs[dir] = append(pkgs[dir], []string{}...)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			pkgs[dir] = append(pkgs[dir], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestImportRules enforces the layering of doc/architecture.md §2.1 (what depguard would
// do): connectors know nothing of mapping, reconcile, config or the CLI;
// mapping knows nothing of Salesforce; only the CLI may use the standard
// log package (everything else takes an injected zerolog.Logger).
func TestImportRules(t *testing.T) {
	rules := []struct {
		from      string // package directory prefix
		forbidden []string
		why       string
	}{
		{"connector", []string{module + "/reconcile", module + "/mapping", module + "/config", module + "/cmd", module + "/schedules", module + "/state"}, "connectors know nothing of mapping, reconcile, config or the CLI"},
		{"mapping", []string{module + "/connector/salesforce", module + "/reconcile", module + "/cmd"}, "mapping knows nothing of Salesforce or reconcile"},
		{"reconcile", []string{module + "/connector/salesforce", module + "/connector/sheet", module + "/connector/sqldb", module + "/cmd"}, "reconcile sees only Records and Schemas"},
		{"state", []string{module + "/reconcile", module + "/mapping", module + "/cmd"}, "the state store is below reconcile"},
		{"config", []string{module + "/reconcile", module + "/cmd", module + "/connector/salesforce"}, "config is parsed without touching what it configures"},
		{"admin", []string{module + "/connector/salesforce", module + "/connector/sheet", module + "/connector/sqldb", module + "/cmd"}, "the admin API serves run history and metrics, never records"},
		{"report", []string{module + "/connector/salesforce", module + "/connector/sheet", module + "/connector/sqldb", module + "/cmd"}, "reports are built from the engine's results"},
	}
	for dir, imports := range goPackages(t) {
		for _, r := range rules {
			if dir != r.from && !strings.HasPrefix(dir, r.from+"/") {
				continue
			}
			for _, imp := range imports {
				for _, bad := range r.forbidden {
					if imp == bad || strings.HasPrefix(imp, bad+"/") {
						t.Errorf("%s imports %s: %s", dir, imp, r.why)
					}
				}
			}
		}
		if !strings.HasPrefix(dir, "cmd") {
			for _, imp := range imports {
				if imp == "log" {
					t.Errorf("%s imports the standard log package: take a zerolog.Logger instead", dir)
				}
			}
		}
	}
}

// TestPackageDocs checks that every package says what it owns in a doc.go
// (or, for commands, in main.go).
func TestPackageDocs(t *testing.T) {
	for dir := range goPackages(t) {
		if strings.Contains(dir, "/internal/") || strings.HasPrefix(dir, "internal/") {
			continue
		}
		doc := filepath.Join(dir, "doc.go")
		if strings.HasPrefix(dir, "cmd/") {
			doc = filepath.Join(dir, "main.go")
		}
		src, err := os.ReadFile(doc)
		if err != nil {
			// A package comment may live in the package's main file.
			if hasPackageComment(t, dir) {
				continue
			}
			t.Errorf("%s has no doc.go with a package comment", dir)
			continue
		}
		if !strings.Contains(string(src), "// Package ") && !strings.Contains(string(src), "// Command ") {
			t.Errorf("%s: %s has no package comment", dir, doc)
		}
	}
}

func hasPackageComment(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err == nil && f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package ") {
			return true
		}
	}
	return false
}

// TestConnectorFolders enforces the shape every connector folder has
// (doc/architecture.md §2.3): a README, an embedded sample configuration,
// and a test that runs connector/conformance. A connector that cannot have
// one of them is waived here, with the reason.
func TestConnectorFolders(t *testing.T) {
	waivers := map[string]string{
		"connector/memory/README.md":   "the exemplar: connector/README.md describes it",
		"connector/memory/sample.yaml": "configured in code only (tests and the engine's test double)",
	}
	notConnectors := map[string]string{
		"connector/conformance": "the suite itself",
	}
	entries, err := os.ReadDir("connector")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := "connector/" + e.Name()
		if _, skip := notConnectors[dir]; skip {
			continue
		}
		found++
		for _, name := range []string{"README.md", "sample.yaml"} {
			p := dir + "/" + name
			if _, err := os.Stat(p); err != nil && waivers[p] == "" {
				t.Errorf("%s: missing (every connector documents itself and ships a sample)", p)
			}
		}
		tests, _ := filepath.Glob(dir + "/*_test.go")
		calls := false
		for _, tf := range tests {
			src, err := os.ReadFile(tf)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), "conformance.Run(") {
				calls = true
			}
		}
		if !calls {
			t.Errorf("%s: no test calls conformance.Run (every connector passes the suite)", dir)
		}
	}
	if found < 4 {
		t.Errorf("found %d connector folders; the walk is broken", found)
	}
}
