package erase

import (
	"os"
	"testing"

	"github.com/casebridge/casebridge/state"
)

// TestHolderIsThisProcess: an erase holds the job's lease under the name a
// run does (host:pid), so that the lease of an erase that was killed is
// taken over at once on this host; "host:pid:erase" was not recognised
// and held the job for the lease's whole time.
func TestHolderIsThisProcess(t *testing.T) {
	if pid, ok := state.HolderHere((&Eraser{}).holder()); !ok || pid != os.Getpid() {
		t.Errorf("holder %q: pid %d, here %v; want this process", (&Eraser{}).holder(), pid, ok)
	}
}
