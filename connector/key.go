package connector

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// folders pools case folders: a cases.Caser is not safe for concurrent use.
var folders = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

// NormalizeKey returns key in the form it is stored and sent in: NFC, with
// surrounding white space (including no-break and zero-width spaces)
// trimmed. Case is kept.
func NormalizeKey(key string) string {
	return strings.TrimFunc(nfc(key), isSpace)
}

// KeyID returns the form in which keys are compared: NormalizeKey, then
// case-folded unless caseSensitive. Two keys name the same record exactly
// when their KeyIDs are equal.
func KeyID(key string, caseSensitive bool) string {
	k := NormalizeKey(key)
	if caseSensitive {
		return k
	}
	if isASCIILower(k) {
		return k // the common case: nothing to fold
	}
	if isASCII(k) {
		return strings.ToLower(k) // ASCII folds to lower case, and is NFC
	}
	c := folders.Get().(*cases.Caser)
	defer folders.Put(c)
	return nfc(c.String(k))
}

// isSpace reports white space as spreadsheets produce it: Unicode spaces,
// no-break spaces, and the zero-width characters that survive copy and
// paste (ZWSP, ZWNJ, ZWJ, word joiner, BOM).
func isSpace(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

// TrimSpace trims white space as NormalizeKey does, including no-break and
// zero-width spaces.
func TrimSpace(s string) string { return strings.TrimFunc(s, isSpace) }

// isASCII reports whether s is ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isASCIILower reports whether s is ASCII with no upper-case letters, so
// case folding would not change it.
func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= 0x80 || ('A' <= b && b <= 'Z') {
			return false
		}
	}
	return true
}

// MaxKeyLength is the longest key, in characters, CheckKey accepts when
// given no limit of its own: the length of the longest Salesforce Text
// external id field.
const MaxKeyLength = 255

// CheckKey reports whether key can be a record's key: not empty after
// NormalizeKey, valid UTF-8, at most maxLen characters after NormalizeKey
// (MaxKeyLength when maxLen <= 0; Salesforce counts characters, not bytes),
// and free of the characters that would let a key drive a terminal, break
// a line of a log or report, or read differently from what it is:
// control characters (C0, DEL, C1), the line and paragraph separators
// U+2028 and U+2029, and the bidirectional embeddings, overrides,
// isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
// U+061C). Keys are typed into spreadsheets anyone can edit, and reach
// terminals, URLs and SOQL. Zero-width spaces and no-break spaces are
// trimmed by NormalizeKey at the edges and allowed inside.
//
// The error is a *ValueError with CodeInvalidKey that says what is wrong
// and never repeats the key.
func CheckKey(key string, maxLen int) error {
	if maxLen <= 0 {
		maxLen = MaxKeyLength
	}
	if !utf8.ValidString(key) {
		return &ValueError{Code: CodeInvalidKey, Detail: "the key is not valid UTF-8 text"}
	}
	k := NormalizeKey(key)
	if k == "" {
		return &ValueError{Code: CodeInvalidKey, Detail: "empty key"}
	}
	n := 0
	for _, r := range k {
		if badKeyRune(r) {
			return &ValueError{Code: CodeInvalidKey, Detail: fmt.Sprintf("the key holds U+%04X, a control, line-separator or text-direction character", r)}
		}
		n++
	}
	if n > maxLen {
		return &ValueError{Code: CodeInvalidKey, Detail: fmt.Sprintf("the key is %d characters long, at most %d", n, maxLen)}
	}
	return nil
}

// badKeyRune reports the characters CheckKey refuses in a key.
func badKeyRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == '\u2028', r == '\u2029': // line and paragraph separators
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true // bidi embeddings, overrides, isolates and marks
	}
	return false
}
