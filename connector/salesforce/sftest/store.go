package sftest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Stored values are typed by field: nil, string (text, picklist, "A;B"
// multi-select in definition order, ids), decimal.Decimal, bool, dateVal, or
// time.Time (UTC) for datetimes.
type dateVal string // YYYY-MM-DD

type record struct {
	obj *sobject
	id  string
	f   map[string]any // by canonical field name
}

func (r *record) deleted() bool { b, _ := r.f["IsDeleted"].(bool); return b }

const sfDateTime = "2006-01-02T15:04:05.000-0700"

func formatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }

// parseDateTime accepts the forms clients send: RFC 3339 with or without
// fractional seconds, and Salesforce's +0000 form.
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, sfDateTime, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parseDate(s string) (dateVal, bool) {
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", false
	}
	return dateVal(s), true
}

// javaDouble formats a number the way Salesforce's JSON writer prints a Java
// double: 3000.0, 125.5, 1.5E7, 1.0E-4. Salesforce knowledge article
// 000221617 ("Why do I see exponential values for custom number field?"):
// 1234567 comes back as 1234567.0 and 12345678 as 1.2345678E7, through SOAP,
// REST and SOQL alike.
func javaDouble(d decimal.Decimal) string {
	if d.IsZero() {
		return "0.0"
	}
	abs := d.Abs()
	if abs.GreaterThanOrEqual(decimal.NewFromFloat(1e-3)) && abs.LessThan(decimal.NewFromInt(10_000_000)) {
		s := d.String()
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	coef := abs.Coefficient().String()
	exp := int(abs.Exponent())
	for len(coef) > 1 && coef[len(coef)-1] == '0' {
		coef = coef[:len(coef)-1]
		exp++
	}
	sci := len(coef) - 1 + exp
	mant := coef[:1] + "."
	if len(coef) > 1 {
		mant += coef[1:]
	} else {
		mant += "0"
	}
	sign := ""
	if d.IsNegative() {
		sign = "-"
	}
	return fmt.Sprintf("%s%sE%d", sign, mant, sci)
}

// jsonValue renders a stored value for a REST response.
func jsonValue(f *fieldDef, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case decimal.Decimal:
		if f.Type == "int" {
			return json.Number(x.String())
		}
		return json.Number(javaDouble(x))
	case time.Time:
		return formatDateTime(x)
	case dateVal:
		return string(x)
	}
	return v
}

func (o *Org) attributes(r *record) obj {
	return obj{{"type", r.obj.Name}, {"url", o.dataPath() + "/sobjects/" + r.obj.Name + "/" + r.id}}
}

// value returns a field's current value, computing formula fields.
func (o *Org) value(r *record, f *fieldDef) any {
	if f.Calculated || (f.NameField && r.obj.Name == "User") {
		return o.formula(r, f)
	}
	if f.Name == "Id" {
		return r.id
	}
	return r.f[f.Name]
}

func (o *Org) formula(r *record, f *fieldDef) any {
	switch {
	case r.obj.Name == "User" && f.Name == "Name":
		first, _ := r.f["FirstName"].(string)
		last, _ := r.f["LastName"].(string)
		return strings.TrimSpace(first + " " + last)
	case f.Name == "vcms__Legal_Working_Age_Date__c":
		bd, ok1 := r.f["vcms__Birthdate__c"].(dateVal)
		age, ok2 := r.f["vcms__Legal_Working_Age__c"].(decimal.Decimal)
		if !ok1 || !ok2 {
			return nil
		}
		t, _ := time.Parse("2006-01-02", string(bd))
		return dateVal(t.AddDate(0, int(age.IntPart())*12, 0).Format("2006-01-02"))
	}
	return nil
}

// renderRecord renders every field (or the named ones) of a record.
func (o *Org) renderRecord(r *record, fields []*fieldDef) obj {
	out := obj{{"attributes", o.attributes(r)}}
	if fields == nil {
		fields = r.obj.Fields
	}
	for _, f := range fields {
		out = append(out, kv{f.Name, jsonValue(f, o.value(r, f))})
	}
	return out
}

func (o *Org) nextID(s *sobject) string {
	o.counters[s.KeyPrefix]++
	return makeID(s.KeyPrefix, o.counters[s.KeyPrefix])
}

func (o *Org) userRecord(username string) *record {
	u := o.objects["user"]
	for _, r := range o.records[u] {
		if n, _ := r.f["Username"].(string); strings.EqualFold(n, username) {
			return r
		}
	}
	return nil
}

