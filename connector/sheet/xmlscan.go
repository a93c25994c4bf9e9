package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// xscan is a small, allocation-light XML tokenizer for worksheet parts,
// which are large and simple: elements, attributes, text, the predefined
// and numeric entities, CDATA, comments and processing instructions. It is
// three times faster than encoding/xml's RawToken on a worksheet, which
// decides the speed of reading a large workbook. It does not check
// well-formedness beyond what it needs.
type xscan struct {
	br      *bufio.Reader
	buf     []byte // tag or text being read
	text    []byte // unescaped text
	lt      bool   // the '<' of the next tag has been read
	pendEnd bool   // a self-closing tag still owes its end token
	name    []byte
	// max is the most bytes of one tag or text run held (maxXMLToken): a
	// longer tag is an error, a longer text run is cut to max bytes and
	// marked long (white space between rows may run on; a cell may not).
	max  int
	long bool // the text run being read went past max
}

const (
	tokStart = iota + 1
	tokEnd
	tokText
)

// xtok is one token; its slices are valid until the next call.
type xtok struct {
	kind  int
	name  []byte // local name, without a namespace prefix
	attrs []byte // a start tag's raw attributes
	text  []byte // unescaped text
	// long: the text run was longer than the scanner holds; text is its
	// first part.
	long bool
}

func newXScan(r io.Reader) *xscan {
	return &xscan{br: bufio.NewReaderSize(r, 64<<10), max: maxXMLToken}
}

var (
	errXML = errors.New("malformed XML")
	// errXMLLong: a tag or a CDATA section longer than the scanner holds.
	errXMLLong = errors.New("an XML tag longer than the reader holds")
)

// until reads up to and including delim, returning what came before it.
// With quoted, a delim inside a quoted attribute value does not count.
// It holds at most s.max bytes: past them, a tag fails with
// errXMLLong and text is read on but not kept (s.long; the text returned
// is its first s.max bytes).
func (s *xscan) until(delim byte, quoted bool) ([]byte, error) {
	s.buf = s.buf[:0]
	s.long = false
	var q byte
	for {
		chunk, err := s.br.ReadSlice(delim)
		if len(s.buf)+len(chunk) > s.max && s.max > 0 {
			if delim == '>' {
				return nil, errXMLLong
			}
			s.buf = append(s.buf, chunk[:max(0, s.max-len(s.buf))]...)
			s.long = true
		} else {
			s.buf = append(s.buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return s.buf, err
		}
		if s.long {
			return s.buf, nil // the delimiter was not kept
		}
		if quoted {
			for _, c := range chunk {
				switch {
				case q == 0 && (c == '"' || c == '\''):
					q = c
				case c == q:
					q = 0
				}
			}
			if q != 0 {
				continue // the delimiter was inside an attribute value
			}
		}
		return s.buf[:len(s.buf)-1], nil
	}
}

func localName(b []byte) []byte {
	if i := bytes.LastIndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// next reads the next token.
func (s *xscan) next(t *xtok) error {
	if s.pendEnd {
		s.pendEnd = false
		t.kind, t.name = tokEnd, s.name
		return nil
	}
	if !s.lt {
		raw, err := s.until('<', false)
		if err != nil && err != io.EOF {
			return err
		}
		s.lt = err == nil
		if len(raw) > 0 {
			t.kind, t.text, t.long = tokText, s.unescape(raw), s.long
			return nil
		}
		if err == io.EOF {
			return io.EOF
		}
	}
	s.lt = false
	// Quotes matter in tags only: a comment may hold an apostrophe.
	peek, _ := s.br.Peek(1)
	tag, err := s.until('>', len(peek) == 1 && peek[0] != '!' && peek[0] != '?')
	if err != nil {
		return tagErr(err)
	}
	switch {
	case len(tag) > 0 && tag[0] == '?': // processing instruction
		for len(tag) == 0 || tag[len(tag)-1] != '?' {
			if tag, err = s.until('>', false); err != nil {
				return tagErr(err)
			}
		}
		return s.next(t)
	case bytes.HasPrefix(tag, []byte("!--")):
		for !bytes.HasSuffix(tag, []byte("--")) {
			if tag, err = s.until('>', false); err != nil {
				return tagErr(err)
			}
		}
		return s.next(t)
	case bytes.HasPrefix(tag, []byte("![CDATA[")):
		cdata := append([]byte(nil), tag[8:]...)
		for !bytes.HasSuffix(cdata, []byte("]]")) {
			more, err := s.until('>', false)
			if err != nil {
				return tagErr(err)
			}
			if s.long || len(cdata)+len(more) > s.max && s.max > 0 {
				return errXMLLong
			}
			cdata = append(append(cdata, '>'), more...)
		}
		t.kind, t.text, t.long = tokText, cdata[:len(cdata)-2], false
		return nil
	case len(tag) > 0 && tag[0] == '!': // DOCTYPE: not used by SpreadsheetML
		return s.next(t)
	case len(tag) > 0 && tag[0] == '/':
		t.kind, t.name = tokEnd, localName(bytes.TrimSpace(tag[1:]))
		return nil
	}
	self := len(tag) > 0 && tag[len(tag)-1] == '/'
	if self {
		tag = tag[:len(tag)-1]
	}
	i := bytes.IndexAny(tag, " \t\r\n")
	if i < 0 {
		i = len(tag)
	}
	t.kind, t.name, t.attrs = tokStart, localName(tag[:i]), tag[i:]
	if self {
		s.pendEnd = true
		s.name = append(s.name[:0], t.name...)
	}
	return nil
}

// tagErr is the error of a tag that could not be read: the end of the
// part inside a tag is errXML, anything else (errXMLLong, a limit, the
// zip's own errors) is returned as it is.
func tagErr(err error) error {
	if err == io.EOF {
		return errXML
	}
	return err
}

// unescape decodes entities and normalises line breaks (XML turns \r\n
// and \r into \n).
func (s *xscan) unescape(raw []byte) []byte {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	out := s.text[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r':
			out = append(out, '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			continue
		case '&':
			if j := bytes.IndexByte(raw[i:], ';'); j > 1 {
				if r, ok := entity(raw[i+1 : i+j]); ok {
					out = utf8.AppendRune(out, r)
					i += j
					continue
				}
			}
		}
		out = append(out, c)
	}
	s.text = out
	return out
}

func entity(e []byte) (rune, bool) {
	switch string(e) {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	if len(e) > 1 && e[0] == '#' {
		var n uint64
		var err error
		if e[1] == 'x' || e[1] == 'X' {
			n, err = strconv.ParseUint(string(e[2:]), 16, 32)
		} else {
			n, err = strconv.ParseUint(string(e[1:]), 10, 32)
		}
		if err == nil && utf8.ValidRune(rune(n)) {
			return rune(n), true
		}
	}
	return 0, false
}

// attrOf returns the unescaped value of the attribute with the given local
// name in a start tag's raw attributes.
func (s *xscan) attrOf(attrs []byte, name string) (string, bool) {
	for len(attrs) > 0 {
		attrs = bytes.TrimLeft(attrs, " \t\r\n")
		eq := bytes.IndexByte(attrs, '=')
		if eq < 0 {
			return "", false
		}
		an := localName(bytes.TrimSpace(attrs[:eq]))
		rest := bytes.TrimLeft(attrs[eq+1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
			return "", false
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return "", false
		}
		if string(an) == name {
			v := rest[1 : 1+end]
			if bytes.IndexByte(v, '&') >= 0 {
				return string(s.unescape(v)), true
			}
			return string(v), true
		}
		attrs = rest[2+end:]
	}
	return "", false
}
