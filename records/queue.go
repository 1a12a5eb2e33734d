package records

import (
	"context"
	"time"

	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// Due states of a request in the queue.
const (
	DueOverdue = "overdue"
	DueToday   = "due_today"
	DueSoon    = "due_soon" // within DueSoonBusinessDays
)

// DueSoonBusinessDays is how near a due date must be to be marked.
const DueSoonBusinessDays = 2

// DueState says how pressing a request's deadline is today: the response
// due date while pending, the officer's decision date during an appeal.
func DueState(r *storage.Request, today time.Time, cal *calendar.Calendar) string {
	due := r.DueDate
	switch {
	case r.Status == StatusAppealFiled:
		due = r.AppealDecisionDue
	case !IsPending(r.Status):
		return ""
	}
	d, err := calendar.ParseDate(due)
	if err != nil {
		return ""
	}
	switch {
	case d.Before(today):
		return DueOverdue
	case d.Equal(today):
		return DueToday
	case cal != nil && !d.After(cal.AddBusinessDays(today, DueSoonBusinessDays)):
		return DueSoon
	}
	return ""
}

// Queue lists requests for the clerk: open ones by default, soonest due
// first.
func (o *Office) Queue(ctx context.Context, f storage.RequestFilter) ([]storage.Request, int64, error) {
	if len(f.Statuses) == 0 {
		f.Statuses = Open
	}
	return o.cat.ListRequests(ctx, f)
}

// PublicLog lists every request for the public log, newest first.
func (o *Office) PublicLog(ctx context.Context, limit, offset int) ([]storage.Request, int64, error) {
	return o.cat.ListRequests(ctx, storage.RequestFilter{Limit: limit, Offset: offset, NewestFirst: true})
}
