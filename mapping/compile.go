package mapping

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// JobMapping is a job's field rules compiled against the Salesforce
// objects' descriptions: how one local row becomes a family of Salesforce
// records (a parent and named children) and back. It is immutable and safe
// for concurrent use.
type JobMapping struct {
	// Name is the job's name.
	Name string
	// Job is the configuration compiled.
	Job *config.Job
	// Object is the parent's Salesforce object; Key the Salesforce key
	// field (an external id) of the parent and of every child.
	Object string
	Key    string
	// KeyPrefix is put in front of a local key to make the Salesforce key;
	// a Salesforce key without it is not this job's.
	KeyPrefix string
	// LocalKey is the local key column.
	LocalKey string
	// LocalObject is the local object (table or sheet) the job reads:
	// local.table, else local.sheet, else the source's table, else the
	// source's name. The wiring layer may set it before NewView.
	LocalObject string
	// Connector names the local source in errors.
	Connector string
	// Parent and Children are the records a row carries.
	Parent   *Member
	Children []*Member

	gate *consentGate
}

// consentGate is the compiled consent gate: while the parent's consent
// field holds none of the allowed values, fields of the gated classes do
// not flow in either direction.
type consentGate struct {
	rule    *FieldRule
	allowed map[string]bool
	classes map[config.PII]bool
	hashIn  []string
}

// gated reports whether the gate holds rule r back while consent is not
// allowed: one of the classes of r's column (see FieldRule.Class) is
// gated. The consent rule itself is never held back: a withdrawal must
// flow.
func (g *consentGate) gated(r *FieldRule) bool {
	if g == nil || r == g.rule {
		return false
	}
	if g.classes[r.Class] {
		return true
	}
	for _, c := range r.classes {
		if g.classes[c] {
			return true
		}
	}
	return false
}

// Members returns the parent and the children, in configuration order.
func (m *JobMapping) Members() []*Member {
	return append([]*Member{m.Parent}, m.Children...)
}

// Objects returns the Salesforce objects the job maps: the parent's, then
// each child's, without repeats.
func (m *JobMapping) Objects() []string {
	var out []string
	for _, mem := range m.Members() {
		if !slices.Contains(out, mem.Object) {
			out = append(out, mem.Object)
		}
	}
	return out
}

// membersOf returns the members whose records belong to object.
func (m *JobMapping) membersOf(object string) []*Member {
	var out []*Member
	for _, mem := range m.Members() {
		if strings.EqualFold(mem.Object, object) {
			out = append(out, mem)
		}
	}
	return out
}

// FieldSpecs returns the mapped fields of object, in rule order, for the
// engine's Job.Fields. The key field is not among them. A child object's
// parent field comes last, to_salesforce: the View sets it to the parent's
// Salesforce Id (see View.Resolver). A field that
// several children of one object map (two Assistance children both setting
// vcms__Service_Type__c) is listed once, with a hash over all their rules,
// the widest direction and the highest class; the View applies each
// child's own rule to its records.
func (m *JobMapping) FieldSpecs(object string) []FieldInfo {
	var out []FieldInfo
	idx := map[string]int{}
	hashes := map[string][]string{}
	for _, mem := range m.membersOf(object) {
		for _, r := range mem.Rules {
			i, ok := idx[r.SF]
			if !ok {
				idx[r.SF] = len(out)
				out = append(out, FieldInfo{Name: r.SF, Direction: r.Direction, Class: r.Class, Gated: m.gate.gated(r), Lossy: r.Lossy()})
				hashes[r.SF] = []string{r.Hash}
				continue
			}
			f := &out[i]
			hashes[r.SF] = append(hashes[r.SF], r.Hash)
			if f.Direction != r.Direction {
				f.Direction = config.Both
			}
			if classRank(r.Class) > classRank(f.Class) {
				f.Class = r.Class
			}
			f.Gated = f.Gated || m.gate.gated(r)
			f.Lossy = f.Lossy || r.Lossy()
		}
	}
	for _, mem := range m.membersOf(object) {
		if mem.IsParent() || mem.ParentField == "" {
			continue
		}
		if _, ok := idx[mem.ParentField]; ok {
			continue
		}
		idx[mem.ParentField] = len(out)
		out = append(out, FieldInfo{Name: mem.ParentField, Direction: config.ToSalesforce})
		hashes[mem.ParentField] = []string{ruleHash(ruleHashInput{Object: mem.Object, Field: mem.ParentField, Direction: string(config.ToSalesforce),
			Lookup: []string{m.Object, m.Key}})}
	}
	for i := range out {
		out[i].RuleHash = combineHashes(hashes[out[i].Name])
	}
	return out
}

