package alert

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/casebridge/casebridge/config"
)

// Mark is what a target was last sent of one kind for a job.
type Mark struct {
	Sig     string    `json:"sig"`
	First   time.Time `json:"first"`             // when this alert was first sent
	Sent    time.Time `json:"sent"`              // when it was last sent
	Repeats int       `json:"repeats,omitempty"` // runs with it since, not sent
}

// Marks are a job's marks, by channel ("ops.webhook", "ops.email") and
// kind. They hold hashes, times and counts only.
type Marks map[string]map[Kind]*Mark

// MarkStore keeps each job's Marks between runs (and processes).
type MarkStore interface {
	LoadMarks(ctx context.Context, job string) (Marks, error)
	SaveMarks(ctx context.Context, job string, m Marks) error
}

// MemoryMarks is a MarkStore in memory: the marks last as long as the
// process.
type MemoryMarks struct {
	mu sync.Mutex
	m  map[string][]byte
}

// LoadMarks implements MarkStore.
func (s *MemoryMarks) LoadMarks(_ context.Context, job string) (Marks, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return DecodeMarks(string(s.m[job]))
}

// SaveMarks implements MarkStore.
func (s *MemoryMarks) SaveMarks(_ context.Context, job string, m Marks) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[job] = b
	return nil
}

// DecodeMarks reads marks as EncodeMarks writes them; "" is none. Marks
// that do not decode are dropped (the worst outcome is an alert repeated
// early), with the error.
func DecodeMarks(s string) (Marks, error) {
	m := Marks{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Marks{}, errors.New("alert marks do not decode; starting afresh")
	}
	return m, nil
}

// EncodeMarks writes marks as JSON.
func EncodeMarks(m Marks) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}

// Options are what New needs besides the configuration.
type Options struct {
	// Marks keeps what was sent; default MemoryMarks (this process only).
	Marks MarkStore
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Host names this machine in messages; default os.Hostname.
	Host string
	// HTTPClient sends webhooks; default one with the target's timeout
	// that follows no redirect.
	HTTPClient *http.Client
	// TLS is the base of the SMTP connections' TLS configuration (tests
	// give their server's certificate authority); ServerName is set from
	// the smtp host.
	TLS *tls.Config
}

// Notifier sends a configuration's alerts. It is safe for concurrent use;
// a nil Notifier sends nothing.
type Notifier struct {
	channels []*channel
	opts     Options
	log      zerolog.Logger

	mu sync.Mutex // one Notify at a time: marks are read, changed, written
}

// channel is one way of reaching an alert target: its webhook or its
// e-mail. Each keeps its own marks and rate limit, so that a failed e-mail
// does not count as delivered because the webhook was.
type channel struct {
	name   string // "ops.webhook"
	alert  *config.Alert
	send   func(ctx context.Context, m *Message) error
	sent   []time.Time // attempts within the last hour
	drops  int         // dropped by the rate limit since the last attempt
	sender string      // webhook or email, for logs
}

