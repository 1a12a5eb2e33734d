package records_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// pngBytes is an attachment's content (only its bytes matter here).
var pngBytes = []byte("\x89PNG\r\n\x1a\nparade-route-map")

// respondFixture is a filed request with three captured posts, p1 with a
// picture.
func respondFixture(t *testing.T, e *env) *storage.Request {
	t.Helper()
	e.clock.Set(at(2026, 7, 23, 10, 0))
	r := e.file(t, validFiling())
	e.capture(t, "p1", "Main St closed Saturday for the parade", pngBytes)
	e.capture(t, "p2", "Council meets Tuesday")
	e.capture(t, "p3", "Pool hours change on Monday")
	return r
}

func (e *env) attach(t *testing.T, id uint64, natives ...string) {
	t.Helper()
	var ids []uint64
	for _, n := range natives {
		ids = append(ids, e.items[n])
	}
	if _, err := e.office.Attach(e.ctx, id, clerk, "parade OR council", ids); err != nil {
		t.Fatalf("Attach: %v", err)
	}
}

// attachment returns the request's attachment of an item.
func attachment(t *testing.T, rec *storage.RequestRecord, itemID uint64) storage.RequestItem {
	t.Helper()
	for _, it := range rec.Items {
		if it.ItemID == itemID {
			return it
		}
	}
	t.Fatalf("item %d not attached", itemID)
	return storage.RequestItem{}
}

func TestAttach(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		p1, p2 := e.items["p1"], e.items["p2"]
		v1 := e.versions(t, p1)[0]

		n, err := e.office.Attach(e.ctx, r.ID, clerk, "parade", []uint64{p1, p2})
		if err != nil || n != 2 {
			t.Fatalf("Attach = %d, %v; want 2 new", n, err)
		}
		rec := e.record(t, r.ID)
		a := attachment(t, rec, p1)
		if a.VersionID != v1.ID || a.Query != "parade" || a.AttachedBy != clerk.ID || a.Withheld {
			t.Errorf("attachment %+v; want version %d found by \"parade\"", a, v1.ID)
		}
		if ev := eventsOf(rec, "attach"); len(ev) != 1 || !strings.Contains(ev[0].Detail, `"parade"`) || ev[0].Actor != clerk.ID {
			t.Errorf("attach events %+v", ev)
		}

		if n, err := e.office.Attach(e.ctx, r.ID, clerk, "parade", []uint64{p1, p2, p1}); err != nil || n != 0 {
			t.Errorf("attaching again = %d, %v; want 0 new", n, err)
		}

		// The post is edited after it was attached: the attachment keeps
		// the version the clerk saw.
		e.capture(t, "p1", "Main St closed Saturday AND Sunday for the parade", pngBytes)
		if vs := e.versions(t, p1); len(vs) != 2 {
			t.Fatalf("p1 has %d versions, want 2", len(vs))
		}
		if got := attachment(t, e.record(t, r.ID), p1); got.VersionID != v1.ID {
			t.Errorf("after the edit the attachment points to version %d, want %d", got.VersionID, v1.ID)
		}

		for name, ids := range map[string][]uint64{
			"unknown id":            {999999},
			"known and unknown ids": {e.items["p3"], 999998},
			"none":                  nil,
		} {
			before := len(e.record(t, r.ID).Items)
			_, err := e.office.Attach(e.ctx, r.ID, clerk, "q", ids)
			fe := fieldErrors(t, err, "item_ids")
			if len(ids) > 0 && !strings.Contains(fe["item_ids"], fmt.Sprint(ids[len(ids)-1])) {
				t.Errorf("%s: message %q does not name the missing id", name, fe["item_ids"])
			}
			if after := len(e.record(t, r.ID).Items); after != before {
				t.Errorf("%s: attachments %d → %d", name, before, after)
			}
		}
		if _, err := e.office.Attach(e.ctx, 999999, clerk, "q", []uint64{p1}); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Attach to a missing request = %v, want ErrNotFound", err)
		}

		if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove}); err != nil {
			t.Fatal(err)
		}
		before := len(e.record(t, r.ID).Items)
		if _, err := e.office.Attach(e.ctx, r.ID, clerk, "late", []uint64{e.items["p3"]}); !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("Attach after the response = %v, want ErrNotAllowed", err)
		}
		if got := e.record(t, r.ID); len(got.Items) != before {
			t.Error("an attachment was added after the response")
		}
		if _, err := e.office.Detach(e.ctx, r.ID, clerk, []uint64{a.ID}); !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("Detach after the response = %v, want ErrNotAllowed", err)
		}
	})
}

