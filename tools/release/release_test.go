package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testOptions(t *testing.T, targets ...string) Options {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Root:     root,
		Out:      t.TempDir(),
		Version:  "v1.2.3",
		Commit:   "0123456789abcdef0123456789abcdef01234567",
		Date:     time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
		Targets:  targets,
		Packages: true,
		Log:      io.Discard,
	}
}

// fakeBuild writes a stand-in binary naming its platform and stamps, so
// the tests check packing without compiling casebridge.
func fakeBuild(_ context.Context, opt Options, goos, goarch, dst string) error {
	return os.WriteFile(dst, []byte("binary "+goos+"/"+goarch+" "+LDFlags(opt)), 0o755)
}

// TestRelease: every target gets its archive (zip for Windows), linux ones
// a .deb and an .rpm, and the checksums file lists them all with their
// SHA-256, sorted, in sha256sum's format.
func TestRelease(t *testing.T) {
	opt := testOptions(t, "linux/arm64", "windows/amd64", "darwin/arm64")
	files, err := Release(context.Background(), opt, fakeBuild)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{
		"casebridge_1.2.3_linux_arm64.tar.gz",
		"casebridge_1.2.3-1_arm64.deb",
		"casebridge-1.2.3-1.aarch64.rpm",
		"casebridge_1.2.3_windows_amd64.zip",
		"casebridge_1.2.3_darwin_arm64.tar.gz",
		"casebridge_1.2.3_checksums.txt",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files:\n got %q\nwant %q", names, want)
	}

	sums, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n")
	if len(lines) != len(files)-1 {
		t.Fatalf("checksums has %d lines for %d files:\n%s", len(lines), len(files)-1, sums)
	}
	var listed []string
	for _, l := range lines {
		sum, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("checksum line %q is not 'HEX  NAME'", l)
		}
		data, err := os.ReadFile(filepath.Join(opt.Out, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: checksum %s is not the file's", name, sum)
		}
		listed = append(listed, name)
	}
	if !slices.IsSorted(listed) {
		t.Errorf("checksums not sorted by name: %q", listed)
	}
}

