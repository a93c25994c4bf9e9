package sftest

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const invalidLoginMsg = "Invalid username, password, security token; or user locked out."

// handleSOAP serves the partner (/u/) and enterprise (/c/) login() call.
func (o *Org) handleSOAP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/Soap/")
	kind, ver, _ := strings.Cut(rest, "/")
	ver, _, _ = strings.Cut(ver, "/")
	ns := "urn:partner.soap.sforce.com"
	faultNS := "urn:fault.partner.soap.sforce.com"
	if kind == "c" {
		ns, faultNS = "urn:enterprise.soap.sforce.com", "urn:fault.enterprise.soap.sforce.com"
	}
	known := false
	for _, v := range o.versions {
		if v == ver {
			known = true
		}
	}
	if r.Method != http.MethodPost || !known {
		writeErr(w, r, http.StatusNotFound, errNotFound)
		return
	}
	username, password := soapCredentials(r.Body)
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users[strings.ToLower(username)]
	rec := o.userRecord(username)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	if u == nil || rec == nil || u.Password+u.SecurityToken != password {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: %s</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>%s</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
			faultNS, invalidLoginMsg, invalidLoginMsg)
		return
	}
	sess := o.newSession(rec.id)
	inst := o.instanceURL(r)
	org15 := o.orgID[:15]
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	email, _ := rec.f["Email"].(string)
	full, _ := o.formula(rec, rec.obj.field("Name")).(string)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>`+
		`<metadataServerUrl>%s/services/Soap/m/%s/%s</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>`+
		`<serverUrl>%s/services/Soap/%s/%s/%s</serverUrl><sessionId>%s</sessionId><userId>%s</userId>`+
		`<userInfo><accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal><currencySymbol xsi:nil="true"/><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit><orgDefaultCurrencyIsoCode xsi:nil="true"/><orgDefaultCurrencyLocale xsi:nil="true"/><orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts><organizationId>%s</organizationId><organizationMultiCurrency>true</organizationMultiCurrency><organizationName>casebridge fake org</organizationName><profileId>00e5g000000EXAMPLE</profileId><roleId xsi:nil="true"/><sessionSecondsValid>7200</sessionSecondsValid><userDefaultCurrencyIsoCode>USD</userDefaultCurrencyIsoCode><userEmail>%s</userEmail><userFullName>%s</userFullName><userId>%s</userId><userLanguage>en_US</userLanguage><userLocale>en_US</userLocale><userName>%s</userName><userTimeZone>GMT</userTimeZone><userType>Standard</userType><userUiSkin>Theme3</userUiSkin></userInfo>`+
		`</result></loginResponse></soapenv:Body></soapenv:Envelope>`,
		ns, inst, ver, org15, inst, kind, ver, org15, esc(sess.token), rec.id, o.orgID, esc(email), esc(full), rec.id, esc(username))
}

// soapCredentials reads <username> and <password> from a login envelope,
// whatever their namespace prefix.
func soapCredentials(body io.Reader) (string, string) {
	dec := xml.NewDecoder(body)
	var user, pass, cur string
	for {
		tok, err := dec.Token()
		if err != nil {
			return user, pass
		}
		switch t := tok.(type) {
		case xml.StartElement:
			cur = t.Name.Local
		case xml.EndElement:
			cur = ""
		case xml.CharData:
			switch cur {
			case "username":
				user += string(t)
			case "password":
				pass += string(t)
			}
		}
	}
}
