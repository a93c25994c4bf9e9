package alert

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/casebridge/casebridge/config"
)

// mailer sends alerts by e-mail over SMTP (net/smtp). With tls starttls
// the server must offer STARTTLS and the message, and any password, goes
// only over the encrypted connection; nothing falls back to plain text.
type mailer struct {
	cfg *config.Email
	tls *tls.Config
}

var errNoStartTLS = errors.New("the server does not offer STARTTLS, and tls is starttls: nothing sent")

func (e *mailer) send(ctx context.Context, m *Message) error {
	if err := e.sendMail(ctx, m); err != nil {
		return fmt.Errorf("email via %s: %w", e.cfg.SMTP, err)
	}
	return nil
}

func (e *mailer) sendMail(ctx context.Context, m *Message) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout.Duration)
	defer cancel()
	host, _, err := net.SplitHostPort(e.cfg.SMTP)
	if err != nil {
		return err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.tls != nil {
		tc = e.tls.Clone()
	}
	tc.ServerName = host
	var conn net.Conn
	if e.cfg.TLS == config.SMTPImplicit {
		d := &tls.Dialer{Config: tc}
		conn, err = d.DialContext(ctx, "tcp", e.cfg.SMTP)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", e.cfg.SMTP)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // the whole conversation, not only the dial
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if e.cfg.TLS == config.SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errNoStartTLS
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if e.cfg.Username != "" {
		// smtp.PlainAuth itself refuses to send the password over a
		// connection that is not TLS (but to localhost).
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password.Reveal(), host)); err != nil {
			return errors.New("authentication refused (the server's reply is not shown: some echo the credentials)")
		}
	}
	from, _ := mail.ParseAddress(e.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	for _, to := range e.cfg.To {
		a, _ := mail.ParseAddress(to)
		if err := c.Rcpt(a.Address); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(e.message(m, from)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message writes the e-mail: plain ASCII text, CRLF line ends.
func (e *mailer) message(m *Message, from *mail.Address) []byte {
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + headerSafe(v) + "\r\n") }
	h("From", from.String())
	var to []string
	for _, t := range e.cfg.To {
		if a, err := mail.ParseAddress(t); err == nil {
			to = append(to, a.String())
		}
	}
	h("To", strings.Join(to, ", "))
	h("Subject", m.Title())
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	h("Date", at.Format(time.RFC1123Z))
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "casebridge.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		domain = d // the sender's: some servers judge a Message-ID by it
	}
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+headerSafe(domain)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=us-ascii")
	h("Content-Transfer-Encoding", "7bit")
	h("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(m.Text(), "\n", "\r\n"))
	return []byte(b.String())
}

// headerSafe keeps a header value on one line.
func headerSafe(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