// ParentKey returns the parent's Salesforce key of a child record's key
// (a child's key is its parent's plus the child's key suffix), and the
// child's name. ok is false for a key that is not a child's of object. The
// wiring layer uses it to set the child's parent_field (by the parent's
// external id, or its Id once the parent exists): the parent field is not
// a mapped field, since a Salesforce Id and a local key never compare
// equal.
func (m *JobMapping) ParentKey(object, childKey string) (parentKey, child string, ok bool) {
	mem, local, ok := m.memberOfKey(object, childKey)
	if !ok || mem.IsParent() {
		return "", "", false
	}
	return m.KeyPrefix + local, mem.Name, true
}

// ByReference returns records of object (a child's, on their way to
// Salesforce) with each child's parent field given by reference: the
// field <Relationship>.<parent key field> (vcms__Case__r.vcms__External_Key__c)
// set to the parent's key, which the record's key names, instead of the
// parent's Id. Salesforce resolves the reference on save, in sObject
// Collections and Bulk API 2.0 alike: no query per parent, and a child of a
// parent created earlier in the same run can be written. Only records that
// set the parent field change (a create, or a parent that differs); the
// others, and records of members without a relationship name, are
// returned as they are. The input is not modified.
func (m *JobMapping) ByReference(object string, records []connector.Record) []connector.Record {
	var out []connector.Record
	for i, r := range records {
		mem, local, ok := m.memberOfKey(object, r.Key)
		if !ok || mem.IsParent() || mem.ParentRef == "" {
			continue
		}
		v, set := r.Fields[mem.ParentField]
		if !set {
			continue
		}
		if out == nil {
			out = slices.Clone(records)
		}
		c := r.Clone()
		delete(c.Fields, mem.ParentField)
		if v.IsNull() {
			c.Fields[mem.ParentRef] = v
		} else {
			c.Fields[mem.ParentRef] = connector.Text(m.KeyPrefix + local)
		}
		out[i] = c
	}
	if out == nil {
		return records
	}
	return out
}

// ParentField returns the named child's parent field ("" if none).
func (m *JobMapping) ParentField(child string) string {
	for _, c := range m.Children {
		if c.Name == child {
			return c.ParentField
		}
	}
	return ""
}

// memberOfKey finds which member of object a Salesforce key belongs to
// and returns the local key. The longest matching child suffix wins; a key
// of the parent's object matching no child suffix is the parent's.
func (m *JobMapping) memberOfKey(object, key string) (*Member, string, bool) {
	key = connector.NormalizeKey(key)
	rest, ok := cutPrefixFold(key, m.KeyPrefix)
	if !ok {
		return nil, "", false
	}
	var best *Member
	for _, mem := range m.membersOf(object) {
		if mem.IsParent() {
			continue
		}
		if hasSuffixFold(rest, mem.KeySuffix) && len(rest) > len(mem.KeySuffix) {
			if best == nil || len(mem.KeySuffix) > len(best.KeySuffix) {
				best = mem
			}
		}
	}
	if best != nil {
		return best, rest[:len(rest)-len(best.KeySuffix)], true
	}
	if strings.EqualFold(m.Parent.Object, object) && rest != "" {
		return m.Parent, rest, true
	}
	return nil, "", false
}

// cutPrefixFold is strings.CutPrefix, comparing case-insensitively (keys
// are external ids, compared case-insensitively).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Compile compiles a job's rules against the descriptions of the
// Salesforce objects it names (the parent's and each child's, keyed by
// object name; extra objects are ignored). It builds each rule's transform
// and checks every rule against its field: the field exists, the rule's
// output fits the field's type, value-map targets are picklist values,
// constants and defaults fit, a rule that writes Salesforce targets a
// writable field, and a rule that writes the local side has a write form.
//
// The error, when not nil, is a config.Errors: every finding, each at the
// option's file:line:col. Messages name fields, columns, options and
// configured values, never record values.
func Compile(job *config.Job, objects map[string]*connector.Object) (*JobMapping, error) {
	return CompileWith(job, objects, CompileOptions{})
}

type compiler struct {
	job     *config.Job
	objects map[string]*connector.Object
	errs    config.Errors
	// known, when set, are every object name of the org, for
	// suggestions; unavailable are objects whose describe failed for
	// another reason than not existing (already reported).
	known       []string
	unavailable map[string]bool
	// opts are CompileWith's; placeholderEach lets a classified each
	// compile without CompileOptions.EachKey (a check of the configuration
	// against the org, which makes no key).
	opts            CompileOptions
	placeholderEach bool
}

func (c *compiler) errorf(meta *config.Meta, key, format string, args ...any) {
	c.errs = append(c.errs, meta.Errorf(key, format, args...))
}

// object returns the description of name, matched exactly and then
// case-insensitively.
func (c *compiler) object(name string) *connector.Object {
	if o, ok := c.objects[name]; ok && o != nil {
		return o
	}
	for n, o := range c.objects {
		if strings.EqualFold(n, name) && o != nil {
			return o
		}
	}
	return nil
}

