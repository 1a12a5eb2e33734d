package records_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

func TestTrackingNumbers(t *testing.T) {
	onEveryBackend(t, at(2026, 3, 2, 9, 0), func(t *testing.T, e *env) {
		f := validFiling()
		f.Email, f.EmailConsent = "", false // no e-mail: keep the concurrent part quiet
		steps := []struct {
			now  time.Time
			want string
		}{
			{at(2026, 3, 2, 9, 0), "GRAMA-2026-000001"},
			{at(2026, 3, 2, 9, 5), "GRAMA-2026-000002"},
			// 05:00 UTC on New Year's Day is still New Year's Eve in the
			// city: the city's year numbers it.
			{time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC), "GRAMA-2026-000003"},
			{at(2027, 1, 2, 10, 0), "GRAMA-2027-000001"},
			{at(2027, 1, 2, 10, 1), "GRAMA-2027-000002"},
		}
		for _, s := range steps {
			e.clock.Set(s.now)
			if r := e.file(t, f); r.TrackingNumber != s.want {
				t.Errorf("filed at %v: tracking %s, want %s", s.now, r.TrackingNumber, s.want)
			}
		}

		const n = 20
		var wg sync.WaitGroup
		got := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.office.File(e.ctx, f, "public")
				if err == nil {
					got[i] = r.TrackingNumber
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent filing %d: %v", i, err)
			}
		}
		slices.Sort(got)
		for i, tn := range got {
			if want := fmt.Sprintf("GRAMA-2027-%06d", i+3); tn != want {
				t.Fatalf("concurrent numbers %v: want GRAMA-2027-000003 … -%06d, unique and gapless", got, n+2)
			}
		}
	})
}

func TestDueDates(t *testing.T) {
	tests := []struct {
		name                  string
		now                   time.Time
		received, due, expDue string
	}{
		// 03:00 UTC on Pioneer Day is 21:00 the evening before in Denver:
		// day 0 is Thursday the 23rd; Friday the 24th is Pioneer Day.
		{"city's day, not UTC's; Pioneer Day skipped", time.Date(2026, 7, 24, 3, 0, 0, 0, time.UTC), "2026-07-23", "2026-08-07", "2026-07-31"},
		{"day of receipt is day 0", at(2026, 7, 22, 12, 0), "2026-07-22", "2026-08-06", "2026-07-30"},
		{"received on the holiday itself", at(2026, 7, 24, 10, 0), "2026-07-24", "2026-08-07", "2026-07-31"},
		{"received on a Saturday", at(2026, 8, 1, 12, 0), "2026-08-01", "2026-08-14", "2026-08-07"},
		{"Thanksgiving", at(2026, 11, 20, 10, 0), "2026-11-20", "2026-12-07", "2026-11-30"},
		{"Christmas to New Year", at(2026, 12, 18, 10, 0), "2026-12-18", "2027-01-05", "2026-12-28"},
		// 2027-06-19 is a Saturday: Juneteenth is observed Monday the 21st;
		// July 4 is a Sunday: observed Monday the 5th.
		{"Juneteenth on a weekend, then Independence Day", at(2027, 6, 18, 10, 0), "2027-06-18", "2027-07-06", "2027-06-28"},
		// 2026-06-19 is a Friday: observed the Monday before, the 15th.
		{"Juneteenth on a Friday", at(2026, 6, 12, 10, 0), "2026-06-12", "2026-06-29", "2026-06-22"},
	}
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Set(tt.now)
				std := e.file(t, validFiling())
				f := validFiling()
				f.Expedited, f.ExpeditedReason = true, "the parade route affects everyone"
				exp := e.file(t, f)
				for _, r := range []*storage.Request{e.request(t, std.ID), e.request(t, exp.ID)} {
					if r.ReceivedDate != tt.received {
						t.Errorf("%s received %s, want %s", r.TrackingNumber, r.ReceivedDate, tt.received)
					}
					if !r.ReceivedAt.Equal(tt.now) {
						t.Errorf("received_at %v, want %v", r.ReceivedAt, tt.now)
					}
					if r.CalendarVersion != "utah-2026.1" {
						t.Errorf("calendar_version %q, want utah-2026.1", r.CalendarVersion)
					}
					if r.Status != records.StatusReceived {
						t.Errorf("status %s", r.Status)
					}
				}
				if got := e.request(t, std.ID); got.DueDate != tt.due || got.ExpediteNoticeDue != "" {
					t.Errorf("standard: due %s (expedite notice %q), want %s", got.DueDate, got.ExpediteNoticeDue, tt.due)
				}
				// The refusal notice is owed within 5 business days too.
				if got := e.request(t, exp.ID); got.DueDate != tt.expDue || got.ExpediteNoticeDue != tt.expDue {
					t.Errorf("expedited: due %s, notice due %s; want both %s", got.DueDate, got.ExpediteNoticeDue, tt.expDue)
				}
				// The deadline calculator agrees with the filed request.
				recv, _ := time.Parse("2006-01-02", tt.received)
				due, days, version, err := e.office.DueDate(e.ctx, recv, false)
				if err != nil || due.Format("2006-01-02") != tt.due || days != 10 || version != "utah-2026.1" {
					t.Errorf("DueDate(%s) = %v, %d, %s, %v", tt.received, due, days, version, err)
				}
				rec := e.record(t, std.ID)
				if len(rec.Events) == 0 || rec.Events[0].Kind != "filed" || rec.Events[0].ToStatus != records.StatusReceived ||
					!strings.Contains(rec.Events[0].Detail, tt.due) || !strings.Contains(rec.Events[0].Detail, "utah-2026.1") ||
					rec.Events[0].Citation != "Utah Code 63G-2-204(1)" || rec.Events[0].Actor != "public" {
					t.Errorf("first event %+v", rec.Events)
				}
			})
		}
	})
}

func TestFilingValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(f *records.Filing)
		fields []string
	}{
		{"everything missing", func(f *records.Filing) { *f = records.Filing{} }, []string{"name", "mailing_address", "phone", "description"}},
		{"blank name", func(f *records.Filing) { f.Name = "   " }, []string{"name"}},
		{"no mailing address", func(f *records.Filing) { f.MailingAddress = "" }, []string{"mailing_address"}},
		{"no phone", func(f *records.Filing) { f.Phone = "" }, []string{"phone"}},
		{"no description", func(f *records.Filing) { f.Description = "\n\t " }, []string{"description"}},
		{"phone too few digits", func(f *records.Filing) { f.Phone = "555-01" }, []string{"phone"}},
		{"phone too many digits", func(f *records.Filing) { f.Phone = "1234567890123456" }, []string{"phone"}},
		{"phone with letters", func(f *records.Filing) { f.Phone = "801-CALL-NOW" }, []string{"phone"}},
		{"two e-mails", func(f *records.Filing) { f.Email = "ana@example.com, bo@example.com" }, []string{"email"}},
		{"e-mail with a display name", func(f *records.Filing) { f.Email = "Ana <ana@example.com>" }, []string{"email"}},
		{"not an e-mail", func(f *records.Filing) { f.Email = "ana at example" }, []string{"email"}},
		{"e-mail without consent", func(f *records.Filing) { f.EmailConsent = false }, []string{"email_consent"}},
		{"date not ISO", func(f *records.Filing) { f.DateFrom = "07/01/2026" }, []string{"date_from"}},
		{"impossible date", func(f *records.Filing) { f.DateTo = "2026-02-30" }, []string{"date_to"}},
		{"date_to before date_from", func(f *records.Filing) { f.DateFrom, f.DateTo = "2026-08-01", "2026-07-01" }, []string{"date_to"}},
		{"unknown platform", func(f *records.Filing) { f.Platforms = []string{"mastodon", "myspace"} }, []string{"platforms"}},
		{"unknown delivery format", func(f *records.Filing) { f.DeliveryFormat = "carrier pigeon" }, []string{"delivery_format"}},
		{"expedited without reason", func(f *records.Filing) { f.Expedited = true }, []string{"expedited_reason"}},
		{"fee waiver without basis", func(f *records.Filing) { f.FeeWaiver = true }, []string{"fee_waiver_basis"}},
		{"description too long", func(f *records.Filing) { f.Description = strings.Repeat("é", 10001) }, []string{"description"}},
		{"name too long", func(f *records.Filing) { f.Name = strings.Repeat("a", 256) }, []string{"name"}},
		{"control character in name", func(f *records.Filing) { f.Name = "Ana\aPérez" }, []string{"name"}},
		{"NUL in description", func(f *records.Filing) { f.Description = "parade\x00post" }, []string{"description"}},
		{"escape in address", func(f *records.Filing) { f.MailingAddress = "1 Main St\x1b[2J" }, []string{"mailing_address"}},
		{"line break in name", func(f *records.Filing) { f.Name = "Ana\nPérez" }, []string{"name"}},
		{"line break in phone", func(f *records.Filing) { f.Phone = "801 555\n0100" }, []string{"phone"}},
		{"invalid UTF-8", func(f *records.Filing) { f.Description = "caf\xe9" }, []string{"description"}},
		{"several at once", func(f *records.Filing) { f.Name, f.Phone, f.DateFrom = "", "1", "soon" }, []string{"name", "phone", "date_from"}},
	}
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := validFiling()
				tt.edit(&f)
				before := e.countRequests(t)
				mails := len(e.smtp.Messages())
				r, err := e.office.File(e.ctx, f, "public")
				if r != nil {
					t.Errorf("File returned a request: %+v", r)
				}
				fieldErrors(t, err, tt.fields...)
				if after := e.countRequests(t); after != before {
					t.Errorf("requests %d → %d: a rejected filing stored something", before, after)
				}
				if n := len(e.smtp.Messages()); n != mails {
					t.Errorf("a rejected filing sent e-mail")
				}
			})
		}
		t.Run("what is allowed", func(t *testing.T) {
			for name, edit := range map[string]func(f *records.Filing){
				"no e-mail at all":             func(f *records.Filing) { f.Email, f.EmailConsent = "", false },
				"news media need no reason":    func(f *records.Filing) { f.Expedited, f.NewsMedia = true, true },
				"line breaks and tabs in text": func(f *records.Filing) { f.Description = "Posts:\n\t- parade\r\n\t- council" },
				"one date only":                func(f *records.Filing) { f.DateFrom, f.DateTo = "", "2026-07-31" },
				"international phone":          func(f *records.Filing) { f.Phone = "+44 20 7946 0958 ext. 12" },
				"every platform and a waiver": func(f *records.Filing) {
					f.Platforms = records.Platforms
					f.FeeWaiver, f.FeeWaiverBasis = true, "I am the subject"
				},
				"description at the limit":       func(f *records.Filing) { f.Description = strings.Repeat("é", 10000) },
				"paper delivery":                 func(f *records.Filing) { f.DeliveryFormat = "paper" },
				"same platform named many times": func(f *records.Filing) { f.Platforms = slices.Repeat([]string{"instagram"}, 100) },
			} {
				f := validFiling()
				edit(&f)
				if _, err := e.office.File(e.ctx, f, "public"); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	})
}

