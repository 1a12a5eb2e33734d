package calendar_test

import (
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records/calendar"
)

// mustUtah parses the embedded Utah calendar.
func mustUtah(tb testing.TB) *calendar.Calendar {
	tb.Helper()
	c, err := calendar.Parse(configs.UtahCalendar)
	if err != nil {
		tb.Fatalf("parse configs.UtahCalendar: %v", err)
	}
	return c
}

// observed is one expected holiday: the observed date and the date the law
// names, each with its weekday (checked by on).
type observed struct {
	name       string
	date       string
	wd         time.Weekday
	actual     string
	actualWeek time.Weekday
}

func checkHolidays(t *testing.T, year int, want []observed) {
	t.Helper()
	got := mustUtah(t).Holidays(year)
	if len(got) != len(want) {
		for _, h := range got {
			t.Logf("got %s %s (%s)", h.Date.Format(time.DateOnly), h.Date.Weekday(), h.Name)
		}
		t.Fatalf("Holidays(%d): %d holidays, want %d", year, len(got), len(want))
	}
	for i, w := range want {
		date, actual := on(t, w.date, w.wd), on(t, w.actual, w.actualWeek)
		if g := got[i]; g.Name != w.name || !g.Date.Equal(date) || !g.Actual.Equal(actual) {
			t.Errorf("Holidays(%d)[%d] = %s %s (actual %s), want %s %s (actual %s)", year, i,
				g.Name, g.Date.Format(time.DateOnly), g.Actual.Format(time.DateOnly), w.name, w.date, w.actual)
		}
	}
}

func TestUtahHolidays2026(t *testing.T) {
	checkHolidays(t, 2026, []observed{
		{"New Year's Day", "2026-01-01", time.Thursday, "2026-01-01", time.Thursday},
		{"Martin Luther King Jr. Day", "2026-01-19", time.Monday, "2026-01-19", time.Monday},
		{"Washington and Lincoln Day", "2026-02-16", time.Monday, "2026-02-16", time.Monday},
		{"Good Friday", "2026-04-03", time.Friday, "2026-04-03", time.Friday}, // Easter 2026-04-05
		{"Memorial Day", "2026-05-25", time.Monday, "2026-05-25", time.Monday},
		// Utah's rule: Friday → the Monday before.
		{"Juneteenth", "2026-06-15", time.Monday, "2026-06-19", time.Friday},
		// Saturday → Friday.
		{"Independence Day", "2026-07-03", time.Friday, "2026-07-04", time.Saturday},
		{"Pioneer Day", "2026-07-24", time.Friday, "2026-07-24", time.Friday},
		{"Labor Day", "2026-09-07", time.Monday, "2026-09-07", time.Monday},
		{"Columbus Day", "2026-10-12", time.Monday, "2026-10-12", time.Monday},
		{"Veterans Day", "2026-11-11", time.Wednesday, "2026-11-11", time.Wednesday},
		{"Thanksgiving Day", "2026-11-26", time.Thursday, "2026-11-26", time.Thursday},
		{"Christmas", "2026-12-25", time.Friday, "2026-12-25", time.Friday},
		// New Year's Day 2027 is a Friday: observed in 2027, not here.
	})
}

func TestUtahHolidays2027(t *testing.T) {
	checkHolidays(t, 2027, []observed{
		{"New Year's Day", "2027-01-01", time.Friday, "2027-01-01", time.Friday},
		{"Martin Luther King Jr. Day", "2027-01-18", time.Monday, "2027-01-18", time.Monday},
		{"Washington and Lincoln Day", "2027-02-15", time.Monday, "2027-02-15", time.Monday},
		{"Good Friday", "2027-03-26", time.Friday, "2027-03-26", time.Friday}, // Easter 2027-03-28
		{"Memorial Day", "2027-05-31", time.Monday, "2027-05-31", time.Monday},
		// Utah's rule: Saturday → the Monday after (not the Friday before).
		{"Juneteenth", "2027-06-21", time.Monday, "2027-06-19", time.Saturday},
		// Sunday → Monday.
		{"Independence Day", "2027-07-05", time.Monday, "2027-07-04", time.Sunday},
		// Saturday → Friday.
		{"Pioneer Day", "2027-07-23", time.Friday, "2027-07-24", time.Saturday},
		{"Labor Day", "2027-09-06", time.Monday, "2027-09-06", time.Monday},
		{"Columbus Day", "2027-10-11", time.Monday, "2027-10-11", time.Monday},
		{"Veterans Day", "2027-11-11", time.Thursday, "2027-11-11", time.Thursday},
		{"Thanksgiving Day", "2027-11-25", time.Thursday, "2027-11-25", time.Thursday},
		// Saturday → Friday.
		{"Christmas", "2027-12-24", time.Friday, "2027-12-25", time.Saturday},
		// New Year's Day 2028 is a Saturday, observed the Friday before:
		// it belongs to 2027.
		{"New Year's Day", "2027-12-31", time.Friday, "2028-01-01", time.Saturday},
	})
}

