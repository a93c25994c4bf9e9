package salesforce

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/conformance"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// conformanceObject returns the fake org's object of
// conformance.TestObject's shape: an sObject whose name mentions
// "Conformance".
func conformanceObject(org *sftest.Org) string {
	for _, n := range org.ObjectNames() {
		if strings.Contains(strings.ToLower(n), "conformance") {
			return n
		}
	}
	return ""
}

// TestConformance runs connector/conformance against the fake org. It needs
// an object of conformance.TestObject's shape in the fake org's seed
// (fixtures/org/seed.json), which has one: without it the test fails
// rather than skip (a skip would pass CI with the suite never run).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite against the fake org is slow")
	}
	probe, srv := sftest.NewServer(t, sftest.Options{Empty: true})
	object := conformanceObject(probe)
	if object == "" {
		t.Fatal("the fake org has no conformance test object (an sObject of conformance.TestObject's shape); sftest's seed needs one")
	}
	// Map logical names by describe: a field named <logical>__c, with or
	// without a namespace prefix.
	c := connectFake(t, srv, nil)
	desc, err := c.Describe(context.Background(), object)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, logical := range []string{conformance.FieldKey, conformance.FieldName, conformance.FieldAmount, conformance.FieldBorn,
		conformance.FieldActive, conformance.FieldSeen, conformance.FieldTags} {
		for _, f := range desc.Fields {
			base := strings.TrimSuffix(f.Name, "__c")
			if i := strings.LastIndex(base, "__"); i >= 0 {
				base = base[i+2:]
			}
			if _, ns, ok := strings.Cut(base, "_"); ok && strings.EqualFold(ns, logical) {
				base = ns
			}
			if strings.EqualFold(base, logical) && f.Type != connector.TypeID {
				fields[logical] = f.Name
			}
		}
	}
	key := fields[conformance.FieldKey]
	if key == "" {
		t.Fatalf("conformance object %s has no Key field", object)
	}
	// Once with sObject Collections, once with every write through a Bulk
	// API 2.0 job.
	for _, mode := range []struct {
		name string
		bulk int
	}{{"collections", -1}, {"bulk", 1}} {
		t.Run(mode.name, func(t *testing.T) {
			conformance.Run(t, conformance.Opt{
				New: func(tb testing.TB) connector.Connector {
					_, srv := sftest.NewServer(tb, sftest.Options{Empty: true})
					return connectFake(tb, srv, func(o *Options) {
						o.KeyFields = map[string]string{object: key}
						o.BulkThreshold, o.BulkPoll = mode.bulk, time.Millisecond
					})
				},
				Object:        object,
				Fields:        fields,
				TracksChanges: true,
				Invalid: func(k string) connector.Record {
					return connector.Record{Key: k, Fields: map[string]connector.Value{fields[conformance.FieldName]: connector.Text(strings.Repeat("x", 81))}}
				},
				// SystemModstamp has millisecond grain; the fake org's
				// clock is the machine's.
				ChangeDelay: 5 * time.Millisecond,
			})
		})
	}
}
