package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/casebridge/casebridge/report"
	"github.com/casebridge/casebridge/schedules"
)

// writeReport writes a run's report to path, in the format its extension
// names: .html for people, .json for machines, .csv for the per-record
// errors (Data Loader's error file, without values). Reports hold no
// record values.
func writeReport(path string, res *schedules.JobResult, opts schedules.RunOptions, runErr error) error {
	mode := report.ModeApply
	switch {
	case opts.DryRun && opts.Full:
		mode = report.ModeCompare
	case opts.DryRun:
		mode = report.ModeDryRun
	}
	ropt := report.Options{Mode: mode, Start: res.Start, End: res.End, Err: runErr, Job: res.Engine}
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
	// Reports name record keys: readable by their owner only.
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// reportPathFor puts a job's name into a report path when a command runs
// several jobs: report.html -> report-th_cases.html.
func reportPathFor(path, job string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + job + ext
}
