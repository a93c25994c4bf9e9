package schedules

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	bkk := time.FixedZone("ICT", 7*3600)
	for _, tc := range []struct {
		spec string
		want time.Time // first run after `from`
	}{
		{"30 2 * * *", time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)}, // UTC by default
		{"0 30 2 * * *", time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)},
		{"CRON_TZ=Asia/Bangkok 30 2 * * *", time.Date(2026, 3, 2, 2, 30, 0, 0, bkk)},
		{"TZ=Asia/Bangkok 30 2 * * *", time.Date(2026, 3, 2, 2, 30, 0, 0, bkk)},
		{"@daily", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"@every 6h", from.Add(6 * time.Hour)},
		{"  15 * * * *  ", time.Date(2026, 3, 1, 0, 15, 0, 0, time.UTC)},
	} {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(tc.want) {
			t.Errorf("Parse(%q).Next = %v, want %v", tc.spec, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "empty schedule"},
		{"CRON_TZ=UTC", "needs a schedule after it"}, // panics robfig/cron's parser
		{"TZ=Asia/Bangkok", "needs a schedule after it"},
		{"CRON_TZ=Mars/Olympus 0 * * * *", "unknown time zone"},
		{"61 * * * *", "schedule"},
		{"* * *", "schedule"},
		{"@fortnightly", "schedule"},
		{"@every banana", "schedule"},
	} {
		_, err := Parse(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

// TestParseDST documents what a local-zone schedule does on a
// daylight-saving change: the skipped 02:30 does not fire that day.
func TestParseDST(t *testing.T) {
	s, err := Parse("CRON_TZ=America/New_York 30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	// 2026-03-08 is the spring-forward day in New York: 02:00 -> 03:00.
	got := Next(s, time.Date(2026, 3, 7, 12, 0, 0, 0, ny), 2)
	if got[0].Day() != 9 && got[0].Day() != 8 {
		t.Fatalf("unexpected first run %v", got[0])
	}
	for _, g := range got {
		if g.Day() == 8 && g.Hour() == 2 {
			t.Errorf("fired at a wall time that does not exist: %v", g)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "CRON_TZ=UTC", "TZ=", "@every 1h", "CRON_TZ=Asia/Bangkok 0 0 * * *", "*/0 * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec) // must not panic
		if err == nil && s == nil {
			t.Fatal("nil schedule without error")
		}
	})
}
