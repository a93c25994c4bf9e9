package sftest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Record is a test-side copy of a stored record. Fields hold the values as
// the REST API renders them: string (text, picklists, ids, dates, datetimes
// in 2024-01-15T10:30:00.000+0000 form), json.Number, bool or nil.
type Record struct {
	Type    string
	ID      string
	Deleted bool
	Fields  map[string]any
}

func (o *Org) export(r *record) Record {
	out := Record{Type: r.obj.Name, ID: r.id, Deleted: r.deleted(), Fields: map[string]any{}}
	for _, f := range r.obj.Fields {
		out.Fields[f.Name] = jsonValue(f, o.value(r, f))
	}
	return out
}

// Records returns the live (not deleted) records of an object in insertion
// order.
func (o *Org) Records(object string) []Record {
	return o.records2(object, false)
}

// AllRecords returns the records of an object including deleted ones.
func (o *Org) AllRecords(object string) []Record {
	return o.records2(object, true)
}

func (o *Org) records2(object string, all bool) []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.object(object)
	if s == nil {
		return nil
	}
	var out []Record
	for _, r := range o.records[s] {
		if all || !r.deleted() {
			out = append(out, o.export(r))
		}
	}
	return out
}

// Get returns a record by id (15 or 18 characters), deleted or not.
func (o *Org) Get(id string) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.byID[normalizeID(id)]
	if r == nil {
		return Record{}, false
	}
	return o.export(r), true
}

// GetByExternalKey returns the live record whose external id equals key
// (case-insensitively): each object has its own key field, as in real
// orgs (vcms__External_Key__c on cases, vcms__External_Service_Key__c on
// Assistance), so every External ID field of the object is searched,
// vcms__External_Key__c first where the object has it.
func (o *Org) GetByExternalKey(object, key string) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.object(object)
	if s == nil {
		return Record{}, false
	}
	fields := []*fieldDef{}
	if f := s.field("vcms__External_Key__c"); f != nil {
		fields = append(fields, f)
	}
	for _, f := range s.Fields {
		if f.ExternalID && !strings.EqualFold(f.Name, "vcms__External_Key__c") {
			fields = append(fields, f)
		}
	}
	for _, f := range fields {
		if m := o.lookup(f, key); len(m) == 1 {
			return o.export(m[0]), true
		}
	}
	return Record{}, false
}

// ExternalIDFields returns the names of object's External ID fields, in
// describe order (nil for an unknown object).
func (o *Org) ExternalIDFields(object string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.object(object)
	if s == nil {
		return nil
	}
	var out []string
	for _, f := range s.Fields {
		if f.ExternalID {
			out = append(out, f.Name)
		}
	}
	return out
}

// Insert creates a record as the first user, validating fields like a REST
// create (fields may use relationship references, e.g.
// "vcms__Case__r": map[string]any{"vcms__External_Key__c": "..."}). It
// does not count as an API call and is not logged. With unchecked set,
// unique fields are not enforced, which lets tests build the duplicate
// external ids that make an upsert answer 300.
func (o *Org) Insert(object string, fields map[string]any, unchecked bool) (string, error) {
	raw, err := json.Marshal(fields)
	if err != nil {
		return "", err
	}
	pb, err := parseBody(raw)
	if err != nil {
		return "", err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.object(object)
	if s == nil {
		return "", fmt.Errorf("sftest: no object %s", object)
	}
	vals, reqErr, errs := o.convert(s, pb.fields, true, nil)
	if reqErr != nil {
		return "", fmt.Errorf("%s: %s", reqErr.ErrorCode, reqErr.Message)
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%s: %s", errs[0].ErrorCode, errs[0].Message)
	}
	if !unchecked {
		if e := o.checkUnique(nil, s, nil, vals); e != nil {
			return "", fmt.Errorf("%s: %s", e.ErrorCode, e.Message)
		}
	}
	owner := o.records[o.objects["user"]][0].id
	return o.insertRecord(nil, s, vals, owner, o.clock()).id, nil
}

// UserID returns the id of the User with this username.
func (o *Org) UserID(username string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.userRecord(username); r != nil {
		return r.id
	}
	return ""
}

// ObjectNames lists the org's sObjects.
func (o *Org) ObjectNames() []string {
	var out []string
	for _, s := range o.order {
		out = append(out, s.Name)
	}
	return out
}

// KeyPrefix returns an object's 3-character id prefix.
func (o *Org) KeyPrefix(object string) string {
	if s := o.object(object); s != nil {
		return s.KeyPrefix
	}
	return ""
}
