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
func (c *Connector) query(ctx context.Context, op, object, soql string, all bool, fn func(map[string]any) error) error {
	resource := "query"
	if all {
		resource = "queryAll"
	}
	r := request{
		op: op, object: object, method: http.MethodGet,
		path:      c.cl.dataPath(resource),
		query:     url.Values{"q": {soql}},
		header:    map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(c.cl.batch)},
		retrySafe: true,
	}
	for {
		var page api.QueryResult
		if err := c.cl.do(ctx, r, &page); err != nil {
			return err
		}
		for _, rec := range page.Records {
			if err := ctx.Err(); err != nil {
				return err
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

// readFields returns the fields a Read selects: every described field.
func readFields(o *connector.Object) []string { return o.FieldNames() }

// decodeRecord converts a query record. A value that cannot be decoded, or
// an empty key, sets Record.Err (naming the field, not the value).
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
	key, _ := raw[o.Key].(string)
	rec.Key = connector.NormalizeKey(key)
	for i := range o.Fields {
		f := &o.Fields[i]
		v, present := raw[f.Name]
		if !present {
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
		rec.Err = connector.NewRecordError("read", c.name, o.Name, "", o.Key, connector.CodeInvalidKey, connector.Permanent,
			&connector.ValueError{Code: connector.CodeInvalidKey, Detail: "record " + rec.ID + " has an empty key"})
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
}

func (w *window) observe(id string, t time.Time) {
	if t.After(w.max) || t.Equal(w.max) && id > w.maxID {
		w.max, w.maxID = t, id
	}
	if cut := w.max.Add(-w.lookBack); !t.Before(cut) {
		w.seen[id] = t.UnixMilli()
	}
}

func (w *window) cursor() connector.Cursor {
	st := cursorState{V: 1, T: w.max, ID: w.maxID, Seen: map[string]int64{}}
	cut := w.max.Add(-w.lookBack).UnixMilli()
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
	var prev *cursorState
	if since != "" && o.Modified != "" {
		if prev, err = decodeCursor(since); err != nil {
			return "", fmt.Errorf("read %s %s: %w", c.name, object, err)
		}
	}
	var where, order string
	if o.Modified != "" {
		order = o.Modified + ", Id"
	}
	if prev != nil && !prev.T.IsZero() {
		where = o.Modified + " >= " + DateTimeLiteral(prev.T.Add(-c.opts.LookBack))
	}
	soql, err := selectSOQL(readFields(o), o.Name, where, order)
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", c.name, object, err)
	}
	w := &window{lookBack: c.opts.LookBack, seen: map[string]int64{}}
	if prev != nil {
		w.max, w.maxID = prev.T, prev.ID
	}
	each := func(raw map[string]any) error {
		rec := c.decodeRecord(o, raw)
		if o.Modified != "" && rec.ID != "" && !rec.Modified.IsZero() {
			w.observe(rec.ID, rec.Modified)
			if prev != nil {
				if ms, ok := prev.Seen[rec.ID]; ok && ms == rec.Modified.UnixMilli() {
					return nil // passed on by the previous read, unchanged since
				}
			}
		}
		if prev == nil && rec.Deleted {
			return nil
		}
		return fn(rec)
	}
	bulk := false
	if prev == nil && c.opts.BulkQueryThreshold > 0 {
		n, err := c.countRecords(ctx, o)
		if err != nil {
			return "", err
		}
		bulk = n > int64(c.opts.BulkQueryThreshold)
	}
	if bulk {
		noOrder, _ := selectSOQL(readFields(o), o.Name, where, "")
		err = c.bulkQuery(ctx, o, noOrder, each)
	} else {
		err = c.query(ctx, "read", o.Name, soql, prev != nil, each)
	}
	if err != nil {
		return "", err
	}
	if o.Modified == "" {
		return "", nil
	}
	return w.cursor(), nil
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
	fields := []string{"Id"}
	if o.Key != "Id" {
		fields = append(fields, o.Key)
	}
	soql, err := selectSOQL(fields, o.Name, "", "")
	if err != nil {
		return err
	}
	return c.query(ctx, "list_keys", o.Name, soql, false, func(raw map[string]any) error {
		k, _ := raw[o.Key].(string)
		if k = connector.NormalizeKey(k); k == "" {
			return nil // a record without a key is unknown, not listed
		}
		return fn(k)
	})
}

// uniqueKeys normalises keys and drops empty ones and repeats (by KeyID).
func uniqueKeys(o *connector.Object, keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		k = connector.NormalizeKey(k)
		id := o.KeyID(k)
		if k == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, k)
	}
	return out
}

// byKeys runs "SELECT fields FROM object WHERE key IN (...)" in chunks that
// keep each statement under the URL length limit.
func (c *Connector) byKeys(ctx context.Context, op string, o *connector.Object, fields, keys []string, fn func(map[string]any) error) error {
	base, err := selectSOQL(fields, o.Name, o.Key+" IN ()", "")
	if err != nil {
		return err
	}
	for _, list := range inChunks(base, keys, 1000) {
		soql, _ := selectSOQL(fields, o.Name, o.Key+" IN ("+list+")", "")
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
	keys = uniqueKeys(o, keys)
	if len(keys) == 0 {
		return nil
	}
	fields := readFields(o)
	seen := map[string]bool{}
	return c.byKeys(ctx, "read_keys", o, fields, keys, func(raw map[string]any) error {
		rec := c.decodeRecord(o, raw)
		if seen[rec.ID] {
			return nil
		}
		seen[rec.ID] = true
		return fn(rec)
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
	err := c.byKeys(ctx, "delete", o, []string{"Id", o.Key}, keys, func(raw map[string]any) error {
		id, _ := raw["Id"].(string)
		k, _ := raw[o.Key].(string)
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
