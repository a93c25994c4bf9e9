package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/casebridge/casebridge/report"
	"github.com/casebridge/casebridge/schedules"
)

// writeReport writes a run's report to path, in the format its extension
// names: .html for people, .json for machines, .csv for the per-record
// errors (Data Loader's error file, without values). Reports hold no
// record values.
func writeReport(path string, res *schedules.JobResult, opts schedules.RunOptions, showClasses []string, runErr error) error {
	mode := report.ModeApply
	switch {
	case opts.DryRun && opts.Full:
		mode = report.ModeCompare
	case opts.DryRun:
		mode = report.ModeDryRun
	}
	ropt := report.Options{Mode: mode, Start: res.Start, End: res.End, Err: runErr, Job: res.Engine, Unreadable: res.Unreadable}
	for _, e := range res.MappingErrors {
		ropt.Unmapped = append(ropt.Unmapped, e)
	}
	if res.Values != nil {
		ropt.Values = res.Values.Get
		ropt.ShowValues = true
		ropt.ShowClasses = showClasses
	}
	if u := res.Usage; u != nil && u.Limit > 0 {
		left := int(u.Limit - u.Used)
		ropt.APICallsLeft = &left
	}
	rep := report.FromResult(res.Job, res.Result, ropt)
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		err = report.WriteHTML(&buf, rep)
	case ".json":
		err = report.WriteJSON(&buf, rep)
	case ".csv":
		err = report.WriteErrorsCSV(&buf, rep)
	default:
		return fmt.Errorf("%s: name the format with the extension: .html, .json or .csv", path)
	}
	if err != nil {
		return err
	}
	// Reports name record keys (and with --show-values hold values):
	// readable by their owner only, also when they replace a file that
	// others could read (opening an existing file keeps its mode).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reportFlags are --report, --show-values and --show-classes.
type reportFlags struct {
	paths   []string
	show    bool
	classes []string
}

func (v *reportFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&v.paths, "report", nil, "write a report of each run: FILE.html (for people), FILE.json (for machines) or FILE.csv (the per-record errors); repeat for several")
	f.BoolVar(&v.show, "show-values", false, "with --dry-run and --report: show the values that would change, masking direct, quasi and sensitive fields")
	f.StringSliceVar(&v.classes, "show-classes", nil, "with --show-values: also show fields of these classes (direct, quasi, sensitive)")
}

// apply checks the flags and sets opts for them.
func (v *reportFlags) apply(opts *schedules.RunOptions) error {
	if !v.show {
		if len(v.classes) > 0 {
			return usageErrorf("--show-classes needs --show-values")
		}
		return nil
	}
	if !opts.DryRun {
		return usageErrorf("--show-values needs --dry-run: values are read for a preview, before anything is written")
	}
	if len(v.paths) == 0 {
		return usageErrorf("--show-values needs --report FILE: values are shown in reports only, never in the terminal or logs")
	}
	for _, c := range v.classes {
		switch c {
		case "direct", "quasi", "sensitive":
		default:
			return usageErrorf("--show-classes: %q is not one of direct, quasi, sensitive", c)
		}
	}
	opts.CaptureValues = true
	return nil
}

// reportPathFor puts a job's name into a report path when a command runs
// several jobs: report.html -> report-th_cases.html.
func reportPathFor(path, job string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + job + ext
}
