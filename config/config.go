package config

import (
	"time"
)

// Config is one casebridge configuration file, decoded and validated.
//
// Every struct embeds Meta, which keeps the position of each key, so that
// later checks (mapping against the org's schema) can report
// file:line:col too.
type Config struct {
	Meta
	// File is the configuration file's name as given to Load or Parse.
	File string `yaml:"-"`
	// Dir is the directory relative paths were resolved against.
	Dir string `yaml:"-"`

	Version            int                `yaml:"version" required:"true" doc:"configuration format version; only 1 exists"`
	Salesforce         Salesforce         `yaml:"salesforce" required:"true" doc:"the org and how to log in"`
	State              State              `yaml:"state" doc:"where baselines, cursors and run history are kept"`
	FingerprintKey     Secret             `yaml:"fingerprint_key" doc:"the HMAC key for fingerprints, usually ${ENV}; the same for every replica"`
	FingerprintKeyFile string             `yaml:"fingerprint_key_file" path:"true" doc:"file holding the fingerprint key (generated once, mode 0600, if absent), relative to the configuration; default: CASEBRIDGE_FINGERPRINT_KEY if set, else a fingerprint.key beside the configuration if one exists, else casebridge/NAME-HASH.key in the user's configuration folder, named after the state store, apart from it"`
	Sources            map[string]*Source `yaml:"sources" required:"true" doc:"local spreadsheets and databases, by name"`
	Jobs               map[string]*Job    `yaml:"jobs" required:"true" doc:"sync jobs, by name"`
	Alerts             Alerts             `yaml:"alerts" doc:"who hears of failed runs, lockouts, safety brakes, held conflicts and findings: webhooks (json, slack, teams) and e-mail; job, stage, counts and codes, never values"`

	// Warnings are findings that do not stop the configuration loading.
	Warnings Warnings `yaml:"-"`

	sourceOrder, jobOrder []string
	literalSecrets        []Pos // secrets written literally in the file
}

// SourceNames returns the sources' names in file order.
func (c *Config) SourceNames() []string { return c.sourceOrder }

// JobNames returns the jobs' names in file order.
func (c *Config) JobNames() []string { return c.jobOrder }

// Salesforce is the org to sync with.
type Salesforce struct {
	Meta
	LoginURL   string `yaml:"login_url" default:"https://login.salesforce.com" doc:"login.salesforce.com, test.salesforce.com, a My Domain URL, or the fake org"`
	APIVersion string `yaml:"api_version" default:"62.0" doc:"REST API version, such as \"62.0\""`
	Auth       Auth   `yaml:"auth" required:"true" doc:"how to log in"`
	APIBudget  Limit  `yaml:"api_budget" default:"20%" doc:"stop a run before it uses more than this share (20%) or number of the daily API calls"`
	// Concurrency and BulkThreshold tune writes (issue 13's measurements
	// chose the defaults).
	Concurrency        int `yaml:"concurrency" default:"4" doc:"Collections write requests (200 records each) in flight at once; 1 sends one at a time"`
	BulkThreshold      int `yaml:"bulk_threshold" default:"5000" doc:"a run writing more than this many records of one object to Salesforce sends them as one Bulk API 2.0 job instead of Collections requests; -1 never uses Bulk"`
	BulkQueryThreshold int `yaml:"bulk_query_threshold" default:"20000" doc:"a complete read of an object holding more than this many records goes through a Bulk API 2.0 query job instead of query pages of 2,000 (it costs one count call first); -1 never"`
}

// Auth is how casebridge logs in to Salesforce. Which keys a flow needs:
//
//	jwt                client_id, username, private_key_file (audience optional)
//	client_credentials client_id, client_secret
//	refresh_token      client_id, refresh_token (client_secret optional)
//	password           client_id, client_secret, username, password (security_token optional)
//	soap               username, password (security_token optional)
type Auth struct {
	Meta
	Flow           AuthFlow `yaml:"flow" required:"true" doc:"login flow"`
	ClientID       string   `yaml:"client_id" doc:"connected app consumer key"`
	ClientSecret   Secret   `yaml:"client_secret" doc:"connected app consumer secret"`
	Username       string   `yaml:"username" doc:"integration user"`
	Password       Secret   `yaml:"password" doc:"integration user's password"`
	SecurityToken  Secret   `yaml:"security_token" doc:"appended to the password when the org asks for it"`
	RefreshToken   Secret   `yaml:"refresh_token" doc:"a refresh token issued to the connected app"`
	PrivateKeyFile string   `yaml:"private_key_file" path:"true" doc:"PEM private key whose certificate the connected app holds (jwt)"`
	Audience       string   `yaml:"audience" doc:"JWT audience; default the login URL"`
}

