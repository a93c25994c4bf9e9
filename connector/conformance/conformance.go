package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Logical names of the test object's fields. Opt.Fields maps them to the
// connector's own names.
const (
	FieldKey    = "Key"    // text(80), external id, unique, case-insensitive: the record key
	FieldName   = "Name"   // text(80)
	FieldAmount = "Amount" // currency(12,2)
	FieldBorn   = "Born"   // date
	FieldActive = "Active" // boolean (checkbox)
	FieldSeen   = "Seen"   // datetime
	FieldTags   = "Tags"   // restricted multi-select of TagValues
)

// DefaultObject is the test object's name when Opt.Object is empty.
const DefaultObject = "ConformanceCase"

// TagValues are the allowed values of the Tags multi-select.
var TagValues = []string{"legal", "medical", "shelter", "ที่พัก"}

var logicalFields = []string{FieldKey, FieldName, FieldAmount, FieldBorn, FieldActive, FieldSeen, FieldTags}

// TestObject describes the object every connector's harness creates
// (empty) before the suite runs, with the logical field names; a harness
// whose store names fields differently renames them and says so in
// Opt.Fields. A store that keeps everything as text (a CSV file) creates
// the same columns and sets Opt.TextOnly.
func TestObject(name string) *connector.Object {
	rw := func(f connector.Field) connector.Field {
		f.Label = f.Name
		f.Createable, f.Updateable = true, true
		return f
	}
	return &connector.Object{
		Name:  name,
		Label: "Conformance test case",
		Key:   FieldKey,
		Fields: []connector.Field{
			rw(connector.Field{Name: FieldKey, Type: connector.TypeString, Length: 80, ExternalID: true, Unique: true}),
			rw(connector.Field{Name: FieldName, Type: connector.TypeString, Length: 80, Nillable: true}),
			rw(connector.Field{Name: FieldAmount, Type: connector.TypeCurrency, Precision: 12, Scale: 2, Nillable: true}),
			rw(connector.Field{Name: FieldBorn, Type: connector.TypeDate, Nillable: true}),
			rw(connector.Field{Name: FieldActive, Type: connector.TypeBoolean}),
			rw(connector.Field{Name: FieldSeen, Type: connector.TypeDateTime, Nillable: true}),
			rw(connector.Field{Name: FieldTags, Type: connector.TypeMultiPicklist, Nillable: true,
				Picklist: slices.Clone(TagValues), Restricted: true}),
		},
	}
}

// Opt configures a run of the suite: how to get a connector, and the
// declared ways in which it differs from the reference (memory) connector.
// Differences are declared here, never by forking the suite.
type Opt struct {
	// New returns a fresh connector whose test object (TestObject's shape,
	// named Object) exists and is empty. It is called once per clause.
	// Closing the connector is the harness's business (tb.Cleanup).
	New func(tb testing.TB) connector.Connector
	// Object is the test object's name; DefaultObject when empty.
	Object string
	// Fields maps the logical field names (FieldKey, ...) to the
	// connector's own; a name not in the map is used as is.
	Fields map[string]string

	// KeyCaseSensitive declares that the key field compares case-sensitively
	// (Describe must agree).
	KeyCaseSensitive bool
	// TracksChanges declares that Read with a cursor returns only changes
	// (the connector must implement connector.ChangeTracker and agree).
	TracksChanges bool
	// TextOnly declares a connector that describes and stores every field
	// as text. Expectations are always canonicalised against the
	// connector's own Describe (connector.Canonicalize); this only changes
	// the kinds the schema clause expects.
	TextOnly bool
	// Invalid returns a record with the given key that this connector must
	// reject per record (say, a Tags value outside TagValues, or a Name of
	// 81 characters), with fields named as the connector names them. nil
	// skips the clauses that need one, with a reason. The suite adds valid
	// values of its own to the fields Invalid leaves out.
	Invalid func(key string) connector.Record
	// LargeBatch is the size of the large_batch clause's single batch;
	// 1000 by default.
	LargeBatch int
	// ChangeDelay is waited after taking a cursor and before changing
	// records, for connectors whose cursor is a clock of coarse grain.
	ChangeDelay time.Duration
	// Timeout bounds how long a call with a cancelled context may take to
	// return; 5s by default.
	Timeout time.Duration
	// Waive skips clauses by name, each with its reason. A waiver without
	// a reason, or naming no clause, fails the run.
	Waive map[string]string
}

// clause is one named part of the contract.
type clause struct {
	name string
	run  func(*suite)
}

