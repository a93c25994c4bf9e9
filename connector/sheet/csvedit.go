package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// csvEditor edits a CSV file for write-back without holding it parsed: a
// sync writes back a few rows of a file of 100,000, and the parsed rows
// (cells, spans, row objects: some 700 bytes a row) were most of a run's
// peak memory. Per row it keeps only where the row ends in the file and
// how many cells it has (csvRowAt); the model reads the rows in one pass
// (rowSeq), and a row's cells are read again from its bytes when they are
// asked for or changed (the last row read is kept: an upsert asks for one
// row's cells many times). The edited file is the original's bytes copied
// verbatim, row by row, with changed cells spliced into the rows that
// change, so whatever the file holds (encoding, byte order mark, line
// endings, quoting, title rows, trailing blank rows, invisible
// characters) survives byte for byte.
type csvEditor struct {
	sc   *sheetConf
	src  io.ReaderAt // the file as read
	size int64
	f    csvFormat
	rows []csvRowAt
	// edits by row ref: the new cell texts (unguarded), one per column.
	edits   map[int][]cellWrite
	removed map[int]bool
	added   [][]string // appended rows' cells
	// header is the ref of the header row (-1 until the model finds it):
	// when a column is added to it, the rows as wide as it was grow with
	// it, so the file stays rectangular.
	header int
	// cur is the row last read again (ref -1: none), rs the scanner that
	// reads it.
	cur struct {
		ref   int
		raw   []byte    // the row's bytes, line ending included
		rec   csvRecord // spans relative to raw
		cells []string  // unguarded
	}
	rs *csvScanner
	// indexed: rows holds every row (a pass over them went to the end).
	indexed bool
	// err is the first error reading the file again (an I/O error; never
	// for a file read into memory): bytes fails with it, so nothing is
	// written from a partial reading.
	err error
}

// csvRowAt is where a row is in the file: its bytes run from the previous
// row's next (the byte order mark's end for the first row) to end, its
// line ending from end to next (end == next for a last row without one).
type csvRowAt struct {
	end, next int64
	cells     int32 // cells as read
}

// newCSVEditor opens a CSV file read into memory (data).
func newCSVEditor(sc *sheetConf, data []byte) (*csvEditor, error) {
	return newCSVEditorAt(sc, bytes.NewReader(data), int64(len(data)))
}

// newCSVEditorAt opens the CSV file of size bytes that src reads: its
// format is detected here, its rows are indexed by the first pass over
// them (rowSeq, which the model makes anyway).
func newCSVEditorAt(sc *sheetConf, src io.ReaderAt, size int64) (*csvEditor, error) {
	_, f, err := openCSV(sc, io.NewSectionReader(src, 0, size), false)
	if err != nil {
		return nil, err
	}
	e := &csvEditor{sc: sc, src: src, size: size, f: f, edits: map[int][]cellWrite{}, removed: map[int]bool{}, header: -1}
	e.cur.ref = -1
	return e, nil
}

// index makes sure every row is indexed: a pass over the rows unless one
// went to the end.
func (e *csvEditor) index() error {
	if !e.indexed && e.err == nil {
		for range e.rowSeq {
		}
	}
	return e.err
}

// start returns where row ref's bytes start.
func (e *csvEditor) start(ref int) int64 {
	if ref == 0 {
		return int64(len(e.f.bom))
	}
	return e.rows[ref-1].next
}

// toRaw fills row from rec as the readers give rows: cells unguarded.
func (e *csvEditor) toRaw(row *rawRow, rec *csvRecord) {
	*row = rawRow{num: rec.num, bad: rec.bad, badCol: rec.badCol, cells: row.cells[:0],
		line: rec.line, lines: rec.lines, quoted: rec.quotedLines, delim: e.f.delim}
	for _, v := range rec.fields {
		if e.sc.guard {
			v = unguard(v)
		}
		row.cells = append(row.cells, v)
	}
	row.unguarded(rec.fields)
}

