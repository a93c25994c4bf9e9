package sftest

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bulk API 2.0 ingest and query jobs. A job is processed when it is closed
// (UploadComplete); the first status poll afterwards answers InProgress and
// later polls answer JobComplete (or Failed), so clients exercise their
// polling loop.

type bulkJob struct {
	id, operation, object, extField string
	query                           string
	kind                            string // "ingest" or "query"
	createdBy                       string
	created, modstamp               time.Time
	state                           string
	polls                           int
	lineEnding, delimiter           string
	version                         string
	data                            bytes.Buffer
	header                          []string
	success, failed, unprocessed    [][]string
	processed, failedCount, retries int
	errorMessage                    string
	rows                            [][]string // query results (without header)
	cols                            []string
}

func (j *bulkJob) delim() rune {
	switch j.delimiter {
	case "TAB":
		return '\t'
	case "SEMICOLON":
		return ';'
	case "PIPE":
		return '|'
	case "CARET":
		return '^'
	case "BACKQUOTE":
		return '`'
	}
	return ','
}

func (o *Org) jobInfo(j *bulkJob, full bool) obj {
	out := obj{{"id", j.id}, {"operation", j.operation}, {"object", j.object}, {"createdById", j.createdBy},
		{"createdDate", formatDateTime(j.created)}, {"systemModstamp", formatDateTime(j.modstamp)}, {"state", j.state}}
	if j.extField != "" {
		out = append(out, kv{"externalIdFieldName", j.extField})
	}
	out = append(out, kv{"concurrencyMode", "Parallel"}, kv{"contentType", "CSV"})
	out = append(out, kv{"apiVersion", json.Number(j.version)})
	if j.kind == "ingest" && !full {
		out = append(out, kv{"contentUrl", "services/data/v" + j.version + "/jobs/ingest/" + j.id + "/batches"})
	}
	if full {
		if j.kind == "ingest" {
			out = append(out, kv{"jobType", "V2Ingest"})
		} else {
			out = append(out, kv{"jobType", "V2Query"})
		}
	}
	out = append(out, kv{"lineEnding", j.lineEnding}, kv{"columnDelimiter", j.delimiter})
	if full {
		out = append(out, kv{"numberRecordsProcessed", j.processed})
		if j.kind == "ingest" {
			out = append(out, kv{"numberRecordsFailed", j.failedCount})
		}
		out = append(out, kv{"retries", j.retries}, kv{"totalProcessingTime", 0})
		if j.kind == "ingest" {
			out = append(out, kv{"apiActiveProcessingTime", 0}, kv{"apexProcessingTime", 0})
		}
		if j.errorMessage != "" {
			out = append(out, kv{"errorMessage", j.errorMessage})
		}
	}
	return out
}

