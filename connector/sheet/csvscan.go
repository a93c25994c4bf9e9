package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// encoding is a CSV file's character encoding.
type encoding uint8

const (
	encUTF8 encoding = iota
	encUTF16LE
	encUTF16BE
	enc1252
	enc874
	encLatin1
)

var encodingNames = [...]string{"utf-8", "utf-16le", "utf-16be", "windows-1252", "windows-874", "iso-8859-1"}

func (e encoding) String() string { return encodingNames[e] }

// charmap returns the table of a single-byte encoding, nil for the
// Unicode ones.
func (e encoding) charmap() *charmap.Charmap {
	switch e {
	case enc1252:
		return charmap.Windows1252
	case enc874:
		return charmap.Windows874 // a superset of TIS-620
	case encLatin1:
		return charmap.ISO8859_1
	}
	return nil
}

// parseEncoding maps a configured encoding name; "" and "auto" detect.
func parseEncoding(s string) (enc encoding, auto bool, err error) {
	switch strings.ToLower(strings.ReplaceAll(s, "_", "-")) {
	case "", "auto":
		return encUTF8, true, nil
	case "utf-8", "utf8":
		return encUTF8, false, nil
	case "utf-16le", "utf16le":
		return encUTF16LE, false, nil
	case "utf-16be", "utf16be":
		return encUTF16BE, false, nil
	case "utf-16", "utf16":
		return encUTF16LE, true, nil // BOM decides; little-endian without one
	case "windows-1252", "cp1252", "win1252":
		return enc1252, false, nil
	case "windows-874", "cp874", "tis-620", "tis620":
		return enc874, false, nil
	case "iso-8859-1", "latin1", "latin-1":
		return encLatin1, false, nil
	}
	return 0, false, fmt.Errorf("unknown encoding %q (want utf-8, utf-16, utf-16le, utf-16be, windows-1252, windows-874, tis-620 or iso-8859-1)", s)
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// csvFormat is what write-back must keep of a CSV file.
type csvFormat struct {
	enc   encoding
	bom   []byte // the byte order mark found, written back as is
	delim rune
	eol   string // line ending of the first row: "\r\n", "\n" or "\r"
}

// sniffSize is how much of a file encoding and delimiter detection look at.
const sniffSize = 64 << 10

// detectFormat decides encoding, BOM and delimiter from the start of a
// file. encName and delim come from the configuration ("" detects).
func detectFormat(head []byte, encName, delim, key string) (csvFormat, error) {
	var f csvFormat
	enc, auto, err := parseEncoding(encName)
	if err != nil {
		return f, err
	}
	switch {
	case bytes.HasPrefix(head, bomUTF8) && (auto || enc == encUTF8):
		f.enc, f.bom = encUTF8, bomUTF8
	case bytes.HasPrefix(head, bomUTF16LE) && (auto || enc == encUTF16LE):
		f.enc, f.bom = encUTF16LE, bomUTF16LE
	case bytes.HasPrefix(head, bomUTF16BE) && (auto || enc == encUTF16BE):
		f.enc, f.bom = encUTF16BE, bomUTF16BE
	case !auto:
		f.enc = enc
	case encName != "" && strings.Contains(strings.ToLower(encName), "16"):
		f.enc = encUTF16LE
	default:
		f.enc = guessEncoding(head)
	}
	switch delim {
	case "":
		f.delim = sniffDelimiter(head[len(f.bom):], f.enc, key)
	case `\t`, "tab", "\t":
		f.delim = '\t'
	default:
		r, n := utf8.DecodeRuneInString(delim)
		if n != len(delim) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
			return f, fmt.Errorf("delimiter must be one character other than a quote or newline")
		}
		f.delim = r
	}
	f.eol = "\r\n"
	return f, nil
}

