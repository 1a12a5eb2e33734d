// Package calendar counts GRAMA deadlines in business days against a
// jurisdiction's legal holidays, kept as versioned data (YAML) rather than
// code because the legislature changes them almost every year.
//
// Dates are civil dates: a time.Time at 00:00 UTC (see Date). Every function
// first strips the clock and location from the dates it is given, keeping
// the calendar date they show, so use Day to turn an instant into the date
// it was in the city's time zone.
//
// A Calendar is read-only once built and safe for concurrent use. Its
// methods assume it passed Validate (Parse guarantees that).
package calendar

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Calendar is one version of a jurisdiction's holiday rules.
type Calendar struct {
	// Version names this edition of the data, e.g. "utah-2026.1"; it is
	// stored beside every due date computed with it. Required,
	// [a-z0-9._-]+.
	Version string
	// Name is a human title, e.g. "Utah legal holidays".
	Name string
	// Source cites the law, e.g. "Utah Code 63G-1-301".
	Source string
	// FirstYear and LastYear bound the years the data is vouched for; see
	// Covers.
	FirstYear, LastYear int
	// Rules are the recurring holidays.
	Rules []Rule
	// Closures are one-off closed days, such as days proclaimed by the
	// Governor or the President.
	Closures []Closure
}

// Closure is a single day the offices are closed outside the rules.
type Closure struct {
	Date time.Time
	Name string
}

// Holiday is one observed holiday: Date is the day the offices close and
// Actual the date the law names (they differ when the holiday is moved off
// a weekend; for a closure they are the same).
type Holiday struct {
	Date   time.Time
	Name   string
	Actual time.Time
}

// Holidays returns the holidays and closures observed in year, sorted by
// date then name. A holiday belongs to the year it is observed in: New
// Year's Day 2028 falls on a Saturday and is observed on Friday
// 2027-12-31, so it is listed for 2027.
func (c *Calendar) Holidays(year int) []Holiday {
	var out []Holiday
	// Observances move a date by at most a week and Easter offsets by at
	// most a year, so only the neighbouring years can spill into this one.
	for y := year - 1; y <= year+1; y++ {
		for _, r := range c.Rules {
			if h, ok := r.Occurrence(y); ok && h.Date.Year() == year {
				out = append(out, h)
			}
		}
	}
	for _, cl := range c.Closures {
		if d := civil(cl.Date); d.Year() == year {
			out = append(out, Holiday{Date: d, Name: cl.Name, Actual: d})
		}
	}
	slices.SortStableFunc(out, func(a, b Holiday) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.Name, b.Name))
	})
	return out
}

// Holiday returns the holiday or closure observed on day d, if any (the
// first by name when two fall on the same day).
func (c *Calendar) Holiday(d time.Time) (Holiday, bool) {
	d = civil(d)
	for _, h := range c.Holidays(d.Year()) {
		if h.Date.Equal(d) {
			return h, true
		}
	}
	return Holiday{}, false
}

// IsBusinessDay reports whether d is neither a Saturday or Sunday, nor an
// observed holiday, nor a closure.
func (c *Calendar) IsBusinessDay(d time.Time) bool {
	d = civil(d)
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, closed := c.Holiday(d)
	return !closed
}

// AddBusinessDays returns the n-th business day after d, counting d itself
// as day 0 whether or not it is a business day (Utah Code 68-3-7 excludes
// the day of receipt). For n < 1 it returns d.
func (c *Calendar) AddBusinessDays(d time.Time, n int) time.Time {
	d = civil(d)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// AddCalendarDays returns the day n calendar days after d, rolled forward
// to the next business day when it falls on a Saturday, Sunday, holiday or
// closure (Utah Code 68-3-7: the last day is excluded if it is one of
// those). It dates the 30-day appeal windows.
func (c *Calendar) AddCalendarDays(d time.Time, n int) time.Time {
	d = civil(d).AddDate(0, 0, n)
	for !c.IsBusinessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// Covers reports whether d falls in a year the calendar's data is vouched
// for. Outside that range the rules still compute dates, but nobody has
// checked them against the law: callers should warn.
func (c *Calendar) Covers(d time.Time) bool {
	y := civil(d).Year()
	return c.FirstYear <= y && y <= c.LastYear
}
