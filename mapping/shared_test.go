package mapping

import (
	"context"
	"errors"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
)

// thNamesJob maps first and last name both ways into the tracker's one
// full-name cell (doc/architecture.md §11.2 ชื่อ-สกุล).
const thNamesJob = inlineHead + `    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: "รหัสเคส Case ID", key_prefix: "ngo-th-cm:" }
    fields:
      - { sf: vcms__First_Name__c, local: ชื่อ-สกุล, transform: thai_name.first, pii: direct }
      - { sf: vcms__Last_Name__c, local: ชื่อ-สกุล, transform: thai_name.last, pii: direct }
      - sf: vcms__Stage__c
        local: สถานะ
        values: { กำลังดำเนินการ: Active, ติดตามผล: Follow_Up, ปิดเคส: Closed, ส่งต่อ: Closed_Referred }
`

// TestTwoWayNameParts: a Salesforce edit of one name part rewrites only
// that part of the cell, keeping the honorific and the other part.
func TestTwoWayNameParts(t *testing.T) {
	cfg := parseInline(t, thNamesJob)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.FieldSpecs(caseObj) {
		if (f.Name == "vcms__First_Name__c" || f.Name == "vcms__Last_Name__c") && (f.Direction != config.Both || !f.Lossy) {
			t.Errorf("%s: %s lossy=%v, want both and lossy", f.Name, f.Direction, f.Lossy)
		}
	}
	m.LocalObject = "Cases"
	local, _ := thLocal(t)
	v := NewView(local, m, seedObjects(t))
	ctx := context.Background()

	// The row reads ด.ญ. สมหญิง ตัวอย่าง; Salesforce changed the last name.
	res, err := v.Upsert(ctx, caseObj, []connector.Record{{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{
		"vcms__First_Name__c": connector.Text("สมหญิง"), "vcms__Last_Name__c": connector.Text("ทดสอบ"), "vcms__Stage__c": connector.Text("Active"),
	}}})
	if err != nil || res[0].Err != nil || res[0].Created {
		t.Fatalf("upsert: %+v %v", res, err)
	}
	if got := localRow(t, local, "TH-CL-0007")["ชื่อ-สกุล"]; got != "ด.ญ. สมหญิง ทดสอบ" {
		t.Errorf("last name edit: cell %q, want %q", got, "ด.ญ. สมหญิง ทดสอบ")
	}

	// Only the first name in the record (the engine writes what changed).
	res, err = v.Upsert(ctx, caseObj, []connector.Record{{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{
		"vcms__First_Name__c": connector.Text("ทดลอง"),
	}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("upsert: %+v %v", res, err)
	}
	if got := localRow(t, local, "TH-CL-0007")["ชื่อ-สกุล"]; got != "ด.ญ. ทดลอง ทดสอบ" {
		t.Errorf("first name edit: cell %q", got)
	}

	// A new row gets both parts, in the source's order, without a title.
	res, err = v.Upsert(ctx, caseObj, []connector.Record{{Key: "ngo-th-cm:TH-CL-0099", Fields: map[string]connector.Value{
		"vcms__First_Name__c": connector.Text("สมใจ"), "vcms__Last_Name__c": connector.Text("ตัวอย่าง"), "vcms__Stage__c": connector.Text("Active"),
	}}})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("create: %+v %v", res, err)
	}
	if got := localRow(t, local, "TH-CL-0099")["ชื่อ-สกุล"]; got != "สมใจ ตัวอย่าง" {
		t.Errorf("new row: cell %q", got)
	}

	// Both parts read back from the merged cells.
	cases := readAll(t, v, caseObj)
	checkFields(t, "0007", cases["ngo-th-cm:TH-CL-0007"], map[string]fieldWant{
		"vcms__First_Name__c": wantText("ทดลอง"), "vcms__Last_Name__c": wantText("ทดสอบ")})
}

// TestSharedColumnErrors: rules sharing a column must each merge a
// different part of one layout.
func TestSharedColumnErrors(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__First_Name__c, local: name, transform: thai_name.first }
      - { sf: vcms__Last_Name__c, local: name, transform: khmer_name.last }
      - { sf: vcms__Guardian_Name__c, local: guardian, transform: thai_name.first }
      - { sf: vcms__Name_Local_Script__c, local: guardian, transform: text }
      - { sf: vcms__Home_Admin_Area__c, local: area, transform: name.first }
      - { sf: vcms__Identity_Number__c, local: area, transform: text.as_written }
`)
	_, err := Compile(cfg.Jobs["j"], seedObjects(t))
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	want := []string{
		`inline.yaml:12:59: jobs.j.fields[1].transform: column "name" is also written by rule jobs.j.fields[0] (line 11), whose transform splits the cell another way; rules sharing a column must use one layout's parts (such as thai_name.first and thai_name.last)`,
		`inline.yaml:14:71: jobs.j.fields[3].transform: column "guardian" is also written by rule jobs.j.fields[2] (line 13), and transform text writes the whole cell rather than merging its part into it: the rules would overwrite each other; make one of them direction: to_salesforce`,
		`inline.yaml:16:65: jobs.j.fields[5].transform: column "area" is also written by rule jobs.j.fields[4] (line 15), and transform text.as_written writes the whole cell rather than merging its part into it: the rules would overwrite each other; make one of them direction: to_salesforce`,
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
