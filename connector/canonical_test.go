package connector_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

var (
	fText     = &connector.Field{Name: "Name", Type: connector.TypeString, Length: 10}
	fArea     = &connector.Field{Name: "Notes", Type: connector.TypeTextArea}
	fCurrency = &connector.Field{Name: "Amount", Type: connector.TypeCurrency, Precision: 12, Scale: 2}
	fDouble0  = &connector.Field{Name: "Count", Type: connector.TypeDouble, Precision: 18, Scale: 0}
	fInt      = &connector.Field{Name: "Age", Type: connector.TypeInt, Scale: 3} // int ignores Scale
	fPercent  = &connector.Field{Name: "Pct", Type: connector.TypePercent, Precision: 5, Scale: 1}
	fBool     = &connector.Field{Name: "Active", Type: connector.TypeBoolean}
	fDate     = &connector.Field{Name: "Born", Type: connector.TypeDate}
	fDateTime = &connector.Field{Name: "Seen", Type: connector.TypeDateTime}
	fMulti    = &connector.Field{Name: "Tags", Type: connector.TypeMultiPicklist, Picklist: []string{"a", "b", "c"}, Restricted: true}
	fPick     = &connector.Field{Name: "Stage", Type: connector.TypePicklist, Picklist: []string{"Active", "Closed"}, Restricted: true}
	fPickOpen = &connector.Field{Name: "Stage", Type: connector.TypePicklist, Picklist: []string{"Active", "Closed"}}
)

