package salesforce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// query runs a SOQL statement (queryAll when all is set, which includes
// deleted and archived records) and calls fn for each record, following
// nextRecordsUrl until done.
//
// A query locator expires after 15 minutes idle, or when the user opens
// more than ten cursors (the oldest is released): fetching a later page then
// fails with 400 INVALID_QUERY_LOCATOR. query restarts the statement once,
// from its first page, and skips the records already passed to fn (by Id),
// so fn sees each record once. Records changed or created in between are
// read as they are at the restart; one passed already is not passed again
// (see queryRestart). A second expiry, or a statement that does not select
// Id, returns the error.
func (c *Connector) query(ctx context.Context, op, object, soql string, all bool, fn func(map[string]any) error) error {
	return c.queryRestart(ctx, op, object, soql, all, fn, nil)
}

// queryRestart is query; skipped, when set, hears of each record that the
// restarted statement returned again with another SystemModstamp (it
// changed in between) and that was not passed to fn a second time: Read
// holds its cursor back to it.
func (c *Connector) queryRestart(ctx context.Context, op, object, soql string, all bool, fn, skipped func(map[string]any) error) error {
	return c.queryRestartOr(ctx, op, object, soql, all, fn, skipped, nil)
}

// errUseBulk stops a query whose first page says it has more records than
// the caller wants read page by page (queryRestartOr's tooMany).
var errUseBulk = errors.New("salesforce: too many records for a query read page by page")

// queryRestartOr is queryRestart; when tooMany says, on the first page's
// totalSize, that the query has too many records, it returns errUseBulk
// before passing any record to fn.
func (c *Connector) queryRestartOr(ctx context.Context, op, object, soql string, all bool, fn, skipped func(map[string]any) error, tooMany func(total int64) bool) error {
	resource := "query"
	if all {
		resource = "queryAll"
	}
	first := request{
		op: op, object: object, method: http.MethodGet,
		path:      c.cl.dataPath(resource),
		query:     url.Values{"q": {soql}},
		header:    map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(c.cl.batch)},
		retrySafe: true,
	}
	r := first
	// Ids passed to fn, with their SystemModstamp if selected; kept once a
	// query has more than one page.
	var passed map[string]string
	keepIDs, restarted := true, false
	for {
		var page api.QueryResult
		if err := c.cl.do(ctx, r, &page); err != nil {
			if r.query == nil && !restarted && keepIDs && isExpiredLocator(err) {
				restarted, r = true, first
				if passed == nil {
					passed = map[string]string{}
				}
				continue
			}
			return err
		}
		if tooMany != nil && r.query != nil && !restarted && !page.Done && tooMany(page.TotalSize) {
			return errUseBulk
		}
		if passed == nil && !page.Done {
			passed = map[string]string{}
		}
		for _, rec := range page.Records {
			if err := ctx.Err(); err != nil {
				return err
			}
			if passed != nil {
				id, _ := rec["Id"].(string)
				if id == "" {
					keepIDs = false // cannot skip by Id: no restart
				} else if was, dup := passed[id]; dup {
					// Passed before the locator expired.
					if mod, _ := rec["SystemModstamp"].(string); skipped != nil && was != mod {
						if err := skipped(rec); err != nil {
							return err
						}
					}
					continue
				} else if keepIDs {
					passed[id], _ = rec["SystemModstamp"].(string)
				}
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
		r.path, r.query = next, nil
	}
}

// isExpiredLocator reports a 400 INVALID_QUERY_LOCATOR: a nextRecordsUrl
// that expired (15 minutes idle) or was released (more than ten cursors).
func isExpiredLocator(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == "INVALID_QUERY_LOCATOR"
}

// decodeValue converts one JSON value of a query record into the Value a
// field of f's type holds: json.Number to an exact decimal, dates,
// Salesforce datetimes, booleans, multi-select "a;b", null. The error does
// not repeat the value.
func decodeValue(f *connector.Field, v any) (connector.Value, error) {
	kind := f.Type.ValueKind()
	if v == nil {
		if kind == connector.KindBool {
			return connector.Bool(false), nil
		}
		return connector.Null(), nil
	}
	bad := func(want string) (connector.Value, error) {
		return connector.Value{}, &connector.ValueError{Code: connector.CodeInvalidValue, Detail: fmt.Sprintf("Salesforce sent a %s where a %s was expected", jsonKind(v), want)}
	}
	switch kind {
	case connector.KindBool:
		switch x := v.(type) {
		case bool:
			return connector.Bool(x), nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return connector.Bool(b), nil
			}
		}
		return bad("boolean")
	case connector.KindNumber:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = string(x)
		case string:
			s = x
		default:
			return bad("number")
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			return bad("number")
		}
		return connector.Number(d), nil
	case connector.KindDate:
		s, ok := v.(string)
		if !ok {
			return bad("date")
		}
		d, err := connector.ParseDate(s)
		if err != nil {
			return bad("date (YYYY-MM-DD)")
		}
		return connector.DateValue(d), nil
	case connector.KindDateTime:
		s, ok := v.(string)
		if !ok {
			return bad("datetime")
		}
		t, err := api.ParseTime(s)
		if err != nil {
			return bad("datetime")
		}
		return connector.DateTime(t), nil
	case connector.KindMulti:
		s, ok := v.(string)
		if !ok {
			return bad("multi-select string")
		}
		return connector.Multi(api.SplitMulti(s)...), nil
	}
	switch x := v.(type) {
	case string:
		return connector.Text(x), nil
	case json.Number:
		return connector.Text(x.String()), nil
	case bool:
		return connector.Text(strconv.FormatBool(x)), nil
	}
	return bad("text")
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "value"
}

