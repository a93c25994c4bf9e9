package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// maxCollection is the sObject Collections limit: 200 records per call.
const maxCollection = 200

// encodeValue converts a value for field f into its JSON form for a write,
// canonicalising it first and checking the field's limits so that a value
// Salesforce would reject (with a message that echoes it) fails here, by
// code and field only.
func encodeValue(f *connector.Field, v connector.Value) (any, error) {
	cv, err := connector.Canonicalize(v, f)
	if err != nil {
		return nil, err
	}
	if err := connector.Check(cv, f); err != nil {
		return nil, err
	}
	switch cv.Kind() {
	case connector.KindNull:
		return nil, nil
	case connector.KindText:
		s, _ := cv.Text()
		return s, nil
	case connector.KindNumber:
		d, _ := cv.Number()
		return json.Number(d.String()), nil
	case connector.KindBool:
		b, _ := cv.Bool()
		return b, nil
	case connector.KindDate:
		d, _ := cv.Date()
		return d.String(), nil
	case connector.KindDateTime:
		t, _ := cv.DateTime()
		return t.UTC().Format(api.WriteTimeLayout), nil
	case connector.KindMulti:
		m, _ := cv.Multi()
		return strings.Join(m, ";"), nil
	}
	return nil, &connector.ValueError{Code: connector.CodeInvalidValue, Detail: "unsupported value kind"}
}

// writeItem is one record on its way to Salesforce.
type writeItem struct {
	idx    int    // index into the caller's slice
	key    string // normalised key
	id     string // Salesforce Id (delete)
	body   map[string]any
	parent string // value of the master-detail field, to group children
}

// encodeRecord builds the Collections body of one record, or the
// *RecordError of its first bad field (by name).
//
// A field named "<Relationship>.<ExternalIdField>" (vcms__Case__r.vcms__External_Key__c)
// sets a reference by the parent's external id, as Salesforce resolves it
// on save: no Id lookup call is needed.
func (c *Connector) encodeRecord(ctx context.Context, o *connector.Object, key string, fields map[string]connector.Value) (map[string]any, error) {
	body := map[string]any{"attributes": api.Attributes{Type: o.Name}}
	if o.Key != ByParent {
		body[o.Key] = key // an object keyed by its parent has no key field
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		f := o.Field(name)
		if f == nil && strings.Contains(name, ".") {
			rel, ref, err := c.parentRef(ctx, o, key, name, fields[name])
			if err != nil {
				return nil, err
			}
			body[rel] = ref
			continue
		}
		if f == nil {
			return nil, connector.NewRecordError("upsert", c.name, o.Name, key, name, connector.CodeUnknownField, connector.Permanent,
				&connector.ValueError{Code: connector.CodeUnknownField, Detail: "no such field on " + o.Name})
		}
		if f.Name == o.Key {
			continue // the key is the record's Key
		}
		if !f.Createable && !f.Updateable {
			return nil, connector.NewRecordError("upsert", c.name, o.Name, key, f.Name, connector.CodeNotWritable, connector.Permanent,
				&connector.ValueError{Code: connector.CodeNotWritable, Detail: "field is not writable"})
		}
		v, err := encodeValue(f, fields[name])
		if err != nil {
			return nil, connector.NewRecordError("upsert", c.name, o.Name, key, f.Name, "", connector.Permanent, err)
		}
		body[f.Name] = v
	}
	return body, nil
}

