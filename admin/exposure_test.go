package admin_test

import (
	"strings"
	"testing"

	"github.com/casebridge/casebridge/admin"
)

// TestCheckExposure (issue 14): the admin API on a loopback address needs
// nothing; on any other, without a token it is refused unless forced, and
// warned of either way; protecting reads needs a token.
func TestCheckExposure(t *testing.T) {
	for _, tc := range []struct {
		e    admin.Exposure
		warn string // "" = none
		err  string // "" = none
	}{
		{e: admin.Exposure{Addr: "127.0.0.1:9477"}},
		{e: admin.Exposure{Addr: "[::1]:9477"}},
		{e: admin.Exposure{Addr: "localhost:9477"}},
		{e: admin.Exposure{Addr: "0.0.0.0:9477"}, err: "--admin-insecure"},
		{e: admin.Exposure{Addr: ":9477"}, err: "every interface"},
		{e: admin.Exposure{Addr: "[::]:9477"}, err: "no admin token"},
		{e: admin.Exposure{Addr: "0.0.0.0:9477", Insecure: true}, warn: "open to the network without a token"},
		{e: admin.Exposure{Addr: "0.0.0.0:9477", Token: true}, warn: "add --admin-protect-reads"},
		{e: admin.Exposure{Addr: "0.0.0.0:9477", Token: true, ProtectReads: true}, warn: "clear text unless a TLS proxy"},
		{e: admin.Exposure{Addr: "127.0.0.1:9477", ProtectReads: true}, err: "protecting reads needs a token"},
		{e: admin.Exposure{Addr: "127.0.0.1:9477", Token: true, ProtectReads: true}},
	} {
		warn, err := admin.CheckExposure(tc.e)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: err = %v, want %q", tc.e, err, tc.err)
		}
		if (warn == "") != (tc.warn == "") || !strings.Contains(warn, tc.warn) {
			t.Errorf("%+v: warning = %q, want %q", tc.e, warn, tc.warn)
		}
	}
}
