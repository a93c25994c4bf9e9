package mapping

import (
	"context"
	"errors"

	"github.com/casebridge/casebridge/connector"
)

// ErrOutOfScope marks a Salesforce key that is not this job's: it lacks
// the job's key_prefix, or names no record of the object's members. Such a
// record belongs to another source; a View neither writes nor deletes it.
var ErrOutOfScope = errors.New("key is not this job's")

// Family is the Salesforce records one local row carries: the parent and
// the children that exist on the row.
type Family struct {
	Parent   connector.Record
	Children []ChildRecord
}

// ChildRecord is one child record of a Family.
type ChildRecord struct {
	// Name is the child's name in the job; Object its Salesforce object.
	Name   string
	Object string
	Record connector.Record
}

// SalesforceKey returns the Salesforce key of a local key: the job's
// key_prefix and the key in NormalizeKey form.
func (m *JobMapping) SalesforceKey(localKey string) string {
	k := connector.NormalizeKey(localKey)
	if k == "" {
		return ""
	}
	return m.KeyPrefix + k
}

// rowKey returns the local key of a local row: its Key, or else its key
// cell.
func (m *JobMapping) rowKey(row connector.Record) string {
	if k := connector.NormalizeKey(row.Key); k != "" {
		return k
	}
	if v, ok := row.Fields[m.LocalKey]; ok {
		return connector.NormalizeKey(v.Raw())
	}
	return ""
}

// LocalKey returns the local key of a Salesforce key of object, or
// ok false when the key is not this job's (see ErrOutOfScope).
func (m *JobMapping) LocalKeyOf(object, sfKey string) (local string, ok bool) {
	_, local, ok = m.memberOfKey(object, sfKey)
	return local, ok
}

// MemberOf returns the member (parent or child) a Salesforce key of object
// belongs to in this job, or false for a key that is not this job's (no
// key_prefix, or a child suffix of another job).
func (m *JobMapping) MemberOf(object, sfKey string) (*Member, bool) {
	mem, _, ok := m.memberOfKey(object, sfKey)
	return mem, ok
}