// guessEncoding looks at the start of a file without a BOM: UTF-16 if
// many bytes are zero, UTF-8 if it decodes as UTF-8, Windows-1252
// otherwise.
func guessEncoding(head []byte) encoding {
	if len(head) >= 4 {
		var even, odd int
		for i, b := range head {
			if b == 0 {
				if i%2 == 0 {
					even++
				} else {
					odd++
				}
			}
		}
		if odd > len(head)/4 && even == 0 {
			return encUTF16LE
		}
		if even > len(head)/4 && odd == 0 {
			return encUTF16BE
		}
	}
	// UTF-8 unless invalid sequences outnumber valid multi-byte ones: one
	// damaged byte in a UTF-8 file must not turn all of its Thai text into
	// mojibake (the damaged row is reported instead), while Windows-1252
	// text almost never contains valid multi-byte UTF-8 sequences.
	valid, invalid := 0, 0
	for i := 0; i < len(head); {
		if head[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		switch {
		case r != utf8.RuneError || n > 1:
			valid++
		case len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]):
			// a rune cut by the end of the sample
		default:
			invalid++
		}
		i += n
	}
	if invalid <= valid {
		return encUTF8
	}
	// A single-byte encoding. Thai (windows-874, TIS-620) writes words as
	// runs of high bytes; Windows-1252 text has accented letters between
	// ASCII ones.
	high, inRuns := 0, 0
	for i, b := range head {
		if b < 0x80 {
			continue
		}
		high++
		if i >= 2 && head[i-1] >= 0xA1 && head[i-2] >= 0xA1 && b >= 0xA1 {
			inRuns++
		}
	}
	if high > 0 && inRuns*2 > high {
		return enc874
	}
	return enc1252
}

// sniffDelimiter picks comma, semicolon or tab. The delimiter that splits
// a row into cells one of which is the key column's name wins (the one
// giving that row the most cells, if several do); failing that, the one
// that splits most of the first rows into the same number (more than one)
// of cells. Values full of semicolons (multi-select "a;b") do not fool the
// first rule.
func sniffDelimiter(head []byte, enc encoding, key string) rune {
	best, bestScore := ',', -1
	bestHeader, bestCells := rune(0), 0
	want := fold(key)
	for _, d := range []rune{',', ';', '\t'} {
		s := newCSVScanner(bytes.NewReader(head), csvFormat{enc: enc, delim: d}, false)
		counts := map[int]int{}
		var rec csvRecord
		for n := 0; n < headerScanLimit; n++ {
			ok, err := s.scan(&rec)
			if !ok || err != nil || rec.bad != "" && s.eof {
				break // the last row of the sample may be cut short
			}
			if len(rec.fields) > 1 {
				counts[len(rec.fields)]++
			}
			if want != "" && len(rec.fields) > bestCells && slices.ContainsFunc(rec.fields, func(f string) bool { return fold(f) == want }) {
				bestHeader, bestCells = d, len(rec.fields)
			}
		}
		mode, rows := 0, 0
		for c, n := range counts {
			if n > rows || n == rows && c > mode {
				mode, rows = c, n
			}
		}
		if score := rows*1000 + min(mode, 999); rows > 0 && score > bestScore {
			best, bestScore = d, score
		}
	}
	if bestHeader != 0 {
		return bestHeader
	}
	return best
}

// csvRecord is one row of a CSV file as the scanner reads it.
type csvRecord struct {
	num    int      // 1-based row number, as a spreadsheet program counts rows
	fields []string // cell texts, decoded, quotes removed (guard not stripped)
	// Byte offsets in the file: the row is [start,end), its line ending
	// [end,next). spans holds start and end of each field's raw bytes
	// (quotes included) when the scanner keeps spans.
	start, end, next int64
	spans            []int64
	bad              string // why the row is unreadable (never a value), or ""
	badCol           int    // the column where it became unreadable
	// line is the file's line (1-based, as a text editor counts lines) the
	// row starts on, lines how many it spans: more than one when a quoted
	// cell holds line breaks.
	line, lines int
	// quotedLines holds each whole line inside a quoted cell (a line that
	// both starts and ends within the quotes): an unclosed quote swallows
	// the rows after it, and those lines still look like rows (see
	// layout.swallowed).
	quotedLines []quotedLine
}

