package sftest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultBatch   = 2000
	cursorIdle     = 15 * time.Minute
	cursorsPerUser = 10
)

// cursor is an open query locator.
type cursor struct {
	id       string
	userID   string
	rows     []*record // the result set, fixed when the query ran
	items    []selectItem
	batch    int
	all      bool
	lastUsed time.Time
	seq      int
}

var errBadLocator = apiErr{"invalid query locator", "INVALID_QUERY_LOCATOR", nil}

// batchSize reads Sforce-Query-Options: batchSize=N, clamped to 200..2000.
func batchSize(r *http.Request) int {
	for _, part := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		return min(max(n, 200), 2000)
	}
	return defaultBatch
}

func (o *Org) handleQuery(w http.ResponseWriter, r *http.Request, info *reqInfo, segs []string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,HEAD"))
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	all := segs[0] == "queryAll"
	if len(segs) == 2 {
		o.queryMore(w, r, info, segs[0], segs[1])
		return
	}
	q := r.URL.Query().Get("q")
	if q == "" {
		writeErr(w, r, http.StatusBadRequest, apiErr{"Missing required parameter: q", "MALFORMED_QUERY", nil})
		return
	}
	sq, e := o.parseSOQL(q)
	if e != nil {
		writeErr(w, r, http.StatusBadRequest, apiErr{e.render(q), e.code, nil})
		return
	}
	info.object = sq.obj.Name
	rows := o.run(sq, all)
	if sq.count {
		writeJSON(w, r, http.StatusOK, obj{{"totalSize", len(rows)}, {"done", true}, {"records", []any{}}})
		return
	}
	if sq.countOf {
		n := 0
		for _, row := range rows {
			if o.pathValue(row, sq.items[0].path) != nil {
				n++
			}
		}
		info.records = 1
		writeJSON(w, r, http.StatusOK, obj{{"totalSize", 1}, {"done", true}, {"records", []any{
			obj{{"attributes", obj{{"type", "AggregateResult"}}}, {"expr0", n}}}}})
		return
	}
	c := &cursor{userID: info.sess.userID, rows: rows, items: sq.items, batch: batchSize(r), all: all}
	o.writePage(w, r, info, c, 0, segs[0])
}

// writePage answers one page starting at offset, keeping or dropping the
// cursor.
func (o *Org) writePage(w http.ResponseWriter, r *http.Request, info *reqInfo, c *cursor, offset int, kind string) {
	end := min(offset+c.batch, len(c.rows))
	page := make([]any, 0, end-offset)
	for _, rec := range c.rows[offset:end] {
		page = append(page, o.renderRow(rec, c.items)) // rendered when fetched
	}
	info.records = len(page)
	body := obj{{"totalSize", len(c.rows)}, {"done", end >= len(c.rows)}}
	if end < len(c.rows) {
		if c.id == "" {
			o.openCursor(c)
		}
		c.lastUsed = o.clock()
		body = append(body, kv{"nextRecordsUrl", "/services/data/v" + info.version + "/" + kind + "/" + c.id + "-" + strconv.Itoa(end)})
	} else if c.id != "" {
		delete(o.cursors, c.id)
	}
	body = append(body, kv{"records", page})
	writeJSON(w, r, http.StatusOK, body)
}

func (o *Org) openCursor(c *cursor) {
	o.cursorSeq++
	c.seq = o.cursorSeq
	c.id = makeID("01g", o.cursorSeq)
	o.cursors[c.id] = c
	// Ten open cursors per user: the oldest is released.
	var mine []*cursor
	for _, x := range o.cursors {
		if x.userID == c.userID {
			mine = append(mine, x)
		}
	}
	for len(mine) > cursorsPerUser {
		oldest := 0
		for i, x := range mine {
			if x.seq < mine[oldest].seq {
				oldest = i
			}
		}
		delete(o.cursors, mine[oldest].id)
		mine = append(mine[:oldest], mine[oldest+1:]...)
	}
}

func (o *Org) queryMore(w http.ResponseWriter, r *http.Request, info *reqInfo, kind, locator string) {
	id, off, ok := strings.Cut(locator, "-")
	offset, err := strconv.Atoi(off)
	c := o.cursors[id]
	if !ok || err != nil || c == nil || offset < 0 || offset > len(c.rows) {
		writeErr(w, r, http.StatusBadRequest, errBadLocator)
		return
	}
	if o.clock().Sub(c.lastUsed) > cursorIdle {
		delete(o.cursors, id)
		writeErr(w, r, http.StatusBadRequest, errBadLocator)
		return
	}
	if len(c.rows) > 0 {
		info.object = c.rows[0].obj.Name
	}
	o.writePage(w, r, info, c, offset, kind)
}

// OpenCursors returns the number of open query locators.
func (o *Org) OpenCursors() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.cursors)
}
