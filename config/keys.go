package config

import (
	"strings"
)

// Key fields. Each Salesforce object a configuration writes is upserted by
// one external id field: a job's salesforce.key for its object, a child's
// key for the child's object. Real orgs give each object its own
// (vcms__External_Key__c on cases, vcms__External_Service_Key__c on
// Assistance); a child without key uses the job's salesforce.key, which
// works only where the child's object has that field (mapping checks it
// against the org). The Salesforce connector keeps one key field per
// object, so two members or jobs naming one object with different key
// fields are a validate error.
//
// An object with no External ID field at all (a case note, a visit log)
// is keyed by its parent instead: a child with key: by_parent. Its
// record's key is derived from Salesforce data, the parent's key (read
// through the parent relationship, vcms__Case__r.vcms__External_Key__c)
// with the child's key_suffix and, with each, ":" and the each field's
// value, so reading needs no stored pairing. Salesforce holds nothing else
// to tell such records apart, so one child entry alone may key an object
// by_parent, and the Salesforce connector writes it by Id: created by
// POST, updated and deleted by the Id it finds by the derived key
// (ParentKeys).

// KeyByParent is the children[].key of a child whose object has no
// External ID field: its records are keyed by their parent (see above).
const KeyByParent = "by_parent"

// ParentKey is how the records of an object keyed by_parent derive their
// keys from Salesforce data.
type ParentKey struct {
	// ParentField is the child's lookup or master-detail field to the
	// parent (children[].parent_field).
	ParentField string
	// ParentKey is the parent object's key field (the job's
	// salesforce.key), read through the relationship.
	ParentKey string
	// Suffix is the child's key_suffix (default ":<name>").
	Suffix string
	// Each is the child's each.sf field when the child is a family of
	// records, one per value: its value ends the key after a colon.
	Each string
}

// ParentKeys returns, by object name as written, the objects the
// configuration's children key by_parent. A valid configuration keys each
// such object by one child; otherwise the first one named wins.
func (c *Config) ParentKeys() map[string]ParentKey {
	out := map[string]ParentKey{}
	for _, name := range c.orderedJobs() {
		j := c.Jobs[name]
		if j == nil {
			continue
		}
		for _, ch := range j.Children {
			if ch == nil || ch.Object == "" || !ch.ByParent() {
				continue
			}
			if _, ok := out[ch.Object]; ok {
				continue
			}
			pk := ParentKey{ParentField: strings.TrimSpace(ch.ParentField), ParentKey: j.Salesforce.Key, Suffix: ch.KeySuffix}
			if pk.Suffix == "" {
				pk.Suffix = ":" + ch.Name
			}
			if ch.Each != nil {
				pk.Each = strings.TrimSpace(ch.Each.SF)
			}
			out[ch.Object] = pk
		}
	}
	return out
}

// ByParent reports whether the child is keyed by its parent (key:
// by_parent).
func (ch *Child) ByParent() bool {
	return strings.EqualFold(strings.TrimSpace(ch.Key), KeyByParent)
}

// ChildKey returns the key field of a child of j: the child's key, else
// the job's salesforce.key. A child keyed by its parent has KeyByParent,
// which the Salesforce connector describes as the object's key.
func (j *Job) ChildKey(ch *Child) string {
	if ch.ByParent() {
		return KeyByParent
	}
	if k := strings.TrimSpace(ch.Key); k != "" {
		return k
	}
	return j.Salesforce.Key
}

// keyUse is one object's key field as a job or a child names it.
type keyUse struct {
	object, key string
	meta        *Meta
	opt         string // the option naming the key ("key"), or the object when defaulted
	defaulted   bool   // a child without key: the job's salesforce.key
	byParent    bool   // a child with key: by_parent
}

