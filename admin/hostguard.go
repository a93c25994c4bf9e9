package admin

import (
	"net"
	"net/http"
	"strings"
)

// HostGuard refuses requests whose Host header names none of the allowed
// host names (compared case-insensitively, port ignored) with 421
// Misdirected Request. It stops DNS rebinding: a web page an admin opens
// cannot make the browser read the API bound to 127.0.0.1 through a name
// that resolves there (the read endpoints need no token and list job
// names, record keys and error codes). The loopback names localhost,
// 127.0.0.1 and ::1 are always allowed; a reverse proxy's name must be
// given.
func HostGuard(h http.Handler, allowed ...string) http.Handler {
	ok := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, a := range allowed {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			ok[a] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		host = strings.ToLower(strings.Trim(host, "[]"))
		if !ok[host] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMisdirectedRequest)
			_, _ = w.Write([]byte(`{"error":"this host name is not allowed; start the daemon with --admin-host NAME to allow it"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
