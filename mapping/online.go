package mapping

import (
	"context"
	"errors"
	"strings"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// DescribeFunc describes one Salesforce object (the org's describe, or the
// fake org's). An object the org does not have is an error wrapping
// connector.ErrObjectNotFound.
type DescribeFunc func(ctx context.Context, object string) (*connector.Object, error)

// CheckOnline checks every job of a configuration against the org's
// schema, as `casebridge validate --online` does, and returns every
// finding at its file:line:col, in file order (nil when there is none):
//
//   - an unknown object or field, with a did-you-mean suggestion
//     (objectNames, the org's object list where known, feed the
//     suggestions for objects);
//   - a value-map target the restricted picklist lacks (describe lists the
//     master values; record types may allow fewer), a constant or default
//     the field cannot take (a length, a picklist value), a rule whose
//     values the field's type cannot hold (a date into a checkbox);
//   - a rule writing Salesforce into a formula field or a field that is
//     not createable or not updateable;
//   - a required field (not nillable, createable, not a checkbox) of a
//     written object that no rule maps;
//   - a key field that is not an external id (a child's key: its key, or
//     the job's salesforce.key where it names none), listing the object's
//     External ID fields, or that a run would not upsert the object by
//     (the connector's key fields, config.Config.KeyFields, are looked up
//     by the object's name as the org spells it);
//   - a lookup's object or field the org lacks (or the user cannot read);
//   - a two-way lookup (one that writes the local side too) on a field
//     that is neither Unique nor an External ID;
//   - newest_wins where a Salesforce object has no modification time.
//
// Messages name objects, fields, options and configured values, never
// record values. Describe failures other than "no such object" are
// reported once per object, at the first option naming it.
func CheckOnline(ctx context.Context, cfg *config.Config, describe DescribeFunc, objectNames ...string) config.Errors {
	o := online{ctx: ctx, describe: describe, known: objectNames, cache: map[string]*connector.Object{}, failed: map[string]error{}, keys: cfg.KeyFields()}
	for _, name := range cfg.JobNames() {
		if j := cfg.Jobs[name]; j != nil {
			o.job(j)
		}
	}
	sortErrors(o.errs)
	if len(o.errs) == 0 {
		return nil
	}
	return o.errs
}

type online struct {
	ctx      context.Context
	describe DescribeFunc
	known    []string
	cache    map[string]*connector.Object
	failed   map[string]error
	reported map[string]bool
	errs     config.Errors
	// keys are the key fields a run gives the Salesforce connector, by
	// object name as configured (config.Config.KeyFields).
	keys map[string]string
}

// get describes an object once. It returns nil for an object that does not
// exist or could not be described; the latter is reported at meta.key.
func (o *online) get(meta *config.Meta, key, object string) *connector.Object {
	if d, ok := o.cache[object]; ok {
		return d
	}
	if err, ok := o.failed[object]; ok {
		o.reportFailure(meta, key, object, err)
		return nil
	}
	d, err := o.describe(o.ctx, object)
	if err != nil {
		o.failed[object] = err
		o.reportFailure(meta, key, object, err)
		return nil
	}
	o.cache[object] = d
	return d
}

func (o *online) reportFailure(meta *config.Meta, key, object string, err error) {
	if errors.Is(err, connector.ErrObjectNotFound) {
		return // Compile and the lookup check say "no object", with a suggestion
	}
	if o.reported == nil {
		o.reported = map[string]bool{}
	}
	if o.reported[object] {
		return
	}
	o.reported[object] = true
	o.errs = append(o.errs, meta.Errorf(key, "cannot describe %s: %v", object, err))
}

func (o *online) job(j *config.Job) {
	objects := map[string]*connector.Object{}
	unavailable := map[string]bool{}
	add := func(meta *config.Meta, object string) {
		if object == "" {
			return
		}
		if d := o.get(meta, "object", object); d != nil {
			objects[object] = d
		} else if err := o.failed[object]; err != nil && !errors.Is(err, connector.ErrObjectNotFound) {
			unavailable[object] = true
		}
	}
	add(&j.Salesforce.Meta, j.Salesforce.Object)
	for _, ch := range j.Children {
		add(&ch.Meta, ch.Object)
	}
	c := compiler{job: j, objects: objects, known: o.known, unavailable: unavailable, placeholderEach: true}
	m := c.compile()
	o.errs = append(o.errs, c.errs...)
	if m == nil {
		return
	}
	o.keyFields(j, m)
	o.writability(j, m)
	o.required(j, m)
	o.lookups(m)
	o.newestWins(j, m)
	o.adopt(j, m)
}

// adopt: a key made of a field's value needs that field on the object.
func (o *online) adopt(j *config.Job, m *JobMapping) {
	a := strings.TrimSpace(j.Adopt)
	parent := m.Members()[0]
	if a == "" || strings.EqualFold(a, "id") || parent.Desc == nil {
		return
	}
	if parent.Desc.Field(a) == nil {
		o.errs = append(o.errs, j.Meta.Errorf("adopt", "%s has no field %s; use adopt: id, or the API name of an auto-number field", m.Object, a))
	}
}

// keyFields: upserting by key needs the key field to be an external id,
// and the run must key the object by it: the Salesforce connector is given
// one key field per object (config.Config.KeyFields, by the object's name
// as configured), and finds it by the name the org describes.
func (o *online) keyFields(j *config.Job, m *JobMapping) {
	for _, mem := range m.Members() {
		meta, key := &j.Salesforce.Meta, "key"
		if !mem.IsParent() {
			meta, key = &mem.cfg.Meta, "key"
			if strings.TrimSpace(mem.cfg.Key) == "" {
				key = "object"
			}
		}
		kf := mem.Desc.KeyField()
		if kf == nil {
			continue // Compile reports it
		}
		if !kf.ExternalID {
			o.errs = append(o.errs, meta.Errorf(key, "%s.%s is not an external id field: records are upserted by key, which needs an External ID (and Unique) field%s",
				mem.Object, kf.Name, externalIDs(mem.Desc)))
			continue
		}
		if o.keys == nil {
			continue
		}
		if run := o.keys[mem.Object]; !strings.EqualFold(run, kf.Name) {
			o.errs = append(o.errs, meta.Errorf(key, "a run would upsert %s by %s, not %s: write the object's name as the org spells it, %s",
				mem.Object, cmpText(run, "the default key field"), kf.Name, mem.Object))
		}
	}
}

func cmpText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writability: a rule writing Salesforce needs a field writable on create
// and on update.
func (o *online) writability(j *config.Job, m *JobMapping) {
	if !j.Direction.WritesSalesforce() {
		return
	}
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			if !r.WritesSalesforce() {
				continue
			}
			switch {
			case !r.Field.Createable && r.Field.Updateable:
				o.errs = append(o.errs, r.errorf("sf", "%s is not createable: records this job creates cannot have it; make the rule direction: from_salesforce", r.SF))
			case r.Field.Createable && !r.Field.Updateable:
				o.errs = append(o.errs, r.errorf("sf", "%s is not updateable: it is set only when a record is created, and a later local change would fail; make the rule direction: from_salesforce", r.SF))
			}
		}
	}
}