// keyUses lists every (object, key field) the configuration's jobs write
// by, in file order: each job's object, then its children's.
func (c *Config) keyUses() []keyUse {
	var out []keyUse
	for _, name := range c.orderedJobs() {
		j := c.Jobs[name]
		if j == nil {
			continue
		}
		if j.Salesforce.Object != "" && j.Salesforce.Key != "" {
			out = append(out, keyUse{object: j.Salesforce.Object, key: j.Salesforce.Key, meta: &j.Salesforce.Meta, opt: "key"})
		}
		for _, ch := range j.Children {
			if ch == nil || ch.Object == "" || j.ChildKey(ch) == "" {
				continue
			}
			u := keyUse{object: ch.Object, key: j.ChildKey(ch), meta: &ch.Meta, opt: "key"}
			if strings.TrimSpace(ch.Key) == "" {
				u.opt, u.defaulted = "object", true
			}
			u.byParent = ch.ByParent()
			out = append(out, u)
		}
	}
	return out
}

// orderedJobs returns the job names in file order (by name for jobs
// without a position).
func (c *Config) orderedJobs() []string {
	if len(c.jobOrder) == len(c.Jobs) {
		return c.jobOrder
	}
	return namesInOrder(c.Jobs, func(j *Job) Pos {
		if j == nil {
			return Pos{}
		}
		return j.Pos
	})
}

// KeyFields returns the key field of every Salesforce object the
// configuration's jobs write, by object name as written: each job's
// salesforce.key for its object, each child's key (or the job's
// salesforce.key) for the child's object. It is the map the Salesforce
// connector is given (salesforce.Options.KeyFields) for a run and for
// validate --online alike. A valid configuration names one key field per
// object; otherwise the first one named wins.
func (c *Config) KeyFields() map[string]string {
	out := map[string]string{}
	for _, u := range c.keyUses() {
		if _, ok := out[u.object]; !ok {
			out[u.object] = u.key
		}
	}
	return out
}

// validateKeys checks each child's key and that every object is keyed by
// one field across the configuration.
func (d *decoder) validateKeys(c *Config) {
	for _, name := range c.orderedJobs() {
		j := c.Jobs[name]
		if j == nil {
			continue
		}
		for _, ch := range j.Children {
			if ch == nil {
				continue
			}
			if ch.Has("key") && strings.TrimSpace(ch.Key) == "" {
				d.errAt(&ch.Meta, "key", "must not be empty: name the child object's external id field, by_parent for an object without one, or leave key out to use the job's salesforce.key")
			}
			if ch.ByParent() {
				if ch.Key != KeyByParent {
					d.errAt(&ch.Meta, "key", "write %s in lower case", KeyByParent)
				}
				continue
			}
			d.apiName(&ch.Meta, "key", ch.Key)
		}
	}
	first := map[string]keyUse{} // lower-case object -> the first use
	for _, u := range c.keyUses() {
		if !apiNameRE.MatchString(u.key) || !apiNameRE.MatchString(u.object) {
			continue // reported as a bad name
		}
		obj := strings.ToLower(u.object)
		f, ok := first[obj]
		if !ok {
			first[obj] = u
			continue
		}
		if f.byParent {
			// Nothing in Salesforce tells two children's records apart
			// under one parent: a second child would take the first's.
			d.errAt(u.meta, u.opt, "%s is keyed by_parent by %s at line %d already: an object without an External ID field can be the child of one children entry only (its records are told apart by their parent alone)",
				u.object, f.meta.KeyPath, f.meta.At(f.opt).Line)
			continue
		}
		if u.byParent {
			d.errAt(u.meta, u.opt, "%s is upserted by %s (%s, line %d); by_parent is for an object without an External ID field: set key: %s",
				u.object, f.key, f.meta.KeyPath, f.meta.At(f.opt).Line, f.key)
			continue
		}
		if strings.EqualFold(f.key, u.key) {
			continue
		}
		other := sprintf("%s names %s for it at line %d", f.meta.KeyPath, f.key, f.meta.At(f.opt).Line)
		if f.defaulted {
			other = sprintf("%s (line %d) names no key and uses its job's salesforce.key, %s", f.meta.KeyPath, f.meta.At(f.opt).Line, f.key)
		}
		if u.defaulted {
			d.errAt(u.meta, u.opt, "%s is upserted by one key field, and %s; this child names no key, so it would use the job's salesforce.key, %s: set key: %s",
				u.object, other, u.key, f.key)
			continue
		}
		d.errAt(u.meta, u.opt, "%s is upserted by one key field, and %s; here it has key %s: give both the same key",
			u.object, other, u.key)
	}
}