// rowSeq reads the rows, in order, one at a time: the row passed is
// reused for the next one, so whoever keeps something of it copies it.
// The first pass to the end indexes the rows; a reading error stops the
// sequence and is kept in e.err.
func (e *csvEditor) rowSeq(yield func(int, *rawRow) bool) {
	if e.err != nil {
		return
	}
	s, _, err := openCSV(e.sc, io.NewSectionReader(e.src, 0, e.size), false)
	if err != nil {
		e.err = err
		return
	}
	if !e.indexed {
		e.rows = e.rows[:0]
	}
	var rec csvRecord
	var row rawRow
	for ref := 0; ; ref++ {
		ok, err := s.scan(&rec)
		switch {
		case err != nil:
		case !e.indexed && !ok:
			e.rows = slices.Clip(e.rows)
			if s.eol != "" {
				e.f.eol = s.eol
			}
			e.indexed = true
			return
		case !e.indexed:
			e.rows = append(e.rows, csvRowAt{end: rec.end, next: rec.next, cells: int32(len(rec.fields))})
		case ref == len(e.rows) && !ok:
			return
		case ref == len(e.rows) || !ok || rec.next != e.rows[ref].next:
			err = errors.New("the file reads differently the second time")
		}
		if err != nil {
			e.err = err
			return
		}
		e.toRaw(&row, &rec)
		if !yield(ref, &row) {
			return
		}
	}
}

// allRows returns every row parsed (the editor interface; the model reads
// a CSV with rowSeq, which holds one row at a time).
func (e *csvEditor) allRows() []*rawRow {
	var rows []*rawRow
	for _, r := range e.rowSeq {
		c := *r
		c.cells, c.quoted = slices.Clone(r.cells), slices.Clone(r.quoted)
		rows = append(rows, &c)
	}
	return rows
}

// editorRows returns the rows of ed in order: a CSV's one at a time (see
// rowSeq), a workbook's from the rows it holds.
func editorRows(ed editor) iter.Seq2[int, *rawRow] {
	if ce, ok := ed.(*csvEditor); ok {
		return ce.rowSeq
	}
	return slices.All(ed.allRows())
}

// load reads row ref again into e.cur, unless it is there already.
func (e *csvEditor) load(ref int) error {
	if e.cur.ref == ref {
		return nil
	}
	if err := e.index(); err != nil {
		return err
	}
	e.cur.ref = -1
	start, next := e.start(ref), e.rows[ref].next
	raw := slices.Grow(e.cur.raw[:0], int(next-start))[:next-start]
	if n, err := e.src.ReadAt(raw, start); n < len(raw) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		e.err = fmt.Errorf("row %d: %w", ref+1, err)
		return e.err
	}
	e.cur.raw = raw
	if e.rs == nil {
		// A row is short: a small buffer, reused for every row read again.
		e.rs = &csvScanner{br: bufio.NewReaderSize(nil, 4<<10)}
	}
	br := e.rs.br
	br.Reset(bytes.NewReader(raw))
	*e.rs = csvScanner{br: br, f: e.f, keepSpans: true, buf: e.rs.buf[:0]}
	rec := &e.cur.rec
	ok, err := e.rs.scan(rec)
	if err == nil && (!ok || rec.next != int64(len(raw)) || len(rec.fields) != int(e.rows[ref].cells)) {
		err = errors.New("the row reads differently the second time")
	}
	if err != nil {
		e.err = fmt.Errorf("row %d: %w", ref+1, err)
		return e.err
	}
	e.cur.cells = e.cur.cells[:0]
	for _, v := range rec.fields {
		if e.sc.guard {
			v = unguard(v)
		}
		e.cur.cells = append(e.cur.cells, v)
	}
	e.cur.ref = ref
	return nil
}

func (e *csvEditor) cell(ref, col int) string {
	e.index() // refs count the rows; an error fails the write (e.err)
	if ref >= len(e.rows) {
		if cells := e.added[ref-len(e.rows)]; col < len(cells) {
			return cells[col]
		}
		return ""
	}
	for _, w := range e.edits[ref] {
		if w.col == col {
			return w.v
		}
	}
	if e.load(ref) != nil {
		return "" // e.err fails the write
	}
	if col < len(e.cur.cells) {
		return e.cur.cells[col]
	}
	return ""
}

