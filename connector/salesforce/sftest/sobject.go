package sftest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

func (o *Org) object(name string) *sobject { return o.objects[strings.ToLower(name)] }

// readRecordBody reads a single-record body, which must be a JSON object.
func readRecordBody(r *http.Request, s *sobject) (*parsedBody, *apiErr) {
	pb, e := readBody(r)
	if e != nil {
		return nil, e
	}
	if pb.root.kind != 'o' {
		return nil, &apiErr{fmt.Sprintf("Cannot deserialize instance of %s from %s value %s or request may be missing a required field at [line:%d, column:%d]",
			s.Name, pb.root.jacksonKind(), pb.root.token, pb.root.line, pb.root.col), "JSON_PARSER_ERROR", nil}
	}
	return pb, nil
}

func readBody(r *http.Request) (*parsedBody, *apiErr) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, &apiErr{"Unable to read the request body", "JSON_PARSER_ERROR", nil}
	}
	pb, err := parseBody(raw)
	if err != nil {
		return nil, &apiErr{"Unexpected character: " + err.Error() + " at [line:1, column:1]", "JSON_PARSER_ERROR", nil}
	}
	return pb, nil
}

func versionAtLeast(v string, min float64) bool {
	f, _ := strconv.ParseFloat(v, 64)
	return f >= min
}

func (o *Org) handleSObjects(w http.ResponseWriter, r *http.Request, info *reqInfo, segs []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(segs) == 0 {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET"))
			return
		}
		list := []any{}
		for _, s := range o.order {
			list = append(list, o.globalEntry(s))
		}
		writeJSON(w, r, http.StatusOK, obj{{"encoding", "UTF-8"}, {"maxBatchSize", 200}, {"sobjects", list}})
		return
	}
	s := o.object(segs[0])
	if s == nil {
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	info.object = s.Name
	switch {
	case len(segs) == 1:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			recent := []any{}
			writeJSON(w, r, http.StatusOK, obj{{"objectDescribe", o.globalEntry(s)}, {"recentItems", recent}})
		case http.MethodPost:
			info.records = 1
			o.createOne(w, r, info, s)
		default:
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET,POST"))
		}
	case len(segs) == 2 && segs[1] == "describe":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET"))
			return
		}
		writeJSON(w, r, http.StatusOK, o.describeObject(s))
	case len(segs) == 2 && (segs[1] == "updated" || segs[1] == "deleted"):
		o.handleReplication(w, r, info, s, segs[1])
	case len(segs) == 2:
		o.recordByID(w, r, info, s, segs[1])
	case len(segs) == 3:
		o.recordByExternalID(w, r, info, s, segs[1], segs[2])
	default:
		writeErr(w, r, http.StatusNotFound, errNotFound)
	}
}

func (o *Org) createOne(w http.ResponseWriter, r *http.Request, info *reqInfo, s *sobject) {
	pb, e := readRecordBody(r, s)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	t := info.txn()
	rec, reqErr, errs := o.create(t, s, pb.fields, info.sess.userID)
	if reqErr != nil {
		writeErr(w, r, http.StatusBadRequest, *reqErr)
		return
	}
	if len(errs) > 0 {
		writeErr(w, r, http.StatusBadRequest, errs...)
		return
	}
	writeJSON(w, r, http.StatusCreated, obj{{"id", rec.id}, {"success", true}, {"errors", []any{}}})
}

// parseFieldList resolves ?fields=A,B against s.
func (o *Org) parseFieldList(s *sobject, list string) ([]*fieldDef, *apiErr) {
	var out []*fieldDef
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		f := s.field(name)
		if f == nil {
			return nil, &apiErr{fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, s.Name), "INVALID_FIELD", nil}
		}
		out = append(out, f)
	}
	return out, nil
}

func (o *Org) recordByID(w http.ResponseWriter, r *http.Request, info *reqInfo, s *sobject, seg string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodDelete:
	default:
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET,PATCH,DELETE"))
		return
	}
	id := normalizeID(seg)
	if id == "" || id[:3] != s.KeyPrefix {
		writeErr(w, r, http.StatusNotFound, apiErr{"Provided external ID field does not exist or is not accessible: " + seg, "NOT_FOUND", nil})
		return
	}
	rec := o.byID[id]
	if rec == nil {
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	o.serveRecord(w, r, info, rec)
}

