package schedules

import (
	"context"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/reconcile"
)

// Children's parents by reference. A child record's parent field is
// compared as Salesforce stores it, the parent's Id (the view finds it by
// the parent's key through the run's lookup cache, so a run with nothing
// new searches nothing), but written by reference: the Salesforce side of
// a child hands the connector <Relationship>.<parent key field> set to the
// parent's key (mapping.JobMapping.ByReference), which Salesforce resolves
// on save in sObject Collections and Bulk API 2.0 alike. No query is made
// per parent, and a child whose parent the same run creates is created in
// that run: the view gives it its parent's key while no Id is known
// (mapping.View.ByReference), and the engine writes parents before
// children. The run after compares Ids again: both sides hold the parent's
// Id, and nothing is written.

// sfConn is what a child's Salesforce route uses of the connector.
type sfConn interface {
	connector.Connector
	connector.Sink
	connector.KeyLister
	connector.KeyReader
	connector.ChangeTracker
}

// canReference reports whether the Salesforce connector can carry the
// children's writes by reference (see byReference).
func canReference(sf connector.Connector) bool {
	_, ok := sf.(sfConn)
	return ok
}

// byReference is a child's Salesforce side: its upserts set the parent
// field by reference to the parent's key.
type byReference struct {
	sfConn
	m *mapping.JobMapping
}

// Upsert implements connector.Sink.
func (b byReference) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	return b.sfConn.Upsert(ctx, object, b.m.ByReference(object, records))
}

// CreatesIdempotent implements reconcile.CreateIdempotence for the
// connector it wraps.
func (b byReference) CreatesIdempotent(object string) bool {
	c, ok := b.sfConn.(reconcile.CreateIdempotence)
	return !ok || c.CreatesIdempotent(object)
}

var _ sfConn = byReference{}
