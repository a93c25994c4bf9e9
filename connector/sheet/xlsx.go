package sheet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/connector"
)

// The XLSX reader streams a worksheet's XML itself (archive/zip, and the
// small tokenizer of xmlscan.go for the worksheet; encoding/xml for the
// small parts) rather than through excelize's Rows, because it needs per
// cell what Rows does not give in one pass: the raw value, the type, the
// style's number format (to read date-formatted cells as ISO dates and keep
// other numbers exact) and whether the cell holds a formula. Shared strings
// are held in memory, the sheet itself is streamed. Writes go through
// excelize, which keeps styles, widths, formulas and other sheets.

// cell kinds, as the reader saw them.
const (
	kindString uint8 = iota
	kindNumber
	kindDate
)

// maxCellChars is the most characters an Excel cell holds.
const maxCellChars = 32767

type cellInfo struct {
	present bool // the cell has a value or a formula
	formula bool
	kind    uint8
	style   int // index into cellXfs, -1 for none
}

// xbook is a workbook opened for streaming.
type xbook struct {
	zr       *zip.Reader
	files    map[string]*zip.File
	sst      []string
	styles   []xfmt // by cellXfs index
	date1904 bool
	sheets   []xsheet
	// parts found through the workbook's relationships
	stylesPart, sstPart string
}

type xfmt struct {
	id   int
	code string
	date bool
	time bool
	pad  int // "0000": zero-pad to this many digits
}

type xsheet struct{ name, path string }

var errEncrypted = errors.New("the workbook is password-protected or an old .xls file; save it as an unprotected .xlsx")

func openBook(r io.ReaderAt, size int64) (*xbook, error) {
	magic := make([]byte, 8)
	if n, _ := r.ReadAt(magic, 0); n == 8 && bytes.Equal(magic, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) {
		return nil, errEncrypted
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a valid .xlsx file (corrupt or not a workbook)")
	}
	b := &xbook{zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		b.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	if err := b.readWorkbook(); err != nil {
		return nil, err
	}
	if err := b.readStyles(); err != nil {
		return nil, err
	}
	if err := b.readSST(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *xbook) open(name string) (io.ReadCloser, error) {
	f := b.files[name]
	if f == nil {
		return nil, os.ErrNotExist
	}
	return f.Open()
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// readRels reads a relationships part: id -> (type suffix, target part
// resolved against dir).
func (b *xbook) readRels(part, dir string) map[string][2]string {
	rels := map[string][2]string{}
	rc, err := b.open(part)
	if err != nil {
		return rels
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err != nil {
			return rels
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Relationship" {
			t := attr(se, "Target")
			if strings.HasPrefix(t, "/") {
				t = strings.TrimPrefix(t, "/")
			} else {
				t = path.Join(dir, t)
			}
			typ := attr(se, "Type")
			rels[attr(se, "Id")] = [2]string{typ[strings.LastIndexByte(typ, '/')+1:], t}
		}
	}
}

// readWorkbook finds the workbook part (through the package's
// relationships, xl/workbook.xml by default), its sheets, styles and
// shared strings parts.
func (b *xbook) readWorkbook() error {
	wb := "xl/workbook.xml"
	for _, r := range b.readRels("_rels/.rels", "") {
		if r[0] == "officeDocument" && b.files[r[1]] != nil {
			wb = r[1]
		}
	}
	b.stylesPart, b.sstPart = "xl/styles.xml", "xl/sharedStrings.xml"
	rels := map[string]string{}
	for id, r := range b.readRels(path.Join(path.Dir(wb), "_rels", path.Base(wb)+".rels"), path.Dir(wb)) {
		rels[id] = r[1]
		switch r[0] {
		case "styles":
			b.stylesPart = r[1]
		case "sharedStrings":
			b.sstPart = r[1]
		}
	}
	rc, err := b.open(wb)
	if err != nil {
		return fmt.Errorf("not a valid .xlsx file (no workbook part)")
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a valid .xlsx file (workbook part unreadable)")
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			b.date1904 = v == "1" || v == "true"
		case "sheet":
			var id string
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					id = a.Value
				}
			}
			b.sheets = append(b.sheets, xsheet{name: attr(se, "name"), path: rels[id]})
		}
	}
}

