package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Bulk API 2.0 query, for complete reads of large objects (more than
// Options.BulkQueryThreshold records): one job, polled until complete, its
// CSV results read page by page with Sforce-Locator. Bulk query takes no
// ORDER BY (it would disable PK chunking); the cursor code does not need
// order.

// bulkQueryPageSize is maxRecords per results page.
const bulkQueryPageSize = 50000

// countRecords runs SELECT COUNT() FROM object[ WHERE where] (one call).
func (c *Connector) countRecords(ctx context.Context, o *connector.Object, where string) (int64, error) {
	q := "SELECT COUNT() FROM " + o.Name
	if where != "" {
		q += " WHERE " + where
	}
	var page api.QueryResult
	err := c.cl.do(ctx, request{op: "read", object: o.Name, method: http.MethodGet, path: c.cl.dataPath("query"),
		query: url.Values{"q": {q}}, retrySafe: true}, &page)
	return page.TotalSize, err
}

// bulkQuery runs soql as a Bulk API 2.0 query job and calls fn for each
// row, as a record whose values are strings (null for an empty cell).
// With all, the job is a queryAll: deleted records too, as a change read
// needs them.
func (c *Connector) bulkQuery(ctx context.Context, o *connector.Object, soql string, all bool, fn func(map[string]any) error) error {
	var job api.JobInfo
	operation := "query"
	if all {
		operation = "queryAll"
	}
	// Creating a job is not idempotent: never re-sent.
	err := c.cl.do(ctx, request{op: "read", object: o.Name, method: http.MethodPost, path: c.cl.dataPath("jobs", "query"),
		body: map[string]string{"operation": operation, "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}}, &job)
	if err != nil {
		return err
	}
	if !isSalesforceID(job.ID) {
		return &APIError{Op: "read", Object: o.Name, Status: 200, Malformed: true, Message: "query job without a usable id"}
	}
	if c.opts.OnBulkJob != nil {
		c.opts.OnBulkJob(o.Name, "query", job.ID)
	}
	wait := c.opts.BulkPoll
	for job.State != api.JobComplete {
		if job.State == api.JobFailed || job.State == api.JobAborted {
			return fmt.Errorf("read %s %s: %s", c.name, o.Name, jobError(job))
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("read %s %s: query job %s still %s: %w", c.name, o.Name, job.ID, job.State, err)
		}
		wait = min(wait*2, maxPoll)
		if err := c.cl.do(ctx, request{op: "read", object: o.Name, method: http.MethodGet, path: c.cl.dataPath("jobs", "query", job.ID), retrySafe: true}, &job); err != nil {
			return err
		}
	}
	locator := ""
	for {
		q := url.Values{"maxRecords": {strconv.Itoa(bulkQueryPageSize)}}
		if locator != "" {
			q.Set("locator", locator)
		}
		var hdr http.Header
		_, body, err := c.cl.roundTrip(ctx, request{op: "read", object: o.Name, method: http.MethodGet,
			path: c.cl.dataPath("jobs", "query", job.ID, "results"), query: q, accept: "text/csv", respHeader: &hdr, retrySafe: true})
		if err != nil {
			return err
		}
		if err := csvRecords(body, fn); err != nil {
			if _, ok := err.(*csv.ParseError); ok {
				return &APIError{Op: "read", Object: o.Name, Status: 200, Malformed: true, Message: "query results: unreadable CSV"}
			}
			return err
		}
		locator = hdr.Get("Sforce-Locator")
		if locator == "" || locator == "null" {
			return nil
		}
	}
}

// csvRecords calls fn for each row of a results page (the header row
// comes first on every page).
func csvRecords(body []byte, fn func(map[string]any) error) error {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec := make(map[string]any, len(header))
		for i, col := range header {
			if i < len(row) && row[i] != "" {
				rec[col] = row[i]
			} else {
				rec[col] = nil
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}
