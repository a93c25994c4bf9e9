package reconcile

import (
	"strings"

	"github.com/casebridge/casebridge/state"
)

// Delta is how one side of one field stands against the baseline, as bit
// flags (after rclone bisync's deltas): each side's delta is computed on
// its own, then the two are joined by the decision table (README.md).
type Delta uint8

// Delta flags.
const (
	// DeltaNew: no baseline under the field's current rule (first sync, a
	// field new to the job, a changed rule). DeltaChanged is set with it.
	DeltaNew Delta = 1 << iota
	// DeltaChanged: the side's value differs from the baseline.
	DeltaChanged
	// DeltaNull: the side's value is null now.
	DeltaNull
)

// String lists the flags, e.g. "changed|null", or "same".
func (d Delta) String() string {
	var parts []string
	for _, f := range []struct {
		d    Delta
		name string
	}{{DeltaNew, "new"}, {DeltaChanged, "changed"}, {DeltaNull, "null"}} {
		if d&f.d != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "same"
	}
	return strings.Join(parts, "|")
}

// delta computes one side's delta for field i of e, whose current (or
// last seen) fingerprint on that side is cur.
func (r *runner) delta(e *entry, i int, cur state.Fingerprint) Delta {
	var d Delta
	fs := &e.fs[i]
	switch {
	case r.ruleOf(e, i) != r.rule[i]:
		d |= DeltaNew | DeltaChanged
	case cur != fs.Base:
		d |= DeltaChanged
	}
	if cur == r.null[i] {
		d |= DeltaNull
	}
	return d
}