// ToSalesforce maps one local row to its family of Salesforce records.
//
// The parent's key is key_prefix plus the row's key (NormalizeKey); each
// child's is the parent's plus its key suffix. A child whose mapped cells
// are all blank does not exist on the row and is left out. Values are
// canonical for their Salesforce field and checked against it.
//
// A cell that does not map (unparseable, not a picklist value, too long,
// an unmatched lookup, a required value missing) is reported as a
// *connector.RecordError with Op "map", the record's key and the field,
// whose message names the column, the rule and the expected form, never
// the value; the field is left out of the record (unknown, not null) and
// the rest of the record goes on.
//
// A row read with Record.Err, or whose key cannot be used, gives records
// with Err set (their keys are unknown, neither present nor deleted), for
// the parent and every child. A deleted row gives deleted records.
//
// While the consent gate is closed (the row's consent value is not one of
// the allowed values, or is blank or unreadable), fields of the gated
// classes are left out: the engine must treat them as unknown — no write,
// no clear, and no change to their baselines — never as null.
//
// res resolves lookups; it may be nil when no rule has one.
func (m *JobMapping) ToSalesforce(ctx context.Context, row connector.Record, res Resolver) (Family, []*connector.RecordError) {
	var fam Family
	var errs []*connector.RecordError
	localKey := m.rowKey(row)
	sfKey := m.SalesforceKey(localKey)
	var keyErr error
	switch {
	case row.Err != nil:
		code := connector.CodeOf(row.Err)
		if code == "" {
			code = connector.CodeRowUnreadable
		}
		keyErr = connector.NewRecordError("map", m.Connector, m.Object, sfKey, "", code, connector.ClassOf(row.Err), row.Err)
	case localKey == "":
		keyErr = connector.NewRecordError("map", m.Connector, m.Object, "", m.Key, connector.CodeInvalidKey, connector.Permanent,
			&FieldError{Column: m.LocalKey, Rule: "local.key at " + m.Job.Local.At("key").String(), Err: &connector.ValueError{Code: connector.CodeInvalidKey, Detail: "the key cell is blank"}})
	default:
		if kf := m.Parent.Desc.KeyField(); kf != nil {
			if err := connector.Check(connector.Text(sfKey), kf); err != nil {
				keyErr = connector.NewRecordError("map", m.Connector, m.Object, sfKey, m.Key, connector.CodeInvalidKey, connector.Permanent,
					&FieldError{Column: m.LocalKey, Rule: "local.key at " + m.Job.Local.At("key").String(), Err: err})
			}
		}
	}
	if keyErr != nil || row.Deleted {
		fam.Parent = connector.Record{Key: sfKey, Modified: row.Modified, Deleted: row.Deleted && keyErr == nil, Err: keyErr}
		for _, ch := range m.Children {
			k := ""
			if sfKey != "" {
				k = sfKey + ch.KeySuffix
			}
			fam.Children = append(fam.Children, ChildRecord{Name: ch.Name, Object: ch.Object,
				Record: connector.Record{Key: k, Modified: row.Modified, Deleted: fam.Parent.Deleted, Err: keyErr}})
		}
		return fam, errs
	}
	open := m.gateOpen(ctx, &row)
	fam.Parent = m.mapMember(ctx, m.Parent, &row, sfKey, open, res, &errs)
	var unread map[string]bool // children with each whose cell does not read
	for _, ch := range m.Children {
		if e := ch.each; e != nil {
			has, err := e.has(&row)
			if err != nil {
				// Which values the cell lists is unknown: every value's
				// record is unknown (never absent, which would delete it).
				k := sfKey + ch.KeySuffix
				re := connector.NewRecordError("map", m.Connector, ch.Object, k, e.field, cmpCode(connector.CodeOf(err), connector.CodeInvalidValue), connector.ClassOf(err),
					&FieldError{Column: e.column, Rule: e.where(), Err: err})
				if !unread[e.child] {
					if unread == nil {
						unread = map[string]bool{}
					}
					unread[e.child] = true
					errs = append(errs, re)
				}
				fam.Children = append(fam.Children, ChildRecord{Name: ch.Name, Object: ch.Object, Record: connector.Record{Key: k, Modified: row.Modified, Err: re}})
				continue
			}
			if !has {
				continue
			}
			if !open && m.gate.eachGated(e) {
				// Consent not given: the value's record is unknown
				// (neither created, changed nor deleted), like a field
				// the gate holds back.
				fam.Children = append(fam.Children, ChildRecord{Name: ch.Name, Object: ch.Object, Record: connector.Record{Key: sfKey + ch.KeySuffix, Modified: row.Modified, Err: errEachGated(m, ch, sfKey+ch.KeySuffix)}})
				continue
			}
		} else if !ch.existsOn(&row) {
			continue
		}
		rec := m.mapMember(ctx, ch, &row, sfKey+ch.KeySuffix, open, res, &errs)
		fam.Children = append(fam.Children, ChildRecord{Name: ch.Name, Object: ch.Object, Record: rec})
	}
	return fam, errs
}

// gateOpen reports whether the row's consent value lets the gated classes
// flow (true when the job has no gate).
func (m *JobMapping) gateOpen(ctx context.Context, row *connector.Record) bool {
	g := m.gate
	if g == nil {
		return true
	}
	v, err := m.forward(ctx, g.rule, row, nil)
	return err == nil && !v.IsNull() && g.allowed[v.Raw()]
}

// existsOn reports whether a child has any non-blank mapped cell on the
// row.
func (mem *Member) existsOn(row *connector.Record) bool {
	if row == nil {
		return false
	}
	if mem.each != nil {
		has, _ := mem.each.has(row)
		return has
	}
	for _, r := range mem.Rules {
		if r.IsConstant || r.Local == "" {
			continue
		}
		if !isBlank(row.Fields[r.Local]) {
			return true
		}
	}
	return false
}

func isBlank(v connector.Value) bool {
	if s, ok := v.Text(); ok {
		return Clean(s) == ""
	}
	return v.IsNull()
}

func (m *JobMapping) mapMember(ctx context.Context, mem *Member, row *connector.Record, key string, open bool, res Resolver, errs *[]*connector.RecordError) connector.Record {
	rec := connector.Record{Key: key, Modified: row.Modified, Fields: make(map[string]connector.Value, len(mem.Rules))}
	for _, r := range mem.Rules {
		if !open && m.gate.gated(r) {
			continue
		}
		v, err := m.forward(ctx, r, row, res)
		if err != nil {
			*errs = append(*errs, m.fieldError(mem, key, r, err))
			continue
		}
		rec.Fields[r.SF] = v
	}
	return rec
}

