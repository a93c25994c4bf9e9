package sftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestJSForce drives the fake org with jsforce, an independent client, when
// SFTEST_JSFORCE names a folder whose node_modules holds jsforce 3
// (npm install jsforce@3 there). It runs testdata/jsforce/check.js.
func TestJSForce(t *testing.T) {
	dir := os.Getenv("SFTEST_JSFORCE")
	if dir == "" {
		if os.Getenv("CASEBRIDGE_REQUIRE_SERVICES") == "1" {
			t.Fatal("SFTEST_JSFORCE not set: CI must install jsforce (npm ci in testdata/jsforce) and name that folder")
		}
		t.Skip("SFTEST_JSFORCE not set (a folder with node_modules/jsforce: npm ci in testdata/jsforce)")
	}
	org, srv := NewServer(t, Options{})
	script, _ := filepath.Abs("testdata/jsforce/check.js")
	cmd := exec.Command("node", script, srv.URL)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if n := org.CountRequests("query.more"); n < 1 {
		t.Errorf("jsforce's autoFetch made %d nextRecordsUrl calls; want at least one (over 2000 records)", n)
	}
}
