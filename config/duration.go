package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time written as a Go duration ("30m", "6h") or
// in days ("7d"); "0" is none.
type Duration struct {
	time.Duration
}

var errDuration = errors.New("want a duration such as 30m, 6h or 7d")

func (d *Duration) parseScalar(s string) error {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 || days > 3650 {
			return errDuration
		}
		d.Duration = time.Duration(days * float64(24*time.Hour))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return errDuration
	}
	d.Duration = v
	return nil
}

// String writes the duration as it reads back.
func (d Duration) String() string { return d.Duration.String() }
