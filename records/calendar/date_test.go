package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records/calendar"
)

// on returns the civil date s (YYYY-MM-DD) after checking that it is a wd,
// so every weekday a test claims is itself checked by the time package.
func on(tb testing.TB, s string, wd time.Weekday) time.Time {
	tb.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	if d.Weekday() != wd {
		tb.Fatalf("test data: %s is a %s, not a %s", s, d.Weekday(), wd)
	}
	return d
}

func TestEasterSunday(t *testing.T) {
	// Western Easter dates, checked against published tables and
	// python-dateutil's easter(); 1818 and 2285 are the earliest possible
	// (March 22), 1943 and 2038 the latest (April 25).
	for _, want := range []string{
		"1818-03-22", "1943-04-25", "2000-04-23", "2008-03-23", "2011-04-24",
		"2019-04-21", "2020-04-12", "2021-04-04", "2022-04-17", "2023-04-09",
		"2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28", "2028-04-16",
		"2029-04-01", "2030-04-21", "2031-04-13", "2032-03-28", "2033-04-17",
		"2034-04-09", "2035-03-25", "2038-04-25", "2285-03-22",
	} {
		t.Run(want, func(t *testing.T) {
			d := on(t, want, time.Sunday)
			if got := calendar.EasterSunday(d.Year()); !got.Equal(d) {
				t.Errorf("EasterSunday(%d) = %s, want %s", d.Year(), got.Format(time.DateOnly), want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	got, err := calendar.ParseDate("2026-07-24")
	if err != nil || !got.Equal(calendar.Date(2026, time.July, 24)) || got.Location() != time.UTC {
		t.Fatalf("ParseDate(2026-07-24) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "2026-7-24", "2026-07-24T00:00:00Z", " 2026-07-24", "2026-02-30",
		"07/24/2026", "2026-13-01", "+2026-07-24", "20260724"} {
		t.Run(bad, func(t *testing.T) {
			_, err := calendar.ParseDate(bad)
			if err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") || !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("ParseDate(%q) error = %v, want one naming YYYY-MM-DD", bad, err)
			}
		})
	}
}

func TestDay(t *testing.T) {
	mdt := time.FixedZone("MDT", -6*60*60)
	// 03:30 UTC on Tuesday July 21 is still 21:30 on Monday July 20 in Salt
	// Lake City.
	instant := time.Date(2026, time.July, 21, 3, 30, 0, 0, time.UTC)
	if got, want := calendar.Day(instant, mdt), on(t, "2026-07-20", time.Monday); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Day(%v, MDT) = %v, want %v", instant, got, want)
	}
	if got, want := calendar.Day(instant, nil), on(t, "2026-07-21", time.Tuesday); !got.Equal(want) {
		t.Errorf("Day(%v, nil) = %v, want %v", instant, got, want)
	}
}

// TestInputsNormalised: a date with a clock and a zone counts as the date it
// shows, in every function.
func TestInputsNormalised(t *testing.T) {
	c := mustUtah(t)
	mdt := time.FixedZone("MDT", -6*60*60)
	// Friday 2026-07-24 (Pioneer Day) at 23:30 in Salt Lake City, which is
	// already Saturday in UTC.
	late := time.Date(2026, time.July, 24, 23, 30, 0, 0, mdt)
	if c.IsBusinessDay(late) {
		t.Error("IsBusinessDay(Pioneer Day 23:30 MDT) = true")
	}
	if h, ok := c.Holiday(late); !ok || h.Name != "Pioneer Day" {
		t.Errorf("Holiday(Pioneer Day 23:30 MDT) = %v, %v", h, ok)
	}
	// Day 0 is the 24th, so day 1 is Monday the 27th.
	if got, want := c.AddBusinessDays(late, 1), on(t, "2026-07-27", time.Monday); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("AddBusinessDays(late, 1) = %v, want %v", got, want)
	}
	// 2026-07-24 + 3 = Monday 2026-07-27, a business day.
	if got, want := c.AddCalendarDays(late, 3), on(t, "2026-07-27", time.Monday); !got.Equal(want) {
		t.Errorf("AddCalendarDays(late, 3) = %v, want %v", got, want)
	}
	if !c.Covers(time.Date(2035, time.December, 31, 23, 0, 0, 0, mdt)) {
		t.Error("Covers(2035-12-31 23:00 MDT) = false")
	}
}
