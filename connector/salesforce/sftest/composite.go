package sftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
)

const (
	maxSubrequests         = 25
	maxCollectionOrQuery   = 5
	rolledBackCompositeMsg = "The transaction was rolled back since another operation in the same transaction failed."
)

var (
	refPattern  = regexp.MustCompile(`@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\}`)
	stepPattern = regexp.MustCompile(`\.[A-Za-z0-9_]+|\[[0-9]+\]`)
)

type subResult struct {
	body    any
	headers obj
	status  int
	ref     string
}

// handleComposite serves POST /composite: up to 25 subrequests run in order
// as one API call, with @{ref.path} references to earlier response bodies;
// allOrNone rolls every subrequest back when one fails.
func (o *Org) handleComposite(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	if r.Method != http.MethodPost {
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "POST"))
		return
	}
	pb, e := readBody(r)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	allOrNone := false
	if n, ok := pb.root.member("allOrNone"); ok && n.kind == 'b' {
		allOrNone = n.b
	}
	reqs, _ := pb.root.member("compositeRequest")
	if len(reqs.arr) == 0 {
		writeErr(w, r, http.StatusBadRequest, apiErr{"compositeRequest: required field is missing", "JSON_PARSER_ERROR", nil})
		return
	}
	if len(reqs.arr) > maxSubrequests {
		writeErr(w, r, http.StatusBadRequest, apiErr{fmt.Sprintf("Composite API only supports up to %d subrequests", maxSubrequests), "LIMIT_EXCEEDED", nil})
		return
	}
	info.readOnly = true
	for _, sr := range reqs.arr {
		if m, _ := sr.member("method"); !strings.EqualFold(m.s, http.MethodGet) {
			info.readOnly = false
		}
	}
	heavy := 0
	for _, sr := range reqs.arr {
		u, _ := sr.member("url")
		if strings.Contains(u.s, "/composite/sobjects") || strings.Contains(u.s, "/query") {
			heavy++
		}
	}
	if heavy > maxCollectionOrQuery {
		writeErr(w, r, http.StatusBadRequest, apiErr{fmt.Sprintf("Composite API only supports up to %d sObject Collections or query operations", maxCollectionOrQuery), "LIMIT_EXCEEDED", nil})
		return
	}
	t := newTx()
	bodies := map[string]any{}
	var results []subResult
	failed := false
	for _, sr := range reqs.arr {
		method, _ := sr.member("method")
		u, _ := sr.member("url")
		ref, _ := sr.member("referenceId")
		res := subResult{ref: ref.s, headers: obj{}}
		if failed && allOrNone {
			res.status = http.StatusBadRequest
			res.body = []any{apiErr{rolledBackCompositeMsg, "PROCESSING_HALTED", nil}.render()}
			results = append(results, res)
			continue
		}
		url, err := resolveRefs(u.s, bodies)
		var body []byte
		if err == nil {
			if b, ok := sr.member("body"); ok {
				body, err = renderNode(b, bodies)
			}
		}
		if err != nil {
			res.status = http.StatusBadRequest
			res.body = []any{apiErr{err.Error(), "PROCESSING_HALTED", nil}.render()}
			failed = true
			results = append(results, res)
			continue
		}
		res.status, res.body, res.headers = o.subrequest(r, info, t, method.s, url, body, sr)
		if res.status >= 400 {
			failed = true
		} else if res.ref != "" {
			bodies[res.ref] = res.body
		}
		results = append(results, res)
	}
	if failed && allOrNone {
		o.mu.Lock()
		o.rollback(t)
		o.mu.Unlock()
		for i := range results {
			if results[i].status < 400 {
				results[i] = subResult{ref: results[i].ref, headers: obj{}, status: http.StatusBadRequest,
					body: []any{apiErr{rolledBackCompositeMsg, "PROCESSING_HALTED", nil}.render()}}
			}
		}
	}
	out := make([]any, len(results))
	for i, res := range results {
		out[i] = obj{{"body", res.body}, {"httpHeaders", res.headers}, {"httpStatusCode", res.status}, {"referenceId", res.ref}}
	}
	writeJSON(w, r, http.StatusOK, obj{{"compositeResponse", out}})
}