func (c *compiler) objectNames() []string {
	if c.known != nil {
		return c.known
	}
	names := make([]string, 0, len(c.objects))
	for n := range c.objects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *compiler) compile() *JobMapping {
	j := c.job
	m := &JobMapping{
		Name:      j.Name,
		Job:       j,
		Object:    j.Salesforce.Object,
		Key:       j.Salesforce.Key,
		KeyPrefix: j.Local.KeyPrefix,
		LocalKey:  j.Local.Key,
		Connector: j.Local.Source,
	}
	m.LocalObject = LocalObject(j)
	parent := c.member(&j.Salesforce.Meta, "object", j.Salesforce.Object, nil, j.Fields)
	if parent == nil {
		return nil
	}
	m.Parent = parent
	m.Object = parent.Object
	if kf := parent.Desc.Field(j.Salesforce.Key); kf != nil {
		m.Key = kf.Name
	}
	for _, ch := range j.Children {
		mem := c.member(&ch.Meta, "object", ch.Object, ch, ch.Fields)
		if mem == nil {
			continue
		}
		if pf := mem.Desc.Field(ch.ParentField); pf == nil {
			c.errorf(&ch.Meta, "parent_field", "%s has no field %q%s", mem.Object, ch.ParentField, suggestName(ch.ParentField, mem.Desc.FieldNames()))
		} else if len(pf.ReferenceTo) > 0 && !containsFold(pf.ReferenceTo, m.Object) {
			c.errorf(&ch.Meta, "parent_field", "%s.%s references %s, not the parent %s", mem.Object, pf.Name, strings.Join(pf.ReferenceTo, ", "), m.Object)
		} else {
			for _, r := range mem.Rules {
				if strings.EqualFold(r.SF, pf.Name) {
					c.errorf(&r.Rule.Meta, "sf", "%s is the child's parent_field, which casebridge sets to the parent's Id; remove the rule", pf.Name)
				}
			}
			if pf.Relationship != "" && m.Key != "" {
				mem.ParentRef = pf.Relationship + "." + m.Key
			}
		}
		if ch.Each != nil {
			for _, em := range c.eachMembers(mem, ch) {
				em.ParentRef = mem.ParentRef
				m.Children = append(m.Children, em)
			}
			continue
		}
		m.Children = append(m.Children, mem)
	}
	c.sharedColumns(m)
	columnClasses(m)
	c.consent(m)
	c.hashes(m)
	return m
}

// columnClasses gives every rule reading a local column the strictest
// class of all the rules of the job (parent and children) that read it,
// and the list of their classes: a column is personal data whichever rule
// reads it, so a name column read by a pii: direct rule and by an
// unclassified one is masked in reports and held back by the consent gate
// through both. Constants read no column.
func columnClasses(m *JobMapping) {
	classes := map[string][]config.PII{}
	var rules []*FieldRule
	for _, mem := range m.Members() {
		if mem == nil {
			continue
		}
		for _, r := range mem.Rules {
			if r.IsConstant || strings.TrimSpace(r.Local) == "" {
				continue
			}
			rules = append(rules, r)
			col := columnID(r.Local)
			if r.Class != "" && !slices.Contains(classes[col], r.Class) {
				classes[col] = append(classes[col], r.Class)
			}
		}
	}
	eachColumnClasses(m, classes)
	for _, cs := range classes {
		slices.SortFunc(cs, func(a, b config.PII) int { return classRank(a) - classRank(b) })
	}
	for _, r := range rules {
		cs := classes[columnID(r.Local)]
		r.classes = cs
		if len(cs) > 0 && classRank(cs[len(cs)-1]) > classRank(r.Class) {
			r.Class = cs[len(cs)-1]
		}
	}
}

// columnID identifies a local column as configuration compares columns:
// trimmed, case-insensitively.
func columnID(col string) string { return strings.ToLower(strings.TrimSpace(col)) }

