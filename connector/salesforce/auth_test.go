package salesforce

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeKey(t *testing.T, pemBytes []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rsaKeyPEM(t *testing.T, pkcs8 bool) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if pkcs8 {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// TestTokenFlows: each flow posts the documented form and the client
// parses each flow's documented token response (facts rows 1-2, 4).
func TestTokenFlows(t *testing.T) {
	key, keyPEM := rsaKeyPEM(t, false)
	keyFile := writeKey(t, keyPEM)
	tests := []struct {
		name  string
		auth  Auth
		file  string
		check func(t *testing.T, form url.Values, loginURL string)
	}{
		{"password", Auth{Flow: FlowPassword, ClientID: "cid", ClientSecret: "sec", Username: "u@example.org", Password: "pwTOKEN"}, "token_password.json",
			func(t *testing.T, form url.Values, _ string) {
				want := url.Values{"grant_type": {"password"}, "client_id": {"cid"}, "client_secret": {"sec"}, "username": {"u@example.org"}, "password": {"pwTOKEN"}}
				if form.Encode() != want.Encode() {
					t.Errorf("form = %v", form)
				}
			}},
		{"client_credentials", Auth{Flow: FlowClientCredentials, ClientID: "cid", ClientSecret: "sec"}, "token_client_credentials.json",
			func(t *testing.T, form url.Values, _ string) {
				if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != "cid" || form.Get("client_secret") != "sec" {
					t.Errorf("form = %v", form)
				}
			}},
		{"refresh_token", Auth{Flow: FlowRefreshToken, ClientID: "cid", RefreshToken: "5Aep861"}, "token_client_credentials.json",
			func(t *testing.T, form url.Values, _ string) {
				if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "5Aep861" || form.Has("client_secret") {
					t.Errorf("form = %v", form)
				}
			}},
		{"jwt", Auth{Flow: FlowJWT, ClientID: "3MVG9cid", Username: "u@example.org", PrivateKeyFile: keyFile}, "token_jwt.json",
			func(t *testing.T, form url.Values, loginURL string) {
				if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
					t.Errorf("grant_type = %q", form.Get("grant_type"))
				}
				parts := strings.Split(form.Get("assertion"), ".")
				if len(parts) != 3 {
					t.Fatalf("assertion has %d parts", len(parts))
				}
				sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
				sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
				if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
					t.Errorf("RS256 signature does not verify: %v", err)
				}
				hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
				if !strings.Contains(string(hdr), `"alg":"RS256"`) {
					t.Errorf("header = %s", hdr)
				}
				claimsJSON, _ := base64.RawURLEncoding.DecodeString(parts[1])
				var claims struct {
					Iss, Sub, Aud string
					Exp           int64
				}
				if err := json.Unmarshal(claimsJSON, &claims); err != nil {
					t.Fatal(err)
				}
				if claims.Iss != "3MVG9cid" || claims.Sub != "u@example.org" || claims.Aud != loginURL {
					t.Errorf("claims = %+v", claims)
				}
				if d := time.Until(time.Unix(claims.Exp, 0)); d <= 0 || d > 3*time.Minute+time.Second {
					t.Errorf("exp is %v from now", d)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecorded(t)
			f.handle("POST /services/oauth2/token", f.file(200, tt.file))
			c := f.connect(t, func(o *Options) { o.Auth = tt.auth })
			if got := c.InstanceURL(); got != f.srv.URL {
				t.Errorf("instance URL = %q, want %q", got, f.srv.URL)
			}
			reqs := f.requests("POST /services/oauth2/token")
			if len(reqs) != 1 {
				t.Fatalf("%d token requests", len(reqs))
			}
			if ct := reqs[0].Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", ct)
			}
			form, _ := url.ParseQuery(reqs[0].Body)
			tt.check(t, form, f.srv.URL)
		})
	}
}

