package connector_test

import (
	"errors"
	"golang.org/x/text/cases"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

func TestNormalizeKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"kept", "TH-CL-0007", "TH-CL-0007"},
		{"case kept", "th-cl-0007", "th-cl-0007"},
		{"spaces trimmed", "  TH-1\t\n", "TH-1"},
		{"no-break space trimmed", "\u00a0TH-1\u00a0", "TH-1"},
		{"narrow no-break and ideographic space trimmed", "\u202fTH-1\u3000", "TH-1"},
		{"zero-width space, joiner, word joiner and BOM trimmed", "\ufeff\u200bTH-1\u200d\u2060\u200c", "TH-1"},
		{"inner space kept", "TH 1", "TH 1"},
		{"NFD to NFC", "Jose\u0301", "Jos\u00e9"},
		{"Thai kept (already NFC)", " รหัส-๐๐๑ ", "รหัส-๐๐๑"},
		{"leading zeros kept", "0042", "0042"},
		{"empty", "", ""},
		{"only white space", " \u00a0\u200b ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := connector.NormalizeKey(tc.in); got != tc.want {
				t.Errorf("NormalizeKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := connector.TrimSpace(tc.in); tc.name != "NFD to NFC" && got != tc.want {
				t.Errorf("TrimSpace(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestKeyID(t *testing.T) {
	for _, tc := range []struct {
		name          string
		a, b          string
		caseSensitive bool
		same          bool
	}{
		{"NFC vs NFD", "Jos\u00e9-1", "Jose\u0301-1", false, true},
		{"NFC vs NFD, case-sensitive", "Jos\u00e9-1", "Jose\u0301-1", true, true},
		{"trimmed", " K-1\u00a0", "K-1", false, true},
		{"zero-width trimmed", "\u200bK-1\ufeff", "K-1", true, true},
		{"case folded", "ngo-th-cm:TH-CL-0007", "NGO-TH-CM:th-cl-0007", false, true},
		{"case kept when case-sensitive", "ngo-th-cm:TH-CL-0007", "NGO-TH-CM:th-cl-0007", true, false},
		{"full case folding: ß vs SS", "STRASSE", "straße", false, true},
		{"Greek final sigma folds", "ΟΔΟΣ", "οδος", false, true},
		{"NFD with case", "JOSE\u0301", "jos\u00e9", false, true},
		{"different keys", "K-1", "K-2", false, false},
		{"inner space matters", "K 1", "K1", false, false},
		{"leading zeros matter", "0042", "42", false, false},
		{"Thai", "รหัส-๐๐๑", "รหัส-๐๐๑", false, true},
		{"Thai digits are not ASCII digits", "รหัส-๐๐๑", "รหัส-001", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := connector.KeyID(tc.a, tc.caseSensitive), connector.KeyID(tc.b, tc.caseSensitive)
			if (a == b) != tc.same {
				t.Errorf("KeyID(%q) = %q, KeyID(%q) = %q; same = %v, want %v", tc.a, a, tc.b, b, a == b, tc.same)
			}
		})
	}
}

func TestObjectKeyID(t *testing.T) {
	obj := func(cs bool) *connector.Object {
		return &connector.Object{Name: "Case", Key: "Ext__c", Fields: []connector.Field{
			{Name: "Ext__c", Type: connector.TypeString, ExternalID: true, Unique: true, CaseSensitive: cs},
		}}
	}
	if a, b := obj(false).KeyID("ab"), obj(false).KeyID(" AB "); a != b {
		t.Errorf("case-insensitive key field: %q != %q", a, b)
	}
	if a, b := obj(true).KeyID("ab"), obj(true).KeyID("AB"); a == b {
		t.Errorf("case-sensitive key field: %q == %q", a, b)
	}
	// The key field is found case-insensitively, as Salesforce names are.
	o := obj(true)
	o.Key = "EXT__C"
	if o.KeyField() == nil || o.KeyID("ab") == o.KeyID("AB") {
		t.Error("key field named in another case was not found")
	}
	// No key field: compared case-insensitively.
	if a, b := (&connector.Object{Name: "X"}).KeyID("ab"), (&connector.Object{Name: "X"}).KeyID("AB"); a != b {
		t.Errorf("object without key field: %q != %q", a, b)
	}
}

func TestCheckKey(t *testing.T) {
	long := strings.Repeat("k", 300)
	for _, tc := range []struct {
		name   string
		key    string
		maxLen int
		ok     bool
	}{
		{"plain", "TH-CL-0007", 0, true},
		{"prefixed", "ngo-th-cm:TH-CL-0007", 0, true},
		{"Thai", "รหัส-๐๐๑", 0, true},
		{"Arabic needs no direction marks", "حالة-١٢", 0, true},
		{"inner space", "TH 1", 0, true},
		{"edge white space is trimmed, not refused", " \u00a0TH-1\u200b\t", 0, true},
		{"inner zero-width space", "TH\u200b1", 0, true},
		{"empty", "", 0, false},
		{"only white space", " \u00a0\u200b ", 0, false},
		{"NUL", "TH-\x001", 0, false},
		{"NUL alone", "\x00", 0, false},
		{"escape", "TH-1\x1b[2J", 0, false},
		{"inner new line", "TH\n1", 0, false},
		{"inner tab", "TH\t1", 0, false},
		{"DEL", "TH\x7f1", 0, false},
		{"C1 (CSI)", "TH\u009b1", 0, false},
		{"line separator", "TH\u20281", 0, false},
		{"paragraph separator", "TH\u20291", 0, false},
		{"right-to-left override", "TH-\u202e1000", 0, false},
		{"left-to-right isolate", "\u2066TH-1\u2069", 0, false},
		{"right-to-left mark", "TH-1\u200f", 0, false},
		{"Arabic letter mark", "TH\u061c1", 0, false},
		{"invalid UTF-8", "TH-\xff1", 0, false},
		{"255 characters", strings.Repeat("k", 255), 0, true},
		{"256 characters", strings.Repeat("k", 256), 0, false},
		{"300 characters", long, 0, false},
		{"255 Thai characters (765 bytes) fit", strings.Repeat("ก", 255), 0, true},
		{"length counted after trimming", "  " + strings.Repeat("k", 255) + "  ", 0, true},
		{"field length 80: 80 fits", strings.Repeat("k", 80), 80, true},
		{"field length 80: 81 does not", strings.Repeat("k", 81), 80, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := connector.CheckKey(tc.key, tc.maxLen)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckKey = %v, want ok %v", err, tc.ok)
			}
			if err == nil {
				return
			}
			var ve *connector.ValueError
			if !errors.As(err, &ve) || ve.Code != connector.CodeInvalidKey {
				t.Errorf("error %v (%T) is not a *ValueError with %s", err, err, connector.CodeInvalidKey)
			}
			// The message never repeats the key, nor any part of it.
			msg := err.Error()
			if k := strings.TrimSpace(tc.key); len(k) >= 3 && strings.Contains(msg, k[:3]) && !strings.Contains(msg, "at most") {
				t.Errorf("error %q repeats the key", msg)
			}
			if strings.Contains(msg, "kkk") || strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd || r > 0x7e }) {
				t.Errorf("error %q repeats (part of) the key or holds a character of it", msg)
			}
		})
	}
}

// TestKeyIDASCIIFold: the ASCII fast path folds as Unicode case folding
// does.
func TestKeyIDASCIIFold(t *testing.T) {
	var b strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		b.WriteByte(c)
	}
	all := b.String()
	c := cases.Fold()
	if got, want := connector.KeyID("x"+all+"x", false), c.String("x"+all+"x"); got != want {
		t.Errorf("KeyID(%q) = %q, want %q", all, got, want)
	}
}