// New returns a Notifier for alerts, or nil when there are none.
func New(alerts config.Alerts, log zerolog.Logger, opts Options) *Notifier {
	if len(alerts) == 0 {
		return nil
	}
	if opts.Marks == nil {
		opts.Marks = &MemoryMarks{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	n := &Notifier{opts: opts, log: log}
	for _, a := range alerts {
		if a.Webhook != nil {
			w := newWebhook(a.Webhook, opts.HTTPClient)
			n.channels = append(n.channels, &channel{name: a.Name + ".webhook", alert: a, send: w.send, sender: "webhook"})
		}
		if a.Email != nil {
			e := &mailer{cfg: a.Email, tls: opts.TLS}
			n.channels = append(n.channels, &channel{name: a.Name + ".email", alert: a, send: e.send, sender: "email"})
		}
	}
	return n
}

// Notify sends what a report calls for to each target, and records it. A
// delivery that fails is logged (never with the URL or a password) and
// tried again after the job's next run. It returns when every message
// was sent or given up.
func (n *Notifier) Notify(ctx context.Context, r Report) {
	if n == nil || (len(r.Events) == 0 && len(r.Clear) == 0) {
		return
	}
	ctx = context.WithoutCancel(ctx) // a stopping daemon still tells
	n.mu.Lock()
	defer n.mu.Unlock()
	log := n.log.With().Str("job", r.Job).Logger()
	marks, err := n.opts.Marks.LoadMarks(ctx, r.Job)
	if err != nil {
		log.Warn().Err(err).Msg("alerts: the marks of alerts sent could not be read; alerts may repeat early")
		marks = Marks{}
	}
	now := n.opts.Now()
	changed := false
	for _, ch := range n.channels {
		cm := marks[ch.name]
		if cm == nil {
			cm = map[Kind]*Mark{}
			marks[ch.name] = cm
		}
		for _, ev := range r.Events {
			if !ch.alert.Wants(config.AlertKind(ev.Kind)) {
				continue
			}
			if ev.Kind == KindFindings && ev.Counts.Findings() < ch.alert.MinFindings {
				continue
			}
			sig := ev.signature()
			m := &Message{Event: ev, Host: n.opts.Host, Since: now}
			if old := cm[ev.Kind]; old != nil && old.Sig == sig {
				if now.Sub(old.Sent) < ch.alert.Every.Duration {
					old.Repeats++ // de-duplicated
					changed = true
					continue
				}
				m.Repeats, m.Since = old.Repeats, old.First
			}
			if n.deliver(ctx, ch, m, now, log) {
				cm[ev.Kind] = &Mark{Sig: sig, First: m.Since, Sent: now}
				changed = true
			}
		}
		for _, k := range r.Clear {
			old := cm[k]
			if old == nil {
				continue
			}
			if slices.Contains(resolvable, k) && ch.alert.Wants(config.AlertKind(k)) {
				m := &Message{Event: Event{Kind: KindResolved, Job: r.Job, Resolves: k, At: now}, Host: n.opts.Host, Since: old.First}
				if !n.deliver(ctx, ch, m, now, log) {
					continue // told next time
				}
			}
			delete(cm, k)
			changed = true
		}
		if len(cm) == 0 {
			delete(marks, ch.name)
		}
	}
	if changed {
		if err := n.opts.Marks.SaveMarks(ctx, r.Job, marks); err != nil {
			log.Warn().Err(err).Msg("alerts: the marks of alerts sent could not be saved; alerts may repeat early")
		}
	}
}

// deliver sends m on ch unless the rate limit drops it, and reports
// whether it was delivered.
func (n *Notifier) deliver(ctx context.Context, ch *channel, m *Message, now time.Time, log zerolog.Logger) bool {
	hour := now.Add(-time.Hour)
	ch.sent = slices.DeleteFunc(ch.sent, func(t time.Time) bool { return t.Before(hour) })
	l := log.With().Str("alert", ch.name).Str("kind", string(m.Kind)).Logger()
	if len(ch.sent) >= ch.alert.MaxPerHour {
		ch.drops++
		l.Warn().Int("max_per_hour", ch.alert.MaxPerHour).Msg("alerts: rate limit reached; message dropped")
		return false
	}
	ch.sent = append(ch.sent, now)
	m.Dropped = ch.drops
	if err := ch.send(ctx, m); err != nil {
		l.Error().Err(err).Msg("alerts: sending failed; tried again after the job's next run")
		return false
	}
	ch.drops = 0
	l.Info().Msg("alert sent")
	return true
}

// Test sends a test message to every channel (or those of the targets
// named), past the marks and the rate limit, and returns each channel's
// outcome by name ("ops.webhook"): nil when it was delivered. It is for an
// operator checking a configuration (casebridge alerts test).
func (n *Notifier) Test(ctx context.Context, names ...string) map[string]error {
	out := map[string]error{}
	if n == nil {
		return out
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ch := range n.channels {
		if len(names) > 0 && !slices.Contains(names, ch.alert.Name) {
			continue
		}
		m := &Message{Event: Event{Kind: KindTest, At: n.opts.Now()}, Host: n.opts.Host}
		out[ch.name] = ch.send(ctx, m)
	}
	return out
}
