package calendar

import (
	"fmt"
	"time"
)

// dateLayout is the one textual form of a civil date this package accepts.
const dateLayout = "2006-01-02"

// Date returns the civil date y-m-d as a time.Time at 00:00 UTC, the form
// every date in this package takes. Out-of-range values normalise as they do
// in time.Date (Date(2026, 2, 30) is 2026-03-02).
func Date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate reads a civil date written exactly as YYYY-MM-DD.
func ParseDate(s string) (time.Time, error) {
	t, err := parseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("calendar: %w", err)
	}
	return t, nil
}

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) {
		return time.Time{}, fmt.Errorf("date %q: want the form YYYY-MM-DD, e.g. 2026-07-24", s)
	}
	return t, nil
}

// Day returns the civil date, in loc, of the instant t: a request that
// arrives at 23:30 in Salt Lake City was received that day, even though it
// is already tomorrow in UTC. A nil loc means UTC.
func Day(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return civil(t.In(loc))
}

// civil strips the clock and location from t, keeping the calendar date t
// shows in its own location. Every exported function passes its input dates
// through it so a caller's clock time can never shift a deadline by a day.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return Date(y, m, d)
}

// EasterSunday returns Western (Gregorian) Easter Sunday of year, by the
// Anonymous Gregorian algorithm (Meeus/Jones/Butcher). It is exact for every
// Gregorian year, that is from 1583 on.
func EasterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date(year, time.Month(month), day)
}