// parentRef encodes a "<Relationship>.<ExternalIdField>" field: the
// relationship's name and {"attributes":{"type":Parent}, ExtField: key}, or
// null to clear the reference.
func (c *Connector) parentRef(ctx context.Context, o *connector.Object, key, name string, v connector.Value) (string, any, error) {
	fail := func(code connector.Code, detail string) (string, any, error) {
		return "", nil, connector.NewRecordError("upsert", c.name, o.Name, key, name, code, connector.Permanent,
			&connector.ValueError{Code: code, Detail: detail})
	}
	relName, extName, _ := strings.Cut(name, ".")
	var ref *connector.Field
	for i := range o.Fields {
		if o.Fields[i].Type == connector.TypeReference && strings.EqualFold(o.Fields[i].Relationship, relName) {
			ref = &o.Fields[i]
		}
	}
	if ref == nil || len(ref.ReferenceTo) != 1 {
		return fail(connector.CodeUnknownField, "no such relationship on "+o.Name+" (or it is polymorphic)")
	}
	if !ref.Createable && !ref.Updateable {
		return fail(connector.CodeNotWritable, "reference field is not writable")
	}
	parent, err := c.describe(ctx, ref.ReferenceTo[0])
	if err != nil {
		if mustStop(ctx, err) {
			return "", nil, err
		}
		return "", nil, connector.NewRecordError("upsert", c.name, o.Name, key, name, connector.CodeRequestRejected, connector.ClassOf(err), err)
	}
	pf := parent.Field(extName)
	if pf == nil || !pf.ExternalID {
		return fail(connector.CodeUnknownField, "not an external id field of "+parent.Name)
	}
	if v.IsNull() {
		return ref.Name, nil, nil
	}
	s, ok := v.Text()
	if !ok {
		return fail(connector.CodeInvalidValue, "a parent key must be text")
	}
	if s = connector.NormalizeKey(s); s == "" {
		return ref.Name, nil, nil
	}
	return ref.Relationship, map[string]any{"attributes": api.Attributes{Type: parent.Name}, pf.Name: s}, nil
}

// masterField returns the first required reference field (a master-detail
// relationship), or "".
func masterField(o *connector.Object) string {
	for _, f := range o.Fields {
		if f.Type == connector.TypeReference && !f.Nillable && f.Createable && f.Name != "OwnerId" {
			return f.Name
		}
	}
	return ""
}

// parentKey returns what identifies the master record of r: the master
// field's Id, or the parent's key when set by relationship.
func parentKey(r connector.Record, o *connector.Object, master string) string {
	if v, ok := r.Fields[master]; ok {
		return v.Raw()
	}
	if rel := o.Field(master).Relationship; rel != "" {
		for name, v := range r.Fields {
			if before, _, ok := strings.Cut(name, "."); ok && strings.EqualFold(before, rel) {
				return v.Raw()
			}
		}
	}
	return ""
}

// saveError converts Salesforce's per-record error into a *RecordError with
// its code and fields and a value-free message.
func (c *Connector) saveError(op string, o *connector.Object, key string, errs []api.SaveError) *connector.RecordError {
	if len(errs) == 0 {
		return connector.NewRecordError(op, c.name, o.Name, key, "", connector.CodeRequestRejected, connector.Permanent,
			&connector.ValueError{Code: connector.CodeRequestRejected, Detail: "failed without an error entry"})
	}
	e := errs[0]
	code := sanitizeCode(e.StatusCode)
	fields := knownFields(o, e.Fields) // names the describe knows, nothing else
	field := ""
	if len(fields) > 0 {
		field = fields[0]
	}
	detail := SafeMessage(code, e.Message)
	if len(fields) > 1 {
		detail += " (fields " + strings.Join(fields, ", ") + ")"
	}
	var err error = &connector.ValueError{Code: connector.Code(code), Detail: detail}
	if code == "ENTITY_IS_DELETED" && op == "delete" {
		return connector.NewRecordError(op, c.name, o.Name, key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
	}
	return connector.NewRecordError(op, c.name, o.Name, key, field, connector.Code(code), classOf(code), err)
}

// requestFailed gives every record of a failed request the request's error.
func (c *Connector) requestFailed(op string, o *connector.Object, items []writeItem, results []connector.Result, err error) {
	code := connector.CodeRequestRejected
	class := connector.Permanent
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Code != "" {
			code = connector.Code(ae.Code)
		}
		if ae.Temporary() || ae.Malformed {
			class = connector.Retryable
		}
	} else {
		class = connector.Retryable // transport error: outcome unknown, upserts are idempotent
	}
	for _, it := range items {
		results[it.idx].Err = connector.NewRecordError(op, c.name, o.Name, it.key, "", code, class, err)
	}
}

