package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

var zeroTime time.Time

// Actor is the staff member acting on a request.
type Actor struct {
	ID      string // as the history names them: "user:alice", "token:ci"
	Name    string // as letters are signed
	UserID  uint64
	IsAdmin bool
}

// update runs fn on the request in one transaction; a missing request is
// ErrNotFound.
func (o *Office) update(ctx context.Context, id uint64, fn func(t *storage.RequestTx) error) (*storage.Request, error) {
	r, err := o.cat.UpdateRequest(ctx, id, zeroTime, fn)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	return r, err
}

// Assign gives the request to a staff member (userID 0: nobody).
func (o *Office) Assign(ctx context.Context, id uint64, a Actor, userID uint64, userName string) (*storage.Request, error) {
	return o.update(ctx, id, func(t *storage.RequestTx) error {
		if userID == 0 {
			t.R.AssigneeID = nil
			userName = "nobody"
		} else {
			t.R.AssigneeID = &userID
		}
		return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "assign", Detail: "assigned to " + userName})
	})
}

// Note adds an internal note (public false) or a public message, which is
// also e-mailed to a requester who agreed to e-mail.
func (o *Office) Note(ctx context.Context, id uint64, a Actor, body string, public bool) (*storage.Request, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return nil, FieldErrors{"body": "is required"}
	case len(body) > 20000:
		return nil, FieldErrors{"body": "is too long (at most 20000 characters)"}
	}
	kind := "note"
	if public {
		kind = "message"
	}
	r, err := o.update(ctx, id, func(t *storage.RequestTx) error {
		if err := t.Message(&storage.RequestMessage{Author: a.ID, Public: public, Body: body}); err != nil {
			return err
		}
		return t.Event(storage.RequestEvent{Actor: a.ID, Kind: kind})
	})
	if err == nil && public {
		o.sendMessage(ctx, r, body)
	}
	return r, err
}

// Attach records the current version of each item as responsive, with the
// query that found them. It returns how many versions were newly attached.
func (o *Office) Attach(ctx context.Context, id uint64, a Actor, query string, itemIDs []uint64) (int, error) {
	if len(itemIDs) == 0 {
		return 0, FieldErrors{"item_ids": "must name at least one item"}
	}
	if len(itemIDs) > 10000 {
		return 0, FieldErrors{"item_ids": "at most 10000 items at once"}
	}
	current, err := o.cat.CurrentVersions(ctx, itemIDs)
	if err != nil {
		return 0, err
	}
	var missing []string
	rows := make([]storage.RequestItem, 0, len(itemIDs))
	for _, iid := range itemIDs {
		v, ok := current[iid]
		if !ok {
			missing = append(missing, fmt.Sprint(iid))
			continue
		}
		rows = append(rows, storage.RequestItem{ItemID: iid, VersionID: v.ID, Query: query, AttachedBy: a.ID})
	}
	if len(missing) > 0 {
		return 0, FieldErrors{"item_ids": "no such item: " + strings.Join(missing, ", ")}
	}
	added := 0
	_, err = o.update(ctx, id, func(t *storage.RequestTx) error {
		if !IsPending(t.R.Status) {
			return fmt.Errorf("%w: records can be attached only before the response", ErrNotAllowed)
		}
		n, err := t.Attach(rows)
		if err != nil {
			return err
		}
		added = n
		detail := fmt.Sprintf("attached %d item versions (%d already attached)", n, len(rows)-n)
		if query != "" {
			detail += fmt.Sprintf(" found by the search %q", query)
		}
		return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "attach", Detail: detail})
	})
	return added, err
}

// Detach removes attached versions (by attachment id) before the response.
func (o *Office) Detach(ctx context.Context, id uint64, a Actor, attachmentIDs []uint64) (*storage.Request, error) {
	return o.update(ctx, id, func(t *storage.RequestTx) error {
		if !IsPending(t.R.Status) {
			return fmt.Errorf("%w: records can be removed only before the response", ErrNotAllowed)
		}
		n, err := t.Detach(attachmentIDs)
		if err != nil {
			return err
		}
		return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "detach", Detail: fmt.Sprintf("removed %d attached item versions", n)})
	})
}

