package connector

import (
	"context"
	"io"
)

// Connector is what every connector offers: a name, descriptions of its
// objects and a way to read them. Writing, listing keys and reading by key
// are optional interfaces (Sink, KeyLister, KeyReader); FeaturesOf collects
// them.
//
// Every method takes a context and returns promptly once it is cancelled,
// with an error wrapping ctx.Err() (Upsert and Delete then return nil
// results: the outcome of each record is unknown).
type Connector interface {
	// Name returns the connector instance's configured name
	// ("th_tracker"), used in errors and logs.
	Name() string
	Describer
	Source
}

// Describer describes objects.
type Describer interface {
	// Describe returns the description of the named object. An object the
	// connector does not have returns an error wrapping ErrObjectNotFound.
	Describe(ctx context.Context, object string) (*Object, error)
}

// Source streams records.
type Source interface {
	// Read calls fn for each record of object, in no particular order, and
	// returns a cursor for the next incremental read.
	//
	// With an empty since, Read is a complete read: every live record
	// (Deleted false) of the object is passed to fn exactly once, so a key
	// that was not seen does not exist. Rows the connector could read only
	// in part are passed with Record.Err set; their keys are unknown, not
	// absent.
	//
	// Records carry every field the connector reads, null ones as Null; a
	// field missing from Record.Fields is unknown (e.g. a mapping could
	// not read it): neither null nor a change. A caller that syncs leaves
	// such a field alone on both sides for that read.
	//
	// With a non-empty since, a connector that tracks changes passes only
	// the records changed after the cursor was taken, including deleted
	// ones (Deleted true) unless it is a DeleteTracker that says it does
	// not see deletions for object. It may pass again a record it passed before
	// the cursor was taken (a look-back window against late commits):
	// callers compare, they do not count. A connector that does not track
	// changes reads everything as if since were empty and returns an empty
	// cursor.
	//
	// If fn returns an error, Read stops and returns that error. An object
	// the connector does not have returns an error wrapping
	// ErrObjectNotFound.
	Read(ctx context.Context, object string, since Cursor, fn func(Record) error) (Cursor, error)
}

// Sink writes records.
type Sink interface {
	// Upsert creates or updates each record by its Key, comparing keys as
	// the object's key field does (KeyID). Fields missing from a record's
	// Fields are left as they are; Null clears a field. Upserting the
	// same record twice leaves the store as one upsert does. A record with
	// an empty key fails with CodeInvalidKey, except in a store whose keys
	// the database generates and that links records by another column
	// (sqldb's Table.Link): there an empty key with the link value set
	// creates the record, or updates the one holding that link value, and
	// Result.Key is the generated key. Callers do not pass one key
	// twice in a call; a connector may fail the second with
	// CodeDuplicateKey.
	//
	// Upsert returns one Result per record, in order, with Result.Key the
	// record's key (in NormalizeKey form). A record that fails
	// has a *RecordError in Result.Err and is not written at all (no field
	// of it is applied); the other records are written. A non-nil error
	// means the call as a whole failed: results are nil and each record's
	// outcome is unknown (retrying is safe, as upserts are idempotent).
	// One exception: a call stopped partway by an ErrStop (a budget, a
	// daily limit, an outage) may return the ErrStop together with one
	// Result per record, those not sent failing with a NOT_PROCESSED
	// RecordError that wraps the ErrStop (held for the next run) and the
	// others as written. Delete follows the same rules.
	Upsert(ctx context.Context, object string, records []Record) ([]Result, error)
	// Delete deletes the records with the given keys and returns one
	// Result per key, in order. A key with no record gets a *RecordError
	// wrapping ErrNotFound (code CodeNotFound); deleting is otherwise
	// idempotent. A non-nil error means the call as a whole failed.
	Delete(ctx context.Context, object string, keys []string) ([]Result, error)
}

// KeyLister lists keys without reading whole records.
type KeyLister interface {
	// ListKeys calls fn with the key of every live record of object: a
	// complete listing, as a complete Read would give. Keys of rows that
	// could not be read are not listed (they are unknown, not absent).
	// A connector whose reads are limited to a scope (a job's where) lists
	// the keys of existing records outside it too, since a key left out
	// reads as deleted; its reads pass those records with Record.Err set.
	ListKeys(ctx context.Context, object string, fn func(key string) error) error
}

// KeyReader reads records by key.
type KeyReader interface {
	// ReadKeys calls fn for the record of each key that exists, matching
	// keys as the object's key field does. Keys with no record are
	// skipped; a key given twice is read once. Records carry their fields
	// as Read's do (every field read, null ones as Null).
	ReadKeys(ctx context.Context, object string, keys []string, fn func(Record) error) error
}

// ChangeTracker is implemented by connectors whose Read honours a cursor.
type ChangeTracker interface {
	// TracksChanges reports whether Read with a non-empty cursor returns
	// only changes for object.
	TracksChanges(object string) bool
}

// DeleteTracker is implemented by change trackers that may not see
// deletions: a table with an updated_at column whose rows are deleted
// outright (no soft-delete column) shows changes since a cursor, but a
// deleted row simply stops appearing.
type DeleteTracker interface {
	// TracksDeletes reports whether Read with a non-empty cursor passes
	// the records deleted after the cursor (Deleted true) for object.
	// When it is false, an incremental read says nothing about deletes: a
	// caller finds them only by a complete key listing (KeyLister) or a
	// complete Read of object.
	TracksDeletes(object string) bool
}

// SeesDeletes reports whether f's incremental reads of object pass
// deleted records: the connector tracks changes for object and, if it is
// a DeleteTracker, says it tracks deletes too.
func (f Features) SeesDeletes(object string) bool {
	if f.Tracker == nil || !f.Tracker.TracksChanges(object) {
		return false
	}
	return f.DeleteTracker == nil || f.DeleteTracker.TracksDeletes(object)
}

// Features is what a connector offers beyond Connector, collected once so
// callers do not keep type-asserting. A nil interface field means the
// connector does not offer it.
type Features struct {
	Sink      Sink
	KeyLister KeyLister
	KeyReader KeyReader
	Tracker   ChangeTracker
	// DeleteTracker is set when the connector says whether its tracker
	// sees deletions; nil means it does (the Read contract).
	DeleteTracker DeleteTracker
	Closer        io.Closer
}

// FeaturesOf returns the Features of c.
func FeaturesOf(c Connector) Features {
	var f Features
	f.Sink, _ = c.(Sink)
	f.KeyLister, _ = c.(KeyLister)
	f.KeyReader, _ = c.(KeyReader)
	f.Tracker, _ = c.(ChangeTracker)
	f.DeleteTracker, _ = c.(DeleteTracker)
	f.Closer, _ = c.(io.Closer)
	return f
}
