package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/bagit"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/records/mail/mailtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// reqFixture is a server with the records office and two captured posts
// whose normalised JSON is really in the blob store (release bundles read
// it).
type reqFixture struct {
	*harness
	items map[string]uint64
}

func newReqFixture(t *testing.T, mod ...func(*Deps)) *reqFixture {
	t.Helper()
	h := newHarness(t, append([]func(*Deps){func(d *Deps) { d.MaxBodyBytes = 1 << 20 }}, mod...)...)
	f := &reqFixture{harness: h, items: map[string]uint64{}}
	ctx := context.Background()
	acct := &storage.Account{Platform: "mastodon", Handle: "clintoncity", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := h.cat.CreateAccount(ctx, acct, "test"); err != nil {
		t.Fatal(err)
	}
	run, err := h.cat.StartRun(ctx, acct.ID, storage.RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	for native, text := range map[string]string{"p1": "Main St closed Saturday for the parade", "p2": "Council meets Tuesday"} {
		norm, _, err := blob.PutBytes(ctx, h.srv.Blobs, []byte(`{"native_id":"`+native+`","text":"`+text+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 7, 20, 15, 0, 0, 0, time.UTC)
		res, err := h.cat.RecordItem(ctx, storage.ItemCapture{AccountID: acct.ID, RunID: run.ID, Platform: "mastodon", NativeID: native,
			Kind: "post", AuthorName: "City of Clinton", CreatedAt: &at, Actor: "system:test",
			Versions: []storage.VersionCapture{{SHA256: norm.SHA256, NormalizedKey: norm.Key, RawKey: norm.Key, Text: text}}})
		if err != nil {
			t.Fatal(err)
		}
		f.items[native] = res.ItemID
	}
	return f
}

// send makes a request with a JSON body as role ("" anonymous) from a
// given client address.
func (h *harness) send(method, path, role, body, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+h.tokens[role])
	}
	if remote != "" {
		req.RemoteAddr = remote + ":1234"
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("not JSON (%d): %s", w.Code, w.Body)
	}
	return v
}

const validRequest = `{"name":"Ana Pérez","email":"Ana@Example.com","phone":"(801) 555-0100","mailing_address":"1 Main St\nClinton, UT 84015","description":"Every comment on the parade post","date_from":"2026-07-01","date_to":"2026-07-31"}`

func (h *harness) countRequests(t *testing.T) int64 {
	t.Helper()
	_, n, err := h.cat.ListRequests(context.Background(), storage.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFileRequestAPI(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	w := f.send("POST", "/api/v1/requests", "", validRequest, "192.0.2.1")
	if w.Code != http.StatusCreated {
		t.Fatalf("file: %d %s", w.Code, w.Body)
	}
	got := decode[map[string]string](t, w)
	if !strings.HasPrefix(got["tracking_number"], "GRAMA-") || len(got["tracking_number"]) != len("GRAMA-2026-000001") {
		t.Errorf("tracking number %q", got["tracking_number"])
	}
	if got["status"] != "received" || got["calendar_version"] != "utah-2026.1" {
		t.Errorf("filed: %v", got)
	}
	rec, err := time.Parse(time.RFC3339, got["received_at"])
	if err != nil {
		t.Fatalf("received_at %q is not RFC 3339", got["received_at"])
	}
	// The due date is the calendar's answer for the city's day of receipt.
	loc, _ := time.LoadLocation("America/Denver")
	day := rec.In(loc).Format("2006-01-02")
	dd := decode[map[string]any](t, f.send("GET", "/api/v1/calendar/due-date?received="+day, "", "", ""))
	if got["due_date"] != dd["due_date"] {
		t.Errorf("due date %s; the calculator says %v for %s", got["due_date"], dd["due_date"], day)
	}
}

func TestFileRequestAPIBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	tests := []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"empty", `{}`, 422, []string{"description", "mailing_address", "name", "phone"}},
		{"bad email and phone", `{"name":"A","phone":"12","mailing_address":"x","description":"d","email":"not an address"}`, 422, []string{"email", "phone"}},
		{"dates reversed", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","date_from":"2026-08-01","date_to":"2026-07-01"}`, 422, []string{"date_to"}},
		{"bad date", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","date_from":"07/01/2026"}`, 422, []string{"date_from"}},
		{"expedited without reason", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","expedited":true}`, 422, []string{"expedited_reason"}},
		{"fee waiver without basis", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","fee_waiver":true}`, 422, []string{"fee_waiver_basis"}},
		{"unknown platform", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","platforms":["myspace"]}`, 422, []string{"platforms"}},
		{"control characters", `{"name":"A\u0007","phone":"8015550100","mailing_address":"x","description":"d"}`, 422, []string{"name"}},
		{"too long", `{"name":"A","phone":"8015550100","mailing_address":"x","description":"` + strings.Repeat("a", 10001) + `"}`, 422, []string{"description"}},
		{"unknown field", `{"name":"A","nickname":"x"}`, 400, nil},
		{"not JSON", `name=A`, 400, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.send("POST", "/api/v1/requests", "", tt.body, fmt.Sprintf("192.0.2.%d", 10+i))
			if w.Code != tt.status {
				t.Fatalf("%d %s; want %d", w.Code, w.Body, tt.status)
			}
			if tt.fields != nil {
				e := decode[errorBody](t, w)
				if strings.Join(e.Error.Fields, ",") != strings.Join(tt.fields, ",") {
					t.Errorf("fields %v; want %v (%s)", e.Error.Fields, tt.fields, e.Error.Message)
				}
			}
		})
	}
	if n := f.countRequests(t); n != 0 {
		t.Fatalf("%d requests stored from bad input", n)
	}
}

func TestFileRequestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t, func(d *Deps) { d.FormsPerHour = 3 })
	for i := 0; i < 3; i++ {
		if w := f.send("POST", "/api/v1/requests", "", validRequest, "198.51.100.7"); w.Code != 201 {
			t.Fatalf("filing %d: %d", i, w.Code)
		}
	}
	w := f.send("POST", "/api/v1/requests", "", validRequest, "198.51.100.7")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("4th filing from one address: %d; want 429", w.Code)
	}
	if w := f.send("POST", "/api/v1/requests", "", validRequest, "198.51.100.8"); w.Code != 201 {
		t.Fatalf("another address is limited too: %d", w.Code)
	}
	if n := f.countRequests(t); n != 4 {
		t.Fatalf("%d requests; want 4", n)
	}
}

// Hand-checked against the calendar: day of receipt is day 0; weekends and
// Utah's legal holidays are skipped.
func TestDueDateAPI(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	tests := []struct {
		received  string
		expedited bool
		due       string
	}{
		{"2026-07-20", false, "2026-08-04"}, // Mon; Pioneer Day Fri 7/24 skipped
		{"2026-07-20", true, "2026-07-28"},  // 21,22,23,27,28
		{"2026-11-24", false, "2026-12-09"}, // Tue; Thanksgiving 11/26 skipped
		{"2026-12-18", false, "2027-01-05"}, // Fri; Christmas 12/25 and New Year's Day 1/1 (both Fridays) skipped
		{"2026-12-19", false, "2027-01-05"}, // Sat: Monday is day 1
		{"2027-06-14", false, "2027-06-29"}, // Juneteenth Sat 6/19 observed Mon 6/21
		{"2026-04-01", false, "2026-04-16"}, // Good Friday 4/3 (2026 law)
		{"2026-12-25", false, "2027-01-11"}, // received on a holiday
	}
	for _, tt := range tests {
		w := f.send("GET", fmt.Sprintf("/api/v1/calendar/due-date?received=%s&expedited=%v", tt.received, tt.expedited), "", "", "")
		got := decode[map[string]any](t, w)
		if got["due_date"] != tt.due || got["calendar_version"] != "utah-2026.1" {
			t.Errorf("received %s expedited=%v: %v; want %s", tt.received, tt.expedited, got, tt.due)
		}
	}
	for _, bad := range []string{"", "received=2026-13-01", "received=2026-07-20&expedited=maybe"} {
		if w := f.send("GET", "/api/v1/calendar/due-date?"+bad, "", "", ""); w.Code != 422 {
			t.Errorf("%q: %d; want 422", bad, w.Code)
		}
	}
}

func TestRequestStatusShowsPublicMessagesOnly(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	filed := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))
	tn := filed["tracking_number"]
	for _, n := range []struct {
		body   string
		public bool
	}{{"internal: ask the police chief first", false}, {"We are gathering the records.", true}} {
		body, _ := json.Marshal(map[string]any{"body": n.body, "public": n.public})
		if w := f.send("POST", "/api/v1/requests/"+tn+"/note", "clerk", string(body), ""); w.Code != 200 {
			t.Fatalf("note: %d %s", w.Code, w.Body)
		}
	}
	w := f.send("GET", "/api/v1/requests/"+tn+"/status?email=ana@example.COM", "", "", "")
	if w.Code != 200 {
		t.Fatalf("status: %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	mustContain(t, body, "We are gathering the records.", `"status":"received"`, `"due_date":"`+filed["due_date"])
	for _, secret := range []string{"police chief", "Ana Pérez", "555-0100", "Main St", "clerk"} {
		if strings.Contains(body, secret) {
			t.Errorf("status shows %q: %s", secret, body)
		}
	}
	for _, q := range []string{"email=someone@example.com", "", "phone=8015550100", "email="} {
		if w := f.send("GET", "/api/v1/requests/"+tn+"/status?"+q, "", "", ""); w.Code != 404 {
			t.Errorf("lookup with %q: %d; want 404", q, w.Code)
		}
	}
	if w := f.send("GET", "/api/v1/requests/GRAMA-2026-999999/status?email=ana@example.com", "", "", ""); w.Code != 404 {
		t.Errorf("unknown tracking number: %d", w.Code)
	}
	// A requester who gave no e-mail looks up with the phone.
	noEmail := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", `{"name":"B","phone":"801-555-0199","mailing_address":"x","description":"d"}`, ""))
	if w := f.send("GET", "/api/v1/requests/"+noEmail["tracking_number"]+"/status?phone=(801)%20555%200199", "", "", ""); w.Code != 200 {
		t.Errorf("phone lookup: %d %s", w.Code, w.Body)
	}
}

func TestPublicLogHasNoContactData(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	filed := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))
	for _, path := range []string{"/requests/log", "/api/v1/request-log"} {
		w := f.do("GET", path, "", nil, strings.HasPrefix(path, "/requests"))
		if w.Code != 200 {
			t.Fatalf("%s: %d", path, w.Code)
		}
		mustContain(t, w.Body.String(), filed["tracking_number"])
		for _, secret := range []string{"Ana", "example.com", "555", "Main St", "parade"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("%s shows %q", path, secret)
			}
		}
	}
}

// form posts the public request form from an anonymous browser that first
// loaded it (so it has the CSRF cookie).
func (h *harness) form(t *testing.T, path string, vals url.Values, remote string) *httptest.ResponseRecorder {
	t.Helper()
	page := httptest.NewRecorder()
	h.srv.ServeHTTP(page, httptest.NewRequest("GET", "/requests/new", nil))
	var csrf *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == csrfCookie {
			csrf = c
		}
	}
	if csrf == nil {
		t.Fatal("the form page set no CSRF cookie")
	}
	if vals.Get(csrfField) == "" {
		vals.Set(csrfField, csrf.Value)
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	if remote != "" {
		req.RemoteAddr = remote + ":1"
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	return w
}

func TestRequestFormReRendersWithMessagesAndKeepsInput(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	w := f.form(t, "/requests", url.Values{"name": {`<script>alert("x")</script>`}, "email": {"ana@example.com"},
		"description": {"the parade post"}, "platforms": {"facebook", "x"}}, "")
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("form with missing fields: %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, body, `role="alert"`, `href="#phone"`, `href="#mailing_address"`, `href="#email_consent"`,
		`id="phone-error"`, `aria-describedby="phone-error"`, `aria-invalid="true"`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `the parade post</textarea>`, `value="facebook" checked`, `value="x" checked`)
	if strings.Contains(body, `<script>alert("x")`) {
		t.Error("the typed script is live in the page")
	}
	if n := f.countRequests(t); n != 0 {
		t.Fatalf("%d requests stored", n)
	}
}

func TestRequestFormFilesAndConfirms(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	w := f.form(t, "/requests", url.Values{"name": {"Ana"}, "email": {"ana@example.com"}, "email_consent": {"yes"},
		"phone": {"801 555 0100"}, "mailing_address": {"1 Main St"}, "description": {"the parade post"},
		"delivery_format": {"electronic"}, "expedited": {"yes"}, "news_media": {"yes"}}, "")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/requests/filed/GRAMA-") {
		t.Fatalf("file: %d Location %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	page := f.do("GET", w.Header().Get("Location"), "", nil, true)
	r, err := f.cat.RequestByTracking(context.Background(), strings.TrimPrefix(w.Header().Get("Location"), "/requests/filed/"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, page.Body.String(), r.TrackingNumber, `id="due-date">`+r.DueDate, r.CalendarVersion)
	if !r.Expedited || !r.NewsMedia || r.Email != "ana@example.com" {
		t.Errorf("stored: %+v", r)
	}
}

func TestRequestFormRefusals(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	good := func() url.Values {
		return url.Values{"name": {"Ana"}, "phone": {"801 555 0100"}, "mailing_address": {"1 Main St"}, "description": {"d"}}
	}
	honey := good()
	honey.Set(honeypotField, "http://spam.example")
	if w := f.form(t, "/requests", honey, ""); w.Code != http.StatusBadRequest {
		t.Errorf("honeypot filled: %d", w.Code)
	}
	forged := good()
	forged.Set(csrfField, "forged")
	if w := f.form(t, "/requests", forged, ""); w.Code != http.StatusForbidden {
		t.Errorf("bad CSRF token: %d", w.Code)
	}
	huge := good()
	huge.Set("description", strings.Repeat("x", maxFormBytes))
	w := f.form(t, "/requests", huge, "")
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "shorten the description") {
		t.Errorf("oversized: %d %s", w.Code, w.Body)
	}
	long := good()
	long.Set("description", strings.Repeat("x", 10001))
	if w := f.form(t, "/requests", long, ""); w.Code != 422 || !strings.Contains(w.Body.String(), "too long") {
		t.Errorf("over-long description: %d", w.Code)
	}
	if n := f.countRequests(t); n != 0 {
		t.Fatalf("%d requests stored by refused posts", n)
	}
}

func TestClerkAttachesAndApproves(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	host, port := smtp.Addr()
	f := newReqFixture(t, func(d *Deps) {
		d.Records = newTestOffice(t, d.Catalog, d.Blobs, mustSMTP(t, host, port))
	})
	ctx := context.Background()
	if _, err := f.srv.Search.CatchUp(ctx, f.cat); err != nil {
		t.Fatal(err)
	}
	tn := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))["tracking_number"]
	smtp.WaitFor(t, 1, 10*time.Second) // the receipt

	w := f.send("POST", "/api/v1/requests/"+tn+"/attach", "clerk", `{"search":"q=parade"}`, "")
	if w.Code != 200 {
		t.Fatalf("attach: %d %s", w.Code, w.Body)
	}
	got := decode[requestOut](t, w)
	if len(got.Attachments) != 1 || got.Attachments[0].ItemID != f.items["p1"] || got.Attachments[0].Query != "q=parade" {
		t.Fatalf("attachments: %+v", got.Attachments)
	}
	if w := f.send("POST", "/api/v1/requests/"+tn+"/respond", "legal", `{"kind":"approve"}`, ""); w.Code != 403 {
		t.Fatalf("legal may not answer requests: %d", w.Code)
	}
	w = f.send("POST", "/api/v1/requests/"+tn+"/respond", "clerk", `{"kind":"approve","explanation":"Here they are."}`, "")
	if w.Code != 200 {
		t.Fatalf("respond: %d %s", w.Code, w.Body)
	}
	got = decode[requestOut](t, w)
	if got.Status != records.StatusFulfilled || len(got.Letters) != 1 || got.ReleaseSHA256 == "" {
		t.Fatalf("after approve: %+v", got)
	}
	mails := smtp.WaitFor(t, 2, 10*time.Second)
	if !strings.Contains(mails[1].Text, "Records Request Approved") || !strings.Contains(mails[1].Text, tn) {
		t.Errorf("response e-mail: %q", mails[1].Text)
	}
	// The bundle: a ZIP with the BagIt files and the attached version.
	zw := f.send("GET", "/api/v1/requests/"+tn+"/files/release", "clerk", "", "")
	zr, err := zip.NewReader(bytes.NewReader(zw.Body.Bytes()), int64(zw.Body.Len()))
	if err != nil {
		t.Fatalf("release is not a ZIP (%d): %v", zw.Code, err)
	}
	if _, err := bagit.Verify(bytes.NewReader(zw.Body.Bytes()), int64(zw.Body.Len())); err != nil {
		t.Errorf("the release bundle does not verify: %v", err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[strings.TrimPrefix(f.Name, tn+"/")] = true
	}
	for _, want := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "data/items.csv", fmt.Sprintf("data/items/%d/v1.json", f.items["p1"])} {
		if !names[want] {
			t.Errorf("bundle lacks %s (has %v)", want, names)
		}
	}
	if names[fmt.Sprintf("data/items/%d/v1.json", f.items["p2"])] {
		t.Error("the bundle holds a record that was not attached")
	}
	pdf := f.send("GET", fmt.Sprintf("/api/v1/requests/%s/files/letter-%d", tn, got.Letters[0].ID), "clerk", "", "")
	if pdf.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body.Bytes(), []byte("%PDF-")) {
		t.Errorf("letter PDF: %d %q", pdf.Code, pdf.Header().Get("Content-Type"))
	}
	evs, _ := f.cat.CustodyEvents(ctx, "request", fmt.Sprint(got.ID))
	if len(evs) != 1 || evs[0].Kind != "request_response" || !strings.Contains(evs[0].Details, got.ReleaseSHA256) {
		t.Errorf("custody events of the response: %+v", evs)
	}
	// The requester sees the letter and the release on the status API.
	st := decode[publicStatus](t, f.send("GET", "/api/v1/requests/"+tn+"/status?email=ana@example.com", "", "", ""))
	if st.Status != records.StatusFulfilled || len(st.Letters) != 1 || st.Release == nil || st.Release.SHA256 != got.ReleaseSHA256 {
		t.Errorf("public status: %+v", st)
	}
}

// mustSMTP is the real SMTP sender pointed at a test server.
func mustSMTP(t *testing.T, host string, port int) mail.Sender {
	t.Helper()
	s, err := mail.NewSMTP(mail.Config{Host: host, Port: port, From: "records@clinton.example", TLS: mail.TLSNone, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClerkDeniesWithCompleteNotice(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	tn := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))["tracking_number"]
	body := fmt.Sprintf(`{"item_ids":[%d]}`, f.items["p2"])
	if w := f.send("POST", "/api/v1/requests/"+tn+"/attach", "clerk", body, ""); w.Code != 200 {
		t.Fatalf("attach: %d %s", w.Code, w.Body)
	}
	w := f.send("POST", "/api/v1/requests/"+tn+"/respond", "clerk", `{"kind":"deny"}`, "")
	if w.Code != 422 {
		t.Fatalf("deny without citations: %d %s", w.Code, w.Body)
	}
	mustContain(t, w.Body.String(), "citations", "withheld_description")
	w = f.send("POST", "/api/v1/requests/"+tn+"/respond", "clerk",
		`{"kind":"deny","withheld_description":"A post naming a juvenile","citations":["Utah Code 63G-2-302(2)(d)"]}`, "")
	if w.Code != 200 {
		t.Fatalf("deny: %d %s", w.Code, w.Body)
	}
	got := decode[requestOut](t, w)
	if got.Status != records.StatusDenied || got.AppealDeadline == "" || len(got.Holds) != 1 || got.Holds[0].ReleasedAt != nil {
		t.Fatalf("after deny: status %s appeal %q holds %+v", got.Status, got.AppealDeadline, got.Holds)
	}
	if !strings.Contains(got.Holds[0].ScopeItems, fmt.Sprint(f.items["p2"])) {
		t.Errorf("hold scope %s lacks the withheld item", got.Holds[0].ScopeItems)
	}
	st := decode[publicStatus](t, f.send("GET", "/api/v1/requests/"+tn+"/status?email=ana@example.com", "", "", ""))
	text := strings.Join(strings.Fields(st.Letters[0].Text), " ")
	for _, want := range []string{"A post naming a juvenile", "63G-2-302(2)(d)", "Pat Officer", "2267 North 1500 West",
		"30 calendar days", got.AppealDeadline, "mediate", "63G-2-401"} {
		if !strings.Contains(text, want) {
			t.Errorf("denial letter lacks %q:\n%s", want, text)
		}
	}
	if st.Release != nil {
		t.Error("a denial released records")
	}
	// Answered requests cannot be answered again or get more records.
	if w := f.send("POST", "/api/v1/requests/"+tn+"/respond", "clerk", `{"kind":"approve"}`, ""); w.Code != 409 {
		t.Errorf("second response: %d", w.Code)
	}
	if w := f.send("POST", "/api/v1/requests/"+tn+"/attach", "clerk", body, ""); w.Code != 409 {
		t.Errorf("attach after the response: %d", w.Code)
	}
}

func TestQueueSortedByDueDate(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	std := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))
	exp := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", `{"name":"Reporter","phone":"8015550101","mailing_address":"x","description":"d","expedited":true,"news_media":true}`, ""))
	q := decode[struct {
		Requests []requestOut `json:"requests"`
		Total    int          `json:"total"`
	}](t, f.send("GET", "/api/v1/requests", "clerk", "", ""))
	if q.Total != 2 || q.Requests[0].TrackingNumber != exp["tracking_number"] || q.Requests[1].TrackingNumber != std["tracking_number"] {
		t.Fatalf("queue order: %+v", q.Requests)
	}
	page := f.do("GET", "/clerk/requests", "clerk", nil, true)
	body := page.Body.String()
	if page.Code != 200 || strings.Index(body, exp["tracking_number"]) > strings.Index(body, std["tracking_number"]) {
		t.Fatalf("queue page: %d", page.Code)
	}
	if w := f.do("GET", "/clerk/requests/"+std["tracking_number"], "clerk", nil, true); w.Code != 200 {
		t.Fatalf("request page: %d", w.Code)
	}
}

func TestInstallCalendarRedatesPendingRequests(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	filed := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))
	r, _ := f.cat.RequestByTracking(context.Background(), filed["tracking_number"])
	// A one-off closure on the first business day after receipt pushes the
	// due date one business day later.
	due, _ := time.Parse("2006-01-02", r.DueDate)
	closure := due.AddDate(0, 0, -1)
	for closure.Weekday() == time.Saturday || closure.Weekday() == time.Sunday {
		closure = closure.AddDate(0, 0, -1)
	}
	cal := strings.Replace(string(configs.UtahCalendar), "version: utah-2026.1", "version: utah-2026.2", 1)
	cal = strings.Replace(cal, "closures: []", "closures:\n  - date: "+closure.Format("2006-01-02")+"\n    name: Governor's proclamation", 1)
	if !strings.Contains(cal, "utah-2026.2") || !strings.Contains(cal, "Governor's proclamation") {
		t.Fatalf("could not edit the calendar file:\n%s", cal)
	}
	body, _ := json.Marshal(map[string]string{"calendar": cal, "reason": "Governor closed offices"})
	if w := f.send("PUT", "/api/v1/calendar", "clerk", string(body), ""); w.Code != 403 {
		t.Fatalf("clerk installing a calendar: %d", w.Code)
	}
	w := f.send("PUT", "/api/v1/calendar", "admin", string(body), "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"redated":1`) {
		t.Fatalf("install: %d %s", w.Code, w.Body)
	}
	after, _ := f.cat.RequestByTracking(context.Background(), filed["tracking_number"])
	if after.DueDate == r.DueDate || after.CalendarVersion != "utah-2026.2" {
		t.Fatalf("not re-dated: %s (%s) → %s (%s)", r.DueDate, r.CalendarVersion, after.DueDate, after.CalendarVersion)
	}
	file, _ := f.cat.RequestFile(context.Background(), after.ID)
	last := file.Events[len(file.Events)-1]
	if last.Kind != "redate" || !strings.Contains(last.Detail, "Governor closed offices") || !strings.Contains(last.Detail, "utah-2026.2") {
		t.Errorf("re-date event: %+v", last)
	}
	if w := f.send("PUT", "/api/v1/calendar", "admin", string(body), ""); w.Code != 422 {
		t.Errorf("same version again: %d %s", w.Code, w.Body)
	}
	if w := f.send("PUT", "/api/v1/calendar", "admin", `{"calendar":"version: [","reason":"x"}`, ""); w.Code != 422 {
		t.Errorf("broken YAML: %d %s", w.Code, w.Body)
	}
	dd := decode[map[string]any](t, f.send("GET", "/api/v1/calendar/due-date?received="+r.ReceivedDate, "", "", ""))
	if dd["due_date"] != after.DueDate || dd["calendar_version"] != "utah-2026.2" {
		t.Errorf("calculator after the change: %v; want %s", dd, after.DueDate)
	}
}

