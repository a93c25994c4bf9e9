package config

import (
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Alerts are the configuration's alert targets (the alert package sends
// them): who hears of a job that failed, was locked out, was stopped by a
// safety brake, holds conflicts for a person or left findings. An alert
// carries the job, the stage, counts and codes, never a value or an error's
// text.
type Alerts []*Alert

// Alert is one alert target: a webhook, an e-mail, or both, and what it
// hears of.
type Alert struct {
	Meta
	Name        string      `yaml:"name" required:"true" doc:"the target's name, in logs and in the state store's record of alerts sent"`
	On          []AlertKind `yaml:"on" default:"failure,lockout,brake" doc:"what is alerted: failure (a run failed at any stage, login included), lockout (a job locked out after a critical error), brake (a safety brake stopped a run), conflicts (a job holds conflicts for a person), findings (a run left at least min_findings failed, unmapped, unreadable, unknown or ambiguous records)"`
	MinFindings int         `yaml:"min_findings" default:"1" doc:"findings: the least number of findings in one run that is alerted"`
	Every       Duration    `yaml:"every" default:"1h" doc:"an alert like the last one sent (same job, kind, stage and codes) is repeated at most this often while it lasts; a change is sent at once, and a job that runs well again is reported resolved. 1m to 30d"`
	MaxPerHour  int         `yaml:"max_per_hour" default:"30" doc:"at most this many messages an hour to this target from one process (a storm of failing jobs); the next message says how many were dropped"`
	Webhook     *Webhook    `yaml:"webhook" doc:"an HTTP POST of JSON for each alert"`
	Email       *Email      `yaml:"email" doc:"an e-mail for each alert, over SMTP"`
}

// Webhook is an alert target reached by HTTP POST.
type Webhook struct {
	Meta
	URL           Secret        `yaml:"url" required:"true" doc:"https URL to POST to; Slack, Teams and most chat webhooks hold their token in it: write it as ${ENV} or url_file"`
	Format        WebhookFormat `yaml:"format" default:"json" doc:"json (casebridge's own body, format casebridge-alert/1), slack (an incoming webhook's {\"text\": ...}) or teams (an Adaptive Card message, for a Teams Workflows or incoming webhook)"`
	Authorization Secret        `yaml:"authorization" doc:"the Authorization header's value, such as \"Bearer ${ALERT_TOKEN}\""`
	Timeout       Duration      `yaml:"timeout" default:"10s" doc:"how long one POST may take"`
}

// Email is an alert target reached by e-mail.
type Email struct {
	Meta
	SMTP     string   `yaml:"smtp" required:"true" doc:"the mail server as host:port, such as smtp.example.org:587 (submission with STARTTLS) or :465 with tls: implicit"`
	From     string   `yaml:"from" required:"true" doc:"the sender address"`
	To       []string `yaml:"to" required:"true" doc:"the recipients' addresses"`
	Username string   `yaml:"username" doc:"SMTP AUTH PLAIN user; empty: no authentication"`
	Password Secret   `yaml:"password" doc:"SMTP AUTH password, usually ${ENV}; only ever sent over TLS"`
	TLS      SMTPTLS  `yaml:"tls" default:"starttls" doc:"starttls (the server must offer STARTTLS: nothing is sent otherwise), implicit (TLS from the first byte, port 465), or none (a relay on this machine or network: no TLS, and then no username or password)"`
	Timeout  Duration `yaml:"timeout" default:"30s" doc:"how long sending one e-mail may take"`
}

// AlertKind is what an alert target hears of.
type AlertKind string

// The alert kinds.
const (
	AlertFailure   AlertKind = "failure"
	AlertLockout   AlertKind = "lockout"
	AlertBrake     AlertKind = "brake"
	AlertConflicts AlertKind = "conflicts"
	AlertFindings  AlertKind = "findings"
)

func (AlertKind) enumValues() []string {
	return []string{"failure", "lockout", "brake", "conflicts", "findings"}
}

// WebhookFormat is the body an alert webhook receives.
type WebhookFormat string

// The webhook formats.
const (
	WebhookJSON  WebhookFormat = "json"
	WebhookSlack WebhookFormat = "slack"
	WebhookTeams WebhookFormat = "teams"
)

func (WebhookFormat) enumValues() []string { return []string{"json", "slack", "teams"} }

// SMTPTLS is how an alert e-mail's connection is protected.
type SMTPTLS string

// The SMTP TLS modes.
const (
	SMTPStartTLS SMTPTLS = "starttls"
	SMTPImplicit SMTPTLS = "implicit"
	SMTPNone     SMTPTLS = "none"
)

func (SMTPTLS) enumValues() []string { return []string{"starttls", "implicit", "none"} }

// Wants reports whether the target hears of kind.
func (a *Alert) Wants(kind AlertKind) bool {
	for _, k := range a.On {
		if k == kind {
			return true
		}
	}
	return false
}

// decodeNode decodes the list, then checks each target: the checks need
// nothing else of the configuration, so they live beside the types.
func (as *Alerts) decodeNode(d *decoder, n ast.Node, path string, at Pos) {
	if !d.decodeSlice(n, reflect.ValueOf(as).Elem(), path, at) {
		return
	}
	names := map[string]*Alert{}
	for _, a := range *as {
		if a.Name != "" {
			if first, dup := names[a.Name]; dup {
				d.errAt(&a.Meta, "name", "alert %s is already named at line %d; give each target its own name", quoteWord(a.Name), first.At("name").Line)
			} else if !nameRE.MatchString(a.Name) {
				d.errAt(&a.Meta, "name", "want a name of letters, digits, _ and -, starting with a letter")
			}
			names[a.Name] = a
		}
		d.validateAlert(a)
	}
}

func (d *decoder) validateAlert(a *Alert) {
	if a.Webhook == nil && a.Email == nil {
		d.errorf(a.Pos, a.KeyPath, "an alert needs a webhook, an email, or both")
	}
	if len(a.On) == 0 && a.Has("on") {
		d.errAt(&a.Meta, "on", "must not be empty: list what is alerted (failure, lockout, brake, conflicts, findings)")
	}
	if a.MinFindings < 1 {
		d.errAt(&a.Meta, "min_findings", "want 1 or more")
	}
	if a.Has("min_findings") && !a.Wants(AlertFindings) {
		d.warnf(a.At("min_findings"), a.PathOf("min_findings"), "min_findings applies to findings, which this alert's on does not list")
	}
	if e := a.Every.Duration; e < time.Minute || e > 30*24*time.Hour {
		d.errAt(&a.Meta, "every", "want 1m to 30d")
	}
	if a.MaxPerHour < 1 {
		d.errAt(&a.Meta, "max_per_hour", "want 1 or more")
	}
	if w := a.Webhook; w != nil && !d.failed[w.PathOf("url")] && w.Has("url") {
		d.validateWebhook(w)
	}
	if e := a.Email; e != nil {
		d.validateEmail(e)
	}
}

func (d *decoder) validateWebhook(w *Webhook) {
	// The URL is a secret (a Slack or Teams URL holds the token): no
	// message quotes it.
	u, err := url.Parse(w.URL.Reveal())
	switch {
	case err != nil || u.Host == "":
		d.errAt(&w.Meta, "url", "want an absolute http(s) URL (not shown: it may hold a token)")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		d.warnf(w.At("url"), w.PathOf("url"), "plain http to another machine: the alerts (job names, codes, counts) and any token in the URL cross the network unencrypted; prefer https")
	case u.Scheme != "https" && u.Scheme != "http":
		d.errAt(&w.Meta, "url", "want an http or https URL")
	}
	if t := w.Timeout.Duration; t < time.Second || t > 5*time.Minute {
		d.errAt(&w.Meta, "timeout", "want 1s to 5m")
	}
}

func (d *decoder) validateEmail(e *Email) {
	if e.SMTP != "" {
		if host, port, err := net.SplitHostPort(e.SMTP); err != nil || host == "" || port == "" {
			d.errAt(&e.Meta, "smtp", "want host:port, such as smtp.example.org:587")
		}
	}
	if e.From != "" {
		if _, err := mail.ParseAddress(e.From); err != nil {
			d.errAt(&e.Meta, "from", "not an e-mail address")
		}
	}
	for i, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			p := e.PathOf("to") + "[" + strconv.Itoa(i) + "]"
			d.errorf(d.posOf(p, e.At("to")), p, "not an e-mail address")
		}
	}
	if e.Username != "" && e.Password.IsZero() {
		d.errAt(&e.Meta, "password", "username is set: password needs a value")
	}
	if !e.Password.IsZero() && e.Username == "" {
		d.errAt(&e.Meta, "username", "password is set: username needs a value")
	}
	if e.TLS == SMTPNone && (e.Username != "" || !e.Password.IsZero()) {
		d.errAt(&e.Meta, "tls", "a password is never sent without TLS: use starttls or implicit, or a relay that needs no login")
	}
	if t := e.Timeout.Duration; t < time.Second || t > 5*time.Minute {
		d.errAt(&e.Meta, "timeout", "want 1s to 5m")
	}
}

// isLoopbackHost reports whether host is this machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
