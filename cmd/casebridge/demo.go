package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
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
  4. corrects the sheet's one cell that did not map, and syncs it,
  5. syncs once more: nothing has changed, so nothing is written.

The folder keeps the configuration, the spreadsheets as casebridge left them,
the state store (fingerprints, never values), the fingerprint key, and the
fake org's records (fake-org.json): 'casebridge fakeorg --port PORT --data
FOLDER/fake-org.json', as the demo prints at its end, serves them again at
the configuration's address, so the folder can be synced on afterwards.
Every name and number in it is invented.

The demo logs only warnings unless --log-level is given: what it prints
explains each step instead.`,
		Example: `  casebridge demo
  casebridge demo --dir ./casebridge-demo`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flag("log-level"); f == nil || !f.Changed {
				// The run log (run starting, lookups, timings) is for
				// operators; the demo explains its steps itself.
				a.log = a.log.Level(zerolog.WarnLevel)
			}
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
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // the commands printed at the end work from any folder
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
	fmt.Fprintf(out, demoIntro, url, dir)

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

	// What the runs print goes through a filter that explains the sheet's
	// deliberate bad cell the first time and does not repeat it.
	filter := &demoOutput{w: out}
	a.stdout = filter
	defer func() { a.stdout = out }()
	run := func(jobs []string, opts schedules.RunOptions, plan bool, reports reportFlags) error {
		if err := a.runJobs(ctx, r, jobs, opts, plan, reports); err != nil && !isFindings(err) {
			return err
		}
		return nil
	}
	step := func(n int, title string) { fmt.Fprintf(out, "\n%d. %s\n", n, title) }

	step(1, "Plan the first sync (a dry run: nothing is written)")
	if err := run(jobs, schedules.RunOptions{DryRun: true}, true, reportFlags{}); err != nil {
		return err
	}
	step(2, "Sync: new cases and stipends go to Salesforce, its details come back")
	if err := run(jobs, schedules.RunOptions{}, false, reportFlags{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "   Salesforce now holds %d cases and %d assistance (stipend) records.\n",
		len(org.Records("vcms__Survivor_Case__c")), len(org.Records("vcms__Assistance__c")))

	step(3, "A caseworker closes TH-CL-0008 in the Thai sheet, and someone moves\n   TH-CL-0007 to Follow_Up in Salesforce: sync the Thai office's job")
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
	if err := run([]string{"th_cases"}, schedules.RunOptions{}, true, reportFlags{paths: []string{filepath.Join(dir, "report.html"), filepath.Join(dir, "report.json")}}); err != nil {
		return err
	}
	if c, ok := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-th-cm:TH-CL-0008"); ok {
		fmt.Fprintf(out, "   TH-CL-0008 in Salesforce: stage %v. TH-CL-0007 in th_tracker.csv: the\n   sheet's own word for Follow_Up (a values map translates both ways).\n", c.Fields["vcms__Stage__c"])
	}

	step(4, "The Bangladesh office corrects BD-REM-0013's Gender cell (the one not\n   mapped in step 1): sync its job")
	if err := editCell(filepath.Join(dir, "bd_cases.csv"), "BD-REM-0013", "'মহিলা '", "মহিলা"); err != nil {
		return err
	}
	if err := run([]string{"bd_cases"}, schedules.RunOptions{}, true, reportFlags{}); err != nil {
		return err
	}

	step(5, "Sync again: nothing changed on either side, so nothing is written")
	org.ResetRequests()
	if err := run(jobs, schedules.RunOptions{}, false, reportFlags{}); err != nil {
		return err
	}
	writes := 0
	for _, e := range org.Requests() {
		if e.Method != http.MethodGet && !e.ReadOnly && !strings.HasPrefix(e.Endpoint, "oauth") {
			writes++
		}
	}
	fmt.Fprintf(out, "   write calls to Salesforce in this run: %d\n", writes)

	// The folder's configuration names this org's address: keep what the
	// org holds, so that `fakeorg --data` can serve it there again.
	data := filepath.Join(dir, demoOrgFile)
	if err := saveOrgData(org, data); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Fprintf(out, demoOutro, dir, demoOrgFile, port, data, filepath.Join(dir, "casebridge.yaml"))
	return nil
}

// demoOrgFile is the file in the demo's folder holding the fake org's
// records as the demo left them.
const demoOrgFile = "fake-org.json"

const demoIntro = `casebridge demo: a first look, on invented data

