package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// FindIDs returns the Ids of the records of object whose field equals
// value (compared as SOQL compares: case-insensitively for text), at most
// limit of them (a caller that wants "exactly one" asks for two). It costs
// one query call. The value is escaped as a SOQL literal and never appears
// in an error.
func (c *Connector) FindIDs(ctx context.Context, object, field, value string, limit int) ([]string, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	f := o.Field(field)
	if f == nil {
		return nil, fmt.Errorf("find %s.%s: no such field", object, field)
	}
	if limit <= 0 {
		limit = 2
	}
	soql, err := selectSOQL([]string{"Id"}, o.Name, f.Name+" = "+Quote(value), "")
	if err != nil {
		return nil, err
	}
	soql += fmt.Sprintf(" LIMIT %d", limit)
	var ids []string
	err = c.query(ctx, "find", o.Name, soql, false, func(raw map[string]any) error {
		if id, ok := raw["Id"].(string); ok {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// maxFindIn is the most values one FindIDsIn statement lists; the URL
// length limit (maxQueryURL) usually ends a chunk first.
const maxFindIn = 500

// FindIDsIn finds the records of object whose field equals any of values:
// for each value, the Ids of the records that hold it (none for a value no
// record holds). It costs one query call per chunk of values, "SELECT Id,
// field FROM object WHERE field IN (...)", each chunk kept under the URL
// length limit (SOQL allows 100,000 characters, a request URI far less).
// Values are escaped as SOQL literals and never appear in an error.
//
// A record matches a value as SOQL's IN matches it, case-insensitively for
// text: the records returned are grouped by their field's value folded to
// lower case, so "P01" and "p01" both get the Ids of a record holding
// "p01". Unlike FindIDs there is no per-value limit: a value many records
// share returns all their Ids.
func (c *Connector) FindIDsIn(ctx context.Context, object, field string, values []string) (map[string][]string, error) {
	return c.findIDsIn(ctx, object, field, values, false)
}

// FindIDsInBody is FindIDsIn for values that must not travel in a URL (a
// classified field's: proxies and load balancers log request URLs). The
// statements go in the body of Composite requests (POST /composite, up to
// five query subrequests each, one API call); a further page is fetched
// by its nextRecordsUrl, which holds a query locator and no value. It
// costs one call per five chunks of values, and one per further page.
func (c *Connector) FindIDsInBody(ctx context.Context, object, field string, values []string) (map[string][]string, error) {
	return c.findIDsIn(ctx, object, field, values, true)
}

func (c *Connector) findIDsIn(ctx context.Context, object, field string, values []string, inBody bool) (map[string][]string, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	f := o.Field(field)
	if f == nil {
		return nil, fmt.Errorf("find %s.%s: no such field", object, field)
	}
	// The values asked for, by folded form; duplicates are asked once.
	asked := map[string][]string{}
	var list []string
	out := make(map[string][]string, len(values))
	for _, v := range values {
		if _, dup := out[v]; dup {
			continue
		}
		out[v] = nil
		k := strings.ToLower(v)
		if len(asked[k]) == 0 {
			list = append(list, v)
		}
		asked[k] = append(asked[k], v)
	}
	if len(list) == 0 {
		return out, nil
	}
	fields := []string{"Id"}
	if !strings.EqualFold(f.Name, "Id") {
		fields = append(fields, f.Name)
	}
	base, err := selectSOQL(fields, o.Name, f.Name+" IN ()", "")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	found := func(raw map[string]any) error {
		id, _ := raw["Id"].(string)
		if id == "" || seen[id] {
			return nil
		}
		seen[id] = true
		held := id
		if len(fields) > 1 {
			held = fmt.Sprint(raw[fieldKey(raw, f.Name)])
		}
		for _, v := range asked[strings.ToLower(held)] {
			out[v] = append(out[v], id)
		}
		return nil
	}
	var soqls []string
	for _, in := range inChunks(base, list, maxFindIn) {
		soql, _ := selectSOQL(fields, o.Name, f.Name+" IN ("+in+")", "")
		soqls = append(soqls, soql)
	}
	if inBody {
		if err := c.queryInBody(ctx, "find", o.Name, soqls, found); err != nil {
			return nil, err
		}
		return out, nil
	}
	for _, soql := range soqls {
		if err := c.query(ctx, "find", o.Name, soql, false, found); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxQuerySubrequests is the most query subrequests one Composite request
// may hold (of its 25 subrequests, at most five are queries or sObject
// Collections).
const maxQuerySubrequests = 5

// querySubrequest is a Composite subrequest running a SOQL query.
type querySubrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// queryInBody runs statements without putting them in a request URL:
// each is a GET query subrequest of a Composite request (the statement
// travels in the JSON body of a POST), at most five per call, and fn
// hears of every record of every page. A further page is fetched by its
// nextRecordsUrl (a query locator, no statement); a locator that expired
// runs the statement again the same way, passing over the records fn has
// heard of. A statement's failure is reported as a query's would be.
func (c *Connector) queryInBody(ctx context.Context, op, object string, soqls []string, fn func(map[string]any) error) error {
	for group := range slices.Chunk(soqls, maxQuerySubrequests) {
		pages, err := c.compositeQueries(ctx, op, object, group)
		if err != nil {
			return err
		}
		for i, page := range pages {
			if err := c.followPages(ctx, op, object, group[i], page, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// compositeQueries runs up to five statements as the query subrequests of
// one Composite request (allOrNone false: GETs change nothing, and the
// call is safe to send again) and returns each statement's first page.
func (c *Connector) compositeQueries(ctx context.Context, op, object string, soqls []string) ([]api.QueryResult, error) {
	subs := make([]querySubrequest, len(soqls))
	for i, soql := range soqls {
		subs[i] = querySubrequest{Method: http.MethodGet, URL: c.cl.dataPath("query") + "?q=" + url.QueryEscape(soql), ReferenceID: "query" + strconv.Itoa(i),
			HTTPHeaders: map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(c.cl.batch)}}
	}
	var resp struct {
		CompositeResponse []compositeResult `json:"compositeResponse"`
	}
	body := map[string]any{"allOrNone": false, "compositeRequest": subs}
	if err := c.cl.do(ctx, request{op: op, object: object, method: http.MethodPost, path: c.cl.dataPath("composite"), body: body, retrySafe: true}, &resp); err != nil {
		return nil, err
	}
	results := map[string]compositeResult{}
	for _, r := range resp.CompositeResponse {
		results[r.ReferenceID] = r
	}
	pages := make([]api.QueryResult, len(soqls))
	for i := range soqls {
		r, ok := results[subs[i].ReferenceID]
		switch {
		case !ok:
			return nil, &APIError{Op: op, Object: object, Status: 200, Malformed: true, Message: "composite response without a query subrequest's result"}
		case r.HTTPStatusCode < 200 || r.HTTPStatusCode > 299:
			return nil, apiError(op, object, r.HTTPStatusCode, r.Body, c.describedObject)
		}
		if err := api.Decode(r.Body, &pages[i]); err != nil {
			return nil, &APIError{Op: op, Object: object, Status: r.HTTPStatusCode, Malformed: true, Message: "query result: " + err.Error()}
		}
	}
	return pages, nil
}

// followPages passes page's records to fn and fetches the pages after it
// by their nextRecordsUrl. A locator that expired runs soql again (in a
// body) once, passing over the Ids fn has heard of.
func (c *Connector) followPages(ctx context.Context, op, object, soql string, page api.QueryResult, fn func(map[string]any) error) error {
	var passed map[string]bool // kept once a statement has more than one page
	restarted := false
	for {
		if passed == nil && !page.Done {
			passed = map[string]bool{}
		}
		for _, rec := range page.Records {
			if err := ctx.Err(); err != nil {
				return err
			}
			id, _ := rec["Id"].(string)
			if passed != nil && id != "" {
				if passed[id] {
					continue
				}
				passed[id] = true
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		if page.Done {
			return nil
		}
		next := page.NextRecordsURL
		if !strings.HasPrefix(next, "/services/data/") || strings.ContainsAny(next, "?#") {
			return &APIError{Op: op, Object: object, Status: 200, Malformed: true, Message: "query page not done and without a usable nextRecordsUrl"}
		}
		page = api.QueryResult{}
		err := c.cl.do(ctx, request{op: op, object: object, method: http.MethodGet, path: next, retrySafe: true}, &page)
		if err != nil && !restarted && isExpiredLocator(err) {
			restarted = true
			pages, rerr := c.compositeQueries(ctx, op, object, []string{soql})
			if rerr != nil {
				return rerr
			}
			page, err = pages[0], nil
		}
		if err != nil {
			return err
		}
	}
}

// fieldKey returns the key under which a query record holds field: its
// API name as the describe spells it, or as the record spells it if the
// case differs.
func fieldKey(raw map[string]any, field string) string {
	if _, ok := raw[field]; ok {
		return field
	}
	for k := range raw {
		if strings.EqualFold(k, field) {
			return k
		}
	}
	return field
}

// FindValuesIn returns, for each of ids, the value field holds on the
// record of object with that Id: the other way of a lookup, turning the
// Id a reference holds back into the referenced field's value. It costs
// one query call per chunk of Ids, "SELECT Id, field FROM object WHERE Id
// IN (...)", chunked as FindIDsIn's values are. The map is keyed by the
// Id as asked (15 or 18 characters: an Id's first 15 name its record); an
// Id of no record the user can see (deleted, or not an Id at all) is
// missing from it, and a record whose field is empty maps to "". Ids are
// escaped as SOQL literals; values never appear in an error.
func (c *Connector) FindValuesIn(ctx context.Context, object, field string, ids []string) (map[string]string, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	f := o.Field(field)
	if f == nil {
		return nil, fmt.Errorf("find %s.%s: no such field", object, field)
	}
	asked := map[string][]string{} // an Id's first 15 characters -> the Ids asked
	var list []string
	for _, id := range ids {
		if !isSalesforceID(id) {
			continue
		}
		k := id[:15]
		if slices.Contains(asked[k], id) {
			continue
		}
		if len(asked[k]) == 0 {
			list = append(list, id)
		}
		asked[k] = append(asked[k], id)
	}
	out := make(map[string]string, len(list))
	if len(list) == 0 {
		return out, nil
	}
	fields := []string{"Id"}
	if !strings.EqualFold(f.Name, "Id") {
		fields = append(fields, f.Name)
	}
	base, err := selectSOQL(fields, o.Name, "Id IN ()", "")
	if err != nil {
		return nil, err
	}
	for _, in := range inChunks(base, list, maxFindIn) {
		soql, _ := selectSOQL(fields, o.Name, "Id IN ("+in+")", "")
		err := c.query(ctx, "find", o.Name, soql, false, func(raw map[string]any) error {
			id, _ := raw["Id"].(string)
			if len(id) < 15 {
				return nil
			}
			held := id
			if len(fields) > 1 {
				v, err := decodeValue(f, raw[fieldKey(raw, f.Name)])
				if err != nil {
					return fmt.Errorf("find %s.%s: %w", o.Name, f.Name, err)
				}
				held = ""
				if !v.IsNull() {
					held = v.Raw()
					if s, ok := v.Text(); ok {
						held = s
					}
				}
			}
			for _, a := range asked[id[:15]] {
				out[a] = held
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
