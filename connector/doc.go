// Package connector defines what casebridge knows about records and the
// systems that hold them: the canonical Value, Record and Schema types, the
// small interfaces every connector implements, and the typed errors they
// return.
//
// Connectors know nothing of mapping or reconciliation: they read and write
// Records of named objects (a Salesforce sObject, a sheet, a table) and
// describe those objects. The reconcile engine sees only Records and
// Schemas.
//
// # Values and canonical form
//
// A Value is one of null, text, number (exact decimal), bool, date (civil,
// no zone), datetime (UTC instant) or multi-select (a set of strings).
// Canonical means "as Salesforce stores it": Canonicalize takes the target
// field's description and returns the value that field would hold after a
// save (whole-second datetimes, numbers rounded to the field's scale, empty
// text as null, NFC text, sorted de-duplicated multi-select values). Equal
// and AppendCanonical work on canonical values, so fingerprints of a value
// written and read back do not change. AppendComparable, what fingerprints
// are computed over, also reduces text to the form in which a text and its
// cleaned reading are equal (ComparableText: line endings, edge white space
// and zero-width spaces do not count); it is for comparing only, never for
// writing.
//
// # Keys
//
// A record's Key is its identity in the object's key field (an external id,
// a case-id column). KeyID gives the form keys are compared in: NFC,
// trimmed, and case-folded unless the key field is case-sensitive.
//
// # Privacy
//
// Values never print themselves: Value.String and Value.GoString return a
// redacted description (kind and size), so a Value that reaches a log line
// or an error message by mistake leaks nothing. Code that needs the content
// asks for it explicitly (Value.Text, Value.Number, ...). Errors
// (RecordError) name the object, key and field, never a value.
//
// # Interfaces
//
// The core is Source (stream records, all or changed since a cursor) and
// Sink (upsert and delete in batches, one Result per record). Describer,
// KeyLister and KeyReader are optional; Features collects what a connector
// offers. Every connector passes the suite in connector/conformance.
package connector
