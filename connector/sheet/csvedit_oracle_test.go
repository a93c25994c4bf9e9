package sheet

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// wholeCSVEditor is the editor csvEditor replaced, kept as the oracle of
// its output: it parses the whole file into memory and splices changed
// cells into the original bytes.
type wholeCSVEditor struct {
	sc   *sheetConf
	data []byte
	f    csvFormat
	recs []csvRecord
	rows []*rawRow
	// edits by row index: column -> new cell text (unguarded)
	edits   map[int]map[int]string
	removed map[int]bool
	added   []map[int]string // appended rows
	// header is the ref of the header row (-1 until the model finds it):
	// when a column is added to it, the rows as wide as it was grow with
	// it, so the file stays rectangular.
	header int
}

func newWholeCSVEditor(sc *sheetConf, data []byte) (*wholeCSVEditor, error) {
	s, f, err := openCSV(sc, bytes.NewReader(data), true)
	if err != nil {
		return nil, err
	}
	e := &wholeCSVEditor{sc: sc, data: data, f: f, edits: map[int]map[int]string{}, removed: map[int]bool{}, header: -1}
	for {
		var rec csvRecord
		ok, err := s.scan(&rec)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		row := &rawRow{num: rec.num, bad: rec.bad, badCol: rec.badCol, cells: make([]string, len(rec.fields)),
			line: rec.line, lines: rec.lines, quoted: slices.Clone(rec.quotedLines), delim: f.delim}
		for i, v := range rec.fields {
			if sc.guard {
				v = unguard(v)
			}
			row.cells[i] = v
		}
		row.unguarded(rec.fields)
		e.recs = append(e.recs, rec)
		e.rows = append(e.rows, row)
	}
	if s.eol != "" {
		e.f.eol = s.eol
	}
	return e, nil
}

func (e *wholeCSVEditor) allRows() []*rawRow { return e.rows }

func (e *wholeCSVEditor) cell(ref, col int) string {
	if ref >= len(e.rows) {
		return e.added[ref-len(e.rows)][col]
	}
	if m, ok := e.edits[ref]; ok {
		if v, ok := m[col]; ok {
			return v
		}
	}
	if cells := e.rows[ref].cells; col < len(cells) {
		return cells[col]
	}
	return ""
}

// check reports whether v can be written: every character must exist in
// the file's encoding.
func (e *wholeCSVEditor) check(_, _ int, v string) error {
	if cm := e.f.enc.charmap(); cm != nil {
		for _, r := range v {
			if _, ok := cm.EncodeRune(r); !ok {
				return fmt.Errorf("the value has characters that %s cannot hold; save the file as UTF-8", e.f.enc)
			}
		}
	}
	if e.f.enc == encUTF8 && !utf8.ValidString(v) {
		return fmt.Errorf("the value is not valid UTF-8")
	}
	return nil
}

func (e *wholeCSVEditor) set(ref, col int, v string) {
	if ref >= len(e.rows) {
		e.added[ref-len(e.rows)][col] = v
		return
	}
	m := e.edits[ref]
	if m == nil {
		m = map[int]string{}
		e.edits[ref] = m
	}
	m[col] = v
}

func (e *wholeCSVEditor) appendRow() int {
	e.added = append(e.added, map[int]string{})
	return len(e.rows) + len(e.added) - 1
}

func (e *wholeCSVEditor) remove(ref int) { e.removed[ref] = true }

func (e *wholeCSVEditor) formula(int, int) bool { return false }

// encode appends s in the file's encoding.
func (e *wholeCSVEditor) encode(dst []byte, s string) []byte {
	switch e.f.enc {
	case encUTF8:
		return append(dst, s...)
	case enc1252, enc874, encLatin1:
		cm := e.f.enc.charmap()
		for _, r := range s {
			b, _ := cm.EncodeRune(r) // checked before
			dst = append(dst, b)
		}
		return dst
	}
	for _, r := range s {
		for _, u := range utf16.AppendRune(nil, r) {
			if e.f.enc == encUTF16BE {
				dst = append(dst, byte(u>>8), byte(u))
			} else {
				dst = append(dst, byte(u), byte(u>>8))
			}
		}
	}
	return dst
}

