// Package salesforce is casebridge's connector to a Salesforce org over the
// REST API: OAuth 2.0 (JWT bearer, client credentials, refresh token,
// username-password), describe, SOQL query/queryAll with paging, sObject
// Collections upsert by external id and delete (create and update by Id
// for objects without an external id, keyed by their parent: byparent.go),
// the Sforce-Limit-Info budget, and retries that never re-send a create.
// See README.md.
//
// # Privacy
//
// No record value reaches an error or a log line: Salesforce's messages,
// which echo values (STRING_TOO_LONG, restricted picklist, DUPLICATE_VALUE,
// MALFORMED_ID, SOQL excerpts), are replaced by casebridge's descriptions
// of their codes (SafeMessage), an error's fields are kept only when the
// describe knows them, URLs (query URLs carry SOQL literals) are stripped
// from transport errors, and retryablehttp's logger is off.
package salesforce

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Sample is a commented sample configuration (sample.yaml).
//
//go:embed sample.yaml
var Sample string

// DefaultAPIVersion is the REST API version used when Options leaves it
// empty.
const DefaultAPIVersion = "62.0"

// DefaultKeyField is the external id field used as record Key.
const DefaultKeyField = "vcms__External_Key__c"

// Options configures a Connector. Zero values take the documented defaults.
type Options struct {
	// Name is the connector instance's name in errors and logs
	// ("salesforce" by default).
	Name string
	// LoginURL is where tokens are requested: https://login.salesforce.com,
	// https://test.salesforce.com or the org's My Domain (required for
	// client credentials).
	LoginURL string
	// APIVersion is the REST API version, "62.0" by default.
	APIVersion string
	// Auth selects and configures the OAuth flow.
	Auth Auth
	// KeyField names the external id field holding record keys
	// (vcms__External_Key__c by default); KeyFields overrides it per
	// object. An object without it is keyed by Id and read-only.
	KeyField  string
	KeyFields map[string]string
	// ParentKeys lists the objects keyed by their parent (an object with
	// no External ID field; see ByParent): their key field is ByParent,
	// and they are written by Id, the pairing of keys and Ids kept by the
	// IDPairs of a write's context (WithIDPairs).
	ParentKeys map[string]ParentKey
	// Budget is the share (0..1] of the org's daily API requests this
	// connector may use up to: a call that would pass Budget x limit (as
	// reported by Sforce-Limit-Info) fails with ErrBudget. 0 means no
	// budget. MaxCalls caps the calls this connector makes (0: no cap).
	Budget   float64
	MaxCalls int64
	// Concurrency bounds write batches in flight (default 4).
	Concurrency int
	// BatchSize is the number of records per Collections call (default and
	// maximum 200).
	BatchSize int
	// QueryBatchSize is sent as Sforce-Query-Options batchSize (default
	// 2000; Salesforce clamps to 200..2000).
	QueryBatchSize int
	// LockRetries is how often records failing with UNABLE_TO_LOCK_ROW are
	// re-sent (default 3), waiting LockWait (default 500ms), doubled each
	// time.
	LockRetries int
	LockWait    time.Duration
	// LookBack is how far before the cursor an incremental read looks
	// again, for SystemModstamps that tie or commit late (default 5m).
	LookBack time.Duration
	// RetryMax, RetryWaitMin and RetryWaitMax tune transport retries of
	// 429/502/503/504 and connection errors (defaults 4, 1s, 30s); a
	// Retry-After header is honoured up to RetryWaitMax.
	RetryMax     int
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// BulkThreshold: an Upsert or Delete of more than this many records
	// goes through one Bulk API 2.0 ingest job instead of sObject
	// Collections (default 5000; negative: never). OnBulkJob, if set, is
	// called with each job's id after the job is created and before any
	// data is uploaded, so that a crashed run's jobs can be found and
	// drained (BulkJob, AbortBulkJob). BulkPoll is the first wait between
	// job state checks (default 500ms, doubling up to 30s: a small job is
	// done at the first check, a large one costs a few more checks).
	BulkThreshold int
	OnBulkJob     func(object, operation, jobID string)
	BulkPoll      time.Duration
	// BulkQueryThreshold: when > 0, a complete Read first counts the
	// object's records (SELECT COUNT(), one call) and reads through a Bulk
	// API 2.0 query job when there are more than this many. 0 (default):
	// never. OnBulkJob hears of query jobs too (operation "query").
	BulkQueryThreshold int
	// HTTPClient is the HTTP client to use (tests pass the fake org's).
	HTTPClient *http.Client
}

