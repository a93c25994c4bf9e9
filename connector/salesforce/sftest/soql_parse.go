package sftest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// fieldPath is a resolved SELECT/WHERE/ORDER BY field: zero or more
// relationship (reference) fields, then the field itself.
type fieldPath struct {
	rels  []*fieldDef
	field *fieldDef
}

type selectItem struct {
	path      fieldPath
	countOnly bool // COUNT()
	countOf   bool // COUNT(field)
}

type orderItem struct {
	path       fieldPath
	desc       bool
	nullsFirst bool
}

type soqlQuery struct {
	obj     *sobject
	items   []selectItem
	where   cond
	order   []orderItem
	limit   int // -1: none
	offset  int
	count   bool // COUNT()
	countOf bool
}

// cond is a WHERE condition.
type cond interface{}

type andCond []cond
type orCond []cond
type notCond struct{ c cond }

type cmpCond struct {
	path fieldPath
	op   string // = != < <= > >= LIKE IN NOTIN INCLUDES EXCLUDES
	vals []literal
}

type literal struct {
	kind byte // 's' string, 'n' number, 'd' date, 't' datetime, 'b' bool, 'z' null, 'r' relative date
	s    string
	num  decimal.Decimal
	t    time.Time
	date dateVal
	b    bool
	rel  string
	n    int
}

type parser struct {
	o    *Org
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) keyword(t token, kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expect(kw string) *soqlError {
	t := p.next()
	if !p.keyword(t, kw) {
		return unexpected(t)
	}
	return nil
}

// parseSOQL parses and resolves a query against the org's schema.
func (o *Org) parseSOQL(q string) (*soqlQuery, *soqlError) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{o: o, q: q, toks: toks}
	if e := p.expect("SELECT"); e != nil {
		return nil, e
	}
	type rawItem struct {
		tok             token
		count, countArg bool
	}
	var raw []rawItem
	for {
		t := p.next()
		if t.kind != tIdent || p.keyword(t, "FROM") {
			return nil, unexpected(t)
		}
		if strings.EqualFold(t.text, "COUNT") && p.peek().kind == tLParen {
			p.next()
			if p.peek().kind == tRParen {
				p.next()
				raw = append(raw, rawItem{tok: t, count: true})
			} else {
				arg := p.next()
				if arg.kind != tIdent {
					return nil, unexpected(arg)
				}
				if c := p.next(); c.kind != tRParen {
					return nil, unexpected(c)
				}
				raw = append(raw, rawItem{tok: arg, countArg: true})
			}
		} else {
			raw = append(raw, rawItem{tok: t})
		}
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		break
	}
	if e := p.expect("FROM"); e != nil {
		return nil, e
	}
	ot := p.next()
	if ot.kind != tIdent {
		return nil, unexpected(ot)
	}
	s := o.object(ot.text)
	if s == nil {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", ot.text), ot.pos}
	}
	sq := &soqlQuery{obj: s, limit: -1}
	for _, ri := range raw {
		if ri.count {
			if len(raw) > 1 {
				return nil, malformed(ri.tok.pos, "COUNT() must be the only element in the SELECT list.")
			}
			sq.count = true
			continue
		}
		path, e := p.resolve(s, ri.tok)
		if e != nil {
			return nil, e
		}
		if ri.countArg {
			sq.countOf = true
		}
		sq.items = append(sq.items, selectItem{path: path, countOf: ri.countArg})
	}
	if p.keyword(p.peek(), "WHERE") {
		p.next()
		c, e := p.parseCond(s)
		if e != nil {
			return nil, e
		}
		sq.where = c
	}
	if p.keyword(p.peek(), "ORDER") {
		p.next()
		if e := p.expect("BY"); e != nil {
			return nil, e
		}
		for {
			t := p.next()
			if t.kind != tIdent {
				return nil, unexpected(t)
			}
			path, e := p.resolve(s, t)
			if e != nil {
				return nil, e
			}
			if path.field.Long || path.field.Type == "multipicklist" {
				return nil, &soqlError{"INVALID_FIELD", fmt.Sprintf("field '%s' can not be sorted in a query call", path.field.Name), t.pos}
			}
			it := orderItem{path: path, nullsFirst: true}
			if p.keyword(p.peek(), "ASC") {
				p.next()
			} else if p.keyword(p.peek(), "DESC") {
				p.next()
				it.desc = true
			}
			if p.keyword(p.peek(), "NULLS") {
				p.next()
				nt := p.next()
				switch {
				case p.keyword(nt, "FIRST"):
				case p.keyword(nt, "LAST"):
					it.nullsFirst = false
				default:
					return nil, unexpected(nt)
				}
			}
			sq.order = append(sq.order, it)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.keyword(p.peek(), "LIMIT") {
		p.next()
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			return nil, unexpected(t)
		}
		sq.limit = n
	}
	if p.keyword(p.peek(), "OFFSET") {
		p.next()
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			return nil, unexpected(t)
		}
		if n > 2000 {
			return nil, &soqlError{"NUMBER_OUTSIDE_VALID_RANGE", fmt.Sprintf("Maximum SOQL offset allowed is 2000"), -1}
		}
		sq.offset = n
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, unexpected(t)
	}
	if sq.count && len(sq.order) > 0 {
		return nil, malformed(-1, "Ordered field cannot be aggregated in a query that is not grouped: %s", sq.order[0].path.field.Name)
	}
	return sq, nil
}