// itemsCSV parses data/items.csv into rows keyed by column name.
func itemsCSV(t *testing.T, b *bag) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b.files["data/items.csv"])).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("items.csv: %v", err)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, col := range rows[0] {
			m[col] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// checkLetter checks the letter row and its blobs, and returns its text.
func checkLetter(t *testing.T, e *env, l storage.Letter, kind string) string {
	t.Helper()
	if l.Kind != kind || l.Title == "" || l.CreatedBy != clerk.ID {
		t.Errorf("letter %s %q by %q; want kind %s by %s", l.Kind, l.Title, l.CreatedBy, kind, clerk.ID)
	}
	html := e.readBlob(t, l.HTMLKey)
	if !bytes.Contains(html, []byte("<html")) || !bytes.Contains(html, []byte(l.Title)) {
		t.Errorf("letter HTML does not look like the letter: %.200s", html)
	}
	pdf := e.readBlob(t, l.PDFKey)
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("letter PDF starts %q", pdf[:min(8, len(pdf))])
	}
	if ref, err := e.blobs.Stat(e.ctx, l.PDFKey); err != nil || ref.SHA256 != l.PDFSHA256 {
		t.Errorf("PDF SHA-256 %s, stored %s (%v)", ref.SHA256, l.PDFSHA256, err)
	}
	return flat(l.Text)
}

