package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/config"
)

// Format is the name and version of the json webhook body.
const Format = "casebridge-alert/1"

// jsonBody is the json format's body: the event's fields, and the
// notifier's, and the title and text ready to show.
type jsonBody struct {
	Format string `json:"format"`
	Event
	Host    string     `json:"host,omitempty"`
	Repeats int        `json:"repeats,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
	Dropped int        `json:"dropped,omitempty"`
	Title   string     `json:"title"`
	Text    string     `json:"text"`
}

// Body returns the body a webhook of format f receives for m.
func Body(f config.WebhookFormat, m *Message) ([]byte, error) {
	switch f {
	case config.WebhookSlack:
		// Slack's incoming webhooks take {"text": ...} in its mrkdwn,
		// where &, < and > must be escaped.
		return json.Marshal(map[string]string{"text": slackEscape("*" + m.Title() + "*\n" + strings.Join(m.Lines(), "\n"))})
	case config.WebhookTeams:
		return json.Marshal(teamsMessage(m))
	}
	b := jsonBody{Format: Format, Event: m.Event, Host: m.Host, Repeats: m.Repeats, Dropped: m.Dropped, Title: m.Title(), Text: m.Text()}
	if m.Repeats > 0 {
		b.Since = &m.Since
	}
	return json.Marshal(b)
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

// teamsMessage is a message holding one Adaptive Card, the body that both
// a Teams Workflows webhook ("Send webhook alerts to a channel") and the
// older Office 365 incoming webhook accept.
func teamsMessage(m *Message) map[string]any {
	var facts []map[string]string
	for _, l := range m.Lines() {
		k, v, _ := strings.Cut(l, ": ")
		facts = append(facts, map[string]string{"title": k, "value": v})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []any{
			map[string]any{"type": "TextBlock", "text": m.Title(), "weight": "Bolder", "size": "Medium", "wrap": true},
			map[string]any{"type": "FactSet", "facts": facts},
		},
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

type webhook struct {
	cfg    *config.Webhook
	client *http.Client
}

func newWebhook(cfg *config.Webhook, client *http.Client) *webhook {
	if client == nil {
		client = &http.Client{
			// A redirect would take the body (and any Authorization)
			// elsewhere: chat webhooks do not redirect.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &webhook{cfg: cfg, client: client}
}

// send POSTs m. Its errors never hold the URL, which may hold a token.
func (w *webhook) send(ctx context.Context, m *Message) error {
	body, err := Body(w.cfg.Format, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout.Duration)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: the URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "casebridge-alert")
	if a := w.cfg.Authorization.Reveal(); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return fmt.Errorf("webhook %s: %w", w.host(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: HTTP %d", w.host(), resp.StatusCode)
	}
	return nil
}

// host names the webhook's server for logs: the host only, no path or
// query (where tokens live).
func (w *webhook) host() string {
	u, err := url.Parse(w.cfg.URL.Reveal())
	if err != nil {
		return "(URL not shown)"
	}
	return u.Host
}
