package admin

import (
	"fmt"
	"net"
)

// Exposure describes how the admin API is served, for CheckExposure.
type Exposure struct {
	// Addr is the address the API is to listen on (host:port; an empty
	// host or 0.0.0.0 or :: is every interface).
	Addr string
	// Token: a bearer token is configured. ProtectReads: the JSON read
	// endpoints need it too (Options.ProtectReads).
	Token, ProtectReads bool
	// Insecure: the operator forces an address reachable from the network
	// without a token (the daemon's --admin-insecure).
	Insecure bool
}

// CheckExposure judges where the admin API listens, before it listens.
// A loopback address is private to the machine: no warning. Any other
// address (an interface's, a name that is not loopback, every interface)
// lets the network reach the API, whose read endpoints list job names,
// record keys and error codes, over plain HTTP:
//
//   - without a token it is refused (err) unless Insecure, and warned of
//     when forced;
//   - with a token it is warned of: the token travels in clear text unless
//     a TLS proxy is in front, and reads stay open without ProtectReads.
//
// ProtectReads without a token is refused: every read would be refused.
// The address is resolved (a name may stand for a loopback address).
func CheckExposure(e Exposure) (warning string, err error) {
	if e.ProtectReads && !e.Token {
		return "", fmt.Errorf("admin API: protecting reads needs a token (--admin-token-file or $CASEBRIDGE_ADMIN_TOKEN)")
	}
	tcp, err := net.ResolveTCPAddr("tcp", e.Addr)
	if err != nil {
		return "", fmt.Errorf("admin API address %q: %w", e.Addr, err)
	}
	if tcp.IP != nil && tcp.IP.IsLoopback() {
		return "", nil
	}
	where := e.Addr
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		where += " (every interface)"
	}
	switch {
	case !e.Token && !e.Insecure:
		return "", fmt.Errorf("admin API on %s: not a loopback address, and no admin token: anyone who reaches it could read job names, record keys and error codes. Keep it on 127.0.0.1 behind a TLS proxy, set a token (--admin-token-file) with --admin-protect-reads, or force it with --admin-insecure", where)
	case !e.Token:
		return fmt.Sprintf("admin API on %s is open to the network without a token (--admin-insecure): anyone who reaches it can read job names, record keys and error codes", where), nil
	case !e.ProtectReads:
		return fmt.Sprintf("admin API on %s is reachable from the network: its reads (job names, record keys, error codes) need no token (add --admin-protect-reads), and the token travels in clear text unless a TLS proxy is in front", where), nil
	}
	return fmt.Sprintf("admin API on %s is reachable from the network: the token travels in clear text unless a TLS proxy is in front", where), nil
}
