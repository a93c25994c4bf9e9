package memory_test

import (
	"testing"

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
