package mapping

import (
	"fmt"

	"github.com/casebridge/casebridge/connector"
)

// The default word lists of doc/architecture.md §11.6 rule 3, read-only. Matching is
// after Clean and case folding, so "Yes", "YES" and " y " all match.
var (
	DefaultYes     = []string{"yes", "y", "ใช่", "มี", "បាទ", "ចាស", "হ্যাঁ", "sí", "si", "1", "true", "✓"}
	DefaultNo      = []string{"no", "n", "ไม่", "ไม่ใช่", "ទេ", "না", "0", "false"}
	DefaultUnknown = []string{"-", "—", "?", "n/a", "รอ"}
)

// YesNoOptions configure the "yes_no" transform.
type YesNoOptions struct {
	// Yes, No and Unknown replace the default word lists when not empty.
	// A blank cell is always unknown.
	Yes     []string `json:"yes" yaml:"yes"`
	No      []string `json:"no" yaml:"no"`
	Unknown []string `json:"unknown" yaml:"unknown"`
	// WriteYes and WriteNo are the write forms, default "yes" and "no"
	// (a Thai sheet would say ใช่ and ไม่). Null is written as a blank cell.
	WriteYes string `json:"write_yes" yaml:"write_yes"`
	WriteNo  string `json:"write_no" yaml:"write_no"`
}

// NewYesNo returns the "yes_no" transform: a bool Value for a yes or no
// word, null for an unknown word or a blank cell (a checkbox stores null
// as false), an error for anything else.
func NewYesNo(o YesNoOptions) (Transform, error) {
	if len(o.Yes) == 0 {
		o.Yes = DefaultYes
	}
	if len(o.No) == 0 {
		o.No = DefaultNo
	}
	if len(o.Unknown) == 0 {
		o.Unknown = DefaultUnknown
	}
	if o.WriteYes == "" {
		o.WriteYes = "yes"
	}
	if o.WriteNo == "" {
		o.WriteNo = "no"
	}
	t := &yesNo{opts: o, words: make(map[string]int8)}
	for _, l := range []struct {
		words []string
		val   int8
		name  string
	}{{o.Yes, 1, "yes"}, {o.No, 0, "no"}, {o.Unknown, -1, "unknown"}} {
		for _, w := range l.words {
			k := matchKey(w, false)
			if k == "" {
				return nil, fmt.Errorf("yes_no: blank word in the %s list", l.name)
			}
			if prev, ok := t.words[k]; ok && prev != l.val {
				return nil, fmt.Errorf("yes_no: %q is in two lists", w)
			}
			t.words[k] = l.val
		}
	}
	if t.words[matchKey(o.WriteYes, false)] != 1 {
		return nil, fmt.Errorf("yes_no: write_yes %q is not in the yes list", o.WriteYes)
	}
	if v, ok := t.words[matchKey(o.WriteNo, false)]; !ok || v != 0 {
		return nil, fmt.Errorf("yes_no: write_no %q is not in the no list", o.WriteNo)
	}
	t.opts.WriteYes, t.opts.WriteNo = Clean(o.WriteYes), Clean(o.WriteNo)
	t.hash = hashOptions("yes_no", t.opts)
	return t, nil
}

type yesNo struct {
	opts  YesNoOptions
	words map[string]int8 // 1 yes, 0 no, -1 unknown
	hash  string
}

func (t *yesNo) Kind() string { return "yes_no" }
func (t *yesNo) Lossy() bool  { return false }
func (t *yesNo) Hash() string { return t.hash }

func (t *yesNo) Parse(cell string) (Result, error) {
	k := matchKey(cell, false)
	if k == "" {
		return Result{}, nil
	}
	v, ok := t.words[k]
	switch {
	case !ok:
		return Result{}, invalid("expected a yes or no word of the rule's lists (e.g. yes, no, ใช่, ไม่, បាទ, ទេ, হ্যাঁ, না, sí), or blank")
	case v < 0:
		return Result{}, nil
	}
	return Result{Value: connector.Bool(v == 1)}, nil
}

func (t *yesNo) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindBool:
		if b, _ := v.Bool(); b {
			return t.opts.WriteYes, nil
		}
		return t.opts.WriteNo, nil
	}
	return "", wrongKind(v, "yes_no")
}
