package scaffold

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sheet"
)

// gen holds what Generate decided, for render.
type gen struct {
	o        Options
	t        *table
	obj      *connector.Object
	key      *column
	keyField *connector.Field
	preview  *sheet.Preview
	sum      *Summary

	keyPattern string
	rules      []*rule
	unmatched  []unmatched
	required   []string
}

// rule is one field rule to write.
type rule struct {
	col       *column
	field     *connector.Field
	how       string
	pii       string
	check     bool // matched through the table of known headers
	direction string
	transform string
	values    []valueMatch
	yesNo     string
	date      *dateGuess
	scale     int
	currency  string
	country   string
	// disabled rules are written as comments: a person must finish them
	// (a value map none of whose words matched).
	disabled bool
	// todo are lines written above the rule, each a "TODO:" for a person.
	todo []string
}

type unmatched struct {
	header string
	col    *column
	notes  []string
}

// picklistMaxWords bounds the distinct words of a column that gets a
// value map: more are free text (names, notes), never copied into the
// configuration.
const picklistMaxWords = 40

// maxWordLen bounds a value-map word; a longer cell is free text.
const maxWordLen = 60

func (g *gen) plan() {
	taken := map[string]bool{}
	if pat := keyPattern(g.key.cells); pat != "" {
		g.keyPattern = pat
		g.sum.KeyPattern = true
	}
	nameCol := (*column)(nil)
	for _, c := range g.t.columns {
		f, byConcept := matchField(g.obj, c.header, taken)
		if cp := conceptOf(c.header); cp != nil && cp.id == "name" && nameCol == nil && c != g.key {
			nameCol = c
		}
		if f == nil {
			if c != g.key && c != nameCol {
				g.unmatched = append(g.unmatched, unmatched{header: c.header, col: c})
			}
			continue
		}
		taken[f.Name] = true
		r := &rule{col: c, field: f, check: byConcept, pii: suggestPII(f)}
		if c == g.key {
			// The key column is the record's identity: read into
			// Salesforce, never classified (validate refuses a key
			// column a rule classifies).
			r.direction, r.pii = "to_salesforce", ""
		}
		g.convert(r)
		g.rules = append(g.rules, r)
	}
	if nameCol != nil {
		g.nameRules(nameCol, taken)
	}
	for i := range g.unmatched {
		if c := g.unmatched[i].col; c != nil {
			g.unmatched[i].notes = g.columnNotes(c, taken)
		}
	}
	for _, f := range g.obj.Fields {
		if !f.Nillable && f.Createable && !f.Defaulted && f.Type != connector.TypeBoolean && !taken[f.Name] && f.Name != g.keyField.Name {
			g.required = append(g.required, f.Name)
		}
	}
	for _, r := range g.rules {
		g.sum.Matched = append(g.sum.Matched, Match{Column: r.col.header, Field: r.field.Name, How: r.how, PII: r.pii, Check: r.check})
		g.sum.TODOs += len(r.todo)
		if r.disabled {
			g.sum.TODOs++
		}
	}
	for _, u := range g.unmatched {
		g.sum.Unmatched = append(g.sum.Unmatched, u.header)
	}
	g.sum.TODOs += len(g.required)
}

