package sheet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// editor is a file opened for write-back (csvEditor, which keeps each
// row's place in the file and reads a row again when it changes it;
// xlsxEditor, which holds the workbook). Rows are addressed by ref, their
// index in editorRows; appended rows get refs after the last one.
type editor interface {
	allRows() []*rawRow
	// merges returns the horizontal merged ranges of a row (XLSX).
	merges(row int) map[int]int
	cell(ref, col int) string
	// formula reports whether the cell holds a formula.
	formula(ref, col int) bool
	// check reports why v cannot be written to the cell (never v itself).
	check(ref, col int, v string) error
	set(ref, col int, v string)
	appendRow() int
	remove(ref int)
	bytes() ([]byte, error)
}

// model is what a write knows about the sheet: the layout and where each
// key's rows are.
type model struct {
	c       *Connector
	sc      *sheetConf
	ed      editor
	l       *layout
	header  int
	live    map[string][]int // key ID -> refs of data rows
	bad     map[string]bool  // key ID -> one of its rows is unreadable
	marked  map[string][]int // key ID -> refs of rows marked deleted
	changed bool
	now     time.Time
	// damaged says where the first row that could not be read whole is
	// and why (rowProblem.damaged), "" if none: nothing is written into
	// such a file, neither cells nor appended rows, until it is mended.
	damaged string
}

func (c *Connector) newModel(sc *sheetConf, ed editor) (*model, error) {
	m := &model{c: c, sc: sc, ed: ed, header: -1, live: map[string][]int{}, bad: map[string]bool{}, marked: map[string][]int{}, now: c.Now().UTC()}
	for ref, r := range editorRows(ed) {
		if m.l == nil {
			if sc.isHeader(r) {
				l, err := sc.newLayout(r, ed.merges(r.num))
				if err != nil {
					return nil, err
				}
				m.l, m.header = l, ref
			} else if r.num >= headerScanLimit && sc.HeaderRow == 0 {
				break
			}
			continue
		}
		switch sc.classify(m.l, r) {
		case rowData:
			key, p := sc.rowKey(m.l, r)
			if p.damaged() && m.damaged == "" {
				m.damaged = sc.rowDetail(r, p)
			}
			if key == "" {
				continue
			}
			id := connector.KeyID(key, false)
			m.live[id] = append(m.live[id], ref)
			if p.code != "" && p.code != connector.CodeInvalidKey {
				m.bad[id] = true
			}
		case rowMarked:
			if key, _ := sc.rowKey(m.l, r); key != "" {
				id := connector.KeyID(key, false)
				m.marked[id] = append(m.marked[id], ref)
			}
		}
	}
	if ce, ok := ed.(*csvEditor); ok && ce.err != nil {
		return nil, ce.err // the file could not be read again
	}
	if m.l == nil {
		return nil, sc.noHeader()
	}
	if ce, ok := ed.(*csvEditor); ok {
		ce.header = m.header
	}
	if xe, ok := ed.(*xlsxEditor); ok {
		xe.keyCol = m.l.key
		for _, refs := range m.live {
			xe.dataRefs = append(xe.dataRefs, refs...)
		}
		slices.Sort(xe.dataRefs)
	}
	return m, nil
}

func (m *model) set(ref, col int, v string) {
	if m.ed.cell(ref, col) != v {
		m.ed.set(ref, col, v)
		m.changed = true
	}
}

// column returns the column with the given header, adding it after the
// last named column of the header row if missing.
func (m *model) column(name string) int {
	if i, ok := m.l.index[fold(name)]; ok {
		return i
	}
	pos := 0 // after the last named column (a merged header names its span)
	for i, n := range m.l.names {
		if n != "" {
			pos = i + 1
		}
	}
	m.set(m.header, pos, name)
	for len(m.l.names) <= pos {
		m.l.names = append(m.l.names, "")
		m.l.cells = append(m.l.cells, "")
	}
	m.l.names[pos], m.l.cells[pos] = name, name
	m.l.index[fold(name)] = pos
	return pos
}

// status records what happened to a row in the status column, if one is
// configured.
func (m *model) status(ref int, text string) {
	if m.sc.StatusColumn == "" || ref < 0 {
		return
	}
	col := m.column(m.sc.StatusColumn)
	m.l.status = col
	if !m.ed.formula(ref, col) && m.ed.check(ref, col, text) == nil {
		m.set(ref, col, text)
	}
}

func statusError(err error) string {
	var re *connector.RecordError
	if connector.CodeOf(err) == connector.CodeConflictHeld && errors.As(err, &re) {
		return "conflict " + re.Field + ": held for a person to decide"
	}
	if connector.CodeOf(err) == connector.CodeAmbiguousMatch {
		return "ambiguous match: held for a person to decide"
	}
	if errors.As(err, &re) && re.Field != "" {
		return "error " + string(connector.CodeOf(err)) + " " + re.Field
	}
	return "error " + string(connector.CodeOf(err))
}

