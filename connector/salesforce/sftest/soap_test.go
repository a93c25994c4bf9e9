package sftest

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
)

const loginEnvelope = `<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <env:Body>
    <n1:login xmlns:n1="urn:partner.soap.sforce.com">
      <n1:username>%USER%</n1:username>
      <n1:password>%PASS%</n1:password>
    </n1:login>
  </env:Body>
</env:Envelope>`

func soapLogin(t *testing.T, c *tclient, path, user, pass string) (int, string) {
	t.Helper()
	body := strings.NewReplacer("%USER%", user, "%PASS%", pass).Replace(loginEnvelope)
	req, _ := http.NewRequest("POST", c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSOAPLogin(t *testing.T) {
	c := newTestClient(t, Options{})
	st, body := soapLogin(t, c, "/services/Soap/u/62.0", DefaultUsername, DefaultPassword)
	if st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	var env struct {
		Body struct {
			LoginResponse struct {
				Result struct {
					MetadataServerURL string `xml:"metadataServerUrl"`
					PasswordExpired   bool   `xml:"passwordExpired"`
					Sandbox           bool   `xml:"sandbox"`
					ServerURL         string `xml:"serverUrl"`
					SessionID         string `xml:"sessionId"`
					UserID            string `xml:"userId"`
					UserInfo          struct {
						OrganizationID string `xml:"organizationId"`
						UserName       string `xml:"userName"`
					} `xml:"userInfo"`
				} `xml:"result"`
			} `xml:"loginResponse"`
		}
	}
	if err := xml.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	res := env.Body.LoginResponse.Result
	org15 := c.org.OrganizationID()[:15]
	if res.ServerURL != c.srv.URL+"/services/Soap/u/62.0/"+org15 || res.MetadataServerURL != c.srv.URL+"/services/Soap/m/62.0/"+org15 {
		t.Errorf("urls %q %q", res.ServerURL, res.MetadataServerURL)
	}
	if res.UserID != c.org.UserID(DefaultUsername) || res.UserInfo.UserName != DefaultUsername || res.UserInfo.OrganizationID != c.org.OrganizationID() || res.PasswordExpired || res.Sandbox {
		t.Errorf("result %+v", res)
	}
	// The session id is a bearer token for REST.
	c.token = res.SessionID
	resp, b := c.do("GET", v+"/limits", "")
	assertStatus(t, resp, b, 200)

	st, body = soapLogin(t, c, "/services/Soap/c/62.0", DefaultUsername, "wrong")
	if st != 500 {
		t.Fatalf("bad login: %d", st)
	}
	for _, want := range []string{"<faultcode>INVALID_LOGIN</faultcode>",
		"<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>",
		`<sf:LoginFault xsi:type="sf:LoginFault">`, "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>", `xmlns:sf="urn:fault.enterprise.soap.sforce.com"`} {
		if !strings.Contains(body, want) {
			t.Errorf("fault lacks %s: %s", want, body)
		}
	}
}