// State is the state store.
type State struct {
	Meta
	Driver StateDriver `yaml:"driver" default:"sqlite" doc:"sqlite (one machine) or postgres (replicas)"`
	DSN    Secret      `yaml:"dsn" doc:"sqlite: a file path (default casebridge.db beside the configuration); postgres: a connection string"`
	Lease  Duration    `yaml:"lease" default:"5m" doc:"how long a job's lease lasts unrenewed (a run renews it every third of it): a process that stops renewing it (a crash elsewhere, a paused VM, a lost network) holds the job this long; one dead on this very host is taken over at once. 30s to 24h"`
}

// Source is a local spreadsheet or database.
type Source struct {
	Meta
	// Name is the source's key under sources.
	Name string `yaml:"-"`

	Kind         SourceKind `yaml:"kind" required:"true" doc:"csv, xlsx, sqlite, postgres or mysql"`
	Path         string     `yaml:"path" path:"true" doc:"the file (csv, xlsx, sqlite)"`
	Sheet        string     `yaml:"sheet" doc:"xlsx: the sheet; default the first"`
	HeaderRow    int        `yaml:"header_row" doc:"sheets: the row holding the headers (1-based); rows above it are skipped; default: found, the first of the first 50 rows holding the job's local.key header"`
	Encoding     Encoding   `yaml:"encoding" default:"utf-8" doc:"csv: character encoding"`
	Delimiter    string     `yaml:"delimiter" default:"," doc:"csv: field separator, one character"`
	ReadOnly     bool       `yaml:"read_only" doc:"never write to this source"`
	DSN          Secret     `yaml:"dsn" doc:"databases: connection string"`
	Table        string     `yaml:"table" doc:"databases: the default table (a job's local.table overrides it)"`
	UpdatedAt    string     `yaml:"updated_at" doc:"column holding each row's modification time (incremental reads, newest_wins)"`
	SoftDelete   string     `yaml:"soft_delete" doc:"column that marks a row deleted instead of removing it: databases set it to 1/true; sheets write \"deleted\" into it (default column Deleted, added if missing) and skip rows marked so"`
	StatusColumn string     `yaml:"status_column" doc:"sheets: column where casebridge tells field staff what happened to each row (\"synced <UTC time>\", or \"error <code> <column>\"), added if missing"`
	LinkColumn   string     `yaml:"link_column" doc:"column that receives the Salesforce Id of a record casebridge created"`
	Timezone     string     `yaml:"timezone" default:"UTC" doc:"zone of date-times written without one"`
	Backups      int        `yaml:"backups" default:"3" doc:"files: timestamped earlier copies kept (in .casebridge-backup beside the file) when casebridge rewrites it; 0 keeps none; this value is used, not the sheet connector's own default"`
	EncryptTo    Recipients `yaml:"backup_encrypt_to" doc:"files: age public keys (age1..., from age-keygen) the backups are encrypted to, written as .bak.age; the private key that restores them is kept elsewhere (age -d -i KEY FILE.bak.age)"`

	// Location is Timezone, loaded.
	Location *time.Location `yaml:"-"`
}

