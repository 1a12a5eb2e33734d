package records_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// allowedMoves is the state machine as REFERENCE.md §1 describes it: the
// plain transitions a clerk may make (responses and payment have their own
// actions).
var allowedMoves = map[string][]string{
	records.StatusReceived:              {records.StatusInReview, records.StatusAwaitingClarification, records.StatusAwaitingPayment, records.StatusWithdrawn},
	records.StatusInReview:              {records.StatusAwaitingClarification, records.StatusAwaitingPayment, records.StatusWithdrawn},
	records.StatusAwaitingClarification: {records.StatusInReview, records.StatusWithdrawn, records.StatusClosed},
	records.StatusAwaitingPayment:       {records.StatusInReview, records.StatusWithdrawn, records.StatusClosed},
	records.StatusExtraordinary:         {records.StatusInReview, records.StatusWithdrawn},
	records.StatusFulfilled:             {records.StatusClosed, records.StatusAppealFiled},
	records.StatusFulfilledInPart:       {records.StatusClosed, records.StatusAppealFiled},
	records.StatusDenied:                {records.StatusClosed, records.StatusAppealFiled},
	records.StatusNoRecords:             {records.StatusClosed, records.StatusAppealFiled},
	records.StatusWithdrawn:             {records.StatusClosed},
	records.StatusClosed:                {records.StatusInReview},
	records.StatusAppealFiled:           {records.StatusAppealDecided},
	records.StatusAppealDecided:         {records.StatusSecondLevelAppeal, records.StatusFinal},
	records.StatusSecondLevelAppeal:     {records.StatusFinal},
	records.StatusFinal:                 {records.StatusClosed},
}

func TestMoveStateMachine(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		f := validFiling()
		f.Email, f.EmailConsent = "", false
		r := e.file(t, f)
		for _, from := range records.Statuses {
			// Every refused move first: none may change anything.
			e.setStatus(t, r.ID, from)
			before := e.request(t, r.ID)
			nEvents := len(e.record(t, r.ID).Events)
			for _, to := range records.Statuses {
				if slices.Contains(allowedMoves[from], to) {
					continue
				}
				if records.CanMove(from, to) {
					t.Errorf("CanMove(%s, %s) = true", from, to)
				}
				got, err := e.office.Move(e.ctx, r.ID, clerk, to, "Utah Code 63G-2-204", "a note")
				if !errors.Is(err, records.ErrNotAllowed) || got != nil {
					t.Errorf("%s → %s = %v; want ErrNotAllowed", from, to, err)
				}
			}
			after := e.request(t, r.ID)
			if after.Status != from || !after.UpdatedAt.Equal(before.UpdatedAt) || len(e.record(t, r.ID).Events) != nEvents {
				t.Errorf("refused moves from %s changed the request", from)
			}
			for _, to := range allowedMoves[from] {
				e.setStatus(t, r.ID, from)
				got, err := e.office.Move(e.ctx, r.ID, clerk, to, "Utah Code 63G-2-204", " a note ")
				if err != nil {
					t.Errorf("%s → %s: %v", from, to, err)
					continue
				}
				if !records.CanMove(from, to) || !slices.Contains(records.Moves(from), to) {
					t.Errorf("CanMove(%s, %s) = false", from, to)
				}
				if got.Status != to || e.request(t, r.ID).Status != to {
					t.Errorf("%s → %s: status %s", from, to, got.Status)
				}
				rec := e.record(t, r.ID)
				ev := rec.Events[len(rec.Events)-1]
				if ev.Kind != "status" || ev.Actor != clerk.ID || ev.FromStatus != from || ev.ToStatus != to ||
					ev.Citation != "Utah Code 63G-2-204" || ev.Detail != "a note" {
					t.Errorf("%s → %s event %+v", from, to, ev)
				}
			}
		}
		if _, err := e.office.Move(e.ctx, r.ID, clerk, "lost", "", ""); err == nil {
			t.Error("Move to an unknown status succeeded")
		} else {
			fieldErrors(t, err, "status")
		}
		if _, err := e.office.Move(e.ctx, 999999, clerk, records.StatusInReview, "", ""); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Move of a missing request = %v, want ErrNotFound", err)
		}
	})
}

