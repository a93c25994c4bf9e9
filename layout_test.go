package casebridge_test

import (
	"bytes"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce"
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
	}
	for _, file := range filesImporting(t, "log") {
		if !strings.HasPrefix(file, "cmd/") && stdLogAllowed[file] == "" {
			t.Errorf("%s imports the standard log package: take a zerolog.Logger instead", file)
		}
	}
}

// stdLogAllowed are the files outside cmd that may import the standard log
// package, with the reason.
var stdLogAllowed = map[string]string{
	"connector/salesforce/soap.go": "discards the standard logger's output while simpleforce, which logs credentials and bodies through it, runs a SOAP login",
}

// filesImporting returns the non-test Go files, relative to the repository
// root, that import path.
func filesImporting(t *testing.T, path string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if v, _ := strconv.Unquote(imp.Path.Value); v == path {
				files = append(files, filepath.ToSlash(p))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
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

// trackedFiles returns the files git tracks, relative to the repository
// root: those of the last commit and those staged in the index (commits
// made through a private index leave files the shared index does not
// list). The repository's rules are about what is committed: a binary
// built in the working tree (and ignored) is not the repository's.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	staged, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout?)", err)
	}
	committed, err := exec.Command("git", "ls-tree", "-r", "-z", "--name-only", "HEAD").Output()
	if err != nil {
		t.Skipf("git ls-tree HEAD: %v (no commit yet?)", err)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(staged)+"\x00"+string(committed), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		if _, err := os.Lstat(f); err != nil {
			continue // deleted in the working tree, not yet committed
		}
		files = append(files, f)
	}
	if len(files) < 100 {
		t.Fatalf("git ls-files listed %d files; the listing is broken", len(files))
	}
	return files
}

// outsideDocs are documents the project was designed from that are not in
// the repository: a reference to one points a reader nowhere. What they
// said that the code relies on is in doc/architecture.md. The names are
// split so that this file does not mention them.
var outsideDocs = []string{"DESIGN" + ".md", "STYLE" + ".md", "domain" + ".md", "salesforce-facts" + ".md"}

// TestNoOutsideReferences: no tracked file cites a document that is not in
// the repository; cite a section of doc/architecture.md (or a package
// README) instead.
func TestNoOutsideReferences(t *testing.T) {
	for _, f := range trackedFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, name := range outsideDocs {
				if strings.Contains(line, name) {
					t.Errorf("%s:%d: cites %s, which is not in the repository: cite doc/architecture.md instead", f, i+1, name)
				}
			}
		}
	}
}

var (
	// mdLink matches an inline Markdown link or image, [text](target) or
	// [text](target "title"); mdRef a reference definition, [id]: target.
	mdLink = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	mdRef  = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s.*)?$`)
	// mdCode matches inline code spans, whose brackets are not links.
	mdCode = regexp.MustCompile("`+[^`]*`+")
)

// TestMarkdownLinks: every relative link in the repository's Markdown
// files names a file or folder that exists, and an #anchor into a Markdown
// file names one of its headings (as GitHub derives anchors from them), so
// that citations such as doc/architecture.md#5-reconcile-the-three-way-algorithm
// keep working when documents change.
func TestMarkdownLinks(t *testing.T) {
	checked := 0
	for _, f := range trackedFiles(t) {
		if !strings.HasSuffix(f, ".md") || strings.Contains(f, "node_modules/") {
			continue
		}
		for _, l := range markdownLinks(t, f) {
			target := l.target
			if i := strings.IndexAny(target, "?"); i >= 0 {
				target = target[:i]
			}
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			resolved := f
			if path != "" {
				if strings.HasPrefix(path, "/") {
					t.Errorf("%s:%d: link %q is absolute; make it relative to the file", f, l.line, l.target)
					continue
				}
				resolved = filepath.ToSlash(filepath.Join(filepath.Dir(f), path))
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", f, l.line, l.target, resolved)
					continue
				}
			}
			checked++
			if anchor == "" || !strings.HasSuffix(resolved, ".md") {
				continue
			}
			if !slices.Contains(markdownAnchors(t, resolved), anchor) {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", f, l.line, l.target, resolved, anchor)
			}
		}
	}
	if checked == 0 {
		t.Error("no relative Markdown link found; the scan is broken")
	}
}

type mdLinkAt struct {
	target string
	line   int
}

// markdownLines calls fn with each line of a Markdown file outside fenced
// code blocks, its inline code spans blanked out.
func markdownLines(t *testing.T, file string, fn func(line string, n int)) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fence := ""
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		fn(mdCode.ReplaceAllString(line, "``"), i+1)
	}
}