// readFields returns the fields a Read selects: every described field, or,
// when ctx asks for some (connector.WithFields), those of them the object
// has, with Id, the key, the modification time and IsDeleted.
//
// For an object keyed by its parent, ByParent is not selected (it is no
// field of the org) but the fields its key derives from are.
func (c *Connector) readFields(ctx context.Context, o *connector.Object) []string {
	want, ok := connector.FieldsOf(ctx)
	if !ok {
		return c.withKeyPath(o, o.FieldNames())
	}
	keep := map[string]bool{"id": true, "isdeleted": true, strings.ToLower(o.Key): true, strings.ToLower(o.Modified): true}
	for _, f := range want {
		keep[strings.ToLower(f)] = true
	}
	var out []string
	for i := range o.Fields {
		if keep[strings.ToLower(o.Fields[i].Name)] {
			out = append(out, o.Fields[i].Name)
		}
	}
	return c.withKeyPath(o, out)
}

// withKeyPath replaces ByParent in fields by the fields the key of an
// object keyed by its parent derives from.
func (c *Connector) withKeyPath(o *connector.Object, fields []string) []string {
	kp, _ := c.pathOf(o)
	if kp == nil {
		return fields
	}
	out := make([]string, 0, len(fields)+2)
	have := map[string]bool{}
	for _, f := range fields {
		if f != ByParent {
			out = append(out, f)
			have[strings.ToLower(f)] = true
		}
	}
	for _, f := range kp.selects() {
		if !have[strings.ToLower(f)] {
			out = append(out, f)
		}
	}
	return out
}