// convert chooses the rule's conversion from the field's type and the
// column's cells.
func (g *gen) convert(r *rule) {
	c, f := r.col, r.field
	r.how = "text"
	switch f.Type {
	case connector.TypePicklist, connector.TypeMultiPicklist:
		r.how = "values"
		words, counts := c.words, c.counts
		if f.Type == connector.TypeMultiPicklist {
			words, counts = splitWords(c.cells)
		}
		switch {
		case len(words) == 0:
			r.todo = append(r.todo, "TODO: no word in the sample: add values: {word: value} for the words this column holds")
		case !picklistLike(words, counts, g.t.rows):
			r.todo = append(r.todo, fmt.Sprintf("TODO: %d different words in %d rows: free text rather than a picklist? map its words with values: by hand, or drop this rule", len(words), g.t.rows))
			r.disabled = true
		default:
			r.values = matchValues(words, counts, f.Picklist)
			ok, todo := 0, 0
			for _, v := range r.values {
				if v.sf != "" {
					ok++
				} else {
					todo++
				}
			}
			g.sum.ValueMaps++
			g.sum.Words += ok
			g.sum.ToMap += todo
			g.sum.TODOs += todo
			if ok == 0 {
				r.disabled = true
				r.todo = append(r.todo, "TODO: no word matched a value of "+f.Name+": map them below, then remove the # before the rule's lines")
			}
		}
	case connector.TypeBoolean:
		r.how = "yes_no"
		g.sum.YesNo++
		var unknown []string
		r.yesNo, unknown = yesNoPreset(g.t.script, c.words)
		switch {
		case len(unknown) == 0: // every word is the preset's
		case picklistLike(c.words, c.counts, g.t.rows):
			r.todo = append(r.todo, fmt.Sprintf("TODO: map this word: %d word(s) of this column are not in the %s preset (quoted below); list yes, no and unknown words: yes_no: {yes: [...], no: [...], unknown: [...]}", len(unknown), r.yesNo))
			for _, w := range unknown {
				r.todo = append(r.todo, "  "+quote(w))
			}
		default:
			// Free text matched to a checkbox (a "Disability" column of
			// notes): its cells are personal, so only their count is
			// written.
			r.todo = append(r.todo, fmt.Sprintf("TODO: %d word(s) of this column are not in the %s preset and read as free text (not copied here): list the yes, no and unknown words it holds: yes_no: {yes: [...], no: [...], unknown: [...]}, or drop this rule", len(unknown), r.yesNo))
		}
	case connector.TypeDate:
		r.how = "date"
		d, ok := guessDates(c.cells, g.t.script, g.o.ThisYear)
		if !ok {
			r.todo = append(r.todo, "TODO: the sample's cells do not read as dates: add date: {formats: [02/01/2006]} with this column's layout")
			break
		}
		g.sum.Dates++
		r.date = &d
		switch {
		case d.conflict:
			r.todo = append(r.todo, "TODO: some dates are written day first, others month first: check the order")
		case !d.evidence && hasNumericLayout(d.formats):
			r.todo = append(r.todo, "TODO: no date in the sample has a day above 12: day first is assumed; check it")
		}
		if d.twoDigits && d.era == "" {
			r.todo = append(r.todo, "TODO: two-digit years: check whether they are Buddhist Era (then era: buddhist)")
		}
	case connector.TypeInt, connector.TypeDouble, connector.TypeCurrency, connector.TypePercent:
		r.how = "number"
		if cp := conceptOf(c.header); cp != nil && cp.id == "age" {
			r.how, r.transform = "age", "age"
			r.direction = "to_salesforce" // "13-14" and "approx 14" read, but cannot be written back as typed
			break
		}
		r.scale = f.Scale
		r.currency = currencyOf(c.header + " " + strings.Join(c.words, " "))
	case connector.TypePhone:
		r.how = "phone"
		r.country = map[string]string{"th": "66", "km": "855", "bn": "880"}[g.t.script]
		if r.country == "" {
			r.todo = append(r.todo, "TODO: add phone: {country: NN} (the calling code of numbers written without one) to write E.164")
		}
	}
}

// nameRules splits a full-name column into the object's first and last
// name fields with the name transform of the sheet's language.
func (g *gen) nameRules(c *column, taken map[string]bool) {
	var first, last *connector.Field
	for i := range g.obj.Fields {
		f := &g.obj.Fields[i]
		if taken[f.Name] || !f.Createable && !f.Updateable {
			continue
		}
		switch nameKey(f.Name) {
		case "firstname", "givenname":
			first = f
		case "lastname", "familyname", "surname":
			last = f
		}
	}
	if first == nil || last == nil {
		if !slices.ContainsFunc(g.rules, func(r *rule) bool { return r.col == c }) {
			g.unmatched = append(g.unmatched, unmatched{header: c.header})
		}
		return
	}
	prefix := map[string]string{"th": "thai_name", "km": "khmer_name", "bn": "bengali_name", "es": "spanish_name"}[g.t.script]
	if prefix == "" {
		prefix = "name"
	}
	// After the column's own rule, if it has one.
	at := len(g.rules)
	if i := slices.IndexFunc(g.rules, func(r *rule) bool { return r.col == c }); i >= 0 {
		at = i + 1
	}
	var split []*rule
	for _, p := range []struct {
		f    *connector.Field
		part string
	}{{first, "first"}, {last, "last"}} {
		taken[p.f.Name] = true
		split = append(split, &rule{col: c, field: p.f, how: "name", pii: "direct", check: true, direction: "to_salesforce",
			transform: prefix + "." + p.part})
	}
	g.rules = slices.Insert(g.rules, at, split...)
}

