package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// maxBody bounds the size of a response body read into memory (a query
// page of 2,000 wide records stays far below it).
const maxBody = 64 << 20

// Usage is the API consumption a client has seen.
type Usage struct {
	// Used and Limit are the org's daily API requests as last reported by
	// the Sforce-Limit-Info header (api-usage=USED/LIMIT); 0 before the
	// first response.
	Used, Limit int64
	// Calls counts the REST requests this client sent (retries included)
	// over the process's life: it only grows (a run's cost is the
	// difference between two readings).
	Calls int64
}

// client is the HTTP layer: authentication, retries, limits, errors.
type client struct {
	hc       *retryablehttp.Client
	auth     *authenticator
	version  string
	budget   float64 // share of the daily limit; 0 = none
	maxCalls int64   // per run (see StartRun); 0 = unlimited
	// serverTime is the latest Date a response carried: the org's clock
	// (read anchors its change cursor there). Guarded by mu.
	serverTime time.Time
	batch      int // query batch size

	mu    sync.Mutex
	used  int64 // the org's daily API requests used and its limit,
	limit int64 // from /limits or the latest Sforce-Limit-Info; 0: unknown
	// noLimits: the org refused GET /limits (the user lacks View Setup
	// and Configuration); runs start from their first response's header.
	noLimits bool
	calls    atomic.Int64 // every request, over the process's life
	// describedObject returns the connector's describe of an object,
	// nil if none: an error's field list keeps only the names it knows.
	describedObject func(object string) *connector.Object
}

// runMeter counts the calls of one run (StartRun puts a fresh one in the
// run's context; requests find it there).
type runMeter struct{ calls atomic.Int64 }

type runMeterKey struct{}

// limitsProbeKey marks StartRun's /limits request: the figures it
// refreshes do not hold it back.
type limitsProbeKey struct{}

// meterOf returns the run's meter ctx carries, nil outside a run.
func meterOf(ctx context.Context) *runMeter {
	m, _ := ctx.Value(runMeterKey{}).(*runMeter)
	return m
}

// runCalls returns the calls of the run ctx belongs to; outside a run
// (a one-shot command: the process is the run), every call made.
func (c *client) runCalls(ctx context.Context) int64 {
	if m := meterOf(ctx); m != nil {
		return m.calls.Load()
	}
	return c.calls.Load()
}

type retrySafeKey struct{}

// withRetrySafe marks a request context as safe to re-send: GET, DELETE,
// upsert by external id, token requests. A POST that creates records is
// never re-sent: if its response is lost, the records may exist.
func withRetrySafe(ctx context.Context, safe bool) context.Context {
	return context.WithValue(ctx, retrySafeKey{}, safe)
}

// shouldRetry reports whether a response status is worth re-sending (for a
// request that is safe to re-send):
//
//	429 Too Many Requests   rate limiting at Salesforce's edge
//	502 Bad Gateway         edge / load balancer trouble
//	503 Service Unavailable SERVER_UNAVAILABLE "Server too busy", maintenance pages
//	504 Gateway Timeout     edge / load balancer trouble
//
// Not retried: 500 (an internal error or HTML page repeats; retrying makes a
// storm), 401 (handled by re-authenticating once), 403 REQUEST_LIMIT_EXCEEDED
// for the daily limit (a stop; the concurrent-request variant is retried,
// see concurrentLimit), every other 4xx (the request is wrong).
func shouldRetry(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// checkRetry is the retryablehttp.CheckRetry: stop at once when the context
// is done; never re-send a request not marked safe; connection errors as
// retryablehttp's default policy says (not TLS or scheme errors); statuses
// by shouldRetry.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if safe, _ := ctx.Value(retrySafeKey{}).(bool); !safe {
		return false, nil
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return concurrentLimit(resp), nil
	}
	return shouldRetry(resp.StatusCode), nil
}

// concurrentLimit reports a 403 REQUEST_LIMIT_EXCEEDED for the limit on
// concurrent long-running requests ("ConcurrentRequests ... Limit
// exceeded."), which is worth a backoff, unlike the daily limit. The body is
// read and put back for the caller.
func concurrentLimit(resp *http.Response) bool {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	return bytes.Contains(body, []byte("REQUEST_LIMIT_EXCEEDED")) && bytes.Contains(body, []byte("ConcurrentRequests"))
}

// backoff is exponential from min with jitter, capped at max, and honours
// Retry-After (seconds or an HTTP date) on 429/503, also capped at max.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return clamp(d, min, max)
		}
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > min {
		d = d/2 + rand.N(d/2+1) // jitter in [d/2, d]
	}
	return clamp(d, min, max)
}

