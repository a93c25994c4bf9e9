package schedules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// khClassified is khConfig with the services classified.
var khClassified = strings.Replace(khConfig, "          sf: vcms__Service_Type__c\n", "          sf: vcms__Service_Type__c\n          pii: sensitive\n", 1)

// eachKeyRE is a classified service's key: the case's key, :svc: and 12
// hexadecimal digits.
var eachKeyRE = regexp.MustCompile(`^ngo-kh-sv:KH-RT-24-03[12]:svc:[0-9a-f]{12}$`)

// services are the Salesforce values of the services, the markers no key,
// plan, state or request may hold once they are classified.
var services = []string{"Shelter", "Medical", "Vocational_Training"}

func writeKH(t *testing.T, dir, csv string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "kh.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
}

// planText is everything a run's result prints: the parent's and the
// children's plans and job names.
func planText(res *JobResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%v\n", res.Engine.Name, res.Result.Plan)
	for _, ch := range res.Engine.Children {
		fmt.Fprintf(&b, "%s %s\n", ch.Job.Name, ch.Suffix)
	}
	for _, ch := range res.Result.Children {
		fmt.Fprintf(&b, "%+v\n", ch)
	}
	for _, e := range res.MappingErrors {
		fmt.Fprintf(&b, "%s\n", e.Error())
	}
	return b.String()
}

// khServices are the org's Assistance records of the Khmer register (the
// seed org holds others).
func khServices(org *sftest.Org) []sftest.Record {
	var out []sftest.Record
	for _, a := range org.Records("vcms__Assistance__c") {
		if k, _ := a.Fields["vcms__External_Service_Key__c"].(string); strings.HasPrefix(k, "ngo-kh-sv:") {
			out = append(out, a)
		}
	}
	return out
}

func countWrites(res *JobResult) int {
	n := res.Result.Plan.NumWrites()
	for _, ch := range res.Result.Children {
		n += ch.Plan.NumWrites()
	}
	return n
}

// TestClassifiedEachKeys (issue 16): a classified each keys each service's
// record by a keyed 12-digit hash, never the service: the org's external
// keys, the plans, the child jobs' names, the state's files and every
// request's path and query hold no service; the records are found again
// (a second run writes nothing), and the records carry their services.
func TestClassifiedEachKeys(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khCSV)
	r := openRunner(t, dir, khClassified, srv.URL)
	ctx := context.Background()
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // case key -> services
	var out strings.Builder
	out.WriteString(planText(res))
	for _, a := range khServices(org) {
		key, _ := a.Fields["vcms__External_Service_Key__c"].(string)
		if !eachKeyRE.MatchString(key) {
			t.Errorf("service key %q: want the case's key, :svc: and a 12-digit hash", key)
			continue
		}
		c := key[:len("ngo-kh-sv:KH-RT-24-031")]
		got[c] += fmt.Sprint(a.Fields["vcms__Service_Type__c"]) + " "
	}
	if got["ngo-kh-sv:KH-RT-24-031"] == "" || len(strings.Fields(got["ngo-kh-sv:KH-RT-24-031"])) != 3 || strings.TrimSpace(got["ngo-kh-sv:KH-RT-24-032"]) != "Shelter" {
		t.Fatalf("services created: %v; plan:\n%s", got, res.Result.Plan)
	}
	again, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countWrites(again); n != 0 {
		t.Errorf("second run plans %d writes:\n%s", n, planText(again))
	}
	out.WriteString(planText(again))
	if n := len(khServices(org)); n != 4 {
		t.Errorf("%d services in the org after two runs, want 4", n)
	}
	for _, q := range org.Requests() {
		fmt.Fprintf(&out, "%s %s?%s\n", q.Method, q.Path, q.Query)
	}
	// The state's files (the SQLite store and its journal).
	files, _ := filepath.Glob(filepath.Join(dir, "casebridge.db*"))
	if len(files) == 0 {
		t.Fatal("no state file")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	for _, s := range services {
		if i := strings.Index(out.String(), s); i >= 0 {
			lo := max(0, i-80)
			t.Errorf("%s is in a plan, a job's name, the state or a request: …%q…", s, out.String()[lo:min(len(out.String()), i+40)])
		}
	}
}

// TestUnclassifiedEachKeepsKeys: without pii the keys still end in the
// value (the configurations written before keep their records).
func TestUnclassifiedEachKeepsKeys(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khCSV)
	r := openRunner(t, dir, khConfig, srv.URL)
	res, err := r.Run(context.Background(), "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := org.GetByExternalKey("vcms__Assistance__c", "ngo-kh-sv:KH-RT-24-031:svc:Vocational_Training"); !ok {
		t.Errorf("unclassified service not keyed by its value; plan:\n%s", res.Result.Plan)
	}
}

const khConsentCSV = "Code,Name (Khmer),Status,Services,Consent\r\n" +
	"KH-RT-24-031,សុខ តេស្ត,បើក,\"shelter, medical\",yes\r\n" +
	"KH-RT-24-032,ចាន់ ដារា,បើក,ជម្រក,no\r\n"

// khConsent is khClassified with a consent gate (sensitive data only).
var khConsent = strings.Replace(khClassified, "    fields:\n      - { sf: vcms__Source_System__c, constant: ngo-kh-bb }\n",
	"    consent: { field: vcms__Consent_Status__c, allowed: [Granted], classes: [sensitive] }\n"+
		"    fields:\n      - { sf: vcms__Source_System__c, constant: ngo-kh-bb }\n"+
		"      - { sf: vcms__Consent_Status__c, local: Consent, values: { yes: Granted, no: Not_Obtained, withdrawn: Withdrawn } }\n", 1)

