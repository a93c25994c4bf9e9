package salesforce

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// Flow is an OAuth 2.0 flow.
type Flow string

// Authentication flows. JWT bearer and client credentials are the primary
// ones; Salesforce is retiring username-password (and SOAP login(), gone
// from API 65.0 and retired for older versions in Summer '27).
const (
	// FlowJWT is the OAuth 2.0 JWT bearer flow: a connected app's client
	// id, a username and the private key whose certificate the app holds.
	FlowJWT Flow = "jwt"
	// FlowClientCredentials is the client credentials flow: client id and
	// secret of an app with a run-as user; the login URL must be the org's
	// My Domain.
	FlowClientCredentials Flow = "client_credentials"
	// FlowRefreshToken exchanges a stored refresh token.
	FlowRefreshToken Flow = "refresh_token"
	// FlowPassword is the username-password flow (being retired).
	FlowPassword Flow = "password"
	// FlowSOAP is the legacy SOAP login() with username and password
	// (+ security token): API versions below 65.0 only, retired by
	// Salesforce in Summer '27.
	FlowSOAP Flow = "soap"
)

// Auth configures authentication. Which fields are needed depends on Flow:
//
//	jwt:                ClientID, Username, PrivateKeyFile or PrivateKeyPEM (Audience optional)
//	client_credentials: ClientID, ClientSecret
//	refresh_token:      ClientID, RefreshToken (ClientSecret if the app requires it)
//	password:           ClientID, ClientSecret, Username, Password (+ security token)
//	soap:               Username, Password (+ security token)
//
// Secrets are never logged or put in errors.
type Auth struct {
	Flow         Flow
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
	RefreshToken string
	// PrivateKeyFile is a PEM file holding the RSA private key (PKCS#1
	// "RSA PRIVATE KEY" or unencrypted PKCS#8 "PRIVATE KEY");
	// PrivateKeyPEM holds the same bytes directly.
	PrivateKeyFile string
	PrivateKeyPEM  []byte
	// Audience is the JWT aud claim; the login URL by default
	// (https://login.salesforce.com or https://test.salesforce.com).
	Audience string
	// AssertionTTL is how long a JWT assertion is valid (exp claim);
	// 3 minutes by default (Salesforce allows at most 3 minutes of skew).
	AssertionTTL time.Duration
}

// validate checks that the flow has what it needs, without network I/O.
func (a *Auth) validate() error {
	need := func(name, v string) error {
		if v == "" {
			return &AuthError{Flow: a.Flow, Err: fmt.Errorf("%s is required", name)}
		}
		return nil
	}
	var errs []error
	switch a.Flow {
	case FlowJWT:
		errs = append(errs, need("client_id", a.ClientID), need("username", a.Username))
		if a.PrivateKeyFile == "" && len(a.PrivateKeyPEM) == 0 {
			errs = append(errs, &AuthError{Flow: a.Flow, Err: errors.New("private_key_file is required")})
		}
	case FlowClientCredentials:
		errs = append(errs, need("client_id", a.ClientID), need("client_secret", a.ClientSecret))
	case FlowRefreshToken:
		errs = append(errs, need("client_id", a.ClientID), need("refresh_token", a.RefreshToken))
	case FlowPassword:
		errs = append(errs, need("client_id", a.ClientID), need("client_secret", a.ClientSecret),
			need("username", a.Username), need("password", a.Password))
	case FlowSOAP:
		errs = append(errs, need("username", a.Username), need("password", a.Password))
	default:
		return &AuthError{Flow: a.Flow, Err: errors.New("unknown flow; use jwt, client_credentials, refresh_token or password")}
	}
	return errors.Join(errs...)
}

// loadKey reads and parses the JWT private key. Errors name the file, never
// its content.
func (a *Auth) loadKey() (*rsa.PrivateKey, error) {
	data := a.PrivateKeyPEM
	src := "private key"
	if len(data) == 0 {
		src = "private key file " + a.PrivateKeyFile
		var err error
		if data, err = os.ReadFile(a.PrivateKeyFile); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block found (want an RSA private key in PEM form)", src)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if _, encrypted := block.Headers["Proc-Type"]; encrypted {
			return nil, fmt.Errorf("%s: encrypted PEM keys are not supported; store the key unencrypted with 0600 permissions", src)
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: malformed PKCS#1 RSA private key", src)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: malformed PKCS#8 private key", src)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T key; the JWT flow needs RSA (RS256)", src, k)
		}
		return rk, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%s: encrypted PKCS#8 keys are not supported; store the key unencrypted with 0600 permissions", src)
	}
	return nil, fmt.Errorf("%s: PEM block of type %q, want RSA PRIVATE KEY or PRIVATE KEY", src, block.Type)
}

// signJWT returns a signed RS256 JWT bearer assertion.
func signJWT(key *rsa.PrivateKey, iss, sub, aud string, exp time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}{iss, sub, aud, exp.Unix()})
	if err != nil {
		return "", err
	}
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", errors.New("signing the JWT assertion failed")
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// tokenPoster sends a form to the token endpoint and returns the status
// and body. It is the client's HTTP layer (retries on 429/503, no URLs in
// errors).
type tokenPoster func(ctx context.Context, endpoint string, form url.Values) (int, []byte, error)

