package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
)

// TestRuleOptionsAtLoad: what Compile would refuse, or silently ignore,
// without the org is refused when the configuration loads (validate
// offline, and a run before it logs in), at the option's position: an
// unknown transform (with every name the registry has), and options a
// rule cannot combine.
func TestRuleOptionsAtLoad(t *testing.T) {
	for _, tc := range []struct{ rule, want string }{
		{`{ sf: vcms__Gender__c, local: g, transform: thai_nam.first }`,
			`inline.yaml:11:53: jobs.j.fields[0].transform: unknown transform "thai_nam.first" (did you mean "thai_name.first"?); the transforms are ` + strings.Join(Names(), ", ")},
		{`{ sf: vcms__Gender__c, local: g, transform: nothing_like_it }`,
			`jobs.j.fields[0].transform: unknown transform "nothing_like_it"; the transforms are age, bengali_name.first,`},
		{`{ sf: vcms__Workplace__c, constant: ACME, lookup: { object: Account, field: Name } }`,
			`inline.yaml:11:59: jobs.j.fields[0].lookup: a constant is written to Salesforce as given: it takes no lookup (remove lookup, or the constant)`},
		{`{ sf: vcms__Stage__c, constant: Active, values: { a: Active }, default: Active }`,
			`jobs.j.fields[0].values: a constant is written to Salesforce as given: it takes no values, default (remove values and default, or the constant)`},
		{`{ sf: vcms__Stage__c, local: st, transform: text, values: { a: Active } }`,
			`jobs.j.fields[0].values: transform text is a conversion of its own: it does not combine with values`},
		{`{ sf: vcms__Visit_Date__c, local: v, split: ",", date: { formats: ["2006-01-02"] } }`,
			`jobs.j.fields[0].split: split combines only with values (the words of a multi-select cell); this rule has date`},
		{`{ sf: vcms__Age_Verified__c, local: av, yes_no: en, number: { scale: 0 } }`,
			`jobs.j.fields[0].number: a rule takes one of yes_no, date, number, phone, lookup and values; this one has yes_no and number`},
	} {
		_, err := config.Parse("inline.yaml", []byte(inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - `+tc.rule+"\n"), config.Options{Getenv: func(string) (string, bool) { return "", false }})
		var errs config.Errors
		if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant one finding holding %s", tc.rule, err, tc.want)
		}
	}
	// What may combine still loads: split with values, a transform alone.
	for _, rule := range []string{
		`{ sf: vcms__Citizenship__c, local: c, split: ",", values: { th: Thai } }`,
		`{ sf: vcms__First_Name__c, local: n, transform: thai_name.first }`,
	} {
		if _, err := config.Parse("inline.yaml", []byte(inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - `+rule+"\n"), config.Options{Getenv: func(string) (string, bool) { return "", false }}); err != nil {
			t.Errorf("%s: %v", rule, err)
		}
	}
}

// TestTransformDocs: every registered transform is described, and the
// configuration knows it.
func TestTransformDocs(t *testing.T) {
	known := map[string]string{}
	for _, d := range config.Transforms() {
		known[d.Name] = d.Doc
	}
	for _, name := range Names() {
		if Doc(name) == "" {
			t.Errorf("transform %s has no doc", name)
		}
		if known[name] != Doc(name) {
			t.Errorf("transform %s is not registered with the configuration", name)
		}
	}
	if len(known) != len(Names()) {
		t.Errorf("the configuration knows %d transforms, the registry has %d", len(known), len(Names()))
	}
}

// TestReferenceListsTransforms: casebridge reference lists every
// transform with its doc line.
func TestReferenceListsTransforms(t *testing.T) {
	ref := config.Reference()
	for _, name := range Names() {
		if !strings.Contains(ref, "  "+name+" ") || !strings.Contains(ref, Doc(name)+"\n") {
			t.Errorf("reference lacks transform %s", name)
		}
	}
}