func (o *Org) handleJobs(w http.ResponseWriter, r *http.Request, info *reqInfo, segs []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(segs) < 2 || (segs[1] != "ingest" && segs[1] != "query") {
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	kind := segs[1]
	info.endpoint = "bulk." + kind
	if len(segs) == 2 {
		switch r.Method {
		case http.MethodPost:
			info.endpoint += ".create"
			o.createJob(w, r, info, kind)
		case http.MethodGet:
			list := []any{}
			for _, j := range o.jobs {
				if j.kind == kind {
					list = append(list, o.jobInfo(j, false))
				}
			}
			writeJSON(w, r, http.StatusOK, obj{{"done", true}, {"records", list}, {"nextRecordsUrl", nil}})
		default:
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,POST"))
		}
		return
	}
	j := o.jobs[segs[2]]
	if j == nil || j.kind != kind {
		writeErr(w, r, http.StatusNotFound, apiErr{"Job not found", "NOT_FOUND", nil})
		return
	}
	info.object = j.object
	if len(segs) == 3 {
		switch r.Method {
		case http.MethodGet:
			info.endpoint += ".info"
			if j.state == "UploadComplete" || j.state == "InProgress" {
				j.polls++
				if j.polls == 1 {
					j.state = "InProgress"
				} else {
					j.state = o.finalState(j)
				}
			}
			writeJSON(w, r, http.StatusOK, o.jobInfo(j, true))
		case http.MethodPatch:
			info.endpoint += ".state"
			o.setJobState(w, r, j)
		case http.MethodDelete:
			if j.state == "Open" || j.state == "InProgress" {
				writeErr(w, r, http.StatusBadRequest, apiErr{"Job is not in a state that can be deleted", "INVALIDJOBSTATE", nil})
				return
			}
			delete(o.jobs, j.id)
			w.WriteHeader(http.StatusNoContent)
		default:
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,PATCH,DELETE"))
		}
		return
	}
	switch {
	case kind == "ingest" && segs[3] == "batches" && r.Method == http.MethodPut:
		info.endpoint += ".upload"
		if j.state != "Open" {
			writeErr(w, r, http.StatusConflict, apiErr{"Job is not open for data upload", "INVALIDJOBSTATE", nil})
			return
		}
		b, _ := io.ReadAll(r.Body)
		if j.data.Len() > 0 {
			// A later upload repeats the header row: drop it.
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			} else {
				b = nil
			}
		}
		j.data.Write(b)
		w.WriteHeader(http.StatusCreated)
	case kind == "ingest" && r.Method == http.MethodGet && (segs[3] == "successfulResults" || segs[3] == "failedResults" || segs[3] == "unprocessedrecords"):
		info.endpoint += "." + segs[3]
		var rows [][]string
		var head []string
		raw := 2
		switch segs[3] {
		case "successfulResults":
			head, rows = append([]string{"sf__Id", "sf__Created"}, j.header...), j.success
		case "failedResults":
			head, rows = append([]string{"sf__Id", "sf__Error"}, j.header...), j.failed
		default:
			head, rows, raw = j.header, j.unprocessed, 0
		}
		info.records = len(rows)
		writeCSV(w, head, rows, raw)
	case kind == "query" && segs[3] == "results" && r.Method == http.MethodGet:
		info.endpoint += ".results"
		o.queryResults(w, r, info, j)
	default:
		writeErr(w, r, http.StatusNotFound, errNotFound)
	}
}

func (o *Org) finalState(j *bulkJob) string {
	if j.errorMessage != "" {
		return "Failed"
	}
	return "JobComplete"
}

func (o *Org) createJob(w http.ResponseWriter, r *http.Request, info *reqInfo, kind string) {
	pb, e := readBody(r)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	get := func(name string) string { n, _ := pb.root.member(name); return n.s }
	o.jobSeq++
	j := &bulkJob{id: makeID("750", o.jobSeq), kind: kind, operation: get("operation"), createdBy: info.sess.userID,
		created: o.clock(), modstamp: o.clock(), lineEnding: get("lineEnding"), delimiter: get("columnDelimiter"), version: info.version}
	if j.lineEnding == "" {
		j.lineEnding = "LF"
	}
	if j.delimiter == "" {
		j.delimiter = "COMMA"
	}
	if kind == "query" {
		j.query = get("query")
		if j.operation == "" {
			j.operation = "query"
		}
		if j.operation != "query" && j.operation != "queryAll" {
			writeErr(w, r, http.StatusBadRequest, apiErr{"Invalid operation: " + j.operation, "INVALIDJOB", nil})
			return
		}
		sq, qe := o.parseSOQL(j.query)
		if qe != nil {
			writeErr(w, r, http.StatusBadRequest, apiErr{qe.render(j.query), qe.code, nil})
			return
		}
		j.object = sq.obj.Name
		info.object = j.object
		o.runQueryJob(j, sq)
		j.state = "UploadComplete"
		o.jobs[j.id] = j
		writeJSON(w, r, http.StatusOK, o.jobInfo(j, false))
		return
	}
	s := o.object(get("object"))
	if s == nil {
		writeErr(w, r, http.StatusBadRequest, apiErr{"Entity '" + get("object") + "' is not supported by the Bulk API.", "INVALIDENTITY", nil})
		return
	}
	j.object = s.Name
	info.object = s.Name
	switch j.operation {
	case "insert", "update", "delete", "hardDelete":
	case "upsert":
		f := extField(s, get("externalIdFieldName"))
		if f == nil {
			writeErr(w, r, http.StatusBadRequest, apiErr{"External ID field '" + get("externalIdFieldName") + "' is not valid for upsert", "INVALIDJOB", nil})
			return
		}
		j.extField = f.Name
	default:
		writeErr(w, r, http.StatusBadRequest, apiErr{"Invalid operation: " + j.operation, "INVALIDJOB", nil})
		return
	}
	j.state = "Open"
	o.jobs[j.id] = j
	writeJSON(w, r, http.StatusOK, o.jobInfo(j, false))
}