func (o *Options) setDefaults() error {
	if o.Name == "" {
		o.Name = "salesforce"
	}
	if o.LoginURL == "" {
		o.LoginURL = "https://login.salesforce.com"
	}
	u, err := url.Parse(o.LoginURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("login_url must be an https URL")
	}
	o.LoginURL = strings.TrimRight(o.LoginURL, "/")
	if o.APIVersion == "" {
		o.APIVersion = DefaultAPIVersion
	}
	o.APIVersion = strings.TrimPrefix(o.APIVersion, "v")
	if !apiVersion(o.APIVersion) {
		return fmt.Errorf("api_version %q: want a version like 62.0", o.APIVersion)
	}
	if o.KeyField == "" {
		o.KeyField = DefaultKeyField
	}
	if o.Budget < 0 || o.Budget > 1 {
		return errors.New("budget must be a share of the daily limit between 0 and 1")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.BatchSize <= 0 || o.BatchSize > maxCollection {
		o.BatchSize = maxCollection
	}
	if o.QueryBatchSize <= 0 {
		o.QueryBatchSize = 2000
	}
	o.QueryBatchSize = min(max(o.QueryBatchSize, 200), 2000)
	if o.LockRetries < 0 {
		o.LockRetries = 0
	} else if o.LockRetries == 0 {
		o.LockRetries = 3
	}
	if o.LockWait <= 0 {
		o.LockWait = 500 * time.Millisecond
	}
	if o.LookBack <= 0 {
		o.LookBack = 5 * time.Minute
	}
	if o.BulkThreshold == 0 {
		o.BulkThreshold = 5000
	}
	if o.BulkPoll <= 0 {
		o.BulkPoll = 500 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 4
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = time.Second
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = 30 * time.Second
	}
	return nil
}

func apiVersion(v string) bool {
	a, b, ok := strings.Cut(v, ".")
	if !ok || a == "" || b == "" {
		return false
	}
	for _, r := range a + b {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Connector is a connection to one Salesforce org. It is safe for
// concurrent use.
type Connector struct {
	name string
	opts Options
	cl   *client

	mu         sync.Mutex
	objects    map[string]*connector.Object    // describe cache
	validWhere map[string]bool                 // object + "\x00" + condition checked by Where views
	paths      map[*connector.Object]pathEntry // key paths of objects keyed by their parent
}

// New validates opts, authenticates and returns a Connector. Errors from
// authentication are *AuthError (errors.Is(err, ErrAuth)).
func New(ctx context.Context, opts Options) (*Connector, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("salesforce: %w", err)
	}
	c := &Connector{name: opts.Name, opts: opts, objects: map[string]*connector.Object{}}
	c.cl = &client{
		version:  opts.APIVersion,
		budget:   opts.Budget,
		maxCalls: opts.MaxCalls,
		batch:    opts.QueryBatchSize,
	}
	c.cl.describedObject = c.describedObject
	c.cl.hc = newHTTP(opts.HTTPClient, retryOptions{max: opts.RetryMax, min: opts.RetryWaitMin, cap: opts.RetryWaitMax}, &c.cl.calls)
	if opts.Auth.Flow == FlowSOAP && !soapVersionOK(opts.APIVersion) {
		return nil, &AuthError{Flow: FlowSOAP, Err: fmt.Errorf("SOAP login() is not available from API 65.0 (api_version is %s); use jwt or client_credentials", opts.APIVersion)}
	}
	au, err := newAuthenticator(opts.Auth, opts.LoginURL, c.cl.postForm)
	if err != nil {
		return nil, err
	}
	au.soapPost, au.version = c.cl.postSOAP, opts.APIVersion
	c.cl.auth = au
	if _, _, err := au.token(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Name implements connector.Connector.
func (c *Connector) Name() string { return c.name }

// Usage returns the API usage seen so far: the org's daily requests used
// and its limit (from the Sforce-Limit-Info header of the last response)
// and the calls this connector made. It makes no call.
func (c *Connector) Usage() Usage { return c.cl.Usage() }

// InstanceURL returns the org's instance URL from the current token.
func (c *Connector) InstanceURL() string {
	if err := c.cl.auth.lock(context.Background()); err != nil {
		return ""
	}
	defer c.cl.auth.unlock()
	if c.cl.auth.tok == nil {
		return ""
	}
	return c.cl.auth.tok.InstanceURL
}

// keyField returns the configured key field of object.
func (c *Connector) keyField(object string) string {
	if k, ok := c.opts.KeyFields[object]; ok {
		return k
	}
	return c.opts.KeyField
}

// Interface guards.
var (
	_ connector.Connector     = (*Connector)(nil)
	_ connector.Sink          = (*Connector)(nil)
	_ connector.KeyLister     = (*Connector)(nil)
	_ connector.KeyReader     = (*Connector)(nil)
	_ connector.ChangeTracker = (*Connector)(nil)
)