// quote returns the cell as written: guarded, and quoted when it holds
// the delimiter, a quote or a line break, or starts or ends with white
// space (a tab, a no-break or zero-width space).
func (e *wholeCSVEditor) quote(v string) string {
	if e.sc.guard {
		v = guard(v)
	}
	need := false
	for _, r := range v {
		if r == e.f.delim || r == '"' || r == '\r' || r == '\n' {
			need = true
			break
		}
	}
	if hasEdgeSpace(v) {
		need = true // no reader may trim it
	}
	if !need {
		return v
	}
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			b.WriteByte('"')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// renderRow appends row ref with its edits, at least width cells wide:
// unchanged cells keep their original bytes.
func (e *wholeCSVEditor) renderRow(dst []byte, ref int, edits map[int]string, width int) []byte {
	rec := &e.recs[ref]
	n := max(len(rec.fields), width)
	for col := range edits {
		n = max(n, col+1)
	}
	delim := string(e.f.delim)
	for col := 0; col < n; col++ {
		if col > 0 {
			dst = e.encode(dst, delim)
		}
		if v, ok := edits[col]; ok {
			dst = e.encode(dst, e.quote(v))
		} else if col < len(rec.fields) {
			dst = append(dst, e.data[rec.spans[2*col]:rec.spans[2*col+1]]...)
		}
	}
	return dst
}

// widths returns the header row's cell count as read and as it will be
// written (casebridge adds its delete and status columns to the header).
func (e *wholeCSVEditor) widths() (old, now int) {
	if e.header < 0 || e.header >= len(e.recs) {
		return 0, 0
	}
	old = len(e.recs[e.header].fields)
	now = old
	for col := range e.edits[e.header] {
		now = max(now, col+1)
	}
	return old, now
}

// bytes returns the edited file. It stays rectangular: when the header
// grows, every row that was as wide as the header grows with it (a blank
// line or a row of another width keeps its shape), and appended rows are
// as wide as the header.
func (e *wholeCSVEditor) bytes() ([]byte, error) {
	out := make([]byte, 0, len(e.data)+256*len(e.added))
	oldW, newW := e.widths()
	pos := int64(0)
	for ref := range e.recs {
		rec := &e.recs[ref]
		edits, edited := e.edits[ref]
		grow := newW > oldW && len(rec.fields) == oldW
		switch {
		case e.removed[ref]:
			out = append(out, e.data[pos:rec.start]...)
			pos = rec.next
		case edited:
			out = append(out, e.data[pos:rec.start]...)
			w := 0
			if grow || len(rec.fields) > oldW {
				w = newW
			}
			out = e.renderRow(out, ref, edits, w)
			pos = rec.end
		case grow:
			out = append(out, e.data[pos:rec.end]...)
			for range newW - oldW {
				out = e.encode(out, string(e.f.delim))
			}
			pos = rec.end
		}
	}
	out = append(out, e.data[pos:]...)
	if len(e.added) > 0 {
		if len(e.recs) > 0 {
			if last := e.recs[len(e.recs)-1]; last.next == last.end && !e.removed[len(e.recs)-1] {
				out = e.encode(out, e.f.eol) // the last row had no line ending
			}
		}
		for _, cells := range e.added {
			n := newW
			for col := range cells {
				n = max(n, col+1)
			}
			for col := 0; col < n; col++ {
				if col > 0 {
					out = e.encode(out, string(e.f.delim))
				}
				out = e.encode(out, e.quote(cells[col]))
			}
			out = e.encode(out, e.f.eol)
		}
	}
	return out, nil
}

func (e *wholeCSVEditor) merges(int) map[int]int { return nil }
