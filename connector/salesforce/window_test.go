package salesforce

import (
	"fmt"
	"testing"
	"time"
)

// A read of many records changed within the look-back (a load) keeps a
// bounded set of Ids as it goes, and its cursor is the one a complete set
// gives: the maxSeen newest.
func TestWindowBounded(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	w := &window{lookBack: 5 * time.Minute, seen: map[string]int64{}}
	const n = 50_000
	peak := 0
	for i := range n {
		// Out of order, as a Bulk query returns them; many share a
		// millisecond.
		j := (i * 7919) % n
		w.observe(fmt.Sprintf("a01%015d", j), t0.Add(time.Duration(j/3)*time.Millisecond))
		peak = max(peak, len(w.seen))
	}
	if peak > 4*maxSeen+1 {
		t.Fatalf("the set held %d Ids, above 4×%d", peak, maxSeen)
	}
	st, err := decodeCursor(w.cursor())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Seen) != maxSeen {
		t.Fatalf("cursor holds %d Ids, want %d", len(st.Seen), maxSeen)
	}
	// The newest maxSeen: Ids n-1 down to n-maxSeen (ties at the oldest
	// millisecond kept may differ, so that one is left out).
	oldest := t0.Add(time.Duration((n-maxSeen)/3) * time.Millisecond).UnixMilli()
	for j := n - 1; j >= n-maxSeen; j-- {
		id := fmt.Sprintf("a01%015d", j)
		ms := t0.Add(time.Duration(j/3) * time.Millisecond).UnixMilli()
		if got, ok := st.Seen[id]; ms > oldest && (!ok || got != ms) {
			t.Fatalf("newest Id %s missing from the cursor (%d, %v)", id, got, ok)
		}
	}
	if want := t0.Add(time.Duration((n-1)/3) * time.Millisecond); !st.T.Equal(want) {
		t.Fatalf("cursor time %v, want %v", st.T, want)
	}
}
