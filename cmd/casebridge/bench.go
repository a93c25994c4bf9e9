package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/schedules"
)

func (a *app) benchCommand() *cobra.Command {
	var (
		sizes      []int
		latency    time.Duration
		cpuprofile string
		dir        string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure sync runs of 10,000 and 100,000 synthetic cases against the fake org",
		Long: `Measure what a sync costs: start the fake Salesforce org in this process,
with a latency added to every request, and for each size write a CSV of that
many synthetic cases and a configuration into a temporary folder, then run the
job as casebridge sync does (the same configuration loading, state store and
connectors) through these scenarios:

  initial load      the CSV into an empty org
  first re-run      nothing edited; reads back what the load wrote
  no-op re-run      nothing edited
  1% changed        1% of the CSV's rows edited
  two-way           another 1% edited in the CSV and 1% edited in Salesforce

Runs are an hour apart on the org's clock, as a schedule has them. For each
run it prints the wall time, records per second (the job's records over the
wall time), the API calls the org received (the token request excluded) next
to the fewest the run's reads and writes could cost, the Salesforce records
the run read, the records written to each side, the process's CPU time, the
wall time during which the fake org was answering (latency excluded: when it
nears the wall time, the figure measures the fake org, not casebridge), and
the peak Go heap above the heap held before the run (sampled every 10 ms, the
fake org's included).

Every name and value is synthetic; the folders are removed afterwards
unless --dir is given.`,
		Example: `  casebridge bench
  casebridge bench --sizes 10000 --latency 0
  casebridge bench --sizes 100000 --cpuprofile bench.pprof`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range sizes {
				if n < 100 {
					return usageErrorf("bench: --sizes wants at least 100 records (1%% of it is edited): %d", n)
				}
			}
			if latency < 0 {
				return usageErrorf("bench: --latency cannot be negative")
			}
			log := a.log
			if !cmd.Flags().Changed("log-level") {
				log = log.Level(zerolog.WarnLevel) // the table is the output
			}
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			return runBench(cmd.Context(), a.stdout, log, benchOptions{sizes: sizes, latency: latency, dir: dir})
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&sizes, "sizes", []int{10000, 100000}, "numbers of records to run the scenarios with")
	f.DurationVar(&latency, "latency", 50*time.Millisecond, "added by the fake org to every request")
	f.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the whole bench (casebridge and the fake org) to this file")
	f.StringVar(&dir, "dir", "", "keep each size's folder (configuration, CSV, state store) under this folder")
	return cmd
}

type benchOptions struct {
	sizes   []int
	latency time.Duration
	dir     string
}

// benchRow is one measured run.
type benchRow struct {
	n        int
	scenario string
	wall     time.Duration
	calls    int           // data requests the org received (the token request excluded)
	min      int           // the fewest the run's reads and writes could cost
	read     int           // Salesforce records the run's queries returned
	toSF     int           // records written to Salesforce
	toLocal  int           // records written to the CSV
	cpu      time.Duration // the process's CPU time: casebridge and the fake org
	orgBusy  time.Duration // wall time the fake org was answering a request, latency excluded
	heap     uint64        // peak heap above the heap held before the run
	held     uint64        // heap held after the run (and a GC) above the heap before
}

