package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	var v map[string]any
	if err := Decode([]byte(`{"a":12345678901234567890.25,"b":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if n, ok := v["a"].(json.Number); !ok || n.String() != "12345678901234567890.25" {
		t.Errorf("a = %#v: numbers must stay json.Number", v["a"])
	}
	for body, want := range map[string]string{
		``:                    "empty body",
		`[{"message":"Sess`:   "truncated JSON",
		`{"a":1} x`:           "trailing data",
		`<html>secret</html>`: "invalid JSON at offset 1",
	} {
		err := Decode([]byte(body), &v)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Decode(%q) = %v, want %q", body, err, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2024-01-15T10:30:00.000+0000": time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC),
		"2024-01-15T17:30:00.123+0700": time.Date(2024, 1, 15, 10, 30, 0, 123e6, time.UTC),
		"2024-01-15T10:30:00.000Z":     time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC),
		"2024-01-15T10:30:00Z":         time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC),
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%s) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseTime("15/01/2024"); err == nil || strings.Contains(err.Error(), "15/01") {
		t.Errorf("bad datetime: %v", err)
	}
}

// TestWireShapes decodes the documented bodies (doc/architecture.md §6).
func TestWireShapes(t *testing.T) {
	var sr []SaveResult
	if err := Decode([]byte(`[{"id":"a01","success":true,"errors":[],"created":true},{"success":false,"errors":[{"statusCode":"DUPLICATE_EXTERNAL_ID","message":"m","fields":["F"]}]}]`), &sr); err != nil {
		t.Fatal(err)
	}
	if !sr[0].Success || sr[0].Created == nil || !*sr[0].Created || sr[1].Created != nil || sr[1].Errors[0].StatusCode != "DUPLICATE_EXTERNAL_ID" || sr[1].Errors[0].Fields[0] != "F" {
		t.Errorf("save results %+v", sr)
	}
	var l Limits
	if err := Decode([]byte(`{"DailyApiRequests":{"Max":15000,"Remaining":14998,"Ant Migration Tool":{"Max":0,"Remaining":0}}}`), &l); err != nil {
		t.Fatal(err)
	}
	if l["DailyApiRequests"].Max != 15000 || l["DailyApiRequests"].Remaining != 14998 {
		t.Errorf("limits %+v", l)
	}
	var q QueryResult
	if err := Decode([]byte(`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact"},"Owner":{"attributes":{"type":"User"},"Email":"x"},"N":1.50}]}`), &q); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.Records[0]["Owner"].(map[string]any); !ok || q.Records[0]["N"].(json.Number) != "1.50" {
		t.Errorf("query %+v", q)
	}
	var errs []Error
	if err := Decode([]byte(`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`), &errs); err != nil || errs[0].ErrorCode != "INVALID_SESSION_ID" {
		t.Errorf("errors %+v %v", errs, err)
	}
	if got := SplitMulti("TH;MM"); len(got) != 2 || got[1] != "MM" || SplitMulti("") != nil {
		t.Errorf("SplitMulti = %v", got)
	}
}
