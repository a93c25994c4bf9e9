package mapping

import (
	"errors"
	"strings"
	"testing"
	_ "time/tzdata" // tests must not depend on the machine's zone database

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
)

// must returns v, panicking on a construction error (test set-up only).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func date(y, m, d int) connector.Value {
	return connector.DateValue(connector.Date{Year: y, Month: timeMonth(m), Day: d})
}

func num(s string) connector.Value { return connector.Number(decimal.RequireFromString(s)) }

// describe prints a value for test failures. Tests hold fake data only.
func describe(v connector.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Kind().String() + ":" + v.Raw()
}

// checkError asserts err is a *connector.ValueError with CodeInvalidValue
// whose message does not contain the cell.
func checkError(t testing.TB, err error, cell string) {
	t.Helper()
	var ve *connector.ValueError
	if !errors.As(err, &ve) || ve.Code != connector.CodeInvalidValue {
		t.Fatalf("error %v is not a ValueError with CodeInvalidValue", err)
	}
	if !strings.HasPrefix(ve.Detail, "expected") && !strings.HasPrefix(ve.Detail, "ambiguous") && !strings.HasPrefix(ve.Detail, "a ") {
		t.Errorf("detail %q does not name the expected form", ve.Detail)
	}
	if c := strings.TrimSpace(cell); len(c) >= 3 && strings.Contains(err.Error(), c) {
		t.Errorf("error %q repeats the cell", err)
	}
}

type parseCase struct {
	cell  string
	want  connector.Value
	flags Flags
	err   bool
}

func runParse(t *testing.T, tr Transform, cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		r, err := tr.Parse(c.cell)
		if c.err {
			if err == nil {
				t.Errorf("Parse(%q) = %s, want an error", c.cell, describe(r.Value))
				continue
			}
			checkError(t, err, c.cell)
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.cell, err)
			continue
		}
		if !r.Value.Equal(c.want) || r.Flags != c.flags {
			t.Errorf("Parse(%q) = %s [%s], want %s [%s]", c.cell, describe(r.Value), r.Flags, describe(c.want), c.flags)
			continue
		}
		// The write form reads back as the same value.
		s, err := tr.Format(r.Value)
		if err != nil {
			t.Errorf("Format(Parse(%q)): %v", c.cell, err)
			continue
		}
		if back, err := tr.Parse(s); err != nil || !back.Value.Equal(r.Value) {
			t.Errorf("Parse(Format(Parse(%q))) = %s, %v; wrote %q", c.cell, describe(back.Value), err, s)
		}
	}
}
