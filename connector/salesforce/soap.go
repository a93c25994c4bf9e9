package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/simpleforce/simpleforce"

	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// The legacy SOAP login() flow (partner API). Salesforce removed login()
// from API 65.0 and retires it for older versions in Summer '27; it is here
// for orgs that still allow it.
//
// The envelope is built and the loginResponse read by
// github.com/simpleforce/simpleforce (LoginPassword), the one part of that
// library sound enough to use, behind this connector's own interface:
//
//   - its HTTP client is soapTransport, which sends the request through the
//     connector's HTTP layer (retries, the caller's context, no URL in an
//     error) and keeps the response, from which faults and an expired
//     password are read here: simpleforce's errors quote the response body
//     and it does not look at passwordExpired;
//   - the username is XML-escaped here (simpleforce escapes only the
//     password), and the security token travels appended to the password,
//     which it escapes;
//   - it logs through the standard logger ("User <username> authenticated",
//     failed response bodies, request errors), so the call runs with the
//     standard logger's output discarded (withoutStdLog): no credential,
//     session or body reaches any output.
//
// The rest of simpleforce is not used: see README.md, "Authentication".

// soapMaxVersion is the first API version without SOAP login().
const soapMaxVersion = 65

// soapClientName is the client name simpleforce sends in the login
// request's CallOptions header.
const soapClientName = "casebridge"

// soapLoginResponse is what casebridge reads of a login response beyond
// what simpleforce reads: the fault and whether the password expired.
type soapLoginResponse struct {
	ServerURL       string `xml:"Body>loginResponse>result>serverUrl"`
	SessionID       string `xml:"Body>loginResponse>result>sessionId"`
	PasswordExpired bool   `xml:"Body>loginResponse>result>passwordExpired"`
	FaultCode       string `xml:"Body>Fault>faultcode"`
	FaultString     string `xml:"Body>Fault>faultstring"`
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// soapVersionOK reports whether the API version still has login().
func soapVersionOK(version string) bool {
	major, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n < soapMaxVersion
}

// stdLogMu serialises withoutStdLog: the standard logger's output is one
// per process.
var stdLogMu sync.Mutex

// withoutStdLog runs fn with the standard logger's output discarded, then
// puts the output back. Only the CLI writes through the standard logger
// (every package below it takes a zerolog.Logger); a line it, or
// net/http's server, writes while fn runs (a login: one request) is lost.
func withoutStdLog(fn func() error) error {
	stdLogMu.Lock()
	defer stdLogMu.Unlock()
	w := log.Writer()
	log.SetOutput(io.Discard)
	defer log.SetOutput(w)
	return fn()
}

// errSOAPExchange is what soapTransport gives simpleforce when the
// connector's HTTP layer failed; the failure itself is kept in
// soapTransport.err, out of simpleforce's hands.
var errSOAPExchange = errors.New("login request failed")

// soapTransport is the http.RoundTripper simpleforce's client sends its
// login request through: the request goes out through post (the
// connector's HTTP layer, with ctx), and the status and body are kept.
type soapTransport struct {
	ctx  context.Context
	post func(ctx context.Context, endpoint string, body []byte) (int, []byte, error)

	sent   bool
	status int
	body   []byte
	err    error
}

func (t *soapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			t.err = errors.New("reading the login request failed")
			return nil, errSOAPExchange
		}
		body = b
	}
	t.sent = true
	t.status, t.body, t.err = t.post(t.ctx, r.URL.String(), body)
	if t.err != nil {
		return nil, errSOAPExchange
	}
	return &http.Response{
		Status: strconv.Itoa(t.status) + " " + http.StatusText(t.status), StatusCode: t.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: r,
	}, nil
}

// soapLogin runs login() through simpleforce and returns a token like the
// OAuth flows do.
func (au *authenticator) soapLogin(ctx context.Context) (*api.Token, error) {
	a := &au.auth
	tr := &soapTransport{ctx: ctx, post: au.soapPost}
	sf := simpleforce.NewClient(au.loginURL, soapClientName, au.version)
	sf.SetHttpClient(&http.Client{Transport: tr})
	// The password is escaped by simpleforce (html.EscapeString, whose
	// entities are XML's); the token, which it would not escape, is
	// already appended to the password (Auth.Password).
	lerr := withoutStdLog(func() error { return sf.LoginPassword(xmlEscape(a.Username), a.Password, "") })
	if tr.err != nil || !tr.sent {
		if ctx.Err() != nil {
			if tr.err != nil {
				return nil, tr.err
			}
			return nil, ctx.Err()
		}
		err := tr.err
		if err == nil {
			err = errors.New("building the login request failed")
		}
		return nil, &AuthError{Flow: a.Flow, Err: err}
	}
	status, resp := tr.status, tr.body
	var r soapLoginResponse
	if xml.Unmarshal(resp, &r) != nil {
		return nil, &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: %s", ErrMalformedResponse, describeBody(resp))}
	}
	if status != 200 || r.FaultCode != "" {
		code := strings.TrimPrefix(strings.TrimSpace(r.FaultCode), "sf:")
		e := &AuthError{Flow: a.Flow, Status: status, Code: sanitizeCode(code)}
		if msg := strings.TrimPrefix(r.FaultString, code+": "); msg == "Invalid username, password, security token; or user locked out." {
			e.Description = msg
		} else if msg != "" {
			e.Description = "(description withheld)"
		}
		if code == "" {
			e.Err = fmt.Errorf("%w: SOAP response without loginResponse or fault", ErrMalformedResponse)
		}
		return nil, e
	}
	if r.PasswordExpired {
		return nil, &AuthError{Flow: a.Flow, Status: status, Err: errors.New("the user's password has expired")}
	}
	// simpleforce read the session and the instance (serverUrl's scheme
	// and host); its error, if any, is not passed on (it may quote the body).
	sid, inst := sf.GetSid(), sf.GetLoc()
	u, err := url.Parse(inst)
	if lerr != nil || err != nil || u.Host == "" || sid == "" {
		return nil, &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: loginResponse without serverUrl or sessionId", ErrMalformedResponse)}
	}
	return &api.Token{AccessToken: sid, InstanceURL: u.Scheme + "://" + u.Host, TokenType: "Bearer"}, nil
}