// quotedLine is a whole line inside a quoted cell: the bytes
// [start,end) of the decoded text of field, line break excluded.
type quotedLine struct{ field, start, end int }

// csvScanner reads CSV records from an encoded byte stream, keeping byte
// offsets so that write-back can splice single cells. Quotes are read
// leniently (a quote inside an unquoted cell is text, text after a closing
// quote is appended), as spreadsheet programs do; invalid bytes in the
// encoding and an unterminated quoted cell make the row bad.
type csvScanner struct {
	br        *bufio.Reader
	f         csvFormat
	keepSpans bool
	off       int64 // offset of the next byte
	num       int
	line      int // line breaks read so far
	eof       bool
	eol       string // first line ending seen
	buf       []byte
	pending   bool // a pushed-back rune
	pr        rune
	psize     int
	pbad      bool
	// runeByRune turns off the fast path (plain), leaving every rune to
	// next: the tests compare the two.
	runeByRune bool
}

func newCSVScanner(r io.Reader, f csvFormat, keepSpans bool) *csvScanner {
	s := &csvScanner{br: bufio.NewReaderSize(r, 64<<10), f: f, keepSpans: keepSpans}
	return s
}

var errEOF = io.EOF

// next returns the next rune, its size in bytes and whether the bytes were
// invalid in the encoding.
func (s *csvScanner) next() (r rune, size int, bad bool, err error) {
	if s.pending {
		s.pending = false
		s.off += int64(s.psize)
		return s.pr, s.psize, s.pbad, nil
	}
	switch s.f.enc {
	case encUTF8:
		r, size, err = s.br.ReadRune()
		if err != nil {
			return 0, 0, false, err
		}
		bad = r == utf8.RuneError && size == 1
	case enc1252, enc874, encLatin1:
		b, err := s.br.ReadByte()
		if err != nil {
			return 0, 0, false, err
		}
		r, size = s.f.enc.charmap().DecodeByte(b), 1
		bad = r == utf8.RuneError
	default:
		u, n, err := s.unit()
		if err != nil {
			return 0, 0, false, err
		}
		if n < 2 {
			r, size, bad = utf8.RuneError, n, true
			break
		}
		r, size = rune(u), 2
		if utf16.IsSurrogate(r) {
			if u < 0xDC00 { // high surrogate: needs a low one
				if lo, err := s.br.Peek(2); err == nil {
					l := s.order(lo)
					if l >= 0xDC00 && l <= 0xDFFF {
						s.br.Discard(2)
						r, size = utf16.DecodeRune(rune(u), rune(l)), 4
						break
					}
				}
			}
			r, bad = utf8.RuneError, true
		}
	}
	s.off += int64(size)
	return r, size, bad, nil
}