func clamp(d, min, max time.Duration) time.Duration {
	if d < min {
		return min
	}
	if d > max {
		return max
	}
	return d
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

type retryOptions struct {
	max      int
	min, cap time.Duration
}

// newHTTP returns the retrying client; calls counts every attempt (each
// costs an API request), and so does the meter of the run the request
// belongs to.
func newHTTP(hc *http.Client, ro retryOptions, calls *atomic.Int64) *retryablehttp.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	return &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // its logger prints URLs, and query URLs carry SOQL literals
		RetryWaitMin: ro.min,
		RetryWaitMax: ro.cap,
		RetryMax:     ro.max,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		// The default handler discards the body; Salesforce's error
		// body (errorCode, fields) is what we need.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, _ int) {
			calls.Add(1)
			if m := meterOf(req.Context()); m != nil {
				m.calls.Add(1)
			}
		},
	}
}

// request is one REST call.
type request struct {
	op, object  string
	method      string
	path        string // from /services/..., may carry a query string
	query       url.Values
	body        any    // marshalled as JSON when non-nil
	raw         []byte // sent as is (with contentType) when body is nil
	contentType string
	accept      string       // "application/json" when empty
	respHeader  *http.Header // receives the response's header when set
	header      map[string]string
	retrySafe   bool
}

// Usage returns the API consumption seen so far.
func (c *client) Usage() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Usage{Used: c.used, Limit: c.limit, Calls: c.calls.Load()}
}

// checkBudget refuses a call that would pass the budget: the run's
// maximum of calls (counted by the run's meter), or the share of the
// org's daily limit (by the figures last read; the /limits request that
// refreshes them is not held back by them).
func (c *client) checkBudget(ctx context.Context) error {
	if n := c.runCalls(ctx); c.maxCalls > 0 && n >= c.maxCalls {
		return fmt.Errorf("%w: %d calls made, the run's maximum is %d", ErrBudget, n, c.maxCalls)
	}
	if probe, _ := ctx.Value(limitsProbeKey{}).(bool); c.budget <= 0 || probe {
		return nil
	}
	c.mu.Lock()
	used, limit := c.used, c.limit
	c.mu.Unlock()
	if limit > 0 && float64(used+1) > c.budget*float64(limit) {
		return fmt.Errorf("%w: %d of %d daily API requests used, budget is %g%% of the limit", ErrBudget, used, limit, c.budget*100)
	}
	return nil
}

// noteLimits reads Sforce-Limit-Info: api-usage=USED/LIMIT (the header may
// carry other comma-separated entries, e.g. per-app-api-usage).
func (c *client) noteLimits(h http.Header) {
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		c.mu.Lock()
		if d.After(c.serverTime) {
			c.serverTime = d
		}
		c.mu.Unlock()
	}
	v := h.Get("Sforce-Limit-Info")
	if v == "" {
		return
	}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != "api-usage" {
			continue
		}
		us, ls, ok := strings.Cut(val, "/")
		if !ok {
			continue
		}
		used, err1 := strconv.ParseInt(strings.TrimSpace(us), 10, 64)
		limit, err2 := strconv.ParseInt(strings.TrimSpace(ls), 10, 64)
		if err1 != nil || err2 != nil || used < 0 || limit <= 0 {
			continue
		}
		c.mu.Lock()
		c.used, c.limit = used, limit
		c.mu.Unlock()
	}
}

// dataPath returns /services/data/vXX.X followed by the escaped segments.
func (c *client) dataPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/services/data/v")
	b.WriteString(c.version)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends r and decodes a 2xx body into out (when non-nil). A 401
// re-authenticates once and repeats the request. Other failures are
// *APIError (Salesforce's code and fields, value-free message), stop errors
// or transport errors without the URL.
func (c *client) do(ctx context.Context, r request, out any) error {
	status, body, err := c.roundTrip(ctx, r)
	if err != nil {
		return err
	}
	if out == nil || status == http.StatusNoContent {
		return nil
	}
	if err := api.Decode(body, out); err != nil {
		return &APIError{Op: r.op, Object: r.object, Status: status, Malformed: true, Message: "response body: " + err.Error()}
	}
	return nil
}

