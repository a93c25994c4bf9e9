package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Reference returns a plain-text reference of every option, generated
// from the same declarations the decoder reads: one line per key with
// its path, type, default or "required", and documentation. Named maps
// (sources, jobs) are shown as <name>, lists as [].
//
// It ends with the transforms a rule's transform may name (those
// registered: mapping's, in any program that links it) and the letters of
// date patterns.
func Reference() string {
	var b strings.Builder
	writeReference(&b, reflect.TypeFor[Config](), "")
	if ts := Transforms(); len(ts) > 0 {
		b.WriteString("\nTransforms (jobs.<name>.fields[].transform):\n")
		width := 0
		for _, t := range ts {
			width = max(width, len(t.Name))
		}
		for _, t := range ts {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, t.Name, t.Doc)
		}
	}
	b.WriteString("\nDate patterns (jobs.<name>.fields[].date.formats, write_form):\n")
	for _, t := range DatePatternTokens {
		layout := ""
		if t.Layout != "" {
			layout = " (Go: " + t.Layout + ")"
		}
		fmt.Fprintf(&b, "  %-6s  %s%s\n", t.Token, t.Means, layout)
	}
	for _, l := range strings.Split(DatePatternNotes, "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

var (
	limitType    = reflect.TypeFor[Limit]()
	scheduleType = reflect.TypeFor[Schedule]()
	valueMapType = reflect.TypeFor[ValueMap]()
	yesNoType    = reflect.TypeFor[YesNo]()
)

func writeReference(b *strings.Builder, t reflect.Type, path string) {
	si := infoOf(t)
	for _, f := range si.fields {
		ft := t.Field(f.index).Type
		p := joinPath(path, f.key)
		var note []string
		if f.required {
			note = append(note, "required")
		}
		if f.def != "" {
			note = append(note, "default "+f.def)
		}
		if f.secret {
			note = append(note, "secret; or "+f.key+"_file")
		}
		fmt.Fprintf(b, "%s: %s", p, typeName(ft))
		if len(note) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(note, ", "))
		}
		fmt.Fprintf(b, "\n    %s\n", f.doc)
		switch {
		case ft.Kind() == reflect.Map:
			writeReference(b, ft.Elem().Elem(), p+".<name>")
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Pointer:
			writeReference(b, ft.Elem().Elem(), p+"[]")
		case ft.Kind() == reflect.Pointer && ft.Elem() != yesNoType:
			writeReference(b, ft.Elem(), p)
		case ft.Kind() == reflect.Struct && ft != secretType && ft != limitType && ft != scheduleType && ft != valueMapType:
			writeReference(b, ft, p)
		}
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t.Implements(enumIface):
		return strings.Join(reflect.Zero(t).Interface().(enum).enumValues(), " | ")
	case t.Kind() == reflect.Slice && t.Elem().Implements(enumIface):
		return "[" + typeName(t.Elem()) + "]"
	case t == secretType:
		return "string"
	case t == limitType:
		return "count or percentage"
	case t == scheduleType:
		return "schedule"
	case t == valueMapType:
		return "mapping of local value: Salesforce value"
	case t == reflect.PointerTo(yesNoType):
		return "preset or mapping"
	case t.Kind() == reflect.Map:
		return "mapping of names"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "[string]"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Struct:
		return "mapping"
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.Bool:
		return "boolean"
	}
	return "string"
}
