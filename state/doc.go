// Package state keeps what the reconcile engine remembers between runs,
// and never a field value: per job, key and field the baseline and last
// seen fingerprints and the rule hash; per job the cursors, the pending set,
// the conflict queue, the run history and the per-record error log; per
// scope the tombstones (hashed keys); and the id of the fingerprint key the
// state was written under (a state refuses another key).
//
// # Stores
//
// Store is the interface; SQLStore implements it on SQLite (OpenSQLite,
// embedded, the default) and PostgreSQL (OpenPostgres, for replicas sharing
// one state). Both apply versioned migrations on open and behave alike:
// package storetest is the one suite both pass.
//
// # Record format
//
// A record's field states are one blob: format 2 starts with the record's
// salt, which its fingerprints are bound to; format 1 (states written
// before) has none, and holds fingerprints of the value alone until the
// engine writes the record again. Both are read; format 1 is written only
// for a RecordState without a salt.
//
// # Transactions
//
// Update runs a function in one transaction, so a record's baseline, its
// pending entries and its conflicts change together: the engine advances a
// baseline in the same transaction that records the write's success, after
// the write returned.
//
// # Glossary
//
//   - Fingerprint: 64 bits of a keyed MAC of a canonical value, bound to
//     its job, object, field and record (RecordState.Salt; package
//     reconcile, "Bound fingerprints"), so that no two records or fields
//     share one for equal values. Zero means none.
//   - Baseline: the fingerprint of the value both sides last agreed on.
//   - Pending: a key to re-fetch by key and look at again next run (a
//     failed write, an open conflict, a pending create, a write held back
//     by a budget, a record unreadable on one side).
//   - Tombstone: a hashed key that must not be created again.
package state
