package schedules

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// forgetting counts ForgetDescribes calls on a Salesforce connector.
type forgetting struct {
	connector.Connector
	n atomic.Int32
}

func (f *forgetting) ForgetDescribes() { f.n.Add(1) }

// TestRunDescribesAfresh: each run forgets the describe cache, so a daemon
// sees fields and picklist values added to the org since its last run.
func TestRunDescribesAfresh(t *testing.T) {
	r, _, _ := newTestRunner(t, thConfig)
	f := &forgetting{Connector: r.Salesforce}
	r.Salesforce = f
	for i := 1; i <= 2; i++ {
		if _, err := r.Run(context.Background(), "th_cases", RunOptions{DryRun: true}); err != nil {
			t.Fatal(err)
		}
		if got := f.n.Load(); got != int32(i) {
			t.Fatalf("after %d runs the describe cache was forgotten %d times", i, got)
		}
	}
}