// decodeRecord converts a query record. A value that cannot be decoded sets
// Record.Err (naming the field, not the value); an empty key sets it to a
// NO_KEY error and keeps ID and Fields.
func (c *Connector) decodeRecord(o *connector.Object, raw map[string]any) connector.Record {
	rec := connector.Record{Fields: make(map[string]connector.Value, len(o.Fields))}
	if id, ok := raw["Id"].(string); ok {
		rec.ID = id
	}
	switch d := raw["IsDeleted"].(type) {
	case bool:
		rec.Deleted = d
	case string: // Bulk API CSV
		rec.Deleted = d == "true"
	}
	rec.Key = connector.NormalizeKey(c.rawKey(o, raw))
	if rec.Key != "" {
		if err := c.keyErr("read", o, rec.Key, rec.ID); err != nil {
			// A key that cannot be a key: the record names no key, and
			// its error the record's Id, never the key's text.
			return connector.Record{ID: rec.ID, Deleted: rec.Deleted, Err: err}
		}
	}
	for i := range o.Fields {
		f := &o.Fields[i]
		v, present := raw[f.Name]
		if !present || f.Name == ByParent && o.Key == ByParent {
			continue
		}
		val, err := decodeValue(f, v)
		if err != nil {
			if rec.Err == nil {
				rec.Err = connector.NewRecordError("read", c.name, o.Name, rec.Key, f.Name, connector.CodeRowUnreadable, connector.Permanent, err)
			}
			continue
		}
		rec.Fields[f.Name] = val
	}
	if o.Modified != "" {
		if t, ok := rec.Fields[o.Modified].DateTime(); ok {
			rec.Modified = t
		}
	}
	if rec.Key == "" && rec.Err == nil {
		// A record without the job's key (a case a caseworker opened in
		// Salesforce, or one that predates casebridge): NO_KEY, with its
		// Id and fields, so that the engine can pair it by match_on or
		// adopt it (give it a key).
		rec.Err = connector.NewRecordError("read", c.name, o.Name, "", o.Key, connector.CodeNoKey, connector.Permanent,
			&connector.ValueError{Code: connector.CodeNoKey, Detail: "record " + rec.ID + " has no key"})
	}
	return rec
}

// cursorState is what a Salesforce cursor holds: the newest
// (SystemModstamp, Id) read, and the Ids with their SystemModstamp of the
// records inside the look-back window, so that a re-read of the window
// passes on only records that changed or committed late. It holds record
// Ids and times only, never values.
type cursorState struct {
	V    int              `json:"v"`
	T    time.Time        `json:"t,omitzero"`
	ID   string           `json:"id,omitempty"`
	Seen map[string]int64 `json:"seen,omitempty"` // Id -> SystemModstamp in Unix ms
}

const cursorPrefix = "sf1."

// maxSeen bounds the look-back set kept in a cursor; records beyond it may
// be passed on again (harmless: the engine compares fingerprints).
const maxSeen = 5000

func (s *cursorState) encode() connector.Cursor {
	b, _ := json.Marshal(s)
	return connector.Cursor(cursorPrefix + base64.RawURLEncoding.EncodeToString(b))
}

func decodeCursor(c connector.Cursor) (*cursorState, error) {
	s, ok := strings.CutPrefix(string(c), cursorPrefix)
	if !ok {
		return nil, errors.New("malformed cursor (not a Salesforce cursor)")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("malformed cursor")
	}
	var st cursorState
	if err := json.Unmarshal(b, &st); err != nil || st.V != 1 {
		return nil, errors.New("malformed cursor")
	}
	return &st, nil
}

// window collects the next cursor while records stream by.
type window struct {
	lookBack time.Duration
	max      time.Time
	maxID    string
	seen     map[string]int64
	// hold, when set, caps the cursor's time: a record read again after a
	// query restart was not passed on with its SystemModstamp then, so the
	// next read must reach it.
	hold time.Time
	// anchor is the org's time before the read's query was sent (the Date
	// of an earlier response): every change committed later has a
	// SystemModstamp after anchor less the look-back. A cursor at anchor
	// rather than at the newest record read (data time) keeps the next
	// read from querying again the records changed in the look-back before
	// the newest one: after a load of 100,000 records, all of them.
	anchor time.Time
}

// holdAt keeps the cursor at or before t.
func (w *window) holdAt(t time.Time) {
	if w.hold.IsZero() || t.Before(w.hold) {
		w.hold = t
	}
}

