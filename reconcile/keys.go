package reconcile

import (
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// keyID is connector.KeyID under the Salesforce key field's case rule,
// with a fast path for ASCII keys (the common case), where NFC is the
// identity, the white space to trim is ASCII, and folding is lowering.
func (r *runner) keyID(k string) string {
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return connector.KeyID(k, r.keyCase)
		}
	}
	k = strings.TrimSpace(k)
	if r.keyCase {
		return k
	}
	for i := 0; i < len(k); i++ {
		if 'A' <= k[i] && k[i] <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}

// keyOK reports whether k can be a key (connector.CheckKey) under the
// length of the Salesforce key field, with a fast path for printable ASCII
// keys (the common case), whose length is their byte count once trimmed.
func (r *runner) keyOK(k string) bool {
	lim := r.keyLen
	if lim <= 0 {
		lim = connector.MaxKeyLength
	}
	t := strings.TrimSpace(k)
	if t == "" || len(t) > lim {
		return connector.CheckKey(k, lim) == nil // non-ASCII: count characters
	}
	for i := 0; i < len(t); i++ {
		if b := t[i]; b < 0x20 || b >= 0x7f {
			return connector.CheckKey(k, lim) == nil
		}
	}
	return true
}

// canonical is connector.Canonicalize with fast paths for values already
// in canonical form: non-empty ASCII text in a text field (NFC already),
// and numbers with no more decimals than the field's scale (rounding
// changes nothing, and equal numbers encode alike).
func canonical(v connector.Value, f *connector.Field) (connector.Value, error) {
	switch want := f.Type.ValueKind(); {
	case want == connector.KindText && v.Kind() == connector.KindText:
		s, _ := v.Text()
		if s == "" {
			break
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return connector.Canonicalize(v, f)
			}
		}
		return v, nil
	case want == connector.KindNumber && v.Kind() == connector.KindNumber:
		d, _ := v.Number()
		scale := int32(f.Scale)
		if f.Type == connector.TypeInt {
			scale = 0
		}
		if d.Exponent() >= -scale {
			return v, nil
		}
	case want == v.Kind() && (want == connector.KindDate || want == connector.KindBool):
		return v, nil
	}
	return connector.Canonicalize(v, f)
}
