// Package mapping turns local records (spreadsheet rows, table rows) into
// Salesforce-shaped records and back, field by field, under the rules of a
// job: value maps for picklists, date, number, name and phone parsing,
// lookups, per-field direction, sensitivity classes and consent gates.
//
// Mapping is a pure function of a record: it performs no I/O except through
// the lookup resolver it is given, and it reports problems as per-field
// errors that name the rule and the expected form, never the value.
package mapping
