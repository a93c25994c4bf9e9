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

// Limits of the workbook reader. A workbook is a zip of XML parts, and
// deflate inflates up to about 1,000 times: a 1 MB file can hold a GiB of
// white space between two rows, a GiB-long cell or shared string. Each
// part's size is checked against what the zip header declares and against
// the bytes actually inflated (headers lie), and the scanner never holds
// more than one bounded token, so a workbook past a limit costs at most
// a second or two and a few MiB before its read fails with ErrTooLarge.
// Variables, so tests can lower them.
var (
	// maxPartBytes is the most a worksheet or shared-strings part may
	// inflate to. The 100,000-row, 8-column register of BenchmarkReadXLSX
	// is a 43 MiB worksheet, so 256 MiB is about 600,000 such rows, far
	// more than a field office's register; the worksheet is streamed, so
	// the limit bounds time (0.3 s to read 255 MiB of white space twice,
	// BenchmarkXLSXBomb), not memory.
	maxPartBytes int64 = 256 << 20
	// maxMetaPartBytes is the most the workbook, styles and relationships
	// parts may inflate to. encoding/xml reads them and holds a token
	// whole, so they get less room; a styles part with Excel's 64,000
	// cell formats is under 10 MiB.
	maxMetaPartBytes int64 = 64 << 20
	// maxXMLToken is the most bytes of one tag or text run the worksheet
	// and shared-strings scanner holds: four times maxCellBytes. Longer
	// text between elements (white space between rows) is read on, not
	// kept; a longer tag fails the read.
	maxXMLToken = 1 << 20
	// maxCellBytes is the most bytes of a cell's text (before _xHHHH_
	// decoding) kept while reading it; a cell is then checked against
	// maxCellChars.
	maxCellBytes = 8 * maxCellChars
	// maxSharedStrings and maxSharedBytes bound the shared-string table,
	// the one part held in memory: 4,194,304 strings (a 1,048,576-row
	// sheet with four columns of distinct text) and 128 MiB of text.
	maxSharedStrings       = 4 << 20
	maxSharedBytes   int64 = 128 << 20
	// maxRows is Excel's row limit, 1,048,576: rows past it (by count or
	// by number) are not a spreadsheet Excel could have saved.
	maxRows = 1 << 20
	// maxRowBytes is the most text one row may hold (16 MiB, about 500
	// full Khmer cells): a row of 16,384 cells each pointing at the same
	// long shared string would otherwise be gigabytes in memory.
	maxRowBytes = 16 << 20
	// maxMerges is the most merged ranges of a sheet kept (each costs
	// some 50 bytes); real registers have a handful.
	maxMerges = 1 << 18
	// maxEditBytes is the most the whole package may inflate to for a
	// write-back: excelize holds every part in memory, and its cell
	// structures take about twenty times the XML (writing one cell into
	// the 43 MiB worksheet of BenchmarkReadXLSX peaks at 850 MiB of heap),
	// so 128 MiB (about 300,000 such rows) is a write of about 2.5 GiB at
	// most. A larger workbook still reads; writing into it fails with
	// ErrTooLarge. Passed to excelize as UnzipSizeLimit and as
	// UnzipXMLSizeLimit, so that excelize never inflates a worksheet into
	// a file in the system's temporary folder (by default it does past 16
	// MB, and nothing removed the file: personal data left behind).
	maxEditBytes int64 = 128 << 20
)

// ErrTooLarge is wrapped by the error of a workbook past one of the
// reader's limits (a damaged file, or a zip bomb). The read fails, fatal
// for its object; other objects and jobs are not affected.
var ErrTooLarge = errors.New("workbook past casebridge's size limits")

