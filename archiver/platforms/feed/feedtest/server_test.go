package feedtest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// TestServerResponses: status codes and bodies of the fake site, with and
// without the credential.
func TestServerResponses(t *testing.T) {
	w := platformtest.NewWorld(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), platformtest.Profile{DisplayName: "City"})
	platformtest.Seed(w)
	s := NewServer(w, WithCredential("tok-1234"), WithPageSize(2))
	defer s.Close()
	tests := []struct {
		path, auth string
		status     int
		contains   string
	}{
		{"/atom.xml", "Bearer tok-1234", 200, `rel="next"`},
		{"/atom.xml?page=2", "Bearer tok-1234", 200, "Road closure"},
		{"/atom.xml?page=9", "Bearer tok-1234", 200, "<feed"},
		{"/atom.xml?page=x", "Bearer tok-1234", 404, ""},
		{"/rss.xml", "Bearer tok-1234", 200, "<![CDATA[<p>Reminder: no street parking 2–6 am during snow events ❄️</p>]]>"},
		{"/rss.xml", "Bearer nope", 401, "Unauthorized"},
		{"/atom.xml", "", 401, "Unauthorized"},
		{"/media/road.jpg", "", 200, "fake jpeg"},
		{"/media/none.jpg", "", 404, ""},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(http.MethodGet, s.URL+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.path, resp.StatusCode, body, tc.status, tc.contains)
		}
	}
	if s.Requests() != len(tests) {
		t.Errorf("Requests() = %d, want %d", s.Requests(), len(tests))
	}
}
