package sftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is a decoded JSON value that remembers where it ended in the body,
// so type errors can cite [line:L, column:C] as Salesforce does.
type node struct {
	kind  byte // 's' string, 'n' number, 'b' bool, 'z' null, 'o' object, 'a' array
	s     string
	num   json.Number
	b     bool
	obj   []member
	arr   []node
	line  int
	col   int
	token string // the scalar as written (for messages)
}

type member struct {
	name string
	val  node
}

type parsedBody struct {
	root   node
	fields []member // root object members
}

// parseBody decodes a request body with UseNumber and positions.
func parseBody(raw []byte) (*parsedBody, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec, &positions{raw: raw, line: 1, col: 1})
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	pb := &parsedBody{root: n}
	if n.kind == 'o' {
		pb.fields = n.obj
	}
	return pb, nil
}

// positions turns the decoder's offsets, which only grow, into lines and
// columns, counting each byte of the body once (counting from the start
// for every value made a body of 200 records cost quadratic time).
type positions struct {
	raw       []byte
	off       int64 // the offset line and col are of
	line, col int
}

func (p *positions) at(off int64) (int, int) {
	if off < p.off {
		p.off, p.line, p.col = 0, 1, 1
	}
	for ; p.off < off && p.off < int64(len(p.raw)); p.off++ {
		if p.raw[p.off] == '\n' {
			p.line, p.col = p.line+1, 1
		} else {
			p.col++
		}
	}
	return p.line, p.col
}

func readNode(dec *json.Decoder, pos *positions) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	return readFrom(dec, pos, tok)
}

func readFrom(dec *json.Decoder, pos *positions, tok json.Token) (node, error) {
	var n node
	n.line, n.col = pos.at(dec.InputOffset())
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind, n.token = 'o', "{"
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return n, err
				}
				k, _ := kt.(string)
				v, err := readNode(dec, pos)
				if err != nil {
					return n, err
				}
				n.obj = append(n.obj, member{k, v})
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n.kind, n.token = 'a', "["
			for dec.More() {
				v, err := readNode(dec, pos)
				if err != nil {
					return n, err
				}
				n.arr = append(n.arr, v)
			}
			_, err := dec.Token()
			return n, err
		}
		return n, fmt.Errorf("unexpected %v", t)
	case string:
		n.kind, n.s, n.token = 's', t, t
	case json.Number:
		n.kind, n.num, n.token = 'n', t, t.String()
	case bool:
		n.kind, n.b, n.token = 'b', t, fmt.Sprint(t)
	case nil:
		n.kind, n.token = 'z', "null"
	}
	return n, nil
}

func (n node) jacksonKind() string {
	switch n.kind {
	case 's':
		return "VALUE_STRING"
	case 'n':
		if bytes.ContainsAny([]byte(n.token), ".eE") {
			return "VALUE_NUMBER_FLOAT"
		}
		return "VALUE_NUMBER_INT"
	case 'b':
		if n.b {
			return "VALUE_TRUE"
		}
		return "VALUE_FALSE"
	case 'o':
		return "START_OBJECT"
	case 'a':
		return "START_ARRAY"
	}
	return "VALUE_NULL"
}

func (n node) member(name string) (node, bool) {
	for _, m := range n.obj {
		if m.name == name {
			return m.val, true
		}
	}
	return node{}, false
}
