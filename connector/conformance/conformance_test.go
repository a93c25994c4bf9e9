package conformance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/memory"
)

// TestVariantsPass checks that declared differences are handled without
// forking: each variant of the memory connector passes every clause it
// does not skip, and skips exactly the ones listed.
func TestVariantsPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() connector.Connector
		edit func(*conformance.Opt)
		skip []string
	}{
		{"memory", func() connector.Connector { return newMem() }, nil, nil},
		{"case-sensitive key", func() connector.Connector { return newMem(caseSensitiveKey) },
			func(o *conformance.Opt) { o.KeyCaseSensitive = true }, nil},
		{"everything stored as text", func() connector.Connector { return newMem(allText) },
			func(o *conformance.Opt) {
				o.TextOnly = true
				o.Invalid = func(key string) connector.Record { // 81 characters into text(80)
					return connector.Record{Key: key, Fields: map[string]connector.Value{
						conformance.FieldName: connector.Text(strings.Repeat("ยาวเกิน", 11) + "ยาวเกิ"),
					}}
				}
			}, nil},
		{"fields renamed", func() connector.Connector { return newMem(renameFields) },
			func(o *conformance.Opt) {
				o.Fields = renames
				o.Invalid = func(key string) connector.Record {
					return connector.Record{Key: key, Fields: map[string]connector.Value{
						"cb_Amount__c": connector.Text("not a number at all")}}
				}
			}, nil},
		{"other object name", func() connector.Connector { return memory.New("m", conformance.TestObject("cb_Case__c")) },
			func(o *conformance.Opt) { o.Object = "cb_Case__c" }, nil},
		{"no change tracking", func() connector.Connector { return noTracker{minimal{forward{newMem()}}} },
			func(o *conformance.Opt) { o.TracksChanges = false }, nil},
		{"no KeyLister or KeyReader", func() connector.Connector { return minimal{forward{newMem()}} },
			func(o *conformance.Opt) { o.TracksChanges = false }, []string{"list_keys", "read_keys"}},
		{"no Invalid record declared", func() connector.Connector { return newMem() },
			func(o *conformance.Opt) { o.Invalid = nil }, []string{"batch_failure", "atomic_record"}},
		{"waived clauses", func() connector.Connector { return newMem() },
			func(o *conformance.Opt) {
				o.Waive = map[string]string{"large_batch": "the store takes 10 records per minute", "cancel": "calls cannot be interrupted"}
			}, []string{"large_batch", "cancel"}},
		{"cursor with a coarse clock", func() connector.Connector { return newMem() },
			func(o *conformance.Opt) { o.ChangeDelay = time.Millisecond }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opt(tc.new)
			if tc.edit != nil {
				tc.edit(&o)
			}
			rep := conformance.Check(t, o)
			if len(rep.Outcomes) != len(conformance.Clauses())+1 {
				t.Errorf("%d outcomes, want one per clause and opt:\n%s", len(rep.Outcomes), rep)
			}
			expectOnly(t, rep, nil, tc.skip)
		})
	}
}

func TestWaiverReason(t *testing.T) {
	rep := conformance.Check(t, func() conformance.Opt {
		o := opt(func() *memory.Connector { return newMem() })
		o.Waive = map[string]string{"cancel": "calls cannot be interrupted"}
		return o
	}())
	out := rep.Outcome("cancel")
	if out == nil || out.Status != conformance.Skipped || len(out.Log) != 1 || !strings.Contains(out.Log[0], "calls cannot be interrupted") {
		t.Errorf("waived clause: %+v, want skipped with the reason", out)
	}
}

func TestOptProblems(t *testing.T) {
	good := opt(func() *memory.Connector { return newMem() })
	for _, tc := range []struct {
		name string
		edit func(*conformance.Opt)
		want string // in opt's log
	}{
		{"waiver without a reason", func(o *conformance.Opt) { o.Waive = map[string]string{"unicode": " "} }, `Opt.Waive["unicode"] gives no reason`},
		{"waiver of no clause", func(o *conformance.Opt) { o.Waive = map[string]string{"unicod": "typo"} }, `Opt.Waive names "unicod", which is not a clause`},
		{"opt cannot be waived", func(o *conformance.Opt) { o.Waive = map[string]string{"opt": "no"} }, `Opt.Waive names "opt"`},
		{"no New", func(o *conformance.Opt) { o.New = nil }, "Opt.New is nil"},
		{"unknown logical field", func(o *conformance.Opt) { o.Fields = map[string]string{"Nmae": "x"} }, `Opt.Fields names "Nmae"`},
		{"two fields on one name", func(o *conformance.Opt) { o.Fields = map[string]string{conformance.FieldName: conformance.FieldBorn} }, "Opt.Fields maps both"},
		{"negative batch", func(o *conformance.Opt) { o.LargeBatch = -1 }, "Opt.LargeBatch is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			rep := conformance.Check(t, o)
			if got := rep.Failed(); !slices.Equal(got, []string{"opt"}) {
				t.Errorf("failed clauses %q, want only opt", got)
			}
			if len(rep.Outcomes) != 1 {
				t.Errorf("%d clauses ran after a bad Opt, want none:\n%s", len(rep.Outcomes)-1, rep)
			}
			if out := rep.Outcome("opt"); out == nil || !strings.Contains(strings.Join(out.Log, "\n"), tc.want) {
				t.Errorf("opt's log lacks %q:\n%s", tc.want, rep)
			}
		})
	}
}