func markdownLinks(t *testing.T, file string) []mdLinkAt {
	var links []mdLinkAt
	markdownLines(t, file, func(line string, n int) {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			links = append(links, mdLinkAt{m[1], n})
		}
		if m := mdRef.FindStringSubmatch(line); m != nil {
			links = append(links, mdLinkAt{m[1], n})
		}
	})
	return links
}

// markdownAnchors returns the anchors GitHub gives a Markdown file's
// headings: lower case, spaces as hyphens, punctuation other than hyphens
// and underscores dropped, a repeated anchor numbered -1, -2, ...
func markdownAnchors(t *testing.T, file string) []string {
	var anchors []string
	seen := map[string]int{}
	markdownLines(t, file, func(line string, _ int) {
		if !strings.HasPrefix(line, "#") {
			return
		}
		title := strings.TrimLeft(line, "#")
		if title == "" || (title[0] != ' ' && title[0] != '\t') {
			return
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(title)) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			seen[a] = n + 1
			a += "-" + strconv.Itoa(n)
		} else {
			seen[a] = 1
		}
		anchors = append(anchors, a)
	})
	return anchors
}

// executableMagic are the first bytes of the executable formats Go builds
// for: ELF (Linux, BSD), Mach-O (macOS; thin 32/64-bit either byte order,
// and universal) and PE (Windows, checked further in isPE).
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xce, 0xfa, 0xed, 0xfe},
	{0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe},
	{0xca, 0xfe, 0xba, 0xbe},
}

// isPE reports whether b starts a PE executable: "MZ", and at the offset
// the DOS header gives at 0x3c, "PE\0\0".
func isPE(b []byte) bool {
	if len(b) < 0x40 || b[0] != 'M' || b[1] != 'Z' {
		return false
	}
	off := int(b[0x3c]) | int(b[0x3d])<<8 | int(b[0x3e])<<16 | int(b[0x3f])<<24
	return off >= 0 && off+4 <= len(b) && string(b[off:off+4]) == "PE\x00\x00"
}

// isExecutable reports whether the file at path is an executable binary.
func isExecutable(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	head = head[:n]
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return true, nil
		}
	}
	return isPE(head), nil
}

// TestNoCommittedBinaries: no tracked file is an executable (a 5 MB Linux
// binary was once committed by a go build run in cmd/casebridge). Builds
// belong in release archives (tools/release); .gitignore keeps the usual
// outputs out.
func TestNoCommittedBinaries(t *testing.T) {
	for _, f := range trackedFiles(t) {
		exe, err := isExecutable(f)
		if err != nil {
			t.Fatal(err)
		}
		if exe {
			t.Errorf("%s is an executable binary: remove it (git rm --cached) and let .gitignore keep it out", f)
		}
	}
}

// TestSalesforceSample loads the Salesforce connector's sample (the
// salesforce section of a configuration) with the configuration package,
// completed by the smallest rest of a file, so that the sample cannot
// document a key the configuration rejects, a value it refuses or a
// required key it lacks. It once documented seven keys that were Go
// options only.
func TestSalesforceSample(t *testing.T) {
	if !strings.HasPrefix(salesforce.Sample, "#") || !strings.Contains(salesforce.Sample, "\nsalesforce:\n") {
		t.Fatal("connector/salesforce/sample.yaml is not a commented salesforce section")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cases.csv"), []byte("Case ID,Stage\nTH-0001,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rest := `
version: 1
sources:
  cases: { kind: csv, path: cases.csv }
jobs:
  cases:
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID }
    fields:
      - { sf: vcms__Stage__c, local: Stage }
`
	env := map[string]string{"SF_CLIENT_ID": "3MVG9-synthetic-consumer-key"}
	cfg, err := config.Parse(filepath.Join(dir, "casebridge.yaml"), []byte(salesforce.Sample+rest), config.Options{
		Getenv:  func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		BaseDir: dir,
	})
	if err != nil {
		t.Fatalf("connector/salesforce/sample.yaml does not load (line numbers are the sample's):\n%v", err)
	}
	for _, w := range cfg.Warnings {
		t.Errorf("connector/salesforce/sample.yaml: %v", w)
	}
	// The sample shows the flow the README recommends, with its keys.
	if cfg.Salesforce.Auth.Flow != config.AuthFlow("jwt") || cfg.Salesforce.Auth.ClientID != env["SF_CLIENT_ID"] {
		t.Errorf("sample's auth = %+v, want the jwt flow with ${SF_CLIENT_ID}", cfg.Salesforce.Auth)
	}
}
