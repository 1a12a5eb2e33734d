package records

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// FeeInput is the clerk's estimate of the work and the waiver decision.
type FeeInput struct {
	StaffMinutes int
	Pages        int
	Other        []FeeLine // e.g. a USB drive, postage, at actual cost
	// Waiver is "" (not asked or not decided), "granted" or "denied".
	Waiver       string
	WaiverReason string
}

// FeeLine is one line of an estimate.
type FeeLine struct {
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	UnitCents   int64  `json:"unit_cents"`
	Cents       int64  `json:"cents"`
}

// FeeEstimate is an itemised estimate (63G-2-203), as stored on the
// request and shown on letters.
type FeeEstimate struct {
	Lines              []FeeLine `json:"lines"`
	FreeMinutes        int       `json:"free_minutes"`
	FreeMinutesNote    string    `json:"free_minutes_note"`
	SubtotalCents      int64     `json:"subtotal_cents"`
	WaivedCents        int64     `json:"waived_cents"`
	TotalCents         int64     `json:"total_cents"`
	Waiver             string    `json:"waiver"`
	WaiverReason       string    `json:"waiver_reason"`
	ThresholdCents     int64     `json:"prepay_threshold_cents"`
	PrepaymentRequired bool      `json:"prepayment_required"`
}

// Estimate computes the fee estimate of a request. The first free minutes
// apply unless the same requester filed another request in the window
// before this one and is not news media.
func (o *Office) Estimate(ctx context.Context, r *storage.Request, in FeeInput) (*FeeEstimate, error) {
	fe := FieldErrors{}
	if in.StaffMinutes < 0 || in.StaffMinutes > 100000 {
		fe["staff_minutes"] = "must be between 0 and 100000"
	}
	if in.Pages < 0 || in.Pages > 1000000 {
		fe["pages"] = "must be between 0 and 1000000"
	}
	if in.Waiver != "" && in.Waiver != "granted" && in.Waiver != "denied" {
		fe["waiver"] = "must be granted, denied or empty"
	}
	if in.Waiver != "" && strings.TrimSpace(in.WaiverReason) == "" {
		fe["waiver_reason"] = "is required with a waiver decision"
	}
	for i, l := range in.Other {
		if strings.TrimSpace(l.Description) == "" || l.Cents < 0 {
			fe[fmt.Sprintf("other[%d]", i)] = "needs a description and a cost of 0 or more"
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	law := o.law.Fees
	est := &FeeEstimate{Waiver: in.Waiver, WaiverReason: strings.TrimSpace(in.WaiverReason), ThresholdCents: o.cfg.Fees.PrepayThresholdCents}
	since := r.ReceivedAt.Add(-time.Duration(law.RepeatWindowDays) * 24 * time.Hour)
	n, err := o.cat.CountRequestsBy(ctx, r.RequesterKey, since, r.ReceivedAt, r.ID)
	if err != nil {
		return nil, err
	}
	est.FreeMinutes = law.FreeMinutes
	est.FreeMinutesNote = fmt.Sprintf("first %d minutes free (%s)", law.FreeMinutes, law.Citation)
	if n > 0 && !r.NewsMedia {
		est.FreeMinutes = 0
		est.FreeMinutesNote = fmt.Sprintf("no free minutes: the requester filed another request in the %d days before this one (%s)", law.RepeatWindowDays, law.Citation)
	}
	billable := max(in.StaffMinutes-est.FreeMinutes, 0)
	if in.StaffMinutes > 0 {
		est.Lines = append(est.Lines, FeeLine{Description: "Staff time to locate, review and prepare the records (" + est.FreeMinutesNote + ")",
			Quantity: fmt.Sprintf("%d min, %d billable", in.StaffMinutes, billable), UnitCents: o.cfg.Fees.HourlyRateCents,
			Cents: (int64(billable)*o.cfg.Fees.HourlyRateCents + 30) / 60})
	}
	if in.Pages > 0 {
		est.Lines = append(est.Lines, FeeLine{Description: "Printed copies", Quantity: fmt.Sprintf("%d pages", in.Pages),
			UnitCents: o.cfg.Fees.CopyPageCents, Cents: int64(in.Pages) * o.cfg.Fees.CopyPageCents})
	}
	for _, l := range in.Other {
		l.Description = strings.TrimSpace(l.Description)
		if l.Quantity == "" {
			l.Quantity = "1"
		}
		est.Lines = append(est.Lines, l)
	}
	for _, l := range est.Lines {
		est.SubtotalCents += l.Cents
	}
	if in.Waiver == "granted" {
		est.WaivedCents = est.SubtotalCents
	}
	est.TotalCents = est.SubtotalCents - est.WaivedCents
	est.PrepaymentRequired = est.TotalCents > est.ThresholdCents
	return est, nil
}

// SetFees stores an estimate and the waiver decision. When prepayment is
// required a pending request waits for payment, and the requester is told.
func (o *Office) SetFees(ctx context.Context, id uint64, a Actor, in FeeInput) (*storage.Request, *FeeEstimate, error) {
	r, err := o.cat.RequestByID(ctx, id)
	if err != nil {
		return nil, nil, notFound(err)
	}
	est, err := o.Estimate(ctx, r, in)
	if err != nil {
		return nil, nil, err
	}
	body, _ := json.Marshal(est)
	waiting := false
	updated, err := o.update(ctx, id, func(t *storage.RequestTx) error {
		t.R.FeeEstimate, t.R.FeesCents = string(body), est.TotalCents
		t.R.FeeWaiverDecision, t.R.FeeWaiverReason = est.Waiver, est.WaiverReason
		t.R.PrepaymentRequired = est.PrepaymentRequired && t.R.PaidCents < est.TotalCents
		detail := fmt.Sprintf("estimate %s (subtotal %s, waived %s)", Money(est.TotalCents), Money(est.SubtotalCents), Money(est.WaivedCents))
		if est.Waiver != "" {
			detail += "; fee waiver " + est.Waiver + ": " + est.WaiverReason
		}
		if err := t.Event(storage.RequestEvent{Actor: a.ID, Kind: "fee", Citation: o.law.Fees.Citation, Detail: detail}); err != nil {
			return err
		}
		from := t.R.Status
		switch {
		case t.R.PrepaymentRequired && CanMove(from, StatusAwaitingPayment):
			// Along the state machine: an extraordinary-circumstances
			// request keeps the date its notice gave.
			t.R.Status, waiting = StatusAwaitingPayment, true
			return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "status", FromStatus: from, ToStatus: StatusAwaitingPayment,
				Citation: o.law.Fees.Citation, Detail: fmt.Sprintf("prepayment of %s required (more than %s)", Money(est.TotalCents), Money(est.ThresholdCents))})
		case !t.R.PrepaymentRequired && from == StatusAwaitingPayment:
			// A lower estimate or a waiver: nothing is owed in advance now.
			t.R.Status = StatusInReview
			return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "status", FromStatus: from, ToStatus: StatusInReview,
				Citation: o.law.Fees.Citation, Detail: "no prepayment owed under the new estimate"})
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if waiting || est.Waiver != "" {
		o.sendMessage(ctx, updated, feeMessage(est))
	}
	return updated, est, nil
}

// RecordPayment records money received; once the estimate is paid a
// request waiting for payment goes back to review.
func (o *Office) RecordPayment(ctx context.Context, id uint64, a Actor, cents int64) (*storage.Request, error) {
	if cents <= 0 || cents > 1e9 {
		return nil, FieldErrors{"amount": "must be a positive amount"}
	}
	return o.update(ctx, id, func(t *storage.RequestTx) error {
		t.R.PaidCents += cents
		if err := t.Event(storage.RequestEvent{Actor: a.ID, Kind: "fee", Detail: fmt.Sprintf("payment of %s received (paid %s of %s)", Money(cents), Money(t.R.PaidCents), Money(t.R.FeesCents))}); err != nil {
			return err
		}
		if t.R.PaidCents >= t.R.FeesCents {
			t.R.PrepaymentRequired = false
			if t.R.Status == StatusAwaitingPayment {
				t.R.Status = StatusInReview
				return t.Event(storage.RequestEvent{Actor: a.ID, Kind: "status", FromStatus: StatusAwaitingPayment, ToStatus: StatusInReview, Detail: "paid in full"})
			}
		}
		return nil
	})
}

// ParseEstimate reads the stored estimate of a request (nil when none).
func ParseEstimate(r *storage.Request) *FeeEstimate {
	if r.FeeEstimate == "" {
		return nil
	}
	var est FeeEstimate
	if json.Unmarshal([]byte(r.FeeEstimate), &est) != nil {
		return nil
	}
	return &est
}

// Money formats cents as dollars.
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s$%d.%02d", sign, cents/100, cents%100)
}

func feeMessage(est *FeeEstimate) string {
	var b strings.Builder
	b.WriteString("Fee estimate for your request:\n")
	for _, l := range est.Lines {
		fmt.Fprintf(&b, "- %s, %s: %s\n", l.Description, l.Quantity, Money(l.Cents))
	}
	if est.WaivedCents > 0 {
		fmt.Fprintf(&b, "Waived: %s (%s)\n", Money(est.WaivedCents), est.WaiverReason)
	} else if est.Waiver == "denied" {
		fmt.Fprintf(&b, "Your request for a fee waiver was denied: %s. You may appeal this decision.\n", est.WaiverReason)
	}
	fmt.Fprintf(&b, "Total: %s\n", Money(est.TotalCents))
	if est.PrepaymentRequired {
		fmt.Fprintf(&b, "Because the total is more than %s, payment is required before we continue.\n", Money(est.ThresholdCents))
	}
	return b.String()
}
