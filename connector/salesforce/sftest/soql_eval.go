package sftest

import (
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// pathValue follows a field path from r; a missing parent gives nil.
func (o *Org) pathValue(r *record, fp fieldPath) any {
	cur := r
	for _, rf := range fp.rels {
		id, _ := cur.f[rf.Name].(string)
		cur = o.byID[id]
		if cur == nil {
			return nil
		}
	}
	return o.value(cur, fp.field)
}

// relRange resolves a relative date literal to [start, end) in UTC.
func relRange(l literal, now time.Time) (time.Time, time.Time) {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	week := day.AddDate(0, 0, -int(day.Weekday())) // weeks start on Sunday
	switch l.rel {
	case "TODAY":
		return day, day.AddDate(0, 0, 1)
	case "YESTERDAY":
		return day.AddDate(0, 0, -1), day
	case "TOMORROW":
		return day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)
	case "THIS_WEEK":
		return week, week.AddDate(0, 0, 7)
	case "LAST_WEEK":
		return week.AddDate(0, 0, -7), week
	case "NEXT_WEEK":
		return week.AddDate(0, 0, 7), week.AddDate(0, 0, 14)
	case "THIS_MONTH":
		return month, month.AddDate(0, 1, 0)
	case "LAST_MONTH":
		return month.AddDate(0, -1, 0), month
	case "NEXT_MONTH":
		return month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)
	case "THIS_YEAR":
		return year, year.AddDate(1, 0, 0)
	case "LAST_YEAR":
		return year.AddDate(-1, 0, 0), year
	case "NEXT_YEAR":
		return year.AddDate(1, 0, 0), year.AddDate(2, 0, 0)
	case "LAST_90_DAYS":
		return day.AddDate(0, 0, -90), day.AddDate(0, 0, 1)
	case "NEXT_90_DAYS":
		return day.AddDate(0, 0, 1), day.AddDate(0, 0, 91)
	case "LAST_N_DAYS":
		return day.AddDate(0, 0, -l.n), day.AddDate(0, 0, 1)
	case "NEXT_N_DAYS":
		return day.AddDate(0, 0, 1), day.AddDate(0, 0, l.n+1)
	case "N_DAYS_AGO":
		return day.AddDate(0, 0, -l.n), day.AddDate(0, 0, -l.n+1)
	case "LAST_N_MONTHS":
		return month.AddDate(0, -l.n, 0), month
	case "NEXT_N_MONTHS":
		return month.AddDate(0, 1, 0), month.AddDate(0, l.n+1, 0)
	}
	return day, day
}

// compareValues orders two non-nil stored values; strings compare
// case-insensitively.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	case decimal.Decimal:
		y, _ := b.(decimal.Decimal)
		return x.Cmp(y)
	case dateVal:
		y, _ := b.(dateVal)
		return strings.Compare(string(x), string(y))
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// litValue converts a literal to the stored representation of f.
func litValue(f *fieldDef, l literal) any {
	switch l.kind {
	case 's':
		return l.s
	case 'n':
		return l.num
	case 'd':
		return l.date
	case 't':
		return l.t
	case 'b':
		return l.b
	}
	return nil
}

func (o *Org) eval(r *record, c cond, now time.Time) bool {
	switch x := c.(type) {
	case andCond:
		for _, t := range x {
			if !o.eval(r, t, now) {
				return false
			}
		}
		return true
	case orCond:
		for _, t := range x {
			if o.eval(r, t, now) {
				return true
			}
		}
		return false
	case notCond:
		return !o.eval(r, x.c, now)
	case cmpCond:
		return o.evalCmp(r, x, now)
	}
	return true
}

