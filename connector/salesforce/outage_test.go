package salesforce

import (
	"context"
	"errors"
	"testing"

	"github.com/casebridge/casebridge/connector"
)

// An outage while writing (every write answers 503 after the client's
// retries) stops the call with an *OutageError, a connector.ErrStop, so
// the engine holds the writes for the next run instead of failing every
// record; it is not the budget's stop. Once the org answers, the same
// records go through.
func TestOutageStopsWrites(t *testing.T) {
	ctx := context.Background()
	org, c := fakeOrg(t, nil)
	recs := caseRecords(3, 71000, "Ann")
	org.SetWritesDown(true)
	res, err := c.Upsert(ctx, caseObject, recs)
	var oe *OutageError
	if !errors.As(err, &oe) || !errors.Is(err, connector.ErrStop) || errors.Is(err, ErrBudget) {
		t.Fatalf("upsert during an outage: %v, %v; want an OutageError", res, err)
	}
	org.SetWritesDown(false)
	res, err = c.Upsert(ctx, caseObject, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || !r.Created {
			t.Errorf("after the outage: %+v", r)
		}
	}
}
