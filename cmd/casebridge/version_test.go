package main

import (
	"regexp"
	"testing"
)

// TestBuildStampString: a released build names its version, commit (12
// characters) and date on the one line `casebridge version` prints, which
// still starts as the version script expects.
func TestBuildStampString(t *testing.T) {
	got := buildStamp{Version: "v1.2.3", Commit: "970c55c1d2e3f4a5b6c7d8e9f00112233445566", Date: "2026-05-01T10:00:00Z"}.String()
	want := regexp.MustCompile(`^casebridge v1\.2\.3 \S+/\S+ go1\.\S+ commit 970c55c1d2e3 built 2026-05-01T10:00:00Z$`)
	if !want.MatchString(got) {
		t.Errorf("stamped: %q", got)
	}
	got = buildStamp{Version: "dev", Commit: "970c55c1d2e3f4a5b6c7d8e9f00112233445566-dirty"}.String()
	if !regexp.MustCompile(`^casebridge dev \S+/\S+ go1\.\S+ commit 970c55c1d2e3-dirty$`).MatchString(got) {
		t.Errorf("dirty: %q", got)
	}
	got = buildStamp{Version: "dev"}.String()
	if !regexp.MustCompile(`^casebridge dev \S+/\S+ go1\.\S+$`).MatchString(got) {
		t.Errorf("unstamped: %q", got)
	}
}

// TestReadBuildStampLinkerVars: the variables the release command sets with
// -X are the ones `casebridge version` reads.
func TestReadBuildStampLinkerVars(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v9.8.7", "abc", "2026-01-02T03:04:05Z"
	s := readBuildStamp()
	if s.Version != "v9.8.7" || s.Commit != "abc" || s.Date != "2026-01-02T03:04:05Z" {
		t.Errorf("readBuildStamp = %+v", s)
	}
}
