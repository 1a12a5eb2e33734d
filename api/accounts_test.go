package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// stubConnector stands in for a platform in tests that never capture.
type stubConnector struct{ name string }

func (s stubConnector) Platform() string       { return s.name }
func (s stubConnector) DefaultAPIBase() string { return "https://" + s.name + ".example" }
func (s stubConnector) Capture(context.Context, platforms.Account, platforms.Options, *platforms.Client, platforms.Sink) error {
	return nil
}

func (h *harness) postJSON(path, role, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.tokens[role])
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	return w
}

func TestCreateAccountValidation(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		body   string
		status int
		fields []string
	}{
		{"facebook needs page id and token", `{"platform":"facebook"}`, 422, []string{"credential", "native_id"}},
		{"mastodon needs acct and instance", `{"platform":"mastodon"}`, 422, []string{"api_base", "handle"}},
		{"unknown platform", `{"platform":"myspace","handle":"x"}`, 422, []string{"platform"}},
		{"api_base not http", `{"platform":"bluesky","handle":"a.bsky.social","api_base":"ftp://x"}`, 422, []string{"api_base"}},
		{"api_base with credentials", `{"platform":"bluesky","handle":"a.bsky.social","api_base":"https://u:p@h.example"}`, 422, []string{"api_base"}},
		{"bad schedule", `{"platform":"bluesky","handle":"a.bsky.social","schedule":"every tuesday"}`, 422, []string{"schedule"}},
		{"feed handle not a URL", `{"platform":"feed","handle":"news"}`, 201, nil},
		{"misspelt field", `{"platfrom":"x"}`, 400, nil},
		{"not JSON", `platform=x`, 400, nil},
		{"two objects", `{"platform":"bluesky","handle":"b"} {}`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.postJSON("/api/v1/accounts", "coordinator", tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d; want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.fields != nil {
				var eb errorBody
				json.Unmarshal(w.Body.Bytes(), &eb)
				if !reflect.DeepEqual(eb.Error.Fields, tt.fields) {
					t.Fatalf("fields %v; want %v (%s)", eb.Error.Fields, tt.fields, eb.Error.Message)
				}
				for _, f := range tt.fields {
					if !strings.Contains(eb.Error.Message, f) {
						t.Errorf("message %q does not name %s", eb.Error.Message, f)
					}
				}
			}
		})
	}
	if n, _ := h.cat.ListAccounts(context.Background()); len(n) != 1 {
		t.Fatalf("bad requests changed the catalog: %d accounts", len(n))
	}
}

func TestCreateAccountSealsCredential(t *testing.T) {
	h := newHarness(t)
	const secret = "EAAGm0PX4ZCpsBA-page-token"
	w := h.postJSON("/api/v1/accounts", "admin", `{"platform":"facebook","native_id":"1234567890","credential":"`+secret+`","department":"Parks"}`)
	if w.Code != http.StatusCreated || strings.Contains(w.Body.String(), secret) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var got map[string]any
	json.Unmarshal(w.Body.Bytes(), &got)
	if got["has_credential"] != true || got["api_base"] != "https://facebook.example" || got["approval"] != "approved" || got["status"] != "active" {
		t.Fatalf("account = %v", got)
	}
	as, _ := h.cat.ListAccounts(context.Background())
	if len(as[0].CredentialEnc) == 0 || strings.Contains(string(as[0].CredentialEnc), secret) {
		t.Fatal("credential not sealed at rest")
	}
	if opened, _ := h.srv.Sealer.Open(as[0].CredentialEnc); opened != secret {
		t.Fatal("sealed credential does not open to the original")
	}
	list := h.do("GET", "/api/v1/accounts", "coordinator", nil, false)
	if strings.Contains(list.Body.String(), secret) {
		t.Fatal("list returns the credential")
	}
	if dup := h.postJSON("/api/v1/accounts", "admin", `{"platform":"facebook","native_id":"1234567890","credential":"other"}`); dup.Code != http.StatusConflict {
		t.Fatalf("duplicate: %d", dup.Code)
	}
	evs, _ := h.cat.CustodyEvents(context.Background(), "account", "1")
	if len(evs) != 1 || evs[0].Kind != "account_registered" || strings.Contains(evs[0].Details, secret) {
		t.Fatalf("custody events: %+v", evs)
	}
}

func TestCaptureAndItemErrors(t *testing.T) {
	h := newHarness(t)
	if w := h.postJSON("/api/v1/accounts/999/captures", "admin", `{}`); w.Code != 404 {
		t.Errorf("capture of a missing account: %d", w.Code)
	}
	if w := h.postJSON("/api/v1/accounts/abc/captures", "admin", `{}`); w.Code != 404 {
		t.Errorf("capture of a malformed id: %d", w.Code)
	}
	h.postJSON("/api/v1/accounts", "admin", `{"platform":"bluesky","handle":"city.bsky.social"}`)
	if w := h.postJSON("/api/v1/accounts/1/captures", "admin", `{"kind":"weekly"}`); w.Code != 422 {
		t.Errorf("bad kind: %d", w.Code)
	}
	for _, q := range []string{"page_token=garbage", "size=-1", "account=x", "page_token=' OR 1=1 --"} {
		if w := h.do("GET", "/api/v1/items?"+strings.ReplaceAll(q, " ", "%20"), "clerk", nil, false); w.Code != 422 {
			t.Errorf("items?%s: %d", q, w.Code)
		}
	}
	if w := h.do("GET", "/api/v1/items?size=100000", "clerk", nil, false); w.Code != 200 {
		t.Errorf("oversized page size must be capped, not refused: %d", w.Code)
	}
	if w := h.do("GET", "/api/v1/captures/12345", "admin", nil, false); w.Code != 404 {
		t.Errorf("missing capture: %d", w.Code)
	}
}

func TestUnhealthyAccountShowsInProbesAndMetrics(t *testing.T) {
	h := newHarness(t)
	h.postJSON("/api/v1/accounts", "admin", `{"platform":"x","handle":"clintoncity","credential":"AAAA-bearer"}`)
	h.postJSON("/api/v1/accounts", "admin", `{"platform":"bluesky","handle":"city.bsky.social"}`)
	ctx := context.Background()
	if err := h.cat.RecordAccountHealth(ctx, 1, "platforms: GET https://api.x.com/2/users/by/username/clintoncity: HTTP 401", true, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.cat.RecordAccountHealth(ctx, 2, "", false, true, time.Now())
	m := h.do("GET", "/metrics", "", nil, false).Body.String()
	for _, want := range []string{
		`civicarchive_account_healthy{account_id="1",handle="clintoncity",platform="x"} 0`,
		`civicarchive_account_healthy{account_id="2",handle="city.bsky.social",platform="bluesky"} 1`,
		`civicarchive_account_consecutive_failures{account_id="1",handle="clintoncity",platform="x"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(m, "civicarchive_catalog_change_seq ") || !strings.Contains(m, "civicarchive_search_indexed_seq 0") {
		t.Errorf("metrics lack the index lag gauges")
	}
	r := h.do("GET", "/readyz", "", nil, false)
	if r.Code != 200 || !strings.Contains(r.Body.String(), `"unhealthy":[{"id":1,"platform":"x","handle":"clintoncity"}]`) || strings.Contains(r.Body.String(), "401") {
		t.Errorf("readyz: %d %s", r.Code, r.Body)
	}
	a := h.do("GET", "/api/v1/accounts/1", "coordinator", nil, false).Body.String()
	if !strings.Contains(a, `"status":"unhealthy"`) || !strings.Contains(a, "HTTP 401") {
		t.Errorf("account health in the API: %s", a)
	}
}