// Move is a plain status change along the state machine (not a response):
// in review, awaiting clarification or payment, withdrawn, closed, reopened,
// and the appeal track. Each is an event with the citation given.
func (o *Office) Move(ctx context.Context, id uint64, a Actor, to, citation, note string) (*storage.Request, error) {
	if !slices.Contains(Statuses, to) {
		return nil, FieldErrors{"status": "is not a status: " + to}
	}
	var holdsEnded bool
	r, err := o.update(ctx, id, func(t *storage.RequestTx) error {
		from := t.R.Status
		if !CanMove(from, to) && !o.canAppeal(t.R, to) {
			return fmt.Errorf("%w: %s → %s", ErrNotAllowed, from, to)
		}
		if err := o.appealClock(ctx, t, to); err != nil {
			return err
		}
		t.R.Status = to
		switch {
		case to == StatusClosed:
			t.R.ClosedAt = ptr(t.Now())
		case from == StatusClosed: // reopened: a new response is owed
			t.R.ClosedAt = nil
			t.R.Determination = ""
		}
		if n := strings.TrimSpace(note); n != "" && (to == StatusAwaitingClarification || to == StatusAwaitingPayment) {
			// What the requester is asked for is a public message.
			if err := t.Message(&storage.RequestMessage{Author: a.ID, Public: true, Body: n}); err != nil {
				return err
			}
		}
		if to == StatusFinal || (to == StatusClosed && !o.appealOpen(t.R)) {
			n, err := t.ReleaseHolds(a.ID, "appeals are over ("+Label(to)+")")
			if err != nil {
				return err
			}
			holdsEnded = n > 0
		}
		return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "status", FromStatus: from, ToStatus: to,
			Citation: strings.TrimSpace(citation), Detail: strings.TrimSpace(note)})
	})
	if err == nil && holdsEnded {
		o.log.Info("request holds released", "tracking_number", r.TrackingNumber)
	}
	if err == nil && strings.TrimSpace(note) != "" && (to == StatusAwaitingClarification || to == StatusAwaitingPayment) {
		o.sendMessage(ctx, r, note)
	}
	return r, err
}

// canAppeal allows the two appeals the plain state machine does not: one
// filed in time on a request already closed, and one against a deemed
// denial — no response by the due date (63G-2-401(1)).
func (o *Office) canAppeal(r *storage.Request, to string) bool {
	if to != StatusAppealFiled {
		return false
	}
	switch {
	case r.Status == StatusClosed:
		return o.appealOpen(r)
	case IsPending(r.Status):
		return r.DueDate != "" && r.DueDate < date(o.Today())
	}
	return false
}

// appealClock sets the appeal track's deadlines when a move starts or
// decides an appeal.
func (o *Office) appealClock(ctx context.Context, t *storage.RequestTx, to string) error {
	cal, err := o.Calendar(ctx)
	if err != nil {
		return err
	}
	// The office's clock, as Respond dates the appeal deadline: the
	// transaction's own clock is the database layer's, not the office's.
	today := o.Today()
	ap := o.law.Appeal
	switch to {
	case StatusAppealFiled:
		days := ap.OfficerDecisionBusinessDays
		if t.R.Expedited && t.R.ExpediteDecision != "refused" && ap.OfficerDecisionExpeditedBusinessDays > 0 {
			days = ap.OfficerDecisionExpeditedBusinessDays
		}
		t.R.AppealDecisionDue = date(cal.AddBusinessDays(today, days))
	case StatusAppealDecided:
		t.R.AppealDecisionDue = ""
		t.R.AppealDeadline = date(cal.AddCalendarDays(today, ap.NextLevelDays))
	case StatusSecondLevelAppeal:
		t.R.AppealDeadline = ""
	}
	return nil
}

// appealOpen reports whether the requester may still appeal.
func (o *Office) appealOpen(r *storage.Request) bool {
	return r.AppealDeadline != "" && r.AppealDeadline >= date(o.Today())
}

// ReleaseExpiredHolds ends the automatic holds of requests whose appeal
// time has run out with no appeal pending. The scheduler calls it daily.
func (o *Office) ReleaseExpiredHolds(ctx context.Context) (int, error) {
	rs, err := o.cat.RequestsWithStandingHolds(ctx)
	if err != nil {
		return 0, err
	}
	released := 0
	for _, r := range rs {
		if r.Status == StatusAppealFiled || r.Status == StatusSecondLevelAppeal || o.appealOpen(&r) {
			continue
		}
		_, err := o.update(ctx, r.ID, func(t *storage.RequestTx) error {
			n, err := t.ReleaseHolds("system", "appeal time ended "+t.R.AppealDeadline+" with no appeal pending")
			if err != nil || n == 0 {
				return err
			}
			released += n
			return t.Event(storage.RequestEvent{Actor: "system", Kind: "release", Citation: o.law.Denial.HoldCitation,
				Detail: fmt.Sprintf("released %d holds: appeal time ended %s", n, t.R.AppealDeadline)})
		})
		if err != nil {
			return released, err
		}
	}
	return released, nil
}

func ptr[T any](v T) *T { return &v }
