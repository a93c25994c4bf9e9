package sftest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/connector"
)

// Defaults used when Options leaves users or connected apps empty.
const (
	DefaultUsername     = "integration@casebridge.example"
	DefaultPassword     = "test-password"
	DefaultClientID     = "casebridge-test-client-id"
	DefaultClientSecret = "casebridge-test-client-secret"
	DefaultRefreshToken = "casebridge-test-refresh-token"
	DefaultAPIVersion   = "62.0"
	DefaultDailyLimit   = 15000
)

// User is a login of the fake org. Username must be a seed user or it is
// added as a new User record.
type User struct {
	Username      string
	Password      string
	SecurityToken string // appended to the password in the password flow
	RefreshToken  string // accepted by grant_type=refresh_token for any app
}

// ConnectedApp is an OAuth client of the fake org.
type ConnectedApp struct {
	ClientID     string
	ClientSecret string
	// JWTPublicKeyPEM, when set, makes the JWT bearer flow verify RS256
	// signatures with this key (PKIX or PKCS#1 PEM, or a certificate).
	JWTPublicKeyPEM string
	// RunAsUser is the username of the client credentials flow's run-as user;
	// empty means the flow answers "no client credentials user enabled".
	RunAsUser string
	// ApprovedUsers limits the JWT flow to these usernames (empty: all).
	ApprovedUsers []string
	Scope         string // default "api"
}

// Options configures a fake org. The zero value is a seeded org with one
// user (DefaultUsername/DefaultPassword) and one connected app
// (DefaultClientID/DefaultClientSecret, run-as DefaultUsername).
type Options struct {
	APIVersion  string // highest version served, default DefaultAPIVersion
	InstanceURL string // default: scheme and host of each request
	Users       []User
	Apps        []ConnectedApp
	Empty       bool             // schema and users only, no seed records
	Now         func() time.Time // clock, default time.Now
	DailyLimit  int              // DailyApiRequests.Max, default DefaultDailyLimit
	// ValidationRules turns on the validation rules of doc/architecture.md §11.1
	// (FIELD_CUSTOM_VALIDATION_EXCEPTION): a case's last name is required
	// when any name is known; an outgoing referral needs consent checked or
	// an override reason.
	ValidationRules bool
	// Schema, when set, replaces the built-in vcms__ schema: the org
	// serves these objects, as a connector described them (the objects of
	// a file saved by casebridge describe --json), beside its own User
	// object, and holds no records but its users (as with Empty).
	// Picklists not marked Restricted take any value.
	Schema []*connector.Object

	// Faults.
	Latency            time.Duration // added to every request
	Fail503Every       int           // every Nth /services/data request answers 503 SERVER_UNAVAILABLE
	SessionMaxRequests int           // a session expires after this many data requests (0: never)
	LockKeys           []string      // see Org.LockRows
}

// LogEntry is one request seen by the fake org.
type LogEntry struct {
	Time     time.Time
	Method   string
	Path     string
	Query    string
	Endpoint string // e.g. "query", "sobject.create", "collections.upsert", "oauth.token"
	Object   string // sObject type when the endpoint has one
	Status   int
	Records  int // records sent (writes) or returned (reads) in this call
	// ReadOnly marks a request that is not a GET but changes nothing: a
	// Composite request whose subrequests are all GETs (describes, say).
	ReadOnly bool
}

type session struct {
	token    string
	userID   string
	requests int
	expired  bool
}

// Org is an in-process fake Salesforce org. All methods are safe for
// concurrent use.
type Org struct {
	mu       sync.Mutex
	opts     Options
	now      func() time.Time
	orgID    string
	versions []string
	objects  map[string]*sobject
	order    []*sobject
	users    map[string]*User // by lower-case username
	apps     map[string]*ConnectedApp
	sessions map[string]*session

	records   map[*sobject][]*record
	byID      map[string]*record
	uniq      map[*fieldDef]map[string][]*record
	counters  map[string]int // id counters by key prefix
	cursors   map[string]*cursor
	cursorSeq int

	jobs   map[string]*bulkJob
	jobSeq int

	apiUsed    int
	dataReqs   int
	locks      map[string]int
	log        []LogEntry
	latency    time.Duration
	fail503    int
	writesDown bool // every data request but a GET answers 503: an outage during writes
	sessionMax int
	dailyLimit int
	tokenSeq   int
}

// New builds a fake org from the embedded seed.
func New(opts Options) *Org {
	o, err := newOrg(opts)
	if err != nil {
		panic(err)
	}
	return o
}

