package sftest

import (
	"fmt"
	"net/http"
	"strings"
)

const (
	maxCollection = 200
	rolledBackMsg = "Record rolled back because not all records were valid and the request was using AllOrNone header"
)

var errTooMany = apiErr{"record limit reached. cannot submit more than 200 records into this call", "EXCEEDED_ID_LIMIT", nil}

// result is one entry of a collections response.
type result struct {
	id       string
	showID   bool
	ok       bool
	errs     []apiErr
	upsert   bool
	created  bool
	isCreate bool
}

func (res result) render() obj {
	out := obj{}
	if res.showID && res.id != "" {
		out = append(out, kv{"id", res.id})
	}
	out = append(out, kv{"success", res.ok})
	errs := []any{}
	for _, e := range res.errs {
		fields := e.Fields
		if fields == nil {
			fields = []string{}
		}
		errs = append(errs, obj{{"statusCode", e.ErrorCode}, {"message", e.Message}, {"fields", fields}})
	}
	out = append(out, kv{"errors", errs})
	if res.upsert {
		out = append(out, kv{"created", res.created})
	}
	return out
}

func (o *Org) handleCollections(w http.ResponseWriter, r *http.Request, info *reqInfo, segs []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case len(segs) == 0 && r.Method == http.MethodDelete:
		o.collectionDelete(w, r, info)
	case len(segs) == 0 && (r.Method == http.MethodPost || r.Method == http.MethodPatch):
		o.collectionWrite(w, r, info, nil, nil)
	case len(segs) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		o.collectionRetrieve(w, r, info, segs[0])
	case len(segs) == 2 && r.Method == http.MethodPatch:
		s := o.object(segs[0])
		if s == nil {
			writeErr(w, r, http.StatusNotFound, errNotFound)
			return
		}
		f := extField(s, segs[1])
		if f == nil {
			writeErr(w, r, http.StatusNotFound, apiErr{"Provided external ID field does not exist or is not accessible: " + segs[1], "NOT_FOUND", nil})
			return
		}
		info.object = s.Name
		o.collectionWrite(w, r, info, s, f)
	default:
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,POST,PATCH,DELETE"))
	}
}

