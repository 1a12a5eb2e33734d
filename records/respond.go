package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// Response kinds: the lawful responses of 63G-2-204.
const (
	RespondApprove       = "approve"
	RespondPartial       = "partial"
	RespondDeny          = "deny"
	RespondNoRecords     = "no_records"
	RespondExtraordinary = "extraordinary"
)

// ResponseKinds lists them in the order the clerk's page offers them.
var ResponseKinds = []string{RespondApprove, RespondPartial, RespondDeny, RespondNoRecords, RespondExtraordinary}

var responseStatus = map[string]string{
	RespondApprove: StatusFulfilled, RespondPartial: StatusFulfilledInPart, RespondDeny: StatusDenied,
	RespondNoRecords: StatusNoRecords, RespondExtraordinary: StatusExtraordinary,
}

// Response is the clerk's answer to a request.
type Response struct {
	Kind        string
	Explanation string // a paragraph for the letter, optional
	// Withheld names attachments (RequestItem ids) withheld by a partial
	// denial; a full denial withholds every attached version.
	Withheld            []uint64
	WithheldDescription string   // what was withheld, for the notice (63G-2-205(2)(a))
	Citations           []string // the law that allows withholding (63G-2-205(2)(b))
	ReferralEntity      string   // no records: who has them, if known
	ReasonKey           string   // extraordinary: which statutory reason
	AvailableDate       string   // extraordinary: when the records will be available
}

