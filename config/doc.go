// Package config loads casebridge's one YAML configuration file: the
// Salesforce org and how to log in, the state store, the local sources,
// and the jobs with their field rules.
//
// Load reads a file; Parse decodes bytes. Both decode through
// goccy/go-yaml's AST, so every finding carries file:line:col, and both
// report every finding at once (Errors), not just the first. Findings
// that do not stop the file loading are Config.Warnings.
//
//	cfg, err := config.Load("casebridge.yaml")
//	var errs config.Errors
//	if errors.As(err, &errs) {
//		for _, e := range errs {
//			fmt.Println(e) // casebridge.yaml:12:15: jobs.th_cases.conflict: "newest" is not one of ...
//		}
//	}
//
// # Options are declared once
//
// Each option is a struct field whose tags give its key, default, whether
// it is required, whether it is a path, and one line of documentation; an
// enum is a string type that lists its values (see AuthFlow, Policy).
// Decoding, defaults, unknown-key detection with a did-you-mean
// suggestion, enum checks and Reference all read those declarations.
// Checks across options (a flow's required keys, a job naming an unknown
// source, two rules writing one field) are in validate.go. Validation is
// fast and does no network I/O; checking rules against the org's schema is
// mapping's work, and Meta gives it the positions to report.
//
// YAML anchors, aliases and merge keys (<<) work; a top-level key starting
// with "x-" is ignored, as a home for anchors shared by several jobs.
//
// # Secrets
//
// A scalar may hold ${NAME} references to environment variables ($${
// stands for a literal ${); an unset variable is an error at its position.
// Inside a flow mapping ({ ... }) a reference must be quoted, or YAML
// reads its braces as the mapping's: { dsn: "${GT_DSN}" }.
// A Secret option "x" may instead be written "x_file": the secret is read
// from that file, with its trailing newline removed. Secrets are held in
// the Secret type, which prints "[redacted]" in every format and in JSON;
// Reveal returns the content. Messages never carry a secret or a value
// from the file other than configuration words (keys, enum values, names,
// schedules, time zones, file names and variable names).
//
// # Glossary
//
//   - Source: a local spreadsheet (csv, xlsx) or database (sqlite,
//     postgres, mysql) holding cases, named under sources.
//   - Job: one sync between a Salesforce object and a local table or
//     sheet, with a schedule, a direction, policies and field rules.
//   - Rule: how one Salesforce field maps to one local column (or a
//     constant), with at most one value conversion and a sensitivity.
//   - Child: a record carried by the same local row as its parent (a
//     case's stipend), keyed by the parent's key plus a suffix. A child
//     with each is a family of records, one per value a multi-value cell
//     lists (a Services column), keyed by the parent's key, the suffix
//     and the mapped Salesforce value (":svc:Shelter").
//   - Direction: which way data flows (to_salesforce, from_salesforce,
//     both), for a job and, within it, for a rule.
//   - Conflict policy: what wins when a field changed on both sides since
//     the baseline; the initial policy decides the first sync.
//   - Key prefix: prepended to the local key to form the Salesforce
//     external id (ngo-th-cm:TH-CL-0007).
//   - Sensitivity (pii): direct, quasi or sensitive; classified values
//     never reach logs, errors or state.
//   - Consent gate: a field and the values that let direct and sensitive
//     fields flow; a withdrawal stops them.
//   - Limit: a count or a percentage, as in api_budget and max_delete.
//   - Schedule: a cron spec (UTC unless CRON_TZ= or TZ= says otherwise),
//     @every, or a duration; empty means "by hand only".
//   - Fingerprint key: the key of the state's fingerprints, a secret
//     shared by every replica, kept apart from the state: by default a
//     file in the user's configuration folder, made by the first run that
//     writes (an older fingerprint.key beside the configuration is still
//     used).
//   - Write form: the local form written back when several forms are read
//     (the first value-map entry, a date layout, yes/no words).
//   - Flags: what a rule's conversion learned reading a cell (estimated,
//     low_confidence, lossy, child), routed into Salesforce checkbox fields
//     of the same record with a rule's flags option; to_salesforce only.
package config
