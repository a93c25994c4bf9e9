package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/config"
)

// TestStateLease: state.lease sets how long a job's lease lasts unrenewed
// (issue 14; it was a fixed 5 minutes): 5m by default, 30s to 24h.
func TestStateLease(t *testing.T) {
	opt := config.Options{Getenv: env(nil), ReadFile: files(nil), BaseDir: "/srv/cb"}
	for _, tc := range []struct {
		state string
		want  time.Duration
		err   string
	}{
		{state: "", want: 5 * time.Minute},
		{state: "state: { lease: 90s }", want: 90 * time.Second},
		{state: "state: { lease: 1d }", want: 24 * time.Hour},
		{state: "state: { lease: 5s }", err: "state.lease: between 30s and 24h"},
		{state: "state: { lease: 2d }", err: "state.lease: between 30s and 24h"},
		{state: "state: { lease: soon }", err: "want a duration"},
	} {
		data := string(fixture(t, "minimal.yaml")) + "\n" + tc.state + "\n"
		cfg, err := config.Parse("minimal.yaml", []byte(data), opt)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.state, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.state, err)
			continue
		}
		if got := cfg.State.Lease.Duration; got != tc.want {
			t.Errorf("%q: lease = %v, want %v", tc.state, got, tc.want)
		}
	}
}