// The job the bench runs: a two-way job of cases, keyed by a case code,
// with the kinds of fields offices keep (names, a coded value, a date, a
// picklist with local spellings, notes).
const benchConfig = `version: 1
salesforce:
  login_url: ORG_URL
  auth: { flow: client_credentials, client_id: ` + sftest.DefaultClientID + `, client_secret: ` + sftest.DefaultClientSecret + ` }
state: { driver: sqlite, dsn: casebridge.db }
fingerprint_key_file: keys/fingerprint.key  # in the bench's folder, removed with it
sources:
  cases: { kind: csv, path: cases.csv }
  export: { kind: csv, path: export.csv }
jobs:
  cases:
    direction: both
    conflict: salesforce_wins
    initial: local_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: cases, key: Case ID, key_prefix: "bench:" }
    fields:
      - { sf: vcms__Case_Code__c, local: Case ID, direction: to_salesforce }
      - { sf: vcms__First_Name__c, local: First name, pii: direct }
      - { sf: vcms__Last_Name__c, local: Last name, pii: direct }
      - { sf: vcms__Gender__c, local: Gender, pii: quasi, values: { F: Feminine, M: Masculine } }
      - { sf: vcms__Birthdate__c, local: Born, pii: direct, date: { formats: [2006-01-02] } }
      - { sf: vcms__Stage__c, local: Stage, values: { active: Active, follow up: Follow_Up, closed: Closed } }
      - { sf: vcms__Case_Notes__c, local: Notes, pii: sensitive }
  export:
    direction: from_salesforce
    initial: salesforce_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: export, key: Case ID, key_prefix: "bench:" }
    fields:
      - { sf: vcms__First_Name__c, local: First name, pii: direct }
      - { sf: vcms__Last_Name__c, local: Last name, pii: direct }
      - { sf: vcms__Gender__c, local: Gender, pii: quasi, values: { F: Feminine, M: Masculine } }
      - { sf: vcms__Birthdate__c, local: Born, pii: direct, date: { formats: [2006-01-02] } }
      - { sf: vcms__Stage__c, local: Stage, values: { active: Active, follow up: Follow_Up, closed: Closed } }
      - { sf: vcms__Case_Notes__c, local: Notes, pii: sensitive }
`

const (
	benchObject = "vcms__Survivor_Case__c"
	// bulkMinCalls is what one Bulk API 2.0 ingest job costs at the
	// least: create, upload, close, one status check, the successful and
	// the failed results.
	bulkMinCalls = 6
	// The connector's defaults the minimum follows: Collections of 200
	// records, query pages of 2,000, Bulk above 5,000 records.
	collectionSize = 200
	queryPage      = 2000
	bulkThreshold  = 5000
)

var benchScenarios = []string{"initial load", "first re-run", "no-op re-run", "1% changed", "two-way", "export to CSV"}

func runBench(ctx context.Context, out io.Writer, log zerolog.Logger, o benchOptions) error {
	fmt.Fprintf(out, "casebridge bench: fake org in process, %v latency per request, %d CPU(s), %s\n\n", o.latency, runtime.NumCPU(), runtime.Version())
	// Fixed widths, so that each run's row prints as it ends.
	const format = "%9s  %-13s %8s %10s %10s %8s %8s %8s %7s %8s %9s %10s\n"
	fmt.Fprintf(out, format, "records", "scenario", "wall", "records/s", "API calls", "minimum", "SF read", "to SF", "to CSV", "CPU", "org busy", "peak heap")
	var held []string
	for _, n := range o.sizes {
		rows, err := benchSize(ctx, log, o, n, func(r benchRow) {
			fmt.Fprintf(out, format, thousands(r.n), r.scenario, fmtDur(r.wall),
				thousands(int(float64(r.n)/r.wall.Seconds())), strconv.Itoa(r.calls), strconv.Itoa(r.min), thousands(r.read), thousands(r.toSF), thousands(r.toLocal),
				fmtDur(r.cpu), fmtDur(r.orgBusy), fmtBytes(r.heap))
		})
		if len(rows) > 0 {
			held = append(held, fmt.Sprintf("%s after the load of %s", fmtBytes(rows[0].held), thousands(n)))
		}
		if err != nil {
			return fmt.Errorf("bench: %d records: %w", n, err)
		}
	}
	fmt.Fprintf(out, `
API calls: requests the org received (the token request excluded). minimum: one describe,
one query page per 2,000 records changed in Salesforce since the last run (at least one),
and per write ceil(records/200) Collections requests, or above 5,000 records one Bulk API 2.0
job (%d calls). SF read: records the run's queries returned. CPU: the process's CPU time
(runtime/metrics), casebridge and the fake org; org busy: the wall time during which the fake
org was answering at least one request, latency excluded (near the wall time: the figure
measures the fake org). peak heap: Go heap (runtime/metrics, sampled every 10 ms) above the heap
held before the run, the fake org's included; the heap held after a run (mostly the records
the fake org stores): %s.
`, bulkMinCalls, strings.Join(held, ", "))
	return nil
}

