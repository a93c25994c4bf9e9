package sheet

import "github.com/casebridge/casebridge/connector"

// CSV injection (OWASP "CSV Injection"): a cell that starts with = + - @,
// a tab or a carriage return is executed as a formula by Excel and
// LibreOffice when a CSV file is opened. Values written to a CSV file are
// guarded with a leading apostrophe, and the apostrophe is stripped again
// on read, so that guard(v) read back is v and a guarded cell never looks
// like a local edit.
//
// Plain numbers are not guarded: "-12", "+8801700000000" and "3.5" are
// read by a spreadsheet as numbers, not formulas, and a guard would turn a
// legitimate negative amount into the text "'-12" for whoever opens the
// file. Nor is a lone "-" or "+", the placeholder field staff type for
// "unknown". Anything else that starts with a trigger character ("-2+3",
// "=HYPERLINK(...)", "@SUM(...)") is guarded.
//
// So that reading inverts writing for every value, a value that already
// starts with an apostrophe followed by a guarded value gets one more
// apostrophe: guard("'=x") is "''=x", read back as "'=x".

// needsGuard reports whether v would be executed as a formula, or is an
// apostrophe-prefixed value that strip would otherwise alter.
func needsGuard(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\'':
			continue // look past apostrophes: "'=x" must survive a round trip
		case '=', '@', '\t', '\r':
			return true
		case '+', '-':
			// A number, or a lone "-" (a common "unknown" placeholder),
			// cannot run anything.
			return !isPlainNumber(v[i:]) && len(v[i:]) > 1
		}
		return false
	}
	return false
}

// guard returns v as it is written to a CSV cell.
func guard(v string) string {
	if needsGuard(v) {
		return "'" + v
	}
	return v
}

// unguard returns the value of a CSV cell written by guard: a leading
// apostrophe is dropped when what follows needs a guard.
func unguard(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsGuard(s[1:]) {
		return s[1:]
	}
	return s
}

// isPlainNumber reports whether s is a signed decimal number such as -12,
// +880170 or -3.50 (one sign, digits, at most one '.' or ',' followed by
// digits).
func isPlainNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, sep := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && !sep && digits > 0 && i+1 < len(s):
			sep = true
		default:
			return false
		}
	}
	return digits > 0
}

// hasEdgeSpace reports whether v starts or ends with white space,
// including no-break and zero-width spaces (connector.TrimSpace).
func hasEdgeSpace(v string) bool { return v != "" && connector.TrimSpace(v) != v }