// TestArchives: an archive holds one folder named like it, with the binary
// (executable), LICENSE and README.md, every entry dated with the build
// date.
func TestArchives(t *testing.T) {
	opt := testOptions(t, "darwin/amd64", "windows/arm64")
	opt.Packages = false
	if _, err := Release(context.Background(), opt, fakeBuild); err != nil {
		t.Fatal(err)
	}

	tgz := readTarGz(t, filepath.Join(opt.Out, "casebridge_1.2.3_darwin_amd64.tar.gz"))
	dir := "casebridge_1.2.3_darwin_amd64/"
	if got := sortedKeys(tgz); !slices.Equal(got, []string{dir, dir + "LICENSE", dir + "README.md", dir + "casebridge"}) {
		t.Errorf("tar.gz entries %q", got)
	}
	bin := tgz[dir+"casebridge"]
	if bin.mode != 0o755 || !strings.HasPrefix(string(bin.data), "binary darwin/amd64 ") {
		t.Errorf("binary: mode %o, data %q", bin.mode, bin.data)
	}
	license, _ := os.ReadFile(filepath.Join(opt.Root, "LICENSE"))
	if !bytes.Equal(tgz[dir+"LICENSE"].data, license) || len(license) == 0 {
		t.Error("LICENSE is not the repository's")
	}
	for name, e := range tgz {
		if !e.mtime.Equal(opt.Date) {
			t.Errorf("%s dated %v, want the build date", name, e.mtime)
		}
	}

	zr, err := zip.OpenReader(filepath.Join(opt.Out, "casebridge_1.2.3_windows_arm64.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var zipNames []string
	for _, f := range zr.File {
		zipNames = append(zipNames, f.Name)
		if !f.Modified.Equal(opt.Date) {
			t.Errorf("%s dated %v", f.Name, f.Modified)
		}
	}
	zdir := "casebridge_1.2.3_windows_arm64/"
	if !slices.Equal(zipNames, []string{zdir + "casebridge.exe", zdir + "LICENSE", zdir + "README.md"}) {
		t.Errorf("zip entries %q", zipNames)
	}
}

// TestReproducible: two releases of the same commit and date are the same
// bytes, packages included (nothing of the machine or the hour gets in).
func TestReproducible(t *testing.T) {
	a := testOptions(t, "linux/amd64")
	b := a
	b.Out = t.TempDir()
	for _, o := range []Options{a, b} {
		if _, err := Release(context.Background(), o, fakeBuild); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // a second apart, so a clock read would show
	}
	sa, _ := os.ReadFile(filepath.Join(a.Out, "casebridge_1.2.3_checksums.txt"))
	sb, _ := os.ReadFile(filepath.Join(b.Out, "casebridge_1.2.3_checksums.txt"))
	if len(sa) == 0 || !bytes.Equal(sa, sb) {
		t.Errorf("two builds differ:\n%s\n%s", sa, sb)
	}
}

// TestDeb: the .deb installs the binary, the repository's systemd unit and
// sysusers file (named in the unit as installed), the docs and sample
// configuration, and /etc/casebridge (0750); its maintainer scripts create
// the user and its state folder and never start the service.
func TestDeb(t *testing.T) {
	opt := testOptions(t, "linux/amd64")
	if _, err := Release(context.Background(), opt, fakeBuild); err != nil {
		t.Fatal(err)
	}
	members := readAr(t, filepath.Join(opt.Out, "casebridge_1.2.3-1_amd64.deb"))
	if string(members["debian-binary"]) != "2.0\n" {
		t.Errorf("debian-binary %q", members["debian-binary"])
	}
	data := tarGzEntries(t, members["data.tar.gz"])
	unit, _ := os.ReadFile(filepath.Join(opt.Root, "deploy/systemd/casebridge.service"))
	sysusers, _ := os.ReadFile(filepath.Join(opt.Root, "deploy/systemd/casebridge.sysusers"))
	for path, want := range map[string][]byte{
		"./usr/lib/systemd/system/casebridge.service": unit,
		"./usr/lib/sysusers.d/casebridge.conf":        sysusers,
	} {
		if e, ok := data[path]; !ok || !bytes.Equal(e.data, want) || e.mode != 0o644 {
			t.Errorf("%s: present %v, mode %o, same as the repository's %v", path, ok, e.mode, bytes.Equal(e.data, want))
		}
	}
	if e := data["./usr/bin/casebridge"]; e.mode != 0o755 || !strings.HasPrefix(string(e.data), "binary linux/amd64 ") {
		t.Errorf("/usr/bin/casebridge: mode %o, data %q", e.mode, e.data)
	}
	if e, ok := data["./etc/casebridge/"]; !ok || e.mode != 0o750 {
		t.Errorf("/etc/casebridge: present %v, mode %o", ok, e.mode)
	}
	for _, p := range []string{"./usr/share/doc/casebridge/LICENSE", "./usr/share/doc/casebridge/README.md", "./usr/share/doc/casebridge/examples/sample.yaml"} {
		if _, ok := data[p]; !ok {
			t.Errorf("%s missing; entries %q", p, sortedKeys(data))
		}
	}
	// The unit's comment names the sysusers file where the package puts it.
	if !bytes.Contains(unit, []byte(pkgSysusers)) {
		t.Errorf("the unit's comment does not name the sysusers file as installed, %s", pkgSysusers)
	}
	control := tarGzEntries(t, members["control.tar.gz"])
	post := string(control["./postinst"].data)
	if !strings.Contains(post, "systemd-sysusers /usr/lib/sysusers.d/casebridge.conf") || !strings.Contains(post, "useradd --system") {
		t.Errorf("postinst does not create the casebridge user:\n%s", post)
	}
	// The state folder exists before the service first starts, so that
	// validate, run as casebridge, finds where the state store goes.
	if !strings.Contains(post, "install -d -m 0700 -o casebridge -g casebridge /var/lib/casebridge") {
		t.Errorf("postinst does not make /var/lib/casebridge for the casebridge user:\n%s", post)
	}
	if strings.Contains(post, "systemctl enable") || strings.Contains(post, "systemctl start") {
		t.Errorf("postinst starts or enables the service before there is a configuration:\n%s", post)
	}
	ctl := string(control["./control"].data)
	for _, want := range []string{"Package: casebridge\n", "Version: 1.2.3-1\n", "Architecture: amd64\n"} {
		if !strings.Contains(ctl, want) {
			t.Errorf("control lacks %q:\n%s", want, ctl)
		}
	}
}

// TestRPM: the .rpm is an RPM (its lead) for the right architecture.
func TestRPM(t *testing.T) {
	opt := testOptions(t, "linux/arm64")
	if _, err := Release(context.Background(), opt, fakeBuild); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(opt.Out, "casebridge-1.2.3-1.aarch64.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0xed, 0xab, 0xee, 0xdb}) {
		t.Fatalf("no RPM lead: % x", data[:4])
	}
	// The header names each file as a folder and a base name.
	for _, want := range []string{"/usr/bin/", "/usr/lib/systemd/system/", "casebridge.service", "/usr/lib/sysusers.d/", "systemd-sysusers"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("rpm does not name %q", want)
		}
	}
}

// TestLDFlagsStampVersionGo: the variables the linker flags set exist, as
// strings, in package main of cmd/casebridge/version.go.
func TestLDFlagsStampVersionGo(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../cmd/casebridge/version.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			for i, n := range s.(*ast.ValueSpec).Names {
				if vs := s.(*ast.ValueSpec); len(vs.Values) > i {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						vars[n.Name] = true
					}
				}
			}
		}
	}
	fields := strings.Fields(LDFlags(testOptions(t)))
	n := 0
	for i, fl := range fields {
		if fl != "-X" {
			continue
		}
		n++
		name, _, _ := strings.Cut(strings.TrimPrefix(fields[i+1], "main."), "=")
		if !vars[name] {
			t.Errorf("-X %s: cmd/casebridge/version.go has no string variable %s", fields[i+1], name)
		}
	}
	if f.Name.Name != "main" || n != 3 {
		t.Errorf("package %s, %d -X flags", f.Name.Name, n)
	}
}