casebridge keeps case records in step between a Salesforce org and the
spreadsheets that field offices keep. Here it runs against a fake Salesforce
org on this computer, so nothing real is touched:
  %s
and against three invented field offices' files, written with their
configuration into a folder:
  %s
    th_tracker.csv     a Thai case tracker
    bd_cases.csv       a Bangladeshi sheet, with Bengali digits
    kh_register.xlsx   a Cambodian Excel register
    casebridge.yaml    what maps to what: one job per office

How to read what follows. "local" is an office's sheet, "salesforce" the org.
A record's key is the sheet's case ID after the office's prefix
(ngo-th-cm:TH-CL-0007). A plan has one line per record a run would change:
  create salesforce KEY: new on local [FIELDS]  only the sheet has the case:
                                                create it with these fields
  update local KEY: FIELD (REASON)              write FIELD into the sheet
At a first sync a reason starts with "initial:", the rule for a field both
sides hold (local_wins: the sheet is right; one-way from local: the sheet
alone writes it) or "fills null" (one side was empty). Each job then counts
what it did (flagged: held for a person to confirm; unknown: rows it could
not read or match), and how many records it read and wrote on each side.
`

const demoOutro = `
The demo is over. Its fake org stopped with it; what the org held at the end
is saved in the folder, beside the rest:
  %s
    casebridge.yaml    the configuration
    *.csv, *.xlsx      the offices' files, as casebridge left them
    casebridge.db      the state store: fingerprints and run history, no values
    keys/              the key of those fingerprints
    report.html        step 3's report, for people (report.json for machines)
    %-18s the fake org's records

To go on with this folder, start the fake org again at the same address (it
serves until Ctrl-C, and keeps its records in that file):
  casebridge fakeorg --port %s --data %s
then, in another terminal, edit a sheet and see what a sync would write:
  casebridge sync %s --dry-run
`

// demoOutput passes the runs' output through, line by line, and explains
// a mapping error the first time it appears: the demo's Bangladeshi sheet
// holds a Gender cell its rule does not map, on purpose, and a newcomer
// should not see the same unexplained line in every step.
type demoOutput struct {
	w    io.Writer
	buf  []byte
	seen map[string]bool
}

func (d *demoOutput) Write(p []byte) (int, error) {
	d.buf = append(d.buf, p...)
	for {
		i := bytes.IndexByte(d.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(d.buf[:i+1])
		d.buf = d.buf[i+1:]
		if err := d.line(line); err != nil {
			return len(p), err
		}
	}
}

func (d *demoOutput) line(l string) error {
	if !strings.HasPrefix(l, "  not mapped: ") {
		_, err := io.WriteString(d.w, l)
		return err
	}
	if d.seen[l] {
		_, err := io.WriteString(d.w, "  not mapped: the same cell as in step 1 (explained there)\n")
		return err
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[l] = true
	if _, err := io.WriteString(d.w, l); err != nil {
		return err
	}
	if len(d.seen) > 1 {
		return nil
	}
	_, err := io.WriteString(d.w, demoNotMapped)
	return err
}

const demoNotMapped = `    What this means: the Gender cell of row BD-REM-0013 in bd_cases.csv is
    none of the words the field's rule translates (its values map, in
    casebridge.yaml at the line named above). The demo's sheet has it on
    purpose: sheets typed by hand hold such cells. casebridge does not guess:
    it leaves that one field out (the rest of the case syncs), reports it on
    every run by key and column, and never prints the cell itself.
    To fix it, correct the cell in the sheet (step 4 does), or, when the
    office really writes it that way, add that spelling to the rule's map:
      values: { ..., <the cell's spelling>: <its Salesforce value> }
`

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
