package sftest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate
	tDateTime
	tOp
	tLParen
	tRParen
	tComma
	tColon
)

type token struct {
	kind tokKind
	text string // as written
	val  string // decoded string literal
	pos  int    // byte offset in the query
}

// soqlError is a query error in Salesforce's shape: the offending line, a
// caret, "ERROR at Row:R:Column:C" and the message.
type soqlError struct {
	code string
	msg  string
	pos  int // byte offset, -1 for no excerpt
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

// render builds the message for a query string.
func (e *soqlError) render(q string) string {
	if e.pos < 0 {
		return e.msg
	}
	if e.pos > len(q) {
		e.pos = len(q)
	}
	row := 1 + strings.Count(q[:e.pos], "\n")
	lineStart := strings.LastIndex(q[:e.pos], "\n") + 1
	lineEnd := strings.IndexByte(q[e.pos:], '\n')
	if lineEnd < 0 {
		lineEnd = len(q)
	} else {
		lineEnd += e.pos
	}
	line := q[lineStart:lineEnd]
	col := utf8.RuneCountInString(q[lineStart:e.pos]) + 1
	runes := []rune(line)
	caret := col - 1
	if len(runes) > 120 {
		start := caret - 40
		if start < 0 {
			start = 0
		}
		end := start + 80
		if end > len(runes) {
			end = len(runes)
		}
		runes = runes[start:end]
		caret -= start
	}
	return fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", string(runes), strings.Repeat(" ", caret), row, col, e.msg)
}

func malformed(pos int, format string, args ...any) *soqlError {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf(format, args...), pos}
}

func unexpected(t token) *soqlError {
	if t.kind == tEOF {
		return malformed(t.pos, "unexpected token: <EOF>")
	}
	return malformed(t.pos, "unexpected token: '%s'", t.text)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lex(q string) ([]token, *soqlError) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", "", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", "", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", "", i})
			i++
		case c == ':':
			toks = append(toks, token{tColon, ":", "", i})
			i++
		case c == '=':
			toks = append(toks, token{tOp, "=", "", i})
			i++
		case c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(q) && (q[i+1] == '=' || (c == '<' && q[i+1] == '>')) {
				op += string(q[i+1])
			}
			if op == "!" {
				return nil, malformed(i, "line 1:%d no viable alternative at character '!'", i)
			}
			toks = append(toks, token{tOp, op, "", i})
			i += len(op)
		case c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(q) {
				ch := q[i]
				if ch == '\\' && i+1 < len(q) {
					switch q[i+1] {
					case 'n', 'N':
						b.WriteByte('\n')
					case 'r', 'R':
						b.WriteByte('\r')
					case 't', 'T':
						b.WriteByte('\t')
					case 'b', 'B':
						b.WriteByte('\b')
					case 'f', 'F':
						b.WriteByte('\f')
					case '"', '\'', '\\':
						b.WriteByte(q[i+1])
					case '_', '%':
						// kept escaped: only meaningful to LIKE
						b.WriteByte('\\')
						b.WriteByte(q[i+1])
					default:
						return nil, malformed(i, "Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", q[start:], q[i+1])
					}
					i += 2
					continue
				}
				if ch == '\'' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, malformed(start, "line 1:%d mismatched character '<EOF>' expecting '''", len(q))
			}
			toks = append(toks, token{tString, q[start:i], b.String(), start})
		case isDigit(c) || ((c == '-' || c == '+' || c == '.') && i+1 < len(q) && isDigit(q[i+1])):
			start := i
			if c == '-' || c == '+' {
				i++
			}
			j := i
			for j < len(q) && isDigit(q[j]) {
				j++
			}
			if j-i == 4 && j < len(q) && q[j] == '-' && start == i {
				// date or datetime literal
				k := j
				for k < len(q) && (isDigit(q[k]) || strings.IndexByte("-:TZ.+", q[k]) >= 0) {
					k++
				}
				text := q[start:k]
				kind := tDate
				if strings.Contains(text, "T") {
					kind = tDateTime
				}
				toks = append(toks, token{kind, text, "", start})
				i = k
				continue
			}
			for j < len(q) && (isDigit(q[j]) || q[j] == '.') {
				j++
			}
			toks = append(toks, token{tNumber, q[start:j], "", start})
			i = j
		case isIdentStart(c):
			start := i
			for i < len(q) && (isIdentStart(q[i]) || isDigit(q[i]) || q[i] == '.') {
				i++
			}
			toks = append(toks, token{tIdent, q[start:i], "", start})
		default:
			r, _ := utf8.DecodeRuneInString(q[i:])
			return nil, malformed(i, "line 1:%d no viable alternative at character '%c'", i, r)
		}
	}
	toks = append(toks, token{tEOF, "", "", len(q)})
	return toks, nil
}