// sharedColumns checks the local columns that several rules write (a
// child writes on its parent's row): allowed only when every one of them
// has a PartMerger of one group, each writing a different part, so that
// each merges its part and keeps the rest of the cell. (config lets such
// rules through when each names a transform; which transforms merge is
// known here.)
func (c *compiler) sharedColumns(m *JobMapping) {
	var cols []string
	writers := map[string][]*FieldRule{}
	for _, mem := range m.Members() {
		if mem == nil {
			continue
		}
		for _, r := range mem.Rules {
			if !r.WritesLocal() {
				continue
			}
			if _, ok := writers[r.Local]; !ok {
				cols = append(cols, r.Local)
			}
			writers[r.Local] = append(writers[r.Local], r)
		}
	}
cols:
	for _, col := range cols {
		rs := writers[col]
		if len(rs) < 2 {
			continue
		}
		first := rs[0]
		key := func(r *FieldRule) string {
			if r.Rule.Has("transform") {
				return "transform"
			}
			return "local"
		}
		name := func(r *FieldRule) string {
			if r.Rule.Transform != "" {
				return "transform " + r.Rule.Transform
			}
			return "a " + r.Transform.Kind() + " rule"
		}
		var group string
		parts := map[string]*FieldRule{}
		for _, r := range rs {
			other := first
			if r == first {
				other = rs[1]
			}
			pm, ok := r.Transform.(PartMerger)
			if !ok {
				c.errorf(&r.Rule.Meta, key(r), "column %q is also written by rule %s (line %d), and %s writes the whole cell rather than merging its part into it: the rules would overwrite each other; make one of them direction: to_salesforce",
					col, other.Rule.KeyPath, other.Rule.Pos.Line, name(r))
				continue cols
			}
			if group == "" {
				group = pm.Group()
			} else if pm.Group() != group {
				c.errorf(&r.Rule.Meta, key(r), "column %q is also written by rule %s (line %d), whose transform splits the cell another way; rules sharing a column must use one layout's parts (such as thai_name.first and thai_name.last)",
					col, first.Rule.KeyPath, first.Rule.Pos.Line)
				continue cols
			}
			if prev, dup := parts[pm.Part()]; dup {
				c.errorf(&r.Rule.Meta, key(r), "column %q: rule %s (line %d) already writes the %s part; make one of them direction: to_salesforce",
					col, prev.Rule.KeyPath, prev.Rule.Pos.Line, pm.Part())
				continue cols
			}
			parts[pm.Part()] = r
		}
	}
}

// member compiles the rules of one record of the row.
func (c *compiler) member(meta *config.Meta, key, object string, ch *config.Child, rules []*config.Rule) *Member {
	desc := c.object(object)
	if desc == nil && c.unavailable[object] {
		return nil
	}
	if desc == nil {
		c.errorf(meta, key, "the org has no object %q%s", object, suggestName(object, c.objectNames()))
		return nil
	}
	view := &connector.Object{Name: desc.Name, Label: desc.Label, Key: c.memberKey(ch), Modified: desc.Modified, Fields: desc.Fields}
	if kf := desc.Field(view.Key); kf != nil {
		view.Key = kf.Name
	} else {
		c.noKeyField(desc, ch)
	}
	mem := &Member{Object: desc.Name, Desc: view, cfg: ch}
	if ch != nil {
		mem.Name, mem.KeySuffix, mem.ParentField = ch.Name, ch.KeySuffix, ch.ParentField
		if mem.KeySuffix == "" {
			mem.KeySuffix = ":" + ch.Name
		}
		if f := desc.Field(ch.ParentField); f != nil {
			mem.ParentField = f.Name
		}
	}
	for _, r := range rules {
		fr := c.rule(desc, view.Key, r)
		if fr == nil {
			continue
		}
		mem.Rules = append(mem.Rules, fr)
		for _, ft := range r.Flags.Targets() {
			if d := c.flagRule(desc, view.Key, fr, ft); d != nil {
				mem.Rules = append(mem.Rules, d)
			}
		}
	}
	return mem
}

// memberKey is the configured key field of the parent (ch nil) or of a
// child: the child's key, else the job's salesforce.key.
func (c *compiler) memberKey(ch *config.Child) string {
	if ch == nil {
		return c.job.Salesforce.Key
	}
	return c.job.ChildKey(ch)
}

// noKeyField reports a member's object without its key field: at the
// job's salesforce.key for the parent, at the child's key where it names
// one, else at the child's object (it uses the job's salesforce.key by
// default), listing the object's External ID fields to choose from.
func (c *compiler) noKeyField(desc *connector.Object, ch *config.Child) {
	key := c.memberKey(ch)
	switch {
	case ch == nil:
		c.errorf(&c.job.Salesforce.Meta, "key", "%s has no field %q%s", desc.Name, key, suggestName(key, desc.FieldNames()))
	case strings.TrimSpace(ch.Key) != "":
		c.errorf(&ch.Meta, "key", "%s has no field %q%s%s", desc.Name, key, suggestName(key, desc.FieldNames()), externalIDs(desc))
	default:
		c.errorf(&ch.Meta, "object", "%s has no field %q (the job's salesforce.key, which a child without key uses): the child needs a key%s",
			desc.Name, key, externalIDs(desc))
	}
}

// externalIDs lists an object's External ID fields for a message that
// asks for a key field.
func externalIDs(desc *connector.Object) string {
	var ids []string
	for _, f := range desc.Fields {
		if f.ExternalID {
			ids = append(ids, f.Name)
		}
	}
	switch len(ids) {
	case 0:
		return "; " + desc.Name + " has no External ID field (a child of an object without one takes key: by_parent, keyed by its parent)"
	case 1:
		return "; set key: " + ids[0] + " (its External ID field)"
	}
	return "; set key to one of its External ID fields: " + strings.Join(ids, ", ")
}

// flagBits are the flags a rule's flags option names.
var flagBits = map[string]Flags{"estimated": FlagEstimated, "low_confidence": FlagLowConfidence, "lossy": FlagLossy, "child": FlagChild}