// benchSize runs the scenarios with n records on a new org and folder.
func benchSize(ctx context.Context, log zerolog.Logger, o benchOptions, n int, done func(benchRow)) ([]benchRow, error) {
	var dir string
	var err error
	if o.dir != "" {
		dir = filepath.Join(o.dir, strconv.Itoa(n))
		if err = os.MkdirAll(dir, 0o700); err == nil {
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				err = usageErrorf("bench: %s is not empty", dir)
			}
		}
	} else {
		dir, err = os.MkdirTemp("", "casebridge-bench-")
		if err == nil {
			defer os.RemoveAll(dir)
		}
	}
	if err != nil {
		return nil, err
	}

	// The org's clock runs from now, moved ahead between runs. It must
	// not run behind the real time: the fake org answers its token
	// requests with the real time in Date, and the connector keeps the
	// latest Date it saw as the org's time.
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	advance := func(d time.Duration) { ahead.Add(int64(d)) }
	org := sftest.New(sftest.Options{Empty: true, Now: clock, DailyLimit: 1 << 30})
	// The latency is added here, before the org answers, so that the
	// time the org is busy answering can be told apart from it.
	busy := &busyClock{}
	h := org.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(o.latency)
		busy.enter()
		defer busy.leave()
		h.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	csvPath := filepath.Join(dir, "cases.csv")
	if err := writeBenchCSV(csvPath, n); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(benchConfig, "ORG_URL", "http://"+ln.Addr().String(), 1)), 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	r, err := schedules.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer r.Close()

	pct := n / 100
	var rows []benchRow
	measure := func(scenario string, sfChanged, toSF int) error {
		job := "cases"
		if scenario == "export to CSV" {
			job = "export"
		}
		advance(time.Hour) // as a schedule has them: the look-back does not reach the last run
		org.ResetRequests()
		busy.reset()
		runtime.GC()
		peak := startHeapSampler()
		cpu0 := cpuTime()
		start := time.Now()
		res, err := r.Run(ctx, job, schedules.RunOptions{})
		wall := time.Since(start)
		cpu := cpuTime() - cpu0
		heap, held := peak()
		if err != nil {
			return fmt.Errorf("%s: %w", scenario, err)
		}
		if f := len(res.Result.Failed); f > 0 {
			return fmt.Errorf("%s: %d record(s) failed, the first: %s", scenario, f, res.Result.Failed[0].Message)
		}
		row := benchRow{n: n, scenario: scenario, wall: wall, cpu: cpu, orgBusy: busy.total(), heap: heap, held: held}
		for _, e := range org.Requests() {
			if strings.HasPrefix(e.Endpoint, "oauth.") {
				continue
			}
			row.calls++
			if strings.HasPrefix(e.Endpoint, "query") || e.Endpoint == "bulk.query.results" {
				row.read += e.Records
			}
		}
		for _, w := range res.Result.Plan.AllWrites() {
			if w.Side == reconcile.SF {
				row.toSF++
			} else {
				row.toLocal++
			}
		}
		row.min = 1 + max(1, ceilDiv(sfChanged, queryPage)) + writeCalls(toSF)
		rows = append(rows, row)
		done(row)
		return nil
	}

	if err := measure("initial load", 0, n); err != nil {
		return rows, err
	}
	if err := measure("first re-run", 0, 0); err != nil {
		return rows, err
	}
	if err := measure("no-op re-run", 0, 0); err != nil {
		return rows, err
	}
	// Rows 1, 101, 201, ...: 1% of the CSV.
	if err := editBenchCSV(csvPath, func(i int) bool { return i%100 == 0 }); err != nil {
		return rows, err
	}
	if err := measure("1% changed", 0, pct); err != nil {
		return rows, err
	}
	// Another 1% of the rows in the CSV, and 1% of the cases in
	// Salesforce, half an hour before the run.
	if err := editBenchCSV(csvPath, func(i int) bool { return i%100 == 1 }); err != nil {
		return rows, err
	}
	advance(30 * time.Minute)
	if err := editBenchOrg(ctx, r, n, func(i int) bool { return i%100 == 2 }); err != nil {
		return rows, err
	}
	if err := measure("two-way", pct, pct); err != nil {
		return rows, err
	}
	// Every case into a new CSV (another job, from Salesforce only): what
	// an export script does.
	if err := os.WriteFile(filepath.Join(dir, "export.csv"), []byte(strings.Join(benchHeader, ",")+"\n"), 0o600); err != nil {
		return rows, err
	}
	if err := measure("export to CSV", n, 0); err != nil {
		return rows, err
	}
	return rows, nil
}

