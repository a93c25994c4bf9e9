package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

func TestRegistry(t *testing.T) {
	needOptions := map[string]bool{"value_map": true, "multi_value_map": true, "phone": true}
	for _, name := range Names() {
		tr, err := New(name)
		if needOptions[name] {
			if err == nil {
				t.Errorf("%s builds without its required options", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(tr.Hash()) != 64 {
			t.Errorf("%s: hash %q", name, tr.Hash())
		}
		if s, err := tr.Format(connector.Null()); err != nil || s != "" {
			t.Errorf("%s: Format(null) = %q, %v", name, s, err)
		}
	}
	if _, err := New("thai_name.frist"); err == nil || !strings.Contains(err.Error(), `did you mean "thai_name.first"`) {
		t.Errorf("misspelt name: %v", err)
	}
	// Lookup returns fresh options: changing one does not change the preset.
	o, _ := Lookup("thai_name.first")
	o.(*NameOptions).Honorifics[0] = "changed"
	o2, _ := Lookup("thai_name.first")
	if o2.(*NameOptions).Honorifics[0] != ThaiHonorifics[0] || ThaiHonorifics[0] == "changed" {
		t.Error("Lookup shares its preset")
	}
}

func TestHash(t *testing.T) {
	a := must(New("yes_no")).Hash()
	// Defaults filled in explicitly give the same behaviour, so the same hash.
	b := must(NewYesNo(YesNoOptions{Yes: DefaultYes, No: DefaultNo, Unknown: DefaultUnknown, WriteYes: "yes", WriteNo: "no"})).Hash()
	if a != b {
		t.Errorf("explicit defaults change the hash: %s != %s", a, b)
	}
	c := must(NewYesNo(YesNoOptions{WriteYes: "ใช่", WriteNo: "ไม่"})).Hash()
	if a == c {
		t.Error("a different write form gives the same hash")
	}
	// The hash is stable across runs and releases: a change here re-initialises
	// every yes_no field of every installation (doc/architecture.md §5.9).
	if want := "4843467b2570331b3ec311476d2b1bc9a4d16184a4237f68cc1e87979ec3a86c"; a != want {
		t.Errorf("yes_no hash is %s, was %s", a, want)
	}
	seen := map[string]string{}
	for _, o := range []Options{
		&DateOptions{Order: DayFirst}, &DateOptions{Order: MonthFirst}, &DateOptions{Order: DayFirst, Era: EraBuddhist},
		&NumberOptions{}, &NumberOptions{Scale: new(int32(0))}, &NumberOptions{Scale: new(int32(2))},
		&NameOptions{Order: GivenFirst, Part: PartFirst}, &NameOptions{Order: GivenFirst, Part: PartLast},
		&PhoneOptions{Country: "66"}, &PhoneOptions{Country: "855"},
		&ValueMapOptions{Pairs: []Pair{{"a", "A"}, {"b", "A"}}}, &ValueMapOptions{Pairs: []Pair{{"b", "A"}, {"a", "A"}}},
	} {
		tr := must(o.Build())
		key := fmt.Sprintf("%T%+v", o, o)
		if prev, ok := seen[tr.Hash()]; ok {
			t.Errorf("%s and %s hash alike", prev, key)
		}
		seen[tr.Hash()] = key
		if again := must(o.Build()).Hash(); again != tr.Hash() {
			t.Errorf("%s: hash differs between builds", key)
		}
	}
}
