// Package mapping turns local records (spreadsheet rows, table rows) into
// Salesforce-shaped records and back, field by field, under the rules of a
// job: value maps for picklists, date, number, name and phone parsing,
// lookups, per-field direction, sensitivity classes and consent gates.
//
// Mapping is a pure function of a record: it performs no I/O except through
// the lookup resolver it is given, and it reports problems as per-field
// errors that name the rule and the expected form, never the value.
//
// # Transforms
//
// A field rule holds one configured [Transform]. Parse reads a local cell
// into a canonical [connector.Value] and says what the reading implies
// ([Result]: estimated, low confidence, lossy, child); Format is the rule's
// declared write form, and Parse(Format(v)) gives v back for every value
// Parse can return — a value that cannot be written so is refused, not
// written differently. Transforms that write one part of a cell holding
// several (a first name in a full-name cell) also implement [Merger].
//
// Transforms are built from option structs ([DateOptions],
// [NumberOptions], [NameOptions], [ValueMapOptions], [YesNoOptions],
// [PhoneOptions], [SplitOptions], [TextOptions]), directly or through the
// registry: [Lookup] returns a named preset's options ("thai_name.first",
// "yes_no", "date", "age", ...) for a config loader to decode a rule's
// options into, and Build makes the transform. [Transform.Hash] identifies
// a configured transform, so that a changed rule is seen as a rule change
// and not as a mass edit of data (doc/architecture.md §5.9).
//
// A rule's flags option (config.RuleFlags) turns a Result's flags into
// fields: flags: { estimated: vcms__Birthdate_Estimated__c } compiles to
// an extra to_salesforce rule on the same column that reads the cell with
// the rule's transform and gives true when the flag is set, false when it
// is not (or the cell is blank), and leaves the field out when the cell
// does not read. Its rule hash covers the column, the transform and the
// flag; the source rule's hash does not change.
//
// A child declared with each (config.ChildEach) compiles to one member
// per Salesforce value of its map (services:Shelter, services:Medical),
// each with the fixed key suffix key_suffix + ":" + value, so the engine
// sees ordinary child jobs. A member's record exists on a row when the
// row's cell lists its value; a cell that does not read makes every
// member's record unknown, never absent. Written back, a member's record
// adds its word to the cell and its delete removes it, keeping the other
// words as spelled.
//
// Several two-way rules may write one local column when each writes its
// own part of the cell through a [PartMerger] of one group (first and last
// name into a full-name cell: thai_name.first and thai_name.last); a
// Salesforce edit of one part then rewrites only that part, keeping the
// honorific and the other part. Compile refuses any other sharing.
//
// # Glossary
//
//   - Clean: the shared text clean-up of doc/architecture.md §11.6 rule 1 (NFC, trim
//     including NBSP and zero-width characters, Thai/Khmer/Bengali digits
//     to ASCII); every transform cleans its cell first.
//   - Write form: the text Format writes into a local cell; it reads back as
//     the same value.
//   - Lossy: a transform whose cell holds more than its value (a name with
//     an honorific, a range); the engine writes such a field only when the
//     Salesforce value changed.
//   - Date profile: a source's date conventions (day or month first, era,
//     Excel serials, bare years, two-digit year pivot).
//   - Era: the calendar of a column's years. The Thai Buddhist Era
//     (buddhist, or buddhist_thai) runs 543 years ahead of the Gregorian,
//     the Cambodian, Lao and Myanmar ones (buddhist_khmer, buddhist_lao,
//     buddhist_myanmar) 544. A Buddhist Era column reads years of 2400
//     and above as Buddhist Era and writes dates back in its own era and
//     write form (12/03/2551 stays 2551), so that what is written reads
//     back as the same date and a sheet keeps its calendar. Month names
//     of English, Spanish, Thai, Khmer and Bengali are read; MonthNames
//     says which language a write form's Jan and January are written in.
//   - Expected form: what an error names instead of the value it refused,
//     e.g. "expected a date like 31/12/2024 (day first) or an Excel serial".
package mapping
