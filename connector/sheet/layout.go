package sheet

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/connector"
)

// rawRow is one physical row of a sheet, as either reader gives it.
type rawRow struct {
	num   int      // 1-based row number as the spreadsheet program shows it
	cells []string // cell texts (CSV guard stripped)
	bad   string   // why the row could not be decoded, never a value
	// badCol is the column where decoding failed
	badCol int
	// CSV only: the file line the row starts on and how many lines it
	// spans (0 when unknown), the whole lines inside its quoted cells (see
	// csvRecord) and the delimiter.
	line, lines int
	quoted      []quotedLine
	delim       rune
}

// unguarded moves the quoted lines of cells whose injection guard was
// stripped (raw holds the cells as read) onto the stripped text.
func (r *rawRow) unguarded(raw []string) {
	for i := range r.quoted {
		q := &r.quoted[i]
		if q.field < len(raw) && q.field < len(r.cells) {
			d := len(raw[q.field]) - len(r.cells[q.field])
			q.start, q.end = max(q.start-d, 0), max(q.end-d, 0)
		}
	}
}

// headerScanLimit is how many rows header detection looks at.
const headerScanLimit = 50

// layout is what the header row says about a sheet.
type layout struct {
	row    int      // header row number
	cells  []string // header cell texts as found
	names  []string // field name per column; "" for a column with no field
	index  map[string]int
	key    int // column of the key
	mark   int // column of the delete mark, -1 if absent
	status int // column of the sync status, -1 if absent
	width  int // columns a data row must have (last field column + 1)
}

// normHeader is the field name of a header cell: NFC, white space
// (including line breaks inside the cell) collapsed to single spaces.
func normHeader(s string) string {
	return strings.Join(strings.FieldsFunc(connector.NormalizeKey(s), isSpaceRune), " ")
}