func TestFilingStoresWhatWasSent(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		f := records.Filing{
			Name: "  <script>alert('name')</script>  ", Email: "Ana.Perez+grama@Example.com", EmailConsent: true,
			Phone: "+1 (801) 555-0100", MailingAddress: "1 \"Main\" St & <b>Co</b>\nClinton, UT",
			Description: `"><img src=x onerror=alert(1)> {{.Secret}} ' OR 1=1 --`, Accounts: "@clintoncity@mastodon.example",
			Platforms: []string{"facebook", "x", "facebook"}, DeliveryFormat: "inspection",
			Expedited: true, ExpeditedReason: "<i>news</i>", NewsMedia: true, FeeWaiver: true, FeeWaiverBasis: "public benefit",
		}
		r := e.file(t, f)
		got := e.request(t, r.ID)
		checks := map[string][2]string{
			"name":             {got.Name, "<script>alert('name')</script>"},
			"email":            {got.Email, "Ana.Perez+grama@Example.com"},
			"phone":            {got.Phone, "+1 (801) 555-0100"},
			"mailing_address":  {got.MailingAddress, f.MailingAddress},
			"description":      {got.Description, f.Description},
			"accounts":         {got.Accounts, f.Accounts},
			"platforms":        {got.Platforms, "facebook,x"},
			"delivery_format":  {got.DeliveryFormat, "inspection"},
			"expedited_reason": {got.ExpeditedReason, "<i>news</i>"},
			"fee_waiver_basis": {got.FeeWaiverBasis, "public benefit"},
		}
		for field, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s stored as %q, want %q (verbatim; escaping is the pages' job)", field, c[0], c[1])
			}
		}
		if !got.Expedited || !got.NewsMedia || !got.FeeWaiver {
			t.Errorf("flags lost: %+v", got)
		}
		// The public log's line names no personal details.
		if strings.Contains(got.Summary, "script") || strings.Contains(got.Summary, "Ana") || got.Summary == "" {
			t.Errorf("summary %q", got.Summary)
		}
	})
}

