package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// printableWriter escapes, in what the commands print, the characters a
// record key or a file's header could smuggle into a terminal: control
// characters (an escape sequence could rewrite the screen or the title)
// and bidirectional overrides (which reorder what a line appears to say).
// Newlines and tabs pass. Keys come from spreadsheets anyone can edit.
type printableWriter struct{ w io.Writer }

func (p printableWriter) Write(b []byte) (int, error) {
	s := string(b)
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return p.w.Write(b)
	}
	if _, err := io.WriteString(p.w, escapeUnsafe(s)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// escapeUnsafe writes each unsafeRune of s as \uXXXX.
func escapeUnsafe(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var out strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&out, "\\u%04x", r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidi embeddings, overrides, isolates and marks
	}
	return false
}
