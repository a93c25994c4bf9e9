package salesforce

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestReadmeSample keeps README's config block equal to sample.yaml.
func TestReadmeSample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+Sample+"```\n") {
		t.Error("README.md's yaml block differs from sample.yaml")
	}
}

func TestOptionsValidation(t *testing.T) {
	auth := Auth{Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}
	for _, o := range []Options{
		{Auth: auth, LoginURL: "ftp://x"},
		{Auth: auth, LoginURL: "http://127.0.0.1:1", APIVersion: "latest"},
		{Auth: auth, LoginURL: "http://127.0.0.1:1", Budget: 2},
	} {
		if _, err := New(context.Background(), o); err == nil || !strings.HasPrefix(err.Error(), "salesforce: ") {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
	o := Options{}
	if err := o.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if o.APIVersion != "62.0" || o.Concurrency != 4 || o.BatchSize != 200 || o.QueryBatchSize != 2000 || o.KeyField != DefaultKeyField || o.LoginURL != "https://login.salesforce.com" {
		t.Errorf("defaults %+v", o)
	}
}

func TestLimitsCheckSchema(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("GET /services/data/v62.0/limits", f.file(200, "limits.json"))
	f.handle("GET /services/data", raw(200, `[{"label":"Winter '11","url":"/services/data/v20.0","version":"20.0"},{"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"}]`))
	c := f.connect(t, nil)
	l, err := c.Limits(context.Background())
	if err != nil || l["DailyApiRequests"].Remaining != 14998 {
		t.Fatalf("limits %v %v", l, err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Error(err)
	}
	c2 := f.connect(t, func(o *Options) { o.APIVersion = "99.0" })
	if err := c2.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not offer API version 99.0 (highest: 62.0)") {
		t.Errorf("unknown version: %v", err)
	}
	s, err := c.Schema(context.Background(), caseObject)
	if err != nil || s.Object(caseObject) == nil {
		t.Errorf("schema %v %v", s, err)
	}
}