// fieldError wraps a rule's error for the record's key and field.
func (m *JobMapping) fieldError(mem *Member, key string, r *FieldRule, err error) *connector.RecordError {
	code := connector.CodeOf(err)
	if code == "" {
		code = connector.CodeInvalidValue
	}
	return connector.NewRecordError("map", m.Connector, mem.Object, key, r.SF, code, connector.ClassOf(err),
		&FieldError{Column: r.Local, Rule: r.where(), Err: err})
}

// forward reads one rule's value from a row: canonical for the field and
// checked against it.
func (m *JobMapping) forward(ctx context.Context, r *FieldRule, row *connector.Record, res Resolver) (connector.Value, error) {
	if r.IsConstant {
		return r.Constant, nil
	}
	cell := row.Fields[r.Local]
	if r.HasDefault && isBlank(cell) {
		cell = connector.Text(r.Default)
	}
	if r.flagOf != nil {
		return r.readFlag(cell)
	}
	v, err := r.read(cell)
	if err != nil {
		return connector.Value{}, err
	}
	if r.Lookup != nil && !v.IsNull() {
		s, _ := v.Text()
		if v, err = lookup(ctx, res, r.Lookup, s); err != nil {
			return connector.Value{}, err
		}
	}
	if v, err = connector.Canonicalize(v, r.Field); err != nil {
		return connector.Value{}, err
	}
	if err := connector.Check(v, r.Field); err != nil {
		return connector.Value{}, err
	}
	if v.IsNull() && r.Required {
		return connector.Value{}, &connector.ValueError{Code: connector.CodeRequired, Detail: "a value is required"}
	}
	return v, nil
}

// read converts a cell with the rule's transform: text through Parse; a
// typed value (from a database) directly when the transform would give a
// value of its kind (a datetime read into a date is the day in the
// source's zone), else through Parse of its plain text form.
func (r *FieldRule) read(cell connector.Value) (connector.Value, error) {
	switch cell.Kind() {
	case connector.KindNull:
		return cell, nil
	case connector.KindText:
		s, _ := cell.Text()
		res, err := r.Transform.Parse(s)
		return res.Value, err
	}
	out := outputKind(r.Transform.Kind())
	switch {
	case cell.Kind() == out:
		return cell, nil
	case cell.Kind() == connector.KindDateTime && out == connector.KindDate:
		t, _ := cell.DateTime() // a DATETIME column read into a date: the day in the source's zone
		return connector.DateValue(connector.DateOf(t.In(r.loc))), nil
	}
	res, err := r.Transform.Parse(cell.Raw())
	return res.Value, err
}

// readFlag reads a flag rule's checkbox: true when reading the cell with
// the source rule's transform sets the flag, false for a cell that reads
// without it (or is blank, or is a typed value, which carries no flags).
// A cell that does not read is an error: the checkbox is unknown.
func (r *FieldRule) readFlag(cell connector.Value) (connector.Value, error) {
	var s string
	switch cell.Kind() {
	case connector.KindNull:
		return connector.Bool(false), nil
	case connector.KindText:
		s, _ = cell.Text()
	default:
		if cell.Kind() == outputKind(r.Transform.Kind()) {
			return connector.Bool(false), nil
		}
		s = cell.Raw()
	}
	if Clean(s) == "" {
		return connector.Bool(false), nil
	}
	res, err := r.Transform.Parse(s)
	if err != nil {
		return connector.Value{}, err
	}
	return connector.Bool(res.Flags&r.flag != 0), nil
}

// ToLocal maps a Salesforce record of object (the parent's or a child's)
// to the local cells to write: Key is the local key, Fields the cells by
// column. current is the row as it is now (nil for a new row); give it
// whenever the row exists, as cells that hold several fields (a full name
// feeding first and last name) merge into it, and a cell whose current
// content already reads as the Salesforce value is not rewritten — so a
// lossy cell (a title before a name, a range) is written only when the
// Salesforce value changed, and a cell keeps its local spelling.
//
// Rules that only write Salesforce, constants and lookups are skipped, as
// are fields missing from the record (unknown) and, while the consent gate
// is closed, gated fields. Values are written in each transform's write
// form (a value map's first local value for the Salesforce value).
//
// A key that is not this job's gives one error wrapping ErrOutOfScope and
// no cells. A value that has no write form is a per-field error; the
// field is left out.
func (m *JobMapping) ToLocal(object string, sf connector.Record, current *connector.Record) (connector.Record, []*connector.RecordError) {
	return m.toLocal(object, sf, current, nil)
}

