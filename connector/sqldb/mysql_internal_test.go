package sqldb

import (
	"testing"
	"time"
)

func TestMySQLTimeZone(t *testing.T) {
	load := func(n string) *time.Location {
		l, err := time.LoadLocation(n)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	winter := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		loc  *time.Location
		now  time.Time
		want string
	}{
		{time.UTC, winter, "'+00:00'"},
		{load("America/Guatemala"), summer, "IF(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'America/Guatemala') IS NULL, '-06:00', 'America/Guatemala')"},
		{load("Europe/Berlin"), winter, "IF(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'Europe/Berlin') IS NULL, '+01:00', 'Europe/Berlin')"},
		{load("Europe/Berlin"), summer, "IF(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'Europe/Berlin') IS NULL, '+02:00', 'Europe/Berlin')"},
		{load("Asia/Kathmandu"), winter, "IF(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'Asia/Kathmandu') IS NULL, '+05:45', 'Asia/Kathmandu')"},
		{time.FixedZone("x'; DROP", 3600), winter, "'+01:00'"},
	} {
		if got := mysqlTimeZone(tc.loc, tc.now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.loc, got, tc.want)
		}
	}
}
