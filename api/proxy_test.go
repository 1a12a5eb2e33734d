package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A client cannot escape the per-address limits by naming itself a new
// address in X-Forwarded-For; behind a trusted proxy, the header counts.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	file := func(h *reqFixture, remote, forwarded string) int {
		req := httptest.NewRequest("POST", "/api/v1/requests", strings.NewReader(validRequest))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote + ":1234"
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		return w.Code
	}
	direct := newReqFixture(t, func(d *Deps) { d.FormsPerHour = 1 })
	if code := file(direct, "198.51.100.7", ""); code != 201 {
		t.Fatalf("first filing: %d", code)
	}
	if code := file(direct, "198.51.100.7", "203.0.113.99"); code != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", code)
	}
	proxied := newReqFixture(t, func(d *Deps) { d.FormsPerHour = 1; d.TrustedProxies = []string{"10.0.0.0/8"} })
	if code := file(proxied, "10.0.0.5", "203.0.113.1"); code != 201 {
		t.Fatalf("first resident behind the proxy: %d", code)
	}
	if code := file(proxied, "10.0.0.5", "203.0.113.2"); code != 201 {
		t.Errorf("a second resident behind the same proxy was limited: %d", code)
	}
	if code := file(proxied, "10.0.0.5", "203.0.113.1"); code != http.StatusTooManyRequests {
		t.Errorf("the first resident again: %d; want 429", code)
	}
}
