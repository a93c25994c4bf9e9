package sftest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func (c *tclient) postToken(form url.Values) (*http.Response, map[string]any) {
	c.t.Helper()
	resp, err := http.PostForm(c.srv.URL+"/services/oauth2/token", form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		c.t.Fatal(err)
	}
	return resp, m
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestPasswordFlow(t *testing.T) {
	c := newTestClient(t, Options{Users: []User{{Username: DefaultUsername, Password: "pw", SecurityToken: "TOK"}}})
	resp, m := c.postToken(url.Values{"grant_type": {"password"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"username": {DefaultUsername}, "password": {"pwTOK"}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %v", resp.StatusCode, m)
	}
	assertJSON(t, mustJSON(m), "oauth_password_success.json")
	if m["instance_url"] != c.srv.URL {
		t.Errorf("instance_url %v", m["instance_url"])
	}
	id := m["id"].(string)
	if !strings.HasPrefix(id, c.srv.URL+"/id/"+c.org.OrganizationID()+"/005") {
		t.Errorf("id %s", id)
	}
	mac := hmac.New(sha256.New, []byte(DefaultClientSecret))
	mac.Write([]byte(id + m["issued_at"].(string)))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); m["signature"] != want {
		t.Errorf("signature %v, want %s", m["signature"], want)
	}
	if m["issued_at"] != "1712736000123" {
		t.Errorf("issued_at %v, want the clock in ms", m["issued_at"])
	}
	// The token works on data endpoints.
	c.token = m["access_token"].(string)
	r2, b := c.do("GET", v+"/limits", "")
	assertStatus(t, r2, b, 200)
}

func TestTokenErrors(t *testing.T) {
	c := newTestClient(t, Options{Apps: []ConnectedApp{{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret}}})
	good := func(kv ...string) url.Values {
		f := url.Values{"grant_type": {"password"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
			"username": {DefaultUsername}, "password": {DefaultPassword}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"bad password", good("password", "nope"), `{"error":"invalid_grant","error_description":"authentication failure"}`},
		{"unknown user", good("username", "nobody@example.invalid"), `{"error":"invalid_grant","error_description":"authentication failure"}`},
		{"bad client id", good("client_id", "nope"), `{"error":"invalid_client_id","error_description":"client identifier invalid"}`},
		{"bad secret", good("client_secret", "nope"), `{"error":"invalid_client","error_description":"invalid client credentials"}`},
		{"bad grant", good("grant_type", "magic"), `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`},
		{"bad refresh", good("grant_type", "refresh_token", "refresh_token", "nope"), `{"error":"invalid_grant","error_description":"expired access/refresh token"}`},
		{"no run-as user", good("grant_type", "client_credentials"), `{"error":"invalid_grant","error_description":"no client credentials user enabled"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := c.postToken(tc.form)
			if resp.StatusCode != 400 {
				t.Errorf("status %d", resp.StatusCode)
			}
			assertJSON(t, mustJSON(m), tc.want)
		})
	}
}

func TestClientCredentialsAndRefresh(t *testing.T) {
	c := newTestClient(t, Options{})
	resp, m := c.postToken(url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %v", resp.StatusCode, m)
	}
	assertJSON(t, mustJSON(m), "oauth_client_credentials_success.json")
	resp, m = c.postToken(url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "refresh_token": {DefaultRefreshToken}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %v", resp.StatusCode, m)
	}
	assertJSON(t, mustJSON(m), "oauth_client_credentials_success.json")
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	alg := "none"
	if key != nil {
		alg = "RS256"
	}
	enc := base64.RawURLEncoding
	head := enc.EncodeToString(mustJSON(map[string]string{"alg": alg})) + "." + enc.EncodeToString(mustJSON(claims))
	if key == nil {
		return head + ".c2ln"
	}
	h := sha256.Sum256([]byte(head))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + enc.EncodeToString(sig)
}

func TestJWTBearer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	c := newTestClient(t, Options{Apps: []ConnectedApp{
		{ClientID: "signed-app", JWTPublicKeyPEM: pub},
		{ClientID: "open-app"},
	}})
	exp := testNow.Unix() + 300
	claims := func(iss string, kv ...any) map[string]any {
		m := map[string]any{"iss": iss, "sub": DefaultUsername, "aud": "https://login.salesforce.com", "exp": exp}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	grant := func(assertion string) (*http.Response, map[string]any) {
		return c.postToken(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}})
	}
	resp, m := grant(signJWT(t, key, claims("signed-app")))
	if resp.StatusCode != 200 {
		t.Fatalf("signed: %d %v", resp.StatusCode, m)
	}
	assertJSON(t, mustJSON(m), "oauth_jwt_success.json")
	// exp as a numeric string (go-salesforce sends it so), aud = this server, no key configured.
	resp, m = grant(signJWT(t, nil, claims("open-app", "exp", "9999999999", "aud", c.srv.URL)))
	if resp.StatusCode != 200 {
		t.Fatalf("unsigned: %d %v", resp.StatusCode, m)
	}
	for _, tc := range []struct {
		name, assertion, want string
	}{
		{"wrong key", signJWT(t, other, claims("signed-app")), "invalid assertion"},
		{"unsigned for keyed app", signJWT(t, nil, claims("signed-app")), "invalid assertion"},
		{"garbage", "abc", "invalid assertion"},
		{"audience", signJWT(t, key, claims("signed-app", "aud", "https://example.invalid")), "audience is invalid"},
		{"expired", signJWT(t, key, claims("signed-app", "exp", testNow.Unix()-1)), "expired authorization code"},
		{"unknown user", signJWT(t, key, claims("signed-app", "sub", "nobody@example.invalid")), "user hasn't approved this consumer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := grant(tc.assertion)
			if resp.StatusCode != 400 || m["error"] != "invalid_grant" || m["error_description"] != tc.want {
				t.Errorf("%d %v, want invalid_grant/%s", resp.StatusCode, m, tc.want)
			}
		})
	}
	resp, m = grant(signJWT(t, nil, claims("no-such-app")))
	if resp.StatusCode != 400 || m["error"] != "invalid_client_id" {
		t.Errorf("unknown iss: %d %v", resp.StatusCode, m)
	}
}

func TestDataEndpointsNeedBearer(t *testing.T) {
	c := newTestClient(t, Options{})
	c.token = ""
	resp, b := c.do("GET", v+"/sobjects", "")
	assertStatus(t, resp, b, 401)
	assertJSON(t, b, "invalid_session.json")
	c.token = "00Dxx!bogus"
	resp, b = c.do("GET", v+"/query?q=SELECT+Id+FROM+Account", "")
	assertStatus(t, resp, b, 401)
	assertJSON(t, b, "invalid_session.json")
}
