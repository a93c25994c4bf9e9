package config

import (
	"strings"
	"testing"
	"time"
)

func TestInterpolate(t *testing.T) {
	getenv := func(name string) (string, bool) {
		switch name {
		case "HOST":
			return "db.example", true
		case "EMPTY":
			return "", true
		}
		return "", false
	}
	for _, tc := range []struct {
		in, want string
		literal  bool
		err      string
		offset   int
	}{
		{in: "plain", want: "plain", literal: true},
		{in: "$HOST and $ alone", want: "$HOST and $ alone", literal: true},
		{in: "${HOST}", want: "db.example"},
		{in: "tcp(${HOST}:3306)/${EMPTY}x", want: "tcp(db.example:3306)/x"},
		{in: "$${HOST}", want: "${HOST}", literal: true},
		{in: "a$${b}${HOST}", want: "a${b}db.example"},
		{in: "x ${NOPE}", err: "environment variable NOPE is not set", offset: 2},
		{in: "${HOST", err: "unterminated ${", offset: 0},
		{in: "ab${}", err: "must hold an environment variable name", offset: 2},
		{in: "${A B}", err: "must hold an environment variable name"},
		{in: "${1A}", err: "must hold an environment variable name"},
	} {
		got, literal, err := interpolate(tc.in, getenv)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.msg, tc.err) || err.offset != tc.offset {
				t.Errorf("interpolate(%q) error = %+v, want %q at %d", tc.in, err, tc.err, tc.offset)
			}
			continue
		}
		if err != nil || got != tc.want || literal != tc.literal {
			t.Errorf("interpolate(%q) = %q, %v, %v; want %q, %v", tc.in, got, literal, err, tc.want, tc.literal)
		}
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		in      string
		percent bool
		count   int64
		pct     float64
		of1000  int64
		err     string
	}{
		{in: "5%", percent: true, pct: 5, of1000: 50},
		{in: "0.5%", percent: true, pct: 0.5, of1000: 5},
		{in: " 20 % ", percent: true, pct: 20, of1000: 200},
		{in: "100%", percent: true, pct: 100, of1000: 1000},
		{in: "0%", percent: true, of1000: 0},
		{in: "25", count: 25, of1000: 25},
		{in: "0", count: 0, of1000: 0},
		{in: "101%", err: "between 0% and 100%"},
		{in: "-1%", err: "between 0% and 100%"},
		{in: "-3", err: "must not be negative"},
		{in: "five", err: "want a count"},
		{in: "5.5", err: "want a count"},
		{in: "%", err: "want a count"},
		{in: "NaN%", err: "want a count"},
		{in: "0x10%", err: "want a count"},
	} {
		var l Limit
		err := l.parseScalar(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Limit(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || l.IsPercent() != tc.percent || l.Count != tc.count || l.Percent != tc.pct || l.Of(1000) != tc.of1000 {
			t.Errorf("Limit(%q) = %+v (of 1000: %d), err %v", tc.in, l, l.Of(1000), err)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	from := time.Date(2024, 4, 3, 12, 0, 0, 0, time.UTC) // a Wednesday
	for _, tc := range []struct {
		spec  string
		zone  string
		every time.Duration
		next  time.Time
		err   string
	}{
		{spec: "", zone: "UTC"},
		{spec: "30 2 * * *", zone: "UTC", next: time.Date(2024, 4, 4, 2, 30, 0, 0, time.UTC)},
		{spec: "0 30 2 * * *", zone: "UTC", next: time.Date(2024, 4, 4, 2, 30, 0, 0, time.UTC)},
		{spec: "CRON_TZ=Asia/Bangkok 30 2 * * *", zone: "Asia/Bangkok", next: time.Date(2024, 4, 3, 19, 30, 0, 0, time.UTC)},
		{spec: "TZ=America/Guatemala 0 6 * * MON", zone: "America/Guatemala", next: time.Date(2024, 4, 8, 12, 0, 0, 0, time.UTC)},
		{spec: "@daily", zone: "UTC", next: time.Date(2024, 4, 4, 0, 0, 0, 0, time.UTC)},
		{spec: "@every 1h", zone: "UTC", every: time.Hour, next: from.Add(time.Hour)},
		{spec: "15m", zone: "UTC", every: 15 * time.Minute, next: from.Add(15 * time.Minute)},
		{spec: "CRON_TZ=UTC", err: "names a time zone but no schedule follows it"},
		{spec: "TZ=Asia/Bangkok", err: "names a time zone but no schedule follows it"},
		{spec: "CRON_TZ=Mars/Olympus 0 1 * * *", err: `unknown time zone "Mars/Olympus"`},
		{spec: "CRON_TZ=Local 0 1 * * *", err: `unknown time zone "Local"`},
		{spec: "CRON_TZ= 0 1 * * *", err: `unknown time zone ""`},
		{spec: "61 2 * * *", err: "above maximum"},
		{spec: "30 2 * *", err: "expected 5 to 6 fields, found 4"},
		{spec: "1hour", err: "neither a cron spec"},
		{spec: "500ms", err: "at least 1s"},
		{spec: "@every", err: ""},
	} {
		s, err := ParseSchedule(tc.spec)
		if tc.err != "" || tc.spec == "@every" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSchedule(%q) error = %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.spec, err)
			continue
		}
		if s.Location.String() != tc.zone || s.Every != tc.every || !s.Next(from).Equal(tc.next) {
			t.Errorf("ParseSchedule(%q) = zone %v every %v next %v; want %s %v %v", tc.spec, s.Location, s.Every, s.Next(from).UTC(), tc.zone, tc.every, tc.next)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"login_url", "api_version", "auth", "api_budget"}
	for _, tc := range []struct{ word, want string }{
		{"logn_url", "login_url"},
		{"Login_URL", "login_url"},
		{"api_versoin", "api_version"},
		{"aut", "auth"},
		{"budget", ""},
		{"zzz", ""},
		{"api_budge", "api_budget"},
	} {
		got := suggest(tc.word, keys)
		want := ""
		if tc.want != "" {
			want = ` (did you mean "` + tc.want + `"?)`
		}
		if got != want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, want)
		}
	}
}