// resolve turns a dotted path token into fields of s.
func (p *parser) resolve(s *sobject, t token) (fieldPath, *soqlError) {
	parts := strings.Split(t.text, ".")
	if len(parts) > 1 && strings.EqualFold(parts[0], s.Name) {
		parts = parts[1:]
	}
	var fp fieldPath
	cur := s
	for i, part := range parts {
		if i == len(parts)-1 {
			f := cur.field(part)
			if f == nil {
				return fp, &soqlError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", part, cur.Name), t.pos}
			}
			fp.field = f
			return fp, nil
		}
		rf := cur.byRel[strings.ToLower(part)]
		var target *sobject
		if rf != nil {
			for _, name := range rf.ReferenceTo {
				if ts := p.o.object(name); ts != nil {
					target = ts
				}
			}
		}
		if rf == nil || target == nil {
			return fp, &soqlError{"INVALID_FIELD", fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", part), t.pos}
		}
		fp.rels = append(fp.rels, rf)
		cur = target
	}
	return fp, nil
}

// parseCond parses terms joined by one kind of logical operator; mixing
// AND and OR without parentheses is a MALFORMED_QUERY.
func (p *parser) parseCond(s *sobject) (cond, *soqlError) {
	first, e := p.parseUnary(s)
	if e != nil {
		return nil, e
	}
	terms := []cond{first}
	op := ""
	for {
		t := p.peek()
		if !p.keyword(t, "AND") && !p.keyword(t, "OR") {
			break
		}
		kw := strings.ToUpper(t.text)
		if op != "" && op != kw {
			return nil, unexpected(t)
		}
		op = kw
		p.next()
		c, e := p.parseUnary(s)
		if e != nil {
			return nil, e
		}
		terms = append(terms, c)
	}
	switch op {
	case "AND":
		return andCond(terms), nil
	case "OR":
		return orCond(terms), nil
	}
	return first, nil
}

func (p *parser) parseUnary(s *sobject) (cond, *soqlError) {
	t := p.peek()
	if p.keyword(t, "NOT") {
		p.next()
		c, e := p.parseUnary(s)
		if e != nil {
			return nil, e
		}
		return notCond{c}, nil
	}
	if t.kind == tLParen {
		p.next()
		c, e := p.parseCond(s)
		if e != nil {
			return nil, e
		}
		if r := p.next(); r.kind != tRParen {
			return nil, unexpected(r)
		}
		return c, nil
	}
	return p.parseComparison(s)
}

func (p *parser) parseComparison(s *sobject) (cond, *soqlError) {
	ft := p.next()
	if ft.kind != tIdent {
		return nil, unexpected(ft)
	}
	path, e := p.resolve(s, ft)
	if e != nil {
		return nil, e
	}
	f := path.field
	if f.Long {
		return nil, &soqlError{"INVALID_FIELD", fmt.Sprintf("field '%s' can not be filtered in a query call", f.Name), ft.pos}
	}
	c := cmpCond{path: path}
	ot := p.next()
	switch {
	case ot.kind == tOp:
		c.op = ot.text
		if c.op == "<>" {
			c.op = "!="
		}
	case p.keyword(ot, "LIKE"):
		c.op = "LIKE"
	case p.keyword(ot, "IN"):
		c.op = "IN"
	case p.keyword(ot, "INCLUDES"), p.keyword(ot, "EXCLUDES"):
		c.op = strings.ToUpper(ot.text)
		if f.Type != "multipicklist" {
			return nil, &soqlError{"INVALID_FIELD", fmt.Sprintf("%s can only be used on multi-select picklist fields", c.op), ot.pos}
		}
	case p.keyword(ot, "NOT"):
		if in := p.next(); !p.keyword(in, "IN") {
			return nil, unexpected(in)
		}
		c.op = "NOTIN"
	default:
		return nil, unexpected(ot)
	}
	if c.op == "IN" || c.op == "NOTIN" || c.op == "INCLUDES" || c.op == "EXCLUDES" {
		if lp := p.next(); lp.kind != tLParen {
			return nil, unexpected(lp)
		}
		for {
			v, e := p.parseValue(f, ft)
			if e != nil {
				return nil, e
			}
			c.vals = append(c.vals, v)
			sep := p.next()
			if sep.kind == tRParen {
				break
			}
			if sep.kind != tComma {
				return nil, unexpected(sep)
			}
		}
		return c, nil
	}
	v, e := p.parseValue(f, ft)
	if e != nil {
		return nil, e
	}
	if c.op == "LIKE" && v.kind != 's' {
		return nil, &soqlError{"INVALID_FIELD", fmt.Sprintf("value of filter criterion for field '%s' must be of type string and should be enclosed in quotes", f.Name), ft.pos}
	}
	c.vals = []literal{v}
	return c, nil
}

var relativeDates = map[string]bool{
	"TODAY": true, "YESTERDAY": true, "TOMORROW": true, "THIS_WEEK": true, "LAST_WEEK": true, "NEXT_WEEK": true,
	"THIS_MONTH": true, "LAST_MONTH": true, "NEXT_MONTH": true, "THIS_YEAR": true, "LAST_YEAR": true, "NEXT_YEAR": true,
	"LAST_90_DAYS": true, "NEXT_90_DAYS": true,
}

var relativeNDates = map[string]bool{"LAST_N_DAYS": true, "NEXT_N_DAYS": true, "N_DAYS_AGO": true, "LAST_N_MONTHS": true, "NEXT_N_MONTHS": true}

func typeErr(f *fieldDef, ft token, typ string, quoted bool) *soqlError {
	how := "should not be enclosed in quotes"
	if quoted {
		how = "should be enclosed in quotes"
	}
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("value of filter criterion for field '%s' must be of type %s and %s", f.Name, typ, how), ft.pos}
}