// TestUtahHolidayCounts counts holidays by the year they are observed in.
// The rules give 11 holidays a year before 2022, 12 from 2022 (Juneteenth)
// and 13 from 2026 (Good Friday), but when January 1 is a Saturday New
// Year's Day is observed on December 31 and counts for the year before: one
// more there, one fewer in its own year.
func TestUtahHolidayCounts(t *testing.T) {
	c := mustUtah(t)
	if c.Version != "utah-2026.1" || c.FirstYear != 2020 || c.LastYear != 2035 {
		t.Fatalf("embedded calendar = %s %d-%d, want utah-2026.1 2020-2035", c.Version, c.FirstYear, c.LastYear)
	}
	saturdayNewYear := map[int]bool{}
	for _, s := range []string{"2022-01-01", "2028-01-01", "2033-01-01"} {
		saturdayNewYear[on(t, s, time.Saturday).Year()] = true
	}
	want := map[int]int{
		2020: 11, 2021: 12, // 2022-01-01 Sat → Fri 2021-12-31
		2022: 11, 2023: 12, 2024: 12, 2025: 12, // 2023-01-01 Sun → Mon 2023-01-02
		2026: 13, 2027: 14, // 2028-01-01 Sat → Fri 2027-12-31
		2028: 12, 2029: 13, 2030: 13, 2031: 13,
		2032: 14, 2033: 12, // 2033-01-01 Sat → Fri 2032-12-31
		2034: 13, 2035: 13, // 2034-01-01 Sun → Mon 2034-01-02; 2036-01-01 is a Tuesday
	}
	for y := c.FirstYear; y <= c.LastYear; y++ {
		if !c.Covers(calendar.Date(y, time.June, 1)) {
			t.Errorf("Covers(%d) = false", y)
		}
		// Re-derive the count from the rule of thumb above, as a check on
		// the hand-written table.
		base := 11
		if y >= 2022 {
			base++ // Juneteenth
		}
		if y >= 2026 {
			base++ // Good Friday
		}
		if saturdayNewYear[y+1] {
			base++
		}
		if saturdayNewYear[y] {
			base--
		}
		if want[y] != base {
			t.Fatalf("test table: %d holidays for %d, rule of thumb says %d", want[y], y, base)
		}
		if got := c.Holidays(y); len(got) != want[y] {
			t.Errorf("Holidays(%d): %d holidays, want %d", y, len(got), want[y])
		}
	}
	for _, d := range []time.Time{calendar.Date(2019, time.December, 31), calendar.Date(2036, time.January, 1)} {
		if c.Covers(d) {
			t.Errorf("Covers(%s) = true", d.Format(time.DateOnly))
		}
	}
}

func TestUtahIsBusinessDay(t *testing.T) {
	c := mustUtah(t)
	tests := []struct {
		why  string
		date string
		wd   time.Weekday
		want bool
	}{
		{"ordinary weekday", "2026-03-04", time.Wednesday, true},
		{"Saturday", "2026-03-07", time.Saturday, false},
		{"Sunday", "2026-03-08", time.Sunday, false},
		{"Juneteenth 2026 observed", "2026-06-15", time.Monday, false},
		{"June 19 2026 itself is a working day under Utah's rule", "2026-06-19", time.Friday, true},
		{"Independence Day 2026 observed the Friday before", "2026-07-03", time.Friday, false},
		{"Good Friday 2026", "2026-04-03", time.Friday, false},
		{"Good Friday 2025, before the amendment", "2025-04-18", time.Friday, true},
		{"Juneteenth 2021, before Utah adopted it", "2021-06-18", time.Friday, true},
		{"Juneteenth 2022, Sunday → Monday", "2022-06-20", time.Monday, false},
		{"New Year's Day 2022 observed in 2021", "2021-12-31", time.Friday, false},
		{"day after Thanksgiving is not a state holiday", "2026-11-27", time.Friday, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := c.IsBusinessDay(on(t, tt.date, tt.wd)); got != tt.want {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}