// TestTokenErrors: 400 token errors become *AuthError naming the flow,
// with Salesforce's code and documented description, never a secret.
func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name     string
		h        func(f *recorded) http.HandlerFunc
		flow     Flow
		wantMsg  string
		malform  bool
		wantCode string
	}{
		{"invalid_grant", func(f *recorded) http.HandlerFunc { return f.file(400, "token_error_invalid_grant.json") }, FlowPassword,
			"salesforce auth (password flow): HTTP 400 invalid_grant: authentication failure", false, "invalid_grant"},
		{"invalid_client", func(f *recorded) http.HandlerFunc { return f.file(400, "token_error_invalid_client.json") }, FlowClientCredentials,
			"salesforce auth (client_credentials flow): HTTP 400 invalid_client: invalid client credentials", false, "invalid_client"},
		{"no run-as user", func(f *recorded) http.HandlerFunc { return f.file(400, "token_error_no_cc_user.json") }, FlowClientCredentials,
			"no client credentials user enabled", false, "invalid_grant"},
		{"echoing description", func(*recorded) http.HandlerFunc {
			return raw(400, `{"error":"invalid_grant","error_description":"user u@example.org with password hunter2-pw locked"}`)
		}, FlowPassword, "(description withheld)", false, "invalid_grant"},
		{"html page", func(f *recorded) http.HandlerFunc { return f.file(500, "server_error.html") }, FlowPassword,
			"an HTML or XML page instead of JSON", true, ""},
		{"no instance_url", func(*recorded) http.HandlerFunc { return raw(200, `{"access_token":"x","token_type":"Bearer"}`) }, FlowPassword,
			"no usable instance_url", true, ""},
		{"truncated", func(*recorded) http.HandlerFunc { return raw(200, `{"access_token":"x","inst`) }, FlowPassword,
			"truncated JSON", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecorded(t)
			f.handle("POST /services/oauth2/token", tt.h(f))
			o := f.options()
			if tt.flow == FlowClientCredentials {
				o.Auth = Auth{Flow: FlowClientCredentials, ClientID: "cid", ClientSecret: "csecret-XYZ"}
			}
			_, err := New(context.Background(), o)
			if err == nil {
				t.Fatal("no error")
			}
			var ae *AuthError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuth) || !IsStop(err) {
				t.Fatalf("error %T %v is not an *AuthError stop", err, err)
			}
			if ae.Flow != tt.flow || ae.Code != tt.wantCode {
				t.Errorf("flow %q code %q", ae.Flow, ae.Code)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q lacks %q", err, tt.wantMsg)
			}
			if errors.Is(err, ErrMalformedResponse) != tt.malform {
				t.Errorf("malformed = %v for %v", !tt.malform, err)
			}
			noValues(t, err.Error(), "hunter2-pw", "csecret-XYZ", "u@example.org")
			if n := len(f.requests("POST /services/oauth2/token")); n != 1 {
				t.Errorf("%d token requests, want 1 (no retry storm)", n)
			}
		})
	}
}

// TestLoginUnreachable: a login URL nothing listens on (a fake org not
// started, a wrong port) is an auth error that names the request and the
// cause in plain words, without a stray space where an object would be.
func TestLoginUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = New(context.Background(), Options{LoginURL: "http://" + addr,
		Auth:         Auth{Flow: FlowClientCredentials, ClientID: "cid", ClientSecret: "csecret-XYZ"},
		RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("error %v is not an auth error", err)
	}
	want := "salesforce auth (client_credentials flow): salesforce token: POST request failed: dial tcp " + addr + ": connect: connection refused"
	if err.Error() != want {
		t.Errorf("error\n %s\nwant\n %s", err, want)
	}
	noValues(t, err.Error(), "csecret-XYZ")
}

// TestPrivateKeyErrors: a malformed or unsuitable key is a clear error at
// New, before any request, without the key's content.
func TestPrivateKeyErrors(t *testing.T) {
	_, pkcs8 := rsaKeyPEM(t, true)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	tests := []struct {
		name, want string
		pem        []byte
		file       string
	}{
		{"garbage", "no PEM block found", []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC secret-ish"), ""},
		{"bad der", "malformed PKCS#1 RSA private key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("nope")}), ""},
		{"ec key", "the JWT flow needs RSA", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), ""},
		{"encrypted", "encrypted PKCS#8 keys are not supported", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")}), ""},
		{"certificate", `PEM block of type "CERTIFICATE"`, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), ""},
		{"missing file", "no such file or directory", nil, "/nonexistent/sf.key"},
		{"pkcs8 ok", "", pkcs8, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecorded(t)
			f.handle("POST /services/oauth2/token", f.file(200, "token_jwt.json"))
			file := tt.file
			if file == "" {
				file = writeKey(t, tt.pem)
			}
			o := f.options()
			o.Auth = Auth{Flow: FlowJWT, ClientID: "cid", Username: "u@example.org", PrivateKeyFile: file}
			_, err := New(context.Background(), o)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "jwt flow") {
				t.Errorf("error does not name the flow: %v", err)
			}
			noValues(t, err.Error(), "MIIEvQ", "secret-ish")
			if n := len(f.requests("")); n != 0 {
				t.Errorf("%d requests made with a bad key", n)
			}
		})
	}
}