func TestMoveSideEffects(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		t.Run("reopen clears the determination", func(t *testing.T) {
			r := e.file(t, validFiling())
			if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
				t.Fatal(err)
			}
			closed, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusClosed, "", "")
			if err != nil || closed.ClosedAt == nil || closed.Determination != records.RespondNoRecords {
				t.Fatalf("close: %+v %v", closed, err)
			}
			open, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusInReview, "", "asked to look again")
			if err != nil {
				t.Fatal(err)
			}
			if open.Determination != "" || open.ClosedAt != nil || !records.CanRespond(open.Status) {
				t.Errorf("reopened: determination %q closed_at %v status %s", open.Determination, open.ClosedAt, open.Status)
			}
		})
		t.Run("clarification note is a public message, e-mailed", func(t *testing.T) {
			r := e.file(t, validFiling())
			if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAwaitingClarification, "", "Which parade: July 4 or July 24?"); err != nil {
				t.Fatal(err)
			}
			rec := e.record(t, r.ID)
			if len(rec.Messages) != 1 || !rec.Messages[0].Public || rec.Messages[0].Body != "Which parade: July 4 or July 24?" {
				t.Errorf("messages %+v", rec.Messages)
			}
			m := e.lastMessageTo(t, "ana@example.com")
			if !strings.Contains(m.Text, "Which parade: July 4 or July 24?") || !strings.Contains(m.Text, "Waiting for your clarification") {
				t.Errorf("e-mail:\n%s", m.Text)
			}
		})
		t.Run("internal note stays internal", func(t *testing.T) {
			r := e.file(t, validFiling())
			mails := len(e.smtp.Messages())
			if _, err := e.office.Note(e.ctx, r.ID, clerk, "ask legal", false); err != nil {
				t.Fatal(err)
			}
			if len(e.smtp.Messages()) != mails {
				t.Error("an internal note was e-mailed")
			}
			if _, err := e.office.Note(e.ctx, r.ID, clerk, "  ", true); err == nil {
				t.Error("empty note accepted")
			}
		})
	})
}

func TestAppealClock(t *testing.T) {
	// Wednesday 2026-08-05 in Denver.
	onEveryBackend(t, at(2026, 8, 5, 10, 0), func(t *testing.T, e *env) {
		tests := []struct {
			name             string
			expedited, grant bool
			decisionDue      string
		}{
			// 10 business days from Wed 08-05: 08-19.
			{"standard: 10 business days", false, false, "2026-08-19"},
			// 5 business days: Wed 08-12.
			{"expedited: 5 business days", true, true, "2026-08-12"},
			{"expedite refused: 10", true, false, "2026-08-19"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Set(at(2026, 7, 22, 12, 0))
				f := validFiling()
				f.Expedited, f.ExpeditedReason = tt.expedited, "public safety"
				r := e.file(t, f)
				if tt.expedited {
					if _, err := e.office.DecideExpedite(e.ctx, r.ID, clerk, tt.grant, "not shown"); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
					t.Fatal(err)
				}
				e.clock.Set(at(2026, 8, 5, 10, 0))
				filed, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealFiled, "Utah Code 63G-2-401", "")
				if err != nil {
					t.Fatal(err)
				}
				if filed.AppealDecisionDue != tt.decisionDue {
					t.Errorf("officer's decision due %s, want %s", filed.AppealDecisionDue, tt.decisionDue)
				}
				// Decided Friday 08-07: 30 days is Sunday 09-06, Monday 09-07
				// is Labor Day: the deadline rolls to Tuesday 09-08.
				e.clock.Set(at(2026, 8, 7, 16, 0))
				decided, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealDecided, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if decided.AppealDecisionDue != "" || decided.AppealDeadline != "2026-09-08" {
					t.Errorf("after the decision: decision due %q, next-level deadline %q; want \"\" and 2026-09-08",
						decided.AppealDecisionDue, decided.AppealDeadline)
				}
				second, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusSecondLevelAppeal, "Utah Code 63G-2-403", "")
				if err != nil || second.AppealDeadline != "" {
					t.Errorf("second level: deadline %q, %v", second.AppealDeadline, err)
				}
			})
		}
	})
}

