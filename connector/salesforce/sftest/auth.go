package sftest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Token endpoint grant types.
const (
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

type oauthErr struct{ code, desc string }

var (
	errAuthFailure     = oauthErr{"invalid_grant", "authentication failure"}
	errBadClientID     = oauthErr{"invalid_client_id", "client identifier invalid"}
	errBadClient       = oauthErr{"invalid_client", "invalid client credentials"}
	errBadGrantType    = oauthErr{"unsupported_grant_type", "grant type not supported"}
	errExpiredToken    = oauthErr{"invalid_grant", "expired access/refresh token"}
	errBadAudience     = oauthErr{"invalid_grant", "audience is invalid"}
	errJWTExpired      = oauthErr{"invalid_grant", "expired authorization code"}
	errNotApproved     = oauthErr{"invalid_grant", "user hasn't approved this consumer"}
	errBadAssertion    = oauthErr{"invalid_grant", "invalid assertion"}
	errNoClientCredsRU = oauthErr{"invalid_grant", "no client credentials user enabled"}
)

func writeOAuthErr(w http.ResponseWriter, r *http.Request, e oauthErr) {
	writeJSON(w, r, http.StatusBadRequest, obj{{"error", e.code}, {"error_description", e.desc}})
}

func (o *Org) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, r, http.StatusMethodNotAllowed, obj{{"error", "invalid_request"}, {"error_description", "must use HTTP POST"}})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthErr(w, r, oauthErr{"invalid_request", "invalid request body"})
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f := r.PostForm
	grant := f.Get("grant_type")
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = u, p
	}
	var userRec *record
	var app *ConnectedApp
	switch grant {
	case GrantPassword:
		if app = o.apps[clientID]; app == nil {
			writeOAuthErr(w, r, errBadClientID)
			return
		}
		if app.ClientSecret != secret {
			writeOAuthErr(w, r, errBadClient)
			return
		}
		u := o.users[strings.ToLower(f.Get("username"))]
		if u == nil || u.Password+u.SecurityToken != f.Get("password") {
			writeOAuthErr(w, r, errAuthFailure)
			return
		}
		userRec = o.userRecord(u.Username)
	case GrantClientCredentials:
		if app = o.apps[clientID]; app == nil {
			writeOAuthErr(w, r, errBadClientID)
			return
		}
		if app.ClientSecret != secret {
			writeOAuthErr(w, r, errBadClient)
			return
		}
		if app.RunAsUser == "" {
			writeOAuthErr(w, r, errNoClientCredsRU)
			return
		}
		userRec = o.userRecord(app.RunAsUser)
	case GrantRefreshToken:
		if app = o.apps[clientID]; app == nil {
			writeOAuthErr(w, r, errBadClientID)
			return
		}
		if secret != "" && app.ClientSecret != secret {
			writeOAuthErr(w, r, errBadClient)
			return
		}
		rt := f.Get("refresh_token")
		for _, u := range o.users {
			if rt != "" && u.RefreshToken == rt {
				userRec = o.userRecord(u.Username)
			}
		}
		if userRec == nil {
			writeOAuthErr(w, r, errExpiredToken)
			return
		}
	case GrantJWTBearer:
		var e *oauthErr
		app, userRec, e = o.jwtGrant(r, f.Get("assertion"))
		if e != nil {
			writeOAuthErr(w, r, *e)
			return
		}
	default:
		writeOAuthErr(w, r, errBadGrantType)
		return
	}
	if userRec == nil {
		writeOAuthErr(w, r, errAuthFailure)
		return
	}
	sess := o.newSession(userRec.id)
	inst := o.instanceURL(r)
	id := o.identityURL(r, userRec.id)
	issued := strconv.FormatInt(o.clock().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(app.ClientSecret))
	mac.Write([]byte(id + issued))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	var body obj
	switch grant {
	case GrantPassword:
		body = obj{{"access_token", sess.token}, {"instance_url", inst}, {"id", id}, {"token_type", "Bearer"}, {"issued_at", issued}, {"signature", sig}}
	case GrantJWTBearer:
		body = obj{{"access_token", sess.token}, {"scope", app.Scope}, {"instance_url", inst}, {"id", id}, {"token_type", "Bearer"}}
	default:
		body = obj{{"access_token", sess.token}, {"signature", sig}, {"scope", app.Scope}, {"instance_url", inst}, {"id", id}, {"token_type", "Bearer"}, {"issued_at", issued}}
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, r, http.StatusOK, body)
}

// jwtGrant checks a JWT bearer assertion: iss is a client id, sub a
// username, aud login/test.salesforce.com or this server, exp in the future;
// RS256 is verified only when the app has a public key.
func (o *Org) jwtGrant(r *http.Request, assertion string) (*ConnectedApp, *record, *oauthErr) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, nil, &errBadAssertion
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp json.RawMessage `json:"exp"`
	}
	if decodeSegment(parts[0], &hdr) != nil || decodeSegment(parts[1], &claims) != nil {
		return nil, nil, &errBadAssertion
	}
	app := o.apps[claims.Iss]
	if app == nil {
		return nil, nil, &errBadClientID
	}
	if app.JWTPublicKeyPEM != "" {
		if hdr.Alg != "RS256" || verifyRS256(app.JWTPublicKeyPEM, parts[0]+"."+parts[1], parts[2]) != nil {
			return nil, nil, &errBadAssertion
		}
	}
	if !o.audienceOK(r, claims.Aud) {
		return nil, nil, &errBadAudience
	}
	exp, ok := numericClaim(claims.Exp)
	if !ok {
		return nil, nil, &errBadAssertion
	}
	if exp <= o.clock().Unix() {
		return nil, nil, &errJWTExpired
	}
	u := o.users[strings.ToLower(claims.Sub)]
	rec := o.userRecord(claims.Sub)
	if u == nil || rec == nil {
		return nil, nil, &errNotApproved
	}
	if len(app.ApprovedUsers) > 0 {
		ok := false
		for _, a := range app.ApprovedUsers {
			if strings.EqualFold(a, claims.Sub) {
				ok = true
			}
		}
		if !ok {
			return nil, nil, &errNotApproved
		}
	}
	return app, rec, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// numericClaim reads exp as a JSON number or a numeric string.
func numericClaim(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return int64(f), err == nil
}

func (o *Org) audienceOK(r *http.Request, raw json.RawMessage) bool {
	var auds []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(raw, &auds) != nil {
		return false
	}
	allowed := []string{"https://login.salesforce.com", "https://test.salesforce.com", o.instanceURL(r)}
	for _, a := range auds {
		for _, ok := range allowed {
			if strings.TrimSuffix(a, "/") == ok {
				return true
			}
		}
	}
	return false
}

func verifyRS256(pemKey, signed, sig string) error {
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil {
		return errors.New("no PEM block")
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return err
		}
		pub, _ = cert.PublicKey.(*rsa.PublicKey)
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return err
		}
		pub = k
	default:
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return err
		}
		pub, _ = k.(*rsa.PublicKey)
	}
	if pub == nil {
		return errors.New("not an RSA key")
	}
	s, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sig, "="))
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(signed))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], s)
}