// columnNotes says what an unmatched column looks like, without a value.
func (g *gen) columnNotes(c *column, taken map[string]bool) []string {
	var notes []string
	if d, ok := guessDates(c.cells, g.t.script, g.o.ThisYear); ok {
		notes = append(notes, "dates: "+strings.Join(d.formats, ", "))
	} else if yesNoColumn(c.words) {
		notes = append(notes, "yes/no words")
	}
	if s := suggestions(g.obj, c.header, taken); len(s) > 0 {
		notes = append(notes, "maybe "+strings.Join(s, ", "))
	}
	return notes
}

// picklistLike reports whether a column's words are few enough, and
// short enough, to be a picklist's spellings rather than free text, so
// that init may copy them into the configuration. Counts holds how often
// each word (by its folded form) was seen, rows the sample's rows.
//
// The rule holds at any sample size:
//   - at most picklistMaxWords distinct words, none longer than
//     maxWordLen or spanning lines;
//   - from ten rows on, the words repeat: at most six distinct words per
//     ten rows (names and notes are nearly all different);
//   - a word seen once looks like a spelling (spellingLike): short, no
//     digit, at most three space-separated parts. A small sample repeats
//     little (four status words in four rows), so its words are judged by
//     their shape; a note typed once into a yes/no column fails it.
//
// A repeated word is taken as a spelling whatever its shape ("Grade 3"
// in two rows). A short name typed once into a small sample reads as a
// spelling: shape cannot tell a two-word name from "En verificación".
func picklistLike(words []string, counts map[string]int, rows int) bool {
	if len(words) > picklistMaxWords {
		return false
	}
	for _, w := range words {
		if len([]rune(w)) > maxWordLen || strings.ContainsAny(w, "\n\r") {
			return false
		}
	}
	// Many rows, nearly every one different: names or notes.
	if rows >= 10 && len(words)*10 > rows*6 {
		return false
	}
	for _, w := range words {
		if counts[fold(w)] < 2 && !spellingLike(w) {
			return false
		}
	}
	return true
}

// spellingMaxLen and spellingMaxParts bound a word seen once that init
// copies: the longest spellings it knows ("household registration",
// "partida de nacimiento", "ถอนความยินยอม") fit; a sentence does not.
const (
	spellingMaxLen   = 32
	spellingMaxParts = 3
)

// spellingLike reports whether a word has the shape of a picklist
// spelling: at most spellingMaxLen characters and spellingMaxParts
// space-separated parts, and no digit of any script (dates, years, phone
// numbers and ages are what a note holds).
func spellingLike(w string) bool {
	if len([]rune(w)) > spellingMaxLen || len(strings.Fields(w)) > spellingMaxParts {
		return false
	}
	return !strings.ContainsFunc(w, unicode.IsDigit)
}

func hasNumericLayout(formats []string) bool {
	for _, f := range formats {
		if !strings.HasPrefix(f, "2006") && !strings.Contains(f, "Jan") {
			return true
		}
	}
	return false
}

// currencyOf returns the ISO code of a currency symbol a column's header
// or cells carry.
func currencyOf(s string) string {
	for sym, code := range map[string]string{"฿": "THB", "৳": "BDT", "៛": "KHR"} {
		if strings.Contains(s, sym) {
			return code
		}
	}
	return ""
}

var keyRunRE = regexp.MustCompile(`[0-9]+|[A-Za-z]+|.`)

// keyPattern returns a regular expression every sampled key matches, made
// of their shape (TH-CL-0007: ^[A-Za-z]+-[A-Za-z]+-[0-9]+$), when at
// least three keys share one shape; "" otherwise. It keeps a name typed
// into a key cell out of Salesforce.
func keyPattern(keys []string) string {
	if len(keys) < 3 {
		return ""
	}
	shape := func(k string) string {
		var b strings.Builder
		for _, run := range keyRunRE.FindAllString(k, -1) {
			r := []rune(run)[0]
			switch {
			case r >= '0' && r <= '9':
				b.WriteString("[0-9]+")
			case r < unicode.MaxASCII && unicode.IsLetter(r):
				b.WriteString("[A-Za-z]+")
			case r == '-' || r == '_' || r == '/' || r == '.':
				b.WriteString(regexp.QuoteMeta(run))
			default:
				return "" // spaces, other scripts: no pattern
			}
		}
		return "^" + b.String() + "$"
	}
	p := shape(keys[0])
	if p == "" {
		return ""
	}
	for _, k := range keys[1:] {
		if shape(k) != p {
			return ""
		}
	}
	return p
}
