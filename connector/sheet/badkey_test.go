package sheet

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// A key cell that cannot be a key (a NUL, a bidi override, 300 characters)
// fails its row alone: the good rows read, list and write as usual, and
// the bad rows come as INVALID_KEY naming file, row and column, with no
// key and nothing of the key's text.
func TestInvalidKeyRows(t *testing.T) {
	long := strings.Repeat("L", 300)
	data := "Case No,Name,Age\n" +
		"KH-1,secret-one,13\n" +
		"KH-\x002,secret-two,14\n" +
		"KH-3,secret-three,15\n" +
		long + ",secret-four,16\n" +
		"KH-\u202e5,secret-five,17\n" +
		"KH-6,secret-six,18\n"
	p := writeFile(t, "keys.csv", []byte(data))
	c := newConn(t, SheetConfig{Object: "o", Path: p, Key: "Case No", Encoding: "utf-8"})
	recs, errs := readAll(t, c, "o")
	if got := sortedKeys(recs); !slices.Equal(got, []string{"KH-1", "KH-3", "KH-6"}) {
		t.Errorf("good keys %q, want KH-1 KH-3 KH-6", got)
	}
	if got := text(t, recs["KH-3"], "Name"); got != "secret-three" {
		t.Errorf("KH-3 Name = %q", got)
	}
	var rows []string
	for _, err := range errs {
		var re *connector.RecordError
		if !errors.As(err, &re) {
			t.Fatalf("error %T %v is not a RecordError", err, err)
		}
		msg := err.Error()
		if re.Code != connector.CodeInvalidKey || re.Key != "" || re.Field != "Case No" {
			t.Errorf("error code %s key %q field %q, want INVALID_KEY, no key, Case No: %s", re.Code, re.Key, re.Field, msg)
		}
		if strings.Contains(msg, "LLL") || strings.Contains(msg, "secret") || strings.ContainsAny(msg, "\x00\u202e") {
			t.Errorf("error repeats the key or a value: %q", msg)
		}
		i := strings.Index(msg, "keys.csv row ")
		if i < 0 {
			t.Errorf("error does not name file and row: %s", msg)
			continue
		}
		rows = append(rows, msg[i:i+len("keys.csv row 3 column A")])
	}
	want := []string{"keys.csv row 3 column A", "keys.csv row 5 column A", "keys.csv row 6 column A"}
	if !slices.Equal(rows, want) {
		t.Errorf("errors name %q, want %q", rows, want)
	}
	var keys []string
	if err := c.ListKeys(ctx, "o", func(k string) error { keys = append(keys, k); return nil }); err != nil || !slices.Equal(keys, []string{"KH-1", "KH-3", "KH-6"}) {
		t.Errorf("list keys %q %v", keys, err)
	}
	// The good rows take writes; the bad rows stay as they are.
	res := upsert(t, c, "o", rec("KH-3", "Name", "edited"), rec("KH-7", "Name", "new"))
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("upsert %s: %v", r.Key, r.Err)
		}
	}
	recs, errs = readAll(t, c, "o")
	if got := text(t, recs["KH-3"], "Name"); got != "edited" {
		t.Errorf("KH-3 Name after the write = %q", got)
	}
	if _, ok := recs["KH-7"]; !ok || len(errs) != 3 {
		t.Errorf("after the write: keys %q, %d errors; want KH-7 added and the 3 bad rows still reported", sortedKeys(recs), len(errs))
	}
}
