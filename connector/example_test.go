package connector_test

import (
	"fmt"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Canonicalize turns a value into the form the target field stores, so a
// value written and read back compares equal, and Check then tests the
// field's limits. Neither a Value nor an error prints the content.
func ExampleCanonicalize() {
	amount := &connector.Field{Name: "vcms__Stipend__c", Type: connector.TypeCurrency, Precision: 12, Scale: 2}
	seen := &connector.Field{Name: "vcms__Last_Visit__c", Type: connector.TypeDateTime}
	name := &connector.Field{Name: "vcms__First_Name__c", Type: connector.TypeString, Length: 5}

	fromSheet, _ := connector.Canonicalize(connector.Text("3000.005"), amount)
	fromOrg, _ := connector.NumberString("3000.01")
	fmt.Println(fromSheet.Equal(fromOrg), fromSheet.Raw())

	t, _ := connector.Canonicalize(connector.DateTime(time.Date(2024, 1, 15, 17, 30, 0, 789e6, time.FixedZone("ICT", 7*3600))), seen)
	fmt.Println(t.Raw())

	n, _ := connector.Canonicalize(connector.Text("สมชายใจดี"), name)
	fmt.Println(n)
	fmt.Println(connector.Check(n, name))

	_, err := connector.Canonicalize(connector.Text("about three thousand"), amount)
	fmt.Println(err)
	// Output:
	// true 3000.01
	// 2024-01-15T10:30:00Z
	// text(27 bytes)
	// STRING_TOO_LONG: max length 5, got 9 characters
	// INVALID_VALUE: expected a number
}
