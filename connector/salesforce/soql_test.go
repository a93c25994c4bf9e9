package salesforce

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want, like string }{
		{"plain", `'plain'`, `'plain'`},
		{"Bob's BBQ", `'Bob\'s BBQ'`, `'Bob\'s BBQ'`},
		{`back\slash`, `'back\\slash'`, `'back\\slash'`},
		{`"quoted"`, `'\"quoted\"'`, `'\"quoted\"'`},
		{"a\nb\rc\td\be\ff", `'a\nb\rc\td\be\ff'`, `'a\nb\rc\td\be\ff'`},
		{"bell\x07nul\x00del\x7f", `'bell\u0007nul\u0000del\u007f'`, `'bell\u0007nul\u0000del\u007f'`},
		{"50%_off", `'50%_off'`, `'50\%\_off'`},
		{"' OR Name != '", `'\' OR Name != \''`, `'\' OR Name != \''`},
		{"ทดสอบ ព្រះ", `'ทดสอบ ព្រះ'`, `'ทดสอบ ព្រះ'`},
		{"", `''`, `''`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if got := QuoteLike(tt.in); got != tt.like {
			t.Errorf("QuoteLike(%q) = %s, want %s", tt.in, got, tt.like)
		}
	}
	if got := DateTimeLiteral(time.Date(2024, 1, 15, 17, 30, 0, 999e6, time.FixedZone("", 7*3600))); got != "2024-01-15T10:30:00Z" {
		t.Errorf("DateTimeLiteral = %s", got)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"Id", "vcms__External_Key__c", "Owner.Email", "vcms__Case__r.vcms__External_Key__c"} {
		if err := checkName(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1abc", "_x", "a b", "a,b", "a'", "a..b", "Name FROM Account--", "a.", "ก"} {
		if checkName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := selectSOQL([]string{"Id", "Name) FROM User WHERE (Id"}, "Account", "", ""); err == nil {
		t.Error("injected field name accepted")
	}
}

// token is one lexical token of SOQL as Salesforce reads it.
type token struct {
	kind string // ident, punct, string
	text string // for strings: the decoded value
}

// lexSOQL tokenises the parts of SOQL that casebridge builds: identifiers
// (with dots), punctuation and quoted strings with Salesforce's escape
// sequences. It follows the SOQL reference independently of Quote: a
// backslash before any other character is an error, as Salesforce says.
func lexSOQL(q string, like bool) ([]token, error) {
	var toks []token
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == ' ':
			i++
		case r == '(' || r == ')' || r == ',' || r == '=':
			toks = append(toks, token{"punct", string(r)})
			i++
		case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
			j := i
			for j < len(rs) && (rs[j] >= 'A' && rs[j] <= 'Z' || rs[j] >= 'a' && rs[j] <= 'z' || rs[j] >= '0' && rs[j] <= '9' || rs[j] == '_' || rs[j] == '.') {
				j++
			}
			toks = append(toks, token{"ident", string(rs[i:j])})
			i = j
		case r == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(rs) {
					return nil, errors.New("unterminated string")
				}
				c := rs[i]
				if c == '\'' {
					i++
					break
				}
				if c == '\n' || c == '\r' {
					return nil, errors.New("raw line break in a string literal")
				}
				if c != '\\' {
					b.WriteRune(c)
					i++
					continue
				}
				if i+1 >= len(rs) {
					return nil, errors.New("dangling backslash")
				}
				e := rs[i+1]
				i += 2
				switch e {
				case 'n', 'N':
					b.WriteByte('\n')
				case 'r', 'R':
					b.WriteByte('\r')
				case 't', 'T':
					b.WriteByte('\t')
				case 'b', 'B':
					b.WriteByte('\b')
				case 'f', 'F':
					b.WriteByte('\f')
				case '"', '\'', '\\':
					b.WriteRune(e)
				case '_', '%':
					if !like {
						return nil, errors.New(`\_ or \% outside LIKE`)
					}
					b.WriteRune(e)
				case 'u':
					if i+4 > len(rs) {
						return nil, errors.New("short \\u escape")
					}
					n, err := strconv.ParseUint(string(rs[i:i+4]), 16, 32)
					if err != nil {
						return nil, errors.New("bad \\u escape")
					}
					b.WriteRune(rune(n))
					i += 4
				default:
					return nil, fmt.Errorf("invalid escape \\%c", e)
				}
			}
			toks = append(toks, token{"string", b.String()})
		default:
			return nil, fmt.Errorf("unexpected character %q", r)
		}
	}
	return toks, nil
}

// FuzzQuote proves that a value cannot change the structure of a query it
// is quoted into: the built statement tokenises into exactly the intended
// tokens, each literal is one string token, and it decodes to the value.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "Bob's", `\`, `\'`, "' OR 1=1 --", "a\nb", "\x00", "50%_", "ทดสอบ", `\u0027`, "'')", "\xff\xfe"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, like := range []bool{false, true} {
			quote := Quote
			if like {
				quote = QuoteLike
			}
			q := "SELECT Id FROM vcms__Survivor_Case__c WHERE vcms__External_Key__c IN (" + quote(a) + ", " + quote(b) + ") AND Name = " + quote(a)
			toks, err := lexSOQL(q, like)
			if err != nil {
				t.Fatalf("like=%v: %v in %q", like, err, q)
			}
			want := []token{{"ident", "SELECT"}, {"ident", "Id"}, {"ident", "FROM"}, {"ident", "vcms__Survivor_Case__c"}, {"ident", "WHERE"},
				{"ident", "vcms__External_Key__c"}, {"ident", "IN"}, {"punct", "("}, {"string", valid(a)}, {"punct", ","}, {"string", valid(b)},
				{"punct", ")"}, {"ident", "AND"}, {"ident", "Name"}, {"punct", "="}, {"string", valid(a)}}
			if len(toks) != len(want) {
				t.Fatalf("like=%v: %d tokens, want %d: %q", like, len(toks), len(want), q)
			}
			for i := range want {
				if toks[i] != want[i] {
					t.Fatalf("like=%v: token %d = %+v, want %+v", like, i, toks[i], want[i])
				}
			}
			// The statement survives the URL query string unchanged.
			v, err := url.ParseQuery(url.Values{"q": {q}}.Encode())
			if err != nil || v.Get("q") != q {
				t.Fatalf("URL round trip changed the statement")
			}
		}
	})
}

// valid is s as it is sent: invalid UTF-8 bytes become U+FFFD.
func valid(s string) string { return string([]rune(s)) }

func TestInChunks(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e"}
	if got := inChunks("SELECT Id FROM X WHERE K IN ()", keys, 2); len(got) != 3 || got[0] != `'a', 'b'` || got[2] != `'e'` {
		t.Errorf("chunks = %q", got)
	}
	if got := inChunks("x", nil, 10); len(got) != 0 {
		t.Errorf("no keys gave %q", got)
	}
}
