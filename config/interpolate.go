package config

import "strings"

// interpolateError is an error in a ${...} reference, at byte offset
// offset of the scalar.
type interpolateError struct {
	offset int
	msg    string
}

// interpolate replaces ${NAME} in s with the environment variable NAME;
// $${ stands for a literal ${. An unset variable is an error (a variable
// set to the empty string is not). literal reports that s held no
// reference. Messages name the variable, never its value.
func interpolate(s string, getenv func(string) (string, bool)) (out string, literal bool, err *interpolateError) {
	if !strings.Contains(s, "${") {
		return s, true, nil
	}
	var b strings.Builder
	literal = true
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", false, &interpolateError{i, "unterminated ${ (write $${ for a literal ${)"}
		}
		name := s[i+2 : i+end]
		if !isEnvName(name) {
			return "", false, &interpolateError{i, "${...} must hold an environment variable name (letters, digits and _)"}
		}
		v, ok := getenv(name)
		if !ok {
			return "", false, &interpolateError{i, "environment variable " + name + " is not set"}
		}
		b.WriteString(v)
		literal = false
		i += end + 1
	}
	return b.String(), literal, nil
}

func isEnvName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
