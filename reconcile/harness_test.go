package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
	"github.com/casebridge/casebridge/reconcile"
	"github.com/casebridge/casebridge/state"
)

// testObject is the object both sides hold in the engine's tests: a case
// with a case-insensitive external key and one field of each kind a sync
// meets.
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
			rw(connector.Field{Name: "Consent__c", Type: connector.TypeBoolean}),
			rw(connector.Field{Name: "Consent_Status__c", Type: connector.TypePicklist, Picklist: []string{"Granted", "Limited", "Withdrawn", "Refused"}, Restricted: true}),
		},
	}
}

// side is a memory connector with two test-only extras: rows that read as
// unreadable (Record.Err), and failures injected per key.
type side struct {
	*memory.Connector
	mu         sync.Mutex
	unreadable map[string]bool             // KeyIDs
	keyless    map[string]bool             // KeyIDs read as a row without a usable key
	damaged    map[string]bool             // KeyIDs read as a row that could not be read whole
	dup        map[string]bool             // KeyIDs read twice (a repeated row)
	failing    map[string]bool             // KeyIDs
	hidden     map[string][]string         // KeyID -> fields reads leave out (unknown)
	nokey      map[string]connector.Record // Id -> a record without a key
	// nokeyNew are the records without a key changed since the last
	// incremental read: as in Salesforce, an incremental read returns
	// only those, a complete read all.
	nokeyNew map[string]bool
	outside  map[string]bool // KeyIDs read as OUT_OF_SCOPE (outside a where)
	down     bool            // writes stop the run (connector.ErrStop), as an outage
}

// errDown is the stop a side that is down returns.
var errDown = fmt.Errorf("injected outage: %w", connector.ErrStop)

func (s *side) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return nil, errDown
	}
	return s.Connector.Upsert(ctx, object, records)
}

func newSide(name string, clock func() time.Time) *side {
	s := &side{Connector: memory.New(name, testObject()), unreadable: map[string]bool{}, keyless: map[string]bool{}, damaged: map[string]bool{}, failing: map[string]bool{}, dup: map[string]bool{}, hidden: map[string][]string{}, nokey: map[string]connector.Record{}, nokeyNew: map[string]bool{}, outside: map[string]bool{}}
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

func (s *side) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	s.mu.Lock()
	var nokey []connector.Record
	for _, id := range slices.Sorted(maps.Keys(s.nokey)) {
		if since != "" && !s.nokeyNew[id] {
			continue
		}
		delete(s.nokeyNew, id)
		r := s.nokey[id].Clone()
		r.Err = connector.NewRecordError("read", s.Name(), object, "", "Key__c", connector.CodeNoKey, connector.Permanent, fmt.Errorf("record %s has no key", id))
		nokey = append(nokey, r)
	}
	s.mu.Unlock()
	for _, r := range nokey {
		if err := fn(r); err != nil {
			return "", err
		}
	}
	return s.Connector.Read(ctx, object, since, func(r connector.Record) error {
		s.mu.Lock()
		bad := s.unreadable[connector.KeyID(r.Key, false)]
		keyless := s.keyless[connector.KeyID(r.Key, false)]
		damaged := s.damaged[connector.KeyID(r.Key, false)]
		dup := s.dup[connector.KeyID(r.Key, false)]
		out := s.outside[connector.KeyID(r.Key, false)]
		r = s.hide(r)
		s.mu.Unlock()
		if out && !r.Deleted {
			r = connector.Record{Key: r.Key, Err: connector.NewRecordError("read", s.Name(), object, r.Key, "", connector.CodeOutOfScope, connector.Permanent, fmt.Errorf("outside the where"))}
		}
		if bad && !r.Deleted {
			r = connector.Record{Key: r.Key, Err: connector.NewRecordError("read", s.Name(), object, r.Key, "", connector.CodeRowUnreadable, connector.Permanent, fmt.Errorf("injected"))}
		}
		if keyless && !r.Deleted {
			r = connector.Record{Err: connector.NewRecordError("read", s.Name(), object, "", "", connector.CodeInvalidKey, connector.Permanent, fmt.Errorf("injected: empty key cell"))}
		}
		if damaged && !r.Deleted {
			r = connector.Record{Err: connector.NewRecordError("read", s.Name(), object, "", "Notes", connector.CodeRowUnreadable, connector.Permanent, fmt.Errorf("injected: row 9 column C: an unclosed quote"))}
		}
		if dup && since == "" {
			if err := fn(r.Clone()); err != nil {
				return err
			}
		}
		return fn(r)
	})
}

func (s *side) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	return s.Connector.ReadKeys(ctx, object, keys, func(r connector.Record) error {
		s.mu.Lock()
		bad := s.unreadable[connector.KeyID(r.Key, false)]
		r = s.hide(r)
		s.mu.Unlock()
		if bad {
			r = connector.Record{Key: r.Key, Err: connector.NewRecordError("read", s.Name(), object, r.Key, "", connector.CodeRowUnreadable, connector.Permanent, fmt.Errorf("injected"))}
		}
		return fn(r)
	})
}

