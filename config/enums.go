package config

// enum is implemented by the string types whose values come from a fixed
// list. The decoder checks a value against the list and suggests the
// nearest allowed word; the list is declared once, beside the type.
type enum interface {
	enumValues() []string
}

// AuthFlow is how casebridge logs in to Salesforce.
type AuthFlow string

// The OAuth and login flows. JWT bearer and client credentials are the
// primary flows; password and soap are being retired by Salesforce and
// draw a warning.
const (
	FlowJWT               AuthFlow = "jwt"
	FlowClientCredentials AuthFlow = "client_credentials"
	FlowRefreshToken      AuthFlow = "refresh_token"
	FlowPassword          AuthFlow = "password"
	FlowSOAP              AuthFlow = "soap"
)

func (AuthFlow) enumValues() []string {
	return []string{"jwt", "client_credentials", "refresh_token", "password", "soap"}
}

// StateDriver is the database that holds the state store.
type StateDriver string

// The state store drivers.
const (
	StateSQLite   StateDriver = "sqlite"
	StatePostgres StateDriver = "postgres"
)

func (StateDriver) enumValues() []string { return []string{"sqlite", "postgres"} }

// SourceKind is the kind of local source.
type SourceKind string

// The source kinds.
const (
	KindCSV      SourceKind = "csv"
	KindXLSX     SourceKind = "xlsx"
	KindSQLite   SourceKind = "sqlite"
	KindPostgres SourceKind = "postgres"
	KindMySQL    SourceKind = "mysql"
)

func (SourceKind) enumValues() []string {
	return []string{"csv", "xlsx", "sqlite", "postgres", "mysql"}
}

// IsSheet reports whether k is a spreadsheet kind (csv, xlsx).
func (k SourceKind) IsSheet() bool { return k == KindCSV || k == KindXLSX }

// IsSQL reports whether k is a database kind (sqlite, postgres, mysql).
func (k SourceKind) IsSQL() bool { return k == KindSQLite || k == KindPostgres || k == KindMySQL }

// Encoding is the character encoding of a CSV file.
type Encoding string

// The CSV encodings. utf-8 accepts and drops a byte-order mark.
const (
	EncodingUTF8        Encoding = "utf-8"
	EncodingUTF16       Encoding = "utf-16"
	EncodingWindows874  Encoding = "windows-874"
	EncodingTIS620      Encoding = "tis-620"
	EncodingWindows1252 Encoding = "windows-1252"
	EncodingISO88591    Encoding = "iso-8859-1"
)

func (Encoding) enumValues() []string {
	return []string{"utf-8", "utf-16", "windows-874", "tis-620", "windows-1252", "iso-8859-1"}
}

// Direction is which way data flows, for a job or one field rule.
type Direction string

// The directions.
const (
	ToSalesforce   Direction = "to_salesforce"
	FromSalesforce Direction = "from_salesforce"
	Both           Direction = "both"
)

func (Direction) enumValues() []string { return []string{"to_salesforce", "from_salesforce", "both"} }

// WritesSalesforce reports whether d writes to Salesforce.
func (d Direction) WritesSalesforce() bool { return d == ToSalesforce || d == Both }

// WritesLocal reports whether d writes to the local source.
func (d Direction) WritesLocal() bool { return d == FromSalesforce || d == Both }

// Policy decides a field whose value changed on both sides (conflict), or
// differs at the first sync (initial).
type Policy string

// The policies. NewestWins needs a modification time on both sides.
const (
	SalesforceWins Policy = "salesforce_wins"
	LocalWins      Policy = "local_wins"
	NewestWins     Policy = "newest_wins"
	Manual         Policy = "manual"
)

func (Policy) enumValues() []string {
	return []string{"salesforce_wins", "local_wins", "newest_wins", "manual"}
}

// DeletePolicy is what happens to a record deleted on one side.
type DeletePolicy string

// The delete policies.
const (
	DeletePropagate DeletePolicy = "propagate"
	DeleteFlag      DeletePolicy = "flag"
	DeleteIgnore    DeletePolicy = "ignore"
)

func (DeletePolicy) enumValues() []string { return []string{"propagate", "flag", "ignore"} }

// PII is a field's sensitivity class (doc/architecture.md §10 rule 1, §11.1).
type PII string

// The sensitivity classes. PIINone is the default.
const (
	PIINone      PII = "none"
	PIIDirect    PII = "direct"
	PIIQuasi     PII = "quasi"
	PIISensitive PII = "sensitive"
)

func (PII) enumValues() []string { return []string{"none", "direct", "quasi", "sensitive"} }

// Era is the calendar a date column's years are written in. A Buddhist
// Era column reads four-digit years of 2400 and above as Buddhist Era (and
// below as Gregorian) and is written back in Buddhist Era years.
type Era string

// The eras. Thai Buddhist Era years are Gregorian + 543 (2551 is 2008);
// Cambodian, Lao and Myanmar ones Gregorian + 544 (2552 is 2008).
const (
	Gregorian Era = "gregorian"
	// Buddhist is the Thai Buddhist Era, the name first configurations use.
	Buddhist        Era = "buddhist"
	BuddhistThai    Era = "buddhist_thai"
	BuddhistKhmer   Era = "buddhist_khmer"
	BuddhistLao     Era = "buddhist_lao"
	BuddhistMyanmar Era = "buddhist_myanmar"
)

func (Era) enumValues() []string {
	return []string{"gregorian", "buddhist", "buddhist_thai", "buddhist_khmer", "buddhist_lao", "buddhist_myanmar"}
}

// MonthNames is the language of the month names a date column writes
// for Jan and January in its layout.
type MonthNames string

// The month name languages.
const (
	MonthNamesEnglish MonthNames = "en"
	MonthNamesThai    MonthNames = "th"
	MonthNamesKhmer   MonthNames = "km"
	MonthNamesBengali MonthNames = "bn"
	MonthNamesSpanish MonthNames = "es"
)

func (MonthNames) enumValues() []string { return []string{"en", "th", "km", "bn", "es"} }

// YesNoPreset names a built-in list of yes/no/unknown words (doc/architecture.md
// §11.6 rule 3).
type YesNoPreset string

// The presets. All is the union of the others.
const (
	YesNoAll     YesNoPreset = "all"
	YesNoEnglish YesNoPreset = "en"
	YesNoThai    YesNoPreset = "th"
	YesNoKhmer   YesNoPreset = "km"
	YesNoBengali YesNoPreset = "bn"
	YesNoSpanish YesNoPreset = "es"
)

func (YesNoPreset) enumValues() []string { return []string{"all", "en", "th", "km", "bn", "es"} }
