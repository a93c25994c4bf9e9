package main

import (
	"strings"
	"testing"
)

func TestPrintableWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ngo-th-cm:TH-CL-0007\n", "plain ngo-th-cm:TH-CL-0007\n"},
		{"tab\there\n", "tab\there\n"},
		{"ไทย ខ្មែរ বাংলা\n", "ไทย ខ្មែរ বাংলা\n"},
		{"key\x1b]0;pwned\x07\n", "key\\u001b]0;pwned\\u0007\n"},
		{"TH-\u202eevil\n", "TH-\\u202eevil\n"},
		{"cr\roverwrite\n", "cr\\u000doverwrite\n"},
	} {
		var b strings.Builder
		n, err := printableWriter{&b}.Write([]byte(tc.in))
		if err != nil || n != len(tc.in) {
			t.Errorf("Write(%q) = %d, %v", tc.in, n, err)
		}
		if b.String() != tc.want {
			t.Errorf("Write(%q) wrote %q, want %q", tc.in, b.String(), tc.want)
		}
	}
}

// TestConsoleLogEscapes: a key carrying an escape sequence is escaped in
// human-readable log lines too.
func TestConsoleLogEscapes(t *testing.T) {
	var b strings.Builder
	log, err := newLogger(&b, "info", "console")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("key", "TH\x1b[2J-1").Msg("row \x1b]0;title\x07 read")
	if strings.ContainsRune(b.String(), 0x1b) || strings.ContainsRune(b.String(), 0x07) {
		t.Errorf("console log line carries a raw control character: %q", b.String())
	}
}
