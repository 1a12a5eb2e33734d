package calendar

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the data, each chosen so the arithmetic stays obviously right.
const (
	// minYear is the first Gregorian year, the first the computus is
	// exact for; maxYear keeps dates four-digit.
	minYear, maxYear = 1583, 9999
	// maxEasterOffset keeps an Easter holiday within a year of its Easter,
	// which Holidays relies on.
	maxEasterOffset = 365
	maxVersionLen   = 64
)

var versionRE = regexp.MustCompile(`^[a-z0-9._-]+$`)

// Validate checks the calendar and reports every problem found, each naming
// the rule (by number from 1 and by name) or closure and the field.
func (c *Calendar) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("calendar: "+format, args...))
	}
	switch {
	case c.Version == "":
		add("version: required, e.g. utah-2026.1")
	case len(c.Version) > maxVersionLen || !versionRE.MatchString(c.Version):
		add("version %q: want at most %d of a-z, 0-9, '.', '_', '-'", c.Version, maxVersionLen)
	}
	if err := checkText(c.Name); err != nil {
		add("name: %v", err)
	}
	if err := checkText(c.Source); err != nil {
		add("source: %v", err)
	}
	if err := checkYears(c.FirstYear, c.LastYear, true); err != nil {
		add("first_year/last_year: %v", err)
	}
	if len(c.Rules) == 0 {
		add("rules: none given")
	}
	for i, r := range c.Rules {
		for _, err := range r.problems() {
			add("%s: %v", ruleLabel(i, r.Name), err)
		}
	}
	for i, cl := range c.Closures {
		for _, err := range c.closureProblems(cl) {
			add("closure %d (%s): %v", i+1, cl.Date.Format(dateLayout), err)
		}
	}
	return errors.Join(errs...)
}

// ruleLabel names rule i (0-based) for an error message.
func ruleLabel(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("rule %d", i+1)
	}
	return fmt.Sprintf("rule %d %q", i+1, name)
}

// problems lists what is wrong with one rule.
func (r Rule) problems() []error {
	var errs []error
	if strings.TrimSpace(r.Name) == "" {
		errs = append(errs, errors.New("name: required"))
	} else if err := checkText(r.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	if err := checkYears(r.FromYear, r.ToYear, false); err != nil {
		errs = append(errs, fmt.Errorf("from_year/to_year: %w", err))
	}
	kinds := 0
	if r.Fixed != nil {
		kinds++
		errs = append(errs, r.Fixed.problems()...)
	}
	if r.NthWeekday != nil {
		kinds++
		errs = append(errs, r.NthWeekday.problems()...)
	}
	if r.Easter != nil {
		kinds++
		if o := r.Easter.Offset; o < -maxEasterOffset || o > maxEasterOffset {
			errs = append(errs, fmt.Errorf("easter.offset: %d is more than %d days from Easter", o, maxEasterOffset))
		}
	}
	if kinds != 1 {
		errs = append(errs, fmt.Errorf("want exactly one of fixed, nth_weekday, easter; got %d", kinds))
	}
	return errs
}

func (f *FixedDate) problems() []error {
	var errs []error
	if err := checkMonth(f.Month); err != nil {
		errs = append(errs, fmt.Errorf("fixed.month: %w", err))
	} else if f.Month == time.February && f.Day == 29 {
		errs = append(errs, errors.New("fixed.day: February 29 exists only in leap years"))
	} else if f.Day < 1 || f.Day > daysIn(f.Month) {
		errs = append(errs, fmt.Errorf("fixed.day: %d is not a day of %s (1-%d)", f.Day, f.Month, daysIn(f.Month)))
	}
	if err := f.Observe.check(); err != nil {
		errs = append(errs, fmt.Errorf("observe: %w", err))
	}
	return errs
}

func (n *NthWeekday) problems() []error {
	var errs []error
	if err := checkMonth(n.Month); err != nil {
		errs = append(errs, fmt.Errorf("nth_weekday.month: %w", err))
	}
	if n.Weekday < time.Sunday || n.Weekday > time.Saturday {
		errs = append(errs, fmt.Errorf("nth_weekday.weekday: %d is not a weekday", n.Weekday))
	}
	if n.N != -1 && (n.N < 1 || n.N > 4) {
		errs = append(errs, fmt.Errorf("nth_weekday.n: %d: want 1 to 4, or -1 for the last", n.N))
	}
	return errs
}

func (o Observe) check() error {
	switch {
	case o.Preset != "" && o.Shifts != nil:
		return errors.New("give a preset or a weekday map, not both")
	case o.Preset != "":
		if _, ok := presetShifts(o.Preset); !ok {
			return fmt.Errorf("unknown preset %q: want one of %s, or a map such as {saturday: -1, sunday: 1}",
				o.Preset, strings.Join(Presets(), ", "))
		}
	case len(o.Shifts) == 0:
		return fmt.Errorf("required for a fixed rule: a preset (%s) or a map such as {saturday: -1, sunday: 1}",
			strings.Join(Presets(), ", "))
	}
	for wd, s := range o.Shifts {
		if wd < time.Sunday || wd > time.Saturday {
			return fmt.Errorf("%d is not a weekday", wd)
		}
		if s < -maxShift || s > maxShift {
			return fmt.Errorf("%s: shift %d is more than %d days", strings.ToLower(wd.String()), s, maxShift)
		}
	}
	return nil
}

func (c *Calendar) closureProblems(cl Closure) []error {
	var errs []error
	switch d := civil(cl.Date); {
	case cl.Date.IsZero():
		errs = append(errs, errors.New("date: required"))
	case !d.Equal(cl.Date):
		errs = append(errs, errors.New("date: want a civil date (00:00 UTC); use calendar.Date"))
	case d.Year() < c.FirstYear || d.Year() > c.LastYear:
		errs = append(errs, fmt.Errorf("date: outside the calendar's years %d-%d", c.FirstYear, c.LastYear))
	}
	if strings.TrimSpace(cl.Name) == "" {
		errs = append(errs, errors.New("name: required"))
	} else if err := checkText(cl.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	return errs
}

// checkYears checks a year range; 0 means "no bound" unless required.
func checkYears(from, to int, required bool) error {
	for _, y := range []int{from, to} {
		if y == 0 && required {
			return errors.New("required")
		}
		if y != 0 && (y < minYear || y > maxYear) {
			return fmt.Errorf("year %d outside %d-%d", y, minYear, maxYear)
		}
	}
	if from != 0 && to != 0 && from > to {
		return fmt.Errorf("from %d is after to %d", from, to)
	}
	return nil
}

func checkMonth(m time.Month) error {
	if m < time.January || m > time.December {
		return fmt.Errorf("%d: want 1 to 12", m)
	}
	return nil
}

// daysIn returns the days in month m of a common year.
func daysIn(m time.Month) int {
	return Date(2001, m+1, 0).Day()
}

// checkText refuses text that would not survive a YAML round trip or would
// hide characters from a reader: invalid UTF-8 and control characters.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if r != ' ' && !unicode.IsGraphic(r) {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	return nil
}
