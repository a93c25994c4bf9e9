package mapping_test

import (
	"encoding/json"
	"fmt"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/mapping"
)

// A config loader looks a rule's transform up by name, decodes the rule's
// options into the preset, and builds it.
func Example() {
	opts, ok := mapping.Lookup("date")
	if !ok {
		panic("no date transform")
	}
	rule := `{"order": "day_first", "era": "buddhist", "excel_serial": true, "write": "02/01/2006"}`
	if err := json.Unmarshal([]byte(rule), opts); err != nil {
		panic(err)
	}
	birthdate, err := opts.Build()
	if err != nil {
		panic(err)
	}
	for _, cell := range []string{"12/03/2551", "39519", "3/4/67", "31/02/2551"} {
		r, err := birthdate.Parse(cell)
		if err != nil {
			fmt.Println(err) // names the expected form, never the cell
			continue
		}
		d, _ := r.Value.Date()
		fmt.Println(d)
	}
	out, _ := birthdate.Format(connector.DateValue(connector.Date{Year: 2008, Month: 3, Day: 12}))
	fmt.Println(out)
	// Output:
	// 2008-03-12
	// 2008-03-12
	// 2024-04-03
	// INVALID_VALUE: expected a date like 2024-12-31, 31/12/2024 (day first) or 31-Dec-2024, or an Excel serial
	// 12/03/2551
}

// A name cell feeds two rules, first and last name; each writes its part
// back into the cell with Merge, keeping the honorific.
func ExampleMerger() {
	first, _ := mapping.New("thai_name.first")
	r, _ := first.Parse("ด.ญ. สมหญิง ตัวอย่าง")
	name, _ := r.Value.Text()
	fmt.Println(name, r.Honorific, r.Flags)

	cell, _ := first.(mapping.Merger).Merge("ด.ญ. สมหญิง ตัวอย่าง", connector.Text("สมใจ"))
	fmt.Println(cell)
	// Output:
	// สมหญิง ด.ญ. child
	// ด.ญ. สมใจ ตัวอย่าง
}
