package mapping

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// flagObjects is the seed schema with a checkbox for the child flag (the
// seed has none on the case; an org may well add one).
func flagObjects(t *testing.T) map[string]*connector.Object {
	objs := seedObjects(t)
	c := objs["vcms__Survivor_Case__c"]
	c.Fields = append(c.Fields, connector.Field{Name: "vcms__Child_Under_15__c", Type: connector.TypeBoolean, Createable: true, Updateable: true})
	return objs
}

const thFlagJob = inlineHead + `    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    fields:
      - sf: vcms__First_Name__c
        local: ชื่อ-สกุล
        transform: thai_name.first
        direction: to_salesforce
        flags: { child: vcms__Child_Under_15__c }
      - sf: vcms__Birthdate__c
        local: วันเกิด
        date: { formats: [02/01/2006, 2006-01-02], era: buddhist, excel_serial: true, day_first: true, bare_year: true }
        write_form: 02/01/2006
      - sf: vcms__Age_At_Identification__c
        local: อายุ
        transform: age
        direction: to_salesforce
        flags: { estimated: vcms__Birthdate_Estimated__c }
`

// TestFlagsBecomeFields: what the transforms learn reading a Thai tracker
// row (doc/architecture.md §11.2) lands in checkbox fields.
func TestFlagsBecomeFields(t *testing.T) {
	cfg := parseInline(t, thFlagJob)
	m, err := Compile(cfg.Jobs["j"], flagObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, age   string
		child, est  bool
		wantAgeAbst bool
	}{
		{"ด.ญ. สมหญิง ตัวอย่าง", "15", true, false, false},
		{"ด.ช. ทดสอบ ตัวอย่าง", "ประมาณ 14", true, true, false},
		{"นางสาว สมใจ ตัวอย่าง", "14 ปี", false, false, false},
		{"สมชาย ตัวอย่าง", "", false, false, false},
	} {
		row := textRow(thKey, map[string]string{thKey: "TH-CL-0007", "ชื่อ-สกุล": c.name, "วันเกิด": "12/03/2551", "อายุ": c.age})
		fam, errs := m.ToSalesforce(context.Background(), row, nil)
		if len(errs) > 0 {
			t.Fatalf("%s / %s: %v", c.name, c.age, errs)
		}
		checkFields(t, c.name+" / "+c.age, fam.Parent, map[string]fieldWant{
			"vcms__Child_Under_15__c":      wantVal(connector.Bool(c.child)),
			"vcms__Birthdate_Estimated__c": wantVal(connector.Bool(c.est)),
			"vcms__Birthdate__c":           wantVal(date(2008, 3, 12)),
		})
	}

	// An age cell that does not read leaves the checkbox out (unknown),
	// with an error naming the flag and never the cell.
	row := textRow(thKey, map[string]string{thKey: "TH-CL-0008", "ชื่อ-สกุล": "ด.ญ. สมหญิง ตัวอย่าง", "อายุ": "สิบสี่"})
	fam, errs := m.ToSalesforce(context.Background(), row, nil)
	checkFields(t, "unreadable age", fam.Parent, map[string]fieldWant{"vcms__Birthdate_Estimated__c": wantAbsent, "vcms__Age_At_Identification__c": wantAbsent})
	var flagErr bool
	for _, e := range errs {
		if e.Field == "vcms__Birthdate_Estimated__c" && strings.Contains(e.Error(), "fields[2].flags.estimated at inline.yaml:") {
			flagErr = true
		}
	}
	if !flagErr {
		t.Errorf("no error naming flags.estimated: %v", errs)
	}
	noValues(t, errs, "สิบสี่")

	// The derived fields are to_salesforce only, and never written locally.
	specs := map[string]FieldInfo{}
	for _, f := range m.FieldSpecs("vcms__Survivor_Case__c") {
		specs[f.Name] = f
	}
	for _, n := range []string{"vcms__Child_Under_15__c", "vcms__Birthdate_Estimated__c"} {
		if f, ok := specs[n]; !ok || f.Direction != config.ToSalesforce || f.Lossy {
			t.Errorf("%s: spec %+v", n, f)
		}
	}
	out, lerrs := m.ToLocal("vcms__Survivor_Case__c", connector.Record{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{
		"vcms__Birthdate_Estimated__c": connector.Bool(true), "vcms__Birthdate__c": date(2008, 3, 12)}}, nil)
	if len(lerrs) > 0 || len(out.Fields) != 1 || out.Fields["วันเกิด"].Raw() != "12/03/2551" {
		t.Errorf("ToLocal wrote %v %v", out.Fields, lerrs)
	}
}

