package conformance_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/memory"
)

const obj = conformance.DefaultObject

// newMem returns a memory connector holding the test object, changed by
// the edits given.
func newMem(edits ...func(*connector.Object)) *memory.Connector {
	o := conformance.TestObject(obj)
	for _, e := range edits {
		e(o)
	}
	return memory.New("memory", o)
}

func caseSensitiveKey(o *connector.Object) { o.KeyField().CaseSensitive = true }

// allText makes every field a text field, as a CSV file stores them.
func allText(o *connector.Object) {
	for i := range o.Fields {
		f := &o.Fields[i]
		f.Type, f.Precision, f.Scale, f.Picklist, f.Restricted = connector.TypeString, 0, 0, nil, false
		f.Nillable = f.Name != o.Key
		if f.Length == 0 {
			f.Length = 255
		}
	}
}

// badTags is the memory harness's Invalid: a value outside the restricted
// multi-select.
func badTags(key string) connector.Record {
	return connector.Record{Key: key, Fields: map[string]connector.Value{
		conformance.FieldTags: connector.Multi("legal", "not-a-tag-ความลับ"),
	}}
}

// opt returns the Opt under which the plain memory connector passes, with
// New returning c().
func opt[C connector.Connector](c func() C) conformance.Opt {
	return conformance.Opt{
		New:           func(testing.TB) connector.Connector { return c() },
		TracksChanges: true,
		Invalid:       badTags,
		LargeBatch:    600,
	}
}

// forward is a connector that forwards every call to a memory connector
// and offers only what it declares: embed it in a type that adds the
// optional interfaces wanted.
type forward struct{ m *memory.Connector }

func (f forward) Name() string { return f.m.Name() }
func (f forward) Describe(ctx context.Context, object string) (*connector.Object, error) {
	return f.m.Describe(ctx, object)
}
func (f forward) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	return f.m.Read(ctx, object, since, fn)
}
func (f forward) Upsert(ctx context.Context, object string, recs []connector.Record) ([]connector.Result, error) {
	return f.m.Upsert(ctx, object, recs)
}
func (f forward) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	return f.m.Delete(ctx, object, keys)
}

// minimal is Connector and Sink only: no KeyLister, KeyReader or
// ChangeTracker. Its Read ignores the cursor, as the contract asks of a
// connector that does not track changes.
type minimal struct{ forward }

func (c minimal) Read(ctx context.Context, object string, _ connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	_, err := c.m.Read(ctx, object, "", fn)
	return "", err
}

// noTracker is the memory connector without change tracking.
type noTracker struct{ minimal }

func (c noTracker) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	return c.m.ListKeys(ctx, object, fn)
}
func (c noTracker) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	return c.m.ReadKeys(ctx, object, keys, fn)
}

// renamed is the memory connector with Salesforce-style field names.
var renames = map[string]string{
	conformance.FieldKey: "cb_External_Key__c", conformance.FieldName: "cb_Name__c", conformance.FieldAmount: "cb_Amount__c",
	conformance.FieldBorn: "cb_Born__c", conformance.FieldActive: "cb_Active__c", conformance.FieldSeen: "cb_Seen__c",
	conformance.FieldTags: "cb_Tags__c",
}

func renameFields(o *connector.Object) {
	for i := range o.Fields {
		o.Fields[i].Name = renames[o.Fields[i].Name]
	}
	o.Key = renames[o.Key]
}

// outcomes returns the status of every clause in the report.
func outcomes(rep *conformance.Report) map[string]conformance.Status {
	out := map[string]conformance.Status{}
	for _, o := range rep.Outcomes {
		out[o.Clause] = o.Status
	}
	return out
}

// expectOnly checks that exactly the clauses in fail failed, and that
// the skipped ones are exactly skip.
func expectOnly(t *testing.T, rep *conformance.Report, fail, skip []string) {
	t.Helper()
	var gotFail, gotSkip []string
	for _, o := range rep.Outcomes {
		switch o.Status {
		case conformance.Failed:
			gotFail = append(gotFail, o.Clause)
		case conformance.Skipped:
			gotSkip = append(gotSkip, o.Clause)
		}
	}
	slices.Sort(gotFail)
	slices.Sort(gotSkip)
	fail, skip = slices.Sorted(slices.Values(fail)), slices.Sorted(slices.Values(skip))
	if !slices.Equal(gotFail, fail) || !slices.Equal(gotSkip, skip) {
		t.Errorf("failed %q, want %q; skipped %q, want %q\n%s", gotFail, fail, gotSkip, skip, rep)
	}
}

// recordErr rebuilds a result's RecordError with edit applied.
func recordErr(err error, edit func(*connector.RecordError)) error {
	var re *connector.RecordError
	if !errors.As(err, &re) {
		return err
	}
	cp := *re
	edit(&cp)
	return &cp
}

// rejectSome writes the records that reject does not pick through m and
// fails the picked ones per record with code, in order.
func rejectSome(ctx context.Context, m *memory.Connector, object string, recs []connector.Record,
	reject func(connector.Record) bool, code connector.Code) ([]connector.Result, error) {
	var pass []connector.Record
	var idx []int
	res := make([]connector.Result, len(recs))
	for i, r := range recs {
		if reject(r) {
			res[i] = connector.Result{Key: connector.NormalizeKey(r.Key),
				Err: connector.NewRecordError("upsert", m.Name(), object, connector.NormalizeKey(r.Key), "", code, connector.Permanent,
					&connector.ValueError{Code: code})}
			continue
		}
		pass = append(pass, r)
		idx = append(idx, i)
	}
	out, err := m.Upsert(ctx, object, pass)
	if err != nil {
		return nil, err
	}
	for j, r := range out {
		res[idx[j]] = r
	}
	return res, nil
}

func hasCombining(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0x300 && r <= 0x36f })
}