// flagRule compiles one flag of src's flags option: a to_salesforce rule
// setting a checkbox from what src's transform learned reading the cell.
func (c *compiler) flagRule(desc *connector.Object, key string, src *FieldRule, ft config.FlagTarget) *FieldRule {
	fl := src.Rule.Flags
	bit, ok := flagBits[ft.Flag]
	if !ok {
		c.errorf(&fl.Meta, ft.Flag, "unknown flag %q", ft.Flag) // config's keys and flagBits disagree
		return nil
	}
	f := desc.Field(ft.SF)
	switch {
	case f == nil:
		c.errorf(&fl.Meta, ft.Flag, "%s has no field %q%s", desc.Name, ft.SF, suggestName(ft.SF, desc.FieldNames()))
		return nil
	case f.Type.ValueKind() != connector.KindBool:
		c.errorf(&fl.Meta, ft.Flag, "a flag is true or false, which %s (%s) cannot hold; name a checkbox field", f.Name, describeField(f))
		return nil
	case strings.EqualFold(f.Name, key):
		c.errorf(&fl.Meta, ft.Flag, "%s is the record's key field", f.Name)
		return nil
	case f.Calculated || !f.Createable && !f.Updateable:
		c.errorf(&fl.Meta, ft.Flag, "%s is not writable (a formula, or neither createable nor updateable)", f.Name)
		return nil
	case !src.WritesSalesforce() || src.IsConstant || src.Transform == nil:
		return nil // config reports it
	}
	return &FieldRule{SF: f.Name, Local: src.Local, Direction: config.ToSalesforce, Class: src.Class, Transform: src.Transform,
		Default: src.Default, HasDefault: src.HasDefault, Field: f, Rule: src.Rule, loc: src.loc,
		flagOf: src, flag: bit, flagKey: ft.Flag}
}

// effective returns the rule's direction narrowed by the job's.
func effective(job config.Direction, r *config.Rule) (config.Direction, bool) {
	sf, local := r.Writes(job)
	switch {
	case sf && local:
		return config.Both, true
	case sf:
		return config.ToSalesforce, true
	case local:
		return config.FromSalesforce, true
	}
	return "", false
}

// rule compiles one field rule; nil when it cannot be used.
func (c *compiler) rule(desc *connector.Object, key string, r *config.Rule) *FieldRule {
	f := desc.Field(r.SF)
	if f == nil {
		c.errorf(&r.Meta, "sf", "%s has no field %q%s", desc.Name, r.SF, suggestName(r.SF, desc.FieldNames()))
		return nil
	}
	dir, ok := effective(c.job.Direction, r)
	if !ok {
		return nil // config reports "never applies"
	}
	fr := &FieldRule{SF: f.Name, Local: r.Local, Direction: dir, Class: r.PII, Field: f, Rule: r, Required: r.Required, loc: time.UTC}
	if s := c.job.Source; s != nil && s.Location != nil {
		fr.loc = s.Location
	}
	if fr.Class == config.PIINone {
		fr.Class = ""
	}
	if strings.EqualFold(f.Name, key) {
		c.errorf(&r.Meta, "sf", "%s is the record's key field: it is set from local.key and key_prefix, not by a rule", f.Name)
		return nil
	}
	if fr.WritesSalesforce() {
		switch {
		case f.Calculated:
			c.errorf(&r.Meta, "sf", "%s is a formula or roll-up field: Salesforce computes it; make the rule direction: from_salesforce", f.Name)
			return nil
		case !f.Createable && !f.Updateable:
			c.errorf(&r.Meta, "sf", "%s is neither createable nor updateable; make the rule direction: from_salesforce", f.Name)
			return nil
		}
	}
	if r.Has("constant") {
		v, err := connector.Canonicalize(connector.Text(r.Constant), f)
		if err == nil {
			err = connector.Check(v, f)
		}
		if err == nil && (f.Type == connector.TypeReference || f.Type == connector.TypeID) && !isRecordID(r.Constant) {
			// Salesforce refuses anything else with MALFORMED_ID on every
			// record; a constant cannot take lookup: to find the record.
			err = &connector.ValueError{Code: "MALFORMED_ID", Detail: "a reference holds a record Id, 15 or 18 letters and digits"}
		}
		if err != nil {
			c.errorf(&r.Meta, "constant", "the constant does not fit %s (%s): %v%s", f.Name, describeField(f), err, picklistValues(f, err))
			return nil
		}
		fr.Constant, fr.IsConstant, fr.Direction = v, true, config.ToSalesforce
		return fr
	}
	t, key, err := c.transform(r, f)
	if err != nil {
		c.errorf(&r.Meta, key, "%v", err)
		return nil
	}
	fr.Transform = t
	fr.merger, _ = t.(Merger)
	if r.Lookup != nil {
		// A lookup writing the local side too is two-way (FieldRule.TwoWay):
		// the Id is turned back into the field's value. validate --online
		// checks that the field is readable and unique.
		fr.Lookup = r.Lookup
		if f.Type != connector.TypeReference && f.Type != connector.TypeID && f.Type.ValueKind() != connector.KindText {
			c.errorf(&r.Meta, "lookup", "a lookup gives a record Id, which %s (%s) cannot hold", f.Name, describeField(f))
			return nil
		}
	} else if !c.typeFits(r, f, t, key) {
		return nil
	}
	if r.Has("default") {
		fr.Default, fr.HasDefault = r.Default, true
		if r.Lookup == nil {
			res, err := t.Parse(r.Default)
			var v connector.Value
			if err == nil {
				v, err = connector.Canonicalize(res.Value, f)
			}
			if err == nil {
				err = connector.Check(v, f)
			}
			if err != nil {
				c.errorf(&r.Meta, "default", "the default does not read as a value of %s: %v", f.Name, err)
				return nil
			}
		}
	}
	return fr
}

