package mapping

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// fakeResolver is a plain map from "Object.Field=value" to an Id.
type fakeResolver map[string]string

func (f fakeResolver) Resolve(_ context.Context, object, field, value string) (string, error) {
	if id, ok := f[object+"."+field+"="+value]; ok {
		return id, nil
	}
	return "", ErrNoMatch
}

var thAccounts = fakeResolver{
	"Account.Name=โรงงานตัวอย่าง จำกัด": "001000000000001AAA",
	"Account.Name=โรงงานทดสอบ":          "001000000000002AAA",
	"Account.Name=โรงเรียนบ้านตัวอย่าง": "001000000000003AAA",
}

const thKey = "รหัสเคส Case ID"

// textRow builds a local row of text cells (as a sheet gives them).
func textRow(keyCol string, cells map[string]string) connector.Record {
	r := connector.Record{Key: cells[keyCol], Fields: map[string]connector.Value{}}
	for k, v := range cells {
		r.Fields[k] = connector.Text(v)
	}
	return r
}

// fieldWant is an expected field value: a Value, or wantAbsent (the field must
// be left out of the record).
type fieldWant struct {
	v          connector.Value
	wantAbsent bool
}

func wantVal(v connector.Value) fieldWant { return fieldWant{v: v} }

var wantAbsent = fieldWant{wantAbsent: true}

func wantText(s string) fieldWant { return wantVal(connector.Text(s)) }

func checkFields(t *testing.T, what string, rec connector.Record, want map[string]fieldWant) {
	t.Helper()
	for name, w := range want {
		got, ok := rec.Fields[name]
		switch {
		case w.wantAbsent && ok:
			t.Errorf("%s %s: want the field left out, got %s", what, name, describe(got))
		case !w.wantAbsent && !ok:
			t.Errorf("%s %s: missing, want %s", what, name, describe(w.v))
		case !w.wantAbsent && !got.Equal(w.v):
			t.Errorf("%s %s: got %s, want %s", what, name, describe(got), describe(w.v))
		}
	}
}

// noValues asserts that no error message holds any of the cells.
func noValues(t *testing.T, errs []*connector.RecordError, cells ...string) {
	t.Helper()
	for _, e := range errs {
		msg := e.Error()
		for _, c := range cells {
			if c != "" && strings.Contains(msg, c) {
				t.Errorf("error message holds a cell value %q: %s", c, msg)
			}
		}
	}
}

func TestThaiRowForward(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	ctx := context.Background()
	row := textRow(thKey, map[string]string{
		thKey: "TH-CL-0007", "ชื่อ-สกุล": "ด.ญ. สมหญิง ตัวอย่าง", "เพศ": "หญิง", "วันเกิด": "12/03/2551", "อายุ": "15",
		"โรงงาน": "โรงงานตัวอย่าง จำกัด", "วันที่พบ": "03/04/2024", "ตรวจอายุแล้ว?": "ใช่", "เอกสารที่ใช้": "สูติบัตร",
		"สถานะ": "กำลังดำเนินการ", "ค่าเลี้ยงชีพ (บาท/เดือน)": "3,000", "โรงเรียน/กศน.": "โรงเรียนบ้านตัวอย่าง",
		"ยินยอม": "ยินยอม", "หมายเหตุ": "",
	})
	fam, errs := m.ToSalesforce(ctx, row, thAccounts)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if fam.Parent.Key != "ngo-th-cm:TH-CL-0007" || fam.Parent.Err != nil {
		t.Fatalf("parent key %q err %v", fam.Parent.Key, fam.Parent.Err)
	}
	checkFields(t, "case", fam.Parent, map[string]fieldWant{
		"vcms__Source_System__c":           wantText("ngo-th-cm"),
		"vcms__First_Name__c":              wantText("สมหญิง"),
		"vcms__Last_Name__c":               wantText("ตัวอย่าง"),
		"vcms__Gender__c":                  wantText("Feminine"),
		"vcms__Birthdate__c":               wantVal(date(2008, 3, 12)), // BE 2551
		"vcms__Age_At_Identification__c":   wantVal(num("15")),
		"vcms__Workplace__c":               wantText("001000000000001AAA"),
		"vcms__Identification_Date__c":     wantVal(date(2024, 4, 3)),
		"vcms__Age_Verified__c":            wantVal(connector.Bool(true)),
		"vcms__Age_Verification_Method__c": wantVal(connector.Multi("Birth_Certificate")),
		"vcms__Stage__c":                   wantText("Active"),
		"vcms__Consent_Status__c":          wantText("Granted"),
		"vcms__Case_Notes__c":              wantVal(connector.Null()),
	})
	if len(fam.Children) != 2 {
		t.Fatalf("children: %+v", fam.Children)
	}
	st, sc := fam.Children[0], fam.Children[1]
	if st.Name != "stipend" || st.Record.Key != "ngo-th-cm:TH-CL-0007:stipend" || sc.Name != "school" || sc.Record.Key != "ngo-th-cm:TH-CL-0007:school" {
		t.Fatalf("children keys %q %q", st.Record.Key, sc.Record.Key)
	}
	checkFields(t, "stipend", st.Record, map[string]fieldWant{
		"vcms__Service_Type__c": wantText("Stipend"), "CurrencyIsoCode": wantText("THB"), "vcms__Amount__c": wantVal(num("3000")),
	})
	checkFields(t, "school", sc.Record, map[string]fieldWant{
		"vcms__Service_Type__c": wantText("School_Enrolment"), "vcms__Provider__c": wantText("001000000000003AAA"),
	})
	if got, child, ok := m.ParentKey("vcms__Assistance__c", st.Record.Key); !ok || got != "ngo-th-cm:TH-CL-0007" || child != "stipend" {
		t.Errorf("ParentKey = %q %q %v", got, child, ok)
	}
}