// unavailable reports a request the org did not answer, after the
// client's retries: a 5xx or SERVER_UNAVAILABLE, a rate limit that is not
// the daily one, or a transport error (the outcome of an upsert by key is
// then unknown, and sending it again next run is safe).
func unavailable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Temporary() && ae.Code != "UNABLE_TO_LOCK_ROW"
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// mustStop reports errors that end the whole call: stops, cancellation.
func mustStop(ctx context.Context, err error) bool {
	return IsStop(err) || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// runBatches sends batches concurrently (bounded by Options.Concurrency).
// The first stop error cancels the rest and is returned.
//
// Once a batch must stop the run (the budget, the org's limit, an outage,
// a cancelled context: a stop error), no further batch is sent; batches in
// flight finish and keep their results, so that what the org received is
// known. Each record of a batch not sent (or whose send stopped) gets, in
// results, a NOT_PROCESSED error wrapping the stop error, and runBatches
// returns the first stop error. Any other error from send is returned.
func (c *Connector) runBatches(ctx context.Context, op string, o *connector.Object, results []connector.Result, batches [][]writeItem, send func(context.Context, []writeItem) error) error {
	var mu sync.Mutex
	var stop error
	stopped := func() error {
		mu.Lock()
		defer mu.Unlock()
		if stop == nil && ctx.Err() != nil {
			stop = ctx.Err()
		}
		return stop
	}
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for _, b := range batches {
		g.Go(func() error {
			if stopped() == nil {
				err := send(ctx, b)
				if err == nil {
					return nil
				}
				if !mustStop(ctx, err) && !errors.Is(err, connector.ErrStop) {
					return err
				}
				var at *stopAt
				if errors.As(err, &at) {
					// Sent in part (records that hit a lock wait to be
					// re-sent): only those not written are held.
					b, err = at.pending, at.err
				}
				mu.Lock()
				if stop == nil {
					stop = err
				}
				mu.Unlock()
			}
			c.notSent(op, o, b, results, stopped())
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return stopped()
}

// stopAt is a stop error of a batch sent in part: pending were not
// written (the rest of the batch was, its results set).
type stopAt struct {
	err     error
	pending []writeItem
}

func (e *stopAt) Error() string { return e.err.Error() }
func (e *stopAt) Unwrap() error { return e.err }

// notSent fails the records of items with NOT_PROCESSED wrapping the stop
// error that kept them from being sent: pending, not failed.
func (c *Connector) notSent(op string, o *connector.Object, items []writeItem, results []connector.Result, stop error) {
	for _, it := range items {
		results[it.idx] = connector.Result{Key: it.key, ID: it.id, Err: connector.NewRecordError(op, c.name, o.Name, it.key, "", connector.CodeNotProcessed, connector.Retryable,
			fmt.Errorf("not sent: %w", stop))}
	}
}

// chunk splits items into batches of at most n.
func chunk(items []writeItem, n int) [][]writeItem {
	var out [][]writeItem
	for len(items) > n {
		out = append(out, items[:n])
		items = items[n:]
	}
	if len(items) > 0 {
		out = append(out, items)
	}
	return out
}

// Upsert implements connector.Sink with sObject Collections upsert by the
// key field (an external id): PATCH /composite/sobjects/{Obj}/{Key},
// up to 200 records per call, allOrNone false, batches concurrently.
// Records whose first error is UNABLE_TO_LOCK_ROW are re-sent, alone, up to
// Options.LockRetries times. Fields are checked against describe before
// sending, so an unknown field fails its record instead of the request.
func (c *Connector) Upsert(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	if kp, err := c.pathOf(o); err != nil {
		return nil, err
	} else if kp != nil {
		return c.upsertByParent(ctx, o, kp, records)
	}
	kf := o.KeyField()
	if kf == nil || !kf.ExternalID {
		return nil, fmt.Errorf("upsert %s %s: key field %s is not an external id field: %w", c.name, o.Name, o.Key, connector.ErrReadOnly)
	}
	results := make([]connector.Result, len(records))
	master := masterField(o)
	// Rounds: a key given twice goes to a later round, so one request never
	// holds the same external id twice.
	var rounds [][]writeItem
	roundOf := map[string]int{}
	for i, r := range records {
		key, body, recErr, stop := c.upsertPrep(ctx, o, r, nil)
		results[i].Key, results[i].Err = key, recErr
		if stop != nil {
			return nil, stop
		}
		if recErr != nil {
			continue
		}
		it := writeItem{idx: i, key: key, body: body}
		if master != "" {
			it.parent = parentKey(r, o, master)
		}
		rounds = inRound(rounds, roundOf, o.KeyID(key), it)
	}
	path := c.cl.dataPath("composite", "sobjects", o.Name, o.Key)
	var stop error
	for _, round := range rounds {
		if stop != nil {
			c.notSent("upsert", o, round, results, stop)
			continue
		}
		// Children of one parent travel together, so concurrent batches
		// do not fight over the parent's lock.
		sort.SliceStable(round, func(i, j int) bool { return round[i].parent < round[j].parent })
		if c.useBulk(len(round)) {
			if err := c.bulkUpsert(ctx, o, round, results); err != nil {
				if !stops(ctx, err) {
					return nil, err
				}
				stop = err
				c.notSent("upsert", o, round, results, err)
			}
			continue
		}
		err := c.runBatches(ctx, "upsert", o, results, chunk(round, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
			return c.upsertBatch(ctx, o, path, batch, results)
		})
		if err != nil {
			if !stops(ctx, err) {
				return nil, err
			}
			stop = err
		}
	}
	if stop != nil {
		// Partial results: what was sent, and NOT_PROCESSED for the rest.
		return results, stop
	}
	return results, nil
}

// stops reports whether err stops the run (see runBatches), as opposed to
// an error of the call alone.
func stops(ctx context.Context, err error) bool {
	return mustStop(ctx, err) || errors.Is(err, connector.ErrStop)
}

// upsertBatch sends one Collections upsert and re-sends the records that
// hit UNABLE_TO_LOCK_ROW.
func (c *Connector) upsertBatch(ctx context.Context, o *connector.Object, path string, pending []writeItem, results []connector.Result) error {
	return c.sendBatch(ctx, "upsert", o, pending, results,
		func(pending []writeItem, res *[]api.SaveResult) error {
			req := api.CollectionRequest{AllOrNone: false, Records: make([]map[string]any, len(pending))}
			for i, it := range pending {
				req.Records[i] = it.body
			}
			// Upsert by external id is idempotent: safe to re-send.
			return c.cl.do(ctx, request{op: "upsert", object: o.Name, method: http.MethodPatch, path: path, body: req, retrySafe: true}, res)
		},
		func(it writeItem, sr api.SaveResult) connector.Result {
			return connector.Result{Key: it.key, ID: sr.ID, Created: sr.Created != nil && *sr.Created}
		})
}

// sendBatch sends one Collections call for pending (send), sets each
// record's result (ok builds a success), and re-sends the records that hit
// UNABLE_TO_LOCK_ROW, up to LockRetries times with a doubling wait. A
// request that fails as a whole fails its records, unless the run must
// stop (budget, limit, cancellation), which is returned.
func (c *Connector) sendBatch(ctx context.Context, op string, o *connector.Object, pending []writeItem, results []connector.Result,
	send func([]writeItem, *[]api.SaveResult) error, ok func(writeItem, api.SaveResult) connector.Result) error {
	for attempt := 0; ; attempt++ {
		var res []api.SaveResult
		if err := send(pending, &res); err != nil {
			if mustStop(ctx, err) {
				return &stopAt{err: err, pending: pending}
			}
			if unavailable(err) {
				// The org did not answer (after the client's retries):
				// the run stops here and the writes wait for the next
				// one, rather than every record failing alone.
				return &stopAt{err: &OutageError{Err: err}, pending: pending}
			}
			c.requestFailed(op, o, pending, results, err)
			return nil
		}
		if len(res) != len(pending) {
			c.requestFailed(op, o, pending, results, &APIError{Op: op, Object: o.Name, Status: 200, Malformed: true,
				Message: fmt.Sprintf("%d results for %d records", len(res), len(pending))})
			return nil
		}
		var locked []writeItem
		for j, sr := range res {
			it := pending[j]
			if sr.Success {
				results[it.idx] = ok(it, sr)
				continue
			}
			if len(sr.Errors) > 0 && sr.Errors[0].StatusCode == "UNABLE_TO_LOCK_ROW" && attempt < c.opts.LockRetries {
				locked = append(locked, it)
				continue
			}
			r := ok(it, sr)
			r.Created = false
			r.Err = c.saveError(op, o, it.key, sr.Errors)
			results[it.idx] = r
		}
		if len(locked) == 0 {
			return nil
		}
		if err := sleep(ctx, c.opts.LockWait<<attempt); err != nil {
			return &stopAt{err: err, pending: locked}
		}
		pending = locked
	}
}

// Delete implements connector.Sink: keys are resolved to Ids with a query
// (chunked), then DELETE /composite/sobjects?ids=...&allOrNone=false, 200
// Ids per call, batches concurrently. A key with no record, or a record
// deleted meanwhile (ENTITY_IS_DELETED), gets connector.ErrNotFound.
func (c *Connector) Delete(ctx context.Context, object string, keys []string) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	if kp, err := c.pathOf(o); err != nil {
		return nil, err
	} else if kp != nil {
		return c.deleteByParent(ctx, o, kp, keys)
	}
	results := make([]connector.Result, len(keys))
	uniq := uniqueKeys(o, keys)
	ids, err := c.resolveIDs(ctx, o, uniq)
	if err != nil {
		return nil, err
	}
	first := map[string]int{} // KeyID -> index of the first occurrence
	var items []writeItem
	var dups []int
	for i, k := range keys {
		key := connector.NormalizeKey(k)
		results[i].Key = key
		if key != "" {
			if err := c.keyErr("delete", o, key, ""); err != nil {
				results[i].Err = err // never in a query: it fails alone
				continue
			}
		}
		kid := o.KeyID(key)
		id, ok := ids[kid]
		if key == "" || !ok {
			results[i].Err = connector.NewRecordError("delete", c.name, o.Name, key, "", connector.CodeNotFound, connector.Permanent, connector.ErrNotFound)
			continue
		}
		if _, seen := first[kid]; seen {
			dups = append(dups, i)
			continue
		}
		first[kid] = i
		items = append(items, writeItem{idx: i, key: key, id: id})
	}
	path := c.cl.dataPath("composite", "sobjects")
	if c.useBulk(len(items)) {
		if err = c.bulkDelete(ctx, o, items, results); err != nil && stops(ctx, err) {
			c.notSent("delete", o, items, results, err)
		}
	} else {
		err = c.runBatches(ctx, "delete", o, results, chunk(items, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
			return c.deleteBatch(ctx, o, path, batch, results)
		})
	}
	if err != nil && !stops(ctx, err) {
		return nil, err
	}
	for _, i := range dups {
		r := results[first[o.KeyID(results[i].Key)]]
		r.Key = results[i].Key
		results[i] = r
	}
	return results, err // err: a stop, with partial results
}

// deleteBatch sends one Collections delete and re-sends the records that
// hit UNABLE_TO_LOCK_ROW.
func (c *Connector) deleteBatch(ctx context.Context, o *connector.Object, path string, pending []writeItem, results []connector.Result) error {
	return c.sendBatch(ctx, "delete", o, pending, results,
		func(pending []writeItem, res *[]api.SaveResult) error {
			ids := make([]string, len(pending))
			for i, it := range pending {
				ids[i] = it.id
			}
			q := url.Values{"ids": {strings.Join(ids, ",")}, "allOrNone": {"false"}}
			return c.cl.do(ctx, request{op: "delete", object: o.Name, method: http.MethodDelete, path: path, query: q, retrySafe: true}, res)
		},
		func(it writeItem, _ api.SaveResult) connector.Result {
			return connector.Result{Key: it.key, ID: it.id}
		})
}

// SetKeys sets the key field of records identified by their Salesforce Id:
// each record's ID names the record and Key is its new key (in NormalizeKey
// form). It is how a case created locally in a table whose key the database
// generates takes that key (doc/architecture.md §5.11): an upsert by external id cannot
// set the key of a record whose key is not yet the one to keep. It sends
// PATCH /composite/sobjects (update by Id), 200 records per call, allOrNone
// false; setting a key a record already has is a no-op, so it is safe to
// repeat. Results are one per record, in order, with Key the new key and
// ID the Id; a record without an Id or a key fails alone.
func (c *Connector) SetKeys(ctx context.Context, object string, records []connector.Record) ([]connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	kf := o.KeyField()
	if kf == nil || !kf.Updateable {
		return nil, fmt.Errorf("set keys %s %s: key field %s is not updateable: %w", c.name, o.Name, o.Key, connector.ErrReadOnly)
	}
	results := make([]connector.Result, len(records))
	var items []writeItem
	for i, r := range records {
		key := connector.NormalizeKey(r.Key)
		results[i] = connector.Result{Key: key, ID: r.ID}
		if key == "" || !isSalesforceID(r.ID) {
			results[i].Err = connector.NewRecordError("set_keys", c.name, o.Name, key, o.Key, connector.CodeInvalidKey, connector.Permanent,
				&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "a key and a Salesforce Id are needed"})
			continue
		}
		if err := c.keyErr("set_keys", o, key, r.ID); err != nil {
			results[i].Err = err // never in a request: it fails alone
			continue
		}
		if err := connector.Check(connector.Text(key), kf); err != nil {
			results[i].Err = connector.NewRecordError("set_keys", c.name, o.Name, key, o.Key, "", connector.Permanent, err)
			continue
		}
		items = append(items, writeItem{idx: i, key: key, id: r.ID, body: map[string]any{"attributes": api.Attributes{Type: o.Name}, "Id": r.ID, o.Key: key}})
	}
	path := c.cl.dataPath("composite", "sobjects")
	err = c.runBatches(ctx, "set_keys", o, results, chunk(items, c.opts.BatchSize), func(ctx context.Context, batch []writeItem) error {
		return c.sendBatch(ctx, "set_keys", o, batch, results,
			func(pending []writeItem, res *[]api.SaveResult) error {
				req := api.CollectionRequest{AllOrNone: false, Records: make([]map[string]any, len(pending))}
				for i, it := range pending {
					req.Records[i] = it.body
				}
				// Setting a field to a fixed value by Id is idempotent: safe to re-send.
				return c.cl.do(ctx, request{op: "set_keys", object: o.Name, method: http.MethodPatch, path: path, body: req, retrySafe: true}, res)
			},
			func(it writeItem, _ api.SaveResult) connector.Result {
				return connector.Result{Key: it.key, ID: it.id}
			})
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// upsertPrep checks and encodes record r of an upsert into o before any
// request (Upsert, upsertByParent): its normalised key and body, or the
// record's own error (an empty or impossible key, a value that does not
// fit: it fails alone, never in a request); check, when set, adds a check
// of the key. stop ends the whole call (the context is done).
func (c *Connector) upsertPrep(ctx context.Context, o *connector.Object, r connector.Record, check func(key string) error) (key string, body map[string]any, recErr, stop error) {
	key = connector.NormalizeKey(r.Key)
	if key == "" {
		return "", nil, connector.NewRecordError("upsert", c.name, o.Name, "", o.Key, connector.CodeInvalidKey, connector.Permanent,
			&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "empty key"}), nil
	}
	if err := c.keyErr("upsert", o, key, ""); err != nil {
		return key, nil, err, nil
	}
	if check != nil {
		if err := check(key); err != nil {
			return key, nil, err, nil
		}
	}
	body, err := c.encodeRecord(ctx, o, key, r.Fields)
	if err != nil {
		if mustStop(ctx, err) {
			return key, nil, nil, err
		}
		return key, nil, err, nil
	}
	return key, body, nil, nil
}

// inRound adds item to the first of rounds holding no item of its key
// (id, the key's KeyID): a key given twice goes to a later round, so that
// one request never holds the same key twice.
func inRound[T any](rounds [][]T, roundOf map[string]int, id string, item T) [][]T {
	n := roundOf[id]
	roundOf[id] = n + 1
	for len(rounds) <= n {
		rounds = append(rounds, nil)
	}
	rounds[n] = append(rounds[n], item)
	return rounds
}
