package schedules

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts standard five-field specs, an optional leading seconds
// field, and descriptors (@daily, @every 1h30m).
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses a schedule: a cron spec ("30 2 * * *", with an optional
// leading seconds field), a descriptor ("@daily", "@every 6h"), each
// optionally prefixed with "CRON_TZ=Zone " or "TZ=Zone ". Without a zone
// prefix the schedule runs in UTC, not in the machine's local zone, so
// moving the daemon to another server does not move its runs.
//
// Local zones have daylight-saving gaps and repeats: a job at 02:30 in a
// zone that skips that hour does not run that day, and one in a repeated
// hour may run twice (the state store's run record keeps the second from
// doing anything). Prefer UTC for jobs that must run every day.
//
// Parse never panics (robfig/cron's parser panics on "CRON_TZ=UTC" with no
// fields).
func Parse(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("schedule %q: not a valid cron spec", spec)
		}
	}()
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("empty schedule: expected a cron spec like \"30 2 * * *\" or a descriptor like \"@every 6h\"")
	}
	zone := "UTC"
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		eq := strings.IndexByte(s, '=')
		rest := s[eq+1:]
		i := strings.IndexFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' })
		if i < 0 {
			return nil, fmt.Errorf("schedule %q: a time zone needs a schedule after it, like \"CRON_TZ=Asia/Bangkok 30 2 * * *\"", spec)
		}
		zone, s = rest[:i], strings.TrimSpace(rest[i:])
		if s == "" {
			return nil, fmt.Errorf("schedule %q: a time zone needs a schedule after it", spec)
		}
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return nil, fmt.Errorf("schedule %q: unknown time zone %q (use an IANA name like Asia/Bangkok or UTC)", spec, zone)
	}
	sched, err = parser.Parse("CRON_TZ=" + zone + " " + s)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", spec, err)
	}
	if _, every := sched.(cron.ConstantDelaySchedule); every && sched.Next(time.Time{}).IsZero() {
		return nil, fmt.Errorf("schedule %q: interval too short", spec)
	}
	return sched, nil
}

// Next returns the next n times sched fires after t.
func Next(sched cron.Schedule, t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}
