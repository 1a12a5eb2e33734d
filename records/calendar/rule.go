package calendar

import "time"

// Rule is one holiday: exactly one of Fixed, NthWeekday and Easter says how
// to find its date, and FromYear/ToYear (inclusive, 0 for no bound) say which
// years of the law it belongs to, so one file can hold several versions of
// the statute.
type Rule struct {
	Name       string
	FromYear   int
	ToYear     int
	Fixed      *FixedDate
	NthWeekday *NthWeekday
	Easter     *EasterOffset
}

// FixedDate is a holiday on the same month and day every year, moved by
// Observe when that day falls on certain weekdays.
type FixedDate struct {
	Month   time.Month
	Day     int
	Observe Observe
}

// NthWeekday is a holiday on the N-th given weekday of a month: N is 1 to 4,
// or -1 for the last one.
type NthWeekday struct {
	Month   time.Month
	Weekday time.Weekday
	N       int
}

// EasterOffset is a holiday Offset days from Western Easter Sunday (Good
// Friday is -2).
type EasterOffset struct {
	Offset int
}

// Observe says how a fixed-date holiday moves when it falls on a given
// weekday: either a named Preset or explicit Shifts in days (negative moves
// earlier). Exactly one of the two is set; the zero Observe is invalid so a
// forgotten observance is an error rather than a silent "none".
type Observe struct {
	Preset string
	Shifts map[time.Weekday]int
}

// Observance presets accepted in Observe.Preset.
const (
	// ObserveNone never moves the holiday.
	ObserveNone = "none"
	// ObserveNearestWeekday moves Saturday to the Friday before and Sunday
	// to the Monday after: the federal and Utah rule for fixed dates.
	ObserveNearestWeekday = "nearest_weekday"
	// ObserveSundayToMonday moves only Sunday, to the Monday after.
	ObserveSundayToMonday = "sunday_to_monday"
	// ObserveUtahJuneteenth moves Tuesday–Friday to the Monday before and
	// Saturday or Sunday to the Monday after (Utah Code 63G-1-301).
	ObserveUtahJuneteenth = "utah_juneteenth"
)

// maxShift bounds explicit observance shifts so an observed date stays
// within a week of the actual one.
const maxShift = 6

// presetShifts returns the shift for each weekday, indexed by time.Weekday
// (Sunday first), and whether the preset exists.
func presetShifts(name string) ([7]int, bool) {
	switch name {
	case ObserveNone:
		return [7]int{}, true
	case ObserveNearestWeekday:
		return [7]int{time.Sunday: 1, time.Saturday: -1}, true
	case ObserveSundayToMonday:
		return [7]int{time.Sunday: 1}, true
	case ObserveUtahJuneteenth:
		return [7]int{time.Sunday: 1, time.Tuesday: -1, time.Wednesday: -2,
			time.Thursday: -3, time.Friday: -4, time.Saturday: 2}, true
	}
	return [7]int{}, false
}

// Presets lists the observance preset names, sorted.
func Presets() []string {
	return []string{ObserveNearestWeekday, ObserveNone, ObserveSundayToMonday, ObserveUtahJuneteenth}
}

// Shift returns how many days a holiday falling on wd moves.
func (o Observe) Shift(wd time.Weekday) int {
	if o.Preset != "" {
		s, _ := presetShifts(o.Preset)
		return s[wd%7]
	}
	return o.Shifts[wd]
}

// Applies reports whether the rule is in force for holidays of year.
func (r Rule) Applies(year int) bool {
	return (r.FromYear == 0 || year >= r.FromYear) && (r.ToYear == 0 || year <= r.ToYear)
}

// Occurrence returns the rule's holiday for year: Actual is the date the law
// names and Date the day it is observed, which may fall in a neighbouring
// year (New Year's Day on a Saturday is observed on December 31). It
// reports false when the rule is not in force that year.
func (r Rule) Occurrence(year int) (Holiday, bool) {
	if !r.Applies(year) {
		return Holiday{}, false
	}
	var actual time.Time
	shift := 0
	switch {
	case r.Fixed != nil:
		actual = Date(year, r.Fixed.Month, r.Fixed.Day)
		shift = r.Fixed.Observe.Shift(actual.Weekday())
	case r.NthWeekday != nil:
		actual = r.NthWeekday.date(year)
	case r.Easter != nil:
		actual = EasterSunday(year).AddDate(0, 0, r.Easter.Offset)
	default:
		return Holiday{}, false
	}
	return Holiday{Date: actual.AddDate(0, 0, shift), Name: r.Name, Actual: actual}, true
}

// date finds the N-th weekday of the month in year.
func (n NthWeekday) date(year int) time.Time {
	if n.N < 0 {
		last := Date(year, n.Month+1, 0)
		back := (int(last.Weekday()) - int(n.Weekday) + 7) % 7
		return last.AddDate(0, 0, -back)
	}
	first := Date(year, n.Month, 1)
	ahead := (int(n.Weekday) - int(first.Weekday()) + 7) % 7
	return first.AddDate(0, 0, ahead+7*(n.N-1))
}