func TestReceiptEmail(t *testing.T) {
	onEveryBackend(t, time.Date(2026, 7, 24, 3, 0, 0, 0, time.UTC), func(t *testing.T, e *env) {
		t.Run("sent with tracking number and due date", func(t *testing.T) {
			r := e.file(t, validFiling())
			m := e.lastMessageTo(t, "ana@example.com")
			if !strings.Contains(m.Subject, r.TrackingNumber) {
				t.Errorf("subject %q", m.Subject)
			}
			for _, want := range []string{"Tracking number: " + r.TrackingNumber, "Response due by: 2026-08-07",
				"10 business days", "https://records.clinton.example/requests/status?tracking_number=" + r.TrackingNumber} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("receipt text lacks %q:\n%s", want, m.Text)
				}
			}
			if m.Header.Get("X-Civicarchive-Request") != r.TrackingNumber {
				t.Errorf("header X-Civicarchive-Request = %q", m.Header.Get("X-Civicarchive-Request"))
			}
			ev := eventsOf(e.record(t, r.ID), "email")
			if len(ev) != 1 || !strings.HasPrefix(ev[0].Detail, "e-mailed:") {
				t.Errorf("email events %+v", ev)
			}
		})
		t.Run("expedited receipt says when a refusal would come", func(t *testing.T) {
			f := validFiling()
			f.Email, f.Expedited, f.ExpeditedReason = "bo@example.com", true, "public safety"
			e.file(t, f)
			m := e.lastMessageTo(t, "bo@example.com")
			if !strings.Contains(flat(m.Text), "Response due by: 2026-07-31") || !strings.Contains(flat(m.Text), "tell you by 2026-07-31") {
				t.Errorf("expedited receipt:\n%s", m.Text)
			}
		})
		t.Run("none without an e-mail", func(t *testing.T) {
			before := len(e.smtp.Messages())
			f := validFiling()
			f.Email, f.EmailConsent = "", false
			r := e.file(t, f)
			if n := len(e.smtp.Messages()); n != before {
				t.Errorf("%d e-mails sent to a requester without e-mail", n-before)
			}
			if ev := eventsOf(e.record(t, r.ID), "email"); len(ev) != 0 {
				t.Errorf("email events %+v", ev)
			}
		})
		t.Run("SMTP down: filed anyway, history says not sent", func(t *testing.T) {
			e.smtp.Close()
			before := e.countRequests(t)
			r, err := e.office.File(e.ctx, validFiling(), "public")
			if err != nil {
				t.Fatalf("File with the mail server down: %v", err)
			}
			if e.countRequests(t) != before+1 {
				t.Fatal("request not stored")
			}
			ev := eventsOf(e.record(t, r.ID), "email")
			if len(ev) != 1 || !strings.Contains(ev[0].Detail, "NOT sent") || !strings.Contains(ev[0].Detail, r.TrackingNumber) {
				t.Errorf("email events %+v, want one saying NOT sent", ev)
			}
		})
	})
}

func TestLookup(t *testing.T) {
	onEveryBackend(t, at(2026, 7, 22, 12, 0), func(t *testing.T, e *env) {
		withEmail := e.file(t, validFiling())
		f := validFiling()
		f.Email, f.EmailConsent, f.Phone = "", false, "801.555.0199"
		phoneOnly := e.file(t, f)
		tests := []struct {
			name                   string
			tracking, email, phone string
			want                   *storage.Request
		}{
			{"tracking and e-mail", withEmail.TrackingNumber, "ana@example.com", "", withEmail},
			{"case and spaces do not matter", " " + strings.ToLower(withEmail.TrackingNumber) + " ", " ANA@Example.COM ", "", withEmail},
			{"wrong e-mail", withEmail.TrackingNumber, "bo@example.com", "", nil},
			{"no e-mail", withEmail.TrackingNumber, "", "", nil},
			{"phone when an e-mail is on file", withEmail.TrackingNumber, "", "(801) 555-0100", nil},
			{"wrong tracking number", "GRAMA-2026-000099", "ana@example.com", "", nil},
			{"another request's number", phoneOnly.TrackingNumber, "ana@example.com", "", nil},
			{"empty tracking number", "", "ana@example.com", "", nil},
			{"phone, other punctuation", phoneOnly.TrackingNumber, "", "(801) 555 0199", phoneOnly},
			{"wrong phone", phoneOnly.TrackingNumber, "", "801-555-0100", nil},
			{"no phone", phoneOnly.TrackingNumber, "", "", nil},
			{"e-mail for a phone-only requester", phoneOnly.TrackingNumber, "ana@example.com", "", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := e.office.Lookup(e.ctx, tt.tracking, tt.email, tt.phone)
				if tt.want == nil {
					if !errors.Is(err, records.ErrNotFound) || r != nil {
						t.Errorf("Lookup = %v, %v; want ErrNotFound", r, err)
					}
					return
				}
				if err != nil || r.ID != tt.want.ID {
					t.Errorf("Lookup = %v, %v; want request %d", r, err, tt.want.ID)
				}
			})
		}
	})
}

