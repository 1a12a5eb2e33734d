package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/records/letter"
	"github.com/civicarchive/civicarchive/storage"
)

// dueDateAPI is GET /api/v1/calendar/due-date?received=YYYY-MM-DD&expedited=.
func (s *Server) dueDateAPI(c *gin.Context) {
	problems := map[string]string{}
	received, err := calendar.ParseDate(c.Query("received"))
	if err != nil {
		problems["received"] = "must be a date YYYY-MM-DD"
	}
	expedited := false
	if v := c.Query("expedited"); v != "" {
		if expedited, err = strconv.ParseBool(v); err != nil {
			problems["expedited"] = "must be true or false"
		}
	}
	if len(problems) > 0 {
		s.invalid(c, problems)
		return
	}
	due, days, version, err := s.Records.DueDate(c.Request.Context(), received, expedited)
	if err != nil {
		s.internal(c, "due date", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": received.Format("2006-01-02"), "due_date": due.Format("2006-01-02"),
		"business_days": days, "expedited": expedited, "calendar_version": version})
}

// holidayOut is one observed holiday.
type holidayOut struct {
	Date   string `json:"date"`
	Name   string `json:"name"`
	Actual string `json:"actual"`
}

func holidaysOf(cal *calendar.Calendar, year int) []holidayOut {
	out := []holidayOut{}
	for _, h := range cal.Holidays(year) {
		out = append(out, holidayOut{Date: h.Date.Format("2006-01-02"), Name: h.Name, Actual: h.Actual.Format("2006-01-02")})
	}
	return out
}

// yearParam reads ?year= (default: this year in the city).
func (s *Server) yearParam(c *gin.Context) (int, bool) {
	y := s.Records.Today().Year()
	if v := c.Query("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1900 || n > 2200 {
			s.invalid(c, map[string]string{"year": "must be a year like 2026"})
			return 0, false
		}
		y = n
	}
	return y, true
}

// calendarAPI is GET /api/v1/calendar?year=: the calendar in force, its
// holidays that year, and the versions installed.
func (s *Server) calendarAPI(c *gin.Context) {
	year, ok := s.yearParam(c)
	if !ok {
		return
	}
	cal, err := s.Records.Calendar(c.Request.Context())
	if err != nil {
		s.internal(c, "calendar", err)
		return
	}
	vs, err := s.Catalog.CalendarVersions(c.Request.Context())
	if err != nil {
		s.internal(c, "calendar versions", err)
		return
	}
	versions := make([]gin.H, 0, len(vs))
	for _, v := range vs {
		versions = append(versions, gin.H{"version": v.Version, "installed_at": v.InstalledAt, "installed_by": v.InstalledBy,
			"source": v.Source, "reason": v.Reason})
	}
	c.JSON(http.StatusOK, gin.H{"version": cal.Version, "name": cal.Name, "source": cal.Source, "year": year,
		"covered": cal.Covers(calendar.Date(year, time.June, 1)), "first_year": cal.FirstYear, "last_year": cal.LastYear,
		"holidays": holidaysOf(cal, year), "versions": versions})
}

// installCalendarAPI is PUT /api/v1/calendar (admin): {"calendar": YAML,
// "reason": why}. Pending requests are re-dated, each with the reason.
func (s *Server) installCalendarAPI(c *gin.Context) {
	var in struct {
		Calendar string `json:"calendar"`
		Reason   string `json:"reason"`
	}
	if !s.decodeStrict(c, &in) {
		return
	}
	n, err := s.Records.InstallCalendar(c.Request.Context(), []byte(in.Calendar), "api", identity(c).Actor(), in.Reason)
	if !s.calendarInstalled(c, err) {
		return
	}
	cal, err := s.Records.Calendar(c.Request.Context())
	if err != nil {
		s.internal(c, "calendar", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"version": cal.Version, "redated": n})
}

// calendarInstalled answers an install error; true when there was none.
func (s *Server) calendarInstalled(c *gin.Context, err error) bool {
	var fe records.FieldErrors
	switch {
	case err == nil:
		return true
	case errors.As(err, &fe):
		s.invalid(c, fe)
	case errors.Is(err, storage.ErrConflict):
		s.invalid(c, map[string]string{"calendar": "version is already installed: give the changed calendar a new version"})
	case strings.HasPrefix(err.Error(), "calendar:"):
		s.invalid(c, map[string]string{"calendar": strings.TrimPrefix(err.Error(), "calendar: ")})
	default:
		s.internal(c, "install calendar", err)
	}
	return false
}