// roundTrip sends r and returns a 2xx status and its body. A 401
// re-authenticates once and repeats the request; other statuses become
// *APIError.
func (c *client) roundTrip(ctx context.Context, r request) (int, []byte, error) {
	payload := r.raw
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return 0, nil, fmt.Errorf("salesforce %s %s: encoding the request: %w", r.op, r.object, err)
		}
	}
	renewed := false
	for {
		tok, gen, err := c.auth.token(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, body, err := c.send(ctx, tok, r, payload)
		if err != nil {
			return 0, nil, err
		}
		if status == http.StatusUnauthorized && !renewed {
			// INVALID_SESSION_ID (or any 401): the token expired or was
			// revoked. The request was not processed: repeat it once.
			renewed = true
			if _, _, err := c.auth.renew(ctx, gen); err != nil {
				return 0, nil, err
			}
			continue
		}
		if status >= 200 && status < 300 {
			return status, body, nil
		}
		return 0, nil, apiError(r.op, r.object, status, body, c.describedObject)
	}
}

// send makes one HTTP exchange (retried inside retryablehttp) and returns
// the status and body.
func (c *client) send(ctx context.Context, tok *api.Token, r request, payload []byte) (int, []byte, error) {
	if err := c.checkBudget(ctx); err != nil {
		return 0, nil, err
	}
	u := tok.InstanceURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body any
	if payload != nil {
		body = payload
	}
	req, err := retryablehttp.NewRequestWithContext(withRetrySafe(ctx, r.retrySafe), r.method, u, body)
	if err != nil {
		return 0, nil, fmt.Errorf("salesforce %s %s: building the request failed", r.op, r.object)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if payload != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	return c.exchange(ctx, r.op, r.object, req, r.respHeader)
}

// exchange runs req through retryablehttp, counts the attempts, reads the
// limits header and the body.
func (c *client) exchange(ctx context.Context, op, object string, req *retryablehttp.Request, hdr *http.Header) (int, []byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return 0, nil, transportError(ctx, op, object, err)
	}
	defer resp.Body.Close()
	c.noteLimits(resp.Header)
	if hdr != nil {
		*hdr = resp.Header
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, transportError(ctx, op, object, err)
	}
	if len(body) > maxBody {
		return 0, nil, &APIError{Op: op, Object: object, Status: resp.StatusCode, Malformed: true, Message: "response body larger than 64 MiB"}
	}
	return resp.StatusCode, body, nil
}

// transportError strips the URL from err (*url.Error prints it, and a
// query URL carries SOQL literals) and keeps the cause for errors.Is.
func transportError(ctx context.Context, op, object string, err error) error {
	what := strings.TrimSpace("salesforce " + op + " " + object) // the token request names no object
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %s request failed: %w", what, strings.ToUpper(ue.Op), stripURLs(ue.Err))
	}
	return fmt.Errorf("%s: %w", what, stripURLs(err))
}

// stripURLs removes any *url.Error layer still inside err.
func stripURLs(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return err
		}
		err = ue.Err
	}
}

// postSOAP posts a SOAP envelope (login(), safe to re-send).
func (c *client) postSOAP(ctx context.Context, endpoint string, body []byte) (int, []byte, error) {
	req, err := retryablehttp.NewRequestWithContext(withRetrySafe(ctx, true), http.MethodPost, endpoint, body)
	if err != nil {
		return 0, nil, errors.New("building the login request failed")
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	return c.exchange(ctx, "login", "", req, nil)
}

// postForm posts a form to the token endpoint (safe to re-send).
func (c *client) postForm(ctx context.Context, endpoint string, form url.Values) (int, []byte, error) {
	req, err := retryablehttp.NewRequestWithContext(withRetrySafe(ctx, true), http.MethodPost, endpoint, []byte(form.Encode()))
	if err != nil {
		return 0, nil, errors.New("building the token request failed")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	status, body, err := c.exchange(ctx, "token", "", req, nil)
	return status, body, err
}

// sanitizeCode keeps an error code only if it looks like one (upper-case
// letters and underscores).
func sanitizeCode(code string) string {
	if len(code) > 80 {
		return "UNRECOGNISED_CODE"
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r == '_' || r >= '0' && r <= '9') {
			return "UNRECOGNISED_CODE"
		}
	}
	return code
}

// describeBody says what an unusable body looked like, without quoting it.
func describeBody(body []byte) string {
	t := bytes.TrimSpace(body)
	switch {
	case len(t) == 0:
		return "empty body"
	case bytes.Equal(t, []byte("null")):
		return "error body is null"
	case bytes.Equal(t, []byte("[]")):
		return "error body is an empty array"
	case t[0] == '<':
		return "an HTML or XML page instead of JSON"
	case t[0] == '[' || t[0] == '{':
		if err := api.Decode(t, new(any)); err != nil {
			return "unusable JSON (" + err.Error() + ")"
		}
		return "JSON without an errorCode"
	}
	return "a body that is not JSON"
}

// lastServerTime returns the latest server time a response carried, zero
// before the first.
func (c *client) lastServerTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serverTime
}