func (w *window) observe(id string, t time.Time) {
	if t.After(w.max) || t.Equal(w.max) && id > w.maxID {
		w.max, w.maxID = t, strings.Clone(id)
	}
	if cut := w.max.Add(-w.lookBack); !t.Before(cut) {
		// A copy: the Id read may share its memory with the whole row
		// (a Bulk query's CSV line), which the set would keep alive.
		w.seen[strings.Clone(id)] = t.UnixMilli()
		if len(w.seen) > 4*maxSeen {
			w.prune()
		}
	}
}

// prune keeps the maxSeen newest Ids of the set, all that cursor keeps: a
// read of a million records changed within the look-back (a load) holds
// a few thousand, not a million.
func (w *window) prune() {
	type kv struct {
		id string
		ms int64
	}
	all := make([]kv, 0, len(w.seen))
	for id, ms := range w.seen {
		all = append(all, kv{id, ms})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ms > all[j].ms })
	clear(w.seen)
	for _, e := range all[:maxSeen] {
		w.seen[e.id] = e.ms
	}
}

func (w *window) cursor() connector.Cursor {
	st := cursorState{V: 1, T: w.max, ID: w.maxID, Seen: map[string]int64{}}
	if w.anchor.After(st.T) {
		st.T, st.ID = w.anchor, ""
	}
	if !w.hold.IsZero() && w.hold.Before(st.T) {
		st.T, st.ID = w.hold, ""
	}
	cut := st.T.Add(-w.lookBack).UnixMilli()
	type kv struct {
		id string
		ms int64
	}
	var keep []kv
	for id, ms := range w.seen {
		if ms >= cut {
			keep = append(keep, kv{id, ms})
		}
	}
	if len(keep) > maxSeen {
		sort.Slice(keep, func(i, j int) bool { return keep[i].ms > keep[j].ms })
		keep = keep[:maxSeen]
	}
	for _, e := range keep {
		st.Seen[e.id] = e.ms
	}
	return st.encode()
}

// Read implements connector.Source. With an empty since it reads every live
// record (query); with a cursor it reads, with queryAll, the records whose
// SystemModstamp is at or after the cursor's time less the look-back
// window, including deleted ones, and passes on those not already passed
// on with the same SystemModstamp. The cursor is opaque.
func (c *Connector) Read(ctx context.Context, object string, since connector.Cursor, fn func(connector.Record) error) (connector.Cursor, error) {
	o, err := c.describe(ctx, object)
	if err != nil {
		return "", err
	}
	return c.read(ctx, o, since, "", fn)
}

