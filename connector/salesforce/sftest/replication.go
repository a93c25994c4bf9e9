package sftest

import (
	"net/http"
	"time"
)

// handleReplication serves getUpdated (/sobjects/{Obj}/updated/) and
// getDeleted (/sobjects/{Obj}/deleted/). The window is [start, end) with
// both ends truncated to the minute and end capped at now.
func (o *Org) handleReplication(w http.ResponseWriter, r *http.Request, info *reqInfo, s *sobject, kind string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,HEAD"))
		return
	}
	info.endpoint = "sobject.get" + map[string]string{"updated": "Updated", "deleted": "Deleted"}[kind]
	q := r.URL.Query()
	if q.Get("start") == "" || q.Get("end") == "" {
		writeErr(w, r, http.StatusBadRequest, apiErr{"start and end are required parameters", "MISSING_ARGUMENT", nil})
		return
	}
	start, ok1 := parseDateTime(q.Get("start"))
	end, ok2 := parseDateTime(q.Get("end"))
	if !ok1 || !ok2 {
		writeErr(w, r, http.StatusBadRequest, apiErr{"start and end must be valid dateTime values", "INVALID_REPLICATION_DATE", nil})
		return
	}
	now := o.clock()
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	if capped := now.Truncate(time.Minute); end.After(capped) {
		end = capped
	}
	if start.Before(now.AddDate(0, 0, -30)) {
		writeErr(w, r, http.StatusBadRequest, apiErr{"startDate cannot be more than 30 days ago", "INVALID_REPLICATION_DATE", nil})
		return
	}
	if start.After(end) {
		writeErr(w, r, http.StatusBadRequest, apiErr{"startDate must chronologically precede endDate by more than one minute", "INVALID_REPLICATION_DATE", nil})
		return
	}
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	if kind == "updated" {
		ids := []string{}
		for _, rec := range o.records[s] {
			if ms, _ := rec.f["SystemModstamp"].(time.Time); !rec.deleted() && in(ms) {
				ids = append(ids, rec.id)
			}
		}
		info.records = len(ids)
		writeJSON(w, r, http.StatusOK, obj{{"ids", ids}, {"latestDateCovered", formatDateTime(end)}})
		return
	}
	deleted := []any{}
	for _, rec := range o.records[s] {
		if ms, _ := rec.f["SystemModstamp"].(time.Time); rec.deleted() && in(ms) {
			deleted = append(deleted, obj{{"id", rec.id}, {"deletedDate", formatDateTime(ms)}})
		}
	}
	info.records = len(deleted)
	earliest := now.AddDate(0, 0, -30).Truncate(time.Minute)
	writeJSON(w, r, http.StatusOK, obj{{"deletedRecords", deleted}, {"earliestDateAvailable", formatDateTime(earliest)}, {"latestDateCovered", formatDateTime(end)}})
}
