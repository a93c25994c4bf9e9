package reconcile

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/shopspring/decimal"
)

// The fast paths must agree with the connector package exactly.
func TestKeyIDFastPath(t *testing.T) {
	keys := []string{"TH-0001", "th-0001", "  TH-0001\t", "ngo-th-cm:TH-0042", "0042", "1E5", "",
		"ngọc-01", "NGỌC-01", "Ngo\u0323c-01", "\u200bTH-1\u00a0", "STRASSE", "Straße", "ทดสอบ-01", "Σίσυφος"}
	for _, cs := range []bool{false, true} {
		r := &runner{keyCase: cs}
		for _, k := range keys {
			if got, want := r.keyID(k), connector.KeyID(k, cs); got != want {
				t.Errorf("keyID(%q, case-sensitive %v) = %q, want %q", k, cs, got, want)
			}
		}
	}
}

func TestCanonicalFastPath(t *testing.T) {
	fp, _ := NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	fields := []connector.Field{
		{Name: "T", Type: connector.TypeString},
		{Name: "P", Type: connector.TypePicklist},
		{Name: "N", Type: connector.TypeCurrency, Scale: 2},
		{Name: "I", Type: connector.TypeInt},
		{Name: "D", Type: connector.TypeDate},
		{Name: "B", Type: connector.TypeBoolean},
	}
	vals := []connector.Value{
		connector.Null(), connector.Text(""), connector.Text("Ann"), connector.Text("e\u0301"), connector.Text("12.50"),
		connector.Int(3000), connector.Number(decimal.RequireFromString("3000.00")), connector.Number(decimal.RequireFromString("1.005")),
		connector.Number(decimal.RequireFromString("1e3")), connector.Bool(true), connector.DateValue(connector.Date{Year: 2008, Month: 3, Day: 12}),
	}
	for i := range fields {
		f := &fields[i]
		for _, v := range vals {
			want, werr := connector.Canonicalize(v, f)
			got, gerr := canonical(v, f)
			if (werr != nil) != (gerr != nil) {
				t.Errorf("%s %v: error %v, want %v", f.Type, v, gerr, werr)
				continue
			}
			if werr == nil && fp.Value(got) != fp.Value(want) {
				t.Errorf("%s %v: fingerprint differs from Canonicalize's", f.Type, v)
			}
		}
	}
}

// The fingerprint cache gives what Fingerprinter.Value gives, for values
// that repeat, values that do not (the cache turns itself off) and long
// ones.
func TestFingerprintCache(t *testing.T) {
	fp, err := NewFingerprinter([]byte(strings.Repeat("k", MinKeyLen)))
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{Engine: &Engine{FP: fp}, fpc: make([]fpCache, 3)}
	for n := range 3 * fpCacheWindow {
		vals := []connector.Value{
			connector.Text([]string{"Active", "Closed", ""}[n%3]),
			connector.Text(fmt.Sprintf("unique %d", n)),
			connector.Text(strings.Repeat("long ", 20) + strconv.Itoa(n%5)),
		}
		for i, v := range vals {
			if got, want := r.fingerprint(i, v), fp.Value(v); got != want {
				t.Fatalf("value %d of field %d: cached fingerprint %v, want %v", n, i, got, want)
			}
		}
	}
	if r.fpc[0].off || !r.fpc[1].off {
		t.Errorf("cache off: repeating field %v, unique field %v", r.fpc[0].off, r.fpc[1].off)
	}
}
