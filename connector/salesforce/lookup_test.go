package salesforce

import (
	"context"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

func TestFindIDs(t *testing.T) {
	org, c := fakeOrg(t, nil)
	ctx := context.Background()
	uid := org.UserID(sftest.DefaultUsername)

	ids, err := c.FindIDs(ctx, "User", "Username", strings.ToUpper(sftest.DefaultUsername), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != uid {
		t.Errorf("FindIDs(User.Username) = %v, want [%s] (case-insensitive match)", ids, uid)
	}

	org.ResetRequests()
	ids, err = c.FindIDs(ctx, "User", "Username", "nobody' OR Username != '", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("an injected condition matched %v: the value changed the query", ids)
	}
	if n := org.CountRequests("query"); n != 1 {
		t.Errorf("FindIDs made %d query calls, want 1", n)
	}

	if _, err := c.FindIDs(ctx, "User", "No_Such_Field__c", "x", 2); err == nil || strings.Contains(err.Error(), "x\"") {
		t.Errorf("unknown field: err = %v", err)
	}
}