// Job is one sync job: an object in Salesforce, a table or sheet locally,
// and the field rules between them.
type Job struct {
	Meta
	// Name is the job's key under jobs.
	Name string `yaml:"-"`

	Schedule   Schedule       `yaml:"schedule" doc:"cron spec (UTC unless CRON_TZ= or TZ=), @every duration, or a duration; empty runs only by hand"`
	Direction  Direction      `yaml:"direction" default:"both" doc:"to_salesforce, from_salesforce or both"`
	Conflict   Policy         `yaml:"conflict" default:"manual" doc:"a field changed on both sides: salesforce_wins, local_wins, newest_wins or manual"`
	Initial    Policy         `yaml:"initial" default:"salesforce_wins" doc:"first sync (no baseline) differences; a null never overwrites a value"`
	Deletes    DeletePolicy   `yaml:"deletes" default:"flag" doc:"a record deleted on one side: propagate, flag or ignore"`
	MaxDelete  Limit          `yaml:"max_delete" default:"10%" doc:"abort a run that would delete more than this many records (or this share)"`
	KeyList    Duration       `yaml:"key_list_every" default:"24h" doc:"how often a run also lists every Salesforce key, to find records deleted and purged past the Recycle Bin that the change feed missed (at most 15d; 0 lists every run; --full always)"`
	PartSize   int            `yaml:"part_size" default:"100000" doc:"a run that meets more records than this holds a part of them at a time: parts of about half this many (by a hash of the key), each planned, then applied, on its own; the state and the local side are read twice and Salesforce once, whatever the number of parts. At least 10000 (a part's writes below bulk_threshold go as Collections requests). Jobs with match_on, adopt, a link column or children are not split. 0 or -1: never split"`
	MatchOn    []string       `yaml:"match_on" doc:"Salesforce fields that pair records with different keys, and Salesforce records without a key, with local rows new to the job (first deployment); a value shared by several records is held for a person"`
	Adopt      string         `yaml:"adopt" doc:"Salesforce records in the job's scope without a key that match_on does not pair (cases opened in Salesforce): id gives each the key key_prefix + its Salesforce Id, a field name (an auto-number such as a case number) key_prefix + that field's value; the key is set in Salesforce, then the local row created. Empty: such records are left alone and reported once"`
	Salesforce SalesforceSide `yaml:"salesforce" required:"true" doc:"the Salesforce side"`
	Local      LocalSide      `yaml:"local" required:"true" doc:"the local side"`
	Consent    *Consent       `yaml:"consent" doc:"gate classified fields on a consent field"`
	Fields     []*Rule        `yaml:"fields" required:"true" doc:"field rules"`
	Children   []*Child       `yaml:"children" doc:"child records carried by the same row"`

	// Source is the local source Local.Source names.
	Source *Source `yaml:"-"`
}

// SalesforceSide is the Salesforce object a job syncs.
type SalesforceSide struct {
	Meta
	Object string `yaml:"object" required:"true" doc:"sObject API name"`
	Key    string `yaml:"key" required:"true" doc:"external id field holding the job's key"`
	Where  string `yaml:"where" doc:"SOQL condition limiting the records in the job"`
}

// LocalSide is the local table or sheet a job syncs.
type LocalSide struct {
	Meta
	Source     string `yaml:"source" required:"true" doc:"a name under sources"`
	Key        string `yaml:"key" required:"true" doc:"column holding the record's key"`
	KeyPrefix  string `yaml:"key_prefix" doc:"prefix of the Salesforce key, such as \"ngo-th-cm:\""`
	KeyPattern string `yaml:"key_pattern" doc:"sheets: a regular expression every key must match (anchor it: ^TH-[0-9]{4}$); a row whose key does not (a name typed into the key cell) is that row's error, its key never shown, sent or stored"`
	Table      string `yaml:"table" doc:"databases: the table; default the source's"`
	Sheet      string `yaml:"sheet" doc:"xlsx: the sheet; default the source's"`
}

// Consent gates classified fields on a consent field.
type Consent struct {
	Meta
	Field   string   `yaml:"field" required:"true" doc:"Salesforce field (mapped by this job) holding the consent status"`
	Allowed []string `yaml:"allowed" required:"true" doc:"values that allow the gated fields to flow"`
	Classes []PII    `yaml:"classes" default:"direct,sensitive" doc:"sensitivity classes gated"`
}

// Child is a child record carried by the same local row as its parent,
// such as a case's stipend.
type Child struct {
	Meta
	Name        string     `yaml:"name" required:"true" doc:"the child's name in the job"`
	Object      string     `yaml:"object" required:"true" doc:"sObject API name"`
	KeySuffix   string     `yaml:"key_suffix" doc:"appended to the parent's key; default \":<name>\""`
	Key         string     `yaml:"key" doc:"external id field of the child's object holding the child's key, such as vcms__External_Service_Key__c; default the job's salesforce.key, where the child's object has that field; by_parent for an object with no External ID field: its records are keyed by their parent's key (and the each value), created by POST and updated by Id"`
	ParentField string     `yaml:"parent_field" required:"true" doc:"the child's lookup or master-detail field to the parent"`
	Each        *ChildEach `yaml:"each" doc:"one child record per value a multi-value cell lists (a services column), keyed by the mapped value"`
	Fields      []*Rule    `yaml:"fields" doc:"field rules (required unless each is set); with each, they apply to every value's record and only write Salesforce"`
}