func (m *model) fail(op, key, field string, code connector.Code, err error) *connector.RecordError {
	if err == nil {
		err = &connector.ValueError{Code: code}
	} else if !errors.Is(err, connector.ErrNotFound) {
		err = &connector.ValueError{Code: code, Detail: err.Error()}
	}
	return &connector.RecordError{Op: op, Connector: m.c.name, Object: m.sc.Object, Key: key, Field: field, Code: code, Class: connector.Permanent, Err: err}
}

// write runs op on the sheet's file held in memory and replaces the file
// if anything changed. A non-nil error means nothing was written.
func (c *Connector) write(ctx context.Context, op, object string, fn func(m *model) []connector.Result) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := c.lookup(op, object)
	if err != nil {
		return nil, err
	}
	if sc.ro {
		return nil, fmt.Errorf("%s %s %s: %s is declared read-only: %w", op, c.name, object, sc.Path, connector.ErrReadOnly)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	wrap := func(err error) error {
		var re *connector.RecordError
		if errors.As(err, &re) {
			re.Op = op
			return err
		}
		return fmt.Errorf("%s %s %s: %w", op, c.name, object, err)
	}
	c.w.sweep(sc.Path) // temporary files of interrupted writes hold personal data
	if err := checkLocks(sc.Path); err != nil {
		return nil, wrap(err)
	}
	data, st, err := readFile(sc.Path)
	if err != nil {
		return nil, wrap(err)
	}
	if prev, ok := c.seen[sc.Path]; ok && !prev.equal(st) {
		return nil, wrap(fmt.Errorf("%s: %w; nothing was written, the next run reads the new content", sc.Path, ErrChangedOnDisk))
	}
	var ed editor
	if sc.format == formatXLSX {
		ed, err = newXLSXEditor(sc, data)
	} else {
		ed, err = newCSVEditor(sc, data)
	}
	if err != nil {
		return nil, wrap(fmt.Errorf("%s: %w", sc.where(), err))
	}
	if cl, ok := ed.(io.Closer); ok {
		defer cl.Close()
	}
	m, err := c.newModel(sc, ed)
	if err != nil {
		return nil, wrap(err)
	}
	res := fn(m)
	if !m.changed {
		return res, nil
	}
	out, err := ed.bytes()
	if err != nil {
		return nil, wrap(fmt.Errorf("%s: %w", sc.where(), err))
	}
	if sameBytes(out, data) {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nst, err := c.w.replace(sc.Path, st, data, out)
	if err != nil {
		return nil, wrap(err)
	}
	c.seen[sc.Path] = nst
	return res, nil
}

// Upsert implements connector.Sink. Fields are header names; values are
// written as text (cellText: the canonical text form). An existing row is
// updated in place; a new key appends a row, also for a key whose old row
// is marked deleted (the marked row stays as history and none of its
// values come back). A
// field that is not a column, a formula cell, a value the file's encoding
// cannot hold, a duplicate key or an unreadable row with the key fail that
// record only. The file is replaced once per call.
func (c *Connector) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	return c.write(ctx, "upsert", object, func(m *model) []connector.Result {
		res := make([]connector.Result, len(records))
		for i, rec := range records {
			res[i] = m.upsert(rec)
		}
		return res
	})
}

type cellWrite struct {
	col int
	v   string
}

// refused is the error of a write into a damaged file (model.damaged).
func (m *model) refused(op, key string) *connector.RecordError {
	return m.fail(op, key, "", connector.CodeRowUnreadable, fmt.Errorf(
		"not written: casebridge writes nothing into a file it could not read whole (%s); once the row is mended the next run writes", m.damaged))
}

func (m *model) upsert(rec connector.Record) connector.Result {
	l, ed := m.l, m.ed
	key := connector.NormalizeKey(rec.Key)
	res := connector.Result{Key: key}
	if m.damaged != "" {
		res.Err = m.refused("upsert", key)
		return res
	}
	keyName := l.names[l.key]
	if key == "" {
		res.Err = m.fail("upsert", "", keyName, connector.CodeInvalidKey, errors.New("empty key"))
		return res
	}
	if m.sc.keyRE != nil && !m.sc.keyRE.MatchString(key) {
		res.Err = m.fail("upsert", key, keyName, connector.CodeInvalidKey, errors.New("the key does not match key_pattern"))
		return res
	}
	if l.isKeyHeader(key) { // the row would read as a repeated header row
		res.Err = m.fail("upsert", key, keyName, connector.CodeInvalidKey, errors.New("the key is the key column's own name"))
		return res
	}
	id := connector.KeyID(key, false)
	ref, create := -1, false // a deleted (marked) row stays as it is: re-creating appends
	switch refs := m.live[id]; {
	case m.bad[id]:
		res.Err = m.fail("upsert", key, keyName, connector.CodeRowUnreadable, errors.New("a row with this key cannot be read; fix it in the file first"))
		return res
	case len(refs) > 1:
		res.Err = m.fail("upsert", key, keyName, connector.CodeDuplicateKey, errors.New("the key is on more than one row"))
		return res
	case len(refs) == 1:
		ref = refs[0]
	default:
		create = true
	}
	var writes []cellWrite
	var err *connector.RecordError
	for _, name := range slices.Sorted(maps.Keys(rec.Fields)) {
		col, ok := l.index[fold(name)]
		switch {
		case !ok:
			err = m.fail("upsert", key, name, connector.CodeUnknownField, errors.New("no such column"))
		case col == l.key:
			continue
		case !l.field(col):
			err = m.fail("upsert", key, name, connector.CodeNotWritable, errors.New("the column is kept by casebridge"))
		}
		if err != nil {
			break
		}
		v := cellText(rec.Fields[name])
		if ref >= 0 && ed.cell(ref, col) == v {
			continue
		}
		if ref >= 0 && ed.formula(ref, col) {
			err = m.fail("upsert", key, l.names[col], connector.CodeNotWritable, errors.New("the cell holds a formula; formula cells are never overwritten"))
			break
		}
		if cerr := ed.check(ref, col, v); cerr != nil {
			err = m.fail("upsert", key, l.names[col], connector.CodeInvalidValue, cerr)
			break
		}
		writes = append(writes, cellWrite{col, v})
	}
	if err == nil && ref < 0 {
		if cerr := ed.check(-1, l.key, key); cerr != nil {
			err = m.fail("upsert", key, keyName, connector.CodeInvalidKey, cerr)
		}
	}
	if err != nil {
		m.status(ref, statusError(err))
		res.Err = err
		return res
	}
	if ref < 0 {
		ref = ed.appendRow()
		for col := range l.cells {
			ed.set(ref, col, "")
		}
		m.set(ref, l.key, key)
		m.live[id] = []int{ref}
	}
	for _, w := range writes {
		m.set(ref, w.col, w.v)
	}
	m.status(ref, "synced "+m.now.Format(time.RFC3339))
	res.Created = create
	return res
}