// SetKeys implements reconcile.KeySetter for the records without a key:
// the record takes the key (failing as writes of that key fail).
func (s *side) SetKeys(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	out := make([]connector.Result, len(recs))
	for i, want := range recs {
		out[i] = connector.Result{Key: want.Key, ID: want.ID}
		s.mu.Lock()
		rec, ok := s.nokey[want.ID]
		failing := s.failing[connector.KeyID(want.Key, false)]
		s.mu.Unlock()
		switch {
		case !ok:
			out[i].Err = connector.NewRecordError("set_keys", s.Name(), object, want.Key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
		case failing:
			out[i].Err = connector.NewRecordError("set_keys", s.Name(), object, want.Key, "Key__c", connector.CodeLocked, connector.Retryable, errors.New("injected"))
		default:
			fields := map[string]connector.Value{}
			for k, v := range rec.Fields {
				if !v.IsNull() {
					fields[k] = v
				}
			}
			res, err := s.Connector.Upsert(ctx, object, []connector.Record{{Key: want.Key, Fields: fields}})
			if err != nil {
				return nil, err
			}
			if res[0].Err != nil {
				out[i].Err = res[0].Err
				continue
			}
			s.mu.Lock()
			delete(s.nokey, want.ID)
			s.mu.Unlock()
		}
	}
	return out, nil
}

// hide leaves out of r the fields hidden for its key (s.mu held).
func (s *side) hide(r connector.Record) connector.Record {
	h := s.hidden[connector.KeyID(r.Key, false)]
	if len(h) == 0 || r.Deleted {
		return r
	}
	r = r.Clone()
	for _, f := range h {
		delete(r.Fields, f)
	}
	return r
}

func (s *side) set(key string, kv map[string]string) error {
	rec := connector.Record{Key: key, Fields: map[string]connector.Value{}}
	for k, v := range kv {
		if v == "" {
			rec.Fields[k] = connector.Null()
		} else {
			rec.Fields[k] = connector.Text(v)
		}
	}
	s.mu.Lock()
	failing := s.failing
	s.failing = map[string]bool{}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.failing = failing; s.mu.Unlock() }()
	res, err := s.Upsert(context.Background(), "Case__c", []connector.Record{rec})
	if err != nil {
		return err
	}
	return res[0].Err
}

func (s *side) del(key string) error {
	s.mu.Lock()
	failing := s.failing
	s.failing = map[string]bool{}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.failing = failing; s.mu.Unlock() }()
	res, err := s.Delete(context.Background(), "Case__c", []string{key})
	if err != nil {
		return err
	}
	return res[0].Err
}

// dump lists the side's records, one line each: the key, then the
// non-null fields sorted by name.
func (s *side) dump() []string {
	var out []string
	_, err := s.Connector.Read(context.Background(), "Case__c", "", func(r connector.Record) error {
		out = append(out, formatRecord(r))
		return nil
	})
	if err != nil {
		out = append(out, "error: "+err.Error())
	}
	s.mu.Lock()
	for id, r := range s.nokey {
		r.Key = "(no key: " + id + ")"
		out = append(out, formatRecord(r))
	}
	s.mu.Unlock()
	slices.Sort(out)
	return out
}

func formatRecord(r connector.Record) string {
	var b strings.Builder
	b.WriteString(r.Key)
	for _, k := range slices.Sorted(maps.Keys(r.Fields)) {
		v := r.Fields[k]
		if k == "Key__c" || v.IsNull() {
			continue
		}
		raw := v.Raw()
		if strings.ContainsAny(raw, " \t\"#") {
			raw = strconv.Quote(raw)
		}
		fmt.Fprintf(&b, " %s=%s", k, raw)
	}
	return b.String()
}

// world is one scenario's setup: two sides, a state store, an engine.
type world struct {
	t     *testing.T
	now   time.Time
	sf    *side
	local *side
	store state.Store
	eng   *reconcile.Engine
	job   *reconcile.Job
	fp    *reconcile.Fingerprinter
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
	w.fp, err = reconcile.NewFingerprinter(testKey)
	if err != nil {
		t.Fatal(err)
	}
	w.eng = &reconcile.Engine{SF: w.sf, Local: w.local, Store: st, FP: w.fp, Now: clock}
	w.job = &reconcile.Job{Name: "cases", Object: "Case__c", Fields: []reconcile.FieldSpec{
		{Name: "Name__c", RuleHash: "r1"}, {Name: "Stage__c", RuleHash: "r1"}, {Name: "Amount__c", RuleHash: "r1"},
	}}
	return w
}

func (w *world) tick() { w.now = w.now.Add(time.Minute) }

func (w *world) sync(opts reconcile.RunOptions) (*reconcile.Result, error) {
	w.tick()
	return w.eng.Run(context.Background(), w.job, opts)
}

// blindSide is a side whose change feed does not see deletions
// (connector.DeleteTracker false), optionally without a KeyLister.
type blindSide struct {
	*side
}

func (b blindSide) TracksDeletes(string) bool { return false }

func (b blindSide) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return b.side.Read(ctx, object, since, func(r connector.Record) error {
		if r.Deleted && since != "" {
			return nil // deleted outright: an incremental read does not see it
		}
		return fn(r)
	})
}

// unlisted hides a connector's KeyLister (and the rest of its extras but
// Sink, KeyReader and the trackers).
type unlisted struct {
	connector.Connector
	connector.Sink
	connector.KeyReader
	connector.ChangeTracker
	connector.DeleteTracker
}
