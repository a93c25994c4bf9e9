package config

import (
	"encoding/hex"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Checks across options, run after decoding. They are fast and do no
// network I/O; checks against the org's schema belong to mapping.

// errAt reports a finding about key of m.
func (d *decoder) errAt(m *Meta, key, format string, args ...any) {
	d.errorf(m.At(key), m.PathOf(key), format, args...)
}

func (d *decoder) validate(c *Config) {
	if c.Meta.Has("version") && c.Version != 1 {
		d.errAt(&c.Meta, "version", "unsupported version %d; the only version is 1", c.Version)
	}
	if c.Has("salesforce") && !d.failed["salesforce"] {
		d.validateSalesforce(&c.Salesforce)
	}
	d.validateState(c)
	switch {
	case c.Meta.Has("fingerprint_key") && c.Meta.Has("fingerprint_key_file"):
		d.errAt(&c.Meta, "fingerprint_key_file", "set fingerprint_key or fingerprint_key_file, not both")
	case c.Meta.Has("fingerprint_key") && !isHexKey(c.FingerprintKey.Reveal()):
		// The value is a secret: it is not shown.
		d.errAt(&c.Meta, "fingerprint_key", "want 32 random bytes as 64 hexadecimal digits ('casebridge key generate' prints one); a passphrase is refused, as one can be guessed from the state")
	case !c.Meta.Has("fingerprint_key") && !c.Meta.Has("fingerprint_key_file"):
		c.FingerprintKeyFile = filepath.Join(d.opt.BaseDir, "fingerprint.key")
	}
	for _, s := range c.Sources {
		d.validateSource(s)
	}
	used := make(map[string]bool)
	adopters := make(map[string]*Job) // lower-case object -> the first job adopting on it
	for _, j := range c.Jobs {
		d.validateJob(c, j)
		used[j.Local.Source] = true
	}
	for _, name := range slices.Sorted(maps.Keys(c.Jobs)) {
		j := c.Jobs[name]
		if strings.TrimSpace(j.Adopt) == "" || j.Salesforce.Object == "" {
			continue
		}
		obj := strings.ToLower(j.Salesforce.Object)
		if first := adopters[obj]; first != nil && (strings.TrimSpace(first.Salesforce.Where) == "" || strings.TrimSpace(j.Salesforce.Where) == "") {
			// Both would adopt the same record, each setting its own key.
			d.errAt(&j.Meta, "adopt", "job %s adopts %s records without a key too (line %d): give each job a salesforce where so that a record belongs to one, or let one job adopt",
				first.Name, j.Salesforce.Object, first.At("adopt").Line)
		} else if first == nil {
			adopters[obj] = j
		}
	}
	d.jobGraph(c)
	d.validateKeys(c)
	for name, s := range c.Sources {
		if !used[name] {
			d.warnf(s.Pos, s.KeyPath, "no job uses this source")
		}
	}
}

// observesDST reports whether loc changes its offset during the year.
func observesDST(loc *time.Location) bool {
	year := time.Now().Year()
	_, jan := time.Date(year, time.January, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(year, time.July, 1, 0, 0, 0, 0, loc).Zone()
	return jan != jul
}

// minPartSize is the smallest part_size: each part reads the state and the
// local side, and a part's writes below bulk_threshold go as Collections
// requests rather than one Bulk job, so smaller parts cost more than they
// save.
const minPartSize = 10000

var apiVersionRE = regexp.MustCompile(`^([1-9][0-9]{1,2})(\.0)?$`)

// authKeys lists, per flow, the keys it needs and the keys it may take.
var authKeys = map[AuthFlow]struct{ required, optional []string }{
	FlowJWT:               {[]string{"client_id", "username", "private_key_file"}, []string{"audience"}},
	FlowClientCredentials: {[]string{"client_id", "client_secret"}, nil},
	FlowRefreshToken:      {[]string{"client_id", "refresh_token"}, []string{"client_secret"}},
	FlowPassword:          {[]string{"client_id", "client_secret", "username", "password"}, []string{"security_token"}},
	FlowSOAP:              {[]string{"username", "password"}, []string{"security_token"}},
}

func (d *decoder) validateSalesforce(sf *Salesforce) {
	if sf.Concurrency < 1 || sf.Concurrency > 10 {
		d.errAt(&sf.Meta, "concurrency", "want 1 to 10 requests in flight (Salesforce answers more with lock errors and 503s)")
	}
	if sf.BulkThreshold < -1 {
		d.errAt(&sf.Meta, "bulk_threshold", "want a number of records, or -1 for never")
	}
	if sf.BulkQueryThreshold < -1 {
		d.errAt(&sf.Meta, "bulk_query_threshold", "want a number of records, or -1 for never")
	}
	if sf.LoginURL != "" {
		u, err := url.Parse(sf.LoginURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			d.errAt(&sf.Meta, "login_url", "want an https URL such as https://login.salesforce.com")
		case u.User != nil:
			d.errAt(&sf.Meta, "login_url", "the URL must not carry a user name or password; use auth")
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			d.errAt(&sf.Meta, "login_url", "plain http is allowed only for the fake org on a loopback address; use https")
		}
	}
	if b := sf.APIBudget; !d.failed[sf.PathOf("api_budget")] && ((b.IsPercent() && b.Percent == 0) || (!b.IsPercent() && b.Count == 0)) {
		d.errAt(&sf.Meta, "api_budget", "a budget of 0 allows no API call; give a share (such as 20%%) or a number of calls")
	}
	version := 0
	if m := apiVersionRE.FindStringSubmatch(strings.TrimSpace(sf.APIVersion)); m == nil {
		d.errAt(&sf.Meta, "api_version", "want a version such as \"62.0\"")
	} else {
		version, _ = strconv.Atoi(m[1])
		sf.APIVersion = m[1] + ".0"
	}
	a := &sf.Auth
	keys, ok := authKeys[a.Flow]
	if !ok {
		return // flow missing or invalid: already reported
	}
	for _, key := range keys.required {
		if !a.Has(key) {
			d.errorf(a.Pos, a.KeyPath, "flow %s needs %s", a.Flow, key)
		}
	}
	for _, f := range infoOf(reflectValue(a).Type()).fields {
		if f.key == "flow" || !a.Has(f.key) || slices.Contains(keys.required, f.key) || slices.Contains(keys.optional, f.key) {
			continue
		}
		d.errAt(&a.Meta, f.key, "not used by flow %s", a.Flow)
	}
	switch a.Flow {
	case FlowSOAP:
		if version >= 65 {
			d.errAt(&a.Meta, "flow", "SOAP login() is gone from API 65.0; use api_version below 65.0 or, better, flow jwt or client_credentials")
		} else {
			d.warnf(a.At("flow"), a.PathOf("flow"), "SOAP login() is being retired by Salesforce; move to flow jwt or client_credentials")
		}
	case FlowPassword:
		d.warnf(a.At("flow"), a.PathOf("flow"), "the OAuth username-password flow is being retired by Salesforce; move to flow jwt or client_credentials")
	}
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

func (d *decoder) validateState(c *Config) {
	s := &c.State
	if l := s.Lease.Duration; !d.failed[s.PathOf("lease")] && (l < 30*time.Second || l > 24*time.Hour) {
		d.errAt(&s.Meta, "lease", "between 30s and 24h: a run renews its lease every third of it, and a shorter one is lost to a brief state store outage")
	}
	switch s.Driver {
	case StatePostgres:
		if s.DSN.IsZero() && !s.Has("dsn") {
			d.errorf(s.Pos, s.KeyPath, "driver postgres needs dsn")
		}
	case StateSQLite:
		dsn := s.DSN.Reveal()
		switch {
		case dsn == "":
			s.DSN = NewSecret(filepath.Join(d.opt.BaseDir, "casebridge.db"))
		case !strings.HasPrefix(dsn, "file:") && dsn != ":memory:":
			s.DSN = NewSecret(d.resolvePath(dsn))
		}
	}
}

// sourceKeys lists the keys that apply to each kind of source (kind
// itself applies to all).
var sourceKeys = map[SourceKind][]string{
	KindCSV:      {"path", "header_row", "encoding", "delimiter", "read_only", "updated_at", "soft_delete", "status_column", "link_column", "timezone", "backups"},
	KindXLSX:     {"path", "sheet", "header_row", "read_only", "updated_at", "soft_delete", "status_column", "link_column", "timezone", "backups"},
	KindSQLite:   {"path", "dsn", "table", "read_only", "updated_at", "soft_delete", "link_column", "timezone"},
	KindPostgres: {"dsn", "table", "read_only", "updated_at", "soft_delete", "link_column", "timezone"},
	KindMySQL:    {"dsn", "table", "read_only", "updated_at", "soft_delete", "link_column", "timezone"},
}

func kindsWith(key string) string {
	var kinds []string
	for _, k := range SourceKind("").enumValues() {
		if slices.Contains(sourceKeys[SourceKind(k)], key) {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, ", ")
}

func (d *decoder) validateSource(s *Source) {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" || s.Timezone == "Local" {
		d.errAt(&s.Meta, "timezone", "unknown time zone %s (want an IANA name such as America/Guatemala)", d.word(s.PathOf("timezone"), s.Timezone))
		loc = time.UTC
	}
	s.Location = loc
	keys, ok := sourceKeys[s.Kind]
	if !ok {
		return // kind missing or invalid: already reported
	}
	for _, f := range infoOf(reflectValue(s).Type()).fields {
		if f.key != "kind" && s.Has(f.key) && !slices.Contains(keys, f.key) {
			d.errAt(&s.Meta, f.key, "does not apply to %s sources (only to %s)", s.Kind, kindsWith(f.key))
		}
	}
	switch s.Kind {
	case KindCSV, KindXLSX:
		if !s.Has("path") {
			d.errorf(s.Pos, s.KeyPath, "a %s source needs path", s.Kind)
		}
	case KindSQLite:
		if s.Has("path") == s.Has("dsn") {
			d.errorf(s.Pos, s.KeyPath, "a sqlite source needs path or dsn (one of them)")
		}
	case KindPostgres, KindMySQL:
		if !s.Has("dsn") {
			d.errorf(s.Pos, s.KeyPath, "a %s source needs dsn", s.Kind)
		}
	}
	if s.Kind == KindCSV && !d.failed[s.PathOf("delimiter")] && utf8.RuneCountInString(s.Delimiter) != 1 {
		d.errAt(&s.Meta, "delimiter", "want one character, such as , or ; or a tab")
	}
	if s.Has("header_row") && s.HeaderRow < 1 && !d.failed[s.PathOf("header_row")] {
		d.errAt(&s.Meta, "header_row", "rows count from 1; leave header_row out to find the header row by the key column's header")
	}
	if s.StatusColumn != "" && s.SoftDelete != "" && strings.EqualFold(strings.TrimSpace(s.StatusColumn), strings.TrimSpace(s.SoftDelete)) {
		d.errAt(&s.Meta, "status_column", "the status column must differ from the soft_delete column")
	}
	if s.Backups < 0 {
		d.errAt(&s.Meta, "backups", "must not be negative")
	}
}

// apiNameRE is the form of a Salesforce object or field API name.
var apiNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// transformRE is the form of a transform name: dotted lower_snake words.
var transformRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

func (d *decoder) apiName(m *Meta, key, name string) {
	if m.Has(key) && name != "" && !apiNameRE.MatchString(name) {
		d.errAt(m, key, "not a Salesforce API name (letters, digits and _, such as vcms__Stage__c)")
	}
}

func (d *decoder) validateJob(c *Config, j *Job) {
	if loc := j.Schedule.Location; j.Schedule.Every == 0 && loc != nil && observesDST(loc) {
		d.warnf(j.At("schedule"), j.PathOf("schedule"), "%s observes daylight saving time: a run in the hour skipped or repeated at a change is skipped or made twice; prefer UTC", loc)
	}
	d.apiName(&j.Salesforce.Meta, "object", j.Salesforce.Object)
	d.apiName(&j.Salesforce.Meta, "key", j.Salesforce.Key)

	l := &j.Local
	if l.Source != "" {
		j.Source = c.Sources[l.Source]
		if j.Source == nil {
			names := make([]string, 0, len(c.Sources))
			for name := range c.Sources {
				names = append(names, name)
			}
			slices.Sort(names)
			d.errAt(&l.Meta, "source", "no source named %s%s", d.word(l.PathOf("source"), l.Source), suggest(l.Source, names))
		}
	}
	if src := j.Source; src != nil {
		if l.Has("table") && !src.Kind.IsSQL() {
			d.errAt(&l.Meta, "table", "source %s is a %s file, not a database", src.Name, src.Kind)
		}
		if l.Has("sheet") && src.Kind != KindXLSX {
			d.errAt(&l.Meta, "sheet", "source %s is not an xlsx file", src.Name)
		}
		if src.Kind.IsSQL() && l.Table == "" && src.Table == "" {
			d.errorf(l.Pos, l.KeyPath, "source %s has no table; set table here or on the source", src.Name)
		}
		if src.ReadOnly && j.Direction.WritesLocal() {
			d.errAt(&j.Meta, "direction", "source %s is read_only; the direction must be to_salesforce", src.Name)
		}
		for _, key := range []string{"conflict", "initial"} {
			p := j.Conflict
			if key == "initial" {
				p = j.Initial
			}
			switch {
			case p != NewestWins:
			case !src.Kind.IsSQL():
				// A sheet keeps no row modification times (the sheet
				// connector reads no updated_at column).
				d.errAt(&j.Meta, key, "newest_wins needs each local row's modification time, and source %s is a %s file, which keeps none; use salesforce_wins, local_wins or manual", src.Name, src.Kind)
			case src.UpdatedAt == "":
				d.errAt(&j.Meta, key, "newest_wins needs each local row's modification time: set updated_at on source %s", src.Name)
			}
		}
	}

	if src := j.Source; src != nil && !src.Kind.IsSQL() {
		d.ownColumns(j, src)
	}
	written := make(map[string][]*Rule) // local columns written, across the row's records
	targets := d.validateRules(j, j.Fields, written)
	for i, f := range j.MatchOn {
		if _, ok := targets[f]; !ok {
			p := j.PathOf("match_on") + "[" + strconv.Itoa(i) + "]"
			d.errorf(d.posOf(p, j.At("match_on")), p, "%s is not the sf of a field rule of this job", d.word(p, f))
		}
	}
	d.adopt(j)
	d.keyColumn(j)
	if j.PartSize > 0 && j.PartSize < minPartSize {
		d.errAt(&j.Meta, "part_size", "at least 10000 (0 or -1: never split): each part reads the state and the local side again, and a part's writes below bulk_threshold go as Collections requests rather than one Bulk job")
	}
	if j.KeyList.Duration > 15*24*time.Hour {
		d.errAt(&j.Meta, "key_list_every", "at most 15d: Salesforce keeps deleted records in its Recycle Bin (where the change feed sees them) 15 days")
	}
	if cs := j.Consent; cs != nil {
		if _, ok := targets[cs.Field]; cs.Field != "" && !ok {
			d.errAt(&cs.Meta, "field", "%s is not the sf of a field rule of this job", d.word(cs.PathOf("field"), cs.Field))
		}
		if slices.Contains(cs.Classes, PIINone) {
			d.errAt(&cs.Meta, "classes", "gate direct, quasi or sensitive fields; none is not a class")
		}
	}
	names := make(map[string]Pos)
	keys := make(map[string]*Child) // object + key suffix
	for _, ch := range j.Children {
		if ch.Name != "" {
			if first, dup := names[ch.Name]; dup {
				d.errAt(&ch.Meta, "name", "a child named %s is already declared at line %d", d.word(ch.PathOf("name"), ch.Name), first.Line)
			}
			names[ch.Name] = ch.At("name")
			if !nameRE.MatchString(ch.Name) {
				d.errAt(&ch.Meta, "name", "a name must start with a letter and hold only letters, digits, _ and -")
			}
		}
		if !ch.Has("key_suffix") {
			ch.KeySuffix = ":" + ch.Name
		} else if ch.KeySuffix == "" {
			d.errAt(&ch.Meta, "key_suffix", "must not be empty: a child's key must differ from its parent's")
		}
		if ch.Object != "" && ch.KeySuffix != "" {
			k := ch.Object + "\x00" + ch.KeySuffix
			if first, dup := keys[k]; dup {
				d.errAt(&ch.Meta, "key_suffix", "child %s has the same object and key suffix: both would get the same key", first.Name)
			}
			keys[k] = ch
		}
		d.apiName(&ch.Meta, "object", ch.Object)
		d.apiName(&ch.Meta, "parent_field", ch.ParentField)
		if ch.Each == nil && len(ch.Fields) == 0 && !d.failed[ch.PathOf("fields")] {
			if ch.Has("fields") {
				d.errAt(&ch.Meta, "fields", "must not be empty")
			} else {
				d.errorf(ch.Pos, ch.KeyPath, "missing required key \"fields\" (or each)")
			}
		}
		if e := ch.Each; e != nil {
			d.validateEach(j, ch, e, written)
			d.validateEachPII(ch, e)
		}
		targets := d.validateRules(j, ch.Fields, written)
		if e := ch.Each; e != nil {
			if r, dup := targets[e.SF]; dup && e.SF != "" {
				d.errAt(&r.Meta, "sf", "%s is set by the child's each to the value; remove the rule", d.word(r.PathOf("sf"), r.SF))
			}
			for _, r := range ch.Fields {
				if _, writesLocal := r.Writes(j.Direction); writesLocal && r.Local != "" && r.Local != j.Local.Key {
					d.errAt(&r.Meta, "local", "a child with each has a record per value and one row to write back to; make the rule direction: to_salesforce")
				}
			}
		}
	}
}

// validateEach checks a child's each and records its column as written
// (when it writes the local side).
func (d *decoder) validateEach(j *Job, ch *Child, e *ChildEach, written map[string][]*Rule) {
	d.apiName(&e.Meta, "sf", e.SF)
	if e.Values.Len() == 0 && !d.failed[e.PathOf("values")] {
		if e.Has("values") {
			d.errAt(&e.Meta, "values", "must not be empty")
		} else {
			d.errorf(e.Pos, e.KeyPath, "missing required key \"values\"")
		}
	}
	for _, en := range e.Values.Entries {
		if !eachValueRE.MatchString(en.SF) {
			p := e.PathOf("values") + "." + en.Local
			d.errorf(en.Pos, p, "%s cannot be part of a record key: want letters, digits, _, - or .", d.word(p, en.SF))
		}
	}
	if e.Has("split") && e.Split == "" {
		d.errAt(&e.Meta, "split", "want the separator characters, such as \",;/\"")
	}
	if j.Direction == ToSalesforce && e.Has("direction") && e.Direction == FromSalesforce || j.Direction == FromSalesforce && e.Direction == ToSalesforce {
		d.errAt(&e.Meta, "direction", "never applies: the job's direction is %s", j.Direction)
	}
	if !(e.Direction.WritesLocal() && j.Direction.WritesLocal()) || e.Local == "" {
		return
	}
	if e.Local == j.Local.Key {
		d.errAt(&e.Meta, "local", "%s is the job's key column, which casebridge never writes; make the each direction: to_salesforce", d.word(e.PathOf("local"), e.Local))
		return
	}
	pseudo := &Rule{Meta: e.Meta, Local: e.Local}
	if first := written[e.Local]; len(first) > 0 {
		d.errAt(&e.Meta, "local", "column %s is already written by %s (line %d); make one of them direction: to_salesforce",
			d.word(e.PathOf("local"), e.Local), relPath(j, first[0]), first[0].Pos.Line)
	}
	written[e.Local] = append(written[e.Local], pseudo)
}

// eachValueRE is the form of a Salesforce value that ends a record key.
var eachValueRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// validateRules checks a list of field rules and returns their Salesforce
// targets.
//
// written holds the local columns written so far in the row (parent and
// children share a row): two rules writing one column would overwrite
// each other, unless each writes its own part of the cell (see
// sharedColumn), and the key column is never written.
func (d *decoder) validateRules(j *Job, rules []*Rule, written map[string][]*Rule) map[string]*Rule {
	sfTargets := make(map[string]*Rule)
	localTargets := written
	for _, r := range rules {
		d.validateRule(j, r)
		if r.SF != "" {
			if first, dup := sfTargets[r.SF]; dup {
				d.errAt(&r.Meta, "sf", "%s is already mapped by %s (line %d)", d.word(r.PathOf("sf"), r.SF), relPath(j, first), first.Pos.Line)
			} else {
				sfTargets[r.SF] = r
			}
		}
		for _, ft := range r.Flags.Targets() {
			if !apiNameRE.MatchString(ft.SF) || strings.EqualFold(ft.SF, r.SF) {
				continue // reported by validateRule
			}
			if first, dup := sfTargets[ft.SF]; dup {
				d.errAt(&r.Flags.Meta, ft.Flag, "%s is already mapped by %s (line %d)", d.word(r.Flags.PathOf(ft.Flag), ft.SF), relPath(j, first), first.Pos.Line)
			} else {
				sfTargets[ft.SF] = r
			}
		}
		if _, writesLocal := r.Writes(j.Direction); writesLocal && r.Local != "" {
			if r.Local == j.Local.Key {
				d.errAt(&r.Meta, "local", "%s is the job's key column, which casebridge never writes; make the rule direction: to_salesforce",
					d.word(r.PathOf("local"), r.Local))
				continue
			}
			d.sharedColumn(j, r, localTargets[r.Local])
			localTargets[r.Local] = append(localTargets[r.Local], r)
		}
	}
	return sfTargets
}

// ownColumns checks that a sheet job neither keys on nor maps the
// columns casebridge writes itself (status_column, soft_delete).
func (d *decoder) ownColumns(j *Job, src *Source) {
	for _, own := range []struct{ key, col string }{{"status_column", src.StatusColumn}, {"soft_delete", src.SoftDelete}} {
		col := strings.TrimSpace(own.col)
		if col == "" {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(j.Local.Key), col) {
			d.errAt(&j.Local.Meta, "key", "%s is source %s's %s, which casebridge writes; key on another column", d.word(j.Local.PathOf("key"), j.Local.Key), src.Name, own.key)
		}
		rules := slices.Clone(j.Fields)
		for _, ch := range j.Children {
			rules = append(rules, ch.Fields...)
		}
		for _, r := range rules {
			if r.Local != "" && strings.EqualFold(strings.TrimSpace(r.Local), col) {
				d.errAt(&r.Meta, "local", "column %s is source %s's %s, which casebridge writes; map another column", d.word(r.PathOf("local"), r.Local), src.Name, own.key)
			}
		}
	}
}

// sharedColumn checks a rule writing a local column that the rules in
// before write too. Several rules may write one column only when each
// writes its own part of the cell through a named transform (first and
// last name into a full-name cell: thai_name.first and thai_name.last),
// so that each merges its part into the cell and keeps the rest. Config
// cannot tell which transforms merge (the registry is mapping's):
// mapping.Compile checks that every one of them does, and that they agree
// on how the cell is split.
func (d *decoder) sharedColumn(j *Job, r *Rule, before []*Rule) {
	if len(before) == 0 {
		return
	}
	for _, b := range before {
		if b.Transform == "" || r.Transform == "" {
			d.errAt(&r.Meta, "local", "column %s is already written by %s (line %d); two rules may write one column only when each writes its own part of it with a transform that merges (such as thai_name.first and thai_name.last); otherwise make one of them direction: to_salesforce",
				d.word(r.PathOf("local"), r.Local), relPath(j, b), b.Pos.Line)
			return
		}
		if b.Transform == r.Transform {
			d.errAt(&r.Meta, "transform", "column %s is already written by %s (line %d) with the same transform: both would write the same part of the cell; make one of them direction: to_salesforce",
				d.word(r.PathOf("local"), r.Local), relPath(j, b), b.Pos.Line)
			return
		}
	}
}

// relPath is a rule's path within its job, such as "fields[2]" or
// "children[0].fields[1]".
func relPath(j *Job, r *Rule) string {
	return strings.TrimPrefix(r.KeyPath, j.KeyPath+".")
}

var (
	currencyRE    = regexp.MustCompile(`^[A-Z]{3}$`)
	callingCodeRE = regexp.MustCompile(`^\+?[1-9][0-9]{0,2}$`)
)

func (d *decoder) validateRule(j *Job, r *Rule) {
	d.apiName(&r.Meta, "sf", r.SF)
	if r.Has("constant") {
		if r.Has("local") {
			d.errAt(&r.Meta, "constant", "a rule takes local or constant, not both")
		}
		if r.Has("direction") && r.Direction != ToSalesforce {
			d.errAt(&r.Meta, "direction", "a constant is only written to Salesforce; use to_salesforce")
		}
		r.Direction = ToSalesforce
	} else if !r.Has("local") {
		d.errorf(r.Pos, r.KeyPath, "missing required key \"local\" (or constant)")
	}
	switch {
	case j.Direction == ToSalesforce && r.Direction == FromSalesforce,
		j.Direction == FromSalesforce && r.Direction == ToSalesforce:
		d.errAt(&r.Meta, "direction", "never applies: the job's direction is %s", j.Direction)
	}
	if r.Transform != "" && !transformRE.MatchString(r.Transform) {
		d.errAt(&r.Meta, "transform", "want a transform name such as thai_name.first")
	} else if known, any := transformKnown(r.Transform); r.Transform != "" && any && !known {
		d.errAt(&r.Meta, "transform", "%s", UnknownTransform(r.Transform, transformNames()))
	}
	d.ruleOptions(r)
	if r.Has("split") && r.Split == "" {
		d.errAt(&r.Meta, "split", "want the separator characters, such as \",;/\"")
	}
	if dr := r.Date; dr != nil {
		for i, format := range dr.Formats {
			p := dr.PathOf("formats") + "[" + strconv.Itoa(i) + "]"
			layout, err := DateLayout(format)
			switch {
			case err != nil:
				d.errorf(d.posOf(p, dr.At("formats")), p, "%s: %v", d.word(p, format), err)
			case !dateLayoutOK(layout):
				d.errorf(d.posOf(p, dr.At("formats")), p, "%s does not write a day, a month and a year (want a pattern such as dd/mm/yyyy, or a Go layout such as 02/01/2006)", d.word(p, format))
			default:
				dr.Formats[i] = layout // mapping reads Go layouts only
			}
		}
		if r.Has("write_form") {
			if layout, err := DateLayout(r.WriteForm); err != nil {
				d.errAt(&r.Meta, "write_form", "%v", err)
				r.WriteForm = ""
			} else {
				r.WriteForm = layout
			}
		}
		if len(dr.Formats) == 0 && !dr.ExcelSerial {
			d.errorf(dr.Pos, dr.KeyPath, "give formats, excel_serial: true, or both")
		}
		if (dr.Pivot < 1 || dr.Pivot > 99) && !d.failed[dr.PathOf("pivot")] {
			d.errAt(&dr.Meta, "pivot", "want a two-digit year, 1 to 99")
		}
		if dr.MonthNames != MonthNamesEnglish && !d.failed[dr.PathOf("month_names")] && !strings.Contains(dateWriteForm(r), "Jan") {
			d.errAt(&dr.Meta, "month_names", "names the months of the layout written back, %q, which has no month name (Jan or January, such as 2 Jan 2006)", dateWriteForm(r))
		}
	}
	if nr := r.Number; nr != nil {
		if (nr.Scale < 0 || nr.Scale > 18) && !d.failed[nr.PathOf("scale")] {
			d.errAt(&nr.Meta, "scale", "want 0 to 18 decimal places")
		}
		if nr.Has("currency") && !currencyRE.MatchString(nr.Currency) {
			d.errAt(&nr.Meta, "currency", "want an ISO 4217 code such as THB")
		}
	}
	if pr := r.Phone; pr != nil && pr.Country != "" && !callingCodeRE.MatchString(pr.Country) {
		d.errAt(&pr.Meta, "country", "want a country calling code such as 66 or +502")
	}
	if lr := r.Lookup; lr != nil {
		d.apiName(&lr.Meta, "object", lr.Object)
		d.apiName(&lr.Meta, "field", lr.Field)
	}
	if fl := r.Flags; fl != nil {
		writesSF, _ := r.Writes(j.Direction)
		switch {
		case r.Has("constant"):
			d.errAt(&r.Meta, "flags", "a constant is not read from a cell, so it has no flags; set the field with its own constant")
		case !writesSF && !d.failed[r.PathOf("direction")] && !d.failed[j.PathOf("direction")]:
			d.errAt(&r.Meta, "flags", "flags are only written to Salesforce, and this rule never writes Salesforce (direction %s)", effectiveDirection(j, r))
		}
		if len(fl.Targets()) == 0 && !d.reportedUnder(r.PathOf("flags")) {
			d.errAt(&r.Meta, "flags", "name at least one flag: estimated, low_confidence, lossy or child, each with a Salesforce checkbox field")
		}
		for _, ft := range fl.Targets() {
			d.apiName(&fl.Meta, ft.Flag, ft.SF)
			if strings.EqualFold(ft.SF, r.SF) {
				d.errAt(&fl.Meta, ft.Flag, "the flag's field must differ from the rule's own field %s", r.SF)
			}
		}
	}
	if r.Has("write_form") {
		_, writesLocal := r.Writes(j.Direction)
		switch {
		case !writesLocal:
			d.errAt(&r.Meta, "write_form", "the rule never writes the local side")
		case r.Date != nil:
			if r.WriteForm != "" && !dateLayoutOK(r.WriteForm) {
				d.errAt(&r.Meta, "write_form", "does not write a day, a month and a year (want a pattern such as dd/mm/yyyy, or a Go layout such as 02/01/2006)")
			}
		case r.YesNo != nil:
			if yes, no, ok := strings.Cut(r.WriteForm, "|"); !ok || yes == "" || no == "" {
				d.errAt(&r.Meta, "write_form", "want the yes and no words as \"yes|no\"")
			}
		case r.Has("values"):
			d.errAt(&r.Meta, "write_form", "values write the first local value listed for each Salesforce value; reorder them instead")
		}
	}
}

// conversionKeys are the options of a rule that convert its value, in
// the order a finding names them.
var conversionKeys = []string{"transform", "yes_no", "date", "number", "phone", "lookup", "values", "split"}

// ruleOptions refuses options a rule would ignore or that contradict each
// other (mapping builds one transform per rule and would silently take
// one of them): a constant is written as given and takes no conversion or
// default; a named transform is a conversion of its own; a rule takes at
// most one of yes_no, date, number, phone, lookup and values; split
// combines with values only (a multi-select field).
func (d *decoder) ruleOptions(r *Rule) {
	var conv []string
	for _, key := range conversionKeys {
		if r.Has(key) {
			conv = append(conv, key)
		}
	}
	if r.Has("constant") {
		with := conv
		if r.Has("default") {
			with = append(with, "default")
		}
		if len(with) > 0 {
			d.errAt(&r.Meta, with[0], "a constant is written to Salesforce as given: it takes no %s (remove %s, or the constant)", strings.Join(with, ", "), strings.Join(with, " and "))
		}
		return
	}
	if r.Has("transform") && len(conv) > 1 {
		d.errAt(&r.Meta, conv[1], "transform %s is a conversion of its own: it does not combine with %s", r.Transform, strings.Join(conv[1:], " or "))
		return
	}
	var one []string
	for _, key := range conv {
		if key != "split" {
			one = append(one, key)
		}
	}
	if len(one) > 1 {
		d.errAt(&r.Meta, one[1], "a rule takes one of yes_no, date, number, phone, lookup and values; this one has %s", strings.Join(one, " and "))
		return
	}
	if r.Has("split") && len(one) == 1 && one[0] != "values" {
		d.errAt(&r.Meta, "split", "split combines only with values (the words of a multi-select cell); this rule has %s", one[0])
	}
}

// reportedUnder reports whether a finding was reported about an option
// under path (such as an unknown key).
func (d *decoder) reportedUnder(path string) bool {
	for _, e := range d.errs {
		if strings.HasPrefix(e.Path, path+".") {
			return true
		}
	}
	return false
}

// effectiveDirection names the direction that keeps a rule from
// writing Salesforce: the job's when it is from_salesforce, else the
// rule's.
func effectiveDirection(j *Job, r *Rule) Direction {
	if !j.Direction.WritesSalesforce() {
		return j.Direction
	}
	return r.Direction
}

// dateWriteForm is the layout a date rule writes (mapping decides the
// same): write_form, else the first format with a four-digit year, else
// ISO.
func dateWriteForm(r *Rule) string {
	if r.WriteForm != "" {
		return r.WriteForm
	}
	for _, l := range r.Date.Formats {
		if strings.Contains(l, "2006") {
			return l
		}
	}
	return "2006-01-02"
}

// dateLayoutOK reports whether layout writes and reads back a day, a
// month and a year.
func dateLayoutOK(layout string) bool {
	ref := time.Date(2008, time.March, 25, 0, 0, 0, 0, time.UTC)
	s := ref.Format(layout)
	t, err := time.Parse(layout, s)
	if err != nil {
		return false
	}
	y, m, dd := t.Date()
	return y == 2008 && m == time.March && dd == 25
}

// adopt checks a job's adopt: it creates local rows (so the job writes
// locally), and a key made of a field's value must not be personal data.
func (d *decoder) adopt(j *Job) {
	a := strings.TrimSpace(j.Adopt)
	if a == "" {
		return
	}
	if j.Direction == ToSalesforce {
		d.errAt(&j.Meta, "adopt", "adopt creates local rows for records opened in Salesforce, and this job's direction is to_salesforce; remove adopt or use direction: both")
	}
	for _, r := range j.Fields {
		// The key column read into a Salesforce field: an adopted
		// record's key would overwrite that field (its case code
		// replaced by its Id), unless the key is made of that field.
		if r.Local != "" && strings.EqualFold(r.Local, j.Local.Key) && r.Direction != FromSalesforce && !strings.EqualFold(r.SF, a) {
			d.errAt(&j.Meta, "adopt", "the key column %s also writes %s: an adopted record's key would replace that field's value in Salesforce; use adopt: %s, so that the key is made of it", j.Local.Key, r.SF, r.SF)
			return
		}
	}
	if strings.EqualFold(a, "id") {
		return
	}
	if strings.ContainsAny(a, " ,()'") {
		d.errAt(&j.Meta, "adopt", "want id or the API name of a Salesforce field (an auto-number such as vcms__Case_Number__c), not %s", d.word(j.PathOf("adopt"), a))
		return
	}
	for _, r := range j.Fields {
		if strings.EqualFold(r.SF, a) && r.PII != "" && r.PII != PIINone {
			d.errAt(&j.Meta, "adopt", "%s is classified %s here: a key shows in plans, reports, the state and Salesforce's key field, so it must not be personal data; use adopt: id, or an auto-number", d.word(j.PathOf("adopt"), a), r.PII)
		}
	}
}

// isHexKey reports whether k is at least 32 bytes written in hex, or empty
// (an unset ${ENV}, reported where it is used).
func isHexKey(k string) bool {
	k = strings.TrimSpace(k)
	if k == "" {
		return true
	}
	b, err := hex.DecodeString(k)
	return err == nil && len(b) >= 32
}

// keyColumn checks what a job's key column may hold: never a column a
// rule classifies as personal (a key shows in plans, reports, the state,
// URLs and Salesforce's key field), and key_pattern a valid expression.
func (d *decoder) keyColumn(j *Job) {
	for _, r := range j.Fields {
		if r.Local != "" && strings.EqualFold(strings.TrimSpace(r.Local), strings.TrimSpace(j.Local.Key)) && r.PII != "" && r.PII != PIINone {
			d.errAt(&j.Local.Meta, "key", "%s is classified %s by the rule at line %d: a key shows in plans, reports, the state, URLs and Salesforce's key field, so it must name no one; key on a case code, and set key_pattern to refuse anything else",
				d.word(j.Local.PathOf("key"), j.Local.Key), r.PII, r.At("pii").Line)
			break
		}
	}
	if p := strings.TrimSpace(j.Local.KeyPattern); p != "" {
		if _, err := regexp.Compile(p); err != nil {
			d.errAt(&j.Local.Meta, "key_pattern", "not a regular expression: %v", err)
		}
	}
}
