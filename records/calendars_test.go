package records_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// withClosure is the shipped calendar as a new version with one more
// closed day.
func withClosure(t *testing.T, version, day, name string) []byte {
	t.Helper()
	body := configs.UtahCalendar
	for _, r := range []struct{ old, new string }{
		{"version: utah-2026.1", "version: " + version},
		{"closures: []", "closures:\n  - date: " + day + "\n    name: " + name},
	} {
		if !bytes.Contains(body, []byte(r.old)) {
			t.Fatalf("the shipped calendar has no %q", r.old)
		}
		body = bytes.Replace(body, []byte(r.old), []byte(r.new), 1)
	}
	return body
}

func TestInstallCalendar(t *testing.T) {
	// Thursday 2026-07-23: standard due 08-07, expedited 07-31.
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		pending := e.file(t, validFiling())
		f := validFiling()
		f.Expedited, f.ExpeditedReason = true, "public safety"
		fast := e.file(t, f)
		review := e.file(t, validFiling())
		if _, err := e.office.Move(e.ctx, review.ID, clerk, records.StatusInReview, "", ""); err != nil {
			t.Fatal(err)
		}
		answered := e.file(t, validFiling())
		if _, err := e.office.Respond(e.ctx, answered.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
			t.Fatal(err)
		}
		closed := e.file(t, validFiling())
		if _, err := e.office.Move(e.ctx, closed.ID, clerk, records.StatusWithdrawn, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.office.Move(e.ctx, closed.ID, clerk, records.StatusClosed, "", ""); err != nil {
			t.Fatal(err)
		}
		delayed := e.file(t, validFiling())
		if _, err := e.office.Respond(e.ctx, delayed.ID, clerk, records.Response{Kind: records.RespondExtraordinary,
			ReasonKey: "voluminous", AvailableDate: "2026-09-15"}); err != nil {
			t.Fatal(err)
		}

		t.Run("an empty reason is refused", func(t *testing.T) {
			_, err := e.office.InstallCalendar(e.ctx, withClosure(t, "utah-2026.2", "2026-07-29", "Water main break"), "api", clerk.ID, "  ")
			fieldErrors(t, err, "reason")
		})
		t.Run("a broken file changes nothing", func(t *testing.T) {
			for name, body := range map[string][]byte{
				"not YAML":        []byte("version: [utah\n  - :"),
				"closure no date": bytes.Replace(withClosure(t, "utah-2026.3", "2026-07-29", "x"), []byte("2026-07-29"), []byte("July 29"), 1),
				"empty":           nil,
			} {
				if _, err := e.office.InstallCalendar(e.ctx, body, "api", clerk.ID, "broken"); err == nil {
					t.Errorf("%s: installed", name)
				}
			}
		})
		if v := e.calendar(t).Version; v != "utah-2026.1" {
			t.Fatalf("calendar in force %s after refused installs", v)
		}
		if got := e.request(t, pending.ID); got.DueDate != "2026-08-07" {
			t.Fatalf("a refused install re-dated a request: %s", got.DueDate)
		}

		// Wednesday 07-29 closes: the pending requests are due a business
		// day later.
		n, err := e.office.InstallCalendar(e.ctx, withClosure(t, "utah-2026.2", "2026-07-29", "Water main break"),
			"api", clerk.ID, "City Hall closed by the Mayor's order")
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("re-dated %d requests, want 3", n)
		}
		if v := e.calendar(t).Version; v != "utah-2026.2" {
			t.Errorf("calendar in force %s", v)
		}
		tests := []struct {
			name              string
			id                uint64
			due, notice, vers string
			redated           bool
		}{
			{"received", pending.ID, "2026-08-10", "", "utah-2026.2", true},
			{"expedited, and its notice", fast.ID, "2026-08-03", "2026-08-03", "utah-2026.2", true},
			{"in review", review.ID, "2026-08-10", "", "utah-2026.2", true},
			{"answered", answered.ID, "2026-08-07", "", "utah-2026.1", false},
			{"closed", closed.ID, "2026-08-07", "", "utah-2026.1", false},
			{"extraordinary: the notice's date", delayed.ID, "2026-09-15", "", "utah-2026.1", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := e.request(t, tt.id)
				if got.DueDate != tt.due || got.ExpediteNoticeDue != tt.notice || got.CalendarVersion != tt.vers {
					t.Errorf("due %s notice %q calendar %s; want %s %q %s", got.DueDate, got.ExpediteNoticeDue,
						got.CalendarVersion, tt.due, tt.notice, tt.vers)
				}
				ev := eventsOf(e.record(t, tt.id), "redate")
				if !tt.redated {
					if len(ev) != 0 {
						t.Errorf("redate events %+v", ev)
					}
					return
				}
				if len(ev) != 1 {
					t.Fatalf("redate events %+v", ev)
				}
				for _, want := range []string{"City Hall closed by the Mayor's order", "utah-2026.1", "utah-2026.2", tt.due} {
					if !strings.Contains(ev[0].Detail, want) {
						t.Errorf("redate detail %q lacks %q", ev[0].Detail, want)
					}
				}
				if ev[0].Actor != clerk.ID {
					t.Errorf("redate actor %q", ev[0].Actor)
				}
			})
		}
		evs, err := e.cat.CustodyEvents(e.ctx, "calendar", "utah-2026.2")
		if err != nil || len(evs) != 1 || evs[0].Kind != "calendar_installed" || evs[0].Actor != clerk.ID {
			t.Errorf("custody %+v %v", evs, err)
		}

		t.Run("the same version twice is a conflict", func(t *testing.T) {
			_, err := e.office.InstallCalendar(e.ctx, withClosure(t, "utah-2026.2", "2026-07-30", "Another"), "api", clerk.ID, "again")
			if !errors.Is(err, storage.ErrConflict) {
				t.Errorf("= %v, want storage.ErrConflict", err)
			}
			if got := e.request(t, pending.ID); got.DueDate != "2026-08-10" {
				t.Errorf("a refused install re-dated a request: %s", got.DueDate)
			}
		})
		t.Run("a restart does not undo the operator's change", func(t *testing.T) {
			if err := e.office.EnsureCalendar(e.ctx, configs.UtahCalendar, "embedded"); err != nil {
				t.Fatal(err)
			}
			if v := e.calendar(t).Version; v != "utah-2026.2" {
				t.Errorf("calendar in force %s", v)
			}
			if got := e.request(t, pending.ID); got.DueDate != "2026-08-10" {
				t.Errorf("due %s", got.DueDate)
			}
		})
		t.Run("new requests use the new calendar", func(t *testing.T) {
			r := e.file(t, validFiling())
			if r.CalendarVersion != "utah-2026.2" || r.DueDate != "2026-08-10" {
				t.Errorf("due %s with %s", r.DueDate, r.CalendarVersion)
			}
			old, err := e.office.CalendarVersion(e.ctx, "utah-2026.1")
			if err != nil || old.Version != "utah-2026.1" {
				t.Errorf("the old version is not kept: %v", err)
			}
		})
	})
}