// Build is New returning an error instead of panicking: for a Schema
// given by a person (casebridge fakeorg --schema), which may not hold.
func Build(opts Options) (*Org, error) { return newOrg(opts) }

func newOrg(opts Options) (*Org, error) {
	seed, err := loadSeed()
	if err != nil {
		return nil, err
	}
	objs, order, err := buildSchema(seed)
	if err != nil {
		return nil, err
	}
	if opts.Schema != nil {
		objs, order, err = schemaObjects(opts.Schema, objs["user"])
		if err != nil {
			return nil, err
		}
		opts.Empty = true
	}
	if opts.APIVersion == "" {
		opts.APIVersion = DefaultAPIVersion
	}
	if opts.DailyLimit == 0 {
		opts.DailyLimit = DefaultDailyLimit
	}
	if len(opts.Users) == 0 {
		opts.Users = []User{{Username: DefaultUsername, Password: DefaultPassword, RefreshToken: DefaultRefreshToken}}
	}
	if len(opts.Apps) == 0 {
		opts.Apps = []ConnectedApp{{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret, RunAsUser: opts.Users[0].Username}}
	}
	o := &Org{
		opts: opts, now: opts.Now, orgID: seed.OrganizationID + idSuffix(seed.OrganizationID),
		objects: objs, order: order,
		users: map[string]*User{}, apps: map[string]*ConnectedApp{}, sessions: map[string]*session{},
		records: map[*sobject][]*record{}, byID: map[string]*record{}, uniq: map[*fieldDef]map[string][]*record{},
		counters: map[string]int{}, cursors: map[string]*cursor{}, locks: map[string]int{}, jobs: map[string]*bulkJob{},
		latency: opts.Latency, fail503: opts.Fail503Every, sessionMax: opts.SessionMaxRequests, dailyLimit: opts.DailyLimit,
	}
	if o.now == nil {
		o.now = time.Now
	}
	maxV, err := strconv.ParseFloat(opts.APIVersion, 64)
	if err != nil || maxV < 20 {
		return nil, fmt.Errorf("sftest: bad APIVersion %q", opts.APIVersion)
	}
	for v := 20; v <= int(maxV); v++ {
		o.versions = append(o.versions, fmt.Sprintf("%d.0", v))
	}
	for i := range opts.Users {
		u := opts.Users[i]
		o.users[strings.ToLower(u.Username)] = &u
	}
	for i := range opts.Apps {
		a := opts.Apps[i]
		if a.Scope == "" {
			a.Scope = "api"
		}
		o.apps[a.ClientID] = &a
	}
	for _, k := range opts.LockKeys {
		o.locks[strings.ToLower(k)]++
	}
	if err := o.loadRecords(seed); err != nil {
		return nil, err
	}
	return o, nil
}

// NewServer starts an httptest server for a new fake org and closes it when
// the test ends. The server's URL is both login and instance URL.
func NewServer(t testing.TB, opts Options) (*Org, *httptest.Server) {
	t.Helper()
	o := New(opts)
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)
	return o, srv
}

// Handler returns the org's HTTP handler.
func (o *Org) Handler() http.Handler { return http.HandlerFunc(o.serve) }

// OrganizationID returns the org's 18-character id.
func (o *Org) OrganizationID() string { return o.orgID }

// APIVersion returns the highest API version served, e.g. "62.0".
func (o *Org) APIVersion() string { return o.opts.APIVersion }

func (o *Org) dataPath() string { return "/services/data/v" + o.opts.APIVersion }

func (o *Org) clock() time.Time { return o.now().UTC() }

// SetClock replaces the org's clock (used for CreatedDate, SystemModstamp,
// token issue times, date literals and cursor expiry).
func (o *Org) SetClock(now func() time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.now = now
}

// SetLatency sets a delay added to every request.
func (o *Org) SetLatency(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.latency = d
}

// SetFail503Every makes every nth /services/data request fail with 503
// SERVER_UNAVAILABLE (0 turns it off).
func (o *Org) SetFail503Every(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail503, o.dataReqs = n, 0
}

// SetWritesDown makes every data request but a GET (every write, and
// queries sent by POST) fail with 503 SERVER_UNAVAILABLE while down is
// true: an outage that starts after a run has read.
func (o *Org) SetWritesDown(down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writesDown = down
}

// SetSessionMaxRequests makes every session expire after n data requests
// (0: never).
func (o *Org) SetSessionMaxRequests(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sessionMax = n
}