func (s *csvScanner) order(b []byte) uint16 {
	if s.f.enc == encUTF16BE {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

// unit reads one UTF-16 code unit; n is 1 for a dangling odd byte.
func (s *csvScanner) unit() (uint16, int, error) {
	b, err := s.br.Peek(2)
	if len(b) == 2 {
		s.br.Discard(2)
		return s.order(b), 2, nil
	}
	if len(b) == 1 {
		s.br.Discard(1)
		return 0, 1, nil
	}
	return 0, 0, err
}

// plain copies into s.buf the run of plain text that starts at the
// reader's position and is already in its buffer, and returns its length
// in bytes: the fast path of scan, which otherwise reads rune by rune
// (next). Plain text is what scan would append to the cell unchanged and
// without other effect: in UTF-8 valid sequences, in the single-byte
// encodings ASCII (the same byte in each), other than a quote, CR, LF and,
// outside quotes, the delimiter. The run stops before anything else (and
// before a sequence cut by the end of the buffer), which next reads.
// UTF-16 has no fast path.
func (s *csvScanner) plain(quoted bool) int {
	if s.pending || s.runeByRune {
		return 0
	}
	utf8Enc := s.f.enc == encUTF8
	if !utf8Enc && s.f.enc.charmap() == nil {
		return 0
	}
	n := s.br.Buffered()
	if n == 0 {
		return 0
	}
	b, _ := s.br.Peek(n)
	// db is the delimiter's byte when it is ASCII and counts here; a
	// quote (which stops the run anyway) when not.
	db, wide := byte('"'), false
	if d := s.f.delim; !quoted {
		if d < utf8.RuneSelf {
			db = byte(d)
		} else {
			wide = true
		}
	}
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == db || c <= '"' && (c == '"' || c == '\r' || c == '\n') {
				break
			}
			i++
			continue
		}
		if !utf8Enc {
			break
		}
		var m int
		if c >= 0xE0 && c < 0xF0 && i+2 < len(b) {
			// Three bytes (Thai, Khmer, Bengali...), checked here as
			// validRune does.
			b1 := b[i+1]
			if b1&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 || c == 0xE0 && b1 < 0xA0 || c == 0xED && b1 > 0x9F {
				break
			}
			m = 3
		} else if m = validRune(b[i:]); m == 0 {
			break // invalid, or cut by the end of the buffer: next decides
		}
		if wide {
			if r, _ := utf8.DecodeRune(b[i : i+m]); r == s.f.delim {
				break
			}
		}
		i += m
	}
	if i > 0 {
		s.buf = append(s.buf, b[:i]...)
		s.br.Discard(i)
		s.off += int64(i)
	}
	return i
}

// validRune returns the length of the valid multi-byte UTF-8 sequence b
// starts with (b[0] >= 0x80), or 0 if it is invalid or incomplete. It
// accepts exactly what utf8.DecodeRune decodes to a rune of more than one
// byte (no overlong forms, surrogates or values above U+10FFFF).
func validRune(b []byte) int {
	c := b[0]
	switch {
	case c < 0xC2:
		return 0
	case c < 0xE0:
		if len(b) >= 2 && b[1]&0xC0 == 0x80 {
			return 2
		}
	case c < 0xF0:
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
		if len(b) >= 3 && b[1] >= lo && b[1] <= hi && b[2]&0xC0 == 0x80 {
			return 3
		}
	case c < 0xF5:
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
		if len(b) >= 4 && b[1] >= lo && b[1] <= hi && b[2]&0xC0 == 0x80 && b[3]&0xC0 == 0x80 {
			return 4
		}
	}
	return 0
}

func (s *csvScanner) unread(r rune, size int, bad bool) {
	s.pending, s.pr, s.psize, s.pbad = true, r, size, bad
	s.off -= int64(size)
}

// setBad marks the record unreadable at column col, keeping the first
// reason.
func (rec *csvRecord) setBad(col int, why string) {
	if rec.bad == "" {
		rec.bad, rec.badCol = why, col
	}
}

// finish numbers a record that ends at the current position.
func (s *csvScanner) finish(rec *csvRecord) {
	s.num++
	rec.num = s.num
	rec.lines = s.line + 2 - rec.line
}