// bytesText renders a limit: "256 MiB", "64 KiB", "1000 bytes".
func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// countText renders a count with thousands separators: 1,048,576.
func countText(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// partReader counts the bytes a part inflates to and fails past limit,
// whatever its zip header declared.
type partReader struct {
	rc    io.ReadCloser
	part  string
	n     int64
	limit int64
}

func (p *partReader) Read(b []byte) (int, error) {
	if room := p.limit - p.n + 1; int64(len(b)) > room {
		b = b[:room] // one byte past the limit tells it was passed
	}
	n, err := p.rc.Read(b)
	p.n += int64(n)
	if p.n > p.limit {
		return n - int(p.n-p.limit), p.tooLarge()
	}
	return n, err
}

func (p *partReader) Close() error { return p.rc.Close() }

func (p *partReader) tooLarge() error {
	return fmt.Errorf("%s decompresses past %s: %w", p.part, bytesText(p.limit), ErrTooLarge)
}

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

// open opens a part that may inflate to at most limit bytes: one whose
// zip header declares more fails at once, and reading past limit fails
// with ErrTooLarge.
func (b *xbook) open(name string, limit int64) (io.ReadCloser, error) {
	f := b.files[name]
	if f == nil {
		return nil, os.ErrNotExist
	}
	p := &partReader{part: name, limit: limit}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, p.tooLarge()
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	p.rc = rc
	return p, nil
}

// tooLarge reports whether err is a workbook past a limit of the reader
// (as against a damaged one).
func tooLarge(err error) bool { return errors.Is(err, ErrTooLarge) }

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// readRels reads a relationships part: id -> (type suffix, target part
// resolved against dir). A damaged part gives what could be read; only a
// part past a limit is an error.
func (b *xbook) readRels(part, dir string) (map[string][2]string, error) {
	rels := map[string][2]string{}
	rc, err := b.open(part, maxMetaPartBytes)
	if err != nil {
		if tooLarge(err) {
			return nil, err
		}
		return rels, nil
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err != nil {
			if tooLarge(err) {
				return nil, err
			}
			return rels, nil
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
	pkgRels, err := b.readRels("_rels/.rels", "")
	if err != nil {
		return err
	}
	for _, r := range pkgRels {
		if r[0] == "officeDocument" && b.files[r[1]] != nil {
			wb = r[1]
		}
	}
	b.stylesPart, b.sstPart = "xl/styles.xml", "xl/sharedStrings.xml"
	rels := map[string]string{}
	wbRels, err := b.readRels(path.Join(path.Dir(wb), "_rels", path.Base(wb)+".rels"), path.Dir(wb))
	if err != nil {
		return err
	}
	for id, r := range wbRels {
		rels[id] = r[1]
		switch r[0] {
		case "styles":
			b.stylesPart = r[1]
		case "sharedStrings":
			b.sstPart = r[1]
		}
	}
	rc, err := b.open(wb, maxMetaPartBytes)
	if err != nil {
		if tooLarge(err) {
			return err
		}
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
			if tooLarge(err) {
				return err
			}
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
	rc, err := b.open(b.stylesPart, maxMetaPartBytes)
	if err != nil {
		if tooLarge(err) {
			return err
		}
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
			if tooLarge(err) {
				return err
			}
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

// readSST reads the shared-string table (held in memory: cells refer to
// it by index) with the worksheet scanner, within the limits on its part,
// on each string (maxCellChars), on their count and on their bytes.
func (b *xbook) readSST() error {
	rc, err := b.open(b.sstPart, maxPartBytes)
	if err != nil {
		if tooLarge(err) {
			return err
		}
		return nil
	}
	defer rc.Close()
	var (
		x     = newXScan(rc)
		tok   xtok
		cur   []byte
		total int64
		inT   bool
		inPh  int
	)
	long := func() error {
		return fmt.Errorf("%s: shared string %d is longer than the %s characters a cell holds (Excel's limit): %w",
			b.sstPart, len(b.sst), countText(maxCellChars), ErrTooLarge)
	}
	for {
		err := x.next(&tok)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if tooLarge(err) {
				return err
			}
			if err == errXMLLong {
				return fmt.Errorf("%s: an XML tag longer than %s: %w", b.sstPart, bytesText(int64(maxXMLToken)), ErrTooLarge)
			}
			return fmt.Errorf("not a valid .xlsx file (shared strings unreadable)")
		}
		switch tok.kind {
		case tokStart:
			switch string(tok.name) {
			case "si":
				cur = cur[:0]
			case "t":
				inT = true
			case "rPh":
				inPh++
			}
		case tokEnd:
			switch string(tok.name) {
			case "si":
				if len(b.sst) >= maxSharedStrings {
					return fmt.Errorf("%s: more than %s shared strings: %w", b.sstPart, countText(maxSharedStrings), ErrTooLarge)
				}
				v := unescapeX(string(cur))
				if utf8.RuneCountInString(v) > maxCellChars {
					return long()
				}
				if total += int64(len(v)); total > maxSharedBytes {
					return fmt.Errorf("%s: the shared strings hold more than %s of text: %w", b.sstPart, bytesText(maxSharedBytes), ErrTooLarge)
				}
				b.sst = append(b.sst, v)
			case "t":
				inT = false
			case "rPh":
				inPh--
			}
		case tokText:
			if inT && inPh == 0 {
				if tok.long || len(cur)+len(tok.text) > maxCellBytes {
					return long()
				}
				cur = append(cur, tok.text...)
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
// its cell infos; merges are returned at the end by top row. A sheet past
// a limit (part size, rows, a cell's or a row's text, merged ranges)
// fails with ErrTooLarge.
func (b *xbook) streamSheet(ctx context.Context, part string, fn func(r *rawRow, info []cellInfo) error) (map[int][][2]int, error) {
	rc, err := b.open(part, maxPartBytes)
	if err != nil {
		if tooLarge(err) {
			return nil, err
		}
		return nil, fmt.Errorf("not a valid .xlsx file (worksheet part missing)")
	}
	defer rc.Close()
	var (
		x        = newXScan(rc)
		tok      xtok
		row      rawRow
		info     []cellInfo
		merges   = map[int][][2]int{}
		nMerges  int
		col      int
		t        string
		style    int
		formula  bool
		inV, inT bool
		inIS     bool
		vb, isb  []byte
		lastRow  int
		n        int
		rowBytes int
	)
	// limit is the error of a sheet past one of the limits.
	limit := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", part, fmt.Sprintf(format, args...), ErrTooLarge)
	}
	cellName := func() string {
		name, err := excelize.CoordinatesToCellName(col+1, max(row.num, 1))
		if err != nil {
			return fmt.Sprintf("row %d", row.num)
		}
		return fmt.Sprintf("row %d cell %s", row.num, name)
	}
	longCell := func() error {
		return limit("%s is longer than the %s characters a cell holds (Excel's limit)", cellName(), countText(maxCellChars))
	}
	for {
		err := x.next(&tok)
		if err == io.EOF {
			return merges, nil
		}
		if err != nil {
			switch {
			case tooLarge(err):
				return nil, err
			case err == errXMLLong:
				return nil, limit("after row %d, an XML tag longer than %s", row.num, bytesText(int64(maxXMLToken)))
			}
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
				if n > maxRows || num > maxRows {
					return nil, limit("more than %s rows (Excel's limit)", countText(maxRows))
				}
				lastRow = num
				row.num, row.bad, row.cells, info, col, rowBytes = num, "", row.cells[:0], info[:0], -1, 0
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
					if nMerges++; nMerges > maxMerges {
						return nil, limit("more than %s merged ranges", countText(maxMerges))
					}
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
				if len(text) > maxCellChars && utf8.RuneCountInString(text) > maxCellChars {
					return nil, longCell()
				}
				if rowBytes += len(text); rowBytes > maxRowBytes {
					return nil, limit("row %d holds more than %s of text", row.num, bytesText(int64(maxRowBytes)))
				}
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
				if tok.long || len(vb)+len(tok.text) > maxCellBytes {
					return nil, longCell()
				}
				vb = append(vb, tok.text...)
			case inIS && inT:
				if tok.long || len(isb)+len(tok.text) > maxCellBytes {
					return nil, longCell()
				}
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

// xlsxRows streams the rows of the configured sheet. A workbook past a
// limit fails with a fatal *connector.RecordError naming the file, the
// sheet and the limit, wrapping ErrTooLarge.
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
	name := sc.Sheet
	fatal := func(err error) error {
		if !tooLarge(err) {
			return err
		}
		where := sc.Path
		if name != "" {
			where += fmt.Sprintf(" sheet %q", name)
		}
		return &connector.RecordError{Op: "read", Connector: sc.conn, Object: sc.Object, Class: connector.Fatal,
			Err: fmt.Errorf("%s: %w", where, err)}
	}
	b, err := openBook(f, fi.Size())
	if err != nil {
		return nil, fatal(err)
	}
	name, part, err := b.sheetPath(sc.Path, sc.Sheet)
	if err != nil {
		return nil, err
	}
	m, err := b.streamSheet(ctx, part, func(r *rawRow, _ []cellInfo) error { return fn(r) })
	return m, fatal(err)
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
	// excelize holds the whole package: its declared size (which
	// archive/zip holds the inflated parts to) is bounded as a whole.
	var total uint64
	for _, f := range b.zr.File {
		if total += min(f.UncompressedSize64, uint64(maxEditBytes)+1); total > uint64(maxEditBytes) {
			break
		}
	}
	if total > uint64(maxEditBytes) {
		return nil, fmt.Errorf("the workbook decompresses past %s, the most casebridge writes back into: %w", bytesText(maxEditBytes), ErrTooLarge)
	}
	e.f, err = excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxEditBytes, UnzipXMLSizeLimit: maxEditBytes})
	if err != nil {
		return nil, fmt.Errorf("not a valid .xlsx file")
	}
	return e, nil
}

func (e *xlsxEditor) allRows() []*rawRow { return e.rows }

// Close releases what excelize holds (any part it spilled to a temporary
// file: a copy of the workbook's data).
func (e *xlsxEditor) Close() error { return e.f.Close() }

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
	if len(v) > maxCellChars && utf16Len(v) > maxCellChars {
		// Excel counts UTF-16 units (an emoji is two), and excelize cuts a
		// longer text short without a word.
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
		return e.setStr(cell, v)
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
	return e.setStr(cell, v)
}

// setStr writes v into a cell as a string. A text holding what reads as
// an _xHHHH_ escape ("_x0041_" typed in a note) goes in as a one-run rich
// text, which excelize escapes as OOXML requires (_x005F_x0041_): its
// SetCellStr stores the text as given, so a reader (this one, Excel) would
// decode it, and its shared-string index is keyed inconsistently for such
// texts (a second one could be given the first one's string).
func (e *xlsxEditor) setStr(cell, v string) error {
	if !hasXEscape(v) {
		return e.f.SetCellStr(e.sheet, cell, v)
	}
	if err := e.f.SetCellStr(e.sheet, cell, ""); err != nil { // drops a formula, keeps the style
		return err
	}
	return e.f.SetCellRichText(e.sheet, cell, []excelize.RichTextRun{{Text: v}})
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if n++; r > 0xFFFF {
			n++ // a surrogate pair
		}
	}
	return n
}

// hasXEscape reports whether v holds an _xHHHH_ escape.
func hasXEscape(v string) bool {
	for i := strings.Index(v, "_x"); i >= 0; {
		if isXEscape(v[i:]) {
			return true
		}
		j := strings.Index(v[i+1:], "_x")
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// isXEscape reports whether s starts with an _xHHHH_ escape.
func isXEscape(s string) bool {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
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
