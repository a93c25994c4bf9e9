package mapping

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// seedDescribe describes the seed schema, with changes applied to copies.
func seedDescribe(t *testing.T, change func(map[string]*connector.Object)) (DescribeFunc, []string) {
	objs := seedObjects(t)
	if change != nil {
		change(objs)
	}
	names := slices.Sorted(mapKeys(objs))
	calls := map[string]int{}
	return func(_ context.Context, object string) (*connector.Object, error) {
		calls[object]++
		if calls[object] > 1 {
			t.Errorf("%s described %d times", object, calls[object])
		}
		if object == "vcms__Broken__c" {
			return nil, errors.New("describe vcms__Broken__c: 503 service unavailable")
		}
		o, ok := objs[object]
		if !ok {
			return nil, fmt.Errorf("describe %s: %w", object, connector.ErrObjectNotFound)
		}
		return o, nil
	}, names
}

func TestCheckOnlineSamples(t *testing.T) {
	describe, names := seedDescribe(t, nil)
	cfg := loadConfig(t, "th.yaml")
	if errs := CheckOnline(context.Background(), cfg, describe, names...); errs != nil {
		t.Errorf("th.yaml:\n%v", errs)
	}
	for _, f := range []string{"bd.yaml", "kh.yaml"} {
		describe, names := seedDescribe(t, nil)
		if errs := CheckOnline(context.Background(), loadConfig(t, f), describe, names...); errs != nil {
			t.Errorf("%s:\n%v", f, errs)
		}
	}
}

func TestCheckOnlineFindings(t *testing.T) {
	describe, names := seedDescribe(t, func(objs map[string]*connector.Object) {
		c := objs["vcms__Survivor_Case__c"]
		c.Modified = ""
		c.Field("vcms__Case_Code__c").Updateable = false
		objs["vcms__Monitoring_Visit__c"].Field("vcms__Visit_Date__c").Nillable = false
		a := objs["vcms__Assistance__c"]
		a.Field("vcms__External_Service_Key__c").ExternalID = false
	})
	cfg := parseInline(t, `version: 1
salesforce:
  auth: { flow: jwt, client_id: synthetic, username: a@ngo.example, private_key_file: sf.key }
sources:
  db: { kind: sqlite, path: s.db, table: casos, updated_at: actualizado_en }
jobs:
  gt:
    conflict: newest_wins
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: db, key: id, key_prefix: "ngo-gt-db:casos:" }
    fields:
      - { sf: vcms__Stage__c, local: estado, values: { abierto: Active, cerrado: Closd } }
      - { sf: vcms__Case_Code__c, local: codigo, direction: to_salesforce }
      - { sf: vcms__Age_Verified__c, local: verificado, number: {} }
      - { sf: vcms__Workplace__c, local: fabrica, lookup: { object: Acount, field: Name }, direction: to_salesforce }
      - { sf: vcms__Buyer__c, local: comprador, lookup: { object: Account, field: Nmae }, direction: to_salesforce }
      - { sf: vcms__Source_System__c, constant: ngo-gt-db-extra }
      - { sf: vcms__Primary_Languag__c, local: idioma }
    children:
      - name: visit
        object: vcms__Monitoring_Visit__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Visit_Type__c, constant: Home_Visit }
      - name: service
        object: vcms__Assistence__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Service_Type__c, constant: Other }
      - name: stipend
        object: vcms__Assistance__c
        key: vcms__External_Service_Key__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__Amount__c, local: monto }
      - name: broken
        object: vcms__Broken__c
        parent_field: vcms__Case__c
        fields:
          - { sf: vcms__X__c, local: x }
`)
	errs := CheckOnline(context.Background(), cfg, describe, names...)
	want := []string{
		`inline.yaml:8:15: jobs.gt.conflict: newest_wins needs each record's modification time, and vcms__Survivor_Case__c has none`,
		`inline.yaml:12:73: jobs.gt.fields[0].values.cerrado: "Closd" is not a picklist value of vcms__Stage__c (did you mean "Closed"?); its values: Identified, Verification, Plan_Pending, Active, Follow_Up, Closed, Closed_Referred (describe lists the master values; record types may allow fewer)`,
		`inline.yaml:13:15: jobs.gt.fields[1].sf: vcms__Case_Code__c is not updateable: it is set only when a record is created, and a later local change would fail; make the rule direction: from_salesforce`,
		`inline.yaml:14:65: jobs.gt.fields[2].number: a number rule gives number values, which vcms__Age_Verified__c (boolean) cannot hold`,
		`inline.yaml:15:69: jobs.gt.fields[3].lookup.object: the org has no object "Acount" (did you mean "Account"?)`,
		`inline.yaml:16:83: jobs.gt.fields[4].lookup.field: Account has no field "Nmae" (did you mean "Name"?)`,
		`inline.yaml:17:49: jobs.gt.fields[5].constant: the constant does not fit vcms__Source_System__c (picklist): INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: not one of the field's picklist values; its values: ngo-th-cm, ngo-kh-bb, ngo-bd-dk, ngo-gt-db`,
		`inline.yaml:18:15: jobs.gt.fields[6].sf: vcms__Survivor_Case__c has no field "vcms__Primary_Languag__c" (did you mean "vcms__Primary_Language__c"?)`,
		`inline.yaml:21:17: jobs.gt.children[0].object: vcms__Monitoring_Visit__c has no field "vcms__External_Key__c" (the job's salesforce.key, which a child without key uses): the child needs a key; set key: vcms__Follow_Up_Key__c (its External ID field)`,
		`inline.yaml:24:11: jobs.gt.children[0].fields: vcms__Monitoring_Visit__c.vcms__Visit_Date__c is required (not nillable) and no rule writes it: every record this job creates would fail; map it or give it a constant`,
		`inline.yaml:26:17: jobs.gt.children[1].object: the org has no object "vcms__Assistence__c" (did you mean "vcms__Assistance__c"?)`,
		`inline.yaml:32:14: jobs.gt.children[2].key: vcms__Assistance__c.vcms__External_Service_Key__c is not an external id field: records are upserted by key, which needs an External ID (and Unique) field; vcms__Assistance__c has no External ID field (a child of an object without one takes key: by_parent, keyed by its parent)`,
		`inline.yaml:37:17: jobs.gt.children[3].object: cannot describe vcms__Broken__c: describe vcms__Broken__c: 503 service unavailable`,
	}
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