// parseValue reads one literal and checks it against the field's type.
func (p *parser) parseValue(f *fieldDef, ft token) (literal, *soqlError) {
	t := p.next()
	var l literal
	switch {
	case t.kind == tString:
		l = literal{kind: 's', s: t.val}
	case t.kind == tNumber:
		d, err := decimal.NewFromString(t.text)
		if err != nil {
			return l, unexpected(t)
		}
		l = literal{kind: 'n', num: d}
	case t.kind == tDate:
		d, ok := parseDate(t.text)
		if !ok {
			return l, malformed(t.pos, "line 1:%d no viable alternative at character '%s'", t.pos, t.text)
		}
		l = literal{kind: 'd', date: d}
	case t.kind == tDateTime:
		tm, ok := parseDateTime(t.text)
		if !ok || !(strings.HasSuffix(t.text, "Z") || strings.ContainsAny(t.text[10:], "+-")) {
			return l, malformed(t.pos, "line 1:%d no viable alternative at character '%s'", t.pos, t.text)
		}
		l = literal{kind: 't', t: tm}
	case p.keyword(t, "NULL"):
		l = literal{kind: 'z'}
	case p.keyword(t, "TRUE"), p.keyword(t, "FALSE"):
		l = literal{kind: 'b', b: strings.EqualFold(t.text, "TRUE")}
	case t.kind == tIdent && relativeDates[strings.ToUpper(t.text)]:
		l = literal{kind: 'r', rel: strings.ToUpper(t.text)}
	case t.kind == tIdent && relativeNDates[strings.ToUpper(t.text)]:
		if c := p.next(); c.kind != tColon {
			return l, unexpected(c)
		}
		nt := p.next()
		n, err := strconv.Atoi(nt.text)
		if nt.kind != tNumber || err != nil {
			return l, unexpected(nt)
		}
		l = literal{kind: 'r', rel: strings.ToUpper(t.text), n: n}
	default:
		return l, unexpected(t)
	}
	if l.kind == 'z' {
		return l, nil
	}
	switch {
	case f.Type == "id" || f.Type == "reference":
		if l.kind != 's' {
			return l, typeErr(f, ft, "id", true)
		}
		id := normalizeID(l.s)
		if id == "" {
			return l, &soqlError{"INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: " + l.s, ft.pos}
		}
		l.s = id
	case f.isNumber():
		if l.kind != 'n' {
			return l, typeErr(f, ft, "double", false)
		}
	case f.Type == "boolean":
		if l.kind != 'b' {
			return l, typeErr(f, ft, "boolean", false)
		}
	case f.Type == "date":
		if l.kind != 'd' && l.kind != 'r' {
			return l, typeErr(f, ft, "date", false)
		}
	case f.Type == "datetime":
		if l.kind != 't' && l.kind != 'r' {
			return l, typeErr(f, ft, "dateTime", false)
		}
	default:
		if l.kind != 's' {
			return l, typeErr(f, ft, "string", true)
		}
	}
	return l, nil
}
