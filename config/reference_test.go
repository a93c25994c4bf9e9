package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestDeclarations checks every option's declaration: a doc line, and a
// default that decodes (setDefault panics on a bad one).
func TestDeclarations(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(st reflect.Type) {
		if seen[st] {
			return
		}
		seen[st] = true
		si := infoOf(st)
		for _, f := range si.fields {
			if f.doc == "" {
				t.Errorf("%s.%s has no doc tag", st.Name(), f.key)
			}
			ft := st.Field(f.index).Type
			if f.def != "" {
				setDefault(reflect.New(ft).Elem(), f.def)
				if ft.Implements(enumIface) && !strings.Contains(" "+strings.Join(reflect.Zero(ft).Interface().(enum).enumValues(), " ")+" ", " "+f.def+" ") {
					t.Errorf("%s.%s: default %q is not one of its values", st.Name(), f.key, f.def)
				}
			}
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != secretType {
				walk(ft)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
	walk(reflect.TypeFor[yesNoLists]())
}

func TestReference(t *testing.T) {
	ref := Reference()
	for _, want := range []string{
		"salesforce.auth.flow: jwt | client_credentials | refresh_token | password | soap (required)",
		"salesforce.auth.client_secret: string (secret; or client_secret_file)",
		"jobs.<name>.conflict: salesforce_wins | local_wins | newest_wins | manual (default manual)",
		"jobs.<name>.fields[].date.era: gregorian | buddhist | buddhist_thai | buddhist_khmer | buddhist_lao | buddhist_myanmar (default gregorian)",
		"jobs.<name>.fields[].date.month_names: en | th | km | bn | es (default en)",
		"sources.<name>.header_row: integer",
		"sources.<name>.backups: integer (default 3)",
		"jobs.<name>.max_delete: count or percentage (default 10%)",
	} {
		if !strings.Contains(ref, want+"\n") {
			t.Errorf("Reference lacks %q", want)
		}
	}
}
