package config

import "fmt"

// redacted is what a Secret prints in every format.
const redacted = "[redacted]"

// Secret holds a credential or connection string (a client secret, a
// password, a DSN with a password in it). It never prints itself: String,
// GoString, Format, MarshalJSON and MarshalText all give "[redacted]", so a
// Secret that reaches a log line, an error or a JSON dump by mistake leaks
// nothing. Code that needs the content calls Reveal, and only where the
// content is handed to the system that needs it.
//
// The content sits behind a pointer so that even fmt's reflection, which
// cannot call String on an unexported struct field of type Secret, prints
// an address rather than the content.
type Secret struct {
	p *string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{p: &s} }

// Reveal returns the secret's content.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty (not configured).
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb (%s, %v, %+v, %#v, %q, %x, ...).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", redacted)
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// MarshalJSON returns the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]" (used by encoding/json for map keys,
// by YAML and TOML encoders, and by zerolog's Interface fields via JSON).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
