package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Limits returns the org's limits (GET /limits); DailyApiRequests holds
// the daily API requests. One API call.
func (c *Connector) Limits(ctx context.Context) (api.Limits, error) {
	var l api.Limits
	if err := c.cl.do(ctx, request{op: "limits", method: http.MethodGet, path: c.cl.dataPath("limits"), retrySafe: true}, &l); err != nil {
		return nil, err
	}
	if d, ok := l["DailyApiRequests"]; ok && d.Max > 0 {
		c.cl.mu.Lock()
		c.cl.used, c.cl.limit = d.Max-d.Remaining, d.Max
		c.cl.mu.Unlock()
	}
	return l, nil
}

// StartRun begins a run and returns the context its requests go with.
// Budgets are per run, so that a daemon is never stopped for good by its
// own counter:
//
//   - a count budget (Options.MaxCalls) counts the calls made with the
//     returned context (and contexts derived from it) from zero; runs
//     going on at the same time each have their own count;
//   - a share budget (Options.Budget) is checked against the org's own
//     figures: StartRun reads them (GET /limits, DailyApiRequests; one
//     call, which the figures held before do not hold back), and every
//     response updates them (Sforce-Limit-Info). A run refused because
//     the org's usage was over the share runs once the usage has fallen.
//
// If /limits cannot be read (a user without the View Setup and
// Configuration permission is refused it), the figures held are forgotten
// and the run's first response brings the org's: the run is checked from
// its second call. A refusal is remembered, and later runs do not ask.
// StartRun fails only when the run cannot go on (the org's daily limit
// reached, authentication failed, ctx done).
//
// Usage().Calls still counts every call of the process: it only grows.
// Calls made with a context StartRun did not return count against the
// count budget over the process's life (a one-shot command is one run).
func (c *Connector) StartRun(ctx context.Context) (context.Context, error) {
	ctx = context.WithValue(ctx, runMeterKey{}, new(runMeter))
	cl := c.cl
	if cl.budget <= 0 {
		return ctx, nil
	}
	cl.mu.Lock()
	ask := !cl.noLimits
	cl.used, cl.limit = 0, 0 // the /limits response's header and body set them
	cl.mu.Unlock()
	if !ask {
		return ctx, nil
	}
	_, err := c.Limits(context.WithValue(ctx, limitsProbeKey{}, true))
	if err == nil || IsStop(err) || ctx.Err() != nil {
		return ctx, err
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
		cl.mu.Lock()
		cl.noLimits = true // a permission the user lacks: not worth a call per run
		cl.mu.Unlock()
	}
	return ctx, nil
}

// Check is the optional connection test: it authenticates (if not done)
// and checks that the org offers the configured API version
// (GET /services/data, which lists them). One call.
func (c *Connector) Check(ctx context.Context) error {
	var versions []api.Version
	if err := c.cl.do(ctx, request{op: "versions", method: http.MethodGet, path: "/services/data", retrySafe: true}, &versions); err != nil {
		return err
	}
	highest := ""
	for _, v := range versions {
		if v.Version == c.opts.APIVersion {
			return nil
		}
		highest = v.Version
	}
	return fmt.Errorf("salesforce: the org does not offer API version %s (highest: %s)", c.opts.APIVersion, highest)
}

// Schema describes the named objects (each from the describe cache when
// already described).
func (c *Connector) Schema(ctx context.Context, objects ...string) (*connector.Schema, error) {
	s := &connector.Schema{}
	for _, name := range objects {
		o, err := c.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		s.Objects = append(s.Objects, o)
	}
	return s, nil
}