// TestThaiWorkedExamples: the Thai tracker's worked examples (doc/architecture.md §11.2), written by hand.
func TestThaiWorkedExamples(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	for _, tc := range []struct {
		col, cell, field string
		want             connector.Value
	}{
		{"วันเกิด", "39519", "vcms__Birthdate__c", date(2008, 3, 12)}, // Excel serial
		{"วันเกิด", "45385", "vcms__Birthdate__c", date(2024, 4, 3)},
		{"วันเกิด", "2008-03-12", "vcms__Birthdate__c", date(2008, 3, 12)},
		{"วันที่พบ", "3/4/67", "vcms__Identification_Date__c", date(2024, 4, 3)}, // BE 2567
		{"วันที่พบ", "2024-04-03", "vcms__Identification_Date__c", date(2024, 4, 3)},
		{"อายุ", "14 ปี", "vcms__Age_At_Identification__c", num("14")},
		{"อายุ", "ประมาณ 14", "vcms__Age_At_Identification__c", num("14")},
		{"ตรวจอายุแล้ว?", "Y", "vcms__Age_Verified__c", connector.Bool(true)},
		{"ตรวจอายุแล้ว?", "รอ", "vcms__Age_Verified__c", connector.Bool(false)},
		{"เพศ", "ช", "vcms__Gender__c", connector.Text("Masculine")},
		{"สถานะ", "ส่งต่อ", "vcms__Stage__c", connector.Text("Closed_Referred")},
		{"เอกสารที่ใช้", "บัตร ปชช., ทะเบียนบ้าน", "vcms__Age_Verification_Method__c", connector.Multi("National_ID", "Household_Registration")},
		{"ชื่อ-สกุล", "นางสาว ตัวอย่าง ทดสอบ", "vcms__First_Name__c", connector.Text("ตัวอย่าง")},
	} {
		row := textRow(thKey, map[string]string{thKey: "TH-CL-0100", "ยินยอม": "ยินยอม", tc.col: tc.cell})
		fam, errs := m.ToSalesforce(context.Background(), row, thAccounts)
		if len(errs) > 0 {
			t.Errorf("%s %q: %v", tc.col, tc.cell, errs)
			continue
		}
		if got := fam.Parent.Fields[tc.field]; !got.Equal(tc.want) {
			t.Errorf("%s %q: %s = %s, want %s", tc.col, tc.cell, tc.field, describe(got), describe(tc.want))
		}
	}
	// Stipend amounts in the tracker's three spellings.
	for _, cell := range []string{"3,000", "3000.-", "฿3,000", "฿3000"} {
		row := textRow(thKey, map[string]string{thKey: "TH-CL-0100", "ค่าเลี้ยงชีพ (บาท/เดือน)": cell})
		fam, errs := m.ToSalesforce(context.Background(), row, thAccounts)
		if len(errs) > 0 || len(fam.Children) != 1 || !fam.Children[0].Record.Fields["vcms__Amount__c"].Equal(num("3000")) {
			t.Errorf("stipend %q: %+v %v", cell, fam.Children, errs)
		}
	}
}

