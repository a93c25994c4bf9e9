package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Limit is a ceiling written as a count ("500") or as a share of a total
// ("5%", "0.5%"), as in api_budget and max_delete.
type Limit struct {
	// Count is the ceiling when the limit is a count.
	Count int64
	// Percent is the ceiling when the limit is a share, 0 to 100.
	Percent float64

	percent bool
}

// IsPercent reports whether the limit is a share rather than a count.
func (l Limit) IsPercent() bool { return l.percent }

// Of returns the ceiling for a total: Count, or Percent of total rounded
// down.
func (l Limit) Of(total int64) int64 {
	if !l.percent {
		return l.Count
	}
	return int64(math.Floor(float64(total) * l.Percent / 100))
}

// String writes the limit as it is written in the file.
func (l Limit) String() string {
	if l.percent {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(l.Count, 10)
}

var errLimit = errors.New("want a count (such as 50) or a percentage (such as 5%)")

func (l *Limit) parseScalar(s string) error {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(p, "xXpP_") {
			return errLimit
		}
		if f < 0 || f > 100 {
			return errors.New("a percentage must be between 0% and 100%")
		}
		*l = Limit{Percent: f, percent: true}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errLimit
	}
	if n < 0 {
		return errors.New("a count must not be negative")
	}
	*l = Limit{Count: n}
	return nil
}