// validate checks a response against the request's attachments.
func (o *Office) validateResponse(resp *Response, attached []storage.RequestItem) error {
	fe := FieldErrors{}
	resp.Explanation = strings.TrimSpace(resp.Explanation)
	resp.WithheldDescription = strings.TrimSpace(resp.WithheldDescription)
	var cites []string
	for _, c := range resp.Citations {
		if c = strings.TrimSpace(c); c != "" {
			cites = append(cites, c)
		}
	}
	resp.Citations = cites
	ids := make([]uint64, len(attached))
	for i, a := range attached {
		ids[i] = a.ID
	}
	switch resp.Kind {
	case RespondApprove:
		if len(attached) == 0 {
			fe["items"] = "attach the responsive records first (or answer no records)"
		}
		resp.Withheld = nil
	case RespondPartial, RespondDeny:
		if resp.Kind == RespondDeny {
			resp.Withheld = ids
		}
		// An attachment named twice is withheld once: the "some, not all"
		// check below counts attachments, not mentions.
		resp.Withheld = slices.Compact(slices.Sorted(slices.Values(resp.Withheld)))
		for _, w := range resp.Withheld {
			if !slices.Contains(ids, w) {
				fe["withheld"] = fmt.Sprintf("attachment %d is not attached to this request", w)
			}
		}
		if resp.Kind == RespondPartial && (len(resp.Withheld) == 0 || len(resp.Withheld) == len(ids)) {
			fe["withheld"] = "a partial denial withholds some, not all, of the attached records"
		}
		if resp.WithheldDescription == "" {
			fe["withheld_description"] = "is required: describe what is withheld (63G-2-205(2))"
		}
		if len(resp.Citations) == 0 {
			fe["citations"] = "name the law that allows withholding (63G-2-205(2))"
		}
	case RespondNoRecords:
		resp.ReferralEntity = strings.TrimSpace(resp.ReferralEntity)
	case RespondExtraordinary:
		if _, ok := o.law.Reason(resp.ReasonKey); !ok {
			fe["reason"] = "pick one of the statutory extraordinary circumstances"
		}
		d, err := calendar.ParseDate(resp.AvailableDate)
		switch {
		case err != nil:
			fe["available_date"] = "must be a date like 2026-03-31"
		case d.Before(o.Today()):
			fe["available_date"] = "must not be in the past"
		}
	default:
		fe["kind"] = "must be one of " + strings.Join(ResponseKinds, ", ")
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

// Respond answers a request: it writes the letter (and, for an approval,
// the release bundle) to the blob store, then in one transaction records
// the status, the letter, the withheld records and their automatic hold
// (63G-2-205(3)), and finally e-mails the requester.
func (o *Office) Respond(ctx context.Context, id uint64, a Actor, resp Response) (*storage.Request, error) {
	r, err := o.cat.RequestByID(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !CanRespond(r.Status) {
		return nil, fmt.Errorf("%w: a request that is %s cannot be answered; reopen it first", ErrNotAllowed, Label(r.Status))
	}
	file, err := o.cat.RequestFile(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := o.validateResponse(&resp, file.Items); err != nil {
		return nil, err
	}
	cal, err := o.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	today := o.Today()
	appealBy := ""
	if resp.Kind != RespondApprove || r.FeeWaiverDecision == "denied" {
		appealBy = date(cal.AddCalendarDays(today, o.law.Appeal.Days))
	}
	var release *releaseRef
	if resp.Kind == RespondApprove || resp.Kind == RespondPartial {
		if release, err = o.buildRelease(ctx, r, file.Items, resp.Withheld); err != nil {
			return nil, err
		}
	}
	lt, err := o.responseLetter(ctx, r, a, resp, appealBy, release)
	if err != nil {
		return nil, err
	}
	stored, err := o.storeLetter(ctx, lt, a)
	if err != nil {
		return nil, err
	}
	updated, err := o.update(ctx, id, func(t *storage.RequestTx) error {
		return o.recordResponse(t, a, resp, file.Items, appealBy, release, stored)
	})
	if err != nil {
		return nil, err
	}
	o.log.Info("records request answered", "tracking_number", updated.TrackingNumber, "response", resp.Kind)
	o.sendLetter(ctx, updated, stored)
	return updated, nil
}

// recordResponse is the transaction of Respond.
func (o *Office) recordResponse(t *storage.RequestTx, a Actor, resp Response, seen []storage.RequestItem,
	appealBy string, release *releaseRef, l *storage.Letter) error {
	from := t.R.Status
	if !CanRespond(from) {
		return fmt.Errorf("%w: answered meanwhile (%s)", ErrNotAllowed, Label(from))
	}
	now, err := t.Items()
	if err != nil {
		return err
	}
	if !sameAttachments(now, seen) {
		return fmt.Errorf("%w: the attached records changed meanwhile; review and answer again", ErrNotAllowed)
	}
	if len(resp.Withheld) > 0 {
		if err := t.Withhold(resp.Withheld, true, strings.Join(resp.Citations, "; ")); err != nil {
			return err
		}
	}
	if err := t.Letter(l); err != nil {
		return err
	}
	to := responseStatus[resp.Kind]
	t.R.Status, t.R.Determination = to, resp.Kind
	t.R.RespondedAt, t.R.AppealDeadline = ptr(t.Now()), appealBy
	t.R.Response = resp.Explanation
	if resp.Kind == RespondExtraordinary {
		// The response is now due when the notice says the records will
		// be available; the clock no longer computes it.
		t.R.AvailableDate, t.R.DueDate = resp.AvailableDate, resp.AvailableDate
	}
	if release != nil {
		t.R.ReleaseKey, t.R.ReleaseSHA256, t.R.ReleaseSize = release.Key, release.SHA256, release.Size
	}
	if len(resp.Withheld) > 0 {
		if err := o.holdWithheld(t, a, resp, seen); err != nil {
			return err
		}
	}
	details := map[string]any{"tracking_number": t.R.TrackingNumber, "response": resp.Kind, "letter_pdf_sha256": l.PDFSHA256,
		"withheld": len(resp.Withheld)}
	if release != nil {
		details["release_sha256"], details["released"] = release.SHA256, release.Count
	}
	// The response is an act of the records office the custody log vouches for.
	if err := t.Custody(storage.NewEvent{Kind: "request_response", Actor: a.ID, SubjectType: "request",
		SubjectID: fmt.Sprint(t.R.ID), Details: details}); err != nil {
		return err
	}
	return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "status", FromStatus: from, ToStatus: to,
		Citation: o.responseCitation(resp), Detail: l.Title, LetterID: &l.ID})
}

// holdWithheld places the automatic hold on withheld records: they may not
// be destroyed until every appeal is over (63G-2-205(3)).
func (o *Office) holdWithheld(t *storage.RequestTx, a Actor, resp Response, seen []storage.RequestItem) error {
	var items []string
	for _, it := range seen {
		if slices.Contains(resp.Withheld, it.ID) {
			items = append(items, fmt.Sprint(it.ItemID))
		}
	}
	h := &storage.Hold{Matter: t.R.TrackingNumber + ": records withheld by denial (" + o.law.Denial.HoldCitation + ")",
		ScopeItems: "[" + strings.Join(items, ",") + "]", CreatedBy: a.ID}
	if err := t.Hold(h, a.ID); err != nil {
		return err
	}
	return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "hold", Citation: o.law.Denial.HoldCitation,
		Detail: fmt.Sprintf("hold %d on %d withheld items until appeals are over", h.ID, len(items))})
}