// authenticator holds the session token, shared by all goroutines of a
// client. Only one login runs at a time; a 401 renews the token once per
// generation, so concurrent requests that all see the same expired token
// cause one login, not many.
type authenticator struct {
	auth     Auth
	loginURL string
	key      *rsa.PrivateKey
	post     tokenPoster
	soapPost func(ctx context.Context, endpoint string, body []byte) (int, []byte, error)
	version  string
	now      func() time.Time

	sem chan struct{} // a mutex that honours contexts
	tok *api.Token
	gen uint64
}

func newAuthenticator(a Auth, loginURL string, post tokenPoster) (*authenticator, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	au := &authenticator{auth: a, loginURL: strings.TrimRight(loginURL, "/"), post: post, now: time.Now, sem: make(chan struct{}, 1)}
	if a.Flow == FlowJWT {
		k, err := a.loadKey()
		if err != nil {
			return nil, &AuthError{Flow: a.Flow, Err: err}
		}
		au.key = k
	}
	return au, nil
}

func (au *authenticator) lock(ctx context.Context) error {
	select {
	case au.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (au *authenticator) unlock() { <-au.sem }

// token returns the current token, logging in when there is none, and its
// generation.
func (au *authenticator) token(ctx context.Context) (*api.Token, uint64, error) {
	if err := au.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer au.unlock()
	if au.tok == nil {
		if err := au.login(ctx); err != nil {
			return nil, 0, err
		}
	}
	return au.tok, au.gen, nil
}

// renew replaces the token of generation gen after Salesforce rejected it.
// If another goroutine already renewed it, the newer token is returned
// without another login.
func (au *authenticator) renew(ctx context.Context, gen uint64) (*api.Token, uint64, error) {
	if err := au.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer au.unlock()
	if au.tok != nil && au.gen != gen {
		return au.tok, au.gen, nil
	}
	au.tok = nil
	if err := au.login(ctx); err != nil {
		return nil, 0, err
	}
	return au.tok, au.gen, nil
}

// login runs the configured flow. Called with the lock held.
func (au *authenticator) login(ctx context.Context) error {
	a := &au.auth
	if a.Flow == FlowSOAP {
		tok, err := au.soapLogin(ctx)
		if err != nil {
			return err
		}
		au.tok = tok
		au.gen++
		return nil
	}
	form := url.Values{}
	switch a.Flow {
	case FlowJWT:
		aud := a.Audience
		if aud == "" {
			aud = au.loginURL
		}
		ttl := a.AssertionTTL
		if ttl <= 0 {
			ttl = 3 * time.Minute
		}
		assertion, err := signJWT(au.key, a.ClientID, a.Username, aud, au.now().Add(ttl))
		if err != nil {
			return &AuthError{Flow: a.Flow, Err: err}
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", assertion)
	case FlowClientCredentials:
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
	case FlowRefreshToken:
		form.Set("grant_type", "refresh_token")
		form.Set("client_id", a.ClientID)
		if a.ClientSecret != "" {
			form.Set("client_secret", a.ClientSecret)
		}
		form.Set("refresh_token", a.RefreshToken)
	case FlowPassword:
		form.Set("grant_type", "password")
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
		form.Set("username", a.Username)
		form.Set("password", a.Password)
	}
	status, body, err := au.post(ctx, au.loginURL+"/services/oauth2/token", form)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &AuthError{Flow: a.Flow, Err: err}
	}
	if status != 200 {
		return tokenError(a.Flow, status, body)
	}
	var tok api.Token
	if err := api.Decode(body, &tok); err != nil {
		return &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: token response: %v", ErrMalformedResponse, err)}
	}
	if tok.AccessToken == "" {
		return &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: token response has no access_token", ErrMalformedResponse)}
	}
	u, err := url.Parse(tok.InstanceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: token response has no usable instance_url", ErrMalformedResponse)}
	}
	if u.Scheme == "http" && !strings.HasPrefix(au.loginURL, "http://") {
		return &AuthError{Flow: a.Flow, Status: status, Err: errors.New("instance_url is not https")}
	}
	tok.InstanceURL = strings.TrimRight(tok.InstanceURL, "/")
	if tok.RefreshToken != "" && a.Flow == FlowRefreshToken {
		a.RefreshToken = tok.RefreshToken // a rotated refresh token replaces the old one
	}
	au.tok = &tok
	au.gen++
	return nil
}

var oauthCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// tokenError turns a failed token response into an *AuthError keeping only
// Salesforce's documented, value-free texts.
func tokenError(flow Flow, status int, body []byte) error {
	var te api.TokenError
	if err := api.Decode(body, &te); err != nil || te.Error == "" {
		return &AuthError{Flow: flow, Status: status, Err: fmt.Errorf("%w: %s", ErrMalformedResponse, describeBody(body))}
	}
	e := &AuthError{Flow: flow, Status: status, Code: te.Error}
	if !oauthCode.MatchString(te.Error) {
		e.Code = "(unrecognised error code)"
	}
	if knownTokenDescriptions[te.Description] {
		e.Description = te.Description
	} else if te.Description != "" {
		e.Description = "(description withheld)"
	}
	return e
}
