package mapping

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/connector"
)

// NameOrder is how a source writes a full name.
type NameOrder string

// Name orders.
const (
	// GivenFirst: the first token is the first name, the rest the last
	// name (Thai, Bengali).
	GivenFirst NameOrder = "given_first"
	// FamilyFirst: the first token is the family (last) name, the rest
	// the first name (Khmer: សុខ តេស្ត is last សុខ, first តេស្ត).
	FamilyFirst NameOrder = "family_first"
	// Spanish: two given names and two surnames. Four tokens are 2 + 2;
	// three are 1 + 2 with FlagLowConfidence; particles (de, del, la, y)
	// stay with the token after them.
	Spanish NameOrder = "spanish"
	// UppercaseFamily: a Latin transcription where the one all-uppercase
	// token is the family name ("SOK Test", "Test SOK"); without exactly
	// one, the name is read family first with FlagLowConfidence.
	UppercaseFamily NameOrder = "uppercase_family"
)

// NamePart selects the part of a name a transform reads and writes.
type NamePart string

// Name parts.
const (
	PartFirst NamePart = "first"
	PartLast  NamePart = "last"
)

// NameOptions configure the "name" transform and a NameSplitter.
type NameOptions struct {
	Order NameOrder `json:"order" yaml:"order"`
	// Part is the part the transform reads and writes.
	Part NamePart `json:"part" yaml:"part"`
	// Honorifics are stripped from the front of the name and reported in
	// Result.Honorific; ChildHonorifics too, and they set FlagChild.
	Honorifics      []string `json:"honorifics" yaml:"honorifics"`
	ChildHonorifics []string `json:"child_honorifics" yaml:"child_honorifics"`
	// AttachedHonorifics strips honorifics written without a space
	// (นายสมชาย). An honorific ending in ".", ":" or "ঃ" is always
	// stripped when attached.
	AttachedHonorifics bool `json:"attached_honorifics" yaml:"attached_honorifics"`
	// Single is the part a single-token name goes to; default last (a
	// Salesforce contact needs a last name).
	Single NamePart `json:"single" yaml:"single"`
}

// Honorific lists of the sources in doc/architecture.md §11, read-only.
var (
	ThaiHonorifics      = []string{"นางสาว", "น.ส.", "นาย", "นาง"}
	ThaiChildHonorifics = []string{"ด.ญ.", "ด.ช.", "เด็กหญิง", "เด็กชาย"}
	BengaliHonorifics   = []string{"মোছাঃ", "মোঃ", "মোছা:", "মো:"}
	KhmerHonorifics     = []string{"លោកស្រី", "លោក"}
	SpanishHonorifics   = []string{"Sr.", "Sra.", "Srta.", "Don", "Doña"}
	spanishParticles    = []string{"de", "del", "la", "las", "los", "y", "san", "santa"}
)

// Name is a full name split into parts.
type Name struct {
	First, Last string
	// Honorific is the stripped honorific as configured, or "".
	Honorific string
	// Flags: FlagChild for a child honorific, FlagLowConfidence for a
	// guessed split.
	Flags Flags
}

// NameSplitter splits full names and joins them back under one source's
// conventions.
type NameSplitter struct {
	opts       NameOptions
	honorifics []honorific // longest first
}

type honorific struct {
	text  string
	child bool
	cased bool // has cased letters: matched ignoring case ("sr." = "Sr.")
}

// NewNameSplitter returns a splitter for o.
func NewNameSplitter(o NameOptions) (*NameSplitter, error) {
	switch o.Order {
	case GivenFirst, FamilyFirst, Spanish, UppercaseFamily:
	default:
		return nil, fmt.Errorf("name: unknown order %q (want given_first, family_first, spanish or uppercase_family)", o.Order)
	}
	if o.Single == "" {
		o.Single = PartLast
	}
	if o.Single != PartFirst && o.Single != PartLast {
		return nil, fmt.Errorf("name: single must be first or last")
	}
	s := &NameSplitter{opts: o}
	for _, l := range []struct {
		list  []string
		child bool
	}{{o.Honorifics, false}, {o.ChildHonorifics, true}} {
		for _, h := range l.list {
			if h = Clean(h); h == "" || strings.ContainsFunc(h, isSpace) {
				return nil, fmt.Errorf("name: honorific %q is blank or has a space", h)
			}
			cased := strings.ToLower(h) != strings.ToUpper(h)
			s.honorifics = append(s.honorifics, honorific{h, l.child, cased})
		}
	}
	slices.SortStableFunc(s.honorifics, func(a, b honorific) int { return cmp.Compare(len(b.text), len(a.text)) })
	return s, nil
}

