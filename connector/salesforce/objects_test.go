package salesforce

import (
	"context"
	"reflect"
	"testing"
)

// TestObjects: the org's object list is one describeGlobal call (GET
// /sobjects) giving every object with its label, and reads no record.
func TestObjects(t *testing.T) {
	org, c := fakeOrg(t, nil)
	org.ResetRequests()
	list, err := c.Objects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := endpoints(org); !reflect.DeepEqual(got, []string{"describeGlobal"}) {
		t.Fatalf("Objects made %v, want one describeGlobal call", got)
	}
	labels := map[string]string{}
	for _, o := range list {
		labels[o.Name] = o.Label
	}
	if len(list) != 9 || labels[caseObject] != "Survivor Case" || labels["Account"] != "Account" {
		t.Errorf("Objects gave %d objects, labels %v", len(list), labels)
	}
}