// checkMailed checks the requester got the letter's text by e-mail.
func checkMailed(t *testing.T, e *env, r *storage.Request, l storage.Letter) {
	t.Helper()
	m := e.lastMessageTo(t, r.Email)
	if !strings.Contains(m.Subject, r.TrackingNumber) || !strings.Contains(m.Subject, l.Title) {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(flat(m.Text), flat(l.Text)) {
		t.Errorf("e-mail does not carry the letter:\n%s", m.Text)
	}
}

func TestRespondApprove(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		p1, p2 := e.items["p1"], e.items["p2"]
		v1 := e.versions(t, p1)[0]
		e.attach(t, r.ID, "p1", "p2")
		e.capture(t, "p1", "EDITED after it was attached", pngBytes)

		e.clock.Set(at(2026, 7, 30, 14, 0))
		got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove, Explanation: "Here they are."})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != records.StatusFulfilled || got.Determination != records.RespondApprove || got.RespondedAt == nil {
			t.Errorf("answered: status %s determination %s", got.Status, got.Determination)
		}
		if got.AppealDeadline != "" {
			t.Errorf("an approval has appeal deadline %q", got.AppealDeadline)
		}
		rec := e.record(t, r.ID)
		if len(rec.Letters) != 1 {
			t.Fatalf("%d letters", len(rec.Letters))
		}
		l := rec.Letters[0]
		text := checkLetter(t, e, l, records.RespondApprove)
		for _, want := range []string{"Records Request Approved", r.TrackingNumber, "Every comment on the parade post",
			"approved", got.ReleaseSHA256, "Here they are.", "Clara Clerk", "City Recorder", "July 30, 2026"} {
			if !strings.Contains(text, want) {
				t.Errorf("letter lacks %q:\n%s", want, l.Text)
			}
		}
		ev := rec.Events[len(rec.Events)-2] // the response, then its e-mail
		if ev.Kind != "status" || ev.FromStatus != records.StatusReceived || ev.ToStatus != records.StatusFulfilled ||
			ev.LetterID == nil || *ev.LetterID != l.ID || ev.Citation != "Utah Code 63G-2-204" {
			t.Errorf("response event %+v", ev)
		}
		checkMailed(t, e, r, l)

		// The release bundle.
		data := e.readBlob(t, got.ReleaseKey)
		if ref, _ := e.blobs.Stat(e.ctx, got.ReleaseKey); ref.SHA256 != got.ReleaseSHA256 || ref.Size != got.ReleaseSize {
			t.Errorf("release ref %+v, request says %s / %d", ref, got.ReleaseSHA256, got.ReleaseSize)
		}
		b := openBag(t, data)
		if b.info["External-Identifier"] != r.TrackingNumber || b.info["Source-Organization"] != "Clinton City" {
			t.Errorf("bag-info %v", b.info)
		}
		rows := itemsCSV(t, b)
		if len(rows) != 2 {
			t.Fatalf("items.csv has %d rows, want 2", len(rows))
		}
		byItem := map[string]map[string]string{}
		for _, row := range rows {
			byItem[row["item_id"]] = row
		}
		if row := byItem[itoa(p1)]; row["text"] != "Main St closed Saturday for the parade" || row["version"] != "1" ||
			row["version_sha256"] != v1.SHA256 || row["account"] != "clintoncity" || row["platform"] != "mastodon" {
			t.Errorf("p1 row %v: want the attached version 1, not the edit", row)
		}
		if row := byItem[itoa(p2)]; row["text"] != "Council meets Tuesday" {
			t.Errorf("p2 row %v", row)
		}
		if got := string(b.files[fmt.Sprintf("data/items/%d/v1.json", p1)]); got != string(e.readBlob(t, v1.NormalizedKey)) {
			t.Errorf("v1.json = %q", got)
		}
		if _, ok := b.files[fmt.Sprintf("data/items/%d/v2.json", p1)]; ok {
			t.Error("the edit made after attaching was released")
		}
		media := b.under(fmt.Sprintf("data/items/%d/media/", p1))
		if len(media) != 1 || !strings.HasSuffix(media[0], ".png") || !bytes.Equal(b.files[media[0]], pngBytes) {
			t.Errorf("media %v", media)
		}
		if !bytes.Contains(b.files["data/README.txt"], []byte(r.TrackingNumber)) {
			t.Error("README does not name the request")
		}

		// Answered once only.
		_, err = e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove})
		if !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("second response = %v, want ErrNotAllowed", err)
		}
		if n := len(e.record(t, r.ID).Letters); n != 1 {
			t.Errorf("%d letters after a refused second response", n)
		}
		if _, err := e.office.Respond(e.ctx, 999999, clerk, records.Response{Kind: records.RespondApprove}); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Respond to a missing request = %v, want ErrNotFound", err)
		}
	})
}

func TestRespondReleasesEveryAttachedVersion(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		e.attach(t, r.ID, "p1")
		e.capture(t, "p1", "Main St closed Saturday and Sunday", pngBytes)
		e.attach(t, r.ID, "p1") // the edit is responsive too
		got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove})
		if err != nil {
			t.Fatal(err)
		}
		b := openBag(t, e.readBlob(t, got.ReleaseKey))
		var texts []string
		for _, row := range itemsCSV(t, b) {
			texts = append(texts, row["version"]+":"+row["text"])
		}
		slices.Sort(texts)
		if want := []string{"1:Main St closed Saturday for the parade", "2:Main St closed Saturday and Sunday"}; !slices.Equal(texts, want) {
			t.Errorf("released versions %v, want %v", texts, want)
		}
		if m := b.under(fmt.Sprintf("data/items/%d/media/", e.items["p1"])); len(m) != 1 {
			t.Errorf("media %v: want the picture once", m)
		}
	})
}