// ChildEach makes a child a family of records, one per value that a
// multi-value cell lists: "shelter, medical" in a Services column gives a
// Shelter and a Medical Assistance. Each value's record is keyed by the
// parent's key, the child's key_suffix, a colon and the Salesforce value
// (ngo-kh-bb:KH-RT-24-031:svc:Shelter): by the mapped value, never by the
// raw cell or a row number, so that respelling a word or reordering the
// list changes no key. A cell that does not read (a word the map lacks)
// makes every value's record unknown this run, never deleted. With pii
// set (a class other than none), the value's part of the key is a keyed
// hash of the value (…:svc:3fa9c1d2e4b7), so that neither keys nor the
// names of the child's jobs say which service a person receives.
type ChildEach struct {
	Meta
	Local     string    `yaml:"local" required:"true" doc:"the multi-value column, such as Services"`
	SF        string    `yaml:"sf" required:"true" doc:"the child's field set to the value, such as vcms__Service_Type__c"`
	Values    ValueMap  `yaml:"values" doc:"local word -> Salesforce value (required); each Salesforce value is one record; the first word listed for a value is written back"`
	Split     string    `yaml:"split" doc:"separator characters; default \",;/\" and newlines"`
	Direction Direction `yaml:"direction" default:"both" doc:"both: a record created or deleted in Salesforce adds or removes its word in the cell; to_salesforce: the cell is only read"`
	PII       PII       `yaml:"pii" default:"none" doc:"the values' class (a service can say what happened to a person): other than none, each value's key part is a keyed hash of it, never the value, and the consent gate holds the records back like a field of the class"`
}

// Rule maps one Salesforce field to one local column. At most one value
// conversion (a named transform, values, yes_no, date, number, phone,
// lookup) applies; split may combine with values for multi-select fields;
// a constant takes none of them.
type Rule struct {
	Meta
	SF        string      `yaml:"sf" required:"true" doc:"Salesforce field API name"`
	Local     string      `yaml:"local" doc:"local column or header (required unless constant is set)"`
	Direction Direction   `yaml:"direction" default:"both" doc:"to_salesforce, from_salesforce or both"`
	PII       PII         `yaml:"pii" default:"none" doc:"direct, quasi, sensitive or none"`
	Transform string      `yaml:"transform" doc:"a named transform, such as thai_name.first (casebridge reference lists them); a conversion of its own, combined with no other"`
	Values    ValueMap    `yaml:"values" doc:"local value -> Salesforce value, in order; the first entry for a value is its write form"`
	YesNo     *YesNo      `yaml:"yes_no" doc:"a preset (all, en, th, km, bn, es) or {yes: [...], no: [...], unknown: [...]}"`
	Date      *DateRule   `yaml:"date" doc:"how dates are written locally"`
	Number    *NumberRule `yaml:"number" doc:"how numbers are written locally"`
	Split     string      `yaml:"split" doc:"split a cell into several values at any of these characters"`
	Phone     *PhoneRule  `yaml:"phone" doc:"normalise phone numbers to E.164"`
	Lookup    *LookupRule `yaml:"lookup" doc:"find the referenced record by a field; with direction both or from_salesforce, an Id set in Salesforce comes back to the row as that field's value (the field must be unique or an external id)"`
	Default   string      `yaml:"default" doc:"value used when the local cell is empty"`
	Constant  string      `yaml:"constant" doc:"a fixed value written to Salesforce as given (no local column, conversion or default)"`
	Required  bool        `yaml:"required" doc:"a record without a value is an error, not a null"`
	WriteForm string      `yaml:"write_form" doc:"form written locally when several are read (a date pattern such as dd/mm/yyyy or Go layout, or yes/no words as \"yes|no\")"`
	Flags     *RuleFlags  `yaml:"flags" doc:"route what reading the cell learned into checkbox fields, such as {estimated: vcms__Birthdate_Estimated__c}; to_salesforce only"`
}

