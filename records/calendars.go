package records

import (
	"context"
	"fmt"
	"strings"

	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// InstallCalendar puts a new calendar version in force and re-dates every
// pending request with it, recording on each changed request why its due
// date moved. All of it commits together. It returns how many requests
// were re-dated.
func (o *Office) InstallCalendar(ctx context.Context, body []byte, source, actor, reason string) (int, error) {
	cal, err := calendar.Parse(body)
	if err != nil {
		return 0, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, FieldErrors{"reason": "is required: say why the calendar changes"}
	}
	redated := 0
	err = o.cat.Tx(ctx, func(tx *storage.Catalog) error {
		row := &storage.CalendarVersion{Version: cal.Version, Body: string(body), Source: source, Reason: reason, InstalledBy: actor}
		if err := tx.InstallCalendar(ctx, row); err != nil {
			return err
		}
		pending, err := tx.RequestsToRedate(ctx, Pending)
		if err != nil {
			return err
		}
		for _, r := range pending {
			if r.Status == StatusExtraordinary {
				continue // due on the date its notice gave, not by the clock
			}
			changed, err := o.redate(ctx, tx, r.ID, cal, actor, reason)
			if err != nil {
				return err
			}
			if changed {
				redated++
			}
		}
		_, err = tx.AppendCustody(ctx, storage.NewEvent{Kind: "calendar_installed", Actor: actor, SubjectType: "calendar",
			SubjectID: cal.Version, Details: map[string]any{"source": source, "reason": reason, "redated": redated}})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("records: install calendar %s: %w", cal.Version, err)
	}
	o.log.Info("calendar installed", "version", cal.Version, "source", source, "redated", redated)
	return redated, nil
}

// redate recomputes one pending request's deadlines with cal.
func (o *Office) redate(ctx context.Context, tx *storage.Catalog, id uint64, cal *calendar.Calendar, actor, reason string) (bool, error) {
	changed := false
	_, err := tx.UpdateRequest(ctx, id, zeroTime, func(t *storage.RequestTx) error {
		oldDue, oldVersion, oldNotice := t.R.DueDate, t.R.CalendarVersion, t.R.ExpediteNoticeDue
		o.applyDeadlines(t.R, cal)
		if t.R.DueDate == oldDue && t.R.ExpediteNoticeDue == oldNotice {
			return nil
		}
		changed = true
		return t.Event(storage.RequestEvent{Actor: actor, Kind: "redate", FromStatus: t.R.Status, ToStatus: t.R.Status,
			Detail: fmt.Sprintf("due date %s → %s: calendar %s → %s (%s)", oldDue, t.R.DueDate, oldVersion, cal.Version, reason)})
	})
	return changed, err
}
