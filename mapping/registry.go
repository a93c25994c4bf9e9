package mapping

import (
	"errors"
	"slices"

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

// docs describes each registered transform in one line, for
// `casebridge reference` and the configuration's unknown-name message.
var docs = map[string]string{
	"text":            "text as typed, trimmed, Thai, Khmer and Bengali digits read as 0-9",
	"text.as_written": "text as typed, trimmed, its digits kept in their script (a name in local script)",
	"value_map":       "local words to Salesforce values (a rule's values)",
	"multi_value_map": "a cell listing several words to a multi-select field (values with split)",
	"yes_no":          "yes/no words of every preset language to a checkbox; blank, ? and n/a are unknown",
	"date":            "a date in any common layout, Buddhist Era years and Excel serials, to a date",
	"datetime":        "a date and time, in the source's time zone when it has none, to a date-time",
	"number":          "a number with any digits, thousands separators and currency symbols stripped",
	"age":             "an age in whole years; \"about 14\" and a range \"13-14\" (its lower bound) are estimates",
	"split":           "a cell listing several values (at , ; / and line breaks) to a multi-select field",
	"phone":           "a phone number to E.164 (+66812345678); needs a country calling code",
	"name.first":      "the first name of a full name written given name first",
	"name.last":       "the last name of a full name written given name first",
}

func init() {
	names := []struct {
		prefix string
		opts   NameOptions
		doc    string
	}{
		{"thai_name", NameOptions{Order: GivenFirst, Honorifics: ThaiHonorifics, ChildHonorifics: ThaiChildHonorifics, AttachedHonorifics: true}, "a Thai full name, given name first, its honorific (นาย, ด.ญ. for a child) stripped"},
		{"khmer_name", NameOptions{Order: FamilyFirst, Honorifics: KhmerHonorifics}, "a Khmer full name, family name first, its honorific stripped"},
		{"khmer_latin_name", NameOptions{Order: UppercaseFamily}, "a Khmer name in Latin letters, the family name the one in capitals"},
		{"bengali_name", NameOptions{Order: GivenFirst, Honorifics: BengaliHonorifics}, "a Bengali full name, given name first, its honorific stripped"},
		{"spanish_name", NameOptions{Order: Spanish, Honorifics: SpanishHonorifics}, "a Spanish full name: given names, then two surnames"},
	}
	for _, n := range names {
		for _, part := range []NamePart{PartFirst, PartLast} {
			o := n.opts
			o.Part = part
			docs[n.prefix+"."+string(part)] = "the " + string(part) + " name part of " + n.doc
			registry[n.prefix+"."+string(part)] = func() Options {
				c := o
				c.Honorifics = slices.Clone(o.Honorifics)
				c.ChildHonorifics = slices.Clone(o.ChildHonorifics)
				return &c
			}
		}
	}
	// The configuration refuses a name not registered here (config
	// cannot import mapping).
	for name := range registry {
		config.RegisterTransform(name, docs[name])
	}
}

// Doc describes a registered transform in one line; "" for an unknown
// name.
func Doc(name string) string { return docs[name] }

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

// unknownTransform is the error for a name the registry lacks: the
// configuration's own message, with the nearest name and every name.
func unknownTransform(name string) error {
	return errors.New(config.UnknownTransform(name, Names()))
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
