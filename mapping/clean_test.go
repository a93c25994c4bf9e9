package mapping

import (
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// textFromSalesforce is text as orgs hold it that a cleaned write would
// change (issue 10, finding 3).
var textFromSalesforce = []string{
	"met family\nmoved to shelter B\n", "12 Road\r\nPhnom Penh\r\n", "  both ends  ", "\tleading tab",
	"\u00a0Dara", "Mother ", "សុខ\u200bដារ៉ា\u200bសុភា", "\u200bzw first", "\t=1+1", "'=x", "a\rb",
	"\u200fعربي\u200e", "emoji 👩‍👩‍👧",
}

func TestTextFormatWritesAsHeld(t *testing.T) {
	tr := must(NewText(TextOptions{}))
	for _, s := range textFromSalesforce {
		got, err := tr.Format(connector.Text(s))
		if err != nil || got != s {
			t.Errorf("Format(%+q) = %+q, %v; want it as it is", s, got, err)
		}
		// Read back, it is the cleaned text, which compares equal.
		r, err := tr.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := r.Value.Text()
		if connector.ComparableText(back) != connector.ComparableText(s) {
			t.Errorf("Parse(Format(%+q)) = %+q: compares unequal", s, back)
		}
	}
	fold := must(NewText(TextOptions{FoldDigits: true}))
	if got, _ := fold.Format(connector.Text(" ១២\n")); got != " 12\n" {
		t.Errorf("fold_digits Format = %+q, want the digits folded and nothing else", got)
	}
}

func TestTextParseKeepsInnerCharacters(t *testing.T) {
	for _, tc := range []struct{ cell, want string }{
		{" សុខ\u200bដារ៉ា\n", "សុខ\u200bដារ៉ា"}, // Khmer word separator kept
		{"\u00a0a\u2060b\u200b", "a\u2060b"},
		{"cafe\u0301 \r\n", "café"},
		{"a\r\nb", "a\r\nb"},
		{" \u200b ", ""},
	} {
		r, err := must(NewText(TextOptions{})).Parse(tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Value.Text(); got != tc.want {
			t.Errorf("Parse(%+q) = %+q, want %+q", tc.cell, got, tc.want)
		}
		if got := CleanText(tc.cell); got != tc.want {
			t.Errorf("CleanText(%+q) = %+q, want %+q", tc.cell, got, tc.want)
		}
	}
	// Clean, for matching words, still removes them and folds digits.
	if got := Clean("សុខ\u200bដារ៉ា ១"); got != "សុខដារ៉ា 1" {
		t.Errorf("Clean = %+q", got)
	}
	if got := Clean("e\u200b\u0301"); got != "é" {
		t.Errorf("Clean(e ZWSP acute) = %+q, want NFC after the ZWSP is removed", got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = CleanText("សុខ\u200bដារ៉ា") }); n != 0 {
		t.Errorf("CleanText of clean Khmer allocates %v times", n)
	}
}

// FuzzTextRoundTrip: whatever text the text transform writes reads back
// as a value the engine compares equal to it, and a value it read is
// written back unchanged.
func FuzzTextRoundTrip(f *testing.F) {
	addSeeds(f)
	for _, s := range textFromSalesforce {
		f.Add(s)
	}
	tr := must(NewText(TextOptions{}))
	f.Fuzz(func(t *testing.T, s string) {
		cell, err := tr.Format(connector.Text(s))
		if err != nil || cell != s {
			t.Fatalf("Format changed the text: %+q -> %+q, %v", s, cell, err)
		}
		r, err := tr.Parse(cell)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := connector.Canonicalize(r.Value, &connector.Field{Type: connector.TypeTextArea})
		w, _ := connector.Canonicalize(connector.Text(s), &connector.Field{Type: connector.TypeTextArea})
		if string(v.AppendComparable(nil)) != string(w.AppendComparable(nil)) {
			t.Fatalf("%+q reads back as %+q, which compares unequal", s, r.Value)
		}
		if !r.Value.IsNull() {
			again, _ := tr.Format(r.Value)
			if r2, _ := tr.Parse(again); !r2.Value.Equal(r.Value) {
				t.Fatalf("a read value is not written back as it is")
			}
		}
	})
}
