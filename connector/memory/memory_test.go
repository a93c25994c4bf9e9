package memory_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/memory"
)

// TestConformance runs the whole conformance suite against the memory
// connector: the reference every other connector is held to.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Opt{
		New: func(testing.TB) connector.Connector {
			return memory.New("memory", conformance.TestObject(conformance.DefaultObject))
		},
		TracksChanges: true,
		Invalid: func(key string) connector.Record {
			// A value outside the restricted picklist.
			return connector.Record{Key: key, Fields: map[string]connector.Value{
				conformance.FieldTags: connector.Multi("legal", "not-a-tag-ความลับ"),
			}}
		},
	})
}

func testObject() *connector.Object {
	o := conformance.TestObject("Case")
	o.Fields = append(o.Fields,
		connector.Field{Name: "Required", Type: connector.TypeString, Length: 10, Createable: true, Updateable: true},
		connector.Field{Name: "CreateOnly", Type: connector.TypeString, Length: 10, Nillable: true, Createable: true},
		connector.Field{Name: "Formula", Type: connector.TypeString, Nillable: true, Calculated: true},
	)
	return o
}

func rec(key string, kv ...any) connector.Record {
	r := connector.Record{Key: key, Fields: map[string]connector.Value{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields[kv[i].(string)] = kv[i+1].(connector.Value)
	}
	return r
}

func TestUpsertValidation(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		before []connector.Record // written first, must succeed
		rec    connector.Record
		field  string
		code   connector.Code
	}{
		{"required field missing on create", nil, rec("K"), "Required", connector.CodeRequired},
		{"required field null on create", nil, rec("K", "Required", connector.Null()), "Required", connector.CodeRequired},
		{"required field null on update", []connector.Record{rec("K", "Required", connector.Text("x"))},
			rec("K", "Required", connector.Text("")), "Required", connector.CodeRequired},
		{"create-only field on update", []connector.Record{rec("K", "Required", connector.Text("x"))},
			rec("K", "CreateOnly", connector.Text("y")), "CreateOnly", connector.CodeNotWritable},
		{"calculated field", nil, rec("K", "Required", connector.Text("x"), "Formula", connector.Text("y")), "Formula", connector.CodeNotWritable},
		{"unknown field", nil, rec("K", "Required", connector.Text("x"), "Nope", connector.Text("y")), "Nope", connector.CodeUnknownField},
		{"too long", nil, rec("K", "Required", connector.Text("12345678901")), "Required", connector.CodeTooLong},
		{"key longer than the key field", nil, rec(strings.Repeat("ก", 81), "Required", connector.Text("x")), conformance.FieldKey, connector.CodeTooLong},
		{"bad picklist", nil, rec("K", "Required", connector.Text("x"), conformance.FieldTags, connector.Multi("nope")), conformance.FieldTags, connector.CodeBadPicklist},
		{"wrong kind", nil, rec("K", "Required", connector.Text("x"), conformance.FieldBorn, connector.Int(39519)), conformance.FieldBorn, connector.CodeInvalidValue},
		{"empty key", nil, rec(" ", "Required", connector.Text("x")), conformance.FieldKey, connector.CodeInvalidKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := memory.New("mem", testObject())
			if len(tc.before) > 0 {
				res, err := m.Upsert(ctx, "Case", tc.before)
				if err != nil || res[0].Err != nil {
					t.Fatalf("setup: %v %v", err, res)
				}
			}
			res, err := m.Upsert(ctx, "Case", []connector.Record{tc.rec})
			if err != nil {
				t.Fatal(err)
			}
			var re *connector.RecordError
			if !errors.As(res[0].Err, &re) {
				t.Fatalf("Err = %v, want a *RecordError", res[0].Err)
			}
			if re.Field != tc.field || connector.CodeOf(re) != tc.code || re.Op != "upsert" || re.Connector != "mem" || re.Object != "Case" {
				t.Errorf("RecordError %+v (%v), want field %s code %s", re, re, tc.field, tc.code)
			}
		})
	}
}

