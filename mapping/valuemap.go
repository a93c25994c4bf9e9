package mapping

import (
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// Pair is one entry of a value map: a local spelling and the Salesforce
// value it stands for.
type Pair struct {
	Local      string `json:"local" yaml:"local"`
	Salesforce string `json:"salesforce" yaml:"salesforce"`
}

// ValueMapOptions configure the "value_map" and "multi_value_map"
// transforms.
type ValueMapOptions struct {
	// Pairs is the ordered map. Several local spellings may name one
	// Salesforce value; the first pair for a Salesforce value is its write
	// form. Local spellings are matched after Clean, white-space collapsing
	// and case folding, so "หญิง", " F " and "f" are matched as written.
	Pairs []Pair `json:"pairs" yaml:"pairs"`
	// StripAccents also ignores Latin accents when matching
	// (explotación = explotacion).
	StripAccents bool `json:"strip_accents" yaml:"strip_accents"`
	// Null lists local spellings that mean "no value", besides the blank
	// cell.
	Null []string `json:"null,omitempty" yaml:"null"`
	// Blank is the Salesforce value of a blank cell and of the Null
	// spellings (ยินยอม blank -> Not_Obtained); Format writes it as a blank
	// cell. Empty: a blank cell is null. Not for multi-select maps.
	Blank string `json:"blank,omitempty" yaml:"blank"`
	// Multi makes a multi-select map: the cell is split on Separators and
	// each part mapped; the result is a multi-select Value.
	Multi bool `json:"multi" yaml:"multi"`
	// Separators splits a multi-select cell; default ",;/" and newlines.
	Separators string `json:"separators" yaml:"separators"`
	// Join separates the parts Format writes; default ", ".
	Join string `json:"join" yaml:"join"`
}

// DefaultSeparators split multi-value cells: comma, semicolon, slash and
// newlines (doc/architecture.md §11.3).
const DefaultSeparators = ",;/\n\r"

// NewValueMap returns a value map. A local spelling may appear once
// (after matching normalisation) unless it names the same Salesforce value
// again; an unmapped cell is an error, never passed through.
func NewValueMap(o ValueMapOptions) (Transform, error) {
	if len(o.Pairs) == 0 {
		return nil, fmt.Errorf("value map: no pairs")
	}
	if o.Multi {
		if o.Separators == "" {
			o.Separators = DefaultSeparators
		}
		if o.Join == "" {
			o.Join = ", "
		}
		if !strings.ContainsAny(o.Join, o.Separators) {
			return nil, fmt.Errorf("value map: join %q contains none of the separators", o.Join)
		}
		if o.Blank != "" {
			return nil, fmt.Errorf("value map: blank is not allowed in a multi-select map")
		}
	} else {
		o.Separators, o.Join = "", ""
	}
	m := &valueMap{opts: o, toSF: make(map[string]string, len(o.Pairs)), toLocal: make(map[string]string), null: make(map[string]bool)}
	for _, n := range o.Null {
		m.null[matchKey(n, o.StripAccents)] = true
	}
	for _, p := range o.Pairs {
		k := matchKey(p.Local, o.StripAccents)
		if k == "" {
			return nil, fmt.Errorf("value map: blank local value for %q (a blank cell is null)", p.Salesforce)
		}
		if p.Salesforce == "" {
			return nil, fmt.Errorf("value map: local value %q maps to a blank Salesforce value", p.Local)
		}
		if o.Multi && strings.ContainsAny(Clean(p.Local), o.Separators) {
			return nil, fmt.Errorf("value map: local value %q contains a separator", p.Local)
		}
		if o.Multi && strings.ContainsAny(p.Salesforce, ";") {
			return nil, fmt.Errorf("value map: Salesforce value %q contains ';'", p.Salesforce)
		}
		if m.null[k] {
			return nil, fmt.Errorf("value map: local value %q is also listed as null", p.Local)
		}
		if prev, ok := m.toSF[k]; ok && prev != p.Salesforce {
			return nil, fmt.Errorf("value map: local value %q maps to both %q and %q", p.Local, prev, p.Salesforce)
		}
		m.toSF[k] = p.Salesforce
		if _, ok := m.toLocal[p.Salesforce]; !ok {
			m.toLocal[p.Salesforce] = Clean(p.Local)
		}
	}
	kind := "value_map"
	if o.Multi {
		kind = "multi_value_map"
	}
	m.kind = kind
	m.hash = hashOptions(kind, o)
	m.errParse = "expected one of the " + fmt.Sprint(len(m.toSF)) + " local values the rule maps"
	if o.Multi {
		m.errParse = "expected a list of the " + fmt.Sprint(len(m.toSF)) + " local values the rule maps, separated by one of " + describeSeparators(o.Separators)
	}
	return m, nil
}

func describeSeparators(seps string) string {
	var parts []string
	for _, r := range seps {
		switch r {
		case '\n':
			parts = append(parts, "newline")
		case '\r':
		default:
			parts = append(parts, fmt.Sprintf("%q", r))
		}
	}
	return strings.Join(parts, " ")
}

type valueMap struct {
	opts     ValueMapOptions
	kind     string
	toSF     map[string]string // match key -> Salesforce value
	toLocal  map[string]string // Salesforce value -> preferred local spelling
	null     map[string]bool
	hash     string
	errParse string
}

func (m *valueMap) Kind() string { return m.kind }

// Lossy is false: a value map keeps the value, and rewriting a cell in its
// write form is not a change (doc/architecture.md §3.3).
func (m *valueMap) Lossy() bool  { return false }
func (m *valueMap) Hash() string { return m.hash }

func (m *valueMap) lookup(s string) (string, bool, error) {
	k := matchKey(s, m.opts.StripAccents)
	if k == "" || m.null[k] {
		return "", false, nil
	}
	v, ok := m.toSF[k]
	if !ok {
		return "", false, invalid(m.errParse)
	}
	return v, true, nil
}

func (m *valueMap) Parse(cell string) (Result, error) {
	if !m.opts.Multi {
		v, ok, err := m.lookup(cell)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			if m.opts.Blank != "" {
				return Result{Value: connector.Text(m.opts.Blank)}, nil
			}
			return Result{}, nil
		}
		return Result{Value: connector.Text(v)}, nil
	}
	var vals []string
	for part := range splitSeq(cell, m.opts.Separators) {
		v, ok, err := m.lookup(part)
		if err != nil {
			return Result{}, err
		}
		if ok {
			vals = append(vals, v)
		}
	}
	return Result{Value: connector.Multi(vals...)}, nil
}

func (m *valueMap) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindText:
		if m.opts.Multi {
			break
		}
		s, _ := v.Text()
		if s == m.opts.Blank {
			return "", nil
		}
		l, ok := m.toLocal[s]
		if !ok {
			return "", invalid("expected one of the Salesforce values the rule maps")
		}
		return l, nil
	case connector.KindMulti:
		if !m.opts.Multi {
			break
		}
		vals, _ := v.Multi()
		var b strings.Builder
		for i, s := range vals {
			l, ok := m.toLocal[s]
			if !ok {
				return "", invalid("expected only Salesforce values the rule maps")
			}
			if i > 0 {
				b.WriteString(m.opts.Join)
			}
			b.WriteString(l)
		}
		return b.String(), nil
	}
	return "", wrongKind(v, m.kind)
}