func TestDueState(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 24, 10, 0), func(t *testing.T, e *env) {
		cal := e.calendar(t)
		fri := calendar.Date(2026, 7, 31) // Friday
		tests := []struct {
			name, status, due, appealDue string
			cal                          *calendar.Calendar
			want                         string
		}{
			{"overdue", records.StatusInReview, "2026-07-30", "", cal, records.DueOverdue},
			{"due today", records.StatusReceived, "2026-07-31", "", cal, records.DueToday},
			{"next business day (Monday)", records.StatusReceived, "2026-08-03", "", cal, records.DueSoon},
			{"two business days (Tuesday)", records.StatusAwaitingPayment, "2026-08-04", "", cal, records.DueSoon},
			{"three business days", records.StatusInReview, "2026-08-05", "", cal, ""},
			{"the weekend between is not counted", records.StatusInReview, "2026-08-02", "", cal, records.DueSoon},
			{"no calendar: soon unknown", records.StatusInReview, "2026-08-03", "", nil, ""},
			{"answered: never overdue", records.StatusFulfilled, "2026-07-01", "", cal, ""},
			{"closed", records.StatusClosed, "2026-07-01", "", cal, ""},
			{"appeal: the officer's date counts", records.StatusAppealFiled, "2026-07-01", "2026-07-31", cal, records.DueToday},
			{"appeal overdue", records.StatusAppealFiled, "2026-09-01", "2026-07-29", cal, records.DueOverdue},
			{"bad date", records.StatusInReview, "soon", "", cal, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := &storage.Request{Status: tt.status, DueDate: tt.due, AppealDecisionDue: tt.appealDue}
				if got := records.DueState(r, fri, tt.cal); got != tt.want {
					t.Errorf("DueState = %q, want %q", got, tt.want)
				}
			})
		}
	})
}

func TestHolds(t *testing.T) {
	// Friday 2026-08-07: the appeal deadline is 30 days later, Sunday 09-06,
	// rolled past Labor Day to Tuesday 09-08.
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		deny := func(t *testing.T) *storage.Request {
			t.Helper()
			e.clock.Set(at(2026, 7, 23, 10, 0))
			r := e.file(t, validFiling())
			e.capture(t, "p1", "Main St closed Saturday for the parade")
			if _, err := e.office.Attach(e.ctx, r.ID, clerk, "parade", []uint64{e.items["p1"]}); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(at(2026, 8, 7, 10, 0))
			d, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondDeny,
				WithheldDescription: "a post naming a minor", Citations: []string{"Utah Code 63G-2-302(1)"}})
			if err != nil {
				t.Fatal(err)
			}
			if d.AppealDeadline != "2026-09-08" {
				t.Fatalf("appeal deadline %s, want 2026-09-08", d.AppealDeadline)
			}
			return d
		}
		standing := func(t *testing.T, id uint64) []storage.Hold {
			t.Helper()
			var out []storage.Hold
			for _, h := range e.record(t, id).Holds {
				if h.ReleasedAt == nil {
					out = append(out, h)
				}
			}
			return out
		}
		release := func(t *testing.T, now time.Time) int {
			t.Helper()
			e.clock.Set(now)
			n, err := e.office.ReleaseExpiredHolds(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("kept until the appeal time has passed, then released", func(t *testing.T) {
			r := deny(t)
			holds := standing(t, r.ID)
			if len(holds) != 1 {
				t.Fatalf("standing holds %+v", holds)
			}
			for _, now := range []time.Time{at(2026, 8, 7, 12, 0), at(2026, 9, 8, 23, 59)} {
				if n := release(t, now); n != 0 || len(standing(t, r.ID)) != 1 {
					t.Fatalf("at %v: released %d; the appeal time has not passed", now, n)
				}
			}
			if n := release(t, at(2026, 9, 9, 0, 1)); n != 1 {
				t.Fatalf("released %d the day after the deadline, want 1", n)
			}
			if s := standing(t, r.ID); len(s) != 0 {
				t.Fatalf("still standing %+v", s)
			}
			h := e.record(t, r.ID).Holds[0]
			if h.ReleasedBy != "system" || !strings.Contains(h.ReleaseReason, "2026-09-08") {
				t.Errorf("released hold %+v", h)
			}
			evs, err := e.cat.CustodyEvents(e.ctx, "hold", itoa(h.ID))
			if err != nil || len(evs) != 2 || evs[0].Kind != "hold_placed" || evs[1].Kind != "hold_released" {
				t.Errorf("custody events of the hold: %+v %v", evs, err)
			}
			rel := eventsOf(e.record(t, r.ID), "release")
			if len(rel) != 1 || rel[0].Actor != "system" || rel[0].Citation != "Utah Code 63G-2-205(3)" {
				t.Errorf("release events %+v", rel)
			}
			if n := release(t, at(2026, 9, 10, 0, 1)); n != 0 {
				t.Errorf("released %d again", n)
			}
		})

		t.Run("kept while an appeal is pending; final releases", func(t *testing.T) {
			r := deny(t)
			e.clock.Set(at(2026, 8, 20, 10, 0))
			if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealFiled, "", ""); err != nil {
				t.Fatal(err)
			}
			if n := release(t, at(2026, 10, 1, 10, 0)); n != 0 || len(standing(t, r.ID)) != 1 {
				t.Fatalf("released %d with an appeal pending", n)
			}
			d, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealDecided, "", "")
			if err != nil {
				t.Fatal(err)
			}
			// 2026-10-01 + 30 = 10-31, a Saturday: Monday 11-02.
			if d.AppealDeadline != "2026-11-02" {
				t.Errorf("next-level deadline %s, want 2026-11-02", d.AppealDeadline)
			}
			if n := release(t, at(2026, 10, 20, 10, 0)); n != 0 {
				t.Fatalf("released %d while the next-level appeal time runs", n)
			}
			if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusSecondLevelAppeal, "", ""); err != nil {
				t.Fatal(err)
			}
			if n := release(t, at(2027, 3, 1, 10, 0)); n != 0 {
				t.Fatalf("released %d during the second-level appeal", n)
			}
			if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusFinal, "", "court decided"); err != nil {
				t.Fatal(err)
			}
			if s := standing(t, r.ID); len(s) != 0 {
				t.Fatalf("final left holds standing: %+v", s)
			}
		})

		t.Run("closing while the appeal time runs keeps the hold", func(t *testing.T) {
			r := deny(t)
			if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusClosed, "", ""); err != nil {
				t.Fatal(err)
			}
			if len(standing(t, r.ID)) != 1 {
				t.Fatal("closing a denial with the appeal time running released its hold")
			}
			if n := release(t, at(2026, 9, 9, 8, 0)); n != 1 {
				t.Fatalf("released %d after the deadline, want 1", n)
			}
		})
	})
}

