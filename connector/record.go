package connector

import (
	"context"
	"maps"
	"time"
)

// Record is one record of an object.
type Record struct {
	// Key is the record's identity: the value of the object's key field,
	// in NormalizeKey form. Compare keys with KeyID.
	Key string
	// ID is the store's own identifier where it has one (a Salesforce Id,
	// an AUTO_INCREMENT id); "" otherwise.
	ID string
	// Fields holds the record's values by field name. A field missing
	// from the map is not known (a write leaves it unchanged); a field
	// mapped to Null is null.
	Fields map[string]Value
	// Modified is the record's last modification time, if the store keeps
	// one; zero otherwise.
	Modified time.Time
	// Deleted marks a record read from a change feed or a recycle bin
	// that no longer exists.
	Deleted bool
	// Err is set on a record that could be read only in part (an
	// unparseable row, a duplicate or empty key). Key is set when known.
	// Such a key is unknown to a sync: neither present nor deleted.
	Err error
}

// Get returns the value of the named field, or null.
func (r *Record) Get(name string) Value { return r.Fields[name] }

// Set sets the named field.
func (r *Record) Set(name string, v Value) {
	if r.Fields == nil {
		r.Fields = make(map[string]Value)
	}
	r.Fields[name] = v
}

// Clone returns a copy of r that shares no map with it.
func (r Record) Clone() Record {
	r.Fields = maps.Clone(r.Fields)
	return r
}

// Result is the outcome of writing one record.
type Result struct {
	// Key is the key of the record written.
	Key string
	// ID is the store's identifier of the record, when it has one.
	ID string
	// Created is true when an upsert created the record.
	Created bool
	// Note, for a status column (connector/sheet's Status), says in a
	// word what happened to a record written without error when it is
	// more than "synced": "adopted" (a case opened in Salesforce, given a
	// key and brought here). It never holds a value.
	Note string
	// Err is nil on success, otherwise a *RecordError naming the key and,
	// where known, the field.
	Err error
}

// Cursor is an opaque position in an object's change history, returned by
// Source.Read. The empty Cursor means "from the beginning".
type Cursor string

type fieldsKey struct{}

// WithFields returns a context asking a Source's Read and a KeyReader's
// ReadKeys for the named fields only, besides the key and the
// modification time (the engine asks for the fields a job maps). A
// source that can select fields (Salesforce: the SOQL SELECT list) reads
// fewer; any source may return more. Records read so must not be taken
// for complete ones: a field left out is unknown, not null.
func WithFields(ctx context.Context, fields []string) context.Context {
	return context.WithValue(ctx, fieldsKey{}, fields)
}

type keyFilterKey struct{}

// WithKeyFilter asks a Read to pass only the records whose key keep
// accepts (and every record without a usable key, or read with an error):
// a run planned in parts reads the local side once per part. A connector
// may ignore it (the engine filters again); one that maps rows skips the
// mapping of the rows it leaves out.
func WithKeyFilter(ctx context.Context, keep func(key string) bool) context.Context {
	return context.WithValue(ctx, keyFilterKey{}, keep)
}

type rereadKey struct{}

// WithReread marks a Read as reading again what an earlier read of the
// same run passed (a run planned in parts sorts the local side's rows):
// progress counters leave it out.
func WithReread(ctx context.Context) context.Context {
	return context.WithValue(ctx, rereadKey{}, true)
}

// Reread reports whether WithReread marked ctx.
func Reread(ctx context.Context) bool {
	b, _ := ctx.Value(rereadKey{}).(bool)
	return b
}

// KeyFilterOf returns the filter WithKeyFilter set, or nil.
func KeyFilterOf(ctx context.Context) func(key string) bool {
	f, _ := ctx.Value(keyFilterKey{}).(func(string) bool)
	return f
}

// FieldsOf returns the fields WithFields asked for, if any.
func FieldsOf(ctx context.Context) ([]string, bool) {
	f, ok := ctx.Value(fieldsKey{}).([]string)
	return f, ok
}
