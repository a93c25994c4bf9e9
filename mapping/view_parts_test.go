package mapping

import (
	"context"
	"slices"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// A read with a key filter (a run planned in parts) passes and maps only
// the rows whose Salesforce key the filter accepts: a cell that does not
// map in another part's row is not reported by this part's read.
func TestViewKeyFilter(t *testing.T) {
	local, _ := thLocal(t)
	bad := connector.Record{Key: "TH-CL-0099", Fields: map[string]connector.Value{"ชื่อ-สกุล": connector.Text("ทดสอบ ตัวอย่าง"), "สถานะ": connector.Text("no such stage")}}
	if _, err := local.Upsert(context.Background(), "Cases", []connector.Record{bad}); err != nil {
		t.Fatal(err)
	}
	v, errs := thView(t, local)
	var asked []string
	keep := func(k string) bool {
		asked = append(asked, k)
		return k == "ngo-th-cm:TH-CL-0007" || k == "ngo-th-cm:TH-CL-0011"
	}
	var got []string
	_, err := v.Read(connector.WithKeyFilter(context.Background(), keep), caseObj, "", func(r connector.Record) error {
		got = append(got, r.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"ngo-th-cm:TH-CL-0007", "ngo-th-cm:TH-CL-0011"}) {
		t.Errorf("read %q, want 0007 and 0011", got)
	}
	if !slices.Contains(asked, "ngo-th-cm:TH-CL-0099") {
		t.Errorf("the filter was asked %q: Salesforce keys (key_prefix added) expected", asked)
	}
	if len(errs.errs) != 0 {
		t.Errorf("a row left out was mapped: %v", errs.errs)
	}
	// Without the filter the bad cell is reported: the check above can fail.
	readAll(t, v, caseObj)
	if len(errs.errs) == 0 {
		t.Error("the unmappable stage of TH-CL-0099 was not reported by a complete read")
	}
}
