// Package report turns a reconcile run into reports: a versioned model
// (Report, format "casebridge.report/v1") built from a reconcile.Result or a
// reconcile.Plan alone, and renderers for it: JSON for machines, a
// self-contained HTML page for people, a Data Loader-style CSV of the
// per-record errors, and the plain-text summary the CLI closes a run with.
//
// # Building
//
// FromResult describes a run that applied (or tried to apply) its plan;
// FromPlan describes a dry run or a `casebridge reconcile` comparison, which
// write nothing. Options carry what the engine's Result does not: the mode,
// the run's start and end, its error, the API calls left, the job (for its
// object names and the fields' sensitivity classes) and, when the admin asks
// for values, a Values provider.
//
// # Values and privacy
//
// A report holds no value unless Options.ShowValues is set (the CLI's
// --show-values). Then values of unclassified fields are shown; values of
// fields classified direct, quasi or sensitive are masked ("••••" with the
// class) unless Options.ShowClasses names the class. A field whose class is
// not known (no Options.Job, or a field the job does not list) is masked as
// class "unknown" and never shown: the report fails closed. The Values
// provider is not even asked for a value that would be masked, and
// connector.Value.Raw is called only for values that are shown.
//
// Keys, object and field names, reasons, error codes and the engine's error
// messages (value-free by the connector contract) are always shown.
//
// # Counts
//
// Counts are per object (a job and each of its child jobs) and per side.
// Created, updated and deleted count writes done (or, in a dry run or
// comparison, planned); failed counts writes that failed; pending counts
// writes left for the next run (failed, or held back by the write budget);
// flagged counts records deleted on the other side and kept on this one
// (deletes: flag). Unchanged, conflicts and unknown are per object: records
// on both sides the run neither writes nor notes, fields queued for manual
// resolution, and records skipped as unreadable or duplicate.
//
// The engine's Result does not say everything a report counts, so some of
// it is derived: a failure is matched to its write by key (and left
// without a side when the key was written on both sides), writes held back
// by the budget are the plan's tail, and the side of a flagged or unknown
// record is read from the note's detail.
//
// # Glossary
//
//   - Mode: apply (a sync), dry_run (a sync with --dry-run) or compare
//     (`casebridge reconcile`).
//   - Outcome: ok, partial (some writes failed or were held back),
//     dry_run, aborted (a safety abort; nothing written) or failed (a
//     fatal error).
//   - Status of a write: planned, done, failed, held (the budget), or
//     unknown (the run stopped, or the failure could not be told apart
//     from another write of the same key).
//   - Class: a field's sensitivity, direct, quasi, sensitive or "" for
//     unclassified.
package report