// describeField says what a field holds, for messages: "picklist",
// "string(80)", "double(3,0)".
func describeField(f *connector.Field) string {
	switch {
	case f.Length > 0 && f.Type.ValueKind() == connector.KindText:
		return fmt.Sprintf("%s(%d)", f.Type, f.Length)
	case f.Precision > 0:
		return fmt.Sprintf("%s(%d,%d)", f.Type, f.Precision, f.Scale)
	}
	return string(f.Type)
}

// maxListedValues bounds the picklist values an error lists: a long
// picklist is better read in describe's output than in one line.
const maxListedValues = 12

// picklistValues is the "; its values: ..." an error about a value the
// picklist f refuses ends with, so that the person fixing the
// configuration sees what it may say without running describe; "" for
// other errors. The values are the org's schema, never a record's.
func picklistValues(f *connector.Field, err error) string {
	if connector.CodeOf(err) != connector.CodeBadPicklist || len(f.Picklist) == 0 {
		return ""
	}
	if len(f.Picklist) > maxListedValues {
		return fmt.Sprintf("; it has %d values, which casebridge describe lists", len(f.Picklist))
	}
	return "; its values: " + strings.Join(f.Picklist, ", ")
}

// isRecordID reports whether s has the shape of a Salesforce record Id:
// 15 (case-sensitive) or 18 (case-insensitive) letters and digits.
func isRecordID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// outputKind is the kind of value a transform kind produces.
func outputKind(kind string) connector.Kind {
	switch kind {
	case "date":
		return connector.KindDate
	case "datetime":
		return connector.KindDateTime
	case "number":
		return connector.KindNumber
	case "yes_no":
		return connector.KindBool
	case "multi_value_map", "split":
		return connector.KindMulti
	}
	return connector.KindText
}

// typeFits checks that what t produces can be stored in f: a value map's
// every target canonicalises into f and is one of its picklist values;
// another transform's output kind is f's (any kind fits a text field,
// text fits a multi-select).
func (c *compiler) typeFits(r *config.Rule, f *connector.Field, t Transform, key string) bool {
	if r.Values.Len() > 0 {
		ok := true
		for _, e := range r.Values.Entries {
			v, err := connector.Canonicalize(connector.Text(e.SF), f)
			if err == nil {
				err = connector.Check(v, f)
				if err == nil && f.Type == connector.TypeMultiPicklist && len(f.Picklist) > 0 && !f.HasPicklistValue(e.SF) {
					err = &connector.ValueError{Code: connector.CodeBadPicklist, Detail: "not one of the field's picklist values"}
				}
			}
			if err != nil {
				path := r.PathOf("values") + "." + e.Local
				msg := fmt.Sprintf("Salesforce value %q does not fit %s (%s): %v", e.SF, f.Name, describeField(f), err)
				if connector.CodeOf(err) == connector.CodeBadPicklist {
					msg = fmt.Sprintf("%q is not a picklist value of %s%s%s (describe lists the master values; record types may allow fewer)",
						e.SF, f.Name, suggestName(e.SF, f.Picklist), picklistValues(f, err))
				}
				c.errs = append(c.errs, &config.Error{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col, Path: path, Msg: msg})
				ok = false
			}
		}
		return ok
	}
	want := f.Type.ValueKind()
	got := outputKind(t.Kind())
	if got == want || want == connector.KindText || (want == connector.KindMulti && got == connector.KindText) {
		return true
	}
	c.errorf(&r.Meta, key, "a %s rule gives %s values, which %s (%s) cannot hold", t.Kind(), got, f.Name, describeField(f))
	return false
}

// conversionKeys are the rule keys that choose a transform, in the order
// they are reported.
var conversionKeys = []string{"transform", "values", "yes_no", "date", "number", "phone", "split", "lookup"}