func (o *Org) evalCmp(r *record, c cmpCond, now time.Time) bool {
	f := c.path.field
	v := o.pathValue(r, c.path)
	if f.Type == "boolean" && v == nil {
		v = false
	}
	switch c.op {
	case "IN", "NOTIN":
		in := false
		for _, l := range c.vals {
			if o.matchEq(f, v, l, now) {
				in = true
			}
		}
		if c.op == "IN" {
			return in
		}
		return !in
	case "INCLUDES", "EXCLUDES":
		s, _ := v.(string)
		have := map[string]bool{}
		for _, p := range strings.Split(s, ";") {
			if p != "" {
				have[strings.ToLower(p)] = true
			}
		}
		any := false
		for _, l := range c.vals {
			all := true
			for _, p := range strings.Split(l.s, ";") {
				if p = strings.TrimSpace(p); p != "" && !have[strings.ToLower(p)] {
					all = false
				}
			}
			if all && l.kind == 's' {
				any = true
			}
		}
		if c.op == "INCLUDES" {
			return any
		}
		return !any
	case "LIKE":
		s, ok := v.(string)
		return ok && likeMatch(strings.ToLower(s), strings.ToLower(c.vals[0].s))
	case "=":
		return o.matchEq(f, v, c.vals[0], now)
	case "!=":
		return !o.matchEq(f, v, c.vals[0], now)
	}
	// Ordering operators never match null.
	l := c.vals[0]
	if v == nil || l.kind == 'z' {
		return false
	}
	if l.kind == 'r' {
		start, end := relRange(l, now)
		var lo, hi any = start, end
		if f.Type == "date" {
			lo, hi = dateVal(start.Format("2006-01-02")), dateVal(end.Format("2006-01-02"))
		}
		switch c.op {
		case "<":
			return compareValues(v, lo) < 0
		case "<=":
			return compareValues(v, hi) < 0
		case ">":
			return compareValues(v, hi) >= 0
		case ">=":
			return compareValues(v, lo) >= 0
		}
		return false
	}
	cmp := compareValues(v, litValue(f, l))
	if f.Type == "id" || f.Type == "reference" {
		cmp = strings.Compare(v.(string), l.s) // ids are case-sensitive
	}
	switch c.op {
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

func (o *Org) matchEq(f *fieldDef, v any, l literal, now time.Time) bool {
	if l.kind == 'z' {
		if f.Type == "boolean" {
			return v == false
		}
		return v == nil
	}
	if v == nil {
		return false
	}
	switch l.kind {
	case 'r':
		start, end := relRange(l, now)
		var lo, hi any = start, end
		if f.Type == "date" {
			lo, hi = dateVal(start.Format("2006-01-02")), dateVal(end.Format("2006-01-02"))
		}
		return compareValues(v, lo) >= 0 && compareValues(v, hi) < 0
	case 's':
		if f.Type == "id" || f.Type == "reference" {
			return v == l.s
		}
		if f.Type == "multipicklist" {
			return sameSet(v.(string), l.s)
		}
	}
	return compareValues(v, litValue(f, l)) == 0
}

func sameSet(a, b string) bool {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, p := range strings.Split(s, ";") {
			if p = strings.TrimSpace(p); p != "" {
				m[strings.ToLower(p)] = true
			}
		}
		return m
	}
	x, y := set(a), set(b)
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if !y[k] {
			return false
		}
	}
	return true
}

// likeMatch matches SOQL LIKE: % any run, _ one character, \% and \_
// literal.
func likeMatch(s, pat string) bool {
	sr, pr := []rune(s), []rune(pat)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for j < len(pr) {
			switch {
			case pr[j] == '\\' && j+1 < len(pr):
				if i >= len(sr) || sr[i] != pr[j+1] {
					return false
				}
				i, j = i+1, j+2
			case pr[j] == '%':
				for k := i; k <= len(sr); k++ {
					if match(k, j+1) {
						return true
					}
				}
				return false
			case pr[j] == '_':
				if i >= len(sr) {
					return false
				}
				i, j = i+1, j+1
			default:
				if i >= len(sr) || sr[i] != pr[j] {
					return false
				}
				i, j = i+1, j+1
			}
		}
		return i == len(sr)
	}
	return match(0, 0)
}

// run evaluates a parsed query; all includes deleted records.
func (o *Org) run(q *soqlQuery, all bool) []*record {
	now := o.clock()
	var rows []*record
	for _, r := range o.records[q.obj] {
		if r.deleted() && !all {
			continue
		}
		if q.where != nil && !o.eval(r, q.where, now) {
			continue
		}
		rows = append(rows, r)
	}
	if len(q.order) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for _, it := range q.order {
				a, b := o.pathValue(rows[i], it.path), o.pathValue(rows[j], it.path)
				if a == nil && b == nil {
					continue
				}
				if a == nil || b == nil {
					return (a == nil) == it.nullsFirst
				}
				c := compareValues(a, b)
				if t := it.path.field.Type; t == "id" || t == "reference" {
					c = strings.Compare(a.(string), b.(string))
				}
				if c == 0 {
					continue
				}
				if it.desc {
					return c > 0
				}
				return c < 0
			}
			return false
		})
	}
	if q.offset > 0 {
		if q.offset >= len(rows) {
			rows = nil
		} else {
			rows = rows[q.offset:]
		}
	}
	if q.limit >= 0 && len(rows) > q.limit {
		rows = rows[:q.limit]
	}
	return rows
}

// renderRow renders the selected fields, nesting parent relationships.
func (o *Org) renderRow(r *record, items []selectItem) obj {
	out := obj{{"attributes", o.attributes(r)}}
	return append(out, o.renderItems(r, items)...)
}

func (o *Org) renderItems(r *record, items []selectItem) obj {
	var out obj
	seen := map[string]bool{}
	for i, it := range items {
		if len(it.path.rels) == 0 {
			name := it.path.field.Name
			if !seen[name] {
				seen[name] = true
				out = append(out, kv{name, jsonValue(it.path.field, o.value(r, it.path.field))})
			}
			continue
		}
		rf := it.path.rels[0]
		if seen[rf.RelationshipName] {
			continue
		}
		seen[rf.RelationshipName] = true
		var sub []selectItem
		for _, other := range items[i:] {
			if len(other.path.rels) > 0 && other.path.rels[0] == rf {
				sub = append(sub, selectItem{path: fieldPath{rels: other.path.rels[1:], field: other.path.field}})
			}
		}
		id, _ := r.f[rf.Name].(string)
		parent := o.byID[id]
		if parent == nil {
			out = append(out, kv{rf.RelationshipName, nil})
			continue
		}
		out = append(out, kv{rf.RelationshipName, o.renderRow(parent, sub)})
	}
	return out
}
