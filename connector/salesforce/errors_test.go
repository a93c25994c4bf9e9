package salesforce

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// TestErrorTextByAllowlist: a Salesforce message reaches an error only as
// casebridge's description of its code, and a field list only with names
// the object's describe knows (issue 16): a value in a message of a
// harmless shape, or in an error's fields, appears nowhere.
func TestErrorTextByAllowlist(t *testing.T) {
	const marker = "Somchai_Marker7"
	f := newRecorded(t).withDescribe()
	f.handle("PATCH "+upsertPath, raw(200, `[
		{"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [`+marker+`]","fields":["`+marker+`"]}]},
		{"success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Unable to create/update fields: `+marker+`.","fields":["vcms__first_name__c","`+marker+`","vcms__Stage__c"]}]},
		{"success":false,"errors":[{"statusCode":"SOME_NEW_CODE","message":"`+marker+`","fields":[]}]}]`))
	f.handle("GET /services/data/v62.0/query", raw(400, `[{"errorCode":"INVALID_FIELD","message":"No such column '`+marker+`' on entity 'vcms__Survivor_Case__c'","fields":["`+marker+`","vcms__Stage__c"]}]`))
	c := f.connect(t, nil)
	ctx := context.Background()
	recs := []connector.Record{
		{Key: "k1", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("a")}},
		{Key: "k2", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("b")}},
		{Key: "k3", Fields: map[string]connector.Value{"vcms__First_Name__c": connector.Text("c")}},
	}
	res, err := c.Upsert(ctx, caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ field, text string }{
		{"", "REQUIRED_FIELD_MISSING: required field missing"},
		{"vcms__First_Name__c", "FIELD_CUSTOM_VALIDATION_EXCEPTION: failed a validation rule (fields vcms__First_Name__c, vcms__Stage__c)"},
		{"", "SOME_NEW_CODE: " + unknownCodeDescription},
	}
	for i, w := range want {
		var re *connector.RecordError
		if !errors.As(res[i].Err, &re) {
			t.Fatalf("record %d: %v", i, res[i].Err)
		}
		noValues(t, res[i].Err.Error(), marker, strings.ToLower(marker))
		if re.Field != w.field || !strings.HasSuffix(res[i].Err.Error(), w.text) {
			t.Errorf("record %d: field %q, %q; want field %q, ending %q", i, re.Field, res[i].Err, w.field, w.text)
		}
	}

	// A request error: the object was described, so its fields are known.
	err = c.ReadKeys(ctx, caseObject, []string{"k1"}, func(connector.Record) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "INVALID_FIELD" || !slices.Equal(ae.Fields, []string{"vcms__Stage__c"}) || ae.Message != "no such field or relationship" {
		t.Fatalf("request error: %#v", err)
	}
	noValues(t, err.Error(), marker)
}