// TestNewFailures checks that a harness that fails in New (through the
// testing.TB it is given) fails each clause, not the test calling Check.
func TestNewFailures(t *testing.T) {
	o := opt(func() *memory.Connector { return newMem() })
	o.New = func(tb testing.TB) connector.Connector {
		tb.Fatalf("cannot reach the test database")
		return nil
	}
	rep := conformance.Check(t, o)
	if got := rep.Failed(); !slices.Equal(got, conformance.Clauses()) {
		t.Errorf("failed %q, want every clause", got)
	}
	if out := rep.Outcome("schema"); out == nil || len(out.Log) != 1 || out.Log[0] != "cannot reach the test database" {
		t.Errorf("schema outcome %+v", out)
	}

	o.New = func(tb testing.TB) connector.Connector {
		tb.Skipf("no database configured")
		return nil
	}
	rep = conformance.Check(t, o)
	expectOnly(t, rep, nil, conformance.Clauses())

	o.New = func(testing.TB) connector.Connector { return nil }
	rep = conformance.Check(t, o)
	if got := rep.Failed(); !slices.Equal(got, conformance.Clauses()) {
		t.Errorf("New returning nil: failed %q, want every clause", got)
	}
}

// TestRecorder checks the recording T on its own: Fatalf and Skipf end
// the subtest, Errorf does not, nested failures fail the clause, panics
// are recorded, and the context ends with the clause.
func TestRecorder(t *testing.T) {
	var ctxs []context.Context
	var after []string
	root := conformance.Check(t, conformance.Opt{
		New: func(tb testing.TB) connector.Connector {
			// New runs at the start of each clause (schema, read_all,
			// ...): fail in a different way in each of the first four.
			ctxs = append(ctxs, tb.Context())
			switch len(ctxs) {
			case 1:
				tb.Errorf("first error")
				tb.Errorf("second error")
				after = append(after, "errorf goes on")
				return newMem()
			case 2:
				tb.Fatalf("fatal")
				after = append(after, "fatal went on")
			case 3:
				tb.Skipf("skipped")
				after = append(after, "skip went on")
			case 4:
				var m map[string]int
				m["x"]++ // panics
			}
			return newMem()
		},
		TracksChanges: true,
		Invalid:       badTags,
	})
	if !slices.Equal(after, []string{"errorf goes on"}) {
		t.Errorf("after = %q", after)
	}
	st := outcomes(root)
	if st["schema"] != conformance.Failed || st["read_all"] != conformance.Failed ||
		st["read_since"] != conformance.Skipped || st["list_keys"] != conformance.Failed || st["read_keys"] != conformance.Passed {
		t.Errorf("outcomes %v\n%s", st, root)
	}
	if log := root.Outcome("schema").Log; !slices.Equal(log, []string{"first error", "second error"}) {
		t.Errorf("schema log %q", log)
	}
	if log := strings.Join(root.Outcome("list_keys").Log, "\n"); !strings.Contains(log, "panic: assignment to entry in nil map") {
		t.Errorf("list_keys log %q, want the panic", log)
	}
	for i, ctx := range ctxs {
		if ctx.Err() == nil {
			t.Errorf("context of clause %d not cancelled when it ended", i)
		}
	}
}

// TestRunWithTesting runs the suite through the *testing.T adapter, as a
// connector's test does.
func TestRunWithTesting(t *testing.T) {
	conformance.Run(t, opt(func() *memory.Connector { return newMem() }))
}

func TestTestObject(t *testing.T) {
	o := conformance.TestObject("X")
	if o.Name != "X" || o.Key != conformance.FieldKey {
		t.Fatalf("TestObject: %+v", o)
	}
	want := map[string]connector.FieldType{
		conformance.FieldKey: connector.TypeString, conformance.FieldName: connector.TypeString,
		conformance.FieldAmount: connector.TypeCurrency, conformance.FieldBorn: connector.TypeDate,
		conformance.FieldActive: connector.TypeBoolean, conformance.FieldSeen: connector.TypeDateTime,
		conformance.FieldTags: connector.TypeMultiPicklist,
	}
	if len(o.Fields) != len(want) {
		t.Errorf("%d fields, want %d", len(o.Fields), len(want))
	}
	for name, typ := range want {
		f := o.Field(name)
		if f == nil || f.Type != typ || !f.Createable || !f.Updateable {
			t.Errorf("field %s: %+v, want a writable %s", name, f, typ)
		}
	}
	k := o.KeyField()
	if k.Length != 80 || !k.ExternalID || !k.Unique || k.CaseSensitive || k.Nillable {
		t.Errorf("key field %+v, want text(80) external id, unique, case-insensitive, required", k)
	}
	if a := o.Field(conformance.FieldAmount); a.Precision != 12 || a.Scale != 2 {
		t.Errorf("Amount is currency(%d,%d), want (12,2)", a.Precision, a.Scale)
	}
	if tags := o.Field(conformance.FieldTags); !tags.Restricted || !slices.Equal(tags.Picklist, conformance.TagValues) {
		t.Errorf("Tags %+v, want restricted to TagValues", tags)
	}
	// Each call returns a fresh description.
	o.Fields[0].Name = "changed"
	if conformance.TestObject("X").Fields[0].Name != conformance.FieldKey {
		t.Error("TestObject shares its fields between calls")
	}
}
