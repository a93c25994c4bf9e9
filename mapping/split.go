package mapping

import (
	"fmt"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/casebridge/casebridge/connector"
)

// splitSeq yields the parts of cell between any of the separator runes,
// untrimmed; callers clean each part.
func splitSeq(cell, seps string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexAny(cell, seps)
			if i < 0 {
				yield(cell)
				return
			}
			if !yield(cell[:i]) {
				return
			}
			_, n := utf8.DecodeRuneInString(cell[i:])
			cell = cell[i+n:]
		}
	}
}

// Split returns the cleaned, non-blank parts of a multi-value cell split on
// any rune of seps (DefaultSeparators when empty), in cell order.
func Split(cell, seps string) []string {
	if seps == "" {
		seps = DefaultSeparators
	}
	var out []string
	for p := range splitSeq(cell, seps) {
		if p = Clean(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SplitOptions configure the "split" transform.
type SplitOptions struct {
	// Separators splits the cell; default DefaultSeparators.
	Separators string `json:"separators" yaml:"separators"`
	// Join separates the parts Format writes; default ", ". It must
	// contain one of the separators.
	Join string `json:"join" yaml:"join"`
}

// NewSplit returns the "split" transform: a multi-value cell to a
// multi-select Value of its cleaned parts (a set: order and repeats are
// not kept, which is what Salesforce stores), and back joined with Join.
// Format refuses a value holding a separator, which would read back as two.
func NewSplit(o SplitOptions) (Transform, error) {
	if o.Separators == "" {
		o.Separators = DefaultSeparators
	}
	if o.Join == "" {
		o.Join = ", "
	}
	if !strings.ContainsAny(o.Join, o.Separators) {
		return nil, fmt.Errorf("split: join %q contains none of the separators", o.Join)
	}
	return &splitTransform{opts: o, hash: hashOptions("split", o)}, nil
}

type splitTransform struct {
	opts SplitOptions
	hash string
}

func (t *splitTransform) Kind() string { return "split" }
func (t *splitTransform) Lossy() bool  { return false }
func (t *splitTransform) Hash() string { return t.hash }

func (t *splitTransform) Parse(cell string) (Result, error) {
	return Result{Value: connector.Multi(Split(cell, t.opts.Separators)...)}, nil
}

func (t *splitTransform) Format(v connector.Value) (string, error) {
	switch v.Kind() {
	case connector.KindNull:
		return "", nil
	case connector.KindMulti:
		vals, _ := v.Multi()
		for _, s := range vals {
			if strings.ContainsAny(s, t.opts.Separators) || Clean(s) != s {
				return "", invalid("expected values without separators or surrounding white space")
			}
		}
		return strings.Join(vals, t.opts.Join), nil
	}
	return "", wrongKind(v, "split")
}
