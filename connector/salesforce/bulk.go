package salesforce

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Bulk API 2.0 ingest: used by Upsert and Delete when a call holds more
// than Options.BulkThreshold records. One job per call (per round of
// distinct keys): create (the job id goes to Options.OnBulkJob before any
// data is uploaded), upload one CSV, close, poll until the job ends, then
// read successfulResults, failedResults and unprocessedrecords and give
// each record its Result.

// bulkNull is Bulk API 2.0's CSV marker for "set this field to null"; an
// empty cell leaves the field unchanged.
const bulkNull = "#N/A"

// maxPoll caps the wait between job state checks.
const maxPoll = 30 * time.Second

// bulkRow is one outcome row of a job, keyed by the key column's value (or
// the Id for deletes).
type bulkRow struct {
	id      string
	created bool
	code    string
	fields  []string
	msg     string
}

// bulkOutcome is what a finished job reports.
type bulkOutcome struct {
	job         api.JobInfo
	ok, failed  map[string]bulkRow // by match key
	unprocessed map[string]bool
}

func (c *Connector) jobsPath(parts ...string) string {
	return c.cl.dataPath(append([]string{"jobs", "ingest"}, parts...)...)
}

// csvValue renders one Collections body value as a Bulk CSV cell.
func csvValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return bulkNull, true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// bulkCSV turns Collections bodies into a CSV: the key column first, then
// the other columns sorted; a parent reference {"attributes":...,Ext:key}
// under Rel__r becomes the column Rel__r.Ext. Cells of fields a record
// does not set stay empty (unchanged).
func bulkCSV(keyField string, items []writeItem) ([]byte, error) {
	colSet := map[string]bool{}
	rows := make([]map[string]string, len(items))
	for i, it := range items {
		row := map[string]string{}
		for k, v := range it.body {
			if k == "attributes" {
				continue
			}
			if m, ok := v.(map[string]any); ok {
				for ek, ev := range m {
					if ek == "attributes" {
						continue
					}
					s, ok := csvValue(ev)
					if !ok {
						return nil, fmt.Errorf("column %s.%s: unsupported value", k, ek)
					}
					row[k+"."+ek] = s
				}
				continue
			}
			s, ok := csvValue(v)
			if !ok {
				return nil, fmt.Errorf("column %s: unsupported value", k)
			}
			row[k] = s
		}
		for k := range row {
			colSet[k] = true
		}
		rows[i] = row
	}
	delete(colSet, keyField)
	cols := []string{keyField}
	for k := range colSet {
		cols = append(cols, k)
	}
	slices.Sort(cols[1:])
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(cols); err != nil {
		return nil, err
	}
	rec := make([]string, len(cols))
	for _, row := range rows {
		for i, col := range cols {
			rec[i] = row[col]
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// BulkJob returns the state of a Bulk API 2.0 ingest job, for draining
// jobs that a crashed run left behind (their ids went to OnBulkJob).
func (c *Connector) BulkJob(ctx context.Context, id string) (*api.JobInfo, error) {
	var job api.JobInfo
	if err := c.cl.do(ctx, request{op: "bulk", method: http.MethodGet, path: c.jobsPath(id), retrySafe: true}, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// AbortBulkJob aborts an unfinished Bulk API 2.0 ingest job.
func (c *Connector) AbortBulkJob(ctx context.Context, id string) error {
	return c.cl.do(ctx, request{op: "bulk", method: http.MethodPatch, path: c.jobsPath(id),
		body: map[string]string{"state": api.JobAborted}, retrySafe: true}, nil)
}

// runBulk runs one ingest job over data and collects its outcome. match
// names the uploaded column records are matched by (every results CSV
// repeats the uploaded columns), fold its comparison form.
func (c *Connector) runBulk(ctx context.Context, o *connector.Object, operation, extField string, data []byte, match string, fold func(string) string) (*bulkOutcome, error) {
	var job api.JobInfo
	// Creating a job is not idempotent: never re-sent.
	err := c.cl.do(ctx, request{op: "bulk", object: o.Name, method: http.MethodPost, path: c.jobsPath(),
		body: api.JobRequest{Object: o.Name, Operation: operation, ExternalIDFieldName: extField, ContentType: "CSV", ColumnDelimiter: "COMMA", LineEnding: "LF"}}, &job)
	if err != nil {
		return nil, err
	}
	if !isSalesforceID(job.ID) {
		return nil, &APIError{Op: "bulk", Object: o.Name, Status: 200, Malformed: true, Message: "job without a usable id"}
	}
	if c.opts.OnBulkJob != nil {
		c.opts.OnBulkJob(o.Name, operation, job.ID)
	}
	// Uploading twice would append the rows twice: never re-sent.
	err = c.cl.do(ctx, request{op: "bulk", object: o.Name, method: http.MethodPut, path: c.jobsPath(job.ID, "batches"),
		raw: data, contentType: "text/csv"}, nil)
	if err == nil {
		err = c.cl.do(ctx, request{op: "bulk", object: o.Name, method: http.MethodPatch, path: c.jobsPath(job.ID),
			body: map[string]string{"state": api.JobUploadComplete}, retrySafe: true}, &job)
	}
	if err != nil {
		if !mustStop(ctx, err) {
			_ = c.AbortBulkJob(context.WithoutCancel(ctx), job.ID)
		}
		return nil, err
	}
	wait := c.opts.BulkPoll
	for job.State != api.JobComplete && job.State != api.JobFailed && job.State != api.JobAborted {
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("bulk %s %s: job %s still %s: %w", c.name, o.Name, job.ID, job.State, err)
		}
		wait = min(wait*2, maxPoll)
		got, err := c.BulkJob(ctx, job.ID)
		if err != nil {
			return nil, err
		}
		job = *got
	}
	out := &bulkOutcome{job: job, ok: map[string]bulkRow{}, failed: map[string]bulkRow{}, unprocessed: map[string]bool{}}
	if job.State == api.JobFailed && job.NumberRecordsProcessed == 0 {
		return out, nil // nothing was processed; every record gets the job's error
	}
	for _, part := range []string{"successfulResults", "failedResults", "unprocessedrecords"} {
		if err := c.bulkResults(ctx, o, job.ID, part, match, fold, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bulkResults reads one results CSV of a job into out.
func (c *Connector) bulkResults(ctx context.Context, o *connector.Object, id, part, match string, fold func(string) string, out *bulkOutcome) error {
	_, body, err := c.cl.roundTrip(ctx, request{op: "bulk", object: o.Name, method: http.MethodGet, path: c.jobsPath(id, part), accept: "text/csv", retrySafe: true})
	if err != nil {
		return err
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return &APIError{Op: "bulk", Object: o.Name, Status: 200, Malformed: true, Message: part + ": unreadable CSV"}
	}
	col := func(name string) int { return slices.Index(header, name) }
	mi, idi, createdi, erri := col(match), col("sf__Id"), col("sf__Created"), col("sf__Error")
	if mi < 0 {
		return &APIError{Op: "bulk", Object: o.Name, Status: 200, Malformed: true, Message: part + ": no " + match + " column"}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &APIError{Op: "bulk", Object: o.Name, Status: 200, Malformed: true, Message: part + ": unreadable CSV"}
		}
		cell := func(i int) string {
			if i >= 0 && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		k := fold(cell(mi))
		switch part {
		case "successfulResults":
			out.ok[k] = bulkRow{id: cell(idi), created: strings.EqualFold(cell(createdi), "true")}
		case "failedResults":
			row := parseBulkError(cell(erri))
			row.id = cell(idi)
			out.failed[k] = row
		default:
			out.unprocessed[k] = true
		}
	}
}

// parseBulkError splits a failedResults sf__Error cell,
// "CODE:message:field1,field2 --", into code, fields and message.
func parseBulkError(s string) bulkRow {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "--"))
	code, rest, _ := strings.Cut(s, ":")
	row := bulkRow{code: sanitizeCode(strings.TrimSpace(code))}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		var fields []string
		for _, f := range strings.Split(rest[i+1:], ",") {
			if f = strings.TrimSpace(f); checkName(f) == nil {
				fields = append(fields, f)
			}
		}
		row.fields, row.msg = fields, rest[:i]
	} else {
		row.msg = rest
	}
	return row
}

var safeJobError = regexp.MustCompile(`^InvalidBatch : Field name not found : [A-Za-z0-9_.]+$`)

// jobError is a value-free description of a failed or aborted job.
func jobError(job api.JobInfo) string {
	if job.State == api.JobAborted {
		return "bulk job " + job.ID + " was aborted"
	}
	msg := strings.TrimSpace(job.ErrorMessage)
	if !safeJobError.MatchString(msg) {
		msg = "message withheld"
	}
	return "bulk job " + job.ID + " failed: " + msg
}

// bulkApply gives each item its Result from a job's outcome. matchKey
// returns the key an item is matched by.
func (c *Connector) bulkApply(op string, o *connector.Object, items []writeItem, out *bulkOutcome, matchKey func(writeItem) string, results []connector.Result) {
	for _, it := range items {
		k := matchKey(it)
		if row, ok := out.ok[k]; ok {
			id := row.id
			if id == "" {
				id = it.id
			}
			results[it.idx] = connector.Result{Key: it.key, ID: id, Created: op == "upsert" && row.created}
			continue
		}
		if row, ok := out.failed[k]; ok {
			errs := []api.SaveError{{StatusCode: row.code, Message: row.msg, Fields: row.fields}}
			results[it.idx] = connector.Result{Key: it.key, ID: row.id, Err: c.saveError(op, o, it.key, errs)}
			continue
		}
		detail := "not processed by bulk job " + out.job.ID
		if out.job.State != api.JobComplete {
			detail = jobError(out.job)
		}
		results[it.idx] = connector.Result{Key: it.key, Err: connector.NewRecordError(op, c.name, o.Name, it.key, "", connector.CodeNotProcessed,
			connector.Retryable, &connector.ValueError{Code: connector.CodeNotProcessed, Detail: detail})}
	}
}

// bulkUpsert upserts items with one ingest job.
func (c *Connector) bulkUpsert(ctx context.Context, o *connector.Object, items []writeItem, results []connector.Result) error {
	data, err := bulkCSV(o.Key, items)
	if err != nil {
		return fmt.Errorf("bulk %s %s: %w", c.name, o.Name, err)
	}
	out, err := c.runBulk(ctx, o, "upsert", o.Key, data, o.Key, o.KeyID)
	if err != nil {
		if mustStop(ctx, err) {
			return err
		}
		c.requestFailed("upsert", o, items, results, err)
		return nil
	}
	c.bulkApply("upsert", o, items, out, func(it writeItem) string { return o.KeyID(it.key) }, results)
	return nil
}

// bulkDelete deletes items (their Ids resolved) with one ingest job.
func (c *Connector) bulkDelete(ctx context.Context, o *connector.Object, items []writeItem, results []connector.Result) error {
	var buf bytes.Buffer
	buf.WriteString("Id\n")
	for _, it := range items {
		buf.WriteString(it.id)
		buf.WriteByte('\n')
	}
	out, err := c.runBulk(ctx, o, "delete", "", buf.Bytes(), "Id", func(s string) string { return s })
	if err != nil {
		if mustStop(ctx, err) {
			return err
		}
		c.requestFailed("delete", o, items, results, err)
		return nil
	}
	c.bulkApply("delete", o, items, out, func(it writeItem) string { return it.id }, results)
	return nil
}

// useBulk reports whether n records go through Bulk API 2.0.
func (c *Connector) useBulk(n int) bool { return c.opts.BulkThreshold > 0 && n > c.opts.BulkThreshold }