func TestRespondDeny(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		e.attach(t, r.ID, "p1", "p2")
		// Friday 08-07: + 30 days is Sunday 09-06; Monday is Labor Day.
		e.clock.Set(at(2026, 8, 7, 15, 0))
		resp := records.Response{Kind: records.RespondDeny,
			WithheldDescription: "Two posts whose comments name a juvenile offender",
			Citations:           []string{"Utah Code 63G-2-302(1)(b)", " Utah Code 63G-2-305(10) ", ""}}
		got, err := e.office.Respond(e.ctx, r.ID, clerk, resp)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != records.StatusDenied || got.Determination != records.RespondDeny {
			t.Errorf("status %s determination %s", got.Status, got.Determination)
		}
		// The appeal deadline runs from the response, not the receipt.
		if got.AppealDeadline != "2026-09-08" {
			t.Errorf("appeal deadline %s, want 2026-09-08 (30 days rolled past the weekend and Labor Day)", got.AppealDeadline)
		}
		if got.ReleaseKey != "" {
			t.Errorf("a denial released a bundle %s", got.ReleaseKey)
		}
		rec := e.record(t, r.ID)
		for _, it := range rec.Items {
			if !it.Withheld || it.WithholdCitation != "Utah Code 63G-2-302(1)(b); Utah Code 63G-2-305(10)" {
				t.Errorf("attachment %+v not withheld with its citations", it)
			}
		}
		if len(rec.Holds) != 1 {
			t.Fatalf("holds %+v", rec.Holds)
		}
		h := rec.Holds[0]
		if h.ReleasedAt != nil || h.ScopeItems != fmt.Sprintf("[%d,%d]", e.items["p1"], e.items["p2"]) ||
			!strings.Contains(h.Matter, r.TrackingNumber) || h.CreatedBy != clerk.ID {
			t.Errorf("hold %+v", h)
		}
		evs, err := e.cat.CustodyEvents(e.ctx, "hold", itoa(h.ID))
		if err != nil || len(evs) != 1 || evs[0].Kind != "hold_placed" || evs[0].Actor != clerk.ID {
			t.Errorf("custody %+v %v", evs, err)
		}
		if ev := eventsOf(rec, "hold"); len(ev) != 1 || ev[0].Citation != "Utah Code 63G-2-205(3)" {
			t.Errorf("hold events %+v", ev)
		}
		status := eventsOf(rec, "status")
		if len(status) != 1 || status[0].Citation != "Utah Code 63G-2-205(2); Utah Code 63G-2-302(1)(b); Utah Code 63G-2-305(10)" {
			t.Errorf("status events %+v", status)
		}

		// The notice is complete (63G-2-205(2)).
		l := rec.Letters[0]
		text := checkLetter(t, e, l, records.RespondDeny)
		for what, want := range map[string]string{
			"title":                      "Notice of Denial of Records Request",
			"the request":                "Every comment on the parade post",
			"what was withheld":          "Two posts whose comments name a juvenile offender",
			"first citation":             "Utah Code 63G-2-302(1)(b)",
			"second citation":            "Utah Code 63G-2-305(10)",
			"the right to appeal":        "You have the right to appeal this decision to the chief administrative officer",
			"the officer's name":         "Pat Officer, City Manager",
			"business address":           "2267 North 1500 West, Clinton, UT 84015",
			"the time limit":             "within 30 calendar days of this notice (by 2026-09-08)",
			"the next level":             "the director of the Government Records Office or the district court",
			"mediation":                  "You may also ask the Government Records Ombudsman to mediate this dispute",
			"mediation pauses the clock": "Requesting mediation pauses the time limit to appeal until the mediation ends.",
			"preservation":               "will not be destroyed until every appeal is over (Utah Code 63G-2-205(3))",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("denial notice lacks %s (%q):\n%s", what, want, l.Text)
			}
		}
		checkMailed(t, e, r, l)
	})
}