// read is Read limited to the records matching scope, a SOQL condition
// ("" for every record). With a scope, a second, key-only query finds the
// records that do not match it (among those changed since the cursor, for
// an incremental read) and passes them as unknown: Record.Err is an
// OUT_OF_SCOPE *connector.RecordError, Fields is empty.
func (c *Connector) read(ctx context.Context, o *connector.Object, since connector.Cursor, scope string, fn func(connector.Record) error) (connector.Cursor, error) {
	var prev *cursorState
	var err error
	if since != "" && o.Modified != "" {
		if prev, err = decodeCursor(since); err != nil {
			return "", fmt.Errorf("read %s %s: %w", c.name, o.Name, err)
		}
	}
	var changed, order string
	if o.Modified != "" {
		order = o.Modified + ", Id"
	}
	if prev != nil && !prev.T.IsZero() {
		changed = o.Modified + " >= " + DateTimeLiteral(prev.T.Add(-c.opts.LookBack))
	}
	where := and(changed, paren(scope))
	if _, err := c.pathOf(o); err != nil {
		return "", err
	}
	fn, pairsDone := c.pairedReads(ctx, o, prev != nil, fn)
	soql, err := selectSOQL(c.readFields(ctx, o), o.Name, where, order)
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", c.name, o.Name, err)
	}
	w := &window{lookBack: c.opts.LookBack, seen: map[string]int64{}}
	if prev != nil {
		w.max, w.maxID = prev.T, prev.ID
	}
	if t := c.cl.lastServerTime(); !t.IsZero() {
		w.anchor = t.Add(-time.Second) // Date has whole seconds
	}
	// seenBefore observes a record for the next cursor and reports whether
	// the previous read passed it on already, unchanged since.
	seenBefore := func(id string, t time.Time) bool {
		if o.Modified == "" || id == "" || t.IsZero() {
			return false
		}
		w.observe(id, t)
		if prev != nil {
			if ms, ok := prev.Seen[id]; ok && ms == t.UnixMilli() {
				return true
			}
		}
		return false
	}
	each := func(raw map[string]any) error {
		rec := c.decodeRecord(o, raw)
		if seenBefore(rec.ID, rec.Modified) {
			return nil
		}
		if prev == nil && rec.Deleted {
			return nil
		}
		return fn(rec)
	}
	// A record a restarted query skipped (passed before its locator
	// expired) may have changed since: the next read must reach it.
	hold := func(raw map[string]any) error {
		if o.Modified != "" {
			if s, ok := raw[o.Modified].(string); ok {
				if t, err := api.ParseTime(s); err == nil {
					w.holdAt(t)
				}
			}
		}
		return nil
	}
	bulk := false
	if prev == nil && c.opts.BulkQueryThreshold > 0 {
		n, err := c.countRecords(ctx, o, paren(scope))
		if err != nil {
			return "", err
		}
		bulk = n > int64(c.opts.BulkQueryThreshold)
	}
	// A change read whose first page says it has more than the threshold
	// (the first run after a large load reads back what the load wrote)
	// goes on as a Bulk query too: a handful of calls, not one per 2,000
	// records. Nothing of the first page was passed on.
	var tooMany func(int64) bool
	if prev != nil && c.opts.BulkQueryThreshold > 0 {
		tooMany = func(n int64) bool { return n > int64(c.opts.BulkQueryThreshold) }
	}
	if !bulk {
		err = c.queryRestartOr(ctx, "read", o.Name, soql, prev != nil, each, hold, tooMany)
		bulk = errors.Is(err, errUseBulk)
	}
	if bulk {
		noOrder, _ := selectSOQL(c.readFields(ctx, o), o.Name, where, "")
		err = c.bulkQuery(ctx, o, noOrder, prev != nil, each)
	}
	if err != nil {
		return "", err
	}
	if scope != "" {
		// After the matching records, so that a record leaving the scope
		// meanwhile is passed twice (present, then unknown: unknown wins)
		// rather than not at all.
		err := c.outside(ctx, o, changed, scope, prev != nil, func(rec connector.Record) error {
			if seenBefore(rec.ID, rec.Modified) {
				return nil
			}
			return fn(rec)
		}, hold)
		if err != nil {
			return "", err
		}
	}
	if err := pairsDone(); err != nil {
		return "", err
	}
	if o.Modified == "" {
		return "", nil
	}
	return w.cursor(), nil
}

// CodeOutOfScope marks a record of a scoped view (Connector.Where) that
// exists but does not match the view's condition: unknown to the view,
// neither present nor deleted.
const CodeOutOfScope = connector.CodeOutOfScope

// errOutOfScope is the cause of an OUT_OF_SCOPE RecordError.
var errOutOfScope = &connector.ValueError{Code: CodeOutOfScope, Detail: "the record does not match the job's where condition"}

func (c *Connector) outOfScope(op string, o *connector.Object, key string) *connector.RecordError {
	return connector.NewRecordError(op, c.name, o.Name, key, "", CodeOutOfScope, connector.Permanent, errOutOfScope)
}