// Split splits a full name. A blank cell gives the zero Name.
func (s *NameSplitter) Split(full string) Name {
	var n Name
	rest := Clean(full)
	for _, h := range s.honorifics {
		if len(rest) <= len(h.text) || !strings.HasPrefix(rest, h.text) && !(h.cased && strings.EqualFold(rest[:len(h.text)], h.text)) {
			continue
		}
		after := rest[len(h.text):]
		r0, _ := firstRuneOf(after)
		last, _ := lastRuneOf(h.text)
		if isSpace(r0) || s.opts.AttachedHonorifics || last == '.' || last == ':' || last == 'ঃ' {
			n.Honorific = h.text
			if h.child {
				n.Flags |= FlagChild
			}
			rest = strings.TrimLeftFunc(after, isSpace)
			break
		}
	}
	var buf [8]span
	toks := fieldSpans(rest, buf[:0])
	tok := func(i int) string { return rest[toks[i].start:toks[i].end] }
	join := func(from, to int) string { return joinSpans(rest, toks[from:to]) }
	switch len(toks) {
	case 0:
		return n
	case 1:
		if s.opts.Single == PartFirst {
			n.First = tok(0)
		} else {
			n.Last = tok(0)
		}
		return n
	}
	switch s.opts.Order {
	case GivenFirst:
		n.First, n.Last = tok(0), join(1, len(toks))
	case FamilyFirst:
		n.Last, n.First = tok(0), join(1, len(toks))
	case UppercaseFamily:
		at := -1
		for i := range toks {
			if isUpperWord(tok(i)) {
				if at >= 0 {
					at = -2
					break
				}
				at = i
			}
		}
		if at < 0 {
			n.Flags |= FlagLowConfidence
			n.Last, n.First = tok(0), join(1, len(toks))
			break
		}
		n.Last = tok(at)
		switch at {
		case 0:
			n.First = join(1, len(toks))
		case len(toks) - 1:
			n.First = join(0, at)
		default:
			n.First = join(0, at) + " " + join(at+1, len(toks))
		}
	case Spanish:
		// Group particles with the token after them: "de la Cruz" is one unit.
		var ubuf [8]int // start token of each unit
		units := ubuf[:0]
		for i := 0; i < len(toks); i++ {
			units = append(units, i)
			for i < len(toks)-1 && isParticle(tok(i)) {
				i++
			}
		}
		u := len(units)
		firstUnits := u - 2
		switch {
		case u == 2:
			firstUnits = 1
		case u == 3:
			firstUnits = 1
			n.Flags |= FlagLowConfidence
		case u == 4:
		default:
			n.Flags |= FlagLowConfidence
		}
		if u < 2 { // all particles and one word: keep it whole as the last name
			n.Last = join(0, len(toks))
			break
		}
		n.First = join(0, units[firstUnits])
		n.Last = join(units[firstUnits], len(toks))
	}
	return n
}

type span struct{ start, end int }

