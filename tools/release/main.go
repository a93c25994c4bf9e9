package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets are the platforms a release is built for, as GOOS/GOARCH.
var Targets = []string{
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"windows/amd64", "windows/arm64",
}

// Options say what to build.
type Options struct {
	Root     string    // the repository (holds go.mod)
	Out      string    // where the files go
	Version  string    // v1.2.3 or v1.2.3-rc.1
	Commit   string    // a git SHA, with -dirty for a changed work tree
	Date     time.Time // the build date stamped in and given to every file
	Targets  []string  // GOOS/GOARCH
	Packages bool      // .deb and .rpm for linux targets
	Log      io.Writer // progress lines
}

// semverRE is the version form packages accept (a leading v, then
// MAJOR.MINOR.PATCH with an optional pre-release of dot-separated words).
var semverRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "folder for the archives, packages and checksums (created; files of the same names are replaced)")
	only := fs.String("only", "", "build only these platforms, comma-separated GOOS/GOARCH (of "+strings.Join(Targets, ", ")+")")
	version := fs.String("version", "", "version to stamp, such as v1.2.0 (default: the tag on HEAD, else v0.0.0-dev.gSHORTSHA)")
	commit := fs.String("commit", "", "commit to stamp (default: HEAD, -dirty if the work tree has changes)")
	date := fs.String("date", "", "build date to stamp, RFC 3339 (default: $SOURCE_DATE_EPOCH, else HEAD's commit time)")
	packages := fs.Bool("packages", true, "also make .deb and .rpm packages for linux platforms")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./tools/release [--only GOOS/GOARCH,...] [--out DIR] [--version vX.Y.Z] [--packages=false]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	opt := Options{Root: root, Out: *out, Version: *version, Commit: *commit, Packages: *packages, Log: stderr}
	if opt.Targets, err = parseTargets(*only); err != nil {
		return err
	}
	if err := fillFromGit(ctx, &opt, *date); err != nil {
		return err
	}
	if !semverRE.MatchString(opt.Version) {
		return fmt.Errorf("version %q is not of the form v1.2.3 or v1.2.3-rc.1 (packages need it)", opt.Version)
	}
	if !filepath.IsAbs(opt.Out) {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		opt.Out = filepath.Join(wd, opt.Out)
	}
	start := time.Now()
	files, err := Release(ctx, opt, goBuild)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "release: %s (commit %s, %s): %d files in %s, %.1fs\n",
		opt.Version, opt.Commit, opt.Date.Format(time.RFC3339), len(files), opt.Out, time.Since(start).Seconds())
	for _, f := range files {
		fmt.Fprintln(stderr, "  "+filepath.Base(f))
	}
	return nil
}

func parseTargets(only string) ([]string, error) {
	if strings.TrimSpace(only) == "" {
		return slices.Clone(Targets), nil
	}
	var ts []string
	for t := range strings.SplitSeq(only, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(Targets, t) {
			return nil, fmt.Errorf("--only: %q is not one of %s", t, strings.Join(Targets, ", "))
		}
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// repoRoot is the folder of the main module's go.mod.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the casebridge repository (no go.mod found)")
	}
	return filepath.Dir(gomod), nil
}

// fillFromGit sets the version, commit and date that were not given.
func fillFromGit(ctx context.Context, opt *Options, date string) error {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = opt.Root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	if opt.Commit == "" {
		head, err := git("rev-parse", "HEAD")
		if err != nil {
			return fmt.Errorf("the commit (or give --commit): %w", err)
		}
		status, err := git("status", "--porcelain")
		if err != nil {
			return err
		}
		opt.Commit = head
		if status != "" {
			opt.Commit += "-dirty"
			fmt.Fprintln(opt.Log, "release: warning: the work tree has changes that are not committed; the commit is stamped with -dirty")
		}
	}
	if opt.Version == "" {
		if tag, err := git("describe", "--tags", "--exact-match", "HEAD"); err == nil && semverRE.MatchString(tag) && !strings.HasSuffix(opt.Commit, "-dirty") {
			opt.Version = tag
		} else {
			short, _, _ := strings.Cut(opt.Commit, "-")
			opt.Version = "v0.0.0-dev.g" + short[:min(7, len(short))]
		}
	}
	switch {
	case date != "":
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return fmt.Errorf("--date: %w", err)
		}
		opt.Date = t.UTC()
	case os.Getenv("SOURCE_DATE_EPOCH") != "":
		sec, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		opt.Date = time.Unix(sec, 0).UTC()
	default:
		ct, err := git("log", "-1", "--format=%ct", "HEAD")
		if err != nil {
			return fmt.Errorf("the date (or give --date): %w", err)
		}
		sec, err := strconv.ParseInt(ct, 10, 64)
		if err != nil {
			return fmt.Errorf("HEAD's commit time %q: %w", ct, err)
		}
		opt.Date = time.Unix(sec, 0).UTC()
	}
	return nil
}

// A BuildFunc builds the casebridge binary for one target into dst.
type BuildFunc func(ctx context.Context, opt Options, goos, goarch, dst string) error

// LDFlags are the linker flags that stamp the build; the variables are
// cmd/casebridge/version.go's.
func LDFlags(opt Options) string {
	return strings.Join([]string{
		"-s", "-w",
		"-X", "main.version=" + opt.Version,
		"-X", "main.commit=" + opt.Commit,
		"-X", "main.date=" + opt.Date.Format(time.RFC3339),
	}, " ")
}

// goBuild runs go build for one target: static (no cgo), paths trimmed,
// stamped.
func goBuild(ctx context.Context, opt Options, goos, goarch, dst string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", LDFlags(opt), "-o", dst, "./cmd/casebridge")
	cmd.Dir = opt.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	cmd.Stdout, cmd.Stderr = opt.Log, opt.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s/%s: %w", goos, goarch, err)
	}
	if goos == runtime.GOOS && goarch == runtime.GOARCH {
		return checkStamp(ctx, opt, dst)
	}
	return nil
}

// checkStamp runs the binary's version command and checks it names the
// version, commit and date stamped in.
func checkStamp(ctx context.Context, opt Options, bin string) error {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", bin, err)
	}
	line := strings.TrimSpace(string(out))
	short, dirty := strings.CutSuffix(opt.Commit, "-dirty")
	short = short[:min(12, len(short))]
	if dirty {
		short += "-dirty"
	}
	for _, want := range []string{"casebridge " + opt.Version + " ", " commit " + short, " built " + opt.Date.Format(time.RFC3339)} {
		if !strings.Contains(line, want) {
			return fmt.Errorf("the binary's version line %q lacks %q: the -X stamps do not reach cmd/casebridge/version.go", line, strings.TrimSpace(want))
		}
	}
	fmt.Fprintf(opt.Log, "release: %s\n", line)
	return nil
}
