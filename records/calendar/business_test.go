package calendar_test

import (
	"testing"
	"time"
)

// TestAddBusinessDays counts GRAMA response deadlines: the day of receipt is
// day 0 and only business days count. Each case lists the days skipped.
func TestAddBusinessDays(t *testing.T) {
	c := mustUtah(t)
	tests := []struct {
		why      string
		received string
		rwd      time.Weekday
		n        int
		due      string
		dwd      time.Weekday
	}{
		// Pioneer Day Fri 2026-07-24 skipped.
		{"Pioneer Day", "2026-07-20", time.Monday, 5, "2026-07-28", time.Tuesday},
		{"Pioneer Day", "2026-07-20", time.Monday, 10, "2026-08-04", time.Tuesday},
		// Pioneer Day 2027 is a Saturday, observed Fri 2027-07-23.
		{"Pioneer Day observed Friday", "2027-07-21", time.Wednesday, 5, "2027-07-29", time.Thursday},
		{"Pioneer Day observed Friday", "2027-07-21", time.Wednesday, 10, "2027-08-05", time.Thursday},
		// Received on a Friday; Juneteenth Sat 2027-06-19 is observed Mon
		// 06-21, then Independence Day Sun 07-04 is observed Mon 07-05.
		{"Friday before Juneteenth on a Saturday", "2027-06-18", time.Friday, 5, "2027-06-28", time.Monday},
		{"Friday before Juneteenth on a Saturday", "2027-06-18", time.Friday, 10, "2027-07-06", time.Tuesday},
		// Juneteenth Fri 2026-06-19 is observed Mon 06-15; the 19th counts.
		{"Juneteenth observed the Monday before", "2026-06-12", time.Friday, 5, "2026-06-22", time.Monday},
		{"Juneteenth observed the Monday before", "2026-06-12", time.Friday, 10, "2026-06-29", time.Monday},
		// Thanksgiving Thu 2026-11-26 skipped; the Friday after counts.
		{"Thanksgiving", "2026-11-23", time.Monday, 5, "2026-12-01", time.Tuesday},
		{"Thanksgiving", "2026-11-23", time.Monday, 10, "2026-12-08", time.Tuesday},
		// Christmas Fri 2026-12-25 and New Year's Day Fri 2027-01-01.
		{"Christmas into New Year", "2026-12-21", time.Monday, 5, "2026-12-29", time.Tuesday},
		{"Christmas into New Year", "2026-12-21", time.Monday, 10, "2027-01-06", time.Wednesday},
		// Christmas observed Fri 2027-12-24, New Year's Day 2028 observed
		// Fri 2027-12-31.
		{"Christmas and New Year both observed Friday", "2027-12-22", time.Wednesday, 5, "2027-12-30", time.Thursday},
		{"Christmas and New Year both observed Friday", "2027-12-22", time.Wednesday, 10, "2028-01-07", time.Friday},
		// Good Friday 2026-04-03 skipped.
		{"Good Friday", "2026-04-01", time.Wednesday, 5, "2026-04-09", time.Thursday},
		{"Good Friday", "2026-04-01", time.Wednesday, 10, "2026-04-16", time.Thursday},
		// Good Friday 2025-04-18 was not yet a holiday.
		{"Good Friday before 2026", "2025-04-16", time.Wednesday, 5, "2025-04-23", time.Wednesday},
		// Received on a Saturday: day 1 is Monday, as if received Friday.
		{"received Saturday", "2026-03-07", time.Saturday, 5, "2026-03-13", time.Friday},
		{"received Saturday", "2026-03-07", time.Saturday, 10, "2026-03-20", time.Friday},
		{"received Friday", "2026-03-06", time.Friday, 5, "2026-03-13", time.Friday},
		{"received Friday", "2026-03-06", time.Friday, 10, "2026-03-20", time.Friday},
		// Received on Martin Luther King Jr. Day: day 1 is Tuesday.
		{"received on a holiday", "2026-01-19", time.Monday, 5, "2026-01-26", time.Monday},
		{"received on a holiday", "2026-01-19", time.Monday, 10, "2026-02-02", time.Monday},
		// Received on Independence Day observed (Fri 2026-07-03).
		{"received on an observed holiday", "2026-07-03", time.Friday, 5, "2026-07-10", time.Friday},
		{"received on an observed holiday", "2026-07-03", time.Friday, 10, "2026-07-17", time.Friday},
		// Received the Friday before Memorial Day Mon 2026-05-25.
		{"Friday before Memorial Day", "2026-05-22", time.Friday, 5, "2026-06-01", time.Monday},
		{"Friday before Memorial Day", "2026-05-22", time.Friday, 10, "2026-06-08", time.Monday},
		{"one day", "2026-03-06", time.Friday, 1, "2026-03-09", time.Monday},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			received, want := on(t, tt.received, tt.rwd), on(t, tt.due, tt.dwd)
			if got := c.AddBusinessDays(received, tt.n); !got.Equal(want) {
				t.Errorf("AddBusinessDays(%s, %d) = %s %s, want %s %s", tt.received, tt.n,
					got.Format(time.DateOnly), got.Weekday(), tt.due, tt.dwd)
			}
		})
	}
	if d := on(t, "2026-03-07", time.Saturday); !c.AddBusinessDays(d, 0).Equal(d) {
		t.Error("AddBusinessDays(d, 0) != d")
	}
}

