package api

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/search"
)

func parseSearch(t *testing.T, s *Server, q url.Values) (search.Request, map[string]string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/api/v1/search?"+q.Encode(), nil)
	return s.searchRequest(c)
}

func TestSearchParameters(t *testing.T) {
	denver, _ := time.LoadLocation("America/Denver")
	s := &Server{Deps: Deps{Location: denver}}
	r, problems := parseSearch(t, s, url.Values{
		"q": {`"road closure" -parade`}, "platform": {"mastodon,x", "bluesky"}, "account": {"1", "7"},
		"from": {"2026-07-24"}, "to": {"2026-07-24"}, "deleted": {"true"}, "edited": {"false"}, "size": {"5000"}, "sort": {"newest"},
	})
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if strings.Join(r.Platforms, ",") != "mastodon,x,bluesky" || len(r.AccountIDs) != 2 || r.AccountIDs[1] != 7 {
		t.Errorf("multi-valued filters: %+v", r)
	}
	// Pioneer Day in Utah, the whole city day: 06:00 UTC to 06:00 UTC next day.
	if got := r.From.UTC().Format(time.RFC3339); got != "2026-07-24T06:00:00Z" {
		t.Errorf("from = %s", got)
	}
	if got := r.To.UTC().Format(time.RFC3339); got != "2026-07-25T06:00:00Z" {
		t.Errorf("to (inclusive day) = %s", got)
	}
	if r.Deleted == nil || !*r.Deleted || r.Edited == nil || *r.Edited || r.Hidden != nil {
		t.Errorf("flags: %+v", r)
	}
	if r.Size != search.MaxPageSize || r.Sort != search.SortNewest {
		t.Errorf("size %d (want capped at %d), sort %q", r.Size, search.MaxPageSize, r.Sort)
	}

	bad := url.Values{"from": {"24/07/2026"}, "deleted": {"maybe"}, "size": {"-3"}, "sort": {"loudest"}, "account": {"1; DROP TABLE items"}}
	_, problems = parseSearch(t, s, bad)
	for _, f := range []string{"from", "deleted", "size", "sort", "account"} {
		if problems[f] == "" {
			t.Errorf("bad %s accepted", f)
		}
	}
}

func TestSearchAPIBadInput(t *testing.T) {
	h := newHarness(t)
	for q, want := range map[string]int{
		"q=" + url.QueryEscape(`"unterminated`):           400,
		"q=" + url.QueryEscape(`nosuchfield:x`):           400,
		"page_token=garbage":                              400,
		"deleted=maybe":                                   422,
		"q=" + url.QueryEscape(`' OR 1=1 --`):             400, // bad query syntax is the parser's 400, never a 500
		"q=" + url.QueryEscape(`items; DROP TABLE items`): 200, // SQL-looking text is just words
		"platform=" + url.QueryEscape(`x' OR '1'='1`):     200,
		"size=1000000":                                    200,
	} {
		w := h.do("GET", "/api/v1/search?"+q, "clerk", nil, false)
		if w.Code != want {
			t.Errorf("search?%s: %d; want %d: %s", q, w.Code, want, w.Body)
		}
		var eb errorBody
		if w.Code == 400 && (json.Unmarshal(w.Body.Bytes(), &eb) != nil || eb.Error.Message == "" || strings.Contains(eb.Error.Message, "internal")) {
			t.Errorf("search?%s: 400 without the parser's message: %s", q, w.Body)
		}
	}
}