func (o *Org) serveRecord(w http.ResponseWriter, r *http.Request, info *reqInfo, rec *record) {
	if rec.deleted() {
		writeErr(w, r, http.StatusNotFound, apiErr{"entity is deleted", "ENTITY_IS_DELETED", []string{}})
		return
	}
	info.records = 1
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		var fields []*fieldDef
		if fl := r.URL.Query().Get("fields"); fl != "" {
			var e *apiErr
			if fields, e = o.parseFieldList(rec.obj, fl); e != nil {
				writeErr(w, r, http.StatusBadRequest, *e)
				return
			}
		}
		writeJSON(w, r, http.StatusOK, o.renderRecord(rec, fields))
	case http.MethodPatch:
		pb, e := readRecordBody(r, rec.obj)
		if e != nil {
			writeErr(w, r, http.StatusBadRequest, *e)
			return
		}
		reqErr, errs := o.update(info.txn(), rec, pb.fields, info.sess.userID)
		if reqErr != nil {
			writeErr(w, r, http.StatusBadRequest, *reqErr)
			return
		}
		if len(errs) > 0 {
			writeErr(w, r, http.StatusBadRequest, errs...)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		if e := o.checkLock(rec.obj, rec, nil); e != nil {
			writeErr(w, r, http.StatusBadRequest, *e)
			return
		}
		o.deleteRecord(info.txn(), rec, info.sess.userID, o.clock())
		w.WriteHeader(http.StatusNoContent)
	}
}

// extField resolves the field segment of /sobjects/{Obj}/{Field}/{value}.
func extField(s *sobject, name string) *fieldDef {
	f := s.field(name)
	if f == nil || !(f.ExternalID || f.Name == "Id") {
		return nil
	}
	return f
}

func (o *Org) recordByExternalID(w http.ResponseWriter, r *http.Request, info *reqInfo, s *sobject, fieldName, value string) {
	f := extField(s, fieldName)
	if f == nil {
		writeErr(w, r, http.StatusNotFound, apiErr{"Provided external ID field does not exist or is not accessible: " + fieldName, "NOT_FOUND", nil})
		return
	}
	matches := o.lookup(f, value)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		switch len(matches) {
		case 0:
			writeErr(w, r, http.StatusNotFound, errNotFound)
		case 1:
			o.serveRecord(w, r, info, matches[0])
		default:
			o.writeMultipleChoices(w, r, matches)
		}
	case http.MethodPatch:
		info.endpoint = "sobject.upsert"
		info.records = 1
		o.upsertOne(w, r, info, s, f, value, matches)
	case http.MethodPost:
		if f.Name != "Id" || value != "" {
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET,PATCH,DELETE"))
			return
		}
	default:
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "HEAD,GET,PATCH,DELETE"))
	}
}

func (o *Org) writeMultipleChoices(w http.ResponseWriter, r *http.Request, matches []*record) {
	urls := []string{}
	for _, m := range matches {
		urls = append(urls, o.dataPath()+"/sobjects/"+m.obj.Name+"/"+m.id)
	}
	writeJSON(w, r, http.StatusMultipleChoices, urls)
}

// withKey adds the external id from the URL unless the body carries it.
func withKey(members []member, f *fieldDef, value string) []member {
	for _, m := range members {
		if strings.EqualFold(m.name, f.Name) {
			return members
		}
	}
	return append(append([]member(nil), members...), member{f.Name, node{kind: 's', s: value, token: value}})
}

func (o *Org) upsertOne(w http.ResponseWriter, r *http.Request, info *reqInfo, s *sobject, f *fieldDef, value string, matches []*record) {
	pb, e := readRecordBody(r, s)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	newStyle := versionAtLeast(info.version, 46)
	switch len(matches) {
	case 0:
		if strings.EqualFold(r.URL.Query().Get("updateOnly"), "true") {
			writeErr(w, r, http.StatusNotFound, errNotFound)
			return
		}
		members := pb.fields
		if f.Name != "Id" {
			members = withKey(members, f, value)
		} else if value != "" {
			writeErr(w, r, http.StatusNotFound, errNotFound)
			return
		}
		rec, reqErr, errs := o.create(info.txn(), s, members, info.sess.userID)
		if reqErr != nil {
			writeErr(w, r, http.StatusBadRequest, *reqErr)
			return
		}
		if len(errs) > 0 {
			writeErr(w, r, http.StatusBadRequest, errs...)
			return
		}
		body := obj{{"id", rec.id}, {"success", true}, {"errors", []any{}}}
		if newStyle {
			body = append(body, kv{"created", true})
		}
		writeJSON(w, r, http.StatusCreated, body)
	case 1:
		rec := matches[0]
		reqErr, errs := o.update(info.txn(), rec, pb.fields, info.sess.userID)
		if reqErr != nil {
			writeErr(w, r, http.StatusBadRequest, *reqErr)
			return
		}
		if len(errs) > 0 {
			writeErr(w, r, http.StatusBadRequest, errs...)
			return
		}
		if !newStyle {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, r, http.StatusOK, obj{{"id", rec.id}, {"success", true}, {"errors", []any{}}, {"created", false}})
	default:
		o.writeMultipleChoices(w, r, matches)
	}
}