func isSpaceRune(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

func fold(s string) string { return connector.KeyID(normHeader(s), false) }

// isHeader reports whether the row is the header row: the configured row
// number, or the first row holding the key column's name.
func (c *sheetConf) isHeader(r *rawRow) bool {
	if c.HeaderRow > 0 {
		return r.num == c.HeaderRow
	}
	want := fold(c.Key)
	for _, cell := range r.cells {
		if fold(cell) == want {
			return true
		}
	}
	return false
}

// newLayout builds the layout from the header row. merged maps a column
// of an empty header cell to the column whose text spans it (XLSX merged
// cells). A missing key or required column is a fatal error naming file,
// sheet and column.
func (c *sheetConf) newLayout(r *rawRow, merged map[int]int) (*layout, error) {
	l := &layout{row: r.num, cells: slices.Clone(r.cells), index: map[string]int{}, key: -1, mark: -1, status: -1}
	n := len(r.cells)
	for col := range merged { // a merged header may span past the last cell
		n = max(n, col+1)
	}
	for len(l.cells) < n {
		l.cells = append(l.cells, "")
	}
	l.names = make([]string, n)
	for i, cell := range l.cells {
		name := normHeader(cell)
		if name == "" {
			if src, ok := merged[i]; ok && src < len(r.cells) {
				name = normHeader(r.cells[src])
			}
		}
		if name == "" {
			continue
		}
		base := name
		for n := 2; ; n++ { // duplicate header names: "Date", "Date (2)"
			if _, dup := l.index[fold(name)]; !dup {
				break
			}
			name = base + " (" + strconv.Itoa(n) + ")"
		}
		l.index[fold(name)] = i
		l.names[i] = name
	}
	col := func(name string) int {
		if i, ok := l.index[fold(name)]; ok {
			return i
		}
		return -1
	}
	if l.key = col(c.Key); l.key < 0 {
		return nil, c.missingColumn(c.Key, r.num)
	}
	for _, req := range c.Columns {
		if col(req) < 0 {
			return nil, c.missingColumn(req, r.num)
		}
	}
	if c.Delete == DeleteMark {
		l.mark = col(c.DeleteColumn)
	}
	if c.StatusColumn != "" {
		l.status = col(c.StatusColumn)
	}
	for i, n := range l.names {
		if n != "" && i != l.mark && i != l.status {
			l.width = i + 1
		}
	}
	return l, nil
}

// isKeyHeader reports whether a key cell holds the key column's header
// (a repeated header row). Folding is costly: cells whose length is far
// from the header's are not folded.
func (l *layout) isKeyHeader(cell string) bool {
	h := l.cells[l.key]
	if d := len(connector.TrimSpace(cell)) - len(connector.TrimSpace(h)); d > 8 || d < -8 {
		return false
	}
	if isASCII(cell) && isASCII(h) {
		return asciiTokensEqualFold(cell, h)
	}
	return fold(cell) == fold(h)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiTokensEqualFold compares two ASCII strings as fold does: white
// space runs collapsed and trimmed, case ignored, without allocating.
func asciiTokensEqualFold(a, b string) bool {
	next := func(s string, i int) (string, int) {
		for i < len(s) && isSpaceRune(rune(s[i])) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceRune(rune(s[j])) {
			j++
		}
		return s[i:j], j
	}
	i, j := 0, 0
	for {
		var x, y string
		x, i = next(a, i)
		y, j = next(b, j)
		if x == "" || y == "" {
			return x == y
		}
		if !strings.EqualFold(x, y) {
			return false
		}
	}
}

// field reports whether column i is a field of the object (not a column
// the connector manages).
func (l *layout) field(i int) bool {
	return i < len(l.names) && l.names[i] != "" && i != l.mark && i != l.status
}

// where names the file (and sheet) for messages.
func (c *sheetConf) where() string {
	if c.format == formatXLSX {
		return fmt.Sprintf("%s sheet %q", c.Path, c.Sheet)
	}
	return c.Path
}

func (c *sheetConf) missingColumn(col string, row int) error {
	return &connector.RecordError{
		Op: "read", Connector: c.conn, Object: c.Object, Field: col,
		Code: connector.CodeUnknownField, Class: connector.Fatal,
		Err: fmt.Errorf("%s: column %q not found in header row %d (renamed or removed?): %w", c.where(), col, row, connector.ErrFieldNotFound),
	}
}

func (c *sheetConf) noHeader() error {
	what := fmt.Sprintf("no row within the first %d holds the key column %q", headerScanLimit, c.Key)
	if c.HeaderRow > 0 {
		what = fmt.Sprintf("the file has no row %d", c.HeaderRow)
	}
	return &connector.RecordError{
		Op: "read", Connector: c.conn, Object: c.Object, Field: c.Key,
		Code: connector.CodeUnknownField, Class: connector.Fatal,
		Err: fmt.Errorf("%s: header row not found: %s: %w", c.where(), what, connector.ErrFieldNotFound),
	}
}

// rowKind classifies a row after the header.
type rowKind uint8

const (
	rowSkip   rowKind = iota // blank, repeated header, single-cell label
	rowData                  // a record (possibly with an error)
	rowMarked                // marked deleted
)

// classify tells data rows from rows to skip.
func (c *sheetConf) classify(l *layout, r *rawRow) rowKind {
	nonEmpty, only := 0, -1
	for i, cell := range r.cells {
		if connector.TrimSpace(cell) != "" {
			nonEmpty++
			only = i
		}
	}
	switch {
	case nonEmpty == 0 && r.bad == "":
		return rowSkip
	case l.key < len(r.cells) && l.isKeyHeader(r.cells[l.key]) && r.bad == "":
		return rowSkip // the header row, repeated where rows were pasted in
	case nonEmpty == 1 && only != l.key && r.bad == "" && (len(r.quoted) == 0 || c.swallowed(l, r) == 0):
		return rowSkip // a label row ("เมษายน 2567") or a merged title
	case l.mark >= 0 && l.mark < len(r.cells) && strings.EqualFold(connector.TrimSpace(r.cells[l.mark]), c.DeleteValue) &&
		r.bad == "" && l.wider(r) < 0 && (len(r.quoted) == 0 || c.swallowed(l, r) == 0):
		return rowMarked
	}
	return rowData
}

// rowProblem is why a data row cannot be used: an error code, the column
// concerned and what was expected (never a value).
type rowProblem struct {
	code   connector.Code
	col    int
	detail string
}

// rowKey returns the key of a data row, and what is wrong with the row if
// anything (code "" when nothing).
func (c *sheetConf) rowKey(l *layout, r *rawRow) (string, rowProblem) {
	key := ""
	if l.key < len(r.cells) {
		key = connector.NormalizeKey(r.cells[l.key])
	}
	switch {
	case r.bad != "":
		return key, rowProblem{connector.CodeRowUnreadable, r.badCol, r.bad}
	case c.format == formatCSV && c.swallowed(l, r) > 0:
		return key, rowProblem{connector.CodeRowUnreadable, r.quoted[0].field, fmt.Sprintf(
			"a quoted cell runs over %d line(s) that read as rows of their own (the row spans lines %d-%d): an unclosed quote swallows the rows after it; close the quote in the file",
			c.swallowed(l, r), r.line, r.line+r.lines-1)}
	case c.format == formatCSV && len(r.cells) < l.width: // a workbook row simply omits empty cells
		col := len(r.cells)
		for col < len(l.names) && !l.field(col) {
			col++
		}
		return key, rowProblem{connector.CodeRowUnreadable, col, fmt.Sprintf("the row has %d columns, the header %d", len(r.cells), l.width)}
	case c.format == formatCSV && l.wider(r) >= 0:
		return key, rowProblem{connector.CodeRowUnreadable, l.wider(r), fmt.Sprintf(
			"the row has %d cells, the header %d: a delimiter typed inside a cell that is not quoted splits it and moves the cells after it; quote the cell or remove the extra cells", len(r.cells), len(l.cells))}
	case key != "" && connector.CheckKey(key, 0) != nil:
		return "", badKey(l, connector.CheckKey(key, 0)) // never the key's text
	case key == "":
		return "", rowProblem{connector.CodeInvalidKey, l.key, "the key cell is empty"}
	case c.keyRE != nil && !c.keyRE.MatchString(key):
		// Not a key: whatever was typed there (a label, a name) stays out
		// of the error.
		return "", rowProblem{connector.CodeInvalidKey, l.key, "the key cell does not match key_pattern"}
	}
	return key, rowProblem{}
}

// swallowed returns how many whole lines inside the row's quoted cells
// read as rows of the sheet, as a person looking at the file would see
// them: at least as many cells as a data row must have, and in the key
// column a cell that looks like a key (it matches key_pattern; or it has
// the shape of the row's own key, letters and digits where the key has
// them, C-09 like C-1; or, for a row without a key, it holds a digit and
// no space). Such a row is what an unclosed quote leaves: a cell that holds
// the rows after it. A note with line breaks and commas ("mother, father,
// sister") does not start its lines with case ids.
func (c *sheetConf) swallowed(l *layout, r *rawRow) int {
	n := 0
	own := ""
	if l.key < len(r.cells) {
		own = connector.NormalizeKey(r.cells[l.key])
	}
	for _, q := range r.quoted {
		if q.field >= len(r.cells) || q.end > len(r.cells[q.field]) || q.start > q.end {
			continue
		}
		line := r.cells[q.field][q.start:q.end]
		cells := strings.Split(line, string(r.delim))
		if len(cells) < max(l.width, 2) || l.key >= len(cells) {
			continue
		}
		if c.looksLikeKey(cells[l.key], own) {
			n++
		}
	}
	return n
}

// looksLikeKey reports whether a cell of a line inside a quoted cell looks
// like a key of this sheet (see swallowed).
func (c *sheetConf) looksLikeKey(cell, own string) bool {
	k := connector.NormalizeKey(cell)
	if k == "" || len(k) > 64 || strings.ContainsFunc(k, unicode.IsSpace) {
		return false
	}
	switch {
	case c.keyRE != nil:
		return c.keyRE.MatchString(k)
	case own != "":
		return keyShape(k) == keyShape(own)
	}
	return strings.ContainsFunc(k, unicode.IsDigit)
}

// keyShape is a key with each run of letters written "a" and each run of
// digits "9", other characters kept: TH-CL-0007 and TH-CL-12 are both
// a-a-9.
func keyShape(k string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range k {
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			r = 'a'
		case unicode.IsDigit(r):
			r = '9'
		}
		if (r == 'a' || r == '9') && r == prev {
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// wider returns the first column past the header row that holds text, or
// -1: a row wider than its header has cells in no column.
func (l *layout) wider(r *rawRow) int {
	for i := len(l.cells); i < len(r.cells); i++ {
		if connector.TrimSpace(r.cells[i]) != "" {
			return i
		}
	}
	return -1
}

// damaged reports whether p makes the file one casebridge does not write
// to: a row it could not read whole may hide other rows (an unclosed quote)
// or may shift into the wrong columns, and an append or a cell written
// into such a file could land inside it.
func (p rowProblem) damaged() bool { return p.code == connector.CodeRowUnreadable }

// rowError is the error of a row that could not be read, naming file,
// row and column (rowDetail).
func (c *sheetConf) rowError(l *layout, r *rawRow, key string, p rowProblem) error {
	field := ""
	if p.col >= 0 && p.col < len(l.names) {
		field = l.names[p.col]
		if field == "" {
			field = columnLetter(p.col)
		}
	}
	return &connector.RecordError{
		Op: "read", Connector: c.conn, Object: c.Object, Key: key, Field: field,
		Code: p.code, Class: connector.Permanent,
		Err: &connector.ValueError{Code: p.code, Detail: c.rowDetail(r, p)},
	}
}

// rowDetail says where a row's problem is and what it is: file (and
// sheet), row, column, and for a CSV row that is not on the line of the
// same number or spans lines, its line.
func (c *sheetConf) rowDetail(r *rawRow, p rowProblem) string {
	at := fmt.Sprintf("row %d", r.num)
	if r.line > 0 && (r.line != r.num || r.lines > 1) {
		at = fmt.Sprintf("row %d (line %d)", r.num, r.line)
	}
	return fmt.Sprintf("%s %s column %s: %s", c.where(), at, columnLetter(p.col), p.detail)
}

// columnLetter is a column's name as a spreadsheet program shows it: A,
// B, ..., Z, AA.
func columnLetter(col int) string {
	if col < 0 {
		return "?"
	}
	s := ""
	for col++; col > 0; col = (col - 1) / 26 {
		s = string(rune('A'+(col-1)%26)) + s
	}
	return s
}

// record builds the Record of a data row: every field column as text in
// NFC, empty cells as null.
func (l *layout) record(key string, r *rawRow) connector.Record {
	rec := connector.Record{Key: key, Fields: make(map[string]connector.Value, len(l.index))}
	for i, name := range l.names {
		if !l.field(i) {
			continue
		}
		v := connector.Null()
		if i < len(r.cells) && r.cells[i] != "" {
			v = connector.Text(norm.NFC.String(r.cells[i]))
		}
		rec.Fields[name] = v
	}
	rec.Fields[l.names[l.key]] = connector.Text(key)
	return rec
}

// keySeed hashes key IDs for duplicate detection.
var keySeed = maphash.MakeSeed()

// keyHash hashes the KeyID of a key (in NormalizeKey form). ASCII keys,
// the usual case ids, are folded on the stack: KeyID's Unicode case
// folding allocates, and a read hashes every key twice.
func keyHash(key string) uint64 {
	var buf [64]byte
	if len(key) <= len(buf) {
		for i := 0; i < len(key); i++ {
			c := key[i]
			if c >= utf8.RuneSelf {
				return maphash.String(keySeed, connector.KeyID(key, false))
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		return maphash.Bytes(keySeed, buf[:len(key)])
	}
	return maphash.String(keySeed, connector.KeyID(key, false))
}

// dupSet finds the hashes that occur more than once. It sorts hs.
func dupSet(hs []uint64) map[uint64]bool {
	slices.Sort(hs)
	dups := map[uint64]bool{}
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			dups[hs[i]] = true
		}
	}
	return dups
}

var textField = connector.Field{Type: connector.TypeString}

// cellText is the text a value is written as: its canonical form in a
// text field (NFC, numbers without trailing zeros, datetimes in whole
// seconds, null as ""), or for a multi-select of several values the values
// joined with ";".
func cellText(v connector.Value) string {
	if cv, err := connector.Canonicalize(v, &textField); err == nil {
		s, _ := cv.Text()
		return s
	}
	return norm.NFC.String(v.Raw())
}