func (o *Org) setJobState(w http.ResponseWriter, r *http.Request, j *bulkJob) {
	pb, e := readBody(r)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, *e)
		return
	}
	n, _ := pb.root.member("state")
	switch {
	case n.s == "UploadComplete" && j.kind == "ingest" && j.state == "Open":
		j.state = "UploadComplete"
		j.modstamp = o.clock()
		o.processIngest(j)
	case n.s == "Aborted" && (j.state == "Open" || j.state == "UploadComplete" || j.state == "InProgress"):
		if j.state == "Open" && j.kind == "ingest" {
			j.header, j.unprocessed, _ = readCSV(j)
		}
		j.state = "Aborted"
		j.modstamp = o.clock()
	default:
		writeErr(w, r, http.StatusBadRequest, apiErr{fmt.Sprintf("Invalid state transition from %s to %s", j.state, n.s), "INVALIDJOBSTATE", nil})
		return
	}
	writeJSON(w, r, http.StatusOK, o.jobInfo(j, false))
}

func readCSV(j *bulkJob) ([]string, [][]string, error) {
	cr := csv.NewReader(bytes.NewReader(j.data.Bytes()))
	cr.Comma = j.delim()
	cr.FieldsPerRecord = -1
	all, err := cr.ReadAll()
	if err != nil || len(all) == 0 {
		return nil, nil, err
	}
	return all[0], all[1:], nil
}

// processIngest applies a closed ingest job's rows.
func (o *Org) processIngest(j *bulkJob) {
	s := o.object(j.object)
	header, rows, err := readCSV(j)
	j.header = header
	if err != nil {
		j.errorMessage = "InvalidBatch : Failed to parse CSV: " + err.Error()
		return
	}
	// Resolve columns first: an unknown column fails the whole job.
	for _, col := range header {
		name, _, isRel := strings.Cut(col, ".")
		if isRel {
			if rf := s.byRel[strings.ToLower(name)]; rf != nil {
				continue
			}
		} else if s.field(col) != nil {
			continue
		}
		j.errorMessage = "InvalidBatch : Field name not found : " + col
		j.unprocessed = rows
		return
	}
	for _, row := range rows {
		j.processed++
		id, created, errs := o.ingestRow(j, s, header, row)
		if len(errs) > 0 {
			j.failedCount++
			var parts []string
			for _, e := range errs {
				parts = append(parts, fmt.Sprintf("%s:%s:%s --", e.ErrorCode, e.Message, strings.Join(e.Fields, ",")))
			}
			j.failed = append(j.failed, append([]string{id, strings.Join(parts, " ")}, row...))
			continue
		}
		j.success = append(j.success, append([]string{id, strconv.FormatBool(created)}, row...))
	}
}