// ExpireSessions invalidates every access token issued so far.
func (o *Org) ExpireSessions() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		s.expired = true
	}
}

// SetDailyLimit sets DailyApiRequests.Max.
func (o *Org) SetDailyLimit(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dailyLimit = n
}

// SetAPIUsage sets the number of API requests used today.
func (o *Org) SetAPIUsage(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apiUsed = n
}

// APIUsage returns the API requests used today and the daily limit.
func (o *Org) APIUsage() (used, limit int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.apiUsed, o.dailyLimit
}

// LockRows makes the next write touching each key fail once with
// UNABLE_TO_LOCK_ROW. A key is a record Id, a value of any external-id or
// unique field (case-insensitive), or "Object.Field=value".
func (o *Org) LockRows(keys ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		o.locks[strings.ToLower(k)]++
	}
}

// maxLogEntries bounds the request log: past it the older half is dropped,
// so `casebridge fakeorg` left running does not grow without limit. Tests
// make far fewer requests between ResetRequests.
var maxLogEntries = 100000

// Requests returns a copy of the request log (the newest 100,000 entries
// at most).
func (o *Org) Requests() []LogEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]LogEntry(nil), o.log...)
}

// ResetRequests clears the request log.
func (o *Org) ResetRequests() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = nil
}

// CountRequests returns how many logged requests have the endpoint class.
func (o *Org) CountRequests(endpoint string) int {
	n := 0
	for _, e := range o.Requests() {
		if e.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// IssueToken returns a valid access token for username without an OAuth
// round trip (for tests of the data endpoints).
func (o *Org) IssueToken(username string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.userRecord(username)
	if u == nil {
		panic("sftest: no user " + username)
	}
	return o.newSession(u.id).token
}

// reqInfo carries what a handler learnt about a request into the log.
type reqInfo struct {
	endpoint string
	object   string
	records  int
	sess     *session
	version  string
	tx       *tx // shared by the subrequests of one composite request
	readOnly bool
}

// txn returns the transaction a write joins: the composite request's, or a
// fresh one.
func (i *reqInfo) txn() *tx {
	if i.tx != nil {
		return i.tx
	}
	return newTx()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (o *Org) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	lat := o.latency
	// Every response carries the server's time (RFC 9110 §6.6.1): the
	// org's clock, the one its SystemModstamps use, on logins and errors
	// too (net/http would put the machine's).
	w.Header().Set("Date", o.clock().Format(http.TimeFormat))
	o.mu.Unlock()
	if lat > 0 {
		time.Sleep(lat)
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			writeErr(w, r, http.StatusBadRequest, apiErr{"Unable to decompress the request body", "UNSUPPORTED_MEDIA_TYPE", nil})
			return
		}
		r.Body = io.NopCloser(zr)
		r.Header.Del("Content-Encoding")
	}
	var gz *gzip.Writer
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz = gzip.NewWriter(w)
		w = &gzipWriter{ResponseWriter: w, w: gz}
		defer gz.Close()
	}
	sw := &statusWriter{ResponseWriter: w}
	info := &reqInfo{}
	start := o.clock()
	o.route(sw, r, info)
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK)
	}
	o.mu.Lock()
	if len(o.log) >= maxLogEntries { // a long-running fakeorg keeps the newest
		n := copy(o.log, o.log[len(o.log)-maxLogEntries/2:])
		o.log = o.log[:n]
	}
	o.log = append(o.log, LogEntry{Time: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Endpoint: info.endpoint, Object: info.object, Status: sw.status, Records: info.records, ReadOnly: info.readOnly})
	o.mu.Unlock()
}

type gzipWriter struct {
	http.ResponseWriter
	w *gzip.Writer
}

func (g *gzipWriter) Write(b []byte) (int, error) { return g.w.Write(b) }

func (o *Org) route(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	p := r.URL.Path
	switch {
	case p == "/services/oauth2/token":
		info.endpoint = "oauth.token"
		o.handleToken(w, r)
	case strings.HasPrefix(p, "/services/Soap/u/") || strings.HasPrefix(p, "/services/Soap/c/"):
		info.endpoint = "soap.login"
		o.handleSOAP(w, r)
	case p == "/services/data" || p == "/services/data/":
		info.endpoint = "versions"
		o.handleVersions(w, r)
	case strings.HasPrefix(p, "/services/data/v"):
		o.handleData(w, r, info)
	default:
		info.endpoint = "unknown"
		writeErr(w, r, http.StatusNotFound, errNotFound)
	}
}

var errNotFound = apiErr{"The requested resource does not exist", "NOT_FOUND", nil}