// calendarView is what calendar.html gets.
type calendarView struct {
	pageData
	Received, Expedited   string
	Due, Version, Problem string
	Days                  int
	Year                  int
	Holidays              []holidayOut
	PrevYear, NextYear    int
	Covered               bool
	LawName               string
	StandardDays, ExpDays int
}

// calendarPage is GET /calendar: the public deadline calculator and the
// year's holidays.
func (s *Server) calendarPage(c *gin.Context) {
	cal, err := s.Records.Calendar(c.Request.Context())
	if err != nil {
		s.internal(c, "calendar", err)
		return
	}
	law := s.Records.Law()
	v := calendarView{pageData: s.base(c, "Records request deadlines"), Received: c.Query("received"), Expedited: c.Query("expedited"),
		Version: cal.Version, LawName: law.Name, StandardDays: law.Response.StandardBusinessDays, ExpDays: law.Response.ExpeditedBusinessDays}
	v.Year = s.Records.Today().Year()
	if y, err := strconv.Atoi(c.Query("year")); err == nil && y >= 1900 && y <= 2200 {
		v.Year = y
	}
	status := http.StatusOK
	if v.Received != "" {
		d, err := calendar.ParseDate(v.Received)
		if err != nil {
			v.Problem, status = "Enter the day the request was received as a date, like 2026-07-20.", http.StatusBadRequest
		} else {
			due, days, _, _ := s.Records.DueDate(c.Request.Context(), d, v.Expedited != "")
			v.Due, v.Days, v.Year = due.Format("2006-01-02"), days, d.Year()
		}
	}
	v.Holidays, v.PrevYear, v.NextYear = holidaysOf(cal, v.Year), v.Year-1, v.Year+1
	v.Covered = cal.Covers(calendar.Date(v.Year, time.June, 1))
	s.renderView(c, status, "calendar.html", v)
}

// adminCalendarView is what admin_calendar.html gets.
type adminCalendarView struct {
	pageData
	Current  string
	Body     string
	Reason   string
	Versions []storage.CalendarVersion
	Problems []string
	Redated  string
}

// adminCalendarPage is GET /admin/calendar: the calendar file in force and
// a form to install a changed one.
func (s *Server) adminCalendarPage(c *gin.Context) {
	s.renderAdminCalendar(c, http.StatusOK, "", "", nil, c.Query("redated"))
}

func (s *Server) renderAdminCalendar(c *gin.Context, status int, body, reason string, problems []string, redated string) {
	ctx := c.Request.Context()
	cur, err := s.Catalog.CurrentCalendar(ctx)
	if err != nil {
		s.internal(c, "calendar", err)
		return
	}
	vs, err := s.Catalog.CalendarVersions(ctx)
	if err != nil {
		s.internal(c, "calendar", err)
		return
	}
	if body == "" {
		body = cur.Body
	}
	s.renderView(c, status, "admin_calendar.html", adminCalendarView{pageData: s.base(c, "Holiday calendar"),
		Current: cur.Version, Body: body, Reason: reason, Versions: vs, Problems: problems, Redated: redated})
}

// adminCalendarInstall is POST /admin/calendar.
func (s *Server) adminCalendarInstall(c *gin.Context) {
	body, reason := c.PostForm("calendar"), c.PostForm("reason")
	if !s.checkCSRF(c) {
		s.renderAdminCalendar(c, http.StatusForbidden, body, reason, []string{"Your form expired. Please try again."}, "")
		return
	}
	n, err := s.Records.InstallCalendar(c.Request.Context(), []byte(body), "admin page", identity(c).Actor(), reason)
	var fe records.FieldErrors
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin/calendar?redated="+strconv.Itoa(n))
	case errors.As(err, &fe):
		s.renderAdminCalendar(c, http.StatusUnprocessableEntity, body, reason, []string{fe.Error()}, "")
	case errors.Is(err, storage.ErrConflict):
		s.renderAdminCalendar(c, http.StatusUnprocessableEntity, body, reason, []string{"That version is already installed: give the changed calendar a new version."}, "")
	case strings.HasPrefix(err.Error(), "calendar:"):
		s.renderAdminCalendar(c, http.StatusUnprocessableEntity, body, reason, []string{err.Error()}, "")
	default:
		s.internal(c, "install calendar", err)
	}
}

// letterCSS is GET /assets/letter.css: the stylesheet of letters.
func (s *Server) letterCSS(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(letter.CSS))
}