func TestRespondPartial(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		e.attach(t, r.ID, "p1", "p2", "p3")
		p1, p2, p3 := e.items["p1"], e.items["p2"], e.items["p3"]
		withheld := attachment(t, e.record(t, r.ID), p2)
		got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondPartial,
			// Named three times, it is still one of the three attached.
			Withheld:            []uint64{withheld.ID, withheld.ID, withheld.ID},
			WithheldDescription: "One post with a resident's phone number",
			Citations:           []string{"Utah Code 63G-2-302(1)(g)"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != records.StatusFulfilledInPart || got.AppealDeadline == "" || got.ReleaseKey == "" {
			t.Errorf("partial: %+v", got)
		}
		rec := e.record(t, r.ID)
		for _, it := range rec.Items {
			if want := it.ItemID == p2; it.Withheld != want {
				t.Errorf("item %d withheld = %v, want %v", it.ItemID, it.Withheld, want)
			}
		}
		if len(rec.Holds) != 1 || rec.Holds[0].ScopeItems != fmt.Sprintf("[%d]", p2) {
			t.Errorf("holds %+v", rec.Holds)
		}
		b := openBag(t, e.readBlob(t, got.ReleaseKey))
		var ids []string
		for _, row := range itemsCSV(t, b) {
			ids = append(ids, row["item_id"])
		}
		slices.Sort(ids)
		want := []string{itoa(p1), itoa(p3)}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("released items %v, want %v", ids, want)
		}
		if leaked := b.under(fmt.Sprintf("data/items/%d/", p2)); len(leaked) > 0 {
			t.Errorf("withheld item in the bundle: %v", leaked)
		}
		text := checkLetter(t, e, rec.Letters[0], records.RespondPartial)
		for _, want := range []string{"approved in part", "One post with a resident's phone number", "Utah Code 63G-2-302(1)(g)",
			fmt.Sprintf("item %d version 1", p2), fmt.Sprintf("item %d version 1", p3), "Pat Officer", "mediation"} {
			if !strings.Contains(text, want) {
				t.Errorf("partial notice lacks %q:\n%s", want, rec.Letters[0].Text)
			}
		}
	})
}

func TestRespondNoRecordsAndExtraordinary(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		t.Run("no records, with a referral", func(t *testing.T) {
			r := e.file(t, validFiling())
			got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondNoRecords,
				ReferralEntity: "  Davis County Sheriff's Office "})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != records.StatusNoRecords || got.AppealDeadline == "" {
				t.Errorf("no records: %+v", got)
			}
			rec := e.record(t, r.ID)
			text := checkLetter(t, e, rec.Letters[0], records.RespondNoRecords)
			for _, want := range []string{"does not maintain records responsive", "Utah Code 63G-2-204(4)(c)",
				"may be maintained by Davis County Sheriff's Office, to whom you may direct your request", "Pat Officer"} {
				if !strings.Contains(text, want) {
					t.Errorf("letter lacks %q:\n%s", want, rec.Letters[0].Text)
				}
			}
		})
		t.Run("extraordinary circumstances", func(t *testing.T) {
			r := e.file(t, validFiling())
			got, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondExtraordinary,
				ReasonKey: "voluminous", AvailableDate: "2026-09-15"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != records.StatusExtraordinary || got.DueDate != "2026-09-15" || got.AvailableDate != "2026-09-15" {
				t.Errorf("extraordinary: status %s due %s available %s", got.Status, got.DueDate, got.AvailableDate)
			}
			rec := e.record(t, r.ID)
			text := checkLetter(t, e, rec.Letters[0], records.RespondExtraordinary)
			for _, want := range []string{"extraordinary circumstances", "the request is for a voluminous quantity of records",
				"63G-2-204(5)(c)", "on or before 2026-09-15", "right to appeal"} {
				if !strings.Contains(text, want) {
					t.Errorf("letter lacks %q:\n%s", want, rec.Letters[0].Text)
				}
			}
			if ev := eventsOf(rec, "status"); len(ev) != 1 || ev[0].Citation != "63G-2-204(5)(c)" {
				t.Errorf("status events %+v", ev)
			}
			// Still owed a response: it can be answered when ready.
			if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
				t.Errorf("answering after the notice: %v", err)
			}
		})
	})
}