// TestFlagBareYear: a Khmer-style bare year (doc/architecture.md §11.3 "A year on its
// own becomes 1 Jan of that year, marked estimated"), in Khmer digits.
func TestFlagBareYear(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: Code }
    fields:
      - sf: vcms__Birthdate__c
        local: DOB/Age
        date: { formats: [02/01/2006], day_first: true, bare_year: true }
        flags: { estimated: vcms__Birthdate_Estimated__c }
`)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]struct {
		d   connector.Value
		est bool
	}{"២០០៨": {date(2008, 1, 1), true}, "០៣/០៤/២០០៨": {date(2008, 4, 3), false}, "": {connector.Null(), false}} {
		fam, errs := m.ToSalesforce(context.Background(), textRow("Code", map[string]string{"Code": "KH-RT-24-031", "DOB/Age": cell}), nil)
		if len(errs) > 0 {
			t.Fatalf("%q: %v", cell, errs)
		}
		checkFields(t, cell, fam.Parent, map[string]fieldWant{"vcms__Birthdate__c": wantVal(want.d), "vcms__Birthdate_Estimated__c": wantVal(connector.Bool(want.est))})
	}
}

// TestFlagHash: the derived field's hash covers the flag, the column and
// the transform; adding a flag leaves the source field's hash alone.
func TestFlagHash(t *testing.T) {
	objs := flagObjects(t)
	hashes := func(rule string) map[string]string {
		t.Helper()
		cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
`+rule)
		m, err := Compile(cfg.Jobs["j"], objs)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range m.FieldSpecs("vcms__Survivor_Case__c") {
			out[f.Name] = f.RuleHash
		}
		return out
	}
	plain := hashes("      - { sf: vcms__Age_At_Identification__c, local: age, transform: age }\n")
	est := hashes("      - { sf: vcms__Age_At_Identification__c, local: age, transform: age, flags: { estimated: vcms__Birthdate_Estimated__c } }\n")
	lossy := hashes("      - { sf: vcms__Age_At_Identification__c, local: age, transform: age, flags: { lossy: vcms__Birthdate_Estimated__c } }\n")
	col := hashes("      - { sf: vcms__Age_At_Identification__c, local: age2, transform: age, flags: { estimated: vcms__Birthdate_Estimated__c } }\n")
	if plain["vcms__Age_At_Identification__c"] != est["vcms__Age_At_Identification__c"] {
		t.Errorf("adding a flag changed the source field's hash")
	}
	e := est["vcms__Birthdate_Estimated__c"]
	if len(e) != 64 || e == lossy["vcms__Birthdate_Estimated__c"] || e == col["vcms__Birthdate_Estimated__c"] {
		t.Errorf("flag hashes: %q %q %q", e, lossy["vcms__Birthdate_Estimated__c"], col["vcms__Birthdate_Estimated__c"])
	}
}

// TestFlagErrors: a flag's target must be a writable checkbox; findings
// carry file:line:col.
func TestFlagErrors(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Age_At_Identification__c, local: age, transform: age, flags: { estimated: vcms__Birthdate__c } }
      - { sf: vcms__First_Name__c, local: n, transform: thai_name.first, flags: { child: vcms__Birthdate_Estimatd__c } }
`)
	_, err := Compile(cfg.Jobs["j"], seedObjects(t))
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	want := []string{
		`inline.yaml:11:95: jobs.j.fields[0].flags.estimated: a flag is true or false, which vcms__Birthdate__c (date) cannot hold; name a checkbox field`,
		`inline.yaml:12:90: jobs.j.fields[1].flags.child: vcms__Survivor_Case__c has no field "vcms__Birthdate_Estimatd__c" (did you mean "vcms__Birthdate_Estimated__c"?)`,
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
