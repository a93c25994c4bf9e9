package scaffold

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/sheet"
	"github.com/casebridge/casebridge/mapping"
)

// column is what the sample says about one column. Its values are cell
// texts: they are used to decide, and written into the configuration only
// as value-map words; they never reach the summary.
type column struct {
	index  int
	header string // as the sheet connector names it: trimmed, spaces collapsed, " (2)" for a repeat
	cells  []string
	// words are the distinct cleaned cells, in first-seen order, by their
	// folded form; counts how often each folded form was seen.
	words  []string
	counts map[string]int
	empty  int // data rows whose cell is blank
}

// table is a sheet's header and sampled data rows.
type table struct {
	headerRow int
	columns   []*column
	rows      int // data rows sampled
	script    string
}

// readTable finds the header row among the previewed rows and gathers
// the data rows under it. header, when not 0, is the header row's number.
func readTable(p *sheet.Preview, header int) (*table, bool) {
	hi := findHeader(p.Rows, header)
	if hi < 0 {
		return nil, false
	}
	hr := p.Rows[hi]
	t := &table{headerRow: hr.Num}
	seen := map[string]bool{}
	for i, cell := range hr.Cells {
		name := normHeader(cell)
		if name == "" {
			continue
		}
		base := name
		for n := 2; seen[fold(name)]; n++ {
			name = base + " (" + strconv.Itoa(n) + ")"
		}
		seen[fold(name)] = true
		t.columns = append(t.columns, &column{index: i, header: name, counts: map[string]int{}})
	}
	scripts := map[string]int{}
	countScripts(scripts, strings.Join(hr.Cells, " "))
	for _, r := range p.Rows[hi+1:] {
		if r.Bad || isBlank(r.Cells) || filled(r.Cells) < 2 || repeatsHeader(r.Cells, hr.Cells) {
			continue // a label row (เมษายน 2567), a spacer, the header again
		}
		t.rows++
		for _, c := range t.columns {
			v := ""
			if c.index < len(r.Cells) {
				v = mapping.Clean(r.Cells[c.index])
			}
			c.cells = append(c.cells, v)
			if v == "" {
				c.empty++
				continue
			}
			k := fold(v)
			if c.counts[k] == 0 {
				c.words = append(c.words, v)
			}
			c.counts[k]++
			countScripts(scripts, v)
		}
	}
	t.script = topScript(scripts)
	return t, true
}

// findHeader returns the index of the header row: the given row number,
// or the first of the first 50 rows holding at least two distinct texts
// and most of the widest row's cells (a merged title row above it holds
// one cell).
func findHeader(rows []sheet.PreviewRow, num int) int {
	if num > 0 {
		for i, r := range rows {
			if r.Num == num {
				return i
			}
		}
		return -1
	}
	widest := 0
	for i, r := range rows {
		if i >= 50 {
			break
		}
		widest = max(widest, filled(r.Cells))
	}
	for i, r := range rows {
		if i >= 50 {
			break
		}
		n := filled(r.Cells)
		if n < 2 || n*10 < widest*6 || r.Bad {
			continue
		}
		texts, distinct := 0, map[string]bool{}
		for _, c := range r.Cells {
			c = normHeader(c)
			if c == "" {
				continue
			}
			distinct[fold(c)] = true
			if !numberLike(c) && !dateLike(c) {
				texts++
			}
		}
		if len(distinct) == n && texts*2 >= n {
			return i
		}
	}
	return -1
}

func filled(cells []string) int {
	n := 0
	for _, c := range cells {
		if connector.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

func isBlank(cells []string) bool { return filled(cells) == 0 }

// repeatsHeader reports a row that repeats most of the header's cells
// (a header copied above each month's block).
func repeatsHeader(cells, header []string) bool {
	same, n := 0, 0
	for i, h := range header {
		if normHeader(h) == "" {
			continue
		}
		n++
		if i < len(cells) && fold(cells[i]) == fold(h) {
			same++
		}
	}
	return n > 0 && same*2 > n
}

// normHeader names a header cell as the sheet connector does.
func normHeader(s string) string {
	return strings.Join(strings.FieldsFunc(connector.NormalizeKey(s), func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff'
	}), " ")
}

// fold is the form in which words are compared: cleaned, spaces
// collapsed, lower case.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(mapping.Clean(s)), " "))
}

var (
	numberRE = regexp.MustCompile(`^[-+]?[0-9][0-9,.' ]*$`)
	dateRE   = regexp.MustCompile(`^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}$`)
)

func numberLike(s string) bool { return numberRE.MatchString(mapping.Clean(s)) }
func dateLike(s string) bool   { return dateRE.MatchString(mapping.Clean(s)) }

// countScripts counts the letters of each script init cares about: it
// chooses yes/no presets, name transforms, eras and phone countries.
func countScripts(m map[string]int, s string) {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Thai, r):
			m["th"]++
		case unicode.Is(unicode.Khmer, r):
			m["km"]++
		case unicode.Is(unicode.Bengali, r):
			m["bn"]++
		case r == 'ñ' || r == 'á' || r == 'é' || r == 'í' || r == 'ó' || r == 'ú' || r == '¿' || r == '¡':
			m["es"] += 20 // a few accents say Spanish among Latin letters
		case unicode.Is(unicode.Latin, r):
			m["en"]++
		}
	}
}

// topScript is the sheet's language as far as letters tell: Thai, Khmer
// or Bengali when their letters are at least a quarter of the letters
// (partner sheets mix English into their own language), Spanish when
// Latin letters carry Spanish accents, English otherwise.
func topScript(m map[string]int) string {
	best, n := "", 0
	for _, s := range []string{"th", "km", "bn"} {
		if m[s] > n {
			best, n = s, m[s]
		}
	}
	switch {
	case n > 0 && n*3 >= m["en"]:
		return best
	case m["es"] > 0:
		return "es"
	}
	return "en"
}
