package mapping

import (
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/connector"
)

// PhoneWrite is the write form of a phone number.
type PhoneWrite string

// Phone write forms.
const (
	WriteE164     PhoneWrite = "e164"     // +66800000001
	WriteNational PhoneWrite = "national" // 0800000001; numbers of other countries stay E.164
)

// PhoneOptions configure the "phone" transform.
type PhoneOptions struct {
	// Country is the default country calling code, with or without "+"
	// (66, 855, 880, 502), for numbers written without one.
	Country string     `json:"country" yaml:"country"`
	Write   PhoneWrite `json:"write" yaml:"write"`
}

// phonePlan is what the transform knows of a country's numbering: the
// trunk prefix dropped from national numbers, and the length of the
// national significant number.
type phonePlan struct {
	trunk    string
	min, max int
}

var phonePlans = map[string]phonePlan{
	"66":  {"0", 8, 9},  // Thailand
	"855": {"0", 8, 9},  // Cambodia
	"880": {"0", 6, 10}, // Bangladesh: mobiles 01XXXXXXXXX
	"502": {"", 8, 8},   // Guatemala: no trunk prefix
	"95":  {"0", 7, 10}, // Myanmar
	"856": {"0", 8, 10}, // Laos
	"504": {"", 8, 8},   // Honduras
	"503": {"", 8, 8},   // El Salvador
}

// NewPhone returns the "phone" transform: a phone number to E.164 text
// (+66800000001). Spaces, dashes, dots, slashes and brackets are ignored;
// "+" or "00" starts an international number; otherwise the country's
// trunk prefix is dropped and Country put in front. A national number
// whose leading zero a spreadsheet dropped (800000001) is read too. A cell
// with letters or two numbers is an error.
func NewPhone(o PhoneOptions) (Transform, error) {
	o.Country = strings.TrimPrefix(strings.TrimSpace(o.Country), "+")
	if o.Country == "" || len(o.Country) > 3 || strings.Trim(o.Country, "0123456789") != "" || o.Country[0] == '0' {
		return nil, fmt.Errorf("phone: country must be a calling code like 66 or +855")
	}
	if o.Write == "" {
		o.Write = WriteE164
	}
	if o.Write != WriteE164 && o.Write != WriteNational {
		return nil, fmt.Errorf("phone: unknown write form %q (want e164 or national)", o.Write)
	}
	plan, ok := phonePlans[o.Country]
	if !ok {
		plan = phonePlan{"0", 4, 14 - len(o.Country)}
	}
	return &phoneTransform{opts: o, plan: plan, hash: hashOptions("phone", o),
		expect: "expected one phone number like +" + o.Country + " 8000 0000, or a national number of country code " + o.Country}, nil
}

type phoneTransform struct {
	opts   PhoneOptions
	plan   phonePlan
	hash   string
	expect string
}

func (t *phoneTransform) Kind() string { return "phone" }
func (t *phoneTransform) Lossy() bool  { return false }
func (t *phoneTransform) Hash() string { return t.hash }

func (t *phoneTransform) Parse(cell string) (Result, error) {
	s := Clean(cell)
	if s == "" {
		return Result{}, nil
	}
	var buf [24]byte
	d := buf[:0]
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if len(d) == cap(buf) {
				return Result{}, invalid(t.expect)
			}
			d = append(d, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || isSpace(r):
		default:
			return Result{}, invalid(t.expect)
		}
	}
	if !plus && len(d) > 2 && d[0] == '0' && d[1] == '0' {
		plus, d = true, d[2:]
	}
	out := make([]byte, 0, 16)
	out = append(out, '+')
	if plus {
		cc := t.opts.Country
		if len(d) > len(cc) && string(d[:len(cc)]) == cc {
			nat := d[len(cc):]
			if t.plan.trunk != "" && nat[0] == t.plan.trunk[0] { // +66 (0)80...
				nat = nat[1:]
			}
			if len(nat) < t.plan.min || len(nat) > t.plan.max {
				return Result{}, invalid(t.expect)
			}
			out = append(append(out, cc...), nat...)
		} else {
			if len(d) < 8 || len(d) > 15 || d[0] == '0' {
				return Result{}, invalid(t.expect)
			}
			out = append(out, d...)
		}
	} else {
		nat := d
		if t.plan.trunk != "" && len(nat) > 0 && nat[0] == t.plan.trunk[0] {
			nat = nat[1:]
		}
		if len(nat) < t.plan.min || len(nat) > t.plan.max || nat[0] == '0' {
			return Result{}, invalid(t.expect)
		}
		out = append(append(out, t.opts.Country...), nat...)
	}
	return Result{Value: connector.Text(string(out))}, nil
}

func (t *phoneTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindText:
	default:
		return "", wrongKind(v, "phone")
	}
	s, _ := v.Text()
	if r, err := t.Parse(s); err != nil || !r.Value.Equal(v) {
		return "", invalid("expected an E.164 phone number like +" + t.opts.Country + "80000000")
	}
	if t.opts.Write == WriteNational && strings.HasPrefix(s, "+"+t.opts.Country) {
		return t.plan.trunk + s[1+len(t.opts.Country):], nil
	}
	return s, nil
}
