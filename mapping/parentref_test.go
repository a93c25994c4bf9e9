package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// TestViewParentByReference: a view that writes parents by reference
// gives a child whose parent Salesforce does not hold yet its parent's key
// (a pending reference) instead of making it unknown, and the Id where the
// parent is found; each child's key is its own object's key field.
func TestViewParentByReference(t *testing.T) {
	local, _ := thLocal(t)
	v, _ := thView(t, local)
	v.ByReference = true
	v.Resolver = NewCachedResolver(thAccounts) // no case is in Salesforce
	as := readAll(t, v, assistObj)
	if len(as) == 0 {
		t.Fatal("no child read")
	}
	for k, r := range as {
		if r.Err != nil && connector.CodeOf(r.Err) == connector.CodeNotProcessed {
			t.Errorf("%s: unknown (%v), want a pending reference", k, r.Err)
			continue
		}
		parent, _, _ := v.Mapping().ParentKey(assistObj, k)
		if s, _ := r.Fields["vcms__Case__c"].Text(); r.Err == nil && s != parent {
			t.Errorf("%s: parent field %q, want the parent's key %q", k, s, parent)
		}
	}
	v.Resolver = NewCachedResolver(thOrg)
	if r := readAll(t, v, assistObj)["ngo-th-cm:TH-CL-0007:stipend"]; r.Fields["vcms__Case__c"].Raw() != "a010000000000007AA" {
		t.Errorf("a parent in Salesforce: parent field %q, want its Id", r.Fields["vcms__Case__c"].Raw())
	}
	d, err := v.Describe(t.Context(), assistObj)
	if err != nil || d.Key != "vcms__External_Service_Key__c" {
		t.Errorf("child object described with key %q (%v), want its own key field", d.Key, err)
	}
}

// TestByReference: a child's write names its parent by the relationship
// and the parent's key field, with the parent's key from the record's key;
// records that do not set the parent field, and the parent's, pass as
// they are.
func TestByReference(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	in := []connector.Record{
		{Key: "ngo-th-cm:TH-CL-0007:stipend", Fields: map[string]connector.Value{"vcms__Case__c": connector.Text("a010000000000007AA"), "vcms__Amount__c": num("3000")}},
		{Key: "ngo-th-cm:TH-CL-0008:school", Fields: map[string]connector.Value{"vcms__Status__c": connector.Text("Planned")}},
	}
	out := m.ByReference(assistObj, in)
	ref := "vcms__Case__r.vcms__External_Key__c"
	if v, ok := out[0].Fields[ref]; !ok || v.Raw() != "ngo-th-cm:TH-CL-0007" {
		t.Errorf("child 0: %s = %q, want the parent's key", ref, v.Raw())
	}
	if _, ok := out[0].Fields["vcms__Case__c"]; ok {
		t.Error("child 0 still sends the parent's Id")
	}
	if len(out[1].Fields) != 1 {
		t.Errorf("a record not setting the parent changed: %v", out[1].Fields)
	}
	if _, ok := in[0].Fields["vcms__Case__c"]; !ok {
		t.Error("the input was modified")
	}
	if got := m.ByReference(m.Object, []connector.Record{{Key: "ngo-th-cm:TH-CL-0007"}}); len(got) != 1 || got[0].Key != "ngo-th-cm:TH-CL-0007" {
		t.Errorf("a parent's record: %+v", got)
	}
}
