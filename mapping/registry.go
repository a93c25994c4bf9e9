package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casebridge/casebridge/config"
)

// Options are the options of one kind of transform. Build returns the
// configured transform; it validates without I/O (a time zone is looked up
// in the local zone database), and its errors name the option, never a
// data value.
type Options interface {
	Build() (Transform, error)
}

// Build returns the configured transform.
func (o *TextOptions) Build() (Transform, error) { return NewText(*o) }

// Build returns the configured transform.
func (o *ValueMapOptions) Build() (Transform, error) { return NewValueMap(*o) }

// Build returns the configured transform.
func (o *YesNoOptions) Build() (Transform, error) { return NewYesNo(*o) }

// Build returns the configured transform.
func (o *DateOptions) Build() (Transform, error) { return NewDate(*o) }

// Build returns the configured transform.
func (o *DateTimeOptions) Build() (Transform, error) { return NewDateTime(*o) }

// Build returns the configured transform.
func (o *NumberOptions) Build() (Transform, error) { return NewNumber(*o) }

// Build returns the configured transform.
func (o *NameOptions) Build() (Transform, error) { return NewName(*o) }

// Build returns the configured transform.
func (o *SplitOptions) Build() (Transform, error) { return NewSplit(*o) }

// Build returns the configured transform.
func (o *PhoneOptions) Build() (Transform, error) { return NewPhone(*o) }

// registry maps a transform name to a function returning its preset
// options: a fresh pointer each call, which a config loader may decode
// the rule's options into before calling Build.
var registry = map[string]func() Options{
	"text":            func() Options { return &TextOptions{FoldDigits: true} },
	"text.as_written": func() Options { return &TextOptions{} },
	"value_map":       func() Options { return &ValueMapOptions{} },
	"multi_value_map": func() Options { return &ValueMapOptions{Multi: true} },
	"yes_no":          func() Options { return &YesNoOptions{} },
	"date":            func() Options { return &DateOptions{} },
	"datetime":        func() Options { return &DateTimeOptions{} },
	"number":          func() Options { return &NumberOptions{} },
	"age":             func() Options { return &NumberOptions{Scale: new(int32(0)), Ranges: true} },
	"split":           func() Options { return &SplitOptions{} },
	"phone":           func() Options { return &PhoneOptions{} },
	"name.first":      func() Options { return &NameOptions{Order: GivenFirst, Part: PartFirst} },
	"name.last":       func() Options { return &NameOptions{Order: GivenFirst, Part: PartLast} },
}

func init() {
	names := []struct {
		prefix string
		opts   NameOptions
	}{
		{"thai_name", NameOptions{Order: GivenFirst, Honorifics: ThaiHonorifics, ChildHonorifics: ThaiChildHonorifics, AttachedHonorifics: true}},
		{"khmer_name", NameOptions{Order: FamilyFirst, Honorifics: KhmerHonorifics}},
		{"khmer_latin_name", NameOptions{Order: UppercaseFamily}},
		{"bengali_name", NameOptions{Order: GivenFirst, Honorifics: BengaliHonorifics}},
		{"spanish_name", NameOptions{Order: Spanish, Honorifics: SpanishHonorifics}},
	}
	for _, n := range names {
		for _, part := range []NamePart{PartFirst, PartLast} {
			o := n.opts
			o.Part = part
			registry[n.prefix+"."+string(part)] = func() Options {
				c := o
				c.Honorifics = slices.Clone(o.Honorifics)
				c.ChildHonorifics = slices.Clone(o.ChildHonorifics)
				return &c
			}
		}
	}
}

// Lookup returns fresh preset options of the named transform
// (e.g. "thai_name.first", "yes_no", "date"), to be adjusted and built.
func Lookup(name string) (Options, bool) {
	f, ok := registry[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// New builds the named transform with its preset options.
func New(name string) (Transform, error) {
	o, ok := Lookup(name)
	if !ok {
		return nil, unknownTransform(name)
	}
	return o.Build()
}

func unknownTransform(name string) error {
	if best := config.Nearest(name, Names()); best != "" {
		return fmt.Errorf("unknown transform %q (did you mean %q?)", name, best)
	}
	return fmt.Errorf("unknown transform %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered transform names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
