package calendar_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records/calendar"
)

// sample uses every rule kind and form; the second rule is the one the
// error cases below break.
const sample = `version: test-1
name: Test holidays
source: none
first_year: 2020
last_year: 2030
rules:
  - name: New Year's Day
    fixed: {month: 1, day: 1}
    observe: sunday_to_monday
  - name: Pioneer Day
    fixed: {month: 7, day: 24}
    observe: {saturday: -1, sunday: 1}
  - name: Last Friday of August
    nth_weekday: {month: 8, weekday: Friday, n: -1}
    from_year: 2021
    to_year: 2024
  - name: Easter Monday
    easter: {offset: 1}
closures:
  - date: 2026-12-24
    name: Christmas Eve (proclaimed)
`

const pioneer = `  - name: Pioneer Day
    fixed: {month: 7, day: 24}
    observe: {saturday: -1, sunday: 1}
`

// withRule returns sample with its second rule replaced by rule.
func withRule(rule string) string {
	return strings.Replace(sample, pioneer, rule, 1)
}

func TestParseSample(t *testing.T) {
	c, err := calendar.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		why  string
		date string
		wd   time.Weekday
		name string // "" for no holiday
	}{
		// sunday_to_monday leaves a Saturday alone.
		{"New Year's Day 2022 on a Saturday stays", "2022-01-01", time.Saturday, "New Year's Day"},
		{"nothing on the Friday before", "2021-12-31", time.Friday, ""},
		{"New Year's Day 2023 on a Sunday moves", "2023-01-02", time.Monday, "New Year's Day"},
		{"explicit map: Saturday → Friday", "2027-07-23", time.Friday, "Pioneer Day"},
		{"explicit map: Sunday → Monday", "2022-07-25", time.Monday, "Pioneer Day"},
		{"last Friday of a 31-day month", "2024-08-30", time.Friday, "Last Friday of August"},
		{"last Friday when the 31st is one", "2021-08-27", time.Friday, "Last Friday of August"},
		{"after to_year", "2025-08-29", time.Friday, ""},
		{"before from_year", "2020-08-28", time.Friday, ""},
		{"Easter Monday", "2026-04-06", time.Monday, "Easter Monday"},
		{"closure", "2026-12-24", time.Thursday, "Christmas Eve (proclaimed)"},
		{"no closure the next year", "2027-12-24", time.Friday, ""},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			d := on(t, tt.date, tt.wd)
			h, ok := c.Holiday(d)
			if ok != (tt.name != "") || h.Name != tt.name {
				t.Errorf("Holiday(%s) = %q, %v; want %q", tt.date, h.Name, ok, tt.name)
			}
			if weekend := tt.wd == time.Saturday || tt.wd == time.Sunday; c.IsBusinessDay(d) != (tt.name == "" && !weekend) {
				t.Errorf("IsBusinessDay(%s) = %v", tt.date, c.IsBusinessDay(d))
			}
		})
	}
	// 2021-08-31 is a Tuesday, so the last Friday is the 27th.
	on(t, "2021-08-31", time.Tuesday)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		why   string
		input string
		want  []string // substrings of the error
	}{
		{"unknown key in a rule", withRule(pioneer + "    obseve: none\n"),
			[]string{`rule 2 "Pioneer Day"`, `unknown key "obseve"`}},
		{"unknown key in fixed", withRule("  - name: Pioneer Day\n    fixed: {month: 7, dya: 24}\n    observe: none\n"),
			[]string{`rule 2 "Pioneer Day"`, `unknown key "dya" in fixed`}},
		{"unknown top-level key", strings.Replace(sample, "version:", "verison: x\nversion:", 1),
			[]string{`unknown key "verison"`}},
		{"two kinds in one rule", withRule(pioneer + "    easter: {offset: 0}\n"),
			[]string{`rule 2 "Pioneer Day"`, "exactly one of fixed, nth_weekday, easter; got 2"}},
		{"no kind", withRule("  - name: Pioneer Day\n    from_year: 2021\n"),
			[]string{`rule 2 "Pioneer Day"`, "got 0"}},
		{"February 30", withRule("  - name: Pioneer Day\n    fixed: {month: 2, day: 30}\n    observe: none\n"),
			[]string{`rule 2 "Pioneer Day"`, "fixed.day: 30 is not a day of February"}},
		{"February 29", withRule("  - name: Pioneer Day\n    fixed: {month: 2, day: 29}\n    observe: none\n"),
			[]string{`rule 2 "Pioneer Day"`, "fixed.day: February 29"}},
		{"month 13", withRule("  - name: Pioneer Day\n    fixed: {month: 13, day: 1}\n    observe: none\n"),
			[]string{`rule 2 "Pioneer Day"`, "fixed.month: 13"}},
		{"n = 5", withRule("  - name: Pioneer Day\n    nth_weekday: {month: 7, weekday: monday, n: 5}\n"),
			[]string{`rule 2 "Pioneer Day"`, "nth_weekday.n: 5"}},
		{"n missing", withRule("  - name: Pioneer Day\n    nth_weekday: {month: 7, weekday: monday}\n"),
			[]string{`rule 2 "Pioneer Day"`, "nth_weekday.n: 0"}},
		{"bad weekday name", withRule("  - name: Pioneer Day\n    nth_weekday: {month: 7, weekday: mon, n: 1}\n"),
			[]string{`rule 2 "Pioneer Day"`, `nth_weekday.weekday: "mon" is not a weekday`}},
		{"weekday missing", withRule("  - name: Pioneer Day\n    nth_weekday: {month: 7, n: 1}\n"),
			[]string{`rule 2 "Pioneer Day"`, `nth_weekday.weekday: "" is not a weekday`}},
		{"bad observe preset", withRule("  - name: Pioneer Day\n    fixed: {month: 7, day: 24}\n    observe: nearest\n"),
			[]string{`rule 2 "Pioneer Day"`, `observe: unknown preset "nearest"`, "nearest_weekday"}},
		{"observe missing", withRule("  - name: Pioneer Day\n    fixed: {month: 7, day: 24}\n"),
			[]string{`rule 2 "Pioneer Day"`, "observe: required"}},
		{"observe on a weekday rule", withRule("  - name: Pioneer Day\n    nth_weekday: {month: 7, weekday: monday, n: 1}\n    observe: none\n"),
			[]string{`rule 2 "Pioneer Day"`, "only a fixed rule"}},
		{"bad weekday in observe", withRule("  - name: Pioneer Day\n    fixed: {month: 7, day: 24}\n    observe: {sat: -1}\n"),
			[]string{`rule 2 "Pioneer Day"`, `observe: line 12: "sat" is not a weekday`}},
		{"weekday twice in observe", withRule("  - name: Pioneer Day\n    fixed: {month: 7, day: 24}\n    observe: {saturday: -1, Saturday: 1}\n"),
			[]string{`rule 2 "Pioneer Day"`, "Saturday given twice"}},
		{"shift too far", withRule("  - name: Pioneer Day\n    fixed: {month: 7, day: 24}\n    observe: {saturday: -9}\n"),
			[]string{`rule 2 "Pioneer Day"`, "saturday: shift -9"}},
		{"easter offset too far", withRule("  - name: Pioneer Day\n    easter: {offset: 400}\n"),
			[]string{`rule 2 "Pioneer Day"`, "easter.offset: 400"}},
		{"from_year after to_year", withRule(pioneer + "    from_year: 2027\n    to_year: 2026\n"),
			[]string{`rule 2 "Pioneer Day"`, "from_year/to_year: from 2027 is after to 2026"}},
		{"rule without a name", withRule("  - fixed: {month: 7, day: 24}\n    observe: none\n"),
			[]string{"rule 2: name: required"}},
		{"empty version", strings.Replace(sample, "version: test-1", `version: ""`, 1),
			[]string{"version: required"}},
		{"bad version", strings.Replace(sample, "version: test-1", "version: Test 1", 1),
			[]string{`version "Test 1"`}},
		{"first_year missing", strings.Replace(sample, "first_year: 2020\n", "", 1),
			[]string{"first_year/last_year: required"}},
		{"first_year after last_year", strings.Replace(sample, "first_year: 2020", "first_year: 2031", 1),
			[]string{"first_year/last_year: from 2031 is after to 2030"}},
		{"closure with a bad date", strings.Replace(sample, "date: 2026-12-24", "date: 2026-02-30", 1),
			[]string{"closure 1", `date "2026-02-30": want the form YYYY-MM-DD`}},
		{"closure with a date and time", strings.Replace(sample, "date: 2026-12-24", "date: 2026-12-24T00:00:00Z", 1),
			[]string{"closure 1", "want the form YYYY-MM-DD"}},
		{"closure outside the years", strings.Replace(sample, "date: 2026-12-24", "date: 2062-12-24", 1),
			[]string{"closure 1 (2062-12-24): date: outside the calendar's years 2020-2030"}},
		{"closure without a name", strings.Replace(sample, "    name: Christmas Eve (proclaimed)\n", "", 1),
			[]string{"closure 1 (2026-12-24): name: required"}},
		{"duplicate key", strings.Replace(sample, "source: none", "source: none\nsource: again", 1),
			[]string{`"source" already defined`}},
		{"no rules", sample[:strings.Index(sample, "rules:")], []string{"rules: none given"}},
		{"empty", "", []string{"empty document"}},
		{"two documents", sample + "---\n" + sample, []string{"exactly one YAML document"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping"}},
		{"rules not a list", "version: a\nfirst_year: 2020\nlast_year: 2020\nrules: {name: x}\n", []string{"line 4: rules: want a list"}},
		{"rule not a mapping", withRule("  - Pioneer Day\n"), []string{"rule 2", "want a mapping"}},
		{"not YAML", "version: [", []string{"calendar: yaml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			c, err := calendar.Parse([]byte(tt.input))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("error %q lacks the calendar: prefix", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := &calendar.Calendar{FirstYear: 2020, LastYear: 2030, Rules: []calendar.Rule{
		{Name: "A", NthWeekday: &calendar.NthWeekday{Month: 1, Weekday: time.Monday, N: 9}},
		{Name: "B", Fixed: &calendar.FixedDate{Month: 1, Day: 1}},
	}}
	err := c.Validate()
	for _, w := range []string{"version: required", `rule 1 "A": nth_weekday.n: 9`, `rule 2 "B": observe: required`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want it to contain %q", err, w)
		}
	}
	if _, err := c.Marshal(); err == nil {
		t.Error("Marshal of an invalid calendar succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	for name, data := range map[string][]byte{"utah": configs.UtahCalendar, "sample": []byte(sample)} {
		t.Run(name, func(t *testing.T) {
			c, err := calendar.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := calendar.Parse(out)
			if err != nil {
				t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(c, back) {
				t.Errorf("Parse(Marshal(c)) = %+v, want %+v", back, c)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(configs.UtahCalendar)
	f.Add([]byte(sample))
	f.Add([]byte(withRule("  - name: x\n    fixed: {month: 2, day: 30}\n    observe: none\n")))
	f.Add([]byte("version: a\nfirst_year: 9999\nlast_year: 9999\nrules: [{name: n, easter: {offset: 365}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := calendar.Parse(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid calendar: %v", err)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := calendar.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip changed the calendar:\n%+v\n%+v\n%s", c, back, out)
		}
		start := calendar.Date(c.FirstYear, time.January, 1)
		c.Holidays(c.LastYear)
		c.AddBusinessDays(start, 10)
		c.AddCalendarDays(start, 30)
	})
}
