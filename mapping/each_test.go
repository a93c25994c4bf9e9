package mapping

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/memory"
)

// khServicesJob is the Khmer register's Services column (doc/architecture.md §11.3):
// split on , ; / and newlines, one Assistance per token.
const khServicesJob = inlineHead + `    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: Code, key_prefix: "ngo-kh-bb:" }
    fields:
      - sf: vcms__Stage__c
        local: Status
        values: { បើក: Active, បានបិទ: Closed, បានផ្ទេរ: Closed_Referred }
    children:
      - name: services
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        key_suffix: ":svc"
        each:
          local: Services
          sf: vcms__Service_Type__c
          split: ",;/\n"
          values:
            shelter: Shelter
            ជម្រក: Shelter
            medical: Medical
            សុខភាព: Medical
            vocational: Vocational_Training
            ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ: Vocational_Training
        fields:
          - { sf: CurrencyIsoCode, constant: KHR }
`

func khServices(t *testing.T) *JobMapping {
	t.Helper()
	cfg := parseInline(t, khServicesJob)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEachServices: one Assistance per listed service, keyed by the mapped
// value, whatever the spelling, order or separators of the cell.
func TestEachServices(t *testing.T) {
	m := khServices(t)
	if len(m.Children) != 3 {
		t.Fatalf("%d children, want one per service value", len(m.Children))
	}
	ctx := context.Background()
	keysOf := func(cell string) (map[string]connector.Record, []*connector.RecordError) {
		fam, errs := m.ToSalesforce(ctx, textRow("Code", map[string]string{"Code": "KH-RT-24-031", "Status": "បើក", "Services": cell}), nil)
		out := map[string]connector.Record{}
		for _, c := range fam.Children {
			out[c.Record.Key] = c.Record
		}
		return out, errs
	}
	recs, errs := keysOf("shelter, medical, ការបណ្តុះបណ្តាលវិជ្ជាជីវៈ")
	if len(errs) > 0 || len(recs) != 3 {
		t.Fatalf("records %v, errors %v", recs, errs)
	}
	for key, want := range map[string]string{
		"ngo-kh-bb:KH-RT-24-031:svc:Shelter": "Shelter", "ngo-kh-bb:KH-RT-24-031:svc:Medical": "Medical",
		"ngo-kh-bb:KH-RT-24-031:svc:Vocational_Training": "Vocational_Training",
	} {
		checkFields(t, key, recs[key], map[string]fieldWant{"vcms__Service_Type__c": wantText(want), "CurrencyIsoCode": wantText("KHR")})
		if p, child, ok := m.ParentKey(assistObj, key); !ok || p != "ngo-kh-bb:KH-RT-24-031" || !strings.HasPrefix(child, "services:") {
			t.Errorf("ParentKey(%s) = %q %q %v", key, p, child, ok)
		}
	}
	// Other spellings, order and separators: the same keys.
	again, errs := keysOf("សុខភាព;\nvocational / ជម្រក ")
	if len(errs) > 0 || len(again) != 3 {
		t.Fatalf("records %v, errors %v", again, errs)
	}
	for k := range recs {
		if _, ok := again[k]; !ok {
			t.Errorf("%s missing after respelling", k)
		}
	}
	// A service no longer listed: its record is absent (deleted).
	one, _ := keysOf("shelter")
	if len(one) != 1 || one["ngo-kh-bb:KH-RT-24-031:svc:Shelter"].Key == "" {
		t.Errorf("one service: %v", one)
	}
	// An unknown word: every service record is unknown (none absent), one
	// error naming the column and never the cell.
	unk, errs := keysOf("shelter, ទឹកដោះគោ")
	if len(unk) != 3 || len(errs) != 1 {
		t.Fatalf("unknown word: records %d, errors %v", len(unk), errs)
	}
	for k, r := range unk {
		if r.Err == nil {
			t.Errorf("%s should be unknown", k)
		}
	}
	if !strings.Contains(errs[0].Error(), `column "Services"`) || !strings.Contains(errs[0].Error(), "children[0].each") {
		t.Errorf("error %v", errs[0])
	}
	noValues(t, errs, "ទឹកដោះគោ")
	// Blank: no service record.
	if none, errs := keysOf(""); len(none) != 0 || len(errs) != 0 {
		t.Errorf("blank: %v %v", none, errs)
	}
}

// TestEachWriteBack: a service created in Salesforce adds its word to the
// cell, keeping the others' spelling; a deleted one removes its word.
func TestEachWriteBack(t *testing.T) {
	m := khServices(t)
	m.LocalObject = "Register"
	obj := &connector.Object{Name: "Register", Key: "Code"}
	for _, h := range []string{"Code", "Status", "Services"} {
		obj.Fields = append(obj.Fields, connector.Field{Name: h, Type: connector.TypeString, Nillable: true, Createable: true, Updateable: true})
	}
	local := memory.New("kh", obj)
	ctx := context.Background()
	if _, err := local.Upsert(ctx, "Register", []connector.Record{{Key: "KH-RT-24-031", Fields: map[string]connector.Value{
		"Status": connector.Text("បើក"), "Services": connector.Text("ជម្រក, medical")}}}); err != nil {
		t.Fatal(err)
	}
	v := NewView(local, m, seedObjects(t))
	cell := func() string {
		var s string
		if err := local.ReadKeys(ctx, "Register", []string{"KH-RT-24-031"}, func(r connector.Record) error { s = r.Fields["Services"].Raw(); return nil }); err != nil {
			t.Fatal(err)
		}
		return s
	}
	res, err := v.Upsert(ctx, assistObj, []connector.Record{
		{Key: "ngo-kh-bb:KH-RT-24-031:svc:Vocational_Training", Fields: map[string]connector.Value{"vcms__Service_Type__c": connector.Text("Vocational_Training")}},
		{Key: "ngo-kh-bb:KH-RT-24-031:svc:Shelter", Fields: map[string]connector.Value{"CurrencyIsoCode": connector.Text("KHR")}},
	})
	if err != nil || res[0].Err != nil || !res[0].Created || res[1].Err != nil || res[1].Created {
		t.Fatalf("upsert: %+v %v", res, err)
	}
	if got := cell(); got != "ជម្រក, medical, vocational" {
		t.Errorf("after adding: %q", got)
	}
	res, err = v.Delete(ctx, assistObj, []string{"ngo-kh-bb:KH-RT-24-031:svc:Shelter", "ngo-kh-bb:KH-RT-24-031:svc:Medical", "ngo-kh-bb:KH-RT-24-031:svc:Medical"})
	if err != nil || res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, connector.ErrNotFound) {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if got := cell(); got != "vocational" {
		t.Errorf("after deleting: %q", got)
	}
	recs := readAll(t, v, assistObj)
	if len(recs) != 1 || recs["ngo-kh-bb:KH-RT-24-031:svc:Vocational_Training"].Key == "" {
		t.Errorf("read back %v", recs)
	}
}

// TestEachErrors: each's values must fit the field and be usable in keys;
// a value the picklist refuses is told with the values it allows, as a
// values: map's is.
func TestEachErrors(t *testing.T) {
	cfg := parseInline(t, strings.Replace(khServicesJob, "vocational: Vocational_Training", "vocational: Vocational", 1))
	_, err := Compile(cfg.Jobs["j"], seedObjects(t))
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Error(), `children[0].each.values.vocational: "Vocational" is not a picklist value of vcms__Service_Type__c`) {
		t.Fatalf("got %v", err)
	}
	// vcms__Service_Type__c has 14 values: too many for one line, so the
	// error says how many and where to read them.
	if msg := errs[0].Error(); !strings.Contains(msg, "; it has 14 values, which casebridge describe lists") {
		t.Errorf("the picklist's values are not pointed to: %s", msg)
	}
}