// TestCheckStamp: the check of the built binary accepts a version line
// naming the stamps and refuses one without them.
func TestCheckStamp(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the binary")
	}
	opt := testOptions(t)
	script := func(line string) string {
		p := filepath.Join(t.TempDir(), "casebridge")
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+strconv.Quote(line)+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := script("casebridge v1.2.3 linux/amd64 go1.26.0 commit 0123456789ab built 2026-05-01T10:00:00Z")
	if err := checkStamp(context.Background(), opt, good); err != nil {
		t.Errorf("stamped binary refused: %v", err)
	}
	for _, line := range []string{
		"casebridge dev linux/amd64 go1.26.0",
		"casebridge v1.2.3 linux/amd64 go1.26.0 built 2026-05-01T10:00:00Z",
		"casebridge v1.2.3 linux/amd64 go1.26.0 commit 0123456789ab",
	} {
		if err := checkStamp(context.Background(), opt, script(line)); err == nil {
			t.Errorf("accepted %q", line)
		}
	}
}

func TestParseTargets(t *testing.T) {
	if got, err := parseTargets(""); err != nil || len(got) != 6 {
		t.Errorf("all: %q %v", got, err)
	}
	if got, err := parseTargets("linux/amd64, windows/arm64,linux/amd64"); err != nil || !slices.Equal(got, []string{"linux/amd64", "windows/arm64"}) {
		t.Errorf("two: %q %v", got, err)
	}
	if _, err := parseTargets("linux/386"); err == nil || !strings.Contains(err.Error(), "darwin/arm64") {
		t.Errorf("linux/386: %v (want the allowed platforms listed)", err)
	}
}

func TestVersionForm(t *testing.T) {
	for _, v := range []string{"v1.2.3", "v0.0.0-dev.g970c55c", "v2.0.0-rc.1"} {
		if !semverRE.MatchString(v) {
			t.Errorf("%s refused", v)
		}
	}
	for _, v := range []string{"1.2.3", "v1.2", "v01.2.3", "v1.2.3-", "970c55c", "v1.2.3 "} {
		if semverRE.MatchString(v) {
			t.Errorf("%q accepted", v)
		}
	}
}

type entry struct {
	mode  int64
	mtime time.Time
	data  []byte
}

func readTarGz(t *testing.T, path string) map[string]entry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tarGzEntries(t, data)
}

func tarGzEntries(t *testing.T, data []byte) map[string]entry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = entry{mode: h.Mode & 0o7777, mtime: h.ModTime, data: b}
	}
}

// readAr reads a Debian package's ar members by name.
func readAr(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("!<arch>\n")) {
		t.Fatalf("%s is not an ar archive", path)
	}
	out := map[string][]byte{}
	for p := 8; p+60 <= len(data); {
		h := data[p : p+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(h[48:58])))
		if err != nil {
			t.Fatalf("ar member %s: size %q", name, h[48:58])
		}
		p += 60
		out[name] = data[p : p+size]
		p += size + size%2
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