// TestFieldErrorsKeepTheRecord: a bad cell is a per-field error naming the
// key, field, column, rule and expected form, not the value; the other
// fields stay.
func TestFieldErrorsKeepTheRecord(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	bad := map[string]string{
		"วันเกิด": "31/31/2551", "สถานะ": "ไม่ทราบสถานะ", "โรงงาน": "โรงงานลับ ไม่มีในระบบ", "ค่าเลี้ยงชีพ (บาท/เดือน)": "สามพัน",
		"ตรวจอายุแล้ว?": "บางที",
	}
	cells := map[string]string{thKey: "TH-CL-0007", "ยินยอม": "ยินยอม", "เพศ": "หญิง", "ชื่อ-สกุล": "ด.ญ. สมหญิง ตัวอย่าง"}
	for k, v := range bad {
		cells[k] = v
	}
	fam, errs := m.ToSalesforce(context.Background(), textRow(thKey, cells), thAccounts)
	checkFields(t, "case", fam.Parent, map[string]fieldWant{
		"vcms__Birthdate__c": wantAbsent, "vcms__Stage__c": wantAbsent, "vcms__Workplace__c": wantAbsent, "vcms__Age_Verified__c": wantAbsent,
		"vcms__Gender__c": wantText("Feminine"), "vcms__First_Name__c": wantText("สมหญิง"), "vcms__Consent_Status__c": wantText("Granted"),
	})
	if len(fam.Children) != 1 || fam.Children[0].Name != "stipend" {
		t.Fatalf("children %+v", fam.Children)
	}
	checkFields(t, "stipend", fam.Children[0].Record, map[string]fieldWant{"vcms__Amount__c": wantAbsent, "vcms__Service_Type__c": wantText("Stipend")})
	if len(errs) != 5 {
		t.Fatalf("want 5 errors, got %d: %v", len(errs), errs)
	}
	var vals []string
	for _, v := range cells {
		if v != "TH-CL-0007" {
			vals = append(vals, v)
		}
	}
	noValues(t, errs, vals...)
	byField := map[string]*connector.RecordError{}
	for _, e := range errs {
		byField[e.Field] = e
		if e.Op != "map" || e.Class != connector.Permanent || (e.Key != "ngo-th-cm:TH-CL-0007" && e.Key != "ngo-th-cm:TH-CL-0007:stipend") {
			t.Errorf("error shape: %#v", e)
		}
	}
	want := `map th_tracker vcms__Survivor_Case__c ngo-th-cm:TH-CL-0007.vcms__Birthdate__c: INVALID_VALUE: expected a date like 2024-12-31, 31/12/2024 (day first) or 31-Dec-2024, or an Excel serial (column "วันเกิด", rule jobs.th_cases.fields[4] at testdata/rules/th.yaml:22:9)`
	if got := byField["vcms__Birthdate__c"].Error(); got != want {
		t.Errorf("birthdate error:\n got %s\nwant %s", got, want)
	}
	if e := byField["vcms__Workplace__c"]; e == nil || !strings.Contains(e.Error(), "expected the Name of an existing Account record (lookups never create records)") {
		t.Errorf("lookup error: %v", e)
	}
	if e := byField["vcms__Stage__c"]; e == nil || e.Code != connector.CodeInvalidValue || !strings.Contains(e.Error(), `column "สถานะ"`) {
		t.Errorf("stage error: %v", e)
	}
}