// subrequest runs one subrequest through the data router without metering.
func (o *Org) subrequest(parent *http.Request, info *reqInfo, t *tx, method, url string, body []byte, sr node) (int, any, obj) {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	req.Host = parent.Host
	req.Header.Set("Authorization", parent.Header.Get("Authorization"))
	if h, ok := sr.member("httpHeaders"); ok {
		for _, m := range h.obj {
			req.Header.Set(m.name, m.val.s)
		}
	}
	rest, ok := strings.CutPrefix(req.URL.Path, "/services/data/v")
	ver, rest, _ := strings.Cut(rest, "/")
	known := false
	for _, v := range o.versions {
		known = known || v == ver
	}
	rec := httptest.NewRecorder()
	endpoint := ""
	if !ok || !known {
		writeErr(rec, req, http.StatusNotFound, errNotFound)
	} else {
		var segs []string
		for _, s := range strings.Split(rest, "/") {
			if s != "" {
				segs = append(segs, s)
			}
		}
		endpoint = endpointClass(method, segs)
		sub := &reqInfo{endpoint: endpoint, sess: info.sess, version: ver, tx: t}
		o.dispatch(rec, req, sub, segs)
		info.records += sub.records
		if info.object == "" {
			info.object = sub.object
		}
	}
	var out any
	if endpoint == "describe" {
		// A describe is a large body: decoded without the positions
		// parseBody computes for error messages.
		if v, err := responseValue(rec.Body.Bytes()); err == nil {
			out = v
		} else if rec.Body.Len() > 0 {
			out = rec.Body.String()
		}
	} else if pb, err := parseBody(rec.Body.Bytes()); err == nil {
		out = nodeValue(pb.root)
	} else if rec.Body.Len() > 0 {
		out = rec.Body.String()
	}
	headers := obj{}
	if rec.Code == http.StatusCreated {
		if o, ok := out.(obj); ok && len(o) > 0 && o[0].k == "id" {
			path := strings.SplitN(url, "?", 2)[0]
			if i := strings.Index(path, "/sobjects/"); i >= 0 {
				objName, _, _ := strings.Cut(path[i+len("/sobjects/"):], "/")
				headers = obj{{"Location", path[:i] + "/sobjects/" + objName + "/" + o[0].v.(string)}}
			}
		}
	}
	return rec.Code, out, headers
}

// nodeValue turns a parsed body into ordered values (obj, []any, scalars).
func nodeValue(n node) any {
	switch n.kind {
	case 's':
		return n.s
	case 'n':
		return n.num
	case 'b':
		return n.b
	case 'z':
		return nil
	case 'a':
		out := []any{}
		for _, x := range n.arr {
			out = append(out, nodeValue(x))
		}
		return out
	}
	out := obj{}
	for _, m := range n.obj {
		out = append(out, kv{m.name, nodeValue(m.val)})
	}
	return out
}

// responseValue decodes a response body into the values nodeValue gives
// (obj, []any, json.Number, string, bool, nil).
func responseValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var value func() (any, error)
	value = func() (any, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case json.Delim('{'):
			out := obj{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := value()
				if err != nil {
					return nil, err
				}
				out = append(out, kv{k.(string), v})
			}
			_, err := dec.Token()
			return out, err
		case json.Delim('['):
			out := []any{}
			for dec.More() {
				v, err := value()
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
		return tok, nil
	}
	v, err := value()
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// resolveRefs replaces @{ref.path} in s with values of earlier bodies.
func resolveRefs(s string, bodies map[string]any) (string, error) {
	var err error
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := refPattern.FindStringSubmatch(m)
		v, e := refValue(sub[1], sub[2], bodies)
		if e != nil {
			err = e
			return m
		}
		switch x := v.(type) {
		case string:
			return x
		case json.Number:
			return string(x)
		}
		return fmt.Sprint(v)
	})
	return out, err
}

func refValue(ref, path string, bodies map[string]any) (any, error) {
	cur, ok := bodies[ref]
	bad := fmt.Errorf("Invalid reference specified. No value for %s%s found in %s. Provided referenceId ('%s') must be a valid reference.", ref, path, ref, ref)
	if !ok {
		return nil, bad
	}
	for _, step := range stepPattern.FindAllString(path, -1) {
		if strings.HasPrefix(step, ".") {
			o, ok := cur.(obj)
			if !ok {
				return nil, bad
			}
			found := false
			for _, e := range o {
				if e.k == step[1:] {
					cur, found = e.v, true
				}
			}
			if !found {
				return nil, bad
			}
			continue
		}
		i, _ := strconv.Atoi(step[1 : len(step)-1])
		a, ok := cur.([]any)
		if !ok || i >= len(a) {
			return nil, bad
		}
		cur = a[i]
	}
	return cur, nil
}

// renderNode re-encodes a subrequest body with references resolved.
func renderNode(n node, bodies map[string]any) ([]byte, error) {
	var conv func(n node) (any, error)
	conv = func(n node) (any, error) {
		switch n.kind {
		case 's':
			if m := refPattern.FindStringSubmatch(n.s); m != nil && m[0] == n.s {
				return refValue(m[1], m[2], bodies)
			}
			return resolveRefs(n.s, bodies)
		case 'n':
			return n.num, nil
		case 'b':
			return n.b, nil
		case 'z':
			return nil, nil
		case 'a':
			out := []any{}
			for _, x := range n.arr {
				v, err := conv(x)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}
		out := obj{}
		for _, m := range n.obj {
			v, err := conv(m.val)
			if err != nil {
				return nil, err
			}
			out = append(out, kv{m.name, v})
		}
		return out, nil
	}
	v, err := conv(n)
	if err != nil {
		return nil, err
	}
	return marshal(v)
}
