// Package reconcile is the sync engine: a three-way, field-level
// comparison of a Salesforce-side and a local-side connector against the
// baseline kept in package state, a plan listing every intended write with
// its reason, and an apply that advances a record's baseline only after
// its write succeeded.
//
// # Run
//
// Engine.Run reads both sides (Salesforce from its cursor, with a complete
// key listing for deletes and pending keys re-fetched by key; the local
// side completely), fingerprints every synced field (Fingerprinter: an
// HMAC of the canonical value, never the value; the state keeps it bound
// to its record and field, README.md "Bound fingerprints"), decides each
// record and field by the decision table published in README.md, checks
// the safety aborts (max_delete, the match-rate brake) and, unless
// RunOptions.DryRun, applies the plan in batches. The Salesforce cursor advances last, once
// every record read under it is applied or pending.
//
// # Glossary
//
//   - Baseline: the fingerprint of the value both sides last agreed on.
//   - Last seen: the fingerprint a side held when last read. A record an
//     incremental read skipped is taken as its last seen value.
//   - Delta: a side's value differs from the baseline ("changed").
//   - Pending: a key looked at again, and re-fetched by key, every run: a
//     failed write, an open manual conflict, a create not done yet, a write
//     held back by the budget, a record unreadable on a side.
//   - Unknown: a record read with Record.Err, a duplicate key or a value
//     that does not fit its field; neither present nor deleted, skipped.
//     A field missing from a record read is unknown on that side for the
//     run (never null): no write, clear, baseline change or conflict.
//   - Complete listing: a full read or key listing that succeeded; only
//     absence from one means deleted.
//   - Tombstone: a hashed key that may not be created again.
//   - Kill point: a named place between two steps of apply (Points) where
//     Hooks.At is called, so tests can stop a run there.
//   - Delta: per side and field, bit flags (new, changed, null) against
//     the baseline; the decision table joins the two sides' deltas.
//   - Consent: a field whose allowed values (a checkbox: true) let the
//     gated fields flow; a withdrawal (a change into a value not allowed)
//     wins and propagates.
//   - Family: a job's Children, run after it; a child of a parent that did
//     not settle is skipped (NOT_PROCESSED) and stays pending.
//   - Lease: a fencing token (state.Store.Acquire) that every state
//     transaction of a run checks when replicas share one state.
//
// # Privacy
//
// The engine holds values only for the records it must write, passes them
// only to connectors, and never puts them in a Plan, an error or the state.
package reconcile
