package sftest

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

const fieldSecurityMsg = "Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set."

func parserError(kind string, n node) *apiErr {
	return &apiErr{fmt.Sprintf("Cannot deserialize instance of %s from %s value %s or request may be missing a required field at [line:%d, column:%d]",
		kind, n.jacksonKind(), n.token, n.line, n.col), "JSON_PARSER_ERROR", nil}
}

func noSuchColumn(name string, s *sobject) *apiErr {
	return &apiErr{fmt.Sprintf("No such column '%s' on sobject of type %s", name, s.Name), "INVALID_FIELD", nil}
}

// convert turns body members into stored values for s. It returns a
// request-level error (unknown field, JSON type error) or record-level
// errors (validation). insert selects create rules; existing is the record
// being updated (nil on insert).
func (o *Org) convert(s *sobject, members []member, insert bool, existing *record) (map[string]any, *apiErr, []apiErr) {
	vals := map[string]any{}
	var errs []apiErr
	var notWritable []string
	failed := map[string]bool{}
	for _, m := range members {
		if m.name == "attributes" {
			continue
		}
		f := s.field(m.name)
		if f == nil {
			rf := s.byRel[strings.ToLower(m.name)]
			if rf == nil || m.val.kind != 'o' {
				return nil, noSuchColumn(m.name, s), nil
			}
			id, reqErr, recErr := o.resolveParentRef(rf, m.val)
			if reqErr != nil {
				return nil, reqErr, nil
			}
			if recErr != nil {
				errs = append(errs, *recErr)
				failed[rf.Name] = true
				continue
			}
			vals[rf.Name] = id
			continue
		}
		if f.Name == "Id" {
			if insert {
				errs = append(errs, apiErr{"cannot specify Id in an insert call", "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"Id"}})
			}
			continue
		}
		if (insert && !f.Createable) || (!insert && !f.Updateable) {
			notWritable = append(notWritable, f.Name)
			continue
		}
		v, reqErr, recErr := o.convertValue(f, m.val)
		if reqErr != nil {
			return nil, reqErr, nil
		}
		if recErr != nil {
			errs = append(errs, *recErr)
			failed[f.Name] = true
			continue
		}
		vals[f.Name] = v
	}
	if len(notWritable) > 0 {
		errs = append(errs, apiErr{fmt.Sprintf(fieldSecurityMsg, strings.Join(notWritable, ", ")), "INVALID_FIELD_FOR_INSERT_UPDATE", notWritable})
	}
	var missing []string
	for _, f := range s.Fields {
		if !f.required() || failed[f.Name] {
			continue
		}
		v, given := vals[f.Name]
		if (insert && v == nil) || (!insert && given && v == nil) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, apiErr{"Required fields are missing: [" + strings.Join(missing, ", ") + "]", "REQUIRED_FIELD_MISSING", missing})
	}
	return vals, nil, errs
}

// resolveParentRef resolves {"Ext__c": "value"} to the parent's id.
func (o *Org) resolveParentRef(rf *fieldDef, n node) (string, *apiErr, *apiErr) {
	parent := o.objects[strings.ToLower(rf.ReferenceTo[len(rf.ReferenceTo)-1])]
	if parent == nil {
		return "", noSuchColumn(rf.RelationshipName, rf.obj), nil
	}
	var key *fieldDef
	var val node
	for _, m := range n.obj {
		if m.name == "attributes" {
			continue
		}
		f := parent.field(m.name)
		if f == nil {
			return "", noSuchColumn(m.name, parent), nil
		}
		if key != nil || !(f.ExternalID || f.Name == "Id" || f.IDLookup) {
			return "", &apiErr{fmt.Sprintf("The foreign key object for field %s must specify exactly one external ID field", rf.Name), "INVALID_FIELD", nil}, nil
		}
		key, val = f, m.val
	}
	if key == nil || val.kind != 's' {
		return "", &apiErr{fmt.Sprintf("The foreign key object for field %s must specify exactly one external ID field", rf.Name), "INVALID_FIELD", nil}, nil
	}
	found := o.lookup(key, val.s)
	live := found[:0:0]
	for _, r := range found {
		if !r.deleted() {
			live = append(live, r)
		}
	}
	switch len(live) {
	case 0:
		return "", nil, &apiErr{fmt.Sprintf("Foreign key external ID: %s not found for field %s in entity %s", val.s, key.Name, parent.Name), "INVALID_FIELD", []string{}}
	case 1:
		return live[0].id, nil, nil
	}
	return "", nil, &apiErr{fmt.Sprintf("Foreign key external ID: %s matched more than one record", val.s), "INVALID_FIELD", []string{}}
}

func (o *Org) convertValue(f *fieldDef, n node) (any, *apiErr, *apiErr) {
	if n.kind == 'o' || n.kind == 'a' {
		return nil, parserError(jacksonType(f), n), nil
	}
	if n.kind == 'z' {
		if f.Type == "boolean" {
			return false, nil, nil
		}
		return nil, nil, nil
	}
	switch {
	case f.isNumber():
		var d decimal.Decimal
		var err error
		switch n.kind {
		case 'n':
			d, err = decimal.NewFromString(n.num.String())
		case 's':
			if strings.TrimSpace(n.s) == "" {
				return nil, nil, nil
			}
			d, err = decimal.NewFromString(n.s)
		default:
			return nil, parserError("double", n), nil
		}
		if err != nil {
			return nil, parserError("double", n), nil
		}
		d = d.Round(int32(f.Scale))
		if f.Precision > 0 {
			limit := decimal.New(1, int32(f.Precision-f.Scale))
			if d.Abs().GreaterThanOrEqual(limit) {
				return nil, nil, &apiErr{fmt.Sprintf("%s: value outside of valid range on numeric field: %s", f.Label, n.token), "NUMBER_OUTSIDE_VALID_RANGE", []string{f.Name}}
			}
		}
		return d, nil, nil
	case f.Type == "boolean":
		switch {
		case n.kind == 'b':
			return n.b, nil, nil
		case n.kind == 's' && (strings.EqualFold(n.s, "true") || strings.EqualFold(n.s, "false")):
			return strings.EqualFold(n.s, "true"), nil, nil
		}
		return nil, parserError("boolean", n), nil
	case f.Type == "date":
		if n.kind != 's' {
			return nil, parserError("date", n), nil
		}
		if n.s == "" {
			return nil, nil, nil
		}
		d, ok := parseDate(n.s)
		if !ok {
			if t, ok2 := parseDateTime(n.s); ok2 {
				return dateVal(t.Format("2006-01-02")), nil, nil
			}
			return nil, parserError("date", n), nil
		}
		return d, nil, nil
	case f.Type == "datetime":
		if n.kind != 's' {
			return nil, parserError("datetime", n), nil
		}
		if n.s == "" {
			return nil, nil, nil
		}
		t, ok := parseDateTime(n.s)
		if !ok {
			return nil, parserError("datetime", n), nil
		}
		return t.Truncate(time.Second), nil, nil // DateTime fields keep whole seconds
	}
	// Text-like and reference fields.
	s := n.token
	if n.kind == 's' {
		s = n.s
	}
	if s == "" {
		return nil, nil, nil
	}
	switch f.Type {
	case "reference":
		id := normalizeID(s)
		if id == "" || !f.refersToPrefix(o, id[:3]) {
			return nil, nil, &apiErr{fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), "MALFORMED_ID", []string{f.Name}}
		}
		if f.Name == "RecordTypeId" {
			for _, rt := range f.obj.RecordTypes {
				if rt.ID == id && !rt.Master {
					return id, nil, nil
				}
			}
			return nil, nil, &apiErr{fmt.Sprintf("Record Type ID: this ID value isn't valid for the user: %s", s), "INVALID_CROSS_REFERENCE_KEY", []string{f.Name}}
		}
		if r := o.byID[id]; r == nil || r.deleted() {
			return nil, nil, &apiErr{"invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", []string{f.Name}}
		}
		return id, nil, nil
	case "picklist":
		if f.Unrestricted && len(f.Values) > 0 {
			break // any text, to the field's length
		}
		for _, v := range f.Values {
			if v == s {
				return s, nil, nil
			}
		}
		return nil, nil, badPicklist(f, s)
	case "multipicklist":
		chosen := map[string]bool{}
		var extra []string
		for _, part := range strings.Split(s, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			ok := f.Unrestricted && len(f.Values) > 0
			for _, v := range f.Values {
				if v == part {
					ok = true
				}
			}
			if !ok {
				return nil, nil, badPicklist(f, part)
			}
			if !slices.Contains(f.Values, part) && !chosen[part] {
				extra = append(extra, part) // an unrestricted field's value, after the listed ones
			}
			chosen[part] = true
		}
		var out []string
		for _, v := range f.Values {
			if chosen[v] {
				out = append(out, v)
			}
		}
		out = append(out, extra...)
		if len(out) == 0 {
			return nil, nil, nil
		}
		return strings.Join(out, ";"), nil, nil
	case "email":
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return nil, nil, &apiErr{fmt.Sprintf("%s: invalid email address: %s", f.Label, s), "INVALID_EMAIL_ADDRESS", []string{f.Name}}
		}
	}
	if f.Length > 0 && utf8.RuneCountInString(s) > f.Length {
		return nil, nil, &apiErr{fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), "STRING_TOO_LONG", []string{f.Name}}
	}
	return s, nil, nil
}