func (m *JobMapping) toLocal(object string, sf connector.Record, current *connector.Record, localDesc *connector.Object) (connector.Record, []*connector.RecordError) {
	mem, localKey, ok := m.memberOfKey(object, sf.Key)
	if !ok {
		return connector.Record{}, []*connector.RecordError{connector.NewRecordError("map", m.Connector, object, sf.Key, "", connector.CodeInvalidKey, connector.Permanent,
			&connector.ValueError{Code: connector.CodeInvalidKey, Detail: ErrOutOfScope.Error() + " (key_prefix " + quoteOrNone(m.KeyPrefix) + ")"})}
	}
	out := connector.Record{Key: localKey, Fields: map[string]connector.Value{}}
	var errs []*connector.RecordError
	open := m.reverseGateOpen(mem, sf, current)
	type pending struct {
		r *FieldRule
		v connector.Value
	}
	var retry []pending
	cellText := func(col string) string {
		if v, ok := out.Fields[col]; ok {
			return v.Raw()
		}
		if current != nil {
			return current.Fields[col].Raw()
		}
		return ""
	}
	write := func(r *FieldRule, v connector.Value, final bool) {
		var s string
		var err error
		if r.merger != nil {
			s, err = r.merger.Merge(cellText(r.Local), v)
		} else {
			s, err = r.Transform.Format(v)
		}
		if err != nil {
			if !final {
				retry = append(retry, pending{r, v})
				return
			}
			errs = append(errs, m.fieldError(mem, sf.Key, r, err))
			return
		}
		out.Fields[r.Local] = connector.Text(s)
	}
	for _, r := range mem.Rules {
		if !r.WritesLocal() {
			continue
		}
		if !open && m.gate.gated(r) {
			continue
		}
		v, present := sf.Fields[r.SF]
		if !present {
			continue
		}
		v, err := connector.Canonicalize(v, r.Field)
		if err != nil {
			errs = append(errs, m.fieldError(mem, sf.Key, r, err))
			continue
		}
		if current != nil {
			if cur, err := m.forward(context.Background(), r, current, nil); err == nil && cur.Equal(v) {
				continue // the cell already says so
			}
		}
		if localDesc != nil {
			if lf := localDesc.Field(r.Local); lf != nil && lf.Type.ValueKind() != connector.KindText && lf.Type.ValueKind() == v.Kind() {
				out.Fields[r.Local] = v // a typed column takes the value itself
				continue
			}
		}
		write(r, v, r.merger == nil)
	}
	for _, p := range retry {
		write(p.r, p.v, true)
	}
	if e := mem.each; e != nil && !open && m.gate.eachGated(e) {
		// Consent not given: the cell does not list the value, and the
		// record is not taken for written either (the next read would
		// see it gone from the row and delete it).
		return connector.Record{}, append(errs, errEachGated(m, mem, sf.Key))
	}
	if e := mem.each; e != nil && e.writesLocal && len(errs) == 0 {
		// The record exists in Salesforce: the cell lists its value.
		cur := cellText(e.column)
		s, err := e.add(cur)
		switch {
		case err != nil:
			errs = append(errs, connector.NewRecordError("map", m.Connector, mem.Object, sf.Key, e.field, cmpCode(connector.CodeOf(err), connector.CodeInvalidValue), connector.Permanent,
				&FieldError{Column: e.column, Rule: e.where(), Err: err}))
		case s != cur:
			out.Fields[e.column] = connector.Text(s)
		}
	}
	return out, errs
}

// reverseGateOpen decides the gate for a Salesforce record: by the
// record's consent field when it has it, else by the current row's
// consent cell.
func (m *JobMapping) reverseGateOpen(mem *Member, sf connector.Record, current *connector.Record) bool {
	g := m.gate
	if g == nil {
		return true
	}
	if mem.IsParent() {
		if v, ok := sf.Fields[g.rule.SF]; ok {
			cv, err := connector.Canonicalize(v, g.rule.Field)
			return err == nil && !cv.IsNull() && g.allowed[cv.Raw()]
		}
	}
	if current == nil {
		return false
	}
	return m.gateOpen(context.Background(), current)
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return "\"" + s + "\""
}

// ruleOfColumn returns the member's first rule reading col, or nil.
func (mem *Member) ruleOfColumn(col string) *FieldRule {
	for _, r := range mem.Rules {
		if r.Local == col {
			return r
		}
	}
	return nil
}
