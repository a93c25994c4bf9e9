package mapping

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/casebridge/casebridge/connector"
)

// Clean is the shared text clean-up (doc/architecture.md §11.6 rule 1), in the form
// used to match a cell against configured words: Unicode NFC, white space
// trimmed at both ends (including no-break and zero-width spaces),
// zero-width spaces, word joiners and byte-order marks removed inside, and
// Thai (U+0E50–59), Khmer (U+17E0–E9) and Bengali (U+09E6–EF) digits
// folded to ASCII. ZWJ and ZWNJ are kept inside: they shape Bengali and
// Khmer conjuncts.
//
// Clean does not allocate when s is already clean.
func Clean(s string) string { return clean(s, true, true) }

// CleanText is the clean-up of text kept as written (Name_Local_Script,
// case notes): Unicode NFC and white space trimmed at both ends, as Clean,
// but nothing removed or changed inside. Inside Khmer text a zero-width
// space (U+200B) separates words; removing it would join them.
func CleanText(s string) string { return clean(s, false, false) }

func clean(s string, foldDigits, innerZW bool) string {
	s = connector.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	if norm.NFC.QuickSpanString(s) != len(s) { // IsNormalString allocates
		s = norm.NFC.String(s)
	}
	if !foldDigits && !innerZW {
		return s
	}
	dirty := false
	for _, r := range s[i:] {
		if innerZW && isInnerZW(r) || (foldDigits && nativeDigit(r) >= 0) {
			dirty = true
			break
		}
	}
	if !dirty {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case innerZW && isInnerZW(r):
		case foldDigits && nativeDigit(r) >= 0:
			b.WriteByte(byte('0' + nativeDigit(r)))
		default:
			b.WriteRune(r)
		}
	}
	if innerZW && norm.NFC.QuickSpanString(b.String()) != b.Len() {
		return norm.NFC.String(b.String()) // "e\u200b\u0301" composes once the ZWSP is gone
	}
	return b.String()
}

// FoldDigits returns s with Thai, Khmer and Bengali digits replaced by
// ASCII digits, and nothing else changed.
func FoldDigits(s string) string {
	for _, r := range s {
		if nativeDigit(r) >= 0 {
			var b strings.Builder
			b.Grow(len(s))
			for _, r := range s {
				if d := nativeDigit(r); d >= 0 {
					b.WriteByte(byte('0' + d))
				} else {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	return s
}

// nativeDigit returns the value of a Thai, Khmer or Bengali digit, or -1.
func nativeDigit(r rune) int {
	switch {
	case r >= '\u0e50' && r <= '\u0e59':
		return int(r - '\u0e50')
	case r >= '\u17e0' && r <= '\u17e9':
		return int(r - '\u17e0')
	case r >= '\u09e6' && r <= '\u09ef':
		return int(r - '\u09e6')
	}
	return -1
}

// isInnerZW reports the invisible characters removed anywhere in a cell.
func isInnerZW(r rune) bool { return r == '\u200b' || r == '\u2060' || r == '\ufeff' }

// isSpace is white space as cells hold it, including NBSP and the
// narrow/thin spaces used as digit groupers.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u2060' || r == '\ufeff'
}

// matchKey is the form in which a cell is compared with configured words:
// Clean, inner white space collapsed to one ASCII space, lower-cased, and
// with stripAccents Latin combining accents removed (explotación ->
// explotacion). Only U+0300–U+036F are stripped: the vowel signs of Thai,
// Khmer and Bengali are combining marks too and carry meaning.
func matchKey(s string, stripAccents bool) string {
	s = Clean(s)
	needSpace := false
	prevSpace := false
	for _, r := range s {
		sp := isSpace(r)
		if sp && (r != ' ' || prevSpace) {
			needSpace = true
			break
		}
		prevSpace = sp
	}
	if needSpace {
		var b strings.Builder
		b.Grow(len(s))
		prevSpace = false
		for _, r := range s {
			if isSpace(r) {
				if !prevSpace {
					b.WriteByte(' ')
				}
				prevSpace = true
				continue
			}
			prevSpace = false
			b.WriteRune(r)
		}
		s = b.String()
	}
	s = strings.ToLower(s)
	if stripAccents {
		s = stripLatinAccents(s)
	}
	return s
}

func stripLatinAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	d := norm.NFD.String(s)
	if !strings.ContainsFunc(d, isLatinAccent) {
		return s
	}
	d = strings.Map(func(r rune) rune {
		if isLatinAccent(r) {
			return -1
		}
		return r
	}, d)
	return norm.NFC.String(d)
}

func isLatinAccent(r rune) bool { return r >= '\u0300' && r <= '\u036f' }

// TextOptions configure the "text" transform.
type TextOptions struct {
	// FoldDigits folds Thai, Khmer and Bengali digits to ASCII. Off keeps
	// the text as written (Name_Local_Script).
	FoldDigits bool `json:"fold_digits" yaml:"fold_digits"`
}

// NewText returns the "text" transform. Parse reads a cell as a person
// typed it: CleanText (NFC, white space trimmed at the ends, inner
// characters kept), digits folded with FoldDigits, and null for a blank
// cell. Format writes a text value as it is, with its white space, line
// endings and zero-width spaces (only its digits folded with
// FoldDigits): text from Salesforce lands in the cell as Salesforce holds
// it. Parse(Format(v)) is v for every value Parse returns; for any other
// text it is v cleaned, which the engine compares as equal to v
// (connector.ComparableText), so writing it is never taken for an edit.
func NewText(o TextOptions) (Transform, error) {
	return &textTransform{opts: o, hash: hashOptions("text", o)}, nil
}

type textTransform struct {
	opts TextOptions
	hash string
}

func (t *textTransform) Kind() string { return "text" }

// Lossy is true when digits are folded: the cell's digit script is not
// kept.
func (t *textTransform) Lossy() bool  { return t.opts.FoldDigits }
func (t *textTransform) Hash() string { return t.hash }

func (t *textTransform) Parse(cell string) (Result, error) {
	s := clean(cell, t.opts.FoldDigits, false)
	if s == "" {
		return Result{}, nil
	}
	return Result{Value: connector.Text(s)}, nil
}

func (t *textTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindText:
		s, _ := v.Text()
		if t.opts.FoldDigits {
			s = FoldDigits(s)
		}
		return s, nil
	}
	return "", wrongKind(v, "text")
}