// Delete implements connector.Sink. By default it writes the delete mark
// into the delete column (adding the column to the header if missing);
// with delete: remove it removes the row. A key with no live row fails
// with connector.ErrNotFound.
func (c *Connector) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	return c.write(ctx, "delete", object, func(m *model) []connector.Result {
		res := make([]connector.Result, len(keys))
		for i, k := range keys {
			res[i] = m.delete(k)
		}
		return res
	})
}

func (m *model) delete(k string) connector.Result {
	key := connector.NormalizeKey(k)
	res := connector.Result{Key: key}
	id := connector.KeyID(key, false)
	refs := m.live[id]
	keyName := m.l.names[m.l.key]
	switch {
	case m.damaged != "":
		res.Err = m.refused("delete", key)
		return res
	case key == "" || len(refs) == 0:
		res.Err = m.fail("delete", key, "", connector.CodeNotFound, connector.ErrNotFound)
		return res
	case m.bad[id]:
		res.Err = m.fail("delete", key, keyName, connector.CodeRowUnreadable, errors.New("a row with this key cannot be read; fix it in the file first"))
		return res
	case len(refs) > 1:
		res.Err = m.fail("delete", key, keyName, connector.CodeDuplicateKey, errors.New("the key is on more than one row"))
		return res
	}
	ref := refs[0]
	if m.sc.Delete == DeleteRemove {
		m.ed.remove(ref)
		m.changed = true
		delete(m.live, id)
		return res
	}
	col := m.column(m.sc.DeleteColumn)
	m.l.mark = col
	if m.ed.formula(ref, col) {
		res.Err = m.fail("delete", key, m.sc.DeleteColumn, connector.CodeNotWritable, errors.New("the cell holds a formula; formula cells are never overwritten"))
		return res
	}
	m.set(ref, col, m.sc.DeleteValue)
	m.status(ref, "deleted "+m.now.Format(time.RFC3339))
	delete(m.live, id)
	m.marked[id] = append(m.marked[id], ref)
	return res
}

// HasStatus reports whether object's sheet has a status column.
func (c *Connector) HasStatus(object string) bool {
	sc, err := c.lookup("status", object)
	return err == nil && sc.StatusColumn != ""
}

// Status writes the outcome of the given results into the status column
// (when one is configured): "synced <time>" for a success, "error <code>
// <field>" for a failure. It is for the engine to report what happened to
// a row on the other side (a Salesforce validation error). Keys without a
// single live row are skipped.
func (c *Connector) Status(ctx context.Context, object string, results []connector.Result) error {
	sc, err := c.lookup("status", object)
	if err != nil {
		return err
	}
	if sc.StatusColumn == "" {
		return nil
	}
	damaged := ""
	_, err = c.write(ctx, "status", object, func(m *model) []connector.Result {
		if damaged = m.damaged; damaged != "" {
			return nil
		}
		for _, r := range results {
			refs := m.live[connector.KeyID(r.Key, false)]
			if len(refs) != 1 {
				continue
			}
			switch {
			case r.Err != nil:
				m.status(refs[0], statusError(r.Err))
			case r.Note != "":
				m.status(refs[0], r.Note+" "+m.now.Format(time.RFC3339))
			default:
				m.status(refs[0], "synced "+m.now.Format(time.RFC3339))
			}
		}
		return nil
	})
	if err == nil && damaged != "" {
		err = fmt.Errorf("status %s %s: not written into a file casebridge could not read whole (%s)", c.name, object, damaged)
	}
	return err
}
