package salesforce

import (
	"context"
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
