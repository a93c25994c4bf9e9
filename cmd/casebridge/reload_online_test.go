package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/schedules"
)

// TestReloadCheckAgainstOrg (issue 14): the check a SIGHUP reload makes
// against the org. An object the org does not have is a finding at its
// position (the reload is refused); an org that cannot answer at that
// moment (its daily API limit spent) leaves the objects unchecked, with
// no finding (the reload goes on, warned of).
func TestReloadCheckAgainstOrg(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	if err := writeDemoFiles(dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "casebridge.yaml")
	text, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const object = "object: vcms__Survivor_Case__c"
	nope := strings.Replace(string(text), object, "object: vcms__Nope__c", 1)
	if nope == string(text) {
		t.Fatal("the demo configuration no longer has what this test edits")
	}
	load := func(text string) *config.Config {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			t.Fatalf("offline validation refused it: %v", err)
		}
		return cfg
	}
	ctx := context.Background()
	check := func(cfg *config.Config) (config.Errors, []uncheckedObject) {
		t.Helper()
		sf, err := schedules.OpenSalesforce(ctx, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return checkAgainstOrg(ctx, cfg, sf.Describe)
	}

	good := load(string(text))
	if findings, unchecked := check(good); len(findings)+len(unchecked) > 0 {
		t.Fatalf("the demo configuration: findings %v, unchecked %v", findings, unchecked)
	}

	bad := load(nope)
	findings, unchecked := check(bad)
	if len(unchecked) > 0 {
		t.Errorf("unchecked with the org up: %v", unchecked)
	}
	line := 1 + strings.Count(nope[:strings.Index(nope, "vcms__Nope__c")], "\n")
	found := false
	for _, e := range findings {
		if strings.Contains(e.Msg, "vcms__Nope__c") && e.File == cfgPath && e.Line == line {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding for vcms__Nope__c at line %d: %v", line, findings)
	}

	// The org answers no data request (its daily limit is spent): the
	// objects are unchecked, and nothing is a finding, not even the
	// object it could not be asked about.
	_, limit := org.APIUsage()
	org.SetAPIUsage(limit)
	findings, unchecked = check(bad)
	if len(findings) > 0 {
		t.Errorf("findings from an org that did not answer: %v", findings)
	}
	objects := map[string]bool{}
	for _, u := range unchecked {
		objects[u.object] = true
		if u.err == nil {
			t.Errorf("%s unchecked with no reason", u.object)
		}
	}
	if !objects["vcms__Nope__c"] || !objects["vcms__Survivor_Case__c"] {
		t.Errorf("unchecked %v, want vcms__Nope__c and vcms__Survivor_Case__c among them", unchecked)
	}
}
