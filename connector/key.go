package connector

import (
	"strings"
	"sync"
	"unicode"

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
