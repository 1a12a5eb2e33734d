package records_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

func TestEstimate(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 1, 10, 0), func(t *testing.T, e *env) {
		filed := func(now time.Time, edit func(f *records.Filing)) uint64 {
			e.clock.Set(now)
			f := validFiling()
			if edit != nil {
				edit(&f)
			}
			return e.file(t, f).ID
		}
		first := filed(at(2026, 7, 1, 10, 0), nil)
		other := filed(at(2026, 7, 1, 11, 0), func(f *records.Filing) { f.Email, f.EmailConsent, f.Phone = "", false, "801 555 0199" })
		// Three days later the same requester (e-mail in another case)
		// files again: no free quarter hour on that one.
		again := filed(at(2026, 7, 4, 10, 0), func(f *records.Filing) { f.Email = "ANA@Example.com" })
		media := filed(at(2026, 7, 5, 10, 0), func(f *records.Filing) { f.NewsMedia = true })
		// Eleven days after the last one: free again.
		later := filed(at(2026, 7, 16, 10, 1), nil)
		samePhone := filed(at(2026, 7, 2, 9, 0), func(f *records.Filing) { f.Email, f.EmailConsent, f.Phone = "", false, "(801) 555-0199" })

		tests := []struct {
			name        string
			id          uint64
			in          records.FeeInput
			free        int
			total       int64
			prepay      bool
			lineAmounts []int64
		}{
			{"nothing to charge", first, records.FeeInput{}, 15, 0, false, nil},
			{"the first 15 minutes are free", first, records.FeeInput{StaffMinutes: 15}, 15, 0, false, []int64{0}},
			{"one billable minute rounds to 33 cents", first, records.FeeInput{StaffMinutes: 16}, 15, 33, false, []int64{33}},
			{"two billable minutes round to 67 cents", first, records.FeeInput{StaffMinutes: 17}, 15, 67, false, []int64{67}},
			{"an hour billable", first, records.FeeInput{StaffMinutes: 75}, 15, 2000, false, []int64{2000}},
			{"pages at cost", first, records.FeeInput{Pages: 10}, 15, 250, false, []int64{250}},
			{"time, pages and a USB drive", first, records.FeeInput{StaffMinutes: 45, Pages: 4,
				Other: []records.FeeLine{{Description: "USB drive", UnitCents: 800, Cents: 800}}}, 15, 1000 + 100 + 800, false, []int64{1000, 100, 800}},
			{"above the prepayment threshold", first, records.FeeInput{StaffMinutes: 200}, 15, 6167, true, []int64{6167}},
			{"threshold itself needs no prepayment", first, records.FeeInput{StaffMinutes: 165}, 15, 5000, false, []int64{5000}},
			{"another requester is not a repeat", other, records.FeeInput{StaffMinutes: 75}, 15, 2000, false, nil},
			{"later requests do not count against the first", first, records.FeeInput{StaffMinutes: 75}, 15, 2000, false, nil},
			{"repeat within 10 days: no free minutes", again, records.FeeInput{StaffMinutes: 75}, 0, 2500, false, []int64{2500}},
			{"repeat by phone: no free minutes", samePhone, records.FeeInput{StaffMinutes: 75}, 0, 2500, false, nil},
			{"news media keep them", media, records.FeeInput{StaffMinutes: 75}, 15, 2000, false, nil},
			{"after 10 days: free again", later, records.FeeInput{StaffMinutes: 75}, 15, 2000, false, nil},
			{"waiver granted: nothing to pay", again, records.FeeInput{StaffMinutes: 500, Waiver: "granted", WaiverReason: "public benefit"}, 0, 0, false, nil},
			{"waiver denied: full price", first, records.FeeInput{StaffMinutes: 75, Waiver: "denied", WaiverReason: "private interest"}, 15, 2000, false, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				est, err := e.office.Estimate(e.ctx, e.request(t, tt.id), tt.in)
				if err != nil {
					t.Fatal(err)
				}
				if est.FreeMinutes != tt.free || est.TotalCents != tt.total || est.PrepaymentRequired != tt.prepay {
					t.Errorf("free %d total %s prepay %v; want %d, %s, %v (%+v)", est.FreeMinutes, records.Money(est.TotalCents),
						est.PrepaymentRequired, tt.free, records.Money(tt.total), tt.prepay, est)
				}
				if tt.lineAmounts != nil {
					var got []int64
					for _, l := range est.Lines {
						got = append(got, l.Cents)
					}
					if !equalInts(got, tt.lineAmounts) {
						t.Errorf("lines %v, want %v", got, tt.lineAmounts)
					}
				}
				if tt.in.Waiver == "granted" && est.WaivedCents != est.SubtotalCents {
					t.Errorf("waived %d of %d", est.WaivedCents, est.SubtotalCents)
				}
				if tt.free == 0 && !strings.Contains(est.FreeMinutesNote, "no free minutes") {
					t.Errorf("note %q", est.FreeMinutesNote)
				}
			})
		}
		bad := []struct {
			name  string
			in    records.FeeInput
			field string
		}{
			{"negative minutes", records.FeeInput{StaffMinutes: -1}, "staff_minutes"},
			{"negative pages", records.FeeInput{Pages: -5}, "pages"},
			{"unknown waiver decision", records.FeeInput{Waiver: "maybe", WaiverReason: "x"}, "waiver"},
			{"waiver decision without a reason", records.FeeInput{Waiver: "denied"}, "waiver_reason"},
			{"a line without a description", records.FeeInput{Other: []records.FeeLine{{Cents: 100}}}, "other[0]"},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.office.Estimate(e.ctx, e.request(t, first), tt.in)
				fieldErrors(t, err, tt.field)
			})
		}
		if got := records.Money(-1234); got != "-$12.34" {
			t.Errorf("Money(-1234) = %s", got)
		}
	})
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFeesAndPayment(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 1, 10, 0), func(t *testing.T, e *env) {
		// Each case is a different requester: none is a repeat.
		fileAs := func(t *testing.T, email string) *storage.Request {
			t.Helper()
			f := validFiling()
			f.Email = email
			return e.file(t, f)
		}
		t.Run("prepayment above the threshold, then paid in full", func(t *testing.T) {
			r := fileAs(t, "pay@example.com")
			got, est, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 200})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != records.StatusAwaitingPayment || !got.PrepaymentRequired || got.FeesCents != 6167 || est.TotalCents != 6167 {
				t.Fatalf("after the estimate: status %s prepay %v fees %d", got.Status, got.PrepaymentRequired, got.FeesCents)
			}
			if stored := records.ParseEstimate(got); stored == nil || stored.TotalCents != 6167 || len(stored.Lines) != 1 {
				t.Errorf("stored estimate %+v", stored)
			}
			m := e.lastMessageTo(t, "pay@example.com")
			for _, want := range []string{"Fee estimate", "$61.67", "payment is required before we continue", "Waiting for payment"} {
				if !strings.Contains(flat(m.Text), want) {
					t.Errorf("estimate e-mail lacks %q:\n%s", want, m.Text)
				}
			}
			rec := e.record(t, r.ID)
			if ev := eventsOf(rec, "status"); len(ev) != 1 || ev[0].ToStatus != records.StatusAwaitingPayment || ev[0].Citation != "Utah Code 63G-2-203" {
				t.Errorf("status events %+v", ev)
			}

			part, err := e.office.RecordPayment(e.ctx, r.ID, clerk, 1000)
			if err != nil || part.Status != records.StatusAwaitingPayment || part.PaidCents != 1000 || !part.PrepaymentRequired {
				t.Fatalf("after a part payment: %+v %v", part, err)
			}
			paid, err := e.office.RecordPayment(e.ctx, r.ID, clerk, 5167)
			if err != nil || paid.Status != records.StatusInReview || paid.PaidCents != 6167 || paid.PrepaymentRequired {
				t.Fatalf("after paying in full: status %s paid %d prepay %v, %v", paid.Status, paid.PaidCents, paid.PrepaymentRequired, err)
			}
			ev := eventsOf(e.record(t, r.ID), "status")
			if last := ev[len(ev)-1]; last.FromStatus != records.StatusAwaitingPayment || last.ToStatus != records.StatusInReview {
				t.Errorf("last status event %+v", last)
			}
			for _, cents := range []int64{0, -5} {
				_, err := e.office.RecordPayment(e.ctx, r.ID, clerk, cents)
				fieldErrors(t, err, "amount")
			}
		})
		t.Run("a waiver while waiting for payment ends the wait", func(t *testing.T) {
			r := fileAs(t, "waiver@example.com")
			if got, _, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 200}); err != nil || got.Status != records.StatusAwaitingPayment {
				t.Fatalf("%+v %v", got, err)
			}
			got, est, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 200, Waiver: "granted", WaiverReason: "the requester is the subject"})
			if err != nil {
				t.Fatal(err)
			}
			if est.TotalCents != 0 || got.FeesCents != 0 || got.FeeWaiverDecision != "granted" || got.PrepaymentRequired {
				t.Errorf("waived: %+v", est)
			}
			if got.Status != records.StatusInReview {
				t.Errorf("status %s: nothing is owed, the request should be back in review", got.Status)
			}
			m := e.lastMessageTo(t, "waiver@example.com")
			if !strings.Contains(m.Text, "Waived: $61.67 (the requester is the subject)") || !strings.Contains(m.Text, "Total: $0.00") {
				t.Errorf("waiver e-mail:\n%s", m.Text)
			}
		})
		t.Run("a small fee does not hold the request", func(t *testing.T) {
			r := fileAs(t, "small@example.com")
			got, _, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 30})
			if err != nil || got.Status != records.StatusReceived || got.PrepaymentRequired || got.FeesCents != 500 {
				t.Errorf("%+v %v", got, err)
			}
		})
		t.Run("extraordinary circumstances keep their date", func(t *testing.T) {
			r := fileAs(t, "busy@example.com")
			if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondExtraordinary,
				ReasonKey: "review", AvailableDate: "2026-09-30"}); err != nil {
				t.Fatal(err)
			}
			got, _, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 600})
			if err != nil || got.Status != records.StatusExtraordinary || got.DueDate != "2026-09-30" {
				t.Errorf("status %s due %s, %v", got.Status, got.DueDate, err)
			}
		})
		t.Run("a denied fee waiver makes an approval appealable", func(t *testing.T) {
			r := fileAs(t, "nowaiver@example.com")
			e.capture(t, "p1", "Main St closed Saturday for the parade")
			e.attach(t, r.ID, "p1")
			if _, _, err := e.office.SetFees(e.ctx, r.ID, clerk, records.FeeInput{StaffMinutes: 60, Waiver: "denied", WaiverReason: "no public benefit shown"}); err != nil {
				t.Fatal(err)
			}
			got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove})
			if err != nil {
				t.Fatal(err)
			}
			// 2026-07-01 + 30 = 07-31, a Friday.
			if got.AppealDeadline != "2026-07-31" {
				t.Errorf("appeal deadline %q, want 2026-07-31", got.AppealDeadline)
			}
			l := e.record(t, r.ID).Letters[0]
			text := flat(l.Text)
			for _, want := range []string{"Your request for a fee waiver is denied: no public benefit shown", "$15.00", "right to appeal"} {
				if !strings.Contains(text, want) {
					t.Errorf("letter lacks %q:\n%s", want, l.Text)
				}
			}
		})
		if _, _, err := e.office.SetFees(e.ctx, 999999, clerk, records.FeeInput{}); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("SetFees on a missing request = %v, want ErrNotFound", err)
		}
	})
}

