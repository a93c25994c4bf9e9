package mapping

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// eachInfo makes a child member one value's record of a child family
// declared with each (config.ChildEach): the record exists on a row when
// the row's multi-value cell lists the value. Its key suffix is the
// child's key_suffix, a colon and the Salesforce value.
type eachInfo struct {
	cfg         *config.ChildEach
	child       string    // the configured child's name
	value       string    // the Salesforce value this member stands for
	column      string    // the multi-value column
	t           Transform // a multi-select value map over the column
	seps        string
	join        string
	writesLocal bool
	field       string // the Salesforce field set to the value
}

// where names the each option for an error.
func (e *eachInfo) where() string {
	return "rule " + e.cfg.KeyPath + " at " + e.cfg.Pos.String()
}

// values reads the row's cell: the Salesforce values it lists (nil for a
// blank cell), or the value map's error for a cell that does not read.
func (e *eachInfo) values(row *connector.Record) ([]string, error) {
	if row == nil {
		return nil, nil
	}
	cell := row.Fields[e.column]
	if isBlank(cell) {
		return nil, nil
	}
	s, ok := cell.Text()
	if !ok {
		s = cell.Raw()
	}
	res, err := e.t.Parse(s)
	if err != nil {
		return nil, err
	}
	vals, _ := res.Value.Multi()
	return vals, nil
}

// has reports whether the row lists the member's value.
func (e *eachInfo) has(row *connector.Record) (bool, error) {
	vals, err := e.values(row)
	return slices.Contains(vals, e.value), err
}

// writeForm is the word written for the value (the first listed for it).
func (e *eachInfo) writeForm() (string, error) {
	return e.t.Format(connector.Multi(e.value))
}

// add returns cur with the member's word appended, unless it lists the
// value already. The other words keep their spelling and order.
func (e *eachInfo) add(cur string) (string, error) {
	w, err := e.writeForm()
	if err != nil {
		return "", err
	}
	if Clean(cur) == "" {
		return w, nil
	}
	res, err := e.t.Parse(cur)
	if err != nil {
		return "", err
	}
	vals, _ := res.Value.Multi()
	if slices.Contains(vals, e.value) {
		return cur, nil
	}
	out := strings.TrimRightFunc(cur, func(r rune) bool { return isSpace(r) || strings.ContainsRune(e.seps, r) }) + e.join + w
	return out, e.check(out, append(vals, e.value))
}

// remove returns cur without the words that map to the member's value.
func (e *eachInfo) remove(cur string) (string, error) {
	if _, err := e.t.Parse(cur); err != nil {
		return "", err
	}
	var kept []string
	var want []string
	for _, tok := range strings.FieldsFunc(cur, func(r rune) bool { return strings.ContainsRune(e.seps, r) }) {
		if Clean(tok) == "" {
			continue
		}
		res, err := e.t.Parse(tok)
		if err != nil {
			return "", err
		}
		vals, _ := res.Value.Multi()
		if slices.Contains(vals, e.value) {
			continue
		}
		kept = append(kept, strings.TrimSpace(tok))
		want = append(want, vals...)
	}
	out := strings.Join(kept, e.join)
	return out, e.check(out, want)
}

// check verifies that out reads as exactly the values want (in any order).
func (e *eachInfo) check(out string, want []string) error {
	var got []string
	if Clean(out) != "" {
		res, err := e.t.Parse(out)
		if err != nil {
			return err
		}
		got, _ = res.Value.Multi()
	}
	if !slices.Equal(sortedUnique(got), sortedUnique(want)) {
		return invalid("expected a list that reads back with the value added or removed")
	}
	return nil
}

// eachMembers expands a child declared with each into one member per
// Salesforce value of its map, each a copy of base (the child's rules)
// with a constant rule setting each.sf to the value.
func (c *compiler) eachMembers(base *Member, ch *config.Child) []*Member {
	e := ch.Each
	f := base.Desc.Field(e.SF)
	if f == nil {
		c.errorf(&e.Meta, "sf", "%s has no field %q%s", base.Object, e.SF, suggestName(e.SF, base.Desc.FieldNames()))
		return nil
	}
	if f.Calculated || !f.Createable {
		c.errorf(&e.Meta, "sf", "%s is not createable: each value's record is created with it", f.Name)
		return nil
	}
	o := ValueMapOptions{Multi: true}
	if e.Split != "" {
		o.Separators = e.Split
		o.Join = e.Split[:utf8.RuneLen([]rune(e.Split)[0])]
		if o.Join != "\n" {
			o.Join += " "
		}
	}
	var values []string
	constants := map[string]connector.Value{}
	ok := true
	for _, en := range e.Values.Entries {
		if Clean(en.Local) == "" {
			c.errs = append(c.errs, &config.Error{File: en.Pos.File, Line: en.Pos.Line, Col: en.Pos.Col, Path: e.PathOf("values") + "." + en.Local, Msg: "a blank cell lists no value; remove the entry"})
			ok = false
			continue
		}
		o.Pairs = append(o.Pairs, Pair{Local: en.Local, Salesforce: en.SF})
		if _, seen := constants[en.SF]; seen {
			continue
		}
		v, err := connector.Canonicalize(connector.Text(en.SF), f)
		if err == nil {
			err = connector.Check(v, f)
		}
		if err != nil {
			msg := fmt.Sprintf("Salesforce value %q does not fit %s (%s): %v", en.SF, f.Name, describeField(f), err)
			if connector.CodeOf(err) == connector.CodeBadPicklist {
				msg = fmt.Sprintf("%q is not a picklist value of %s%s%s (describe lists the master values; record types may allow fewer)", en.SF, f.Name, suggestName(en.SF, f.Picklist), picklistValues(f, err))
			}
			c.errs = append(c.errs, &config.Error{File: en.Pos.File, Line: en.Pos.Line, Col: en.Pos.Col, Path: e.PathOf("values") + "." + en.Local, Msg: msg})
			ok = false
			continue
		}
		constants[en.SF] = v
		values = append(values, en.SF)
	}
	if !ok || len(o.Pairs) == 0 {
		return nil
	}
	t, err := NewValueMap(o)
	if err != nil {
		c.errorf(&e.Meta, "values", "%v", err)
		return nil
	}
	vm := t.(*valueMap)
	writesLocal := e.Direction.WritesLocal() && c.job.Direction.WritesLocal()
	var out []*Member
	parts := map[string]string{}
	for _, v := range values {
		// A classified each's value is kept out of the key and of the
		// member's name (which names the child's job): a keyed part
		// stands for it (eachkey.go). Its field is of the each's class.
		part, ok := c.eachPart(ch, v, parts)
		if !ok {
			return nil
		}
		rule := &FieldRule{SF: f.Name, Direction: config.ToSalesforce, Field: f, IsConstant: true, Constant: constants[v],
			Rule: &config.Rule{Meta: e.Meta, SF: e.SF, Constant: v, Direction: config.ToSalesforce}}
		if e.Classified() {
			rule.Class = e.PII
			rule.Rule.PII = e.PII
		}
		mem := &Member{Name: base.Name + ":" + part, Object: base.Object, Desc: base.Desc, KeySuffix: base.KeySuffix + ":" + part,
			ParentField: base.ParentField, cfg: ch, Rules: append(slices.Clone(base.Rules), rule),
			each: &eachInfo{cfg: e, child: base.Name, value: v, column: e.Local, t: t, seps: vm.opts.Separators, join: vm.opts.Join,
				writesLocal: writesLocal, field: f.Name}}
		out = append(out, mem)
	}
	return out
}
