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
	n, err := readNode(dec, raw)
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

func lineCol(raw []byte, off int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func readNode(dec *json.Decoder, raw []byte) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	return readFrom(dec, raw, tok)
}

func readFrom(dec *json.Decoder, raw []byte, tok json.Token) (node, error) {
	var n node
	n.line, n.col = lineCol(raw, dec.InputOffset())
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
				v, err := readNode(dec, raw)
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
				v, err := readNode(dec, raw)
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
