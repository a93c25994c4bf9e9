package salesforce

import (
	"bytes"
	"context"
	"errors"
	"log"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/connector/salesforce/sftest"
)

// TestSOAPLoginWritesNoLog: simpleforce's LoginPassword logs through the
// standard logger (the username on success, the response body on
// failure); a SOAP login against the fake org, successful or refused,
// writes nothing there, and the logger's output is given back afterwards.
func TestSOAPLoginWritesNoLog(t *testing.T) {
	var buf bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })

	org, srv := sftest.NewServer(t, sftest.Options{})
	c, err := New(context.Background(), Options{LoginURL: srv.URL, HTTPClient: srv.Client(),
		Auth: Auth{Flow: FlowSOAP, Username: sftest.DefaultUsername, Password: sftest.DefaultPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Describe(context.Background(), caseObject); err != nil {
		t.Fatal(err)
	}
	var sessions []string
	for _, e := range org.Requests() {
		if e.Endpoint == "soap.login" && e.Status != 200 {
			t.Errorf("login answered %d", e.Status)
		}
	}
	if tok := c.cl.auth.tok; tok == nil || tok.AccessToken == "" {
		t.Fatal("no session after the SOAP login")
	} else {
		sessions = append(sessions, tok.AccessToken)
	}

	_, err = New(context.Background(), Options{LoginURL: srv.URL, HTTPClient: srv.Client(),
		Auth: Auth{Flow: FlowSOAP, Username: sftest.DefaultUsername, Password: "wrong-pw-4711"}})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "INVALID_LOGIN" || ae.Status != 500 {
		t.Fatalf("bad password: %v", err)
	}
	noValues(t, err.Error(), sftest.DefaultUsername, "wrong-pw-4711")

	if log.Writer() != &buf {
		t.Error("the standard logger's output was not given back")
	}
	if buf.Len() != 0 {
		t.Errorf("the standard logger received %d bytes during SOAP logins", buf.Len())
	}
	for _, v := range append(sessions, sftest.DefaultUsername, sftest.DefaultPassword, "wrong-pw-4711", "Envelope") {
		if strings.Contains(buf.String(), v) {
			t.Errorf("the standard logger received a credential, session or body")
		}
	}
}

// TestSOAPLoginCancelled: simpleforce takes no context; the login still
// returns the caller's cancellation, through soapTransport.
func TestSOAPLoginCancelled(t *testing.T) {
	_, srv := sftest.NewServer(t, sftest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(ctx, Options{LoginURL: srv.URL, HTTPClient: srv.Client(),
		Auth: Auth{Flow: FlowSOAP, Username: sftest.DefaultUsername, Password: sftest.DefaultPassword}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled login: %v", err)
	}
}
