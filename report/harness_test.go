package report_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/report"
	"github.com/casebridge/casebridge/state"
)

// The setup below is the minimum of reconcile's test harness
// (reconcile/harness_test.go): both sides are connector/memory, the state
// is SQLite in t.TempDir(), so the reports describe real engine runs.

func testObject() *connector.Object {
	rw := func(f connector.Field) connector.Field {
		f.Createable, f.Updateable, f.Nillable = true, true, true
		return f
	}
	return &connector.Object{
		Name: "Case__c", Key: "Key__c", Modified: "LastModifiedDate",
		Fields: []connector.Field{
			{Name: "Key__c", Type: connector.TypeString, Length: 80, ExternalID: true, Unique: true, Createable: true, Updateable: true},
			rw(connector.Field{Name: "Name__c", Type: connector.TypeString, Length: 80}),
			rw(connector.Field{Name: "Stage__c", Type: connector.TypePicklist, Picklist: []string{"Active", "Follow_Up", "Closed"}, Restricted: true}),
			rw(connector.Field{Name: "Amount__c", Type: connector.TypeCurrency, Precision: 10, Scale: 2}),
			rw(connector.Field{Name: "Visit__c", Type: connector.TypeDate}),
			rw(connector.Field{Name: "Email__c", Type: connector.TypeEmail, Length: 80}),
		},
	}
}

// side is a memory connector whose writes to the keys in failing fail.
type side struct {
	*memory.Connector
	mu      sync.Mutex
	failing map[string]bool // KeyIDs
}

func newSide(name string, clock func() time.Time) *side {
	s := &side{Connector: memory.New(name, testObject()), failing: map[string]bool{}}
	s.Now = clock
	s.Fail = func(op, object, key string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failing[connector.KeyID(key, false)] {
			return &connector.ValueError{Code: connector.CodeLocked, Detail: "injected failure"}
		}
		return nil
	}
	return s
}

func (s *side) fail(key string) {
	s.mu.Lock()
	s.failing[connector.KeyID(key, false)] = true
	s.mu.Unlock()
}

// set upserts key with the given fields (text values; "" is null),
// bypassing the injected failures.
func (s *side) set(t *testing.T, key string, kv map[string]string) {
	t.Helper()
	rec := connector.Record{Key: key, Fields: map[string]connector.Value{}}
	for k, v := range kv {
		var val connector.Value
		switch {
		case v == "":
			val = connector.Null()
		case k == "Amount__c":
			n, err := connector.NumberString(v)
			if err != nil {
				t.Fatal(err)
			}
			val = n
		case k == "Visit__c":
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				t.Fatal(err)
			}
			val = connector.DateValue(connector.DateOf(d))
		default:
			val = connector.Text(v)
		}
		rec.Fields[k] = val
	}
	s.mu.Lock()
	failing := s.failing
	s.failing = map[string]bool{}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.failing = failing; s.mu.Unlock() }()
	res, err := s.Upsert(context.Background(), "Case__c", []connector.Record{rec})
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (s *side) del(t *testing.T, key string) {
	t.Helper()
	res, err := s.Delete(context.Background(), "Case__c", []string{key})
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot copies every record of the side, by KeyID.
func (s *side) snapshot(t *testing.T) map[string]connector.Record {
	t.Helper()
	out := map[string]connector.Record{}
	_, err := s.Connector.Read(context.Background(), "Case__c", "", func(r connector.Record) error {
		out[connector.KeyID(r.Key, false)] = r.Clone()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// world is two sides, a SQLite state store and an engine.
type world struct {
	t     *testing.T
	now   time.Time
	sf    *side
	local *side
	eng   *reconcile.Engine
	job   *reconcile.Job
	store state.Store
}

var testKey = []byte("casebridge test fingerprint key, 32+ bytes long")

func newWorld(t *testing.T) *world {
	w := &world{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.sf = newSide("salesforce", clock)
	w.local = newSide("local", clock)
	st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.store = st
	fp, err := reconcile.NewFingerprinter(testKey)
	if err != nil {
		t.Fatal(err)
	}
	w.eng = &reconcile.Engine{SF: w.sf, Local: w.local, Store: st, FP: fp, Now: clock}
	w.job = &reconcile.Job{Name: "th_cases", Object: "Case__c", Conflict: reconcile.Manual, Fields: []reconcile.FieldSpec{
		{Name: "Name__c", RuleHash: "r1", Class: report.ClassDirect},
		{Name: "Stage__c", RuleHash: "r1"},
		{Name: "Amount__c", RuleHash: "r1"},
		{Name: "Visit__c", RuleHash: "r1", Class: report.ClassQuasi},
		{Name: "Email__c", RuleHash: "r1", Class: report.ClassSensitive},
	}}
	return w
}

// run is one engine run and what its report needs: the values both sides
// held before it, its times and its error.
type run struct {
	res        *reconcile.Result
	err        error
	start, end time.Time
	before     [2]map[string]connector.Record
}

func (w *world) run(opts reconcile.RunOptions) *run {
	w.t.Helper()
	r := &run{before: [2]map[string]connector.Record{w.sf.snapshot(w.t), w.local.snapshot(w.t)}}
	w.now = w.now.Add(time.Minute)
	r.start = w.now
	r.res, r.err = w.eng.Run(context.Background(), w.job, opts)
	w.now = w.now.Add(2500 * time.Millisecond)
	r.end = w.now
	return r
}

// values gives the values each side held before the run.
func (r *run) values(side, key, field string) (connector.Value, bool) {
	s := reconcile.SF
	if side == reconcile.Local.String() {
		s = reconcile.Local
	}
	rec, ok := r.before[s][connector.KeyID(key, false)]
	if !ok {
		return connector.Value{}, false
	}
	v, ok := rec.Fields[field]
	return v, ok
}

func (w *world) options(r *run, mode report.Mode) report.Options {
	left := 14_950
	return report.Options{Mode: mode, Start: r.start, End: r.end, Err: r.err, APICallsLeft: &left, Job: w.job, Values: r.values}
}
