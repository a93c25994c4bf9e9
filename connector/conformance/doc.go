// Package conformance is the test suite every connector passes, as
// rclone's backends pass fstests: a connector's test is one call.
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Opt{
//			New: func(tb testing.TB) connector.Connector {
//				return memory.New("memory", conformance.TestObject(conformance.DefaultObject))
//			},
//			TracksChanges: true,
//			Invalid: func(key string) connector.Record {
//				return connector.Record{Key: key, Fields: map[string]connector.Value{
//					conformance.FieldTags: connector.Multi("not-a-tag"),
//				}}
//			},
//		})
//	}
//
// # The test object
//
// The harness's New returns a fresh connector in which an empty object
// shaped like TestObject exists: a text(80) external-id key, a text(80)
// Name, a currency(12,2) Amount, a date Born, a checkbox Active, a
// datetime Seen and a restricted multi-select Tags. A store that names
// columns its own way maps the logical names in Opt.Fields.
//
// # Declared differences
//
// A connector that differs from the reference connector (connector/memory)
// says how in Opt, never by copying and editing the suite:
// KeyCaseSensitive, TracksChanges, TextOnly (everything stored as text),
// Invalid (a record it rejects per record; without it two clauses skip),
// LargeBatch, ChangeDelay and Timeout. Expectations are always put in the
// canonical form of the connector's own Describe (connector.Canonicalize)
// before they are compared, so a text-only store is compared as text. A
// clause that cannot apply is waived in Opt.Waive with a reason; a waiver
// without one fails the run. Optional interfaces the connector lacks
// (KeyLister, KeyReader) skip their clauses.
//
// # Glossary of clauses
//
// Each clause is a subtest of that name, run on its own fresh connector.
// The doc comment of each clause's method quotes the sentences of
// package connector's contract it tests.
//
//   - opt: Opt itself is sound (New set, field names and waivers known,
//     every waiver has a reason). Nothing else runs if it fails.
//   - schema: Describe names the key field and has every field with the
//     kind of value expected, and its key's case sensitivity matches
//     Opt; Describe and Read of an unknown object wrap
//     connector.ErrObjectNotFound, and no other call succeeds on one.
//   - read_all: a complete Read passes every live record exactly once, with
//     the values written and every field present (never-written ones as
//     Null); when fn fails, Read stops and returns fn's error.
//   - read_since: with a cursor, a tracking connector passes exactly the
//     records changed after it, deletes with Deleted set (not required of
//     a DeleteTracker that says it does not see them), and nothing on a
//     re-read; a connector that does not track changes reads everything
//     and returns an empty cursor. TracksChanges agrees with Opt.
//   - list_keys: ListKeys lists every live key once and no deleted one.
//   - read_keys: ReadKeys passes every field, skips missing and deleted keys, reads a key
//     given twice once, and matches trimmed, NFD and (unless the key is
//     case-sensitive) case variants.
//   - upsert: one Result per record, in order, echoing the key, Created
//     exactly for new records; values read back in canonical form.
//   - partial_update: fields left out of an update keep their values;
//     Null clears a field.
//   - idempotent: upserting the same records again reports Created false
//     and changes nothing.
//   - delete: a deleted record is gone from Read, ListKeys and ReadKeys;
//     deleting a missing key fails that key with a *RecordError wrapping
//     connector.ErrNotFound, code NOT_FOUND; re-creating a deleted key
//     brings back none of its old values.
//   - batch_failure: an invalid record in a batch fails alone, with a
//     *RecordError naming its key, and neither its Error() nor %v of its
//     Result contains any of its values; the other records are written.
//   - atomic_record: a failed create leaves no record and a failed update
//     leaves every field as it was (the suite adds valid values to the
//     invalid record's other fields to catch a partial write).
//   - unicode: Thai, Khmer, Bengali, Arabic, emoji, ZWJ sequences,
//     combining marks and rclone's "hello? sausage/êé/Hello, 世界" as keys
//     and values; keys read back in NormalizeKey form, text NFC, 80 Thai
//     characters fit text(80).
//   - key_variants: NFC and NFD forms and padded keys name one record;
//     keys differing in case name one record, or two when the key is
//     case-sensitive; Delete matches the same way.
//   - empty_key: a key empty after trimming fails that record with
//     INVALID_KEY; the rest of the batch is written.
//   - large_batch: Opt.LargeBatch records (1000 by default) in one Upsert,
//     read back exactly, updated and deleted in one call each.
//   - cancel: every call with a cancelled context returns, within
//     Opt.Timeout, an error wrapping context.Canceled (results nil), even
//     when there is nothing to read; a Read cancelled midway stops.
//
// # Testing the suite
//
// The suite runs on T, a small interface; Run adapts *testing.T to it and
// Check runs the suite with a recording T, returning a Report of each
// clause's outcome. broken_test.go holds, for every clause, connectors
// that wrap the memory connector and break it, and asserts exactly which
// clauses fail for each.
package conformance
