package reconcile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/reconcile"
)

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want reconcile.Limit
		err  bool
	}{
		{"25", reconcile.Limit{Count: 25}, false},
		{"5%", reconcile.Limit{Percent: 5}, false},
		{" 0.5 % ", reconcile.Limit{Percent: 0.5}, false},
		{"0", reconcile.Limit{}, false},
		{"-1", reconcile.Limit{}, true},
		{"101%", reconcile.Limit{}, true},
		{"five", reconcile.Limit{}, true},
	} {
		got, err := reconcile.ParseLimit(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseLimit(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	withoutModified := testObject()
	withoutModified.Modified = ""
	withoutAmount := testObject()
	withoutAmount.Fields = withoutAmount.Fields[:3] // Key, Name, Stage
	base := func() *reconcile.Job {
		return &reconcile.Job{Name: "cases", Object: "Case__c", Fields: []reconcile.FieldSpec{{Name: "Name__c"}, {Name: "Amount__c"}}}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*reconcile.Job)
		local  *connector.Object
		want   string // "" for valid
		sentry error
	}{
		{"valid", func(*reconcile.Job) {}, testObject(), "", nil},
		{"newest_wins without modified time", func(j *reconcile.Job) { j.Conflict = reconcile.NewestWins }, withoutModified,
			"newest_wins needs a modification time on both sides; local object Case__c has none", nil},
		{"initial newest_wins without modified time", func(j *reconcile.Job) { j.Initial = reconcile.NewestWins }, withoutModified,
			"newest_wins needs a modification time", nil},
		{"vanished column is fatal", func(*reconcile.Job) {}, withoutAmount, "local object Case__c: field Amount__c: field not found", connector.ErrFieldNotFound},
		{"unknown delete policy", func(j *reconcile.Job) { j.Deletes = "shred" }, testObject(), `deletes "shred"`, nil},
		{"field twice", func(j *reconcile.Job) { j.Fields = append(j.Fields, reconcile.FieldSpec{Name: "name__c"}) }, testObject(), "field name__c listed twice", nil},
		{"field against a one-way job", func(j *reconcile.Job) {
			j.Direction = reconcile.ToSalesforce
			j.Fields[0].Direction = reconcile.FromSalesforce
		}, testObject(), "direction from_salesforce contradicts the job's to_salesforce", nil},
		{"match_on not synced", func(j *reconcile.Job) { j.MatchOn = []string{"Email__c"} }, testObject(), "match_on field Email__c", nil},
		{"consent not a checkbox, no allowed values", func(j *reconcile.Job) { j.Consent = &reconcile.Consent{Field: "Name__c", Gated: []string{"Amount__c"}} },
			testObject(), "consent field Name__c is not a checkbox: list its allowed values", nil},
		{"consent on a picklist", func(j *reconcile.Job) {
			j.Fields = append(j.Fields, reconcile.FieldSpec{Name: "Stage__c"})
			j.Consent = &reconcile.Consent{Field: "Stage__c", Allowed: []string{"Active", "Follow_Up"}, Gated: []string{"Name__c"}}
		}, testObject(), "", nil},
		{"consent allowed value not in the picklist", func(j *reconcile.Job) {
			j.Fields = append(j.Fields, reconcile.FieldSpec{Name: "Stage__c"})
			j.Consent = &reconcile.Consent{Field: "Stage__c", Allowed: []string{"Active", "Granted"}, Gated: []string{"Name__c"}}
		}, testObject(), `consent field Stage__c: allowed value "Granted"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := base()
			tc.edit(j)
			err := j.Validate(testObject(), tc.local)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, reconcile.ErrInvalidJob) {
				t.Fatalf("Validate = %v, want an ErrInvalidJob containing %q", err, tc.want)
			}
			if tc.sentry != nil && !errors.Is(err, tc.sentry) {
				t.Fatalf("Validate = %v, want it to wrap %v", err, tc.sentry)
			}
		})
	}
}
