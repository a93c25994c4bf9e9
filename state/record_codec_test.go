package state

import (
	"bytes"
	"slices"
	"testing"
)

func TestAppendRecordRoundTrip(t *testing.T) {
	recs := []RecordState{
		{Key: "ngo-th-cm:th-cl-0007", SFKey: "ngo-th-cm:TH-CL-0007", LocalKey: "TH-CL-0007", Flags: FlagSFDeleted,
			Salt:   bytes.Repeat([]byte{7}, SaltLen),
			Fields: []FieldState{{Field: "Name__c", Base: 1, SF: 2, Local: 3, Rule: 4}, {Field: "Stage__c", Base: 1 << 63, SF: 0, Local: 5, Rule: 4}}},
		{Key: "k2", SFKey: "K2", LocalKey: "ท-2"}, // format 1: no salt, no fields
	}
	var b []byte
	var ends []int
	for _, rs := range recs {
		b = AppendRecord(b, rs)
		ends = append(ends, len(b))
	}
	var rr RecordReader
	from := 0
	for i, end := range ends {
		got, err := rr.Parse(b[from:end])
		if err != nil {
			t.Fatal(err)
		}
		want := recs[i]
		if got.Key != want.Key || got.SFKey != want.SFKey || got.LocalKey != want.LocalKey || got.Flags != want.Flags ||
			!bytes.Equal(got.Salt, want.Salt) || !slices.Equal(got.Fields, want.Fields) {
			t.Fatalf("record %d: got %+v, want %+v", i, got, want)
		}
		from = end
	}
	if _, err := rr.Parse(b[:3]); err == nil {
		t.Fatal("a cut record parsed")
	}
}
