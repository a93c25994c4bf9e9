package mapping

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/fixtures"
)

// seedObjects returns the vcms__ schema of doc/architecture.md §11.1 as the fake org's
// seed (fixtures/org/seed.json) declares it, converted the way describe
// would give it: every picklist restricted, required and master-detail
// fields not nillable, formula fields calculated and read-only. A field
// with a default is nillable here (connector.Field has no
// defaultedOnCreate). Every object's modification time is SystemModstamp.
func seedObjects(t testing.TB) map[string]*connector.Object {
	t.Helper()
	data, err := fixtures.Org.ReadFile(fixtures.OrgSeedPath)
	if err != nil {
		t.Fatal(err)
	}
	var seed struct {
		Objects []struct {
			Name      string `json:"name"`
			Label     string `json:"label"`
			NameField struct {
				Label      string `json:"label"`
				Length     int    `json:"length"`
				AutoNumber string `json:"autoNumber"`
				Calculated bool   `json:"calculated"`
			} `json:"nameField"`
			Fields []struct {
				Name         string   `json:"name"`
				Label        string   `json:"label"`
				Type         string   `json:"type"`
				Length       int      `json:"length"`
				Precision    int      `json:"precision"`
				Scale        int      `json:"scale"`
				Values       []string `json:"values"`
				ExternalID   bool     `json:"externalId"`
				Unique       bool     `json:"unique"`
				Required     bool     `json:"required"`
				MasterDetail bool     `json:"masterDetail"`
				Calculated   bool     `json:"calculated"`
				ReferenceTo  string   `json:"referenceTo"`
				Relationship string   `json:"relationshipName"`
				Default      string   `json:"default"`
			} `json:"fields"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(data, &seed); err != nil {
		t.Fatal(err)
	}
	out := map[string]*connector.Object{}
	for _, so := range seed.Objects {
		o := &connector.Object{Name: so.Name, Label: so.Label, Key: "Id", Modified: "SystemModstamp"}
		nf := so.NameField
		name := connector.Field{Name: "Name", Label: nf.Label, Type: connector.TypeString, Length: nf.Length, Nillable: true,
			Createable: nf.AutoNumber == "" && !nf.Calculated, Updateable: nf.AutoNumber == "" && !nf.Calculated, Calculated: nf.AutoNumber != "" || nf.Calculated}
		if name.Length == 0 {
			name.Length = 80
		}
		o.Fields = append(o.Fields,
			connector.Field{Name: "Id", Type: connector.TypeID, Length: 18},
			name,
			connector.Field{Name: "SystemModstamp", Type: connector.TypeDateTime, Calculated: true})
		for _, sf := range so.Fields {
			f := connector.Field{Name: sf.Name, Label: sf.Label, Type: connector.FieldType(sf.Type), Length: sf.Length,
				Precision: sf.Precision, Scale: sf.Scale, ExternalID: sf.ExternalID, Unique: sf.Unique,
				Calculated: sf.Calculated, Relationship: sf.Relationship}
			if !f.Type.Known() {
				t.Fatalf("seed: unexpected type %q", sf.Type)
			}
			f.Nillable = !sf.Required && !sf.MasterDetail && f.Type != connector.TypeBoolean || sf.Default != ""
			f.Createable = !sf.Calculated
			f.Updateable = !sf.Calculated && !sf.MasterDetail
			if len(sf.Values) > 0 {
				f.Picklist, f.Restricted = sf.Values, true
			}
			if sf.ReferenceTo != "" {
				f.ReferenceTo = []string{sf.ReferenceTo}
			}
			o.Fields = append(o.Fields, f)
		}
		out[o.Name] = o
	}
	return out
}

// loadConfig parses a configuration under testdata/rules through the real
// loader.
func loadConfig(t testing.TB, name string) *config.Config {
	t.Helper()
	path := filepath.Join("testdata", "rules", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(path, data, config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

// compileJob loads a configuration and compiles its named job against the
// seed schema.
func compileJob(t testing.TB, file, job string) *JobMapping {
	t.Helper()
	cfg := loadConfig(t, file)
	j := cfg.Jobs[job]
	if j == nil {
		t.Fatalf("%s: no job %s", file, job)
	}
	m, err := Compile(j, seedObjects(t))
	if err != nil {
		t.Fatalf("compile %s: %v", job, err)
	}
	return m
}

// parseInline parses a configuration given as text.
func parseInline(t testing.TB, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("inline.yaml", []byte(text), config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("inline config: %v", err)
	}
	return cfg
}

const inlineHead = `version: 1
salesforce:
  auth: { flow: jwt, client_id: synthetic, username: a@ngo.example, private_key_file: sf.key }
sources:
  s: { kind: csv, path: s.csv }
jobs:
  j:
`

func TestCompileThaiTracker(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	if m.Object != "vcms__Survivor_Case__c" || m.Key != "vcms__External_Key__c" || m.KeyPrefix != "ngo-th-cm:" {
		t.Fatalf("job mapping %s %s %q", m.Object, m.Key, m.KeyPrefix)
	}
	if got := m.Objects(); len(got) != 2 || got[0] != "vcms__Survivor_Case__c" || got[1] != "vcms__Assistance__c" {
		t.Errorf("Objects() = %v", got)
	}
	if len(m.Children) != 2 || m.Children[0].KeySuffix != ":stipend" || m.Children[1].KeySuffix != ":school" {
		t.Fatalf("children %+v", m.Children)
	}
	specs := m.FieldSpecs("vcms__Survivor_Case__c")
	byName := map[string]FieldInfo{}
	for _, s := range specs {
		byName[s.Name] = s
		if len(s.RuleHash) != 64 {
			t.Errorf("%s: rule hash %q", s.Name, s.RuleHash)
		}
	}
	want := map[string]struct {
		dir   config.Direction
		class config.PII
		lossy bool
	}{
		"vcms__Source_System__c":         {config.ToSalesforce, "", false},
		"vcms__First_Name__c":            {config.ToSalesforce, config.PIIDirect, true},
		"vcms__Last_Name__c":             {config.Both, config.PIIDirect, true},
		"vcms__Gender__c":                {config.Both, config.PIIQuasi, false},
		"vcms__Age_At_Identification__c": {config.ToSalesforce, config.PIIQuasi, true},
		"vcms__Workplace__c":             {config.ToSalesforce, config.PIISensitive, false},
		"vcms__Stage__c":                 {config.Both, "", false},
	}
	for name, w := range want {
		s, ok := byName[name]
		if !ok {
			t.Errorf("%s missing from FieldSpecs", name)
			continue
		}
		if s.Direction != w.dir || s.Class != w.class || s.Lossy != w.lossy {
			t.Errorf("%s: got %s/%q/lossy=%v, want %s/%q/lossy=%v", name, s.Direction, s.Class, s.Lossy, w.dir, w.class, w.lossy)
		}
	}
	if len(specs) != 13 {
		t.Errorf("%d parent fields, want 13", len(specs))
	}
	// Both Assistance children set the service type: listed once, with a
	// hash over both rules.
	as := m.FieldSpecs("vcms__Assistance__c")
	names := []string{}
	for _, s := range as {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "vcms__Service_Type__c,CurrencyIsoCode,vcms__Amount__c,vcms__Provider__c,vcms__Case__c" {
		t.Errorf("Assistance fields %v", names)
	}
	if as[0].RuleHash == m.Children[0].Rules[0].Hash || as[0].RuleHash == m.Children[1].Rules[0].Hash {
		t.Errorf("a field of two children should hash both rules")
	}
}

// TestRuleHashStable: the hash depends on the rule's effective
// configuration only — not on its position, comments or formatting — and
// changes when the behaviour does.
func TestRuleHashStable(t *testing.T) {
	objs := seedObjects(t)
	hashOf := func(rules string) string {
		t.Helper()
		cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
`+rules)
		m, err := Compile(cfg.Jobs["j"], objs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.FieldSpecs("vcms__Survivor_Case__c") {
			if f.Name == "vcms__Stage__c" {
				return f.RuleHash
			}
		}
		t.Fatal("no stage rule")
		return ""
	}
	base := hashOf("      - { sf: vcms__Stage__c, local: st, values: { a: Active, b: Closed } }\n")
	same := hashOf("      - { sf: vcms__Case_Code__c, local: code }   # another rule first\n" +
		"      - sf: vcms__Stage__c\n        local: st\n        values:\n          a: Active\n          b: Closed\n")
	if base != same {
		t.Errorf("rule hash moved with position or formatting")
	}
	for name, rules := range map[string]string{
		"value order": "      - { sf: vcms__Stage__c, local: st, values: { b: Closed, a: Active } }\n",
		"column":      "      - { sf: vcms__Stage__c, local: st2, values: { a: Active, b: Closed } }\n",
		"direction":   "      - { sf: vcms__Stage__c, local: st, direction: to_salesforce, values: { a: Active, b: Closed } }\n",
		"class":       "      - { sf: vcms__Stage__c, local: st, pii: quasi, values: { a: Active, b: Closed } }\n",
		"extra value": "      - { sf: vcms__Stage__c, local: st, values: { a: Active, b: Closed, c: Closed } }\n",
	} {
		if hashOf(rules) == base {
			t.Errorf("%s: rule hash did not change", name)
		}
	}
}

// TestCompileErrors: findings carry file:line:col and the option path, and
// a picklist value refused lists the values the picklist has.
func TestCompileErrors(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Stge__c, local: st0 }
      - { sf: vcms__Stage__c, local: st, values: { a: Activ } }
      - { sf: vcms__Age_Verified__c, local: av, date: { formats: [02/01/2006] } }
      - { sf: vcms__Case_Code__c, constant: "THIS-CONSTANT-IS-TOO-LONG" }
      - { sf: vcms__Legal_Working_Age_Date__c, local: lw, direction: to_salesforce }
      - { sf: vcms__Workplace__c, local: wp, lookup: { object: Account, field: Name } }   # two-way: validate --online checks the field
      - { sf: vcms__Buyer__c, constant: "Acme Garments" }
      - { sf: vcms__Partner_Org__c, constant: "001000000000001AAA" }
`)
	_, err := Compile(cfg.Jobs["j"], seedObjects(t))
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	want := []string{
		`inline.yaml:11:15: jobs.j.fields[0].sf: vcms__Survivor_Case__c has no field "vcms__Stge__c" (did you mean "vcms__Stage__c"?)`,
		`inline.yaml:12:52: jobs.j.fields[1].values.a: "Activ" is not a picklist value of vcms__Stage__c (did you mean "Active"?); its values: Identified, Verification, Plan_Pending, Active, Follow_Up, Closed, Closed_Referred (describe lists the master values; record types may allow fewer)`,
		`inline.yaml:13:55: jobs.j.fields[2].date: a date rule gives date values, which vcms__Age_Verified__c (boolean) cannot hold`,
		`inline.yaml:14:45: jobs.j.fields[3].constant: the constant does not fit vcms__Case_Code__c (string(20)): STRING_TOO_LONG: max length 20, got 25 characters`,
		`inline.yaml:15:15: jobs.j.fields[4].sf: vcms__Legal_Working_Age_Date__c is a formula or roll-up field: Salesforce computes it; make the rule direction: from_salesforce`,
		// A name where a reference wants a record Id: Salesforce would refuse
		// every record with MALFORMED_ID.
		`inline.yaml:17:41: jobs.j.fields[6].constant: the constant does not fit vcms__Buyer__c (reference): MALFORMED_ID: a reference holds a record Id, 15 or 18 letters and digits`,
	}
	if len(errs) != len(want) {
		t.Errorf("got %d findings:\n%v", len(errs), errs)
	}
	for i := range min(len(errs), len(want)) {
		if errs[i].Error() != want[i] {
			t.Errorf("finding %d:\n got %s\nwant %s", i, errs[i], want[i])
		}
	}
}