func TestRespondValidation(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		bare := e.file(t, validFiling())
		e.attach(t, r.ID, "p1", "p2")
		rec := e.record(t, r.ID)
		a1, a2 := rec.Items[0].ID, rec.Items[1].ID
		tests := []struct {
			name   string
			id     uint64
			resp   records.Response
			fields []string
		}{
			{"approve with nothing attached", bare.ID, records.Response{Kind: records.RespondApprove}, []string{"items"}},
			{"unknown kind", r.ID, records.Response{Kind: "maybe"}, []string{"kind"}},
			{"partial withholding all", r.ID, records.Response{Kind: records.RespondPartial, Withheld: []uint64{a1, a2},
				WithheldDescription: "x", Citations: []string{"c"}}, []string{"withheld"}},
			{"partial withholding none", r.ID, records.Response{Kind: records.RespondPartial,
				WithheldDescription: "x", Citations: []string{"c"}}, []string{"withheld"}},
			{"partial withholding another request's record", r.ID, records.Response{Kind: records.RespondPartial, Withheld: []uint64{a1 + 1000},
				WithheldDescription: "x", Citations: []string{"c"}}, []string{"withheld"}},
			{"deny without citations", r.ID, records.Response{Kind: records.RespondDeny, WithheldDescription: "x",
				Citations: []string{" ", ""}}, []string{"citations"}},
			{"deny without description", r.ID, records.Response{Kind: records.RespondDeny, WithheldDescription: "  ",
				Citations: []string{"Utah Code 63G-2-302"}}, []string{"withheld_description"}},
			{"extraordinary: bad reason", r.ID, records.Response{Kind: records.RespondExtraordinary, ReasonKey: "busy",
				AvailableDate: "2026-09-01"}, []string{"reason"}},
			{"extraordinary: past date", r.ID, records.Response{Kind: records.RespondExtraordinary, ReasonKey: "audit",
				AvailableDate: "2026-07-22"}, []string{"available_date"}},
			{"extraordinary: no date", r.ID, records.Response{Kind: records.RespondExtraordinary, ReasonKey: "audit"}, []string{"available_date"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, beforeRec := e.request(t, tt.id), e.record(t, tt.id)
				got, err := e.office.Respond(e.ctx, tt.id, clerk, tt.resp)
				if got != nil {
					t.Errorf("Respond returned %+v", got)
				}
				fieldErrors(t, err, tt.fields...)
				after, afterRec := e.request(t, tt.id), e.record(t, tt.id)
				if after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) || len(afterRec.Letters) != 0 ||
					len(afterRec.Events) != len(beforeRec.Events) || len(afterRec.Holds) != 0 {
					t.Errorf("a rejected response changed the request: %s → %s, %d letters, %d holds",
						before.Status, after.Status, len(afterRec.Letters), len(afterRec.Holds))
				}
				for _, it := range afterRec.Items {
					if it.Withheld {
						t.Errorf("attachment %d marked withheld", it.ID)
					}
				}
			})
		}
	})
}

func TestDetachAndQueue(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 23, 10, 0), func(t *testing.T, e *env) {
		r := respondFixture(t, e)
		e.attach(t, r.ID, "p1", "p2")
		p1 := attachment(t, e.record(t, r.ID), e.items["p1"])
		if _, err := e.office.Detach(e.ctx, r.ID, clerk, []uint64{p1.ID}); err != nil {
			t.Fatal(err)
		}
		rec := e.record(t, r.ID)
		if len(rec.Items) != 1 || rec.Items[0].ItemID != e.items["p2"] {
			t.Errorf("after detaching p1: %+v", rec.Items)
		}
		if ev := eventsOf(rec, "detach"); len(ev) != 1 || !strings.Contains(ev[0].Detail, "removed 1") {
			t.Errorf("detach events %+v", ev)
		}

		// The clerk's queue: open requests, soonest due first; the public
		// log: every request, newest first.
		e.clock.Set(at(2026, 7, 24, 10, 0))
		f := validFiling()
		f.Expedited, f.ExpeditedReason = true, "public safety"
		fast := e.file(t, f) // due 07-31, before r's 08-07
		done := e.file(t, validFiling())
		if _, err := e.office.Respond(e.ctx, done.ID, clerk, records.Response{Kind: records.RespondNoRecords}); err != nil {
			t.Fatal(err)
		}
		q, total, err := e.office.Queue(e.ctx, storage.RequestFilter{})
		if err != nil || total != 2 || len(q) != 2 || q[0].ID != fast.ID || q[1].ID != r.ID {
			t.Errorf("queue %v (%d), %v; want %d then %d", ids(q), total, err, fast.ID, r.ID)
		}
		log, total, err := e.office.PublicLog(e.ctx, 10, 0)
		if err != nil || total != 3 || log[0].ID != done.ID || log[2].ID != r.ID {
			t.Errorf("public log %v (%d), %v", ids(log), total, err)
		}
	})
}

func ids(rs []storage.Request) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