func TestMetricsCountOverdueRequests(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	// A request received in January by an office whose clock said so is
	// long overdue now.
	past := newTestOffice(t, f.cat, f.srv.Blobs, nil, func(c *records.Config) {
		c.Now = func() time.Time { return time.Date(2026, 1, 5, 17, 0, 0, 0, time.UTC) }
	})
	if _, err := past.File(context.Background(), records.Filing{Name: "A", Phone: "8015550100", MailingAddress: "x", Description: "d"}, "test"); err != nil {
		t.Fatal(err)
	}
	f.send("POST", "/api/v1/requests", "", validRequest, "")
	w := f.do("GET", "/metrics", "", nil, false)
	mustContain(t, w.Body.String(), `civicarchive_records_requests{status="received"} 2`, "civicarchive_records_requests_overdue 1")
}

func TestStatusPageLookup(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	tn := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))["tracking_number"]
	w := f.do("GET", "/requests/status?tracking_number="+tn+"&email=ana@example.com", "", nil, true)
	if w.Code != 200 {
		t.Fatalf("lookup: %d", w.Code)
	}
	mustContain(t, w.Body.String(), `id="status">Received`, tn)
	w = f.form(t, "/requests/status", url.Values{"tracking_number": {tn}, "email": {"eve@example.com"}}, "")
	if w.Code != 404 || !strings.Contains(w.Body.String(), `id="not-found"`) || strings.Contains(w.Body.String(), `id="status"`) {
		t.Fatalf("wrong e-mail: %d", w.Code)
	}
	w = f.form(t, "/requests/status", url.Values{"tracking_number": {strings.ToLower(tn)}, "email": {" ANA@example.com "}}, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="status">Received`) {
		t.Fatalf("lookup ignoring case and spaces: %d", w.Code)
	}
}
