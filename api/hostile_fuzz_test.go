package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// newFuzzHarness is newHarness for a fuzz target (a *testing.F is a
// testing.TB, not a *testing.T): forms are not rate limited (every input
// comes from one address) and bodies may be 1 MiB.
func newFuzzHarness(tb testing.TB) *harness {
	return newHarness(tb, func(d *Deps) { d.MaxBodyBytes, d.FormsPerHour = 1<<20, 1<<30 })
}

// filedStatuses are the answers a public filing may get: filed (201, or
// 303 to the confirmation page), refused (400 unreadable or honeypot, 403
// expired form, 413 too large, 422 naming fields) or rate limited (429).
var filedStatuses = []int{201, 303, 400, 403, 413, 422, 429}

// formCSRF loads the request form as a browser does and returns its CSRF
// cookie.
func formCSRF(t *testing.T, h *harness) *http.Cookie {
	t.Helper()
	page := httptest.NewRecorder()
	h.srv.ServeHTTP(page, httptest.NewRequest("GET", "/requests/new", nil))
	for _, c := range page.Result().Cookies() {
		if c.Name == csrfCookie {
			return c
		}
	}
	t.Fatal("the form page set no CSRF cookie")
	return nil
}

// FuzzRequestForm posts a random url-encoded body to POST /requests, the
// public records-request form, from a browser that loaded the form (its
// CSRF token first in the body when withCSRF).
//
// Properties: the status is one of filedStatuses, never a 500; a refusal
// stores nothing; a filing stores exactly one request, the one the
// redirect names, holding the form's name and description (trimmed).
func FuzzRequestForm(f *testing.F) {
	good := url.Values{"name": {"Ana"}, "phone": {"801 555 0100"}, "mailing_address": {"1 Main St"}, "description": {"the parade post"}}
	for _, s := range []string{
		good.Encode(), "", "name=A", "=", "&&&", "%", "%zz", "name=%ff%fe", "name=A%00B", "name=A%0AB&" + good.Encode(),
		good.Encode() + "&website=http://spam.example", good.Encode() + "&email=ana@example.com",
		good.Encode() + "&email=ana@example.com&email_consent=yes", good.Encode() + "&platforms=myspace",
		good.Encode() + "&platforms=x&platforms=x&platforms=facebook", good.Encode() + "&date_from=2026-08-01&date_to=2026-07-01",
		good.Encode() + "&date_from=07/01/2026", good.Encode() + "&expedited=yes", good.Encode() + "&expedited=yes&news_media=1",
		good.Encode() + "&fee_waiver=on", good.Encode() + "&delivery_format=carrier+pigeon", good.Encode() + "&csrf_token=forged",
		strings.Replace(good.Encode(), "Ana", "%27+OR+%271%27%3D%271", 1), strings.Replace(good.Encode(), "Ana", "%3Cscript%3E", 1),
		"name=" + strings.Repeat("a", 300) + "&phone=8015550100&mailing_address=x&description=d",
	} {
		f.Add(s, true)
	}
	f.Add(good.Encode(), false)
	h := newFuzzHarness(f)

	f.Fuzz(func(t *testing.T, body string, withCSRF bool) {
		csrf := formCSRF(t, h)
		if withCSRF {
			body = csrfField + "=" + url.QueryEscape(csrf.Value) + "&" + body
		}
		before := h.countRequests(t)
		req := httptest.NewRequest("POST", "/requests", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(csrf)
		req.RemoteAddr = "192.0.2.7:1"
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		after := h.countRequests(t)
		if !slices.Contains(filedStatuses, w.Code) {
			t.Fatalf("POST /requests %q: %d; want one of %v: %.500s", body, w.Code, filedStatuses, w.Body)
		}
		if w.Code != http.StatusSeeOther {
			if after != before {
				t.Fatalf("POST /requests %q: %d, yet %d requests were stored", body, w.Code, after-before)
			}
			return
		}
		if after != before+1 {
			t.Fatalf("POST /requests %q: filed, but %d requests were stored", body, after-before)
		}
		tracking, ok := strings.CutPrefix(w.Header().Get("Location"), "/requests/filed/")
		if !ok {
			t.Fatalf("POST /requests %q: redirected to %q", body, w.Header().Get("Location"))
		}
		r, err := h.cat.RequestByTracking(context.Background(), tracking)
		if err != nil {
			t.Fatalf("POST /requests %q: the confirmation names %q: %v", body, tracking, err)
		}
		vals, _ := url.ParseQuery(body)
		if r.Name != strings.TrimSpace(vals.Get("name")) || r.Description != strings.TrimSpace(vals.Get("description")) {
			t.Fatalf("POST /requests %q: stored name %q, description %q", body, r.Name, r.Description)
		}
	})
}

// FuzzRequestJSON posts a random body to POST /api/v1/requests.
//
// Properties: the status is one of filedStatuses, never a 500; a refusal
// stores nothing and says why in the error shape of the contract (422
// naming fields); a filing stores exactly one request, the one the answer
// names, holding the body's name and description (trimmed).
func FuzzRequestJSON(f *testing.F) {
	for _, s := range []string{
		validRequest, `{}`, `[]`, `null`, `"x"`, `{"name":"A","nickname":"x"}`, `name=A`, validRequest + validRequest, validRequest + ` `,
		`{"name":"A\u0007","phone":"8015550100","mailing_address":"x","description":"d"}`,
		`{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","date_from":"2026-08-01","date_to":"2026-07-01"}`,
		`{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","platforms":["myspace"]}`,
		`{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","platforms":null,"expedited":true,"news_media":true}`,
		`{"name":"' OR '1'='1","phone":"8015550100","mailing_address":"1; DROP TABLE requests;--","description":"\u0000"}`,
		`{"name":"A","phone":"8015550100","mailing_address":"x","description":"d","expedited":"yes"}`,
		`{"name":"\ud800","phone":"8015550100","mailing_address":"x","description":"d"}`,
		`{"name":1e999}`, `{"name":"A","name":"B"}`, `{"NAME":"A"}`,
	} {
		f.Add(s)
	}
	h := newFuzzHarness(f)

	f.Fuzz(func(t *testing.T, body string) {
		before := h.countRequests(t)
		w := h.send("POST", "/api/v1/requests", "", body, "192.0.2.8")
		after := h.countRequests(t)
		if !slices.Contains(filedStatuses, w.Code) || w.Code == http.StatusSeeOther {
			t.Fatalf("POST /api/v1/requests %q: %d: %.500s", body, w.Code, w.Body)
		}
		if w.Code != http.StatusCreated {
			if after != before {
				t.Fatalf("POST /api/v1/requests %q: %d, yet %d requests were stored", body, w.Code, after-before)
			}
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("POST /api/v1/requests %q: %d without the error shape: %.500s", body, w.Code, w.Body)
			}
			if w.Code == http.StatusUnprocessableEntity && len(e.Error.Fields) == 0 {
				t.Fatalf("POST /api/v1/requests %q: 422 naming no field: %s", body, w.Body)
			}
			return
		}
		if after != before+1 {
			t.Fatalf("POST /api/v1/requests %q: filed, but %d requests were stored", body, after-before)
		}
		got := decode[map[string]string](t, w)
		r, err := h.cat.RequestByTracking(context.Background(), got["tracking_number"])
		if err != nil {
			t.Fatalf("POST /api/v1/requests %q: the answer names %q: %v", body, got["tracking_number"], err)
		}
		var in struct{ Name, Description string }
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			t.Fatalf("POST /api/v1/requests %q: filed a body that is not JSON: %v", body, err)
		}
		if r.Name != strings.TrimSpace(in.Name) || r.Description != strings.TrimSpace(in.Description) {
			t.Fatalf("POST /api/v1/requests %q: stored name %q, description %q", body, r.Name, r.Description)
		}
	})
}