// TestConsentGate: while consent is not granted, direct and sensitive
// fields are left out (unknown, not null); quasi and unclassified flow.
func TestConsentGate(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	for _, consent := range []string{"ไม่ยินยอม", "ถอนความยินยอม", "", "อะไรก็ได้"} {
		row := textRow(thKey, map[string]string{
			thKey: "TH-CL-0008", "ชื่อ-สกุล": "ด.ช. สมชาย ทดสอบ", "เพศ": "ช", "วันเกิด": "2008-03-12", "โรงงาน": "โรงงานทดสอบ",
			"เอกสารที่ใช้": "บัตร ปชช.", "สถานะ": "ติดตามผล", "ยินยอม": consent, "หมายเหตุ": "นัดเยี่ยมบ้าน",
		})
		fam, _ := m.ToSalesforce(context.Background(), row, thAccounts)
		checkFields(t, "consent "+consent, fam.Parent, map[string]fieldWant{
			"vcms__First_Name__c": wantAbsent, "vcms__Last_Name__c": wantAbsent, "vcms__Birthdate__c": wantAbsent, "vcms__Workplace__c": wantAbsent,
			"vcms__Age_Verification_Method__c": wantAbsent, "vcms__Case_Notes__c": wantAbsent,
			"vcms__Gender__c": wantText("Masculine"), "vcms__Stage__c": wantText("Follow_Up"),
		})
	}
	// Reverse: a withdrawal in Salesforce stops the names flowing back in
	// the same record.
	sf := connector.Record{Key: "ngo-th-cm:TH-CL-0008", Fields: map[string]connector.Value{
		"vcms__Consent_Status__c": connector.Text("Withdrawn"), "vcms__Last_Name__c": connector.Text("ใหม่"), "vcms__Stage__c": connector.Text("Closed"),
	}}
	out, errs := m.ToLocal("vcms__Survivor_Case__c", sf, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, ok := out.Fields["ชื่อ-สกุล"]; ok {
		t.Errorf("a gated field was written back while consent is withdrawn")
	}
	if got := out.Fields["ยินยอม"].Raw(); got != "ถอนความยินยอม" {
		t.Errorf("consent cell %q", got)
	}
}

func TestKeyAndRowErrors(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	ctx := context.Background()
	// A blank key: every record of the row is unknown.
	fam, _ := m.ToSalesforce(ctx, textRow(thKey, map[string]string{"สถานะ": "ปิดเคส", "ค่าเลี้ยงชีพ (บาท/เดือน)": "3000"}), thAccounts)
	if fam.Parent.Err == nil || connector.CodeOf(fam.Parent.Err) != connector.CodeInvalidKey || len(fam.Children) != 2 || fam.Children[0].Record.Err == nil {
		t.Errorf("blank key: %+v", fam)
	}
	// A key too long for the external id field (80).
	long := strings.Repeat("K", 75)
	fam, _ = m.ToSalesforce(ctx, textRow(thKey, map[string]string{thKey: long}), thAccounts)
	if fam.Parent.Err == nil || strings.Contains(fam.Parent.Err.Error(), long+"x") || connector.CodeOf(fam.Parent.Err) != connector.CodeInvalidKey {
		t.Errorf("long key: %v", fam.Parent.Err)
	}
	// A row the connector could read only in part passes with its error.
	rowErr := connector.NewRecordError("read", "th_tracker", "Cases", "TH-CL-0009", "", connector.CodeRowUnreadable, connector.Permanent, errors.New("row 9: unbalanced quote"))
	fam, _ = m.ToSalesforce(ctx, connector.Record{Key: "TH-CL-0009", Err: rowErr}, thAccounts)
	if fam.Parent.Key != "ngo-th-cm:TH-CL-0009" || !errors.Is(fam.Parent.Err, rowErr) || fam.Children[1].Record.Key != "ngo-th-cm:TH-CL-0009:school" {
		t.Errorf("row error: %+v", fam)
	}
	// Deleted rows give deleted records.
	fam, _ = m.ToSalesforce(ctx, connector.Record{Key: "TH-CL-0010", Deleted: true}, thAccounts)
	if !fam.Parent.Deleted || !fam.Children[0].Record.Deleted || fam.Children[0].Record.Key != "ngo-th-cm:TH-CL-0010:stipend" {
		t.Errorf("deleted: %+v", fam)
	}
}

func TestThaiReverse(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	cur := textRow(thKey, map[string]string{
		thKey: "TH-CL-0007", "ชื่อ-สกุล": "ด.ญ. สมหญิง ตัวอย่าง", "เพศ": "ญ", "วันเกิด": "12/03/2551", "ตรวจอายุแล้ว?": "Y",
		"สถานะ": "กำลังดำเนินการ", "ยินยอม": "ยินยอม", "ค่าเลี้ยงชีพ (บาท/เดือน)": "3,000",
	})
	sf := connector.Record{Key: "ngo-th-cm:TH-CL-0007", Fields: map[string]connector.Value{
		"vcms__Stage__c":               connector.Text("Follow_Up"), // changed: written in the first local form
		"vcms__Gender__c":              connector.Text("Feminine"),  // unchanged: "ญ" stays
		"vcms__Age_Verified__c":        connector.Bool(true),        // unchanged: "Y" stays
		"vcms__Last_Name__c":           connector.Text("ทดสอบ"),     // merged into the full-name cell
		"vcms__First_Name__c":          connector.Text("อื่น"),      // to_salesforce only: never written
		"vcms__Birthdate__c":           date(2008, 3, 13),
		"vcms__Source_System__c":       connector.Text("ngo-th-cm"), // a constant: never written
		"vcms__Workplace__c":           connector.Text("001000000000001AAA"),
		"vcms__Identification_Date__c": date(2024, 4, 3),
	}}
	out, errs := m.ToLocal("vcms__Survivor_Case__c", sf, &cur)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if out.Key != "TH-CL-0007" {
		t.Errorf("local key %q", out.Key)
	}
	want := map[string]string{
		"สถานะ":     "ติดตามผล",
		"ชื่อ-สกุล": "ด.ญ. สมหญิง ทดสอบ",
		"วันเกิด":   "13/03/2551", // era: buddhist writes Buddhist Era years back
		"วันที่พบ":  "03/04/2567",
	}
	for col, w := range want {
		if got, ok := out.Fields[col]; !ok || got.Raw() != w {
			t.Errorf("cell %s = %q, want %q", col, got.Raw(), w)
		}
	}
	if len(out.Fields) != len(want) {
		t.Errorf("cells written: %d, want %d (%v)", len(out.Fields), len(want), keysOf(out.Fields))
	}
	// Without a current row: every two-way field in its write form.
	out, errs = m.ToLocal("vcms__Survivor_Case__c", connector.Record{Key: "ngo-th-cm:TH-CL-0099", Fields: map[string]connector.Value{
		"vcms__Consent_Status__c": connector.Text("Granted"), "vcms__Gender__c": connector.Text("Masculine"),
		"vcms__Age_Verified__c": connector.Bool(false), "vcms__Age_Verification_Method__c": connector.Multi("National_ID", "Birth_Certificate"),
	}}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for col, w := range map[string]string{"ยินยอม": "ยินยอม", "เพศ": "หญิง", "ตรวจอายุแล้ว?": "ไม่", "เอกสารที่ใช้": "สูติบัตร, บัตร ปชช."} {
		if col == "เพศ" {
			w = "ชาย"
		}
		if got := out.Fields[col].Raw(); got != w {
			t.Errorf("new row cell %s = %q, want %q", col, got, w)
		}
	}
	// A child writes its cells on the parent's row.
	out, errs = m.ToLocal("vcms__Assistance__c", connector.Record{Key: "ngo-th-cm:TH-CL-0007:stipend", Fields: map[string]connector.Value{
		"vcms__Amount__c": num("2500"), "vcms__Service_Type__c": connector.Text("Stipend"),
	}}, &cur)
	if len(errs) > 0 || out.Key != "TH-CL-0007" || out.Fields["ค่าเลี้ยงชีพ (บาท/เดือน)"].Raw() != "2500.00" || len(out.Fields) != 1 {
		t.Errorf("stipend reverse: %v %v %v", out.Key, keysOf(out.Fields), errs)
	}
	// Keys without the job's prefix are not this source's.
	_, errs = m.ToLocal("vcms__Survivor_Case__c", connector.Record{Key: "ngo-kh-bb:KH-RT-24-031"}, nil)
	if len(errs) != 1 || connector.CodeOf(errs[0]) != connector.CodeInvalidKey || !strings.Contains(errs[0].Error(), ErrOutOfScope.Error()) {
		t.Errorf("out of scope: %v", errs)
	}
}

func keysOf(m map[string]connector.Value) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBengaliLayout(t *testing.T) {
	m := compileJob(t, "bd.yaml", "bd_cases")
	for _, tc := range []struct {
		cells map[string]string
		want  map[string]fieldWant
		kids  map[string]map[string]fieldWant
	}{
		{
			cells: map[string]string{"Case No": "BD-REM-0012", "Name": "মোঃ রহিম উদাহরণ", "Gender": "ছেলে", "Age": "১৩",
				"Found date": "০৩/০৪/২০২৪", "School admitted?": "হ্যাঁ", "Stipend ৳": "৳৩,০০০", "Guardian mobile": "01700000000", "Status": "চলমান"},
			want: map[string]fieldWant{"vcms__First_Name__c": wantText("রহিম"), "vcms__Last_Name__c": wantText("উদাহরণ"), "vcms__Gender__c": wantText("Masculine"),
				"vcms__Age_At_Identification__c": wantVal(num("13")), "vcms__Identification_Date__c": wantVal(date(2024, 4, 3)),
				"vcms__Guardian_Phone__c": wantText("+8801700000000"), "vcms__Stage__c": wantText("Active")},
			kids: map[string]map[string]fieldWant{
				"stipend": {"vcms__Amount__c": wantVal(num("3000")), "CurrencyIsoCode": wantText("BDT")},
				"school":  {"vcms__Status__c": wantText("Delivered")},
			},
		},
		{
			cells: map[string]string{"Case No": "BD-REM-0013", "Name": "উদাহরণ", "Gender": "মহিলা ", "Age": "13-14",
				"Found date": "03.04.2024", "School admitted?": "না", "Stipend ৳": "3000/-", "Status": "ফলো-আপ"},
			want: map[string]fieldWant{"vcms__First_Name__c": wantVal(connector.Null()), "vcms__Last_Name__c": wantText("উদাহরণ"),
				"vcms__Gender__c": wantText("Feminine"), "vcms__Age_At_Identification__c": wantVal(num("13")),
				"vcms__Identification_Date__c": wantVal(date(2024, 4, 3)), "vcms__Stage__c": wantText("Follow_Up")},
			kids: map[string]map[string]fieldWant{"stipend": {"vcms__Amount__c": wantVal(num("3000"))}, "school": {"vcms__Status__c": wantText("Planned")}},
		},
		{
			cells: map[string]string{"Case No": "BD-REM-0014", "Name": "মোছাঃ পরীক্ষা উদাহরণ", "Gender": "মেয়ে", "Age": "approx 14",
				"Found date": "০৫/০৪/২০২৪", "Status": "বন্ধ"},
			want: map[string]fieldWant{"vcms__First_Name__c": wantText("পরীক্ষা"), "vcms__Age_At_Identification__c": wantVal(num("14")),
				"vcms__Identification_Date__c": wantVal(date(2024, 4, 5)), "vcms__Stage__c": wantText("Closed")},
			kids: map[string]map[string]fieldWant{},
		},
	} {
		fam, errs := m.ToSalesforce(context.Background(), textRow("Case No", tc.cells), nil)
		if len(errs) > 0 {
			t.Errorf("%s: %v", tc.cells["Case No"], errs)
		}
		checkFields(t, tc.cells["Case No"], fam.Parent, tc.want)
		if len(fam.Children) != len(tc.kids) {
			t.Errorf("%s: %d children, want %d", tc.cells["Case No"], len(fam.Children), len(tc.kids))
		}
		for _, ch := range fam.Children {
			checkFields(t, ch.Record.Key, ch.Record, tc.kids[ch.Name])
		}
	}
	// Reverse: the last name merges into the name cell, the honorific kept.
	cur := textRow("Case No", map[string]string{"Case No": "BD-REM-0012", "Name": "মোঃ রহিম উদাহরণ"})
	out, errs := m.ToLocal("vcms__Survivor_Case__c", connector.Record{Key: "ngo-bd-dk:BD-REM-0012", Fields: map[string]connector.Value{
		"vcms__Last_Name__c": connector.Text("পরীক্ষা"), "vcms__Guardian_Phone__c": connector.Text("+8801700000009")}}, &cur)
	if len(errs) > 0 || out.Fields["Name"].Raw() != "মোঃ রহিম পরীক্ষা" || out.Fields["Guardian mobile"].Raw() != "+8801700000009" {
		t.Errorf("bd reverse: %q %q %v", out.Fields["Name"].Raw(), out.Fields["Guardian mobile"].Raw(), errs)
	}
}

func TestKhmerLayout(t *testing.T) {
	m := compileJob(t, "kh.yaml", "kh_cases")
	for _, tc := range []struct {
		cells map[string]string
		want  map[string]fieldWant
	}{
		{
			cells: map[string]string{"Code": "KH-RT-24-031 ", "Name (Khmer)": "សុខ តេស្ត", "Sex": "ប្រុស ", "Date returned": "០៣/០៤/២០២៤",
				"Sector": "នេសាទ", "Status": "បើក", "Consent signed?": "ចាស", "Age verified?": "បាទ"},
			want: map[string]fieldWant{"vcms__Last_Name__c": wantText("សុខ"), "vcms__First_Name__c": wantText("តេស្ត"), "vcms__Gender__c": wantText("Masculine"),
				"vcms__Identification_Date__c": wantVal(date(2024, 4, 3)), "vcms__Labour_Industry__c": wantText("A_AgricultureForestryAndFishing"),
				"vcms__Stage__c": wantText("Active"), "vcms__Consent_Status__c": wantText("Granted"), "vcms__Age_Verified__c": wantVal(connector.Bool(true))},
		},
		{
			cells: map[string]string{"Code": "KH-RT-24-032", "Sex": "ស្រី", "Date returned": "3/4/24", "Sector": "factory",
				"Status": "បានផ្ទេរ", "Consent signed?": "ទេ", "Age verified?": "ទេ"},
			want: map[string]fieldWant{"vcms__Gender__c": wantText("Feminine"), "vcms__Identification_Date__c": wantVal(date(2024, 4, 3)),
				"vcms__Labour_Industry__c": wantText("C_Manufacturing"), "vcms__Stage__c": wantText("Closed_Referred"),
				"vcms__Consent_Status__c": wantText("Not_Obtained"), "vcms__Age_Verified__c": wantVal(connector.Bool(false))},
		},
	} {
		fam, errs := m.ToSalesforce(context.Background(), textRow("Code", tc.cells), nil)
		if len(errs) > 0 {
			t.Errorf("%s: %v", tc.cells["Code"], errs)
		}
		if want := "ngo-kh-bb:" + strings.TrimSpace(tc.cells["Code"]); fam.Parent.Key != want {
			t.Errorf("key %q, want %q", fam.Parent.Key, want)
		}
		checkFields(t, tc.cells["Code"], fam.Parent, tc.want)
	}
}

// TestTypedCells: database columns give typed values, taken as they are
// (canonicalised for the Salesforce field) rather than parsed as text.
func TestTypedCells(t *testing.T) {
	cfg := parseInline(t, inlineHead+`    direction: both
    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id, key_prefix: "ngo-gt-db:casos:" }
    fields:
      - { sf: vcms__Birthdate__c, local: fecha_nacimiento, date: { formats: [2006-01-02] } }
      - { sf: vcms__Age_At_Identification__c, local: edad }
      - { sf: vcms__Age_Verified__c, local: verificado }
      - { sf: vcms__Source_Modified_At__c, local: actualizado_en, direction: to_salesforce }
      - sf: vcms__Stage__c
        local: estado
        values: { abierto: Active, en seguimiento: Follow_Up, cerrado: Closed, derivado: Closed_Referred }
      - sf: vcms__Gender__c
        local: sexo
        values: { F: Feminine, M: Masculine, X: NonConforming, "": NonSpecifiedUnknown }
      - sf: vcms__Type_Of_Exploitation__c
        local: tipo_explotacion
        split: ","
        values: { trabajo forzoso: ForcedLabour, explotacion sexual: SexualExploitation, trabajo infantil: ChildLabour }
`)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 4, 3, 9, 30, 15, 123e6, time.UTC)
	row := connector.Record{Key: "42", Fields: map[string]connector.Value{
		"fecha_nacimiento": date(2008, 3, 12), "edad": num("14.4"), "verificado": connector.Bool(true),
		"actualizado_en": connector.DateTime(when), "estado": connector.Text("en seguimiento"), "sexo": connector.Text(""),
		"tipo_explotacion": connector.Text("trabajo forzoso,explotacion sexual"),
	}}
	fam, errs := m.ToSalesforce(context.Background(), row, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if fam.Parent.Key != "ngo-gt-db:casos:42" {
		t.Errorf("key %q", fam.Parent.Key)
	}
	checkFields(t, "gt", fam.Parent, map[string]fieldWant{
		"vcms__Birthdate__c":             wantVal(date(2008, 3, 12)),
		"vcms__Age_At_Identification__c": wantVal(num("14")), // scale 0
		"vcms__Age_Verified__c":          wantVal(connector.Bool(true)),
		"vcms__Source_Modified_At__c":    wantVal(connector.DateTime(when.Truncate(time.Second))),
		"vcms__Stage__c":                 wantText("Follow_Up"),
		"vcms__Gender__c":                wantText("NonSpecifiedUnknown"),
		"vcms__Type_Of_Exploitation__c":  wantVal(connector.Multi("ForcedLabour", "SexualExploitation")),
	})
	// Reverse into typed columns writes the value itself.
	local := &connector.Object{Name: "casos", Key: "id", Fields: []connector.Field{
		{Name: "id", Type: connector.TypeString}, {Name: "fecha_nacimiento", Type: connector.TypeDate, Nillable: true},
		{Name: "estado", Type: connector.TypeString, Nillable: true}, {Name: "tipo_explotacion", Type: connector.TypeString, Nillable: true},
	}}
	out, errs := m.toLocal("vcms__Survivor_Case__c", connector.Record{Key: "ngo-gt-db:casos:42", Fields: map[string]connector.Value{
		"vcms__Birthdate__c": date(2008, 3, 13), "vcms__Stage__c": connector.Text("Closed"),
		"vcms__Type_Of_Exploitation__c": connector.Multi("ChildLabour", "ForcedLabour"),
	}}, &row, local)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !out.Fields["fecha_nacimiento"].Equal(date(2008, 3, 13)) || out.Fields["estado"].Raw() != "cerrado" ||
		out.Fields["tipo_explotacion"].Raw() != "trabajo infantil, trabajo forzoso" {
		t.Errorf("typed reverse: %s %q %q", describe(out.Fields["fecha_nacimiento"]), out.Fields["estado"].Raw(), out.Fields["tipo_explotacion"].Raw())
	}
}

func TestCachedResolver(t *testing.T) {
	calls := 0
	r := NewCachedResolver(ResolverFunc(func(ctx context.Context, object, field, value string) (string, error) {
		calls++
		return thAccounts.Resolve(ctx, object, field, value)
	}))
	ctx := context.Background()
	for range 3 {
		if id, err := r.Resolve(ctx, "Account", "Name", "โรงงานทดสอบ"); err != nil || id != "001000000000002AAA" {
			t.Fatal(id, err)
		}
		if _, err := r.Resolve(ctx, "Account", "Name", "ไม่มี"); !errors.Is(err, ErrNoMatch) {
			t.Fatal(err)
		}
	}
	if calls != 2 || r.Len() != 2 {
		t.Errorf("calls %d, cached %d; want 2 and 2", calls, r.Len())
	}
}

// TestDateTimeIntoDate: a DATETIME column read into a date field is the
// day in the source's zone.
func TestDateTimeIntoDate(t *testing.T) {
	head := strings.Replace(inlineHead, "s: { kind: csv, path: s.csv }", "s: { kind: csv, path: s.csv, timezone: America/Guatemala }", 1)
	cfg := parseInline(t, head+`    salesforce: { object: vcms__Survivor_Case__c, key: vcms__External_Key__c }
    local: { source: s, key: id }
    fields:
      - { sf: vcms__Identification_Date__c, local: encontrado }
`)
	m, err := Compile(cfg.Jobs["j"], seedObjects(t))
	if err != nil {
		t.Fatal(err)
	}
	row := connector.Record{Key: "42", Fields: map[string]connector.Value{
		"encontrado": connector.DateTime(time.Date(2024, 4, 3, 3, 30, 0, 0, time.UTC))}}
	fam, errs := m.ToSalesforce(context.Background(), row, nil)
	if len(errs) > 0 || !fam.Parent.Fields["vcms__Identification_Date__c"].Equal(date(2024, 4, 2)) {
		t.Errorf("got %s %v, want 2024-04-02 (UTC-6)", describe(fam.Parent.Fields["vcms__Identification_Date__c"]), errs)
	}
}

// TestMergeSeveralParts: two rules writing parts of one cell (first and
// last name both two-way, as a hand-built mapping may have) merge into it
// in whichever order reads back.
func TestMergeSeveralParts(t *testing.T) {
	m := compileJob(t, "th.yaml", "th_cases")
	for _, r := range m.Parent.Rules {
		if r.SF == "vcms__First_Name__c" {
			r.Direction = "both"
		}
	}
	sf := connector.Record{Key: "ngo-th-cm:TH-CL-0099", Fields: map[string]connector.Value{
		"vcms__Consent_Status__c": connector.Text("Granted"),
		"vcms__First_Name__c":     connector.Text("สมหญิง"),
		"vcms__Last_Name__c":      connector.Text("ตัวอย่าง"),
	}}
	out, errs := m.ToLocal("vcms__Survivor_Case__c", sf, nil)
	if len(errs) > 0 || out.Fields["ชื่อ-สกุล"].Raw() != "สมหญิง ตัวอย่าง" {
		t.Errorf("new row: %q %v", out.Fields["ชื่อ-สกุล"].Raw(), errs)
	}
	cur := textRow(thKey, map[string]string{thKey: "TH-CL-0099", "ชื่อ-สกุล": "ด.ญ. สมหญิง ตัวอย่าง", "ยินยอม": "ยินยอม"})
	sf.Fields["vcms__First_Name__c"] = connector.Text("ทดลอง")
	sf.Fields["vcms__Last_Name__c"] = connector.Text("ทดสอบ")
	out, errs = m.ToLocal("vcms__Survivor_Case__c", sf, &cur)
	if len(errs) > 0 || out.Fields["ชื่อ-สกุล"].Raw() != "ด.ญ. ทดลอง ทดสอบ" {
		t.Errorf("merged: %q %v", out.Fields["ชื่อ-สกุล"].Raw(), errs)
	}
}
