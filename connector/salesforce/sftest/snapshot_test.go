package sftest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestSaveLoadRecords saves an org that was written to (an upsert, an
// update, a delete) and loads it into a new org: every record comes back
// with its id, values and system fields, deleted ones stay deleted,
// external ids are found again, and the next record created gets the id
// the first org would have given it (no id is handed out twice).
func TestSaveLoadRecords(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, b := c.do("PATCH", v+"/sobjects/vcms__Survivor_Case__c/vcms__External_Key__c/snap-1",
		`{"vcms__Last_Name__c": "Example", "vcms__Age_At_Identification__c": 14.5, "vcms__Birthdate__c": "2010-03-04", "vcms__Age_Verified__c": true}`)
	assertStatus(t, resp, b, 201)
	doomed := c.org.Records("vcms__Survivor_Case__c")[0]
	resp, b = c.do("DELETE", v+"/sobjects/vcms__Survivor_Case__c/"+doomed.ID, "")
	assertStatus(t, resp, b, 204)

	var saved bytes.Buffer
	if err := c.org.SaveRecords(&saved); err != nil {
		t.Fatal(err)
	}
	o2 := New(Options{Empty: true})
	if err := o2.LoadRecords(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, obj := range c.org.ObjectNames() {
		if got, want := o2.AllRecords(obj), c.org.AllRecords(obj); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: loaded %d records, want %d as saved:\n got %v\nwant %v", obj, len(got), len(want), got, want)
		}
	}
	if r, ok := o2.GetByExternalKey("vcms__Survivor_Case__c", "snap-1"); !ok || r.Fields["vcms__Birthdate__c"] != "2010-03-04" {
		t.Errorf("snap-1 after loading: %v %v", r, ok)
	}
	if r, ok := o2.Get(doomed.ID); !ok || !r.Deleted {
		t.Errorf("the deleted record after loading: %v, found %v", r, ok)
	}
	id1, err := c.org.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__Last_Name__c": "Next"}, false)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := o2.Insert("vcms__Survivor_Case__c", map[string]any{"vcms__Last_Name__c": "Next"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Errorf("next id after loading %s, want %s", id2, id1)
	}

	// A file for another schema is refused, naming what is missing.
	bad := strings.Replace(saved.String(), `"type": "vcms__Survivor_Case__c"`, `"type": "No_Such__c"`, 1)
	if err := New(Options{Empty: true}).LoadRecords(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "no object No_Such__c") {
		t.Errorf("loading a record of an unknown object: %v", err)
	}
}