// writeCalls is the fewest calls writing n records to Salesforce costs
// with the connector's defaults.
func writeCalls(n int) int {
	if n == 0 {
		return 0
	}
	if n > bulkThreshold {
		return bulkMinCalls
	}
	return ceilDiv(n, collectionSize)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// benchCase is the i-th synthetic case (i from 0).
func benchCase(i int) []string {
	first := []string{"Ananya", "Somchai", "Rahim", "Sokha", "Lina", "Nadia", "Minh", "Arjun"}[i%8]
	last := []string{"Example", "Sample", "Testperson", "Placeholder", "Fictional"}[i%5]
	gender := []string{"F", "M"}[i%2]
	born := time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%3650).Format("2006-01-02")
	return []string{fmt.Sprintf("C-%06d", i+1), first, last, gender, born, "active", fmt.Sprintf("synthetic note %d", i)}
}

// benchHeader is the header of the bench's CSVs.
var benchHeader = []string{"Case ID", "First name", "Last name", "Gender", "Born", "Stage", "Notes"}

func writeBenchCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(benchHeader)
	for i := range n {
		w.Write(benchCase(i))
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

// editBenchCSV moves the rows pick chooses (by their index among the
// data rows) to the next stage, as a caseworker editing the file would.
func editBenchCSV(path string, pick func(int) bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errors.New("bench: the CSV is empty")
	}
	col := -1
	for i, h := range recs[0] {
		if h == "Stage" {
			col = i
		}
	}
	if col < 0 {
		return errors.New("bench: the CSV has no Stage column")
	}
	next := map[string]string{"active": "follow up", "follow up": "closed", "closed": "active"}
	for i, rec := range recs[1:] {
		if pick(i) && col < len(rec) {
			rec[col] = next[strings.ToLower(rec[col])]
		}
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.WriteAll(recs)
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// editBenchOrg closes the cases pick chooses in Salesforce, through the
// API as another user of the org would (these calls are not measured).
func editBenchOrg(ctx context.Context, r *schedules.Runner, n int, pick func(int) bool) error {
	sink, ok := r.Salesforce.(connector.Sink)
	if !ok {
		return errors.New("bench: the Salesforce connector cannot write")
	}
	var recs []connector.Record
	for i := range n {
		if pick(i) {
			recs = append(recs, connector.Record{Key: "bench:" + benchCase(i)[0],
				Fields: map[string]connector.Value{"vcms__Stage__c": connector.Text("Closed")}})
		}
	}
	res, err := sink.Upsert(ctx, benchObject, recs)
	if err != nil {
		return fmt.Errorf("bench: edit in Salesforce: %w", err)
	}
	for _, x := range res {
		if x.Err != nil {
			return fmt.Errorf("bench: edit in Salesforce: %w", x.Err)
		}
	}
	return nil
}

// busyClock adds up the wall time during which at least one request is
// being answered.
type busyClock struct {
	mu     sync.Mutex
	active int
	since  time.Time
	sum    time.Duration
}

func (b *busyClock) enter() {
	b.mu.Lock()
	if b.active == 0 {
		b.since = time.Now()
	}
	b.active++
	b.mu.Unlock()
}

func (b *busyClock) leave() {
	b.mu.Lock()
	if b.active--; b.active == 0 {
		b.sum += time.Since(b.since)
	}
	b.mu.Unlock()
}

func (b *busyClock) reset() {
	b.mu.Lock()
	b.sum = 0
	if b.active > 0 {
		b.since = time.Now()
	}
	b.mu.Unlock()
}

func (b *busyClock) total() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active > 0 {
		return b.sum + time.Since(b.since)
	}
	return b.sum
}

// cpuTime is the process's CPU time so far, as the Go runtime estimates
// it: Go code, the garbage collector and the scavenger.
func cpuTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/scavenge/total:cpu-seconds"}}
	metrics.Read(s)
	var sec float64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindFloat64 {
			sec += x.Value.Float64()
		}
	}
	return time.Duration(sec * float64(time.Second))
}

// startHeapSampler samples the heap every 10 ms until the returned func
// is called, which returns the peak above the heap at the start, and the
// heap held after a GC above it.
func startHeapSampler() func() (uint64, uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		if v := read(); v > peak.Load() {
			peak.Store(v)
		}
		runtime.GC()
		held := uint64(0)
		if v := read(); v > base {
			held = v - base
		}
		return peak.Load() - base, held
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
}

func fmtBytes(b uint64) string {
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}