// transform builds the rule's transform; key is the option an error is
// about.
func (c *compiler) transform(r *config.Rule, f *connector.Field) (Transform, string, error) {
	key := "sf"
	for _, k := range conversionKeys {
		if r.Has(k) {
			key = k
			break
		}
	}
	if r.Transform != "" {
		for _, k := range conversionKeys[1:] {
			if r.Has(k) {
				return nil, k, fmt.Errorf("transform %s does not combine with %s", r.Transform, k)
			}
		}
		o, ok := Lookup(r.Transform)
		if !ok {
			return nil, key, unknownTransform(r.Transform)
		}
		t, err := o.Build()
		return t, key, err
	}
	switch {
	case r.Lookup != nil:
		t, err := NewText(TextOptions{})
		return t, key, err
	case r.Values.Len() > 0:
		o := ValueMapOptions{Multi: f.Type == connector.TypeMultiPicklist || r.Split != ""}
		if o.Multi && r.Split != "" {
			o.Separators = r.Split
			o.Join = r.Split[:utf8.RuneLen([]rune(r.Split)[0])]
			if o.Join != "\n" {
				o.Join += " "
			}
		}
		for _, e := range r.Values.Entries {
			if Clean(e.Local) == "" {
				if o.Blank != "" && o.Blank != e.SF {
					return nil, "values", fmt.Errorf("the blank cell maps to both %q and %q", o.Blank, e.SF)
				}
				o.Blank = e.SF
				continue
			}
			o.Pairs = append(o.Pairs, Pair{Local: e.Local, Salesforce: e.SF})
		}
		if o.Multi {
			o.Blank = ""
		}
		t, err := NewValueMap(o)
		return t, key, err
	case r.YesNo != nil:
		t, err := NewYesNo(yesNoOptions(r))
		return t, key, err
	case r.Date != nil:
		o := dateOptions(r)
		if f.Type == connector.TypeDateTime {
			t, err := NewDateTime(DateTimeOptions{DateOptions: o, Zone: c.zone()})
			return t, key, err
		}
		t, err := NewDate(o)
		return t, key, err
	case r.Number != nil:
		o := NumberOptions{}
		if r.Number.Has("scale") {
			s := int32(r.Number.Scale)
			o.Scale = &s
		} else if s, ok := fieldScale(f); ok {
			o.Scale = &s
		}
		t, err := NewNumber(o)
		return t, key, err
	case r.Phone != nil:
		t, err := NewPhone(PhoneOptions{Country: r.Phone.Country})
		return t, key, err
	case r.Split != "":
		t, err := NewSplit(SplitOptions{Separators: r.Split})
		return t, key, err
	}
	// No conversion configured: the field's type chooses.
	var t Transform
	var err error
	switch f.Type.ValueKind() {
	case connector.KindBool:
		t, err = NewYesNo(YesNoOptions{})
	case connector.KindNumber:
		o := NumberOptions{}
		if s, ok := fieldScale(f); ok {
			o.Scale = &s
		}
		t, err = NewNumber(o)
	case connector.KindDate:
		t, err = NewDate(DateOptions{})
	case connector.KindDateTime:
		t, err = NewDateTime(DateTimeOptions{Zone: c.zone()})
	case connector.KindMulti:
		t, err = NewSplit(SplitOptions{})
	default:
		t, err = NewText(TextOptions{})
	}
	return t, key, err
}

func (c *compiler) zone() string {
	if s := c.job.Source; s != nil && s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err == nil {
			return s.Timezone
		}
	}
	return "UTC"
}

func fieldScale(f *connector.Field) (int32, bool) {
	switch f.Type {
	case connector.TypeInt:
		return 0, true
	case connector.TypeDouble, connector.TypeCurrency, connector.TypePercent:
		if f.Scale >= 0 && f.Scale <= 18 {
			return int32(f.Scale), true
		}
	}
	return 0, false
}

// yesNoOptions converts a rule's yes_no: the first word of each list is
// written back, unless write_form says "yes|no".
func yesNoOptions(r *config.Rule) YesNoOptions {
	y := r.YesNo
	o := YesNoOptions{Yes: nonBlank(y.Yes), No: nonBlank(y.No), Unknown: nonBlank(y.Unknown)}
	if len(o.Unknown) == 0 {
		listed := map[string]bool{}
		for _, w := range append(slices.Clone(o.Yes), o.No...) {
			listed[matchKey(w, false)] = true
		}
		for _, w := range DefaultUnknown {
			if !listed[matchKey(w, false)] {
				o.Unknown = append(o.Unknown, w)
			}
		}
	}
	if len(o.Yes) > 0 {
		o.WriteYes = o.Yes[0]
	}
	if len(o.No) > 0 {
		o.WriteNo = o.No[0]
	}
	if yes, no, ok := strings.Cut(r.WriteForm, "|"); ok && r.YesNo != nil {
		o.WriteYes, o.WriteNo = yes, no
	}
	return o
}

