// Package alerttest gives tests what alerts are sent to: an HTTP receiver
// that records the webhooks it is posted, and a small SMTP server (EHLO,
// STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) that records the e-mails
// it is given, on 127.0.0.1, with a certificate made for the test.
package alerttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Post is one request the receiver was sent.
type Post struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver records the webhooks posted to it.
type Receiver struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []Post
	status int
}

// NewReceiver starts a receiver, closed when the test ends. It answers 200
// until SetStatus says otherwise.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.posts = append(r.posts, Post{Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: b})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// SetStatus sets the status the receiver answers.
func (r *Receiver) SetStatus(code int) {
	r.mu.Lock()
	r.status = code
	r.mu.Unlock()
}

// Posts returns the requests received so far.
func (r *Receiver) Posts() []Post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Post(nil), r.posts...)
}

// Mail is one e-mail the SMTP server was given.
type Mail struct {
	From string
	To   []string
	Data string
	// TLS says whether the connection was encrypted (STARTTLS) when the
	// mail was given; AuthUser and AuthPass what AUTH PLAIN sent, and
	// AuthTLS whether it was encrypted then.
	TLS                bool
	AuthUser, AuthPass string
	AuthTLS            bool
}

// SMTPServer is a small SMTP server for tests.
type SMTPServer struct {
	// Addr is host:port to send to.
	Addr string
	// ClientTLS trusts the server's certificate (alert.Options.TLS).
	ClientTLS *tls.Config

	ln       net.Listener
	tls      *tls.Config
	startTLS bool

	mu       sync.Mutex
	mails    []Mail
	commands []string
	wg       sync.WaitGroup
}

// NewSMTPServer starts a server on 127.0.0.1, stopped when the test ends.
// With startTLS it offers STARTTLS; without, it offers none (and AUTH
// only in the clear, which a careful client refuses).
func NewSMTPServer(t testing.TB, startTLS bool) *SMTPServer {
	t.Helper()
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Addr: ln.Addr().String(), ln: ln, startTLS: startTLS,
		tls:       &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ClientTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Mails returns the e-mails received so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Commands returns the commands received so far (AUTH's argument left
// out), in order.
func (s *SMTPServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *SMTPServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

func (s *SMTPServer) session(conn net.Conn) {
	tp := textproto.NewConn(conn)
	encrypted := false
	var m Mail
	reply := func(format string) bool { return tp.PrintfLine("%s", format) == nil }
	if !reply("220 127.0.0.1 ESMTP alerttest") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.mu.Lock()
		if verb == "AUTH" {
			s.commands = append(s.commands, "AUTH")
		} else {
			s.commands = append(s.commands, line)
		}
		s.mu.Unlock()
		switch verb {
		case "EHLO", "HELO":
			lines := []string{"250-127.0.0.1"}
			if s.startTLS && !encrypted {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250-AUTH PLAIN", "250 8BITMIME")
			for _, l := range lines {
				reply(l)
			}
		case "STARTTLS":
			if !s.startTLS || encrypted {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, encrypted = tc, true
			tp = textproto.NewConn(conn)
			m = Mail{}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 {
				reply("504 PLAIN with an initial response only")
				continue
			}
			m.AuthUser, m.AuthPass, m.AuthTLS = parts[1], parts[2], encrypted
			reply("235 accepted")
		case "MAIL":
			m.From, m.To, m.TLS = addr(arg), nil, encrypted
			reply("250 ok")
		case "RCPT":
			m.To = append(m.To, addr(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			m.Data = string(b)
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			m = Mail{AuthUser: m.AuthUser, AuthPass: m.AuthPass, AuthTLS: m.AuthTLS}
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// addr takes the address out of "FROM:<a@b>" or "TO:<a@b>".
func addr(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	a = strings.TrimSpace(a)
	if i := strings.IndexByte(a, ' '); i >= 0 {
		a = a[:i] // parameters such as BODY=8BITMIME
	}
	return strings.Trim(a, "<>")
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "alerttest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
