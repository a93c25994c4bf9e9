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
