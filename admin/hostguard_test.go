package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := HostGuard(ok, "casebridge.ngo.example")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:9477", 200},
		{"localhost:9477", 200},
		{"LOCALHOST", 200},
		{"[::1]:9477", 200},
		{"casebridge.ngo.example", 200},
		{"attacker.example:9477", http.StatusMisdirectedRequest}, // DNS rebinding
		{"127.0.0.1.attacker.example", http.StatusMisdirectedRequest},
		{"", http.StatusMisdirectedRequest},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/jobs", nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("Host %q: status %d, want %d", tc.host, rec.Code, tc.want)
		}
	}
}
