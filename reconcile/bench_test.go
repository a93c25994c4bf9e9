package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
	"github.com/shopspring/decimal"
)

func benchObject() *connector.Object {
	o := &connector.Object{Name: "Case__c", Key: "Key__c", Modified: "LastModifiedDate", Fields: []connector.Field{
		{Name: "Key__c", Type: connector.TypeString, Length: 80, ExternalID: true, Createable: true, Updateable: true},
	}}
	add := func(name string, t connector.FieldType, scale int) {
		o.Fields = append(o.Fields, connector.Field{Name: name, Type: t, Scale: scale, Precision: 12, Nillable: true, Createable: true, Updateable: true})
	}
	for i := range 4 {
		add(fmt.Sprintf("Text%d__c", i), connector.TypeString, 0)
	}
	add("Stage__c", connector.TypePicklist, 0)
	add("Amount__c", connector.TypeCurrency, 2)
	add("Count__c", connector.TypeInt, 0)
	add("Visit__c", connector.TypeDate, 0)
	add("Birth__c", connector.TypeDate, 0)
	add("Flag__c", connector.TypeBoolean, 0)
	return o
}

func benchRecord(i, rev int) connector.Record {
	r := connector.Record{Key: fmt.Sprintf("ngo-th-cm:TH-%06d", i), Fields: map[string]connector.Value{}}
	for j := range 4 {
		r.Fields[fmt.Sprintf("Text%d__c", j)] = connector.Text(fmt.Sprintf("value %d/%d/%d", i, j, rev))
	}
	r.Fields["Stage__c"] = connector.Text([]string{"Active", "Follow_Up", "Closed"}[(i+rev)%3])
	r.Fields["Amount__c"] = connector.Number(decimal.New(int64(i*100+rev), -2))
	r.Fields["Count__c"] = connector.Int(int64(i % 17))
	r.Fields["Visit__c"] = connector.DateValue(connector.Date{Year: 2024, Month: time.Month(1 + i%12), Day: 1 + i%28})
	r.Fields["Birth__c"] = connector.DateValue(connector.Date{Year: 1990 + i%20, Month: 3, Day: 12})
	r.Fields["Flag__c"] = connector.Bool(i%2 == 0)
	return r
}

func load(b *testing.B, c *memory.Connector, recs []connector.Record) {
	for start := 0; start < len(recs); start += 5000 {
		res, err := c.Upsert(context.Background(), "Case__c", recs[start:min(start+5000, len(recs))])
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkPlan100k plans (a dry run: read, fingerprint, decide) a job of
// 100,000 records x 10 fields with 1% changed on each side, on memory
// connectors and a SQLite state. fixture-MB is the heap holding both
// sides' records; peak-heap-MB the most heap (live and garbage) above it
// during the plans, sampled every 500µs; peak-live-MB the most live heap
// above it, as the garbage collector last measured it (the engine's own
// working set plus the memory connector's read copies).
func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	sf := memory.New("salesforce", benchObject())
	local := memory.New("local", benchObject())
	recs := make([]connector.Record, n)
	for i := range recs {
		recs[i] = benchRecord(i, 0)
	}
	load(b, sf, recs)
	load(b, local, recs)
	st, err := state.OpenSQLite(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fp, _ := reconcile.NewFingerprinter(testKey)
	job := &reconcile.Job{Name: "bench", Object: "Case__c"}
	for _, f := range benchObject().Fields[1:] {
		job.Fields = append(job.Fields, reconcile.FieldSpec{Name: f.Name, RuleHash: "r1"})
	}
	eng := &reconcile.Engine{SF: sf, Local: local, Store: st, FP: fp}
	t0 := time.Now()
	if _, err := eng.Run(ctx, job, reconcile.RunOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Logf("first sync of %d records: %v", n, time.Since(t0))
	// 1% changed on each side, disjoint.
	var sfCh, locCh []connector.Record
	for i := 0; i < n; i += 100 {
		sfCh = append(sfCh, benchRecord(i, 1))
		locCh = append(locCh, benchRecord(i+50, 2))
	}
	load(b, sf, sfCh)
	load(b, local, locCh)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	baseLive := live[0].Value.Uint64()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
				metrics.Read(live)
				if v := live[0].Value.Uint64(); v > peakLive.Load() {
					peakLive.Store(v)
				}
			}
		}
	})
	// The engine's working set once planned: stop a real run at
	// before_apply (nothing written), collect garbage, measure.
	var working uint64
	stopHere := errors.New("measured")
	eng.Hooks.At = func(_ context.Context, p reconcile.Point) error {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		working = m.HeapAlloc - base
		return stopHere
	}
	if _, err := eng.Run(ctx, job, reconcile.RunOptions{}); !errors.Is(err, stopHere) {
		b.Fatal(err)
	}
	eng.Hooks.At = nil
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := eng.Run(ctx, job, reconcile.RunOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		if got := res.Plan.NumWrites(); got != 2*len(sfCh) {
			b.Fatalf("plan has %d writes, want %d", got, 2*len(sfCh))
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(base)/1e6, "fixture-MB")
	b.ReportMetric(float64(working)/1e6, "planned-live-MB")
	if p := peak.Load(); p > base {
		b.ReportMetric(float64(p-base)/1e6, "peak-heap-MB")
	}
	if p := peakLive.Load(); p > baseLive {
		b.ReportMetric(float64(p-baseLive)/1e6, "peak-live-MB")
	}
}

