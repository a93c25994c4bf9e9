package reconcile

import (
	"testing"

	"github.com/casebridge/casebridge/state"
)

// BenchmarkBind is the cost of binding one fingerprint (binder.bind): a run
// binds about one per field of every record with state it reads, and one
// to three per field of every record it commits.
func BenchmarkBind(b *testing.B) {
	f, err := NewFingerprinter([]byte("casebridge bench fingerprint key, 32+ bytes"))
	if err != nil {
		b.Fatal(err)
	}
	bnd, sc, st := f.binder(), f.scope("job", "Case__c", "Name__c"), newSalt()
	var sink state.Fingerprint
	for i := 0; b.Loop(); i++ {
		sink ^= bnd.bind(&sc, &st, state.Fingerprint(i+1))
	}
	_ = sink
}
