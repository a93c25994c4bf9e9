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

// ChildKey returns the key field of a child of j: the child's key, else
// the job's salesforce.key.
func (j *Job) ChildKey(ch *Child) string {
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
				d.errAt(&ch.Meta, "key", "must not be empty: name the child object's external id field, or leave key out to use the job's salesforce.key")
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