func TestCanonicalize(t *testing.T) {
	const nfdCafe, nfcCafe = "cafe\u0301", "caf\u00e9"
	for _, tc := range []struct {
		name  string
		in    connector.Value
		field *connector.Field
		want  connector.Value // ignored when fails
		fails bool
	}{
		// text
		{"text kept", connector.Text("สมชาย"), fText, connector.Text("สมชาย"), false},
		{"empty text is null", connector.Text(""), fText, connector.Null(), false},
		{"null text stays null", connector.Null(), fText, connector.Null(), false},
		{"NFD text becomes NFC", connector.Text(nfdCafe), fText, connector.Text(nfcCafe), false},
		{"Thai NFC kept", connector.Text("น้ำ"), fArea, connector.Text("น้ำ"), false},
		{"spaces are content, not empty", connector.Text(" "), fText, connector.Text(" "), false},
		{"number into text", num(t, "3000.00"), fText, connector.Text("3000"), false},
		{"bool into text", connector.Bool(true), fText, connector.Text("true"), false},
		{"date into text", date(2008, 3, 12), fText, connector.Text("2008-03-12"), false},
		{"datetime into text drops ms", connector.DateTime(at("2024-01-15T10:30:00.789Z")), fText, connector.Text("2024-01-15T10:30:00Z"), false},
		{"one-value multi into text", connector.Multi(nfdCafe), fText, connector.Text(nfcCafe), false},
		{"multi into text joined with ;", connector.Multi("b", "a"), fText, connector.Text("a;b"), false},
		// numbers
		{"currency scale 2: 2.345 rounds half away from zero", num(t, "2.345"), fCurrency, num(t, "2.35"), false},
		{"currency scale 2: -2.345 rounds half away from zero", num(t, "-2.345"), fCurrency, num(t, "-2.35"), false},
		{"currency scale 2: 2.344 rounds down", num(t, "2.344"), fCurrency, num(t, "2.34"), false},
		{"currency keeps value", num(t, "3000"), fCurrency, num(t, "3000.00"), false},
		{"text 12.50 into a number field", connector.Text("12.50"), fCurrency, num(t, "12.5"), false},
		{"text with spaces into a number field", connector.Text(" 1e3 "), fCurrency, num(t, "1000"), false},
		{"empty text into a number field is null", connector.Text("  "), fCurrency, connector.Null(), false},
		{"null number", connector.Null(), fCurrency, connector.Null(), false},
		{"int scale 0: 2.5 rounds to 3", num(t, "2.5"), fInt, connector.Int(3), false},
		{"int scale 0: -2.5 rounds to -3", num(t, "-2.5"), fInt, connector.Int(-3), false},
		{"int ignores the declared scale", num(t, "41.6"), fInt, connector.Int(42), false},
		{"double scale 0", num(t, "7.49"), fDouble0, connector.Int(7), false},
		{"percent scale 1", num(t, "12.25"), fPercent, num(t, "12.3"), false},
		{"text 3,000 is not a number", connector.Text("3,000"), fCurrency, connector.Value{}, true},
		{"bool into a number field", connector.Bool(true), fCurrency, connector.Value{}, true},
		{"date into a number field", date(2024, 1, 1), fCurrency, connector.Value{}, true},
		// checkbox
		{"null checkbox is false", connector.Null(), fBool, connector.Bool(false), false},
		{"bool kept", connector.Bool(true), fBool, connector.Bool(true), false},
		{"text TRUE", connector.Text(" TRUE "), fBool, connector.Bool(true), false},
		{"text false", connector.Text("false"), fBool, connector.Bool(false), false},
		{"empty text is false", connector.Text(""), fBool, connector.Bool(false), false},
		{"text yes is not a checkbox value", connector.Text("yes"), fBool, connector.Value{}, true},
		{"number into a checkbox", connector.Int(1), fBool, connector.Value{}, true},
		// date
		{"date kept", date(2008, 3, 12), fDate, date(2008, 3, 12), false},
		{"text date", connector.Text("2008-03-12"), fDate, date(2008, 3, 12), false},
		{"empty text date is null", connector.Text(""), fDate, connector.Null(), false},
		{"text 12/03/2008 is not ISO", connector.Text("12/03/2008"), fDate, connector.Value{}, true},
		{"datetime into a date field", connector.DateTime(at("2024-01-15T10:30:00Z")), fDate, connector.Value{}, true},
		{"number into a date field (Excel serial is mapping's job)", connector.Int(39519), fDate, connector.Value{}, true},
		// datetime
		{"datetime ms dropped", connector.DateTime(at("2024-01-15T10:30:00.999Z")), fDateTime, connector.DateTime(at("2024-01-15T10:30:00Z")), false},
		{"datetime in another zone kept as the instant", connector.DateTime(time.Date(2024, 1, 15, 17, 30, 0, 500, time.FixedZone("", 7*3600))),
			fDateTime, connector.DateTime(at("2024-01-15T10:30:00Z")), false},
		{"Salesforce datetime text", connector.Text("2024-01-15T10:30:00.123+0000"), fDateTime, connector.DateTime(at("2024-01-15T10:30:00Z")), false},
		{"RFC 3339 text with offset", connector.Text("2024-01-15T17:30:00+07:00"), fDateTime, connector.DateTime(at("2024-01-15T10:30:00Z")), false},
		{"empty text datetime is null", connector.Text(""), fDateTime, connector.Null(), false},
		{"bad datetime text", connector.Text("15/01/2024 10:30"), fDateTime, connector.Value{}, true},
		{"date into a datetime field", date(2024, 1, 15), fDateTime, connector.Value{}, true},
		// multi-select
		{"multi sorted and de-duplicated", connector.Multi("c", "a", "c"), fMulti, connector.Multi("a", "c"), false},
		{"multi values NFC, then de-duplicated", connector.Multi(nfdCafe, nfcCafe), fMulti, connector.Multi(nfcCafe), false},
		{"text a;b;a into multi", connector.Text("b;a;b"), fMulti, connector.Multi("a", "b"), false},
		{"empty text into multi is null", connector.Text(" "), fMulti, connector.Null(), false},
		{"null multi", connector.Null(), fMulti, connector.Null(), false},
		{"number into multi", connector.Int(1), fMulti, connector.Value{}, true},
		// unknown type
		{"unknown field type", connector.Text("x"), &connector.Field{Name: "X", Type: "geolocation"}, connector.Value{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := connector.Canonicalize(tc.in, tc.field)
			if tc.field.Type == "geolocation" {
				// Unknown types are treated as text (ValueKind's default).
				if err != nil || !got.Equal(connector.Text("x")) {
					t.Errorf("Canonicalize = %s, %v; want text", got.Kind(), err)
				}
				return
			}
			if tc.fails {
				var ve *connector.ValueError
				if !errors.As(err, &ve) {
					t.Fatalf("Canonicalize = %s %q, %v; want a *ValueError", got.Kind(), got.Raw(), err)
				}
				if ve.Code != connector.CodeInvalidValue || connector.CodeOf(err) != connector.CodeInvalidValue {
					t.Errorf("code = %s, want %s", ve.Code, connector.CodeInvalidValue)
				}
				if raw := tc.in.Raw(); len(raw) > 2 && strings.Contains(err.Error(), raw) {
					t.Errorf("error %q repeats the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			if !got.Equal(tc.want) || got.Kind() != tc.want.Kind() {
				t.Errorf("Canonicalize = %s %q, want %s %q", got.Kind(), got.Raw(), tc.want.Kind(), tc.want.Raw())
			}
			// Canonical form is a fixed point: canonicalising again changes nothing.
			again, err := connector.Canonicalize(got, tc.field)
			if err != nil || !again.Equal(got) {
				t.Errorf("Canonicalize is not idempotent: %s %q, %v", again.Kind(), again.Raw(), err)
			}
		})
	}
}

func TestCanonicalizeDropsMillisecondsNotSeconds(t *testing.T) {
	// Whole seconds survive, so a read-back of a value written at :59.999
	// is :59, not the next minute.
	got, err := connector.Canonicalize(connector.DateTime(at("2024-12-31T23:59:59.999Z")), fDateTime)
	if err != nil {
		t.Fatal(err)
	}
	if tm, _ := got.DateTime(); !tm.Equal(at("2024-12-31T23:59:59Z")) {
		t.Errorf("got %v, want 2024-12-31T23:59:59Z", tm)
	}
}

func TestCheck(t *testing.T) {
	thai80 := strings.Repeat("สมชาย", 16) // 80 characters, 240 bytes
	thai81 := thai80 + "ก"
	fThai := &connector.Field{Name: "Name", Type: connector.TypeString, Length: 80}
	fOpenMulti := &connector.Field{Name: "Tags", Type: connector.TypeMultiPicklist, Picklist: []string{"a"}}
	for _, tc := range []struct {
		name  string
		v     connector.Value
		field *connector.Field
		code  connector.Code // "" means it fits
	}{
		{"Thai 80 characters in 240 bytes fit text(80)", connector.Text(thai80), fThai, ""},
		{"Thai 81 characters are too long", connector.Text(thai81), fThai, connector.CodeTooLong},
		{"ASCII 10 fit text(10)", connector.Text("0123456789"), fText, ""},
		{"ASCII 11 too long for text(10)", connector.Text("0123456789X"), fText, connector.CodeTooLong},
		{"no length means no limit", connector.Text(strings.Repeat("x", 100000)), fArea, ""},
		{"null fits", connector.Null(), fText, ""},
		{"restricted picklist value", connector.Text("Active"), fPick, ""},
		{"restricted picklist other value", connector.Text("Open"), fPick, connector.CodeBadPicklist},
		{"restricted picklist is case-sensitive", connector.Text("active"), fPick, connector.CodeBadPicklist},
		{"unrestricted picklist other value", connector.Text("Open"), fPickOpen, ""},
		{"restricted multi values", connector.Multi("a", "c"), fMulti, ""},
		{"restricted multi with one bad value", connector.Multi("a", "z"), fMulti, connector.CodeBadPicklist},
		{"unrestricted multi", connector.Multi("z"), fOpenMulti, ""},
		{"currency(12,2): 10 integer digits fit", num(t, "9999999999.99"), fCurrency, ""},
		{"currency(12,2): 11 integer digits do not", num(t, "10000000000"), fCurrency, connector.CodeOutOfRange},
		{"currency(12,2): negative 10 digits fit", num(t, "-9999999999"), fCurrency, ""},
		{"currency(12,2): negative 11 digits do not", num(t, "-12345678901"), fCurrency, connector.CodeOutOfRange},
		{"currency(12,2): 3e10 has 11 digits", num(t, "3e10"), fCurrency, connector.CodeOutOfRange},
		{"currency(12,2): fraction only", num(t, "0.5"), fCurrency, ""},
		{"percent(5,1): 9999 fits", num(t, "9999"), fPercent, ""},
		{"percent(5,1): 10000 does not", num(t, "10000"), fPercent, connector.CodeOutOfRange},
		{"no precision means no limit", num(t, "1e30"), fInt, ""},
		{"bool always fits", connector.Bool(true), fBool, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := connector.Check(tc.v, tc.field)
			if tc.code == "" {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
				return
			}
			var ve *connector.ValueError
			if !errors.As(err, &ve) || ve.Code != tc.code {
				t.Fatalf("Check = %v, want a *ValueError %s", err, tc.code)
			}
			if raw := tc.v.Raw(); strings.Contains(err.Error(), raw) {
				t.Errorf("error %q repeats the value", err)
			}
		})
	}
}

func TestParseDateTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" means an error
	}{
		{"2024-01-15T10:30:00.000+0000", "2024-01-15T10:30:00Z"},
		{"2024-01-15T17:30:00.250+0700", "2024-01-15T10:30:00.25Z"},
		{"2024-01-15T10:30:00+0000", "2024-01-15T10:30:00Z"},
		{"2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"},
		{"2024-01-15T10:30:00.123456789-05:00", "2024-01-15T15:30:00.123456789Z"},
		{"2023-07-09 10:30:00", ""},
		{"2023-07-09", ""},
		{"", ""},
	} {
		got, err := connector.ParseDateTime(tc.in)
		if tc.want == "" {
			var ve *connector.ValueError
			if !errors.As(err, &ve) || ve.Code != connector.CodeInvalidValue {
				t.Errorf("ParseDateTime(%q) = %v, %v; want an INVALID_VALUE error", tc.in, got, err)
			} else if tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Errorf("ParseDateTime(%q) error repeats the input", tc.in)
			}
			continue
		}
		if err != nil || !got.Equal(at(tc.want)) || got.Location() != time.UTC {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %s in UTC", tc.in, got, err, tc.want)
		}
	}
}