// required: a required field no rule writes makes every create fail.
func (o *online) required(j *config.Job, m *JobMapping) {
	if !j.Direction.WritesSalesforce() {
		return
	}
	for _, mem := range m.Members() {
		mapped := map[string]bool{}
		for _, r := range mem.Rules {
			if r.WritesSalesforce() {
				mapped[strings.ToLower(r.SF)] = true
			}
		}
		for i := range mem.Desc.Fields {
			f := &mem.Desc.Fields[i]
			if f.Nillable || f.Defaulted || !f.Createable || f.Calculated || f.Type == connector.TypeBoolean || f.Type == connector.TypeID ||
				strings.EqualFold(f.Name, mem.Desc.Key) || strings.EqualFold(f.Name, mem.ParentField) || mapped[strings.ToLower(f.Name)] {
				continue
			}
			meta := &j.Meta
			if !mem.IsParent() {
				meta = &mem.cfg.Meta
			}
			o.errs = append(o.errs, meta.Errorf("fields", "%s.%s is required (not nillable) and no rule writes it: every record this job creates would fail; map it or give it a constant", mem.Object, f.Name))
		}
	}
}

// lookups: the object and field a lookup searches must exist (describe
// lists only the fields the user can read), and a two-way lookup's field
// must be unique: its value is written to the row and read back.
func (o *online) lookups(m *JobMapping) {
	for _, mem := range m.Members() {
		for _, r := range mem.Rules {
			l := r.Lookup
			if l == nil {
				continue
			}
			d := o.get(&l.Meta, "object", l.Object)
			if d == nil {
				if errors.Is(o.failed[l.Object], connector.ErrObjectNotFound) {
					o.errs = append(o.errs, l.Errorf("object", "the org has no object %q%s", l.Object, suggestName(l.Object, o.known)))
				}
				continue
			}
			lf := d.Field(l.Field)
			if lf == nil {
				o.errs = append(o.errs, l.Errorf("field", "%s has no field %q%s", d.Name, l.Field, suggestName(l.Field, d.FieldNames())))
			} else if r.TwoWay() && !lf.Unique && !lf.ExternalID && lf.Type != connector.TypeID {
				o.errs = append(o.errs, l.Errorf("field", "the lookup is two-way (direction %s): each Id read from Salesforce is written to the row as its %s, which is read back to find the record; %s.%s is neither Unique nor an External ID, so a value two records share would make the row ambiguous; look up a unique field, or make the rule direction: to_salesforce",
					r.Direction, lf.Name, d.Name, lf.Name))
			}
			if len(r.Field.ReferenceTo) > 0 && !containsFold(r.Field.ReferenceTo, d.Name) {
				o.errs = append(o.errs, l.Errorf("object", "%s references %s, not %s", r.SF, strings.Join(r.Field.ReferenceTo, ", "), d.Name))
			}
		}
	}
}

// newestWins needs a modification time on the Salesforce side (the local
// side's updated_at is checked by config).
func (o *online) newestWins(j *config.Job, m *JobMapping) {
	for _, key := range []string{"conflict", "initial"} {
		p := j.Conflict
		if key == "initial" {
			p = j.Initial
		}
		if p != config.NewestWins {
			continue
		}
		for _, mem := range m.Members() {
			if mem.Desc.Modified == "" {
				o.errs = append(o.errs, j.Errorf(key, "newest_wins needs each record's modification time, and %s has none", mem.Object))
				break
			}
		}
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