func badPicklist(f *fieldDef, v string) *apiErr {
	return &apiErr{fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, v), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{f.Name}}
}

func jacksonType(f *fieldDef) string {
	switch {
	case f.isNumber():
		return "double"
	case f.Type == "boolean", f.Type == "date", f.Type == "datetime":
		return f.Type
	}
	return "String"
}

func (f *fieldDef) refersToPrefix(o *Org, prefix string) bool {
	for _, name := range f.ReferenceTo {
		switch name {
		case "Group":
			if prefix == "00G" {
				return true
			}
		case "RecordType":
			if prefix == "012" {
				return true
			}
		}
		if s := o.objects[strings.ToLower(name)]; s != nil && s.KeyPrefix == prefix {
			return true
		}
	}
	return false
}

// checkUnique returns DUPLICATE_VALUE when a unique value of vals is held by
// another live record. Records created earlier in the same request are
// reported as <unknown>, as Salesforce does.
func (o *Org) checkUnique(t *tx, s *sobject, self *record, vals map[string]any) *apiErr {
	for _, f := range s.Fields {
		if !f.Unique {
			continue
		}
		v, ok := vals[f.Name]
		if !ok {
			continue
		}
		k := uniqueKey(v)
		if k == "" {
			continue
		}
		for _, other := range o.uniq[f][k] {
			if other == self {
				continue
			}
			if t != nil && t.createdHere(other) {
				return &apiErr{"duplicate value found: <unknown> duplicates value on record with id: <unknown>", "DUPLICATE_VALUE", []string{}}
			}
			return &apiErr{fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", f.Name, other.id[:15]), "DUPLICATE_VALUE", []string{}}
		}
	}
	return nil
}

func (t *tx) createdHere(r *record) bool {
	for _, c := range t.created {
		if c == r {
			return true
		}
	}
	_, touched := t.saved[r]
	return touched
}

// checkLock consumes a pending lock fault on the record, its unique values
// or its master-detail parent.
func (o *Org) checkLock(s *sobject, r *record, vals map[string]any) *apiErr {
	if len(o.locks) == 0 {
		return nil
	}
	id := ""
	if r != nil {
		id = r.id
	}
	type cand struct{ key, id string }
	var cands []cand
	if id != "" {
		cands = append(cands, cand{id, id})
	}
	get := func(name string) any {
		if v, ok := vals[name]; ok {
			return v
		}
		if r != nil {
			return r.f[name]
		}
		return nil
	}
	for _, f := range s.Fields {
		v, _ := get(f.Name).(string)
		if v == "" {
			continue
		}
		switch {
		case f.Unique || f.ExternalID:
			cands = append(cands, cand{v, id}, cand{s.Name + "." + f.Name + "=" + v, id})
		case f.MasterDetail:
			cands = append(cands, cand{v, v})
		}
	}
	for _, c := range cands {
		k := strings.ToLower(c.key)
		if o.locks[k] > 0 {
			o.locks[k]--
			if o.locks[k] == 0 {
				delete(o.locks, k)
			}
			lid := c.id
			if lid == "" {
				lid = o.nextID(s)
			}
			return &apiErr{"unable to obtain exclusive access to this record or 1 records: " + lid, "UNABLE_TO_LOCK_ROW", []string{}}
		}
	}
	return nil
}

// validationRules applies the domain's validation rules to the record's
// values after the write (nil r: a create).
func (o *Org) validationRules(s *sobject, r *record, vals map[string]any) *apiErr {
	if !o.opts.ValidationRules {
		return nil
	}
	get := func(name string) any {
		if v, ok := vals[name]; ok {
			return v
		}
		if r != nil {
			return r.f[name]
		}
		return nil
	}
	switch s.Name {
	case "vcms__Survivor_Case__c":
		if (get("vcms__First_Name__c") != nil || get("vcms__Name_Local_Script__c") != nil) && get("vcms__Last_Name__c") == nil {
			return &apiErr{"Last name is required when any name is known.", "FIELD_CUSTOM_VALIDATION_EXCEPTION", []string{"vcms__Last_Name__c"}}
		}
	case "vcms__Referral__c":
		if get("vcms__Direction__c") == "Outgoing" && get("vcms__Consent_Checked__c") != true && get("vcms__Consent_Override_Reason__c") == nil {
			return &apiErr{"An outgoing referral needs consent checked or an override reason.", "FIELD_CUSTOM_VALIDATION_EXCEPTION", []string{"vcms__Consent_Checked__c"}}
		}
	}
	return nil
}

// create validates and inserts one record.
func (o *Org) create(t *tx, s *sobject, members []member, userID string) (*record, *apiErr, []apiErr) {
	vals, reqErr, errs := o.convert(s, members, true, nil)
	if reqErr != nil || len(errs) > 0 {
		return nil, reqErr, errs
	}
	if e := o.validationRules(s, nil, vals); e != nil {
		return nil, nil, []apiErr{*e}
	}
	if e := o.checkLock(s, nil, vals); e != nil {
		return nil, nil, []apiErr{*e}
	}
	if e := o.checkUnique(t, s, nil, vals); e != nil {
		return nil, nil, []apiErr{*e}
	}
	return o.insertRecord(t, s, vals, userID, o.clock()), nil, nil
}

// update validates and applies one update.
func (o *Org) update(t *tx, r *record, members []member, userID string) (*apiErr, []apiErr) {
	vals, reqErr, errs := o.convert(r.obj, members, false, r)
	if reqErr != nil || len(errs) > 0 {
		return reqErr, errs
	}
	if e := o.validationRules(r.obj, r, vals); e != nil {
		return nil, []apiErr{*e}
	}
	if e := o.checkLock(r.obj, r, vals); e != nil {
		return nil, []apiErr{*e}
	}
	if e := o.checkUnique(t, r.obj, r, vals); e != nil {
		return nil, []apiErr{*e}
	}
	o.updateRecord(t, r, vals, userID, o.clock())
	return nil, nil
}
