package sftest

import "strings"

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// makeID builds an 18-character Salesforce-shaped id: the object's 3-char key
// prefix, a pod marker, a base-36 counter and the 3-char case-safe suffix.
// Ids of one object sort in creation order, case-sensitively or not.
func makeID(prefix string, n int) string {
	body := make([]byte, 9)
	for i := 8; i >= 0; i-- {
		body[i] = idAlphabet[n%36]
		n /= 36
	}
	id15 := prefix + "5g0" + string(body)
	return id15 + idSuffix(id15)
}

// idSuffix computes the case-safe suffix of a 15-character id.
func idSuffix(id15 string) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var b strings.Builder
	for i := 0; i < 3; i++ {
		flags := 0
		for j := 0; j < 5; j++ {
			c := id15[i*5+j]
			if c >= 'A' && c <= 'Z' {
				flags |= 1 << j
			}
		}
		b.WriteByte(chars[flags])
	}
	return b.String()
}

// normalizeID returns the 18-character form of a 15- or 18-character id, or
// "" when s is not shaped like an id.
func normalizeID(s string) string {
	if len(s) != 15 && len(s) != 18 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(idAlphabet, s[i]) < 0 {
			return ""
		}
	}
	suf := idSuffix(s[:15])
	if len(s) == 18 && !strings.EqualFold(s[15:], suf) {
		return ""
	}
	return s[:15] + suf
}