// uniqueKey is the index key of a unique or external-id value.
func uniqueKey(v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		return ""
	}
	return strings.ToLower(s)
}

func (o *Org) index(r *record) {
	if r.deleted() {
		return
	}
	for _, f := range r.obj.Fields {
		if !f.Unique && !f.ExternalID {
			continue
		}
		k := uniqueKey(r.f[f.Name])
		if k == "" {
			continue
		}
		m := o.uniq[f]
		if m == nil {
			m = map[string][]*record{}
			o.uniq[f] = m
		}
		m[k] = append(m[k], r)
	}
}

func (o *Org) unindex(r *record) {
	for _, f := range r.obj.Fields {
		if !f.Unique && !f.ExternalID {
			continue
		}
		k := uniqueKey(r.f[f.Name])
		if k == "" {
			continue
		}
		list := o.uniq[f][k]
		for i, x := range list {
			if x == r {
				o.uniq[f][k] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(o.uniq[f][k]) == 0 {
			delete(o.uniq[f], k)
		}
	}
}

// lookup finds live records whose unique/external-id field equals v,
// case-insensitively.
func (o *Org) lookup(f *fieldDef, v string) []*record {
	if f.Name == "Id" {
		if r := o.byID[normalizeID(v)]; r != nil && r.obj == f.obj && !r.deleted() {
			return []*record{r}
		}
		return nil
	}
	if !f.Unique && !f.ExternalID {
		var out []*record
		for _, r := range o.records[f.obj] {
			if s, ok := r.f[f.Name].(string); ok && !r.deleted() && strings.EqualFold(s, v) {
				out = append(out, r)
			}
		}
		return out
	}
	return append([]*record(nil), o.uniq[f][strings.ToLower(v)]...)
}

// tx records how to undo the writes of one request.
type tx struct {
	created []*record
	saved   map[*record]map[string]any
	order   []*record
}

func newTx() *tx { return &tx{saved: map[*record]map[string]any{}} }

func (t *tx) touch(r *record) {
	if _, ok := t.saved[r]; ok {
		return
	}
	cp := make(map[string]any, len(r.f))
	for k, v := range r.f {
		cp[k] = v
	}
	t.saved[r] = cp
	t.order = append(t.order, r)
}

// savepoint and rollbackTo let one record's failed write be undone.
func (t *tx) savepoint() (int, int) { return len(t.created), len(t.order) }

func (o *Org) rollbackTo(t *tx, nc, no int) {
	for i := len(t.order) - 1; i >= no; i-- {
		r := t.order[i]
		o.unindex(r)
		r.f = t.saved[r]
		o.index(r)
		delete(t.saved, r)
	}
	t.order = t.order[:no]
	for i := len(t.created) - 1; i >= nc; i-- {
		r := t.created[i]
		o.unindex(r)
		delete(o.byID, r.id)
		list := o.records[r.obj]
		for j := len(list) - 1; j >= 0; j-- {
			if list[j] == r {
				o.records[r.obj] = append(list[:j:j], list[j+1:]...)
				break
			}
		}
	}
	t.created = t.created[:nc]
}

func (o *Org) rollback(t *tx) { o.rollbackTo(t, 0, 0) }

// insertRecord stores a new record (values already validated).
func (o *Org) insertRecord(t *tx, s *sobject, vals map[string]any, userID string, now time.Time) *record {
	r := &record{obj: s, id: o.nextID(s), f: map[string]any{}}
	for _, f := range s.Fields {
		switch {
		case f.Type == "boolean":
			r.f[f.Name] = false
		case f.Default != "":
			r.f[f.Name] = f.Default
		}
	}
	for k, v := range vals {
		r.f[k] = v
	}
	if nf := s.field("Name"); nf != nil && nf.AutoNumber != "" {
		s.autoNumber++
		r.f["Name"] = autoNumber(nf.AutoNumber, s.autoNumber)
	}
	if s.field("OwnerId") != nil && r.f["OwnerId"] == nil {
		r.f["OwnerId"] = userID
	}
	if s.field("RecordTypeId") != nil && r.f["RecordTypeId"] == nil {
		r.f["RecordTypeId"] = s.defaultRecordType()
	}
	if s.field("IsDeleted") != nil {
		r.f["IsDeleted"] = false
	}
	r.f["CreatedDate"], r.f["LastModifiedDate"], r.f["SystemModstamp"] = now, now, now
	r.f["CreatedById"], r.f["LastModifiedById"] = userID, userID
	o.records[s] = append(o.records[s], r)
	o.byID[r.id] = r
	o.index(r)
	if t != nil {
		t.created = append(t.created, r)
	}
	return r
}

func (o *Org) updateRecord(t *tx, r *record, vals map[string]any, userID string, now time.Time) {
	if t != nil {
		t.touch(r)
	}
	o.unindex(r)
	for k, v := range vals {
		r.f[k] = v
	}
	r.f["LastModifiedDate"], r.f["SystemModstamp"], r.f["LastModifiedById"] = now, now, userID
	o.index(r)
}

// deleteRecord moves a record and its master-detail children to the
// recycle bin.
func (o *Org) deleteRecord(t *tx, r *record, userID string, now time.Time) {
	if t != nil {
		t.touch(r)
	}
	o.unindex(r)
	r.f["IsDeleted"] = true
	r.f["LastModifiedDate"], r.f["SystemModstamp"], r.f["LastModifiedById"] = now, now, userID
	// Master-detail children go to the recycle bin with their parent;
	// lookups to the deleted record are cleared.
	for _, c := range r.obj.children {
		for _, cr := range o.records[c.child] {
			if cr.f[c.field.Name] != r.id || cr.deleted() {
				continue
			}
			if c.field.MasterDetail {
				o.deleteRecord(t, cr, userID, now)
				continue
			}
			if t != nil {
				t.touch(cr)
			}
			cr.f[c.field.Name] = nil
			cr.f["SystemModstamp"] = now
		}
	}
}

func autoNumber(format string, n int) string {
	open := strings.Index(format, "{")
	end := strings.Index(format, "}")
	if open < 0 || end < open {
		return fmt.Sprint(n)
	}
	width := end - open - 1
	return format[:open] + fmt.Sprintf("%0*d", width, n) + format[end+1:]
}

// loadRecords inserts the seed records through the ordinary write path.
func (o *Org) loadRecords(seed *seedFile) error {
	seedTime, ok := parseDateTime(seed.SeedTime)
	if !ok {
		seedTime = time.Date(2024, 4, 3, 2, 30, 0, 0, time.UTC)
	}
	userObj := o.objects["user"]
	// Users first (the seed user list plus configured logins), so records
	// get an owner.
	var firstUser string
	for _, sr := range seed.Records {
		if sr.Type != "User" {
			continue
		}
		vals, errs := o.decodeSeed(userObj, sr.Fields)
		if errs != nil {
			return errs
		}
		r := o.insertRecord(nil, userObj, vals, "", seedTime)
		if firstUser == "" {
			firstUser = r.id
		}
	}
	for _, u := range o.opts.Users {
		if o.userRecord(u.Username) == nil {
			last, _, _ := strings.Cut(u.Username, "@")
			r := o.insertRecord(nil, userObj, map[string]any{"Username": u.Username, "Email": u.Username, "LastName": last, "IsActive": true}, "", seedTime)
			if firstUser == "" {
				firstUser = r.id
			}
		}
	}
	for _, r := range o.records[userObj] {
		r.f["CreatedById"], r.f["LastModifiedById"] = firstUser, firstUser
	}
	if o.opts.Empty {
		return nil
	}
	for _, sr := range seed.Records {
		if sr.Type == "User" {
			continue
		}
		s := o.objects[strings.ToLower(sr.Type)]
		if s == nil {
			return fmt.Errorf("sftest: seed record of unknown type %s", sr.Type)
		}
		vals, err := o.decodeSeed(s, sr.Fields)
		if err != nil {
			return err
		}
		if sr.RecordType != "" {
			for _, rt := range s.RecordTypes {
				if rt.DeveloperName == sr.RecordType {
					vals["RecordTypeId"] = rt.ID
				}
			}
		}
		o.insertRecord(nil, s, vals, firstUser, seedTime)
	}
	return nil
}

func (o *Org) decodeSeed(s *sobject, raw json.RawMessage) (map[string]any, error) {
	body, err := parseBody(raw)
	if err != nil {
		return nil, fmt.Errorf("sftest: seed %s: %v", s.Name, err)
	}
	vals, reqErr, recErrs := o.convert(s, body.fields, true, nil)
	if reqErr != nil {
		return nil, fmt.Errorf("sftest: seed %s: %s", s.Name, reqErr.Message)
	}
	if len(recErrs) > 0 {
		return nil, fmt.Errorf("sftest: seed %s: %s", s.Name, recErrs[0].Message)
	}
	return vals, nil
}