// Two appeals the plain state machine does not list: against a deemed
// denial (no response by the due date, 63G-2-401(1)), and one filed in time
// after the clerk already closed the request.
func TestAppealDeemedDenialAndAfterClosing(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 20, 12, 0), func(t *testing.T, e *env) {
		r := e.file(t, validFiling()) // due 2026-08-04 (Pioneer Day skipped)
		if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealFiled, "", ""); !errors.Is(err, records.ErrNotAllowed) {
			t.Fatalf("appeal before the due date: %v; want ErrNotAllowed", err)
		}
		e.clock.Set(at(2026, 8, 4, 16, 0)) // the due date itself: not yet denied
		if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealFiled, "", ""); !errors.Is(err, records.ErrNotAllowed) {
			t.Fatalf("appeal on the due date: %v; want ErrNotAllowed", err)
		}
		e.clock.Set(at(2026, 8, 5, 16, 0)) // the day after: deemed denied
		got, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusAppealFiled, "Utah Code 63G-2-401(1)", "deemed denial")
		if err != nil || got.Status != records.StatusAppealFiled || got.AppealDecisionDue != "2026-08-19" {
			t.Fatalf("appeal of a deemed denial: %+v, %v", got, err)
		}

		e.clock.Set(at(2026, 7, 20, 12, 0))
		d := e.file(t, validFiling())
		if _, err := e.office.Respond(e.ctx, d.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.office.Move(e.ctx, d.ID, clerk, records.StatusClosed, "", ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(at(2026, 8, 10, 12, 0)) // within the 30 days
		if got, err := e.office.Move(e.ctx, d.ID, clerk, records.StatusAppealFiled, "", ""); err != nil || got.Status != records.StatusAppealFiled {
			t.Fatalf("appeal in time after closing: %v", err)
		}
		e.clock.Set(at(2026, 7, 20, 12, 0))
		late := e.file(t, validFiling())
		if _, err := e.office.Respond(e.ctx, late.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.office.Move(e.ctx, late.ID, clerk, records.StatusClosed, "", ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(at(2026, 10, 1, 12, 0)) // past the 30 days
		if _, err := e.office.Move(e.ctx, late.ID, clerk, records.StatusAppealFiled, "", ""); !errors.Is(err, records.ErrNotAllowed) {
			t.Fatalf("late appeal after closing: %v; want ErrNotAllowed", err)
		}
	})
}