// TestAuthValidation: missing settings are reported at New without I/O.
func TestAuthValidation(t *testing.T) {
	for _, a := range []Auth{
		{Flow: FlowJWT, ClientID: "x"},
		{Flow: FlowClientCredentials, ClientID: "x"},
		{Flow: FlowPassword},
		{Flow: "soap"},
		{Flow: "magic"},
	} {
		_, err := New(context.Background(), Options{Auth: a, LoginURL: "http://127.0.0.1:1"})
		if err == nil || !errors.Is(err, ErrAuth) {
			t.Errorf("%s: err = %v", a.Flow, err)
		}
	}
}

// TestReauthOnce: a 401 INVALID_SESSION_ID re-authenticates once and
// repeats the request; a second 401 is returned, not looped on (facts row
// 401).
func TestReauthOnce(t *testing.T) {
	f := newRecorded(t)
	f.handle("GET "+describePath, seq(f.file(401, "expired_session.json"), f.file(200, "describe_survivor_case.json")))
	c := f.connect(t, nil)
	if _, err := c.Describe(context.Background(), "vcms__Survivor_Case__c"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests("POST /services/oauth2/token")); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
	if n := len(f.requests("GET " + describePath)); n != 2 {
		t.Errorf("%d describe calls, want 2", n)
	}

	g := newRecorded(t)
	g.handle("GET "+describePath, g.file(401, "expired_session.json"))
	c = g.connect(t, nil)
	_, err := c.Describe(context.Background(), "vcms__Survivor_Case__c")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "INVALID_SESSION_ID" {
		t.Fatalf("err = %v", err)
	}
	if n := len(g.requests("GET " + describePath)); n != 2 {
		t.Errorf("%d describe calls, want 2 (one repeat)", n)
	}
}

// TestReauthConcurrent: goroutines that all meet the same expired token
// cause one new login, not one each.
func TestReauthConcurrent(t *testing.T) {
	f := newRecorded(t)
	var mu sync.Mutex
	expired := true
	f.handle("GET /services/data/v62.0/limits", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		e := expired && strings.HasSuffix(r.Header.Get("Authorization"), "Password")
		mu.Unlock()
		if e {
			f.file(401, "expired_session.json")(w, r)
			return
		}
		f.file(200, "limits.json")(w, r)
	})
	c := f.connect(t, nil)
	// From now on the token endpoint hands out a new token.
	f.handle("POST /services/oauth2/token", raw(200, `{"access_token":"fresh","instance_url":"`+f.srv.URL+`","token_type":"Bearer","id":"x"}`))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l map[string]any
			if err := c.cl.do(context.Background(), request{op: "limits", method: "GET", path: c.cl.dataPath("limits"), retrySafe: true}, &l); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(f.requests("POST /services/oauth2/token")); n != 2 {
		t.Errorf("%d logins, want 2 (initial + one renewal)", n)
	}
}

// TestSOAPLogin: the legacy login() posts an escaped envelope, parses
// loginResponse (facts row SOAP login) and turns the INVALID_LOGIN fault
// into an *AuthError; API 65.0+ refuses the flow.
func TestSOAPLogin(t *testing.T) {
	f := newRecorded(t).withDescribe()
	f.handle("POST /services/Soap/u/62.0", f.file(200, "soap_login_success.xml"))
	c := f.connect(t, func(o *Options) {
		o.Auth = Auth{Flow: FlowSOAP, Username: "a<b>&c@example.org", Password: "pw&<tok>"}
	})
	if _, err := c.Describe(context.Background(), caseObject); err != nil {
		t.Fatal(err)
	}
	d := f.requests("GET " + describePath)
	if len(d) != 1 || d[0].Header.Get("Authorization") != "Bearer 00Dxx0000000001!AQ4AQSoapSession" {
		t.Errorf("session not used: %+v", d)
	}
	login := f.requests("POST /services/Soap/u/62.0")
	if len(login) != 1 || login[0].Header.Get("SOAPAction") != "login" ||
		!strings.Contains(login[0].Body, ":username>a&lt;b&gt;&amp;c@example.org</") ||
		!strings.Contains(login[0].Body, ":password>pw&amp;&lt;tok&gt;</") {
		t.Errorf("login request %+v", login)
	}

	f.handle("POST /services/Soap/u/62.0", f.file(500, "soap_login_fault.xml"))
	o := f.options()
	o.Auth = Auth{Flow: FlowSOAP, Username: "u@example.org", Password: "hunter2-pw"}
	_, err := New(context.Background(), o)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "INVALID_LOGIN" || ae.Status != 500 ||
		err.Error() != "salesforce auth (soap flow): HTTP 500 INVALID_LOGIN: Invalid username, password, security token; or user locked out." {
		t.Errorf("fault: %v", err)
	}
	noValues(t, err.Error(), "hunter2", "u@example.org")

	o.APIVersion = "65.0"
	if _, err := New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not available from API 65.0") {
		t.Errorf("v65: %v", err)
	}
}