// collectionWrite serves create (POST), update (PATCH) and upsert (PATCH
// with object and external-id field).
func (o *Org) collectionWrite(w http.ResponseWriter, r *http.Request, info *reqInfo, upObj *sobject, upField *fieldDef) {
	pb, e := readBody(r)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	allOrNone := false
	if n, ok := pb.root.member("allOrNone"); ok && n.kind == 'b' {
		allOrNone = n.b
	}
	recs, _ := pb.root.member("records")
	info.records = len(recs.arr)
	if len(recs.arr) > maxCollection {
		writeErr(w, r, http.StatusBadRequest, errTooMany)
		return
	}
	create := r.Method == http.MethodPost
	type item struct {
		s       *sobject
		members []member
		rec     *record
		idErr   *apiErr
		key     string
	}
	items := make([]item, len(recs.arr))
	// Request-level checks first: types, unknown fields, JSON types.
	for i, n := range recs.arr {
		if n.kind != 'o' {
			writeErr(w, r, http.StatusBadRequest, apiErr{"Records must be JSON objects", "JSON_PARSER_ERROR", nil})
			return
		}
		var s *sobject
		if attr, ok := n.member("attributes"); ok {
			if tn, ok := attr.member("type"); ok && tn.kind == 's' {
				s = o.object(tn.s)
				if s == nil {
					writeErr(w, r, http.StatusBadRequest, apiErr{fmt.Sprintf("sObject type '%s' is not supported.", tn.s), "INVALID_TYPE", nil})
					return
				}
			}
		}
		if upObj != nil {
			if s != nil && s != upObj {
				writeErr(w, r, http.StatusBadRequest, apiErr{"Object type mismatch: " + s.Name, "INVALID_TYPE", nil})
				return
			}
			s = upObj
		}
		if s == nil {
			writeErr(w, r, http.StatusBadRequest, apiErr{"No SObject Type defined in JSON", "INVALID_TYPE", nil})
			return
		}
		if info.object == "" {
			info.object = s.Name
		}
		items[i].s = s
		for _, m := range n.obj {
			if m.name == "attributes" {
				continue
			}
			if strings.EqualFold(m.name, "Id") {
				if v := m.val.s; !create && upObj == nil {
					id := normalizeID(v)
					if id == "" || id[:3] != s.KeyPrefix {
						items[i].idErr = &apiErr{fmt.Sprintf("%s ID: id value of incorrect type: %s", s.Label, v), "MALFORMED_ID", []string{"Id"}}
					} else if rec := o.byID[id]; rec == nil {
						items[i].idErr = &apiErr{"invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", []string{}}
					} else if rec.deleted() {
						items[i].idErr = &apiErr{"entity is deleted", "ENTITY_IS_DELETED", []string{}}
					} else {
						items[i].rec = rec
					}
					continue
				}
			}
			items[i].members = append(items[i].members, m)
		}
		if !create && upObj == nil && items[i].rec == nil && items[i].idErr == nil {
			items[i].idErr = &apiErr{"Id not specified in an update call", "MISSING_ARGUMENT", []string{"Id"}}
		}
		if upField != nil {
			for _, m := range n.obj {
				if strings.EqualFold(m.name, upField.Name) && m.val.kind == 's' {
					items[i].key = m.val.s
				}
			}
		}
		// Unknown fields and JSON type errors fail the whole request.
		if _, reqErr, _ := o.convert(s, items[i].members, create || upObj != nil, nil); reqErr != nil {
			writeErr(w, r, http.StatusBadRequest, *reqErr)
			return
		}
	}
	t := info.txn()
	nc0, no0 := t.savepoint()
	results := make([]result, len(items))
	seenKeys := map[string]int{}
	for i := range items {
		if k := strings.ToLower(items[i].key); k != "" {
			seenKeys[k]++
		}
	}
	for i, it := range items {
		res := result{upsert: upField != nil, showID: true}
		nc, no := t.savepoint()
		switch {
		case it.idErr != nil:
			res.id = it.rec.idOrEmpty()
			res.errs = []apiErr{*it.idErr}
		case upField != nil:
			if it.key == "" {
				res.errs = []apiErr{{fmt.Sprintf("%s: value not specified for external id field", upField.Label), "MISSING_ARGUMENT", []string{upField.Name}}}
				break
			}
			if seenKeys[strings.ToLower(it.key)] > 1 {
				res.errs = []apiErr{{"Duplicate external id specified: " + it.key, "DUPLICATE_EXTERNAL_ID", []string{upField.Name}}}
				break
			}
			matches := o.lookup(upField, it.key)
			switch len(matches) {
			case 0:
				res.isCreate = true
				rec, _, errs := o.create(t, it.s, it.members, info.sess.userID)
				if len(errs) > 0 {
					res.errs = errs
				} else {
					res.id, res.ok, res.created = rec.id, true, true
				}
			case 1:
				res.id = matches[0].id
				if _, errs := o.update(t, matches[0], it.members, info.sess.userID); len(errs) > 0 {
					res.errs = errs
				} else {
					res.ok = true
				}
			default:
				ids := make([]string, len(matches))
				for j, m := range matches {
					ids[j] = m.id
				}
				res.errs = []apiErr{{fmt.Sprintf("%s: more than one record found for external id field: [%s]", upField.Label, strings.Join(ids, ", ")), "DUPLICATE_EXTERNAL_ID", []string{upField.Name}}}
			}
		case create:
			res.isCreate = true
			rec, _, errs := o.create(t, it.s, it.members, info.sess.userID)
			if len(errs) > 0 {
				res.errs = errs
			} else {
				res.id, res.ok = rec.id, true
			}
		default:
			res.id = it.rec.id
			if _, errs := o.update(t, it.rec, it.members, info.sess.userID); len(errs) > 0 {
				res.errs = errs
			} else {
				res.ok = true
			}
		}
		if !res.ok {
			o.rollbackTo(t, nc, no)
		}
		results[i] = res
	}
	o.finishCollection(w, r, t, nc0, no0, results, allOrNone)
}