// TestAddCalendarDays dates 30-day appeal windows: the last day rolls past
// weekends and holidays (Utah Code 68-3-7).
func TestAddCalendarDays(t *testing.T) {
	c := mustUtah(t)
	tests := []struct {
		why  string
		from string
		fwd  time.Weekday
		last string // from + 30, before rolling
		lwd  time.Weekday
		due  string
		dwd  time.Weekday
	}{
		{"lands on a business day", "2026-03-02", time.Monday, "2026-04-01", time.Wednesday, "2026-04-01", time.Wednesday},
		{"lands on a Saturday", "2026-03-05", time.Thursday, "2026-04-04", time.Saturday, "2026-04-06", time.Monday},
		{"lands on a Sunday", "2026-10-16", time.Friday, "2026-11-15", time.Sunday, "2026-11-16", time.Monday},
		{"lands on Pioneer Day, then a weekend", "2026-06-24", time.Wednesday, "2026-07-24", time.Friday, "2026-07-27", time.Monday},
		{"lands on Memorial Day", "2026-04-25", time.Saturday, "2026-05-25", time.Monday, "2026-05-26", time.Tuesday},
		{"lands on Good Friday 2026", "2026-03-04", time.Wednesday, "2026-04-03", time.Friday, "2026-04-06", time.Monday},
		{"lands on Good Friday 2025, not a holiday", "2025-03-19", time.Wednesday, "2025-04-18", time.Friday, "2025-04-18", time.Friday},
		{"lands on New Year's Day 2028 observed", "2027-12-01", time.Wednesday, "2027-12-31", time.Friday, "2028-01-03", time.Monday},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			from, last, want := on(t, tt.from, tt.fwd), on(t, tt.last, tt.lwd), on(t, tt.due, tt.dwd)
			if !from.AddDate(0, 0, 30).Equal(last) {
				t.Fatalf("test data: %s + 30 days is not %s", tt.from, tt.last)
			}
			if got := c.AddCalendarDays(from, 30); !got.Equal(want) {
				t.Errorf("AddCalendarDays(%s, 30) = %s %s, want %s %s", tt.from,
					got.Format(time.DateOnly), got.Weekday(), tt.due, tt.dwd)
			}
		})
	}
}

func BenchmarkAddBusinessDays(b *testing.B) {
	c := mustUtah(b)
	d := on(b, "2026-12-21", time.Monday)
	for b.Loop() {
		c.AddBusinessDays(d, 10)
	}
}