// fieldSpans appends the spans of the white-space separated fields of s.
func fieldSpans(s string, dst []span) []span {
	start := -1
	for i, r := range s {
		if isSpace(r) {
			if start >= 0 {
				dst = append(dst, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, span{start, len(s)})
	}
	return dst
}

// joinSpans returns the fields joined with single spaces: a substring of
// src, without allocating, when they are separated by single spaces there.
func joinSpans(src string, spans []span) string {
	if len(spans) == 0 {
		return ""
	}
	single := true
	for i := 1; i < len(spans); i++ {
		if spans[i].start != spans[i-1].end+1 || src[spans[i-1].end] != ' ' {
			single = false
			break
		}
	}
	if single {
		return src[spans[0].start:spans[len(spans)-1].end]
	}
	var b strings.Builder
	for i, sp := range spans {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(src[sp.start:sp.end])
	}
	return b.String()
}

func isParticle(t string) bool {
	for _, p := range spanishParticles {
		if strings.EqualFold(t, p) {
			return true
		}
	}
	return false
}

// isUpperWord reports a token of two or more letters, all uppercase.
func isUpperWord(t string) bool {
	letters := 0
	for _, r := range t {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters >= 2
}

func firstRuneOf(s string) (rune, bool) {
	for _, r := range s {
		return r, true
	}
	return 0, false
}

func lastRuneOf(s string) (rune, bool) {
	var last rune
	ok := false
	for _, r := range s {
		last, ok = r, true
	}
	return last, ok
}

// Join writes a name back in the source's order, with its honorific in
// front. It is Split's inverse for names whose parts Split would find
// again (see NameTransform.Merge, which checks).
func (s *NameSplitter) Join(n Name) string {
	var parts [3]string
	p := parts[:0]
	if n.Honorific != "" && (n.First != "" || n.Last != "") {
		p = append(p, n.Honorific)
	}
	switch s.opts.Order {
	case FamilyFirst:
		p = append(p, n.Last, n.First)
	case UppercaseFamily:
		p = append(p, n.Last, n.First)
	default:
		p = append(p, n.First, n.Last)
	}
	var b strings.Builder
	for _, x := range p {
		if x == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

// NewName returns the "name" transform: Parse returns the configured part
// of the cell's name as text (null when the name has no such part), with
// the stripped honorific and FlagChild/FlagLowConfidence in the Result. It
// is Lossy: the cell holds more than one part. Merge writes a part back
// into the current cell; Format is Merge into a blank cell.
func NewName(o NameOptions) (Transform, error) {
	if o.Part != PartFirst && o.Part != PartLast {
		return nil, fmt.Errorf("name: part must be first or last")
	}
	s, err := NewNameSplitter(o)
	if err != nil {
		return nil, err
	}
	return &NameTransform{s: s, hash: hashOptions("name", s.opts)}, nil
}

// NameTransform is the "name" transform; see NewName.
type NameTransform struct {
	s    *NameSplitter
	hash string
}

// Kind returns "name".
func (t *NameTransform) Kind() string { return "name" }

// Lossy returns true: a name cell holds honorific, order and both parts.
func (t *NameTransform) Lossy() bool { return true }

// Hash identifies the configured transform.
func (t *NameTransform) Hash() string { return t.hash }

// Group identifies the name layout (order, honorifics), whatever the
// part: thai_name.first and thai_name.last share a group.
func (t *NameTransform) Group() string {
	o := t.s.opts
	o.Part = ""
	return hashOptions("name", o)
}

// Part returns the part the transform writes ("first" or "last").
func (t *NameTransform) Part() string { return string(t.s.opts.Part) }

// Splitter returns the transform's splitter.
func (t *NameTransform) Splitter() *NameSplitter { return t.s }

func (t *NameTransform) part(n Name) string {
	if t.s.opts.Part == PartFirst {
		return n.First
	}
	return n.Last
}

// Parse reads the configured part of a full-name cell.
func (t *NameTransform) Parse(cell string) (Result, error) {
	n := t.s.Split(cell)
	r := Result{Flags: n.Flags, Honorific: n.Honorific}
	if p := t.part(n); p != "" {
		r.Value = connector.Text(p)
	}
	return r, nil
}

// Format is Merge into a blank cell.
func (t *NameTransform) Format(v connector.Value) (string, error) { return t.Merge("", v) }

// Merge returns current with the configured part replaced by v, keeping
// the other part and the honorific. It refuses (a *connector.ValueError)
// a value that would not read back the same: a first name without a last
// name, or a part the source's order would split differently.
func (t *NameTransform) Merge(current string, v connector.Value) (string, error) {
	var p string
	switch v.Kind() {
	case connector.KindNull:
	case connector.KindText:
		p, _ = v.Text()
	default:
		return "", wrongKind(v, "name")
	}
	n := t.s.Split(current)
	if t.s.opts.Part == PartFirst {
		n.First = p
	} else {
		n.Last = p
	}
	out := t.s.Join(n)
	back := t.s.Split(out)
	if back.First != n.First || back.Last != n.Last {
		return "", invalid("expected a name part that reads back the same in this source's name order (" + string(t.s.opts.Order) + "), with a last name whenever there is a first name")
	}
	return out, nil
}
