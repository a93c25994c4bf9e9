package mapping

import (
	"testing"
)

// TestDatePatternRule: a date rule written with patterns (dd/mm/yyyy)
// is the rule written with the Go layout (02/01/2006): the same transform
// (its hash, so changing the spelling re-syncs nothing), reading an
// ambiguous date day first and writing the layout back.
func TestDatePatternRule(t *testing.T) {
	compile := func(date string) *FieldRule {
		t.Helper()
		cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Birthdate__c, local: dob, `+date+` }
`)
		m, err := Compile(cfg.Jobs["j"], seedObjects(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range m.Parent.Rules {
			if r.SF == "vcms__Birthdate__c" {
				return r
			}
		}
		t.Fatal("no birthdate rule")
		return nil
	}
	goLayout := compile(`date: { formats: ["02/01/2006", "2 Jan 2006"] }`)
	pattern := compile(`date: { formats: [dd/mm/yyyy, d mmm yyyy] }`)
	if goLayout.Transform.Hash() != pattern.Transform.Hash() {
		t.Errorf("dd/mm/yyyy and 02/01/2006 build different transforms")
	}
	res, err := pattern.Transform.Parse("05/03/2008")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := pattern.Transform.Format(res.Value); err != nil || s != "05/03/2008" {
		t.Errorf("05/03/2008 read and written back as %q, %v", s, err)
	}
	if got := res.Value.Raw(); got != "2008-03-05" {
		t.Errorf("05/03/2008 read as %s, want 2008-03-05 (day first)", got)
	}
	written := compile(`date: { formats: [d/m/yy] }, write_form: dd mmm yyyy`)
	if s, err := written.Transform.Format(res.Value); err != nil || s != "05 Mar 2008" {
		t.Errorf("write_form dd mmm yyyy wrote %q, %v", s, err)
	}
}