// outside runs the key-only query "SELECT Id, <key>, SystemModstamp FROM
// object WHERE [filter AND] NOT (scope)" and passes each record as an
// unknown one (Record.Err OUT_OF_SCOPE, no Fields). Records without a key
// are left out: they belong to no job.
func (c *Connector) outside(ctx context.Context, o *connector.Object, filter, scope string, all bool, fn func(connector.Record) error, skipped func(map[string]any) error) error {
	fields := append([]string{"Id"}, c.keySelects(o)...)
	if o.Modified != "" {
		fields = append(fields, o.Modified)
	}
	soql, err := selectSOQL(fields, o.Name, and(filter, "NOT "+paren(scope)), "")
	if err != nil {
		return err
	}
	return c.queryRestart(ctx, "read", o.Name, soql, all, func(raw map[string]any) error {
		rec := c.outsideRecord(o, raw)
		if rec.Key == "" {
			return nil
		}
		return fn(rec)
	}, skipped)
}

// outsideRecord is the unknown record of a row of an outside query.
func (c *Connector) outsideRecord(o *connector.Object, raw map[string]any) connector.Record {
	id, _ := raw["Id"].(string)
	rec := connector.Record{Key: connector.NormalizeKey(c.rawKey(o, raw)), ID: id}
	if connector.CheckKey(rec.Key, keyLength(o)) != nil {
		rec.Key = "" // no key: left out, as a record without one
	}
	if o.Modified != "" {
		if s, ok := raw[o.Modified].(string); ok {
			if t, err := api.ParseTime(s); err == nil {
				rec.Modified = t
			}
		}
	}
	rec.Err = c.outOfScope("read", o, rec.Key)
	return rec
}

// paren returns "(cond)", or "" for an empty cond.
func paren(cond string) string {
	if cond == "" {
		return ""
	}
	return "(" + cond + ")"
}

// and joins the non-empty conditions with AND.
func and(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, " AND ")
}

// TracksChanges implements connector.ChangeTracker: objects with a
// SystemModstamp are read incrementally. It answers from the describe
// cache and does not call the API; an object not yet described reports
// true (every standard and custom sObject has SystemModstamp).
func (c *Connector) TracksChanges(object string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.objects[object]; ok {
		return o.Modified != ""
	}
	return true
}

// ListKeys implements connector.KeyLister: SELECT Id, <key> FROM object.
func (c *Connector) ListKeys(ctx context.Context, object string, fn func(string) error) error {
	o, err := c.describe(ctx, object)
	if err != nil {
		return err
	}
	if _, err := c.pathOf(o); err != nil {
		return err
	}
	fields := append([]string{"Id"}, c.keySelects(o)...)
	soql, err := selectSOQL(fields, o.Name, "", "")
	if err != nil {
		return err
	}
	return c.query(ctx, "list_keys", o.Name, soql, false, func(raw map[string]any) error {
		k := c.rawKey(o, raw)
		if k = connector.NormalizeKey(k); connector.CheckKey(k, keyLength(o)) != nil {
			return nil // a record without a usable key is unknown, not listed
		}
		return fn(k)
	})
}

// uniqueKeys normalises keys and drops repeats (by KeyID) and the keys
// that cannot be keys of o (empty ones among them: connector.CheckKey), so
// that no such key reaches a SOQL literal.
func uniqueKeys(o *connector.Object, keys []string) []string {
	seen := map[string]bool{}
	var out []string
	lim := keyLength(o)
	for _, k := range keys {
		k = connector.NormalizeKey(k)
		id := o.KeyID(k)
		if seen[id] || connector.CheckKey(k, lim) != nil {
			continue
		}
		seen[id] = true
		out = append(out, k)
	}
	return out
}

