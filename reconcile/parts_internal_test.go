package reconcile

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// The sketch counts distinct keys, however often each is met, within 1%.
func TestKeySketch(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, n := range []int{0, 1, 1000, 250_000, 3_000_000} {
		var k keySketch
		for i := range n {
			id := fmt.Sprintf("bench:c-%07d", i)
			k.add(seed, id)
			if i%3 == 0 {
				k.add(seed, id) // met on a second side
			}
		}
		got := k.count()
		if d := got - n; d < -n/100-1 || d > n/100+1 {
			t.Errorf("%d distinct keys counted as %d", n, got)
		}
	}
}
