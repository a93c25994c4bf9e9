package salesforce

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/casebridge/casebridge/connector/salesforce/api"
)

// The legacy SOAP login() flow (partner API). Salesforce removed login()
// from API 65.0 and retires it for older versions in Summer '27; it is here
// for orgs that still allow it. It is implemented directly rather than
// through github.com/simpleforce/simpleforce, whose LoginPassword logs the
// username and the raw failure body through the standard logger, takes no
// context and does not XML-escape the username.

// soapMaxVersion is the first API version without SOAP login().
const soapMaxVersion = 65

// soapLoginEnvelope is the partner login() request; %s are the XML-escaped
// username and password (with the security token appended).
const soapLoginEnvelope = `<?xml version="1.0" encoding="utf-8"?>` +
	`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">` +
	`<env:Body><urn:login><urn:username>%s</urn:username><urn:password>%s</urn:password></urn:login></env:Body></env:Envelope>`

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

// soapLogin runs login() and returns a token like the OAuth flows do.
func (au *authenticator) soapLogin(ctx context.Context) (*api.Token, error) {
	a := &au.auth
	body := fmt.Sprintf(soapLoginEnvelope, xmlEscape(a.Username), xmlEscape(a.Password))
	status, resp, err := au.soapPost(ctx, au.loginURL+"/services/Soap/u/"+au.version, []byte(body))
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &AuthError{Flow: a.Flow, Err: err}
	}
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
	u, err := url.Parse(r.ServerURL)
	if err != nil || u.Host == "" || r.SessionID == "" {
		return nil, &AuthError{Flow: a.Flow, Status: status, Err: fmt.Errorf("%w: loginResponse without serverUrl or sessionId", ErrMalformedResponse)}
	}
	return &api.Token{AccessToken: r.SessionID, InstanceURL: u.Scheme + "://" + u.Host, TokenType: "Bearer"}, nil
}