// scan reads the next record into rec, reusing its slices. It returns
// false at the end of the input.
//
// A quoted cell that holds line breaks is where a stray quote does its
// damage: the cell swallows the rows after it up to the next quote in the
// file. The scanner records what a person looking at the file would see:
// the lines inside the quotes that read as rows of their own
// (quotedLines), and text after the closing quote of such a cell (the
// "closing" quote was really the opening quote of a later cell), which
// makes the row bad.
func (s *csvScanner) scan(rec *csvRecord) (bool, error) {
	rec.fields = rec.fields[:0]
	rec.spans = rec.spans[:0]
	rec.quotedLines = rec.quotedLines[:0]
	rec.bad = ""
	rec.start = s.off
	rec.line = s.line + 1
	if s.eof {
		return false, nil
	}
	d := s.f.delim
	s.buf = s.buf[:0]
	fieldStart := s.off
	quoted := false   // inside a quoted section
	atStart := true   // at the start of a field
	anything := false // the row has at least one rune
	spanned := 0      // line breaks inside the current field's quotes
	closed := false   // right after a closing quote
	// The start (in s.buf) of the current line inside quotes, when it
	// started inside them.
	lineStart, lineOn := 0, false
	endField := func(end int64) {
		rec.fields = append(rec.fields, string(s.buf))
		if s.keepSpans {
			rec.spans = append(rec.spans, fieldStart, end)
		}
		s.buf = s.buf[:0]
	}
	for {
		// Runs of plain text skip the rune-by-rune path. Not right after
		// a closing quote, where what follows decides whether the row is
		// damaged (below).
		if !closed && s.plain(quoted) > 0 {
			anything, atStart = true, false
		}
		r, size, isBad, err := s.next()
		if err != nil {
			if !errors.Is(err, errEOF) {
				return false, err
			}
			s.eof = true
			if !anything {
				return false, nil
			}
			if quoted {
				rec.setBad(len(rec.fields), fmt.Sprintf("a quoted cell opened on line %d is not closed before the end of the file (line %d): an unclosed quote", s.line+1-spanned, s.line+1))
			}
			endField(s.off)
			rec.end, rec.next = s.off, s.off
			s.finish(rec)
			s.line++ // the last line, not ended by a line break
			return true, nil
		}
		anything = true
		if isBad {
			rec.setBad(len(rec.fields), "bytes that are not valid "+s.f.enc.String())
		}
		if quoted {
			switch r {
			case '"':
				r2, size2, bad2, err := s.next()
				if err == nil && r2 == '"' {
					s.buf = append(s.buf, '"')
					continue
				}
				if err == nil {
					s.unread(r2, size2, bad2)
				}
				quoted, closed = false, true
				continue
			case '\r', '\n':
				if lineOn {
					rec.quotedLines = append(rec.quotedLines, quotedLine{len(rec.fields), lineStart, len(s.buf)})
				}
				if r == '\r' {
					if r2, size2, bad2, err := s.next(); err == nil && r2 == '\n' {
						s.buf = append(s.buf, '\r')
						r = '\n'
					} else if err == nil {
						s.unread(r2, size2, bad2)
					}
				}
				s.line++
				spanned++
				s.buf = utf8.AppendRune(s.buf, r)
				lineStart, lineOn = len(s.buf), true
				continue
			}
			s.buf = utf8.AppendRune(s.buf, r)
			continue
		}
		if closed && r != d && r != '\r' && r != '\n' && r != ' ' && r != '\t' {
			// (Blanks between a closing quote and the delimiter are a
			// hand-edited file's, not damage.)
			if spanned > 0 {
				rec.setBad(len(rec.fields), fmt.Sprintf("text follows the closing quote of a cell that spans lines %d-%d: the quote that closed it probably opened a later cell (an unclosed quote)", s.line+1-spanned, s.line+1))
			}
			closed = false
		}
		switch {
		case r == '"' && atStart:
			quoted, atStart = true, false
		case r == d:
			endField(s.off - int64(size))
			fieldStart, atStart = s.off, true
			spanned, closed, lineOn = 0, false, false
		case r == '\r' || r == '\n':
			end := s.off - int64(size)
			eol := "\n"
			if r == '\r' {
				eol = "\r"
				r2, size2, bad2, err := s.next()
				if err == nil && r2 == '\n' {
					eol = "\r\n"
				} else if err == nil {
					s.unread(r2, size2, bad2)
				}
			}
			if s.eol == "" {
				s.eol = eol
			}
			endField(end)
			rec.end, rec.next = end, s.off
			s.finish(rec)
			s.line++
			return true, nil
		default:
			atStart = false
			s.buf = utf8.AppendRune(s.buf, r)
		}
	}
}
