package config

// Meta records where a mapping was written and where each of its keys is,
// so that a consumer of the configuration (mapping's schema checks, the
// CLI) can point at the option it complains about. Every configuration
// struct embeds it.
type Meta struct {
	// Pos is where the mapping starts (its first key).
	Pos Pos
	// KeyPath is the option path of the mapping, such as
	// "jobs.th_cases.fields[2]".
	KeyPath string

	keys map[string]Pos
}

// At returns the position of key's value, or of the mapping itself when
// the key was not written (a default applies).
func (m *Meta) At(key string) Pos {
	if p, ok := m.keys[key]; ok {
		return p
	}
	return m.Pos
}

// Has reports whether key was written in the file (as opposed to
// defaulted). For a Secret read from a file, key is the secret's name
// ("client_secret"), not "client_secret_file".
func (m *Meta) Has(key string) bool {
	_, ok := m.keys[key]
	return ok
}

// PathOf returns the option path of key, such as "jobs.th_cases.conflict".
func (m *Meta) PathOf(key string) string {
	if m.KeyPath == "" {
		return key
	}
	return m.KeyPath + "." + key
}

// Errorf makes an error about key (its value's position and path), for
// consumers that check the configuration further.
func (m *Meta) Errorf(key, format string, args ...any) *Error {
	p := m.At(key)
	return &Error{File: p.File, Line: p.Line, Col: p.Col, Path: m.PathOf(key), Msg: sprintf(format, args...)}
}

func (m *Meta) set(key string, p Pos) {
	if m.keys == nil {
		m.keys = make(map[string]Pos)
	}
	m.keys[key] = p
}