func (o *Org) handleVersions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,HEAD"))
		return
	}
	out := []any{}
	for _, v := range o.versions {
		out = append(out, obj{{"label", versionLabel(v)}, {"url", "/services/data/v" + v}, {"version", v}})
	}
	writeJSON(w, r, http.StatusOK, out)
}

// versionLabel names a release: 20.0 is Winter '11, then Spring, Summer,
// Winter each year.
func versionLabel(v string) string {
	n, _ := strconv.Atoi(strings.TrimSuffix(v, ".0"))
	n -= 20
	season := []string{"Winter", "Spring", "Summer"}[n%3]
	return fmt.Sprintf("%s '%02d", season, 11+n/3)
}

func methodNotAllowed(method, allowed string) apiErr {
	return apiErr{fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", method, allowed), "METHOD_NOT_ALLOWED", nil}
}

// handleData authenticates, meters and routes /services/data/vXX.X/...
func (o *Org) handleData(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/data/v")
	ver, rest, _ := strings.Cut(rest, "/")
	info.version = ver
	known := false
	for _, v := range o.versions {
		if v == ver {
			known = true
		}
	}
	if !known {
		info.endpoint = "unknown"
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	segs := []string{}
	for _, s := range strings.Split(rest, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	info.endpoint = endpointClass(r.Method, segs)

	o.mu.Lock()
	sess := o.authenticate(r)
	var fault apiErr
	status := 0
	switch {
	case sess == nil:
		status, fault = http.StatusUnauthorized, apiErr{"Session expired or invalid", "INVALID_SESSION_ID", nil}
	case o.apiUsed >= o.dailyLimit:
		status, fault = http.StatusForbidden, apiErr{"TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED", nil}
	default:
		o.dataReqs++
		if o.fail503 > 0 && o.dataReqs%o.fail503 == 0 || o.writesDown && r.Method != http.MethodGet {
			status, fault = http.StatusServiceUnavailable, apiErr{"Server too busy", "SERVER_UNAVAILABLE", nil}
		} else {
			o.apiUsed++
			sess.requests++
		}
	}
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", o.apiUsed, o.dailyLimit))
	o.mu.Unlock()
	if status != 0 {
		writeErr(w, r, status, fault)
		return
	}
	info.sess = sess
	o.dispatch(w, r, info, segs)
}

func endpointClass(method string, segs []string) string {
	if len(segs) == 0 {
		return "resources"
	}
	switch segs[0] {
	case "limits":
		return "limits"
	case "query", "queryAll":
		if len(segs) > 1 {
			return segs[0] + ".more"
		}
		return segs[0]
	case "sobjects":
		switch {
		case len(segs) == 1:
			return "describeGlobal"
		case len(segs) == 3 && segs[2] == "describe":
			return "describe"
		case len(segs) == 2:
			if method == http.MethodPost {
				return "sobject.create"
			}
			return "sobject.info"
		case len(segs) == 4 && method == http.MethodPatch:
			return "sobject.upsert"
		case len(segs) == 4:
			return "sobject.getByExternalId"
		}
		switch method {
		case http.MethodGet:
			return "sobject.get"
		case http.MethodPatch:
			return "sobject.update"
		case http.MethodDelete:
			return "sobject.delete"
		}
		return "sobject"
	case "composite":
		if len(segs) >= 2 && segs[1] == "sobjects" {
			switch {
			case method == http.MethodPost && len(segs) == 2:
				return "collections.create"
			case method == http.MethodPatch && len(segs) == 2:
				return "collections.update"
			case method == http.MethodPatch:
				return "collections.upsert"
			case method == http.MethodDelete:
				return "collections.delete"
			default:
				return "collections.retrieve"
			}
		}
		return "composite"
	case "jobs":
		return "bulk"
	}
	return segs[0]
}

// authenticate returns the request's live session (o.mu held).
func (o *Org) authenticate(r *http.Request) *session {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "OAuth ")
	}
	if !ok {
		return nil
	}
	s := o.sessions[strings.TrimSpace(tok)]
	if s == nil || s.expired {
		return nil
	}
	if o.sessionMax > 0 && s.requests >= o.sessionMax {
		s.expired = true
		return nil
	}
	return s
}

func (o *Org) newSession(userID string) *session {
	o.tokenSeq++
	tok := fmt.Sprintf("%s!AQ0AQ%s%08d", o.orgID[:15], strings.ReplaceAll(userID, "0", "x"), o.tokenSeq)
	s := &session{token: tok, userID: userID}
	o.sessions[tok] = s
	return s
}

func (o *Org) dispatch(w http.ResponseWriter, r *http.Request, info *reqInfo, segs []string) {
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			writeErr(w, r, http.StatusMethodNotAllowed, methodNotAllowed(r.Method, "GET,HEAD"))
			return
		}
		base := "/services/data/v" + info.version
		res := map[string]any{}
		for _, k := range []string{"sobjects", "query", "queryAll", "limits", "composite", "jobs", "search", "recent", "tooling", "metadata", "analytics", "connect", "chatter", "tabs", "theme", "appMenu", "quickActions", "process", "actions", "support", "wave", "licensing", "scheduling", "ui-api", "eclair", "consent", "compactLayouts", "parameterizedSearch", "folders", "prechatForms", "serviceTemplates", "sobjects/search", "knowledgeManagement", "localizedvalue", "dedupe", "payments", "smartdatadiscovery", "async-queries", "jsonxform", "emailConnect", "iot", "identity"} {
			res[k] = base + "/" + k
		}
		res["identity"] = o.identityURL(r, info.sess.userID)
		writeJSON(w, r, http.StatusOK, res)
		return
	}
	switch segs[0] {
	case "limits":
		o.handleLimits(w, r)
	case "sobjects":
		o.handleSObjects(w, r, info, segs[1:])
	case "query", "queryAll":
		o.handleQuery(w, r, info, segs)
	case "composite":
		if len(segs) >= 2 && segs[1] == "sobjects" {
			o.handleCollections(w, r, info, segs[2:])
			return
		}
		if len(segs) == 1 && info.tx == nil {
			o.handleComposite(w, r, info)
			return
		}
		writeErr(w, r, http.StatusNotFound, errNotFound)
	case "jobs":
		o.handleJobs(w, r, info, segs)
	default:
		writeErr(w, r, http.StatusNotFound, errNotFound)
	}
}