func (o *Office) responseCitation(resp Response) string {
	switch resp.Kind {
	case RespondPartial, RespondDeny:
		return strings.Join(append([]string{o.law.Denial.Citation}, resp.Citations...), "; ")
	case RespondNoRecords:
		return o.law.NoRecords.Citation
	case RespondExtraordinary:
		r, _ := o.law.Reason(resp.ReasonKey)
		return r.Citation
	}
	return o.law.Response.Citation
}

func sameAttachments(a, b []storage.RequestItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].VersionID != b[i].VersionID {
			return false
		}
	}
	return true
}

func notFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// DecideExpedite grants or refuses a request's ask for a faster response.
// A refusal moves the due date to the standard one and sends the notice
// the law requires within its own deadline (63G-2-204(4)(a)).
func (o *Office) DecideExpedite(ctx context.Context, id uint64, a Actor, grant bool, reason string) (*storage.Request, error) {
	reason = strings.TrimSpace(reason)
	if !grant && reason == "" {
		return nil, FieldErrors{"reason": "is required to refuse expediting"}
	}
	r, err := o.cat.RequestByID(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !r.Expedited || r.ExpediteDecision != "" || !IsPending(r.Status) {
		return nil, fmt.Errorf("%w: no undecided request to expedite", ErrNotAllowed)
	}
	cal, err := o.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	var stored *storage.Letter
	if !grant {
		probe := *r
		probe.ExpediteDecision = "refused"
		o.applyDeadlines(&probe, cal)
		lt := o.expediteLetter(&probe, a, reason)
		if stored, err = o.storeLetter(ctx, lt, a); err != nil {
			return nil, err
		}
	}
	updated, err := o.update(ctx, id, func(t *storage.RequestTx) error {
		if t.R.ExpediteDecision != "" {
			return fmt.Errorf("%w: decided meanwhile", ErrNotAllowed)
		}
		oldDue := t.R.DueDate
		ev := storage.RequestEvent{Actor: a.ID, Kind: "expedite", Citation: o.law.Response.Citation, Detail: "expedited response granted"}
		t.R.ExpediteDecision = "granted"
		if !grant {
			t.R.ExpediteDecision = "refused"
			o.applyDeadlines(t.R, cal)
			if err := t.Letter(stored); err != nil {
				return err
			}
			ev.LetterID = &stored.ID
			ev.Detail = fmt.Sprintf("expedited response refused: %s; due date %s → %s", reason, oldDue, t.R.DueDate)
		}
		return t.Event(ev)
	})
	if err == nil && stored != nil {
		o.sendLetter(ctx, updated, stored)
	}
	return updated, err
}