// clauses in the order they run. Keep doc.go's glossary in step.
var clauses = []clause{
	{"schema", (*suite).schema},
	{"read_all", (*suite).readAllClause},
	{"read_since", (*suite).readSince},
	{"list_keys", (*suite).listKeys},
	{"read_keys", (*suite).readKeys},
	{"upsert", (*suite).upsertClause},
	{"partial_update", (*suite).partialUpdate},
	{"idempotent", (*suite).idempotent},
	{"delete", (*suite).deleteClause},
	{"batch_failure", (*suite).batchFailure},
	{"atomic_record", (*suite).atomicRecord},
	{"unicode", (*suite).unicode},
	{"key_variants", (*suite).keyVariants},
	{"empty_key", (*suite).emptyKey},
	{"large_batch", (*suite).largeBatch},
	{"cancel", (*suite).cancel},
}

// Clauses returns the names of the suite's clauses in the order they run
// (without "opt", which checks Opt itself and cannot be waived).
func Clauses() []string {
	names := make([]string, len(clauses))
	for i, c := range clauses {
		names[i] = c.name
	}
	return names
}

// Run runs the whole suite as subtests of t, one per clause.
func Run(t *testing.T, opt Opt) { RunT(Testing(t), opt) }

// RunT runs the whole suite on any T.
func RunT(t T, opt Opt) {
	t.Helper()
	opt = opt.withDefaults()
	ok := t.Run("opt", func(t T) {
		for _, p := range opt.problems() {
			t.Errorf("%s", p)
		}
	})
	if !ok {
		return
	}
	for _, c := range clauses {
		t.Run(c.name, func(t T) {
			if reason, ok := opt.Waive[c.name]; ok {
				t.Skipf("waived: %s", reason)
			}
			s := newSuite(t, opt)
			c.run(s)
		})
	}
}