func (o *Org) handleLimits(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	used, max := o.apiUsed, o.dailyLimit
	o.mu.Unlock()
	pair := func(m, rem int) obj { return obj{{"Max", m}, {"Remaining", rem}} }
	writeJSON(w, r, http.StatusOK, obj{
		{"ConcurrentAsyncGetReportInstances", pair(200, 200)},
		{"ConcurrentSyncReportRuns", pair(20, 20)},
		{"DailyApiRequests", pair(max, max-used)},
		{"DailyAsyncApexExecutions", pair(250000, 250000)},
		{"DailyBulkApiBatches", pair(15000, 15000)},
		{"DailyBulkV2QueryFileStorageMB", pair(976562, 976562)},
		{"DailyBulkV2QueryJobs", pair(10000, 10000)},
		{"DataStorageMB", pair(5, 5)},
		{"FileStorageMB", pair(20, 20)},
		{"HourlyTimeBasedWorkflow", pair(50, 50)},
	})
}

func (o *Org) identityURL(r *http.Request, userID string) string {
	return o.instanceURL(r) + "/id/" + o.orgID + "/" + userID
}

func (o *Org) instanceURL(r *http.Request) string {
	if o.opts.InstanceURL != "" {
		return strings.TrimSuffix(o.opts.InstanceURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// apiErr is one entry of Salesforce's REST error array.
type apiErr struct {
	Message   string
	ErrorCode string
	Fields    []string // nil: no "fields" key
}

func (e apiErr) render() obj {
	out := obj{{"message", e.Message}, {"errorCode", e.ErrorCode}}
	if e.Fields != nil {
		out = append(out, kv{"fields", e.Fields})
	}
	return out
}

func writeErr(w http.ResponseWriter, r *http.Request, status int, errs ...apiErr) {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = e.render()
	}
	writeJSON(w, r, status, out)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.Header.Get("X-PrettyPrint") == "1" {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// marshal encodes without HTML escaping, as Salesforce does.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeValue writes the JSON of the value types the fake produces, with a
// fallback to encoding/json for anything else.
func encodeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		encodeString(buf, x)
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case json.Number:
		buf.WriteString(string(x))
	case obj:
		buf.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, e.k)
			buf.WriteByte(':')
			if err := encodeValue(buf, e.v); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, k)
			buf.WriteByte(':')
			if err := encodeValue(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		var tmp bytes.Buffer
		enc := json.NewEncoder(&tmp)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
	}
	return nil
}

func encodeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}

// kv and obj give JSON objects a fixed key order.
type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) MarshalJSON() ([]byte, error) { return marshal(o) }