func TestDecideExpedite(t *testing.T) {
	// Thursday 2026-07-23 (Denver): expedited due 07-31, standard 08-07.
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		expedited := func(t *testing.T) uint64 {
			t.Helper()
			f := validFiling()
			f.Expedited, f.ExpeditedReason = true, "the parade route affects everyone"
			r := e.file(t, f)
			if r.DueDate != "2026-07-31" || r.ExpediteNoticeDue != "2026-07-31" {
				t.Fatalf("expedited due %s notice %s", r.DueDate, r.ExpediteNoticeDue)
			}
			return r.ID
		}
		t.Run("refused: standard due date, letter, event, e-mail", func(t *testing.T) {
			id := expedited(t)
			got, err := e.office.DecideExpedite(e.ctx, id, clerk, false, "a private dispute, no public benefit shown")
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpediteDecision != "refused" || got.DueDate != "2026-08-07" || got.CalendarVersion != "utah-2026.1" {
				t.Errorf("refused: decision %s due %s", got.ExpediteDecision, got.DueDate)
			}
			rec := e.record(t, id)
			if len(rec.Letters) != 1 {
				t.Fatalf("%d letters", len(rec.Letters))
			}
			text := checkLetter(t, e, rec.Letters[0], "expedite_refused")
			for _, want := range []string{"Expedited Response Not Granted", "a private dispute, no public benefit shown",
				"by 2026-08-07", "10 business days", "Utah Code 63G-2-204"} {
				if !strings.Contains(text, want) {
					t.Errorf("letter lacks %q:\n%s", want, rec.Letters[0].Text)
				}
			}
			ev := eventsOf(rec, "expedite")
			if len(ev) != 1 || ev[0].LetterID == nil || *ev[0].LetterID != rec.Letters[0].ID ||
				!strings.Contains(ev[0].Detail, "2026-07-31 → 2026-08-07") || ev[0].Actor != clerk.ID {
				t.Errorf("expedite events %+v", ev)
			}
			checkMailed(t, e, got, rec.Letters[0])
			if _, err := e.office.DecideExpedite(e.ctx, id, clerk, true, ""); !errors.Is(err, records.ErrNotAllowed) {
				t.Errorf("deciding again = %v, want ErrNotAllowed", err)
			}
		})
		t.Run("granted: keeps 5 days", func(t *testing.T) {
			id := expedited(t)
			mails := len(e.smtp.Messages())
			got, err := e.office.DecideExpedite(e.ctx, id, clerk, true, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpediteDecision != "granted" || got.DueDate != "2026-07-31" {
				t.Errorf("granted: decision %s due %s", got.ExpediteDecision, got.DueDate)
			}
			if len(e.record(t, id).Letters) != 0 || len(e.smtp.Messages()) != mails {
				t.Error("a grant wrote a letter or an e-mail")
			}
			if _, err := e.office.DecideExpedite(e.ctx, id, clerk, false, "changed my mind"); !errors.Is(err, records.ErrNotAllowed) {
				t.Errorf("deciding again = %v, want ErrNotAllowed", err)
			}
			if got := e.request(t, id); got.DueDate != "2026-07-31" || got.ExpediteDecision != "granted" {
				t.Errorf("a refused second decision changed the request: %+v", got)
			}
		})
		t.Run("refusal needs a reason", func(t *testing.T) {
			id := expedited(t)
			_, err := e.office.DecideExpedite(e.ctx, id, clerk, false, "  ")
			fieldErrors(t, err, "reason")
			if got := e.request(t, id); got.ExpediteDecision != "" {
				t.Errorf("decision %q stored", got.ExpediteDecision)
			}
		})
		t.Run("nothing to decide on a standard request", func(t *testing.T) {
			r := e.file(t, validFiling())
			if _, err := e.office.DecideExpedite(e.ctx, r.ID, clerk, true, ""); !errors.Is(err, records.ErrNotAllowed) {
				t.Errorf("= %v, want ErrNotAllowed", err)
			}
		})
	})
}