// check reports whether v can be written: every character must exist in
// the file's encoding.
func (e *csvEditor) check(_, _ int, v string) error {
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

func (e *csvEditor) set(ref, col int, v string) {
	e.index()
	if ref >= len(e.rows) {
		cells := e.added[ref-len(e.rows)]
		for len(cells) <= col {
			cells = append(cells, "")
		}
		cells[col] = v
		e.added[ref-len(e.rows)] = cells
		return
	}
	ws := e.edits[ref]
	for i := range ws {
		if ws[i].col == col {
			ws[i].v = v
			return
		}
	}
	e.edits[ref] = append(ws, cellWrite{col, v})
}

func (e *csvEditor) appendRow() int {
	e.index()
	e.added = append(e.added, nil)
	return len(e.rows) + len(e.added) - 1
}

func (e *csvEditor) remove(ref int) { e.removed[ref] = true }

func (e *csvEditor) formula(int, int) bool { return false }

func (e *csvEditor) merges(int) map[int]int { return nil }

// encode appends s in the file's encoding.
func (e *csvEditor) encode(dst []byte, s string) []byte {
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
func (e *csvEditor) quote(v string) string {
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
// unchanged cells keep their original bytes. The line ending is not
// included.
func (e *csvEditor) renderRow(dst []byte, ref int, edits []cellWrite, width int) ([]byte, error) {
	if err := e.load(ref); err != nil {
		return dst, err
	}
	rec := &e.cur.rec
	n := max(len(rec.fields), width)
	for _, w := range edits {
		n = max(n, w.col+1)
	}
	delim := string(e.f.delim)
	for col := 0; col < n; col++ {
		if col > 0 {
			dst = e.encode(dst, delim)
		}
		if i := slices.IndexFunc(edits, func(w cellWrite) bool { return w.col == col }); i >= 0 {
			dst = e.encode(dst, e.quote(edits[i].v))
		} else if col < len(rec.fields) {
			dst = append(dst, e.cur.raw[rec.spans[2*col]:rec.spans[2*col+1]]...)
		}
	}
	return dst, nil
}

// widths returns the header row's cell count as read and as it will be
// written (casebridge adds its delete and status columns to the header).
func (e *csvEditor) widths() (old, now int) {
	e.index()
	if e.header < 0 || e.header >= len(e.rows) {
		return 0, 0
	}
	old = int(e.rows[e.header].cells)
	now = old
	for _, w := range e.edits[e.header] {
		now = max(now, w.col+1)
	}
	return old, now
}

// bytes returns the edited file (see writeTo).
func (e *csvEditor) bytes() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(int(e.size) + 256*len(e.added))
	if err := e.writeTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeTo writes the edited file to w. It stays rectangular: when the
// header grows, every row that was as wide as the header grows with it (a
// blank line or a row of another width keeps its shape), and appended
// rows are as wide as the header. Bytes between the changes are copied
// from the file as they are.
func (e *csvEditor) writeTo(w io.Writer) error {
	if err := e.index(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	pos := int64(0) // the file is written up to here
	copyTo := func(end int64) error {
		if end > pos {
			if _, err := io.Copy(bw, io.NewSectionReader(e.src, pos, end-pos)); err != nil {
				return err
			}
		}
		return nil
	}
	var line []byte
	oldW, newW := e.widths()
	for ref, at := range e.rows {
		edits, edited := e.edits[ref]
		grow := newW > oldW && int(at.cells) == oldW
		var err error
		switch {
		case e.removed[ref]:
			err = copyTo(e.start(ref))
			pos = at.next
		case edited:
			if err = copyTo(e.start(ref)); err != nil {
				break
			}
			width := 0
			if grow || int(at.cells) > oldW {
				width = newW
			}
			if line, err = e.renderRow(line[:0], ref, edits, width); err != nil {
				break
			}
			_, err = bw.Write(line)
			pos = at.end
		case grow:
			if err = copyTo(at.end); err != nil {
				break
			}
			line = line[:0]
			for range newW - oldW {
				line = e.encode(line, string(e.f.delim))
			}
			_, err = bw.Write(line)
			pos = at.end
		}
		if err != nil {
			return err
		}
	}
	if err := copyTo(e.size); err != nil {
		return err
	}
	pos = e.size
	if len(e.added) > 0 {
		line = line[:0]
		if n := len(e.rows); n > 0 {
			if last := e.rows[n-1]; last.next == last.end && !e.removed[n-1] {
				line = e.encode(line, e.f.eol) // the last row had no line ending
			}
		}
		delim := string(e.f.delim)
		for _, cells := range e.added {
			n := max(newW, len(cells))
			for col := 0; col < n; col++ {
				if col > 0 {
					line = e.encode(line, delim)
				}
				if col < len(cells) {
					line = e.encode(line, e.quote(cells[col]))
				}
			}
			line = e.encode(line, e.f.eol)
			if _, err := bw.Write(line); err != nil {
				return err
			}
			line = line[:0]
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