// genSide is a connector that generates its n records on the fly instead
// of holding them: the engine's cost without a fixture on the heap (and
// without the memory connector's copies). Records i with i%100 == at carry
// revision rev once changed is set; an incremental read returns only those.
type genSide struct {
	name    string
	n       int
	at, rev int
	changed bool
}

func (g *genSide) Name() string { return g.name }
func (g *genSide) Describe(context.Context, string) (*connector.Object, error) {
	return benchObject(), nil
}
func (g *genSide) record(i int) connector.Record {
	if g.changed && i%100 == g.at {
		return benchRecord(i, g.rev)
	}
	return benchRecord(i, 0)
}
func (g *genSide) Read(_ context.Context, _ string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	for i := range g.n {
		if since != "" && !(g.changed && i%100 == g.at) {
			continue
		}
		if err := fn(g.record(i)); err != nil {
			return "", err
		}
	}
	return "1", nil
}
func (g *genSide) TracksChanges(string) bool { return true }
func (g *genSide) ListKeys(_ context.Context, _ string, fn func(string) error) error {
	for i := range g.n {
		if err := fn(fmt.Sprintf("ngo-th-cm:TH-%06d", i)); err != nil {
			return err
		}
	}
	return nil
}
func (g *genSide) ReadKeys(context.Context, string, []string, func(connector.Record) error) error {
	return nil
}
func (g *genSide) Upsert(_ context.Context, _ string, recs []connector.Record) ([]connector.Result, error) {
	out := make([]connector.Result, len(recs))
	for i, r := range recs {
		out[i].Key = r.Key
	}
	return out, nil
}
func (g *genSide) Delete(_ context.Context, _ string, keys []string) ([]connector.Result, error) {
	return make([]connector.Result, len(keys)), nil
}

// BenchmarkPlan100kStreaming is BenchmarkPlan100k with generated sides:
// the engine and the SQLite state alone.
func BenchmarkPlan100kStreaming(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	sf := &genSide{name: "salesforce", n: n, at: 0, rev: 1}
	local := &genSide{name: "local", n: n, at: 50, rev: 2}
	st, err := state.OpenSQLite(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fp, _ := reconcile.NewFingerprinter(testKey)
	job := &reconcile.Job{Name: "bench", Object: "Case__c"}
	for _, f := range benchObject().Fields[1:] {
		job.Fields = append(job.Fields, reconcile.FieldSpec{Name: f.Name, RuleHash: "r1"})
	}
	eng := &reconcile.Engine{SF: sf, Local: local, Store: st, FP: fp}
	if _, err := eng.Run(ctx, job, reconcile.RunOptions{}); err != nil {
		b.Fatal(err)
	}
	sf.changed, local.changed = true, true
	runtime.GC()
	var peak uint64
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() {
		var m runtime.MemStats
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				metrics.Read(live)
				mu.Lock()
				peak = max(peak, m.HeapAlloc)
				mu.Unlock()
			}
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := eng.Run(ctx, job, reconcile.RunOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		if got := res.Plan.NumWrites(); got != 2*n/100 {
			b.Fatalf("plan has %d writes, want %d", got, 2*n/100)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}

// BenchmarkFirstSyncDryRun100k is the dry run of a first sync whose
// 100,000 records are all on the local side (a large sheet into an empty
// org): one create planned per record, generated sides, a SQLite state.
// live-B/record is the heap the finished run's result holds (its plan and
// the entries behind it) per record: what a run of a million rows holds a
// million times over.
func BenchmarkFirstSyncDryRun100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st, err := state.OpenSQLite(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fp, _ := reconcile.NewFingerprinter(testKey)
	job := &reconcile.Job{Name: "bench", Object: "Case__c"}
	for _, f := range benchObject().Fields[1:] {
		job.Fields = append(job.Fields, reconcile.FieldSpec{Name: f.Name, RuleHash: "r1"})
	}
	eng := &reconcile.Engine{SF: &genSide{name: "salesforce"}, Local: &genSide{name: "local", n: n}, Store: st, FP: fp}
	opts := reconcile.RunOptions{DryRun: true, Force: true}
	var held uint64
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		base := m.HeapAlloc
		res, err := eng.Run(ctx, job, opts)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > base {
			held = max(held, m.HeapAlloc-base)
		}
		if got := res.Plan.NumWrites(); got != n {
			b.Fatalf("plan has %d writes, want %d", got, n)
		}
		runtime.KeepAlive(res)
	}
	b.ReportMetric(float64(held)/n, "live-B/record")
}