func (b *xbook) readStyles() error {
	rc, err := b.open(b.stylesPart)
	if err != nil {
		return nil // no styles: every cell is General
	}
	defer rc.Close()
	codes := map[int]string{}
	d := xml.NewDecoder(rc)
	inXfs := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a valid .xlsx file (styles unreadable)")
		}
		switch se := tok.(type) {
		case xml.StartElement:
			switch se.Name.Local {
			case "numFmt":
				id, _ := strconv.Atoi(attr(se, "numFmtId"))
				codes[id] = attr(se, "formatCode")
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					id, _ := strconv.Atoi(attr(se, "numFmtId"))
					b.styles = append(b.styles, classifyFormat(id, codes[id]))
				}
			}
		case xml.EndElement:
			if se.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
}

// classifyFormat tells date and time formats (built-in ids, or custom
// codes with day, month, year, hour or second parts outside quotes and
// brackets) and zero-padding formats such as "0000".
func classifyFormat(id int, code string) xfmt {
	f := xfmt{id: id, code: code}
	switch {
	case id >= 14 && id <= 17, id == 22, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		f.date = true
		f.time = id == 22
		return f
	case id >= 18 && id <= 21, id >= 32 && id <= 33, id >= 45 && id <= 47:
		f.date, f.time = true, true
		return f
	case id < 164 && code == "":
		return f
	}
	if code != "" && strings.Trim(code, "0") == "" {
		f.pad = len(code)
		return f
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				i = len(code)
			} else {
				i += j + 1
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				i = len(code)
				break
			}
			inner := strings.ToLower(code[i+1 : i+j])
			if strings.Trim(inner, "hms") == "" { // elapsed time [h]:mm
				b.WriteString(inner)
			}
			i += j
		case ';':
			i = len(code) // the first section decides
		default:
			b.WriteByte(c)
		}
	}
	s := strings.ToLower(strings.ReplaceAll(b.String(), "General", ""))
	s = strings.ReplaceAll(s, "general", "")
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'd', 'y', 'b':
			f.date = true
		case 'm':
			f.date = true
		case 'h', 's':
			f.date, f.time = true, true
		case 'e':
			if i+1 >= len(s) || s[i+1] != '+' && s[i+1] != '-' {
				f.date = true // era year
			}
		}
	}
	return f
}

func (b *xbook) readSST() error {
	rc, err := b.open(b.sstPart)
	if err != nil {
		return nil
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	var cur strings.Builder
	inT, inPh := false, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a valid .xlsx file (shared strings unreadable)")
		}
		switch se := tok.(type) {
		case xml.StartElement:
			switch se.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			switch se.Name.Local {
			case "si":
				b.sst = append(b.sst, unescapeX(cur.String()))
			case "t":
				inT = false
			case "rPh":
				inPh--
			}
		case xml.CharData:
			if inT && inPh == 0 {
				cur.Write(se)
			}
		}
	}
}