func (o Opt) withDefaults() Opt {
	if o.Object == "" {
		o.Object = DefaultObject
	}
	if o.LargeBatch == 0 {
		o.LargeBatch = 1000
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	return o
}

// problems lists what is wrong with o.
func (o Opt) problems() []string {
	var out []string
	if o.New == nil {
		out = append(out, "Opt.New is nil")
	}
	seen := map[string]string{}
	for _, l := range logicalFields {
		n := o.fieldName(l)
		if n == "" {
			out = append(out, fmt.Sprintf("Opt.Fields maps %s to an empty name", l))
		}
		if prev, ok := seen[strings.ToLower(n)]; ok {
			out = append(out, fmt.Sprintf("Opt.Fields maps both %s and %s to %s", prev, l, n))
		}
		seen[strings.ToLower(n)] = l
	}
	for _, l := range sortedKeys(o.Fields) {
		if !slices.Contains(logicalFields, l) {
			out = append(out, fmt.Sprintf("Opt.Fields names %q, which is not a field of TestObject (%s)", l, strings.Join(logicalFields, ", ")))
		}
	}
	for _, name := range sortedKeys(o.Waive) {
		if !slices.Contains(Clauses(), name) {
			out = append(out, fmt.Sprintf("Opt.Waive names %q, which is not a clause (%s)", name, strings.Join(Clauses(), ", ")))
		}
		if strings.TrimSpace(o.Waive[name]) == "" {
			out = append(out, fmt.Sprintf("Opt.Waive[%q] gives no reason", name))
		}
	}
	if o.LargeBatch < 0 {
		out = append(out, "Opt.LargeBatch is negative")
	}
	return out
}

func (o Opt) fieldName(logical string) string {
	if n, ok := o.Fields[logical]; ok {
		return n
	}
	return logical
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// vals are field values by logical name.
type vals map[string]connector.Value

// suite is one clause's state: a fresh connector and its description of
// the test object.
type suite struct {
	t    T
	opt  Opt
	ctx  context.Context
	c    connector.Connector
	f    connector.Features
	obj  string
	desc *connector.Object
}

func newSuite(t T, opt Opt) *suite {
	t.Helper()
	s := &suite{t: t, opt: opt, ctx: t.Context(), obj: opt.Object}
	s.c = opt.New(t.TB())
	if s.c == nil {
		t.Fatalf("Opt.New returned nil")
	}
	s.f = connector.FeaturesOf(s.c)
	desc, err := s.c.Describe(s.ctx, s.obj)
	if err != nil {
		t.Fatalf("Describe(%s): %v", s.obj, err)
	}
	if desc == nil {
		t.Fatalf("Describe(%s) returned nil and no error", s.obj)
	}
	s.desc = desc
	return s
}

// needSink returns the connector's Sink or skips the clause.
func (s *suite) sink() connector.Sink {
	s.t.Helper()
	if s.f.Sink == nil {
		s.t.Skipf("the connector has no Sink: the suite writes its test records through Sink")
	}
	return s.f.Sink
}

// field returns the connector's description of a logical field.
func (s *suite) field(logical string) *connector.Field {
	s.t.Helper()
	f := s.desc.Field(s.opt.fieldName(logical))
	if f == nil {
		s.t.Fatalf("Describe(%s) has no field %s (logical %s)", s.obj, s.opt.fieldName(logical), logical)
	}
	return f
}

func (s *suite) keyID(key string) string { return connector.KeyID(key, s.opt.KeyCaseSensitive) }

// rec builds a record of the test object from logical field values.
func (s *suite) rec(key string, v vals) connector.Record {
	r := connector.Record{Key: key, Fields: map[string]connector.Value{}}
	for l, val := range v {
		r.Fields[s.opt.fieldName(l)] = val
	}
	return r
}

// sample returns values for every non-key field, varied by n.
func sample(n int) vals {
	amount, _ := connector.NumberString(fmt.Sprintf("%d.%02d", 1000+n, n%100))
	return vals{
		FieldName:   connector.Text(fmt.Sprintf("Sample name %d", n)),
		FieldAmount: amount,
		FieldBorn:   connector.DateValue(connector.Date{Year: 1980 + n%40, Month: time.Month(1 + n%12), Day: 1 + n%28}),
		FieldActive: connector.Bool(n%2 == 0),
		FieldSeen:   connector.DateTime(time.Date(2024, 1, 1+n%28, 10, n%60, n%60, 0, time.UTC)),
		FieldTags:   connector.Multi(TagValues[n%len(TagValues)], TagValues[(n+2)%len(TagValues)]),
	}
}

// with returns a copy of v with the given values replaced.
func (v vals) with(kv ...any) vals {
	out := vals{}
	for k, x := range v {
		out[k] = x
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(connector.Value)
	}
	return out
}

// upsert writes records and checks the call-level contract: no error, one
// Result per record.
func (s *suite) upsert(recs ...connector.Record) []connector.Result {
	s.t.Helper()
	res, err := s.sink().Upsert(s.ctx, s.obj, recs)
	if err != nil {
		s.t.Fatalf("Upsert of %d records: %v", len(recs), err)
	}
	if len(res) != len(recs) {
		s.t.Fatalf("Upsert of %d records returned %d results; the contract is one Result per record", len(recs), len(res))
	}
	return res
}

// mustUpsert writes records that must all succeed.
func (s *suite) mustUpsert(recs ...connector.Record) []connector.Result {
	s.t.Helper()
	res := s.upsert(recs...)
	for i, r := range res {
		if r.Err != nil {
			s.t.Fatalf("Upsert of a valid record (key %q, #%d in the batch) failed: %v", recs[i].Key, i, r.Err)
		}
	}
	return res
}

// del deletes keys and checks the call-level contract.
func (s *suite) del(keys ...string) []connector.Result {
	s.t.Helper()
	res, err := s.sink().Delete(s.ctx, s.obj, keys)
	if err != nil {
		s.t.Fatalf("Delete of %d keys: %v", len(keys), err)
	}
	if len(res) != len(keys) {
		s.t.Fatalf("Delete of %d keys returned %d results; the contract is one Result per key", len(keys), len(res))
	}
	return res
}

// read does a Read and collects the records in order.
func (s *suite) read(since connector.Cursor) ([]connector.Record, connector.Cursor) {
	s.t.Helper()
	var out []connector.Record
	cur, err := s.c.Read(s.ctx, s.obj, since, func(r connector.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		s.t.Fatalf("Read(%s, since %q): %v", s.obj, since, err)
	}
	return out, cur
}

// readAll does a complete Read and returns the records by KeyID, checking
// that each is live, whole and read once.
func (s *suite) readAll() map[string]connector.Record {
	s.t.Helper()
	recs, _ := s.read("")
	return s.byKey("Read", recs)
}

func (s *suite) byKey(what string, recs []connector.Record) map[string]connector.Record {
	s.t.Helper()
	out := make(map[string]connector.Record, len(recs))
	for _, r := range recs {
		id := s.keyID(r.Key)
		if _, dup := out[id]; dup {
			s.t.Errorf("%s passed the record with key %q more than once", what, r.Key)
		}
		if r.Deleted {
			s.t.Errorf("%s passed the record with key %q marked Deleted", what, r.Key)
		}
		if r.Err != nil {
			s.t.Errorf("%s passed the record with key %q with Err: %v", what, r.Key, r.Err)
		}
		out[id] = r
	}
	return out
}

// keys returns the keys of a set of records, sorted, for messages.
func keys(m map[string]connector.Record) []string {
	out := make([]string, 0, len(m))
	for _, r := range m {
		out = append(out, r.Key)
	}
	sort.Strings(out)
	return out
}

// expectKeys checks that got holds exactly the records of want (by KeyID).
func (s *suite) expectKeys(what string, got map[string]connector.Record, want ...string) {
	s.t.Helper()
	wantIDs := map[string]bool{}
	for _, k := range want {
		wantIDs[s.keyID(k)] = true
		if _, ok := got[s.keyID(k)]; !ok {
			s.t.Errorf("%s: the record with key %q is missing (got %q)", what, k, keys(got))
		}
	}
	for id, r := range got {
		if !wantIDs[id] {
			s.t.Errorf("%s: unexpected record with key %q (want %q)", what, r.Key, want)
		}
	}
}

// canonical returns v as the connector's description of the logical field
// says it stores it.
func (s *suite) canonical(logical string, v connector.Value) connector.Value {
	s.t.Helper()
	f := s.field(logical)
	c, err := connector.Canonicalize(v, f)
	if err != nil {
		s.t.Fatalf("the suite's %s value of kind %s cannot be stored in the connector's field %s (%s): %v", logical, v.Kind(), f.Name, f.Type, err)
	}
	return c
}

// got returns the value of a logical field of a record read back; a field
// the read left out is null.
func (s *suite) got(r connector.Record, logical string) connector.Value {
	f := s.field(logical)
	if v, ok := r.Fields[f.Name]; ok {
		return v
	}
	return r.Fields[s.opt.fieldName(logical)]
}

// expectFields checks that the record read back holds want (canonicalised
// against the connector's Describe) in each field of want.
func (s *suite) expectFields(what string, r connector.Record, want vals) {
	s.t.Helper()
	for _, l := range sortedKeys(want) {
		w := s.canonical(l, want[l])
		g := s.got(r, l)
		if !g.Equal(w) {
			s.t.Errorf("%s: record %q field %s = %s %q, want %s %q", what, r.Key, l, g.Kind(), g.Raw(), w.Kind(), w.Raw())
		}
	}
}

// expectComplete checks that a live record read carries every field of
// the test object (a missing field means unknown, not null).
func (s *suite) expectComplete(what string, r connector.Record) {
	s.t.Helper()
	for _, l := range logicalFields {
		if l == FieldKey {
			continue
		}
		f := s.field(l)
		if _, ok := r.Fields[f.Name]; !ok {
			s.t.Errorf("%s: record %q has no field %s: records carry every field read, null ones as Null (a missing field is unknown)", what, r.Key, f.Name)
		}
	}
}

// expectResult checks one write Result against the record it answers.
func (s *suite) expectResult(what string, res connector.Result, key string, created bool) {
	s.t.Helper()
	if res.Err != nil {
		s.t.Errorf("%s: key %q failed: %v", what, key, res.Err)
		return
	}
	if s.keyID(res.Key) != s.keyID(key) {
		s.t.Errorf("%s: Result.Key = %q, want %q (one Result per record, in order, echoing the key)", what, res.Key, key)
	}
	if res.Created != created {
		s.t.Errorf("%s: key %q Result.Created = %v, want %v", what, key, res.Created, created)
	}
}

// expectRecordError checks that a failed Result carries a *RecordError
// naming key, and returns it.
func (s *suite) expectRecordError(what string, res connector.Result, key string) *connector.RecordError {
	s.t.Helper()
	if res.Err == nil {
		s.t.Errorf("%s: key %q succeeded, want a per-record failure", what, key)
		return nil
	}
	var re *connector.RecordError
	if !errors.As(res.Err, &re) {
		s.t.Errorf("%s: key %q: Result.Err is a %T, want a *connector.RecordError: %v", what, key, res.Err, res.Err)
		return nil
	}
	if s.keyID(re.Key) != s.keyID(key) && !(connector.NormalizeKey(key) == "" && re.Key == "") {
		s.t.Errorf("%s: RecordError.Key = %q, want %q", what, re.Key, key)
	}
	if s.keyID(res.Key) != s.keyID(key) {
		s.t.Errorf("%s: Result.Key = %q, want %q (one Result per record, in order, echoing the key)", what, res.Key, key)
	}
	return re
}

// cursorWait waits Opt.ChangeDelay.
func (s *suite) cursorWait() {
	if s.opt.ChangeDelay > 0 {
		select {
		case <-time.After(s.opt.ChangeDelay):
		case <-s.ctx.Done():
		}
	}
}