// TestClassifiedEachConsent (issue 16): the records of a classified each
// are held back by the consent gate like sensitive fields: no record for a
// row without consent, none added after a withdrawal, the records made
// before it kept, and a record made in Salesforce while consent is not
// given is not written into the row's cell.
func TestClassifiedEachConsent(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khConsentCSV)
	r := openRunner(t, dir, khConsent, srv.URL)
	ctx := context.Background()
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := eachKey(r.FP, "kh_cases")
	svc := func(c, value string) string { return "ngo-kh-sv:" + c + ":svc:" + key("services", value) }
	for _, k := range []string{svc("KH-RT-24-031", "Shelter"), svc("KH-RT-24-031", "Medical")} {
		if _, ok := org.GetByExternalKey("vcms__Assistance__c", k); !ok {
			t.Errorf("a service of the case with consent was not created; plan:\n%s", planText(res))
		}
	}
	if n := len(khServices(org)); n != 2 {
		t.Fatalf("%d services in the org, want 2 (none for the case without consent); plan:\n%s", n, planText(res))
	}

	// 031 withdraws and gets a new service; 032 still has no consent,
	// and Salesforce records a service for it.
	writeKH(t, dir, "Code,Name (Khmer),Status,Services,Consent\r\n"+
		"KH-RT-24-031,សុខ តេស្ត,បើក,\"shelter, medical, vocational\",withdrawn\r\n"+
		"KH-RT-24-032,ចាន់ ដារា,បើក,ជម្រក,no\r\n")
	c32, _ := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-kh-sv:KH-RT-24-032")
	if _, err := org.Insert("vcms__Assistance__c", map[string]any{"vcms__External_Service_Key__c": svc("KH-RT-24-032", "Medical"),
		"vcms__Case__c": c32.ID, "vcms__Service_Type__c": "Medical", "CurrencyIsoCode": "KHR"}, false); err != nil {
		t.Fatal(err)
	}
	if res, err = r.Run(ctx, "kh_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := org.GetByExternalKey("vcms__Assistance__c", svc("KH-RT-24-031", "Vocational_Training")); ok {
		t.Errorf("a service was created after the withdrawal")
	}
	for _, k := range []string{svc("KH-RT-24-031", "Shelter"), svc("KH-RT-24-031", "Medical"), svc("KH-RT-24-032", "Medical")} {
		if _, ok := org.GetByExternalKey("vcms__Assistance__c", k); !ok {
			t.Errorf("a service record was deleted while consent is not given; plan:\n%s", planText(res))
		}
	}
	c31, _ := org.GetByExternalKey("vcms__Survivor_Case__c", "ngo-kh-sv:KH-RT-24-031")
	if got := c31.Fields["vcms__Consent_Status__c"]; got != "Withdrawn" {
		t.Errorf("the withdrawal did not reach the org: %v", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kh.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "KH-RT-24-032,ចាន់ ដារា,បើក,ជម្រក,no") {
		t.Errorf("a service recorded in Salesforce reached the cell of a case without consent:\n%s", b)
	}
}

// TestClassifyingSyncedEachRefused (issue 16): classifying an each whose
// records synced under readable keys is refused, naming no value, while
// the state or Salesforce holds such records; with them deleted in
// Salesforce and the state started over, the run creates them under their
// new keys.
func TestClassifyingSyncedEachRefused(t *testing.T) {
	org, srv := sftest.NewServer(t, sftest.Options{})
	dir := t.TempDir()
	writeKH(t, dir, khCSV)
	r := openRunner(t, dir, khConfig, srv.URL)
	ctx := context.Background()
	if _, err := r.Run(ctx, "kh_cases", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	refused := func(r *Runner, where string) {
		t.Helper()
		_, err := r.Run(ctx, "kh_cases", RunOptions{})
		if err == nil || !strings.Contains(err.Error(), "classified") || !strings.Contains(err.Error(), where) {
			t.Fatalf("classifying a synced each: err %v, want a refusal naming %s", err, where)
		}
		for _, s := range services {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the refusal names a service: %v", err)
			}
		}
		if n := len(khServices(org)); n != 4 {
			t.Errorf("%d services in the org after the refusal, want the 4 of before", n)
		}
	}
	r = openRunner(t, dir, khClassified, srv.URL)
	refused(r, "the state")
	r.Close()

	// The state started over (as casebridge key reset does): Salesforce
	// still holds the records under their old keys.
	files, _ := filepath.Glob(filepath.Join(dir, "casebridge.db*"))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	r = openRunner(t, dir, khClassified, srv.URL)
	refused(r, "Salesforce")

	// Deleted in Salesforce: the run creates them under their new keys.
	var old []string
	for _, a := range khServices(org) {
		old = append(old, a.Fields["vcms__External_Service_Key__c"].(string))
	}
	if _, err := r.Salesforce.(connector.Sink).Delete(ctx, "vcms__Assistance__c", old); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(ctx, "kh_cases", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := khServices(org)
	if len(recs) != 4 {
		t.Fatalf("%d services after the migration, want 4; plan:\n%s", len(recs), planText(res))
	}
	for _, a := range recs {
		if k := a.Fields["vcms__External_Service_Key__c"].(string); !eachKeyRE.MatchString(k) {
			t.Errorf("service key %q after the migration", k)
		}
	}
}
