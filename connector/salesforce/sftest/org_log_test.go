package sftest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRequestLogBounded: the request log keeps at most maxLogEntries entries, the
// newest, so a fake org left running does not grow without limit.
func TestRequestLogBounded(t *testing.T) {
	defer func(n int) { maxLogEntries = n }(maxLogEntries)
	maxLogEntries = 100
	o := New(Options{Empty: true})
	h := o.Handler()
	for i := 0; i < maxLogEntries+10; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/services/data", nil))
	}
	log := o.Requests()
	if len(log) > maxLogEntries || len(log) < maxLogEntries/2 {
		t.Fatalf("log holds %d entries; want between %d and %d", len(log), maxLogEntries/2, maxLogEntries)
	}
	if o.CountRequests(log[len(log)-1].Endpoint) != len(log) {
		t.Errorf("entries of one endpoint do not add up")
	}
}