func nonBlank(words []string) []string {
	var out []string
	for _, w := range words {
		if Clean(w) != "" {
			out = append(out, w)
		}
	}
	return out
}

// dateOptions converts a rule's date: day first when day_first says so or
// every layout puts the day before the month; written in write_form, else
// in the first layout with a four-digit year, else ISO, with the year in
// the column's era (a Buddhist Era column gets Buddhist Era years back).
func dateOptions(r *config.Rule) DateOptions {
	dr := r.Date
	o := DateOptions{ExcelSerial: dr.ExcelSerial, BareYear: dr.BareYear, Pivot: dr.Pivot, Era: Era(dr.Era), MonthNames: string(dr.MonthNames)}
	if dr.DayFirst {
		o.Order = DayFirst
	} else {
		var orders []Order
		for _, l := range dr.Formats {
			if ord := layoutOrder(l); ord != OrderUnspecified {
				orders = append(orders, ord)
			}
		}
		if len(orders) > 0 && !slices.ContainsFunc(orders, func(x Order) bool { return x != orders[0] }) {
			o.Order = orders[0]
		}
	}
	switch {
	case r.WriteForm != "":
		o.Write = r.WriteForm
	default:
		for _, l := range dr.Formats {
			if strings.Contains(l, "2006") {
				o.Write = l
				break
			}
		}
	}
	if o.Write == "" {
		// No layout of the sheet's to write in: ISO 8601, which is
		// Gregorian (and which a workbook's date cell takes as a date,
		// where a Buddhist Era year would turn it into text).
		o.WriteEra = EraGregorian
	}
	return o
}

// layoutOrder says whether a Go layout puts the day or the month first.
func layoutOrder(layout string) Order {
	day, month := -1, -1
	for i, tok := range layoutTokens(layout) {
		switch tok {
		case "02", "2":
			if day < 0 {
				day = i
			}
		case "01", "1", "Jan", "January":
			if month < 0 {
				month = i
			}
		}
	}
	switch {
	case day < 0 || month < 0:
		return OrderUnspecified
	case day < month:
		return DayFirst
	}
	return MonthFirst
}

// consent compiles the job's consent gate.
func (c *compiler) consent(m *JobMapping) {
	cs := c.job.Consent
	if cs == nil {
		return
	}
	g := &consentGate{allowed: map[string]bool{}, classes: map[config.PII]bool{}}
	for _, r := range m.Parent.Rules {
		if strings.EqualFold(r.SF, cs.Field) {
			g.rule = r
		}
	}
	if g.rule == nil {
		c.errorf(&cs.Meta, "field", "%q is not the sf of a field rule of the job's parent record", cs.Field)
		return
	}
	if g.rule.Local == "" && !g.rule.IsConstant {
		c.errorf(&cs.Meta, "field", "the rule of %s has no local column", cs.Field)
	}
	for _, a := range cs.Allowed {
		v, err := connector.Canonicalize(connector.Text(a), g.rule.Field)
		if err == nil {
			err = connector.Check(v, g.rule.Field)
		}
		if err != nil {
			c.errorf(&cs.Meta, "allowed", "%q is not a value of %s: %v", a, g.rule.SF, err)
			continue
		}
		g.allowed[v.Raw()] = true
	}
	classes := cs.Classes
	if len(classes) == 0 {
		classes = []config.PII{config.PIIDirect, config.PIISensitive}
	}
	for _, cl := range classes {
		g.classes[cl] = true
	}
	for a := range g.allowed {
		g.hashIn = append(g.hashIn, "allow:"+a)
	}
	slices.Sort(g.hashIn)
	g.hashIn = append([]string{"field:" + g.rule.SF}, g.hashIn...)
	m.gate = g
}

// hashes computes every rule's hash.
func (c *compiler) hashes(m *JobMapping) {
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			in := ruleHashInput{Object: mem.Object, Field: r.SF, Local: r.Local, Direction: string(r.Direction), Class: string(r.Class), Required: r.Required}
			if r.Transform != nil {
				in.Transform = r.Transform.Hash()
			}
			in.Flag = r.flagKey
			if r.Lookup != nil {
				in.Lookup = []string{r.Lookup.Object, r.Lookup.Field}
			}
			if r.HasDefault {
				in.Default = &r.Default
			}
			if r.IsConstant {
				s := r.Constant.Raw()
				in.Constant = &s
			}
			if m.gate.gated(r) {
				in.Gate = m.gate.hashIn
			}
			r.Hash = ruleHash(in)
		}
	}
}

// suggestName returns ` (did you mean "x"?)` for the candidate nearest to
// word (config.Nearest), or "".
func suggestName(word string, candidates []string) string {
	if best := config.Nearest(word, candidates); best != "" {
		return ` (did you mean "` + best + `"?)`
	}
	return ""
}

// sortErrors orders findings by file position, stably.
func sortErrors(es config.Errors) {
	slices.SortStableFunc(es, func(a, b *config.Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}
