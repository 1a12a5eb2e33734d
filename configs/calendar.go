package configs

import _ "embed"

// UtahCalendar is the shipped default holiday calendar: Utah's legal
// holidays (Utah Code 63G-1-301) as versioned data for
// records/calendar.Parse, used for GRAMA business-day deadlines unless
// records.calendar_file names another.
//
//go:embed calendar/utah.yaml
var UtahCalendar []byte