func (r *record) idOrEmpty() string {
	if r == nil {
		return ""
	}
	return r.id
}

func (o *Org) finishCollection(w http.ResponseWriter, r *http.Request, t *tx, nc0, no0 int, results []result, allOrNone bool) {
	failed := false
	for _, res := range results {
		if !res.ok {
			failed = true
		}
	}
	if allOrNone && failed {
		o.rollbackTo(t, nc0, no0)
		for i, res := range results {
			if res.ok {
				results[i] = result{id: res.id, showID: !res.isCreate, upsert: res.upsert,
					errs: []apiErr{{rolledBackMsg, "ALL_OR_NONE_OPERATION_ROLLED_BACK", []string{}}}}
			} else {
				results[i].created = false
			}
		}
	}
	out := make([]any, len(results))
	for i, res := range results {
		out[i] = res.render()
	}
	writeJSON(w, r, http.StatusOK, out)
}

func (o *Org) collectionDelete(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	q := r.URL.Query()
	var ids []string
	for _, id := range strings.Split(q.Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	info.records = len(ids)
	if len(ids) > maxCollection {
		writeErr(w, r, http.StatusBadRequest, errTooMany)
		return
	}
	if len(ids) == 0 {
		writeErr(w, r, http.StatusBadRequest, apiErr{"The 'ids' parameter is required", "MISSING_ARGUMENT", nil})
		return
	}
	allOrNone := strings.EqualFold(q.Get("allOrNone"), "true")
	t := info.txn()
	nc0, no0 := t.savepoint()
	results := make([]result, len(ids))
	for i, raw := range ids {
		res := result{id: raw, showID: true}
		id := normalizeID(raw)
		rec := o.byID[id]
		switch {
		case id == "":
			res.errs = []apiErr{{"malformed id " + raw, "MALFORMED_ID", []string{}}}
		case rec == nil:
			res.errs = []apiErr{{"invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", []string{}}}
		case rec.deleted():
			res.errs = []apiErr{{"entity is deleted", "ENTITY_IS_DELETED", []string{}}}
		default:
			res.id = rec.id
			if info.object == "" {
				info.object = rec.obj.Name
			}
			if e := o.checkLock(rec.obj, rec, nil); e != nil {
				res.errs = []apiErr{*e}
				break
			}
			o.deleteRecord(t, rec, info.sess.userID, o.clock())
			res.ok = true
		}
		results[i] = res
	}
	o.finishCollection(w, r, t, nc0, no0, results, allOrNone)
}

func (o *Org) collectionRetrieve(w http.ResponseWriter, r *http.Request, info *reqInfo, objName string) {
	s := o.object(objName)
	if s == nil {
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	info.object = s.Name
	var ids, fields []string
	if r.Method == http.MethodPost {
		pb, e := readBody(r)
		if e != nil {
			writeErr(w, r, http.StatusBadRequest, *e)
			return
		}
		for _, name := range []string{"ids", "fields"} {
			n, _ := pb.root.member(name)
			for _, v := range n.arr {
				if name == "ids" {
					ids = append(ids, v.s)
				} else {
					fields = append(fields, v.s)
				}
			}
		}
	} else {
		q := r.URL.Query()
		ids = strings.Split(q.Get("ids"), ",")
		fields = strings.Split(q.Get("fields"), ",")
	}
	if len(ids) > 2000 {
		writeErr(w, r, http.StatusBadRequest, errTooMany)
		return
	}
	fdefs, e := o.parseFieldList(s, strings.Join(fields, ","))
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	if len(fdefs) == 0 {
		writeErr(w, r, http.StatusBadRequest, apiErr{"The 'fields' parameter is required", "MISSING_ARGUMENT", nil})
		return
	}
	out := []any{}
	for _, raw := range ids {
		rec := o.byID[normalizeID(strings.TrimSpace(raw))]
		if rec == nil || rec.obj != s || rec.deleted() {
			out = append(out, nil)
			continue
		}
		info.records++
		out = append(out, o.renderRecord(rec, fdefs))
	}
	writeJSON(w, r, http.StatusOK, out)
}