// RuleFlags routes what a rule's transform learned while reading a cell
// (a bare year or "ประมาณ 14" is an estimate, ด.ญ./ด.ช. is a child) into
// Salesforce checkbox fields of the same record. Each derived field is
// set to true when the reading says so and false otherwise; it is only
// written to Salesforce, and is left out (unknown) when the cell does not
// read.
type RuleFlags struct {
	Meta
	Estimated     string `yaml:"estimated" doc:"checkbox set when the value is an estimate (a bare year, \"about 14\", the lower bound of a range)"`
	LowConfidence string `yaml:"low_confidence" doc:"checkbox set when the reading is a guess a person should check (a three-token Spanish name)"`
	Lossy         string `yaml:"lossy" doc:"checkbox set when the cell held more than the value keeps (a range's upper bound)"`
	Child         string `yaml:"child" doc:"checkbox set when a name's honorific says the person is a child under 15 (ด.ญ., ด.ช.)"`
}

// FlagTarget is one flag of a rule routed to a Salesforce field.
type FlagTarget struct {
	// Flag is the flag's key: estimated, low_confidence, lossy or child.
	Flag string
	// SF is the Salesforce field set from it.
	SF string
}

// Targets returns the flags routed to a field, in declaration order.
func (f *RuleFlags) Targets() []FlagTarget {
	if f == nil {
		return nil
	}
	var out []FlagTarget
	for _, t := range []FlagTarget{{"estimated", f.Estimated}, {"low_confidence", f.LowConfidence}, {"lossy", f.Lossy}, {"child", f.Child}} {
		if t.SF != "" {
			out = append(out, t)
		}
	}
	return out
}

// Writes reports whether the rule writes to Salesforce and locally, given
// the job's direction.
func (r *Rule) Writes(job Direction) (salesforce, local bool) {
	return r.Direction.WritesSalesforce() && job.WritesSalesforce(),
		r.Direction.WritesLocal() && job.WritesLocal()
}

// DateRule says how dates are written in a local column.
type DateRule struct {
	Meta
	Formats     []string   `yaml:"formats" doc:"the column's date layouts: patterns such as dd/mm/yyyy, d/m/yy or dd mmm yyyy (the letters are listed at the end of this reference), or Go layouts such as 02/01/2006; they set the order of an ambiguous date, and the first with a four-digit year is written"`
	Era         Era        `yaml:"era" default:"gregorian" doc:"the column's calendar: gregorian, or a Buddhist Era, buddhist (or buddhist_thai: CE + 543), buddhist_khmer, buddhist_lao, buddhist_myanmar (CE + 544); years 2400 and above are read as BE, and dates are written back in BE"`
	ExcelSerial bool       `yaml:"excel_serial" doc:"accept Excel serial day numbers (epoch 1899-12-30)"`
	DayFirst    bool       `yaml:"day_first" doc:"read ambiguous dates day first"`
	BareYear    bool       `yaml:"bare_year" doc:"read a four-digit year alone as 1 January of that year, flagged estimated (see flags)"`
	MonthNames  MonthNames `yaml:"month_names" default:"en" doc:"language of the month names written for Jan and January in the layout (th writes 3 เม.ย. 2567 for 2 Jan 2006); month names of every language are read"`
	Pivot       int        `yaml:"pivot" default:"70" doc:"two-digit years below this fall in the era's current century (20xx, 25xx BE), the others in the previous one"`
}

// NumberRule says how numbers are written in a local column.
type NumberRule struct {
	Meta
	Scale    int    `yaml:"scale" doc:"decimal places kept"`
	Currency string `yaml:"currency" doc:"ISO 4217 code; its symbols and separators are stripped"`
}

// PhoneRule normalises phone numbers to E.164.
type PhoneRule struct {
	Meta
	Country string `yaml:"country" required:"true" doc:"country calling code of numbers written without one, such as 66 or +502"`
}

// LookupRule finds the referenced record by a field.
type LookupRule struct {
	Meta
	Object string `yaml:"object" required:"true" doc:"sObject searched"`
	Field  string `yaml:"field" required:"true" doc:"field matched against the local value"`
}
