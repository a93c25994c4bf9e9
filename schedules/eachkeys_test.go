package schedules

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
	"github.com/casebridge/casebridge/state"
)

// serviceKeys are the external keys of the org's Khmer services, sorted.
func serviceKeys(org *sftest.Org) []string {
	var keys []string
	for _, a := range khServices(org) {
		keys = append(keys, a.Fields["vcms__External_Service_Key__c"].(string))
	}
	slices.Sort(keys)
	return keys
}

// resetKey starts dir's state over as 'casebridge key reset' does, under
// the key cfg finds (a new one made in place of a lost one).
func resetKey(t *testing.T, r *Runner) {
	t.Helper()
	fp, err := Fingerprinter(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Store.(interface {
		Rekey(ctx context.Context, id string) error
	}).Rekey(context.Background(), fp.KeyID()); err != nil {
		t.Fatal(err)
	}
}

// TestClassifiedEachAfterKeyResetRefused (issue 16): once the key is lost
// and the state started over under a new one, a classified each's records
// in Salesforce carry hashes no row reaches again. The first run is
// refused, naming the job, the child, the object and the count but no
// service, and creates nothing; with those records deleted in Salesforce
// the run creates them under the new key's hashes, and the runs after it
// go on.
func TestClassifiedEachAfterKeyResetRefused(t *testing.T) {
	userConfig(t)
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khCSV)
	r := openRunner(t, dir, khClassified, srv.URL)
	ctx := context.Background()
	if _, err := r.Run(ctx, "kh_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	before := serviceKeys(org)
	if len(before) != 4 {
		t.Fatalf("%d services after the first sync, want 4", len(before))
	}
	path, err := KeyFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.Close()

	r = openRunner(t, dir, khClassified, srv.URL)
	if _, err := r.Run(ctx, "kh_cases", RunOptions{}); !errors.Is(err, state.ErrKeyMismatch) {
		t.Fatalf("run with the key lost: %v, want it refused", err)
	}
	resetKey(t, r)
	r.Close()

	r = openRunner(t, dir, khClassified, srv.URL)
	for _, dry := range []bool{true, false} {
		_, err = r.Run(ctx, "kh_cases", RunOptions{DryRun: dry})
		if err == nil {
			t.Fatalf("dry run %v: the first run after a key reset went on beside the services under the old key", dry)
		}
		for _, want := range []string{"job kh_cases", "child services", "4 record(s)", "vcms__Assistance__c", "another fingerprint key", "Delete those"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("dry run %v: refusal %q does not say %q", dry, err, want)
			}
		}
		for _, s := range services {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the refusal names a service: %v", err)
			}
		}
		if got := serviceKeys(org); !slices.Equal(got, before) {
			t.Errorf("dry run %v: services after the refusal %v, want the %d of before", dry, got, len(before))
		}
	}

	// Deleted in Salesforce: the run creates them under the new hashes.
	if _, err := r.Salesforce.(connector.Sink).Delete(ctx, "vcms__Assistance__c", before); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := eachKey(r.FP, "kh_cases")
	var want []string
	for _, s := range []struct{ c, v string }{{"031", "Shelter"}, {"031", "Medical"}, {"031", "Vocational_Training"}, {"032", "Shelter"}} {
		want = append(want, "ngo-kh-sv:KH-RT-24-"+s.c+":svc:"+key("services", s.v))
	}
	slices.Sort(want)
	after := serviceKeys(org)
	if !slices.Equal(after, want) {
		t.Fatalf("services after deleting the old ones: %v, want %v; plan:\n%s", after, want, planText(res))
	}
	for _, k := range after {
		if slices.Contains(before, k) {
			t.Errorf("service key %s is the old key's", k)
		}
	}
	again, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatalf("the run after the services were recreated: %v", err)
	}
	if n := countWrites(again); n != 0 {
		t.Errorf("the run after plans %d writes:\n%s", n, planText(again))
	}
}

// TestClassifiedEachStateOverSameKey: a state started over under the key
// the records were made with is not refused: Salesforce's services are the
// current values' records, found again by key, and nothing is created.
func TestClassifiedEachStateOverSameKey(t *testing.T) {
	userConfig(t)
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khCSV)
	r := openRunner(t, dir, khClassified, srv.URL)
	ctx := context.Background()
	if _, err := r.Run(ctx, "kh_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	before := serviceKeys(org)
	resetKey(t, r) // the key file is still there: the same key
	r.Close()

	r = openRunner(t, dir, khClassified, srv.URL)
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatalf("first run after the state started over under the same key: %v", err)
	}
	if got := serviceKeys(org); !slices.Equal(got, before) {
		t.Errorf("services %v, want the %d of before; plan:\n%s", got, len(before), planText(res))
	}
}
