package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/fixtures"
	"github.com/casebridge/casebridge/schedules"
)

func (a *app) demoCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run casebridge end to end on synthetic data: a fake org and three field offices' files",
		Long: `Run casebridge end to end with nothing to set up: it starts the fake
Salesforce org (the synthetic vcms__ case-management schema, on 127.0.0.1),
writes three field offices' files (a Thai tracker CSV, a Bengali CSV with
Bengali digits, a Khmer Excel register) and a configuration into a folder,
and then:

  1. plans a first sync without writing anything (a dry run),
  2. syncs: cases and their stipends go to Salesforce, and back,
  3. edits a case in the sheet and another in Salesforce, and syncs again:
     each edit goes to the other side,
  4. syncs once more: nothing has changed, so nothing is written.

The folder keeps the configuration, the spreadsheets as casebridge left them,
the state store (fingerprints, never values) and the fingerprint key. Every
name and number in it is invented.`,
		Example: `  casebridge demo
  casebridge demo --dir ./casebridge-demo`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context(), dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo's files (default: a new temporary folder)")
	return cmd
}

func (a *app) demo(ctx context.Context, dir string) error {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "casebridge-demo-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return usageErrorf("demo: %s is not empty; name a new folder with --dir", dir)
	}

	org := sftest.New(sftest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: org.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	if err := writeDemoFiles(dir, url); err != nil {
		return err
	}
	out := a.stdout
	fmt.Fprintf(out, "casebridge demo\n  fake Salesforce org: %s (synthetic vcms__ cases)\n  folder:              %s\n\n", url, dir)

	cfg, err := a.loadConfig(filepath.Join(dir, "casebridge.yaml"))
	if err != nil {
		return err
	}
	r, err := schedules.Open(ctx, cfg, a.log)
	if err != nil {
		return err
	}
	defer r.Close()
	jobs := cfg.JobNames()

	step := func(n int, title string) { fmt.Fprintf(out, "\n%d. %s\n", n, title) }
	step(1, "Plan the first sync (dry run: nothing is written)")
	if err := a.runJobs(ctx, r, jobs, schedules.RunOptions{DryRun: true}, true, reportFlags{}); err != nil && !isFindings(err) {
		return err
	}
	step(2, "Sync")
	if err := a.runJobs(ctx, r, jobs, schedules.RunOptions{}, false, reportFlags{}); err != nil && !isFindings(err) {
		return err
	}
	fmt.Fprintf(out, "   Salesforce now holds %d cases and %d assistance records.\n",
		len(org.Records("vcms__Survivor_Case__c")), len(org.Records("vcms__Assistance__c")))

	step(3, "A caseworker closes TH-CL-0008 in the sheet; someone moves TH-CL-0007 to Follow_Up in Salesforce")
	if err := editCell(filepath.Join(dir, "th_tracker.csv"), "TH-CL-0008", "ติดตามผล", "ปิดเคส"); err != nil {
		return err
	}
	sink, ok := r.Salesforce.(connector.Sink)
	if !ok {
		return errors.New("demo: the Salesforce connector cannot write")
	}
	edit := connector.Record{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Follow_Up")}}
	if res, err := sink.Upsert(ctx, "vcms__Survivor_Case__c", []connector.Record{edit}); err != nil || res[0].Err != nil {
		return fmt.Errorf("demo: edit in Salesforce: %v", errors.Join(err, res[0].Err))
	}
	if err := a.runJobs(ctx, r, []string{"th_cases"}, schedules.RunOptions{}, true, reportFlags{paths: []string{filepath.Join(dir, "report.html"), filepath.Join(dir, "report.json")}}); err != nil && !isFindings(err) {
		return err
	}
	if c, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0008"); ok {
		fmt.Fprintf(out, "   TH-CL-0008 in Salesforce: stage %v\n", c.Fields["vcms__Stage__c"])
	}

	step(4, "Sync again: nothing changed, so nothing is written")
	org.ResetRequests()
	if err := a.runJobs(ctx, r, jobs, schedules.RunOptions{}, false, reportFlags{}); err != nil && !isFindings(err) {
		return err
	}
	writes := 0
	for _, e := range org.Requests() {
		if e.Method != http.MethodGet && !e.ReadOnly && !strings.HasPrefix(e.Endpoint, "oauth") {
			writes++
		}
	}
	fmt.Fprintf(out, "   write calls to Salesforce in this run: %d\n", writes)

	fmt.Fprintf(out, "\nThe files are in %s:\n  casebridge.yaml   the configuration (casebridge validate it)\n  th_tracker.csv    the Thai sheet as casebridge left it\n  casebridge.db     the state store: fingerprints and run history, no values\n  report.html       the report of step 3, for people (report.json for machines)\n", dir)
	return nil
}

// isFindings reports whether err only says that some records failed (the
// run itself completed).
func isFindings(err error) bool { return exitCode(err) == exitFindings }

// writeDemoFiles writes the demo's configuration and spreadsheets into dir.
func writeDemoFiles(dir, url string) error {
	err := fs.WalkDir(fixtures.Demo, "demo", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fixtures.Demo.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		if name == "demo.yaml" {
			name = "casebridge.yaml"
			data = bytes.ReplaceAll(data, []byte("{{ORG_URL}}"), []byte(url))
		}
		return os.WriteFile(filepath.Join(dir, name), data, 0o600)
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "fake-org.secret"), []byte(sftest.DefaultClientSecret+"\n"), 0o600)
}

// editCell replaces a cell's text on the row holding key, as a person
// editing the file would.
func editCell(path, key, from, to string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	for i, l := range lines {
		if strings.Contains(l, ","+key+",") && strings.Contains(l, ","+from+",") {
			lines[i] = strings.Replace(l, ","+from+",", ","+to+",", 1)
			return os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
		}
	}
	return fmt.Errorf("demo: no row %s with that cell in %s", key, path)
}
