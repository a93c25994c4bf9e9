package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // schedules and sources name IANA zones on every platform

	"github.com/robfig/cron/v3"
)

// Schedule is when a job runs by itself. It is written as a cron spec
// (five fields, or six with seconds first, or a descriptor such as @daily
// or @every 1h) or as a Go duration ("30m"). A cron spec runs in UTC
// unless it starts with CRON_TZ=<zone> or TZ=<zone>. An empty schedule
// means the job runs only by hand.
type Schedule struct {
	// Spec is the schedule as written.
	Spec string
	// Location is the zone the spec is read in (UTC unless it says
	// otherwise).
	Location *time.Location
	// Every is the interval of a duration schedule ("30m", "@every 30m"),
	// zero for calendar specs.
	Every time.Duration
	// Cron is the parsed schedule, nil when Spec is empty.
	Cron cron.Schedule
}

// IsZero reports whether no schedule is set.
func (s Schedule) IsZero() bool { return s.Cron == nil }

// Next returns the next activation after t, or the zero time if there is
// no schedule.
func (s Schedule) Next(t time.Time) time.Time {
	if s.Cron == nil {
		return time.Time{}
	}
	return s.Cron.Next(t)
}

// String returns the spec as written.
func (s Schedule) String() string { return s.Spec }

// cronParser accepts five fields, or six with seconds first, and
// descriptors (@daily, @every 1h).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (s *Schedule) parseScalar(spec string) error {
	sched, err := ParseSchedule(spec)
	if err != nil {
		return err
	}
	*s = sched
	return nil
}

// ParseSchedule parses a job schedule (see Schedule).
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Schedule{Location: time.UTC}, nil
	}
	if !strings.ContainsAny(spec, " \t") && !strings.HasPrefix(spec, "@") && !strings.Contains(spec, "=") {
		d, derr := time.ParseDuration(spec)
		if derr == nil {
			if d < time.Second {
				return Schedule{}, errors.New("a duration schedule must be at least 1s")
			}
			return Schedule{Spec: spec, Location: time.UTC, Every: d, Cron: cron.Every(d)}, nil
		}
		_, cerr := parseCron("CRON_TZ=UTC " + spec)
		return Schedule{}, fmt.Errorf("neither a cron spec (%v) nor a duration (%v)", cerr, strings.TrimPrefix(derr.Error(), "time: "))
	}
	zone, rest := "UTC", spec
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if after, ok := strings.CutPrefix(spec, prefix); ok {
			i := strings.IndexAny(after, " \t")
			if i < 0 {
				return Schedule{}, fmt.Errorf("%s%s names a time zone but no schedule follows it", prefix, after)
			}
			zone, rest = after[:i], strings.TrimSpace(after[i:])
			break
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" || zone == "Local" {
		return Schedule{}, fmt.Errorf("unknown time zone %q (want an IANA name such as Asia/Bangkok)", zone)
	}
	sched, err := parseCron("CRON_TZ=" + zone + " " + rest)
	if err != nil {
		return Schedule{}, err
	}
	out := Schedule{Spec: spec, Location: loc, Cron: sched}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		out.Every = every.Delay
	}
	return out, nil
}

// parseCron is the cron parser with its panics (such as on a bare
// "CRON_TZ=UTC") turned into errors.
func parseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, errors.New("not a cron spec")
		}
	}()
	return cronParser.Parse(spec)
}