// FuzzValidate: Validate never panics, and what it accepts File stores
// exactly as validated.
func FuzzValidate(f *testing.F) {
	f.Add("Ana", "ana@example.com", "801 555 0100", "1 Main St", "posts", "2026-07-01", "2026-07-31", "mastodon", "", true, "", false, false, "", true)
	f.Add(" ", "a@b", "+1 (801) 555-0100 ext. 2", "x\ny", "<script>", "", "", "x", "paper", false, "", true, true, "subject", true)
	f.Add("\x00", "Ana <a@b.c>", "12", "\t", "é", "2026-02-30", "2026-01-01", "myspace", "pigeon", true, "", false, true, "", false)
	f.Add("a\u2028b", "A@B.CO", "0000000", "addr\r\n", "d", "2026-12-31", "2026-01-01", "feed", "inspection", true, "why", false, false, "", true)
	e := newEnv(f, mustOpen(f, storage.Options{DataDir: f.TempDir()}), at(2026, 7, 22, 12, 0))
	e.smtp.Close() // e-mail failures are recorded, not fatal; keep it quick
	f.Fuzz(func(t *testing.T, name, email, phone, addr, desc, from, to, platform, delivery string,
		expedited bool, reason string, news, waiver bool, basis string, consent bool) {
		in := records.Filing{Name: name, Email: email, EmailConsent: consent, Phone: phone, MailingAddress: addr,
			Description: desc, DateFrom: from, DateTo: to, Platforms: []string{platform}, DeliveryFormat: delivery,
			Expedited: expedited, ExpeditedReason: reason, NewsMedia: news, FeeWaiver: waiver, FeeWaiverBasis: basis}
		v := in
		v.Platforms = slices.Clone(in.Platforms)
		err := e.office.Validate(&v)
		if err != nil {
			var fe records.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("Validate error %v is not FieldErrors", err)
			}
			return
		}
		r, err := e.office.File(e.ctx, in, "fuzz")
		if err != nil {
			t.Fatalf("Validate accepted %+v but File failed: %v", in, err)
		}
		got := e.request(t, r.ID)
		want := storage.Request{Name: v.Name, Email: v.Email, Phone: v.Phone, MailingAddress: v.MailingAddress,
			Description: v.Description, DateFrom: v.DateFrom, DateTo: v.DateTo, Platforms: strings.Join(v.Platforms, ","),
			DeliveryFormat: v.DeliveryFormat, Expedited: v.Expedited, ExpeditedReason: v.ExpeditedReason,
			NewsMedia: v.NewsMedia, FeeWaiver: v.FeeWaiver, FeeWaiverBasis: v.FeeWaiverBasis}
		gotFields := storage.Request{Name: got.Name, Email: got.Email, Phone: got.Phone, MailingAddress: got.MailingAddress,
			Description: got.Description, DateFrom: got.DateFrom, DateTo: got.DateTo, Platforms: got.Platforms,
			DeliveryFormat: got.DeliveryFormat, Expedited: got.Expedited, ExpeditedReason: got.ExpeditedReason,
			NewsMedia: got.NewsMedia, FeeWaiver: got.FeeWaiver, FeeWaiverBasis: got.FeeWaiverBasis}
		if gotFields != want {
			t.Fatalf("stored %+v\nwant   %+v", gotFields, want)
		}
		if _, err := e.office.Lookup(e.ctx, r.TrackingNumber, v.Email, v.Phone); err != nil {
			t.Fatalf("the requester cannot look up %s: %v", r.TrackingNumber, err)
		}
	})
}