// ingestRow turns one CSV row into body members and applies it. Empty cells
// are ignored, #N/A sets null, Rel__r.Field resolves a parent.
func (o *Org) ingestRow(j *bulkJob, s *sobject, header, row []string) (string, bool, []apiErr) {
	var members []member
	var idVal, keyVal string
	for i, col := range header {
		if i >= len(row) || row[i] == "" {
			continue
		}
		val := row[i]
		n := node{kind: 's', s: val, token: val}
		if val == "#N/A" {
			n = node{kind: 'z', token: "null"}
		}
		if name, field, ok := strings.Cut(col, "."); ok {
			members = append(members, member{name, node{kind: 'o', obj: []member{{field, n}}}})
			continue
		}
		f := s.field(col)
		if f.Name == "Id" {
			idVal = val
			continue
		}
		if j.extField != "" && f.Name == j.extField {
			keyVal = val
		}
		if n.kind == 's' {
			if _, reqErr, _ := o.convertValue(f, n); reqErr != nil {
				return "", false, []apiErr{{fmt.Sprintf("%s: value not of required type: %s", f.Label, val), "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{f.Name}}}
			}
		}
		members = append(members, member{f.Name, n})
	}
	userID := j.createdBy
	// Lock contention is retried inside the job (counted in retries).
	for attempt := 0; ; attempt++ {
		id, created, errs := o.ingestApply(j, s, members, idVal, keyVal, userID)
		if len(errs) == 1 && errs[0].ErrorCode == "UNABLE_TO_LOCK_ROW" && attempt < 10 {
			j.retries++
			continue
		}
		return id, created, errs
	}
}

func (o *Org) ingestApply(j *bulkJob, s *sobject, members []member, idVal, keyVal, userID string) (string, bool, []apiErr) {
	byID := func() (*record, []apiErr) {
		id := normalizeID(idVal)
		if id == "" || id[:3] != s.KeyPrefix {
			return nil, []apiErr{{fmt.Sprintf("%s ID: id value of incorrect type: %s", s.Label, idVal), "MALFORMED_ID", []string{"Id"}}}
		}
		rec := o.byID[id]
		if rec == nil {
			return nil, []apiErr{{"invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", []string{}}}
		}
		if rec.deleted() {
			return nil, []apiErr{{"entity is deleted", "ENTITY_IS_DELETED", []string{}}}
		}
		return rec, nil
	}
	switch j.operation {
	case "insert":
		rec, reqErr, errs := o.create(nil, s, members, userID)
		if reqErr != nil {
			errs = append(errs, *reqErr)
		}
		if len(errs) > 0 {
			return "", false, errs
		}
		return rec.id, true, nil
	case "update":
		if idVal == "" {
			return "", false, []apiErr{{"Id not specified in an update call", "MISSING_ARGUMENT", []string{"Id"}}}
		}
		rec, errs := byID()
		if errs != nil {
			return "", false, errs
		}
		reqErr, errs := o.update(nil, rec, members, userID)
		if reqErr != nil {
			errs = append(errs, *reqErr)
		}
		if len(errs) > 0 {
			return rec.id, false, errs
		}
		return rec.id, false, nil
	case "upsert":
		f := s.field(j.extField)
		if keyVal == "" {
			// A blank external id inserts a new record.
			rec, reqErr, errs := o.create(nil, s, members, userID)
			if reqErr != nil {
				errs = append(errs, *reqErr)
			}
			if len(errs) > 0 {
				return "", false, errs
			}
			return rec.id, true, nil
		}
		matches := o.lookup(f, keyVal)
		switch len(matches) {
		case 0:
			rec, reqErr, errs := o.create(nil, s, members, userID)
			if reqErr != nil {
				errs = append(errs, *reqErr)
			}
			if len(errs) > 0 {
				return "", false, errs
			}
			return rec.id, true, nil
		case 1:
			reqErr, errs := o.update(nil, matches[0], members, userID)
			if reqErr != nil {
				errs = append(errs, *reqErr)
			}
			if len(errs) > 0 {
				return "", false, errs
			}
			return matches[0].id, false, nil
		}
		var ids []string
		for _, m := range matches {
			ids = append(ids, m.id)
		}
		return "", false, []apiErr{{fmt.Sprintf("%s: more than one record found for external id field: [%s]", f.Label, strings.Join(ids, ", ")), "DUPLICATE_EXTERNAL_ID", []string{f.Name}}}
	default: // delete, hardDelete
		rec, errs := byID()
		if errs != nil {
			return "", false, errs
		}
		if e := o.checkLock(s, rec, nil); e != nil {
			return rec.id, false, []apiErr{*e}
		}
		o.deleteRecord(nil, rec, userID, o.clock())
		if j.operation == "hardDelete" {
			o.purge(rec)
		}
		return rec.id, false, nil
	}
}

// purge removes a deleted record for good (hard delete).
func (o *Org) purge(r *record) {
	delete(o.byID, r.id)
	list := o.records[r.obj]
	for i, x := range list {
		if x == r {
			o.records[r.obj] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

// writeCSV writes a CSV body: every row value quoted, header cells from
// rawFrom on written as uploaded (the job's own header), earlier ones quoted.
func writeCSV(w http.ResponseWriter, head []string, rows [][]string, rawFrom int) {
	w.Header().Set("Content-Type", "text/csv")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	quote := func(c string) string { return `"` + strings.ReplaceAll(c, `"`, `""`) + `"` }
	for i, c := range head {
		if i > 0 {
			buf.WriteByte(',')
		}
		if i >= rawFrom {
			buf.WriteString(c)
		} else {
			buf.WriteString(quote(c))
		}
	}
	buf.WriteByte('\n')
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(quote(c))
		}
		buf.WriteByte('\n')
	}
	_, _ = w.Write(buf.Bytes())
}

// runQueryJob evaluates a Bulk 2.0 query job's SOQL into CSV rows.
func (o *Org) runQueryJob(j *bulkJob, sq *soqlQuery) {
	for _, it := range sq.items {
		var parts []string
		for _, rf := range it.path.rels {
			parts = append(parts, rf.RelationshipName)
		}
		j.cols = append(j.cols, strings.Join(append(parts, it.path.field.Name), "."))
	}
	for _, r := range o.run(sq, j.operation == "queryAll") {
		row := make([]string, len(sq.items))
		for i, it := range sq.items {
			row[i] = csvValue(it.path.field, o.pathValue(r, it.path))
		}
		j.rows = append(j.rows, row)
	}
	j.processed = len(j.rows)
}

func csvValue(f *fieldDef, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case bool:
		return strconv.FormatBool(x)
	}
	val := jsonValue(f, v)
	if n, ok := val.(json.Number); ok {
		return string(n)
	}
	return fmt.Sprint(val)
}

func (o *Org) queryResults(w http.ResponseWriter, r *http.Request, info *reqInfo, j *bulkJob) {
	if j.state != "JobComplete" {
		writeErr(w, r, http.StatusPreconditionFailed, apiErr{"Job is not complete", "JOB_NOT_COMPLETE", nil})
		return
	}
	q := r.URL.Query()
	offset := 0
	if loc := q.Get("locator"); loc != "" {
		b, err := base64.StdEncoding.DecodeString(loc)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(j.rows) {
			writeErr(w, r, http.StatusBadRequest, apiErr{"Invalid locator", "INVALID_LOCATOR", nil})
			return
		}
		offset = n
	}
	size := 50000
	if m, err := strconv.Atoi(q.Get("maxRecords")); err == nil && m > 0 {
		size = m
	}
	end := min(offset+size, len(j.rows))
	next := "null"
	if end < len(j.rows) {
		next = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	info.records = end - offset
	w.Header().Set("Sforce-Locator", next)
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-offset))
	writeCSV(w, j.cols, j.rows[offset:end], len(j.cols))
}