// byKeys runs "SELECT fields FROM object WHERE key IN (...)[ AND cond]" in
// chunks that keep each statement under the URL length limit.
//
// For an object keyed by its parent, the statement filters on the
// parents' keys (WHERE vcms__Case__r.vcms__External_Key__c IN (...)) and
// fn hears only of the records deriving one of keys.
func (c *Connector) byKeys(ctx context.Context, op string, o *connector.Object, fields, keys []string, cond string, fn func(map[string]any) error) error {
	kp, err := c.pathOf(o)
	if err != nil {
		return err
	}
	on := o.Key
	if kp != nil {
		on = kp.parent
		want := map[string]bool{}
		var parents []string
		seen := map[string]bool{}
		for _, k := range keys {
			want[o.KeyID(k)] = true
			for _, p := range kp.parentKeys(k) {
				if !seen[p] {
					seen[p] = true
					parents = append(parents, p)
				}
			}
		}
		keys = parents
		fields = c.withKeyPath(o, fields)
		inner := fn
		fn = func(raw map[string]any) error {
			if !want[o.KeyID(kp.keyOf(raw))] {
				return nil
			}
			return inner(raw)
		}
	}
	base, err := selectSOQL(fields, o.Name, and(on+" IN ()", cond), "")
	if err != nil {
		return err
	}
	for _, list := range inChunks(base, keys, 1000) {
		soql, _ := selectSOQL(fields, o.Name, and(on+" IN ("+list+")", cond), "")
		if err := c.query(ctx, op, o.Name, soql, false, fn); err != nil {
			return err
		}
	}
	return nil
}

// ReadKeys implements connector.KeyReader.
func (c *Connector) ReadKeys(ctx context.Context, object string, keys []string, fn func(connector.Record) error) error {
	o, err := c.describe(ctx, object)
	if err != nil {
		return err
	}
	return c.readKeys(ctx, o, keys, "", fn)
}

// readKeys is ReadKeys limited to the records matching scope ("" for
// every record); with a scope, the keys of records that exist but do not
// match it are passed as unknown (Record.Err OUT_OF_SCOPE).
func (c *Connector) readKeys(ctx context.Context, o *connector.Object, keys []string, scope string, fn func(connector.Record) error) error {
	keys = uniqueKeys(o, keys)
	if len(keys) == 0 {
		return nil
	}
	fn, pairsDone := c.pairedReads(ctx, o, false, fn)
	seen := map[string]bool{}
	err := c.byKeys(ctx, "read_keys", o, c.readFields(ctx, o), keys, paren(scope), func(raw map[string]any) error {
		rec := c.decodeRecord(o, raw)
		if seen[rec.ID] {
			return nil
		}
		seen[rec.ID] = true
		return fn(rec)
	})
	if err == nil {
		err = pairsDone()
	}
	if err != nil || scope == "" {
		return err
	}
	fields := append([]string{"Id"}, c.keySelects(o)...)
	if o.Modified != "" {
		fields = append(fields, o.Modified)
	}
	return c.byKeys(ctx, "read_keys", o, fields, keys, "NOT "+paren(scope), func(raw map[string]any) error {
		// A record that left the scope after the first query is passed
		// again, as unknown (the later answer wins, as in Read).
		if rec := c.outsideRecord(o, raw); rec.Key != "" {
			return fn(rec)
		}
		return nil
	})
}

// resolveIDs maps the KeyIDs of keys to Salesforce Ids.
func (c *Connector) resolveIDs(ctx context.Context, o *connector.Object, keys []string) (map[string]string, error) {
	ids := map[string]string{}
	if o.Key == "Id" {
		for _, k := range keys {
			if isSalesforceID(k) {
				ids[o.KeyID(k)] = k
			}
		}
		return ids, nil
	}
	err := c.byKeys(ctx, "delete", o, append([]string{"Id"}, c.keySelects(o)...), keys, "", func(raw map[string]any) error {
		id, _ := raw["Id"].(string)
		k := c.rawKey(o, raw)
		if id != "" && k != "" {
			ids[o.KeyID(k)] = id
		}
		return nil
	})
	return ids, err
}

func isSalesforceID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	return !slices.ContainsFunc([]rune(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