// unescapeX decodes the _xHHHH_ escapes of OOXML strings.
func unescapeX(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i+6 < len(s) && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// sheetPath finds a sheet by name (exactly, then ignoring case); "" is
// the first sheet.
func (b *xbook) sheetPath(where, name string) (string, string, error) {
	if name == "" && len(b.sheets) > 0 {
		return b.sheets[0].name, b.sheets[0].path, nil
	}
	for _, s := range b.sheets {
		if s.name == name {
			return s.name, s.path, nil
		}
	}
	for _, s := range b.sheets {
		if strings.EqualFold(s.name, name) {
			return s.name, s.path, nil
		}
	}
	names := make([]string, len(b.sheets))
	for i, s := range b.sheets {
		names[i] = strconv.Quote(s.name)
	}
	return "", "", fmt.Errorf("%s: sheet %q not found (the workbook has %s): %w", where, name, strings.Join(names, ", "), connector.ErrObjectNotFound)
}

// cellText returns a cell's text: shared and inline strings as they are,
// numbers exact (shortest form), date-formatted numbers as ISO dates (and
// times), zero-padded formats padded ("0042"), booleans TRUE/FALSE, the
// cached value of a formula.
func (b *xbook) cellText(t, v, inline string, style int) (string, uint8) {
	switch t {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(b.sst) {
			return "", kindString
		}
		return b.sst[i], kindString
	case "inlineStr":
		return unescapeX(inline), kindString
	case "str", "e", "d":
		return unescapeX(v), kindString
	case "b":
		if strings.TrimSpace(v) == "1" {
			return "TRUE", kindString
		}
		if v == "" {
			return "", kindString
		}
		return "FALSE", kindString
	}
	if v == "" {
		return "", kindNumber
	}
	var xf xfmt
	if style >= 0 && style < len(b.styles) {
		xf = b.styles[style]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return v, kindNumber
	}
	if xf.date {
		if s, ok := isoDate(f, b.date1904, xf.time); ok {
			return s, kindDate
		}
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if xf.pad > 0 && f >= 0 && f == math.Trunc(f) && len(s) < xf.pad {
		s = strings.Repeat("0", xf.pad-len(s)) + s
	}
	return s, kindNumber
}

// isoDate renders an Excel serial as YYYY-MM-DD, or with a time part as
// YYYY-MM-DDTHH:MM:SS (HH:MM:SS for a time of day alone).
func isoDate(serial float64, date1904, withTime bool) (string, bool) {
	if serial < 0 || serial > 2958465 { // after 9999-12-31
		return "", false
	}
	t, err := excelize.ExcelDateToTime(serial, date1904)
	if err != nil {
		return "", false
	}
	t = t.Round(time.Second)
	switch {
	case withTime && serial < 1:
		return t.Format(time.TimeOnly), true
	case withTime && serial != math.Trunc(serial):
		return t.Format("2006-01-02T15:04:05"), true
	}
	return t.Format(time.DateOnly), true
}

// serial is the inverse of isoDate for writing a date into a
// date-formatted cell.
func serial(v string, date1904 bool) (string, bool) {
	var t time.Time
	var err error
	switch len(v) {
	case 10:
		t, err = time.Parse(time.DateOnly, v)
	case 19:
		t, err = time.Parse("2006-01-02T15:04:05", v)
	default:
		return "", false
	}
	if err != nil {
		return "", false
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if !t.After(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)) && !date1904 {
		return "", false // before Excel's 1900 leap-year bug: leave as text
	}
	d := t.Sub(epoch)
	days := float64(d) / float64(24*time.Hour)
	return strconv.FormatFloat(days, 'f', -1, 64), true
}

// streamSheet streams the rows of a worksheet part. fn gets each row with
// its cell infos; merges are returned at the end by top row.
func (b *xbook) streamSheet(ctx context.Context, part string, fn func(r *rawRow, info []cellInfo) error) (map[int][][2]int, error) {
	rc, err := b.open(part)
	if err != nil {
		return nil, fmt.Errorf("not a valid .xlsx file (worksheet part missing)")
	}
	defer rc.Close()
	var (
		x        = newXScan(rc)
		tok      xtok
		row      rawRow
		info     []cellInfo
		merges   = map[int][][2]int{}
		col      int
		t        string
		style    int
		formula  bool
		inV, inT bool
		inIS     bool
		vb, isb  []byte
		lastRow  int
		n        int
	)
	for {
		err := x.next(&tok)
		if err == io.EOF {
			return merges, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not a valid .xlsx file (worksheet XML unreadable)")
		}
		switch tok.kind {
		case tokStart:
			switch string(tok.name) {
			case "row":
				n++
				if n%4096 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				num := lastRow + 1
				if r, ok := x.attrOf(tok.attrs, "r"); ok {
					if v, err := strconv.Atoi(r); err == nil {
						num = v
					}
				}
				lastRow = num
				row.num, row.bad, row.cells, info, col = num, "", row.cells[:0], info[:0], -1
			case "c":
				col++
				if r, ok := x.attrOf(tok.attrs, "r"); ok {
					if c, _, err := excelize.CellNameToCoordinates(r); err == nil {
						col = c - 1
					}
				}
				t, _ = x.attrOf(tok.attrs, "t")
				style, formula = -1, false
				if v, ok := x.attrOf(tok.attrs, "s"); ok {
					style, _ = strconv.Atoi(v)
				}
				vb, isb = vb[:0], isb[:0]
			case "v":
				inV = true
			case "f":
				formula = true
			case "is":
				inIS = true
			case "t":
				inT = true
			case "mergeCell":
				ref, _ := x.attrOf(tok.attrs, "ref")
				if c1, r1, c2, r2, ok := rangeRef(ref); ok && r2 >= r1 && c2 > c1 {
					merges[r1] = append(merges[r1], [2]int{c1, c2})
				}
			}
		case tokEnd:
			switch string(tok.name) {
			case "v":
				inV = false
			case "is":
				inIS = false
			case "t":
				inT = false
			case "c":
				text, kind := b.cellText(t, string(vb), string(isb), style)
				if col >= 0 && col < 16384 && (text != "" || formula) {
					for len(row.cells) <= col {
						row.cells = append(row.cells, "")
						info = append(info, cellInfo{})
					}
					row.cells[col] = text
					info[col] = cellInfo{present: true, formula: formula, kind: kind, style: style}
				}
			case "row":
				if err := fn(&row, info); err != nil {
					return nil, err
				}
			}
		case tokText:
			switch {
			case inV:
				vb = append(vb, tok.text...)
			case inIS && inT:
				isb = append(isb, tok.text...)
			}
		}
	}
}

func rangeRef(ref string) (c1, r1, c2, r2 int, ok bool) {
	a, b, found := strings.Cut(ref, ":")
	if !found {
		return 0, 0, 0, 0, false
	}
	x1, y1, err1 := excelize.CellNameToCoordinates(a)
	x2, y2, err2 := excelize.CellNameToCoordinates(b)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, 0, false
	}
	return x1 - 1, y1, x2 - 1, y2, true
}

// xlsxRows streams the rows of the configured sheet.
func xlsxRows(ctx context.Context, sc *sheetConf, fn func(*rawRow) error) (map[int][][2]int, error) {
	f, err := os.Open(sc.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b, err := openBook(f, fi.Size())
	if err != nil {
		return nil, err
	}
	_, part, err := b.sheetPath(sc.Path, sc.Sheet)
	if err != nil {
		return nil, err
	}
	return b.streamSheet(ctx, part, func(r *rawRow, _ []cellInfo) error { return fn(r) })
}

// xlsxEditor edits a workbook through excelize. Reads (which row holds
// which key, formula cells, cell kinds) come from the streaming reader.
type xlsxEditor struct {
	sc       *sheetConf
	book     *xbook
	f        *excelize.File
	sheet    string
	rows     []*rawRow
	info     [][]cellInfo
	mrg      map[int][][2]int
	edits    map[[2]int]string
	last     int // last row number holding a cell
	added    []map[int]string
	removed  []int
	dataRefs []int // refs of the data rows, in order: new cells copy their styles
	keyCol   int   // new keys are always written as text
}

func newXLSXEditor(sc *sheetConf, data []byte) (*xlsxEditor, error) {
	b, err := openBook(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	name, part, err := b.sheetPath(sc.Path, sc.Sheet)
	if err != nil {
		return nil, err
	}
	e := &xlsxEditor{sc: sc, book: b, sheet: name, edits: map[[2]int]string{}}
	e.mrg, err = b.streamSheet(context.Background(), part, func(r *rawRow, info []cellInfo) error {
		e.rows = append(e.rows, &rawRow{num: r.num, cells: append([]string(nil), r.cells...)})
		e.info = append(e.info, append([]cellInfo(nil), info...))
		if len(r.cells) > 0 {
			e.last = max(e.last, r.num)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.f, err = excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a valid .xlsx file")
	}
	return e, nil
}

func (e *xlsxEditor) allRows() []*rawRow { return e.rows }

func (e *xlsxEditor) merges(row int) map[int]int {
	m := map[int]int{}
	for _, span := range e.mrg[row] {
		for c := span[0] + 1; c <= span[1]; c++ {
			m[c] = span[0]
		}
	}
	return m
}

func (e *xlsxEditor) cell(ref, col int) string {
	if ref >= len(e.rows) {
		return e.added[ref-len(e.rows)][col]
	}
	if v, ok := e.edits[[2]int{ref, col}]; ok {
		return v
	}
	if c := e.rows[ref].cells; col < len(c) {
		return c[col]
	}
	return ""
}

func (e *xlsxEditor) cellInfo(ref, col int) cellInfo {
	if ref >= 0 && ref < len(e.info) && col < len(e.info[ref]) {
		return e.info[ref][col]
	}
	return cellInfo{style: -1}
}

func (e *xlsxEditor) formula(ref, col int) bool { return e.cellInfo(ref, col).formula }

// check rejects what a workbook cannot hold.
func (e *xlsxEditor) check(_, _ int, v string) error {
	if len(v) > maxCellChars && utf8.RuneCountInString(v) > maxCellChars {
		return fmt.Errorf("longer than the 32,767 characters a cell holds")
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("the value has control characters that a workbook cannot hold")
		}
	}
	return nil
}

func (e *xlsxEditor) set(ref, col int, v string) {
	if ref >= len(e.rows) {
		if v == "" {
			delete(e.added[ref-len(e.rows)], col)
		} else {
			e.added[ref-len(e.rows)][col] = v
		}
		return
	}
	e.edits[[2]int{ref, col}] = v
}

func (e *xlsxEditor) appendRow() int {
	e.added = append(e.added, map[int]string{})
	return len(e.rows) + len(e.added) - 1
}

func (e *xlsxEditor) remove(ref int) { e.removed = append(e.removed, e.rows[ref].num) }

// put writes v into a cell. The cell's kind and style come from the cell
// itself if it holds a value, else from the same column of the model row
// (whose style an empty cell without one takes over). A number or an ISO
// date is written as a number (a date as its serial) only when reading it
// back under that style gives v again, so "0800000000", "12.50" or a date
// in a text column stay text; anything else is written as text.
func (e *xlsxEditor) put(cell string, ref, col int, v string) error {
	if v == "" {
		return e.f.SetCellValue(e.sheet, cell, nil)
	}
	src := e.cellInfo(ref, col)
	if !src.present {
		src = e.columnModel(col)
		if src.present && src.style > 0 {
			if st, err := e.f.GetCellStyle(e.sheet, cell); err == nil && st == 0 {
				_ = e.f.SetCellStyle(e.sheet, cell, cell, src.style)
			}
		}
	}
	if col == e.keyCol || !src.present || src.kind == kindString {
		return e.f.SetCellStr(e.sheet, cell, v)
	}
	var cands []string
	if isPlainNumber(v) && !strings.Contains(v, ",") {
		cands = append(cands, v)
	}
	if s, ok := serial(v, e.book.date1904); ok {
		cands = append(cands, s)
	}
	for _, raw := range cands {
		if got, _ := e.book.cellText("", raw, "", src.style); got == v {
			return e.f.SetCellDefault(e.sheet, cell, raw)
		}
	}
	return e.f.SetCellStr(e.sheet, cell, v)
}

// columnModel returns the cell of column col in the nearest data row
// above the end of the sheet that has one (looking at up to 50 rows).
func (e *xlsxEditor) columnModel(col int) cellInfo {
	for i, n := len(e.dataRefs)-1, 0; i >= 0 && n < 50; i, n = i-1, n+1 {
		if ci := e.cellInfo(e.dataRefs[i], col); ci.present && !ci.formula {
			return ci
		}
	}
	return cellInfo{style: -1}
}

func (e *xlsxEditor) bytes() ([]byte, error) {
	for k, v := range e.edits {
		ref, col := k[0], k[1]
		name, err := excelize.CoordinatesToCellName(col+1, e.rows[ref].num)
		if err != nil {
			return nil, err
		}
		if err := e.put(name, ref, col, v); err != nil {
			return nil, fmt.Errorf("write row %d: %w", e.rows[ref].num, err)
		}
	}
	// New rows take kinds and styles from the last data row.
	for i, cells := range e.added {
		num := e.last + 1 + i
		for col, v := range cells {
			name, err := excelize.CoordinatesToCellName(col+1, num)
			if err != nil {
				return nil, err
			}
			if err := e.put(name, -1, col, v); err != nil {
				return nil, fmt.Errorf("write row %d: %w", num, err)
			}
		}
	}
	slices.Sort(e.removed)
	for i := len(e.removed) - 1; i >= 0; i-- { // bottom up, so numbers stay valid
		if err := e.f.RemoveRow(e.sheet, e.removed[i]); err != nil {
			return nil, fmt.Errorf("remove row %d: %w", e.removed[i], err)
		}
	}
	on := true
	if err := e.f.SetCalcProps(&excelize.CalcPropsOptions{FullCalcOnLoad: &on}); err != nil {
		return nil, err
	}
	buf, err := e.f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