func TestFailHookAndCalls(t *testing.T) {
	ctx := context.Background()
	m := memory.New("mem", conformance.TestObject("Case"))
	locked := &connector.RecordError{Code: connector.CodeLocked, Class: connector.Retryable, Err: errors.New("row locked")}
	m.Fail = func(op, object, key string) error {
		switch {
		case op == "upsert" && key == "K2":
			return errors.New("injected")
		case op == "delete" && key == "K3":
			return locked
		}
		return nil
	}
	res, err := m.Upsert(ctx, "Case", []connector.Record{rec("K1"), rec("K2"), rec("K3")})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[2].Err != nil {
		t.Errorf("unexpected failures: %v", res)
	}
	var re *connector.RecordError
	if !errors.As(res[1].Err, &re) || re.Key != "K2" || re.Op != "upsert" {
		t.Errorf("injected failure: %v", res[1].Err)
	}
	res, err = m.Delete(ctx, "Case", []string{"K1", "K3"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err != locked || !connector.IsRetryable(res[1].Err) {
		t.Errorf("delete results: %v, %v", res[0].Err, res[1].Err)
	}
	var keys []string
	if err := m.ListKeys(ctx, "Case", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"K3"}) {
		t.Errorf("keys %q, want [K3] (K1 deleted, K2 failed, K3's delete failed)", keys)
	}
	want := map[string]int{"upsert": 1, "upsert_records": 3, "delete": 1, "delete_records": 2, "list_keys": 1}
	if got := m.Calls(); !maps.Equal(got, want) {
		t.Errorf("Calls() = %v, want %v", got, want)
	}
	m.ResetCalls()
	if got := m.Calls(); len(got) != 0 {
		t.Errorf("Calls() after ResetCalls = %v", got)
	}
}

func TestModifiedAndCursor(t *testing.T) {
	ctx := context.Background()
	m := memory.New("mem", conformance.TestObject("Case"))
	now := time.Date(2024, 1, 15, 10, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	m.Now = func() time.Time { return now }
	if _, err := m.Upsert(ctx, "Case", []connector.Record{rec("K1")}); err != nil {
		t.Fatal(err)
	}
	var got []connector.Record
	cur, err := m.Read(ctx, "Case", "", func(r connector.Record) error { got = append(got, r); return nil })
	if err != nil || len(got) != 1 {
		t.Fatalf("Read: %v, %d records", err, len(got))
	}
	if !got[0].Modified.Equal(now) || got[0].Modified.Location() != time.UTC || got[0].ID == "" {
		t.Errorf("record %+v, want Modified = Now in UTC and an ID", got[0])
	}
	if cur != "1" {
		t.Errorf("cursor %q, want the change sequence 1", cur)
	}
	if _, err := m.Read(ctx, "Case", "yesterday", func(connector.Record) error { return nil }); err == nil {
		t.Error("Read with a malformed cursor succeeded")
	}
}

func TestDescribeIsACopy(t *testing.T) {
	ctx := context.Background()
	o := conformance.TestObject("Case")
	m := memory.New("mem", o)
	o.Field(conformance.FieldTags).Picklist[0] = "changed by the caller"
	d, err := m.Describe(ctx, "Case")
	if err != nil {
		t.Fatal(err)
	}
	d.Field(conformance.FieldTags).Picklist[1] = "changed by a reader"
	d.Fields[1].Name = "renamed"
	res, err := m.Upsert(ctx, "Case", []connector.Record{rec("K1", conformance.FieldName, connector.Text("n"),
		conformance.FieldTags, connector.Multi(conformance.TagValues[0], conformance.TagValues[1]))})
	if err != nil || res[0].Err != nil {
		t.Errorf("a write valid under the original description failed: %v %v", err, res)
	}
}

// TestConcurrentUse runs writers and readers at once, for the race
// detector, with a Read callback that writes back into the connector.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	m := memory.New("mem", conformance.TestObject("Case"))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := fmt.Sprintf("W%d-%d", w, i)
				if _, err := m.Upsert(ctx, "Case", []connector.Record{rec(k, conformance.FieldName, connector.Text(k))}); err != nil {
					t.Error(err)
				}
				_, err := m.Read(ctx, "Case", "", func(r connector.Record) error {
					if r.Key == k {
						_, err := m.Upsert(ctx, "Case", []connector.Record{rec(k, conformance.FieldActive, connector.Bool(true))})
						return err
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	if err := m.ListKeys(ctx, "Case", func(string) error { n++; return nil }); err != nil || n != 200 {
		t.Errorf("ListKeys: %v, %d keys, want 200", err, n)
	}
}
