package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

type searchAnswer struct {
	Total uint64
	Hits  []struct {
		ItemID         uint64 `json:"item_id"`
		Kind           string
		Text           string
		Highlights     map[string][]string
		DeletedAt      *time.Time `json:"deleted_at"`
		MatchedVersion int        `json:"matched_version"`
	}
	Facets map[string][]struct {
		Term  string
		Count int
	}
	Next *string `json:"next_page_token"`
}

func apiSearch(t *testing.T, base, token string, params url.Values) (int, searchAnswer, string) {
	t.Helper()
	code, body := apiDo(t, "GET", base+"/api/v1/search?"+params.Encode(), token, nil)
	var a searchAnswer
	json.Unmarshal(body, &a)
	return code, a, string(body)
}

// waitForHits polls until the index has caught up with the capture.
func waitForHits(t *testing.T, base, token string, params url.Values, want uint64) searchAnswer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, a, body := apiSearch(t, base, token, params)
		if a.Total == want || time.Now().After(deadline) {
			if a.Total != want {
				t.Fatalf("search %v: total %d, want %d: %s", params, a.Total, want, body)
			}
			return a
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The clerk's path: words that appear only in an earlier version of an
// edited post, or only in a deleted comment, are found, and the hit says
// which version matched; filters and facets agree with the catalog; the
// command line finds the same, with the server running or stopped.
func TestSearchEndToEnd(t *testing.T) {
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": t.TempDir(), "CIVICARCHIVE_SCHEDULER": "off"}
	base, stop := startServer(t, envVars)
	_, out, _ := cli(t, envVars, "", "token", "create", "--name", "clerk", "--role", "admin")
	token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])

	w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "42", Handle: "clintoncity", DisplayName: "Clinton City"})
	platformtest.Seed(w)
	fp := mastodontest.NewServer(w)
	defer fp.Close()
	a := fp.Account()
	code, body := apiDo(t, "POST", base+"/api/v1/accounts", token, map[string]string{"platform": a.Platform, "handle": a.Handle, "api_base": a.APIBase, "credential": a.Credential})
	if code != http.StatusCreated {
		t.Fatalf("register: %d %s", code, body)
	}
	if run := captureAndWait(t, base, token, 1, "full"); run["status"] != "succeeded" {
		t.Fatalf("capture: %v", run)
	}
	posts, comments := w.Counts()
	waitForHits(t, base, token, url.Values{}, uint64(posts+comments))

	road := w.Posts()[2]
	w.Edit(road.ID, "Main St closed Saturday 8 am – 3 pm")
	var library string
	for _, c := range w.Thread(road.ID) {
		if strings.Contains(c.Text, "library") {
			library = c.ID
		}
	}
	w.Delete(library)
	if run := captureAndWait(t, base, token, 1, "full"); run["status"] != "succeeded" {
		t.Fatalf("second capture: %v", run)
	}

	// "parade" is only in the first version of the edited post.
	ans := waitForHits(t, base, token, url.Values{"q": {"parade"}}, 1)
	if h := ans.Hits[0]; h.MatchedVersion != 1 || strings.Contains(h.Text, "parade") || !strings.Contains(strings.Join(h.Highlights["versions"], ""), "<mark>parade</mark>") {
		t.Fatalf("edited post hit: %+v", h)
	}
	// "library" is only in a deleted comment.
	ans = waitForHits(t, base, token, url.Values{"q": {"library"}}, 1)
	if h := ans.Hits[0]; h.DeletedAt == nil || h.Kind != "comment" {
		t.Fatalf("deleted comment hit: %+v", h)
	}
	waitForHits(t, base, token, url.Values{"q": {"library"}, "deleted": {"false"}}, 0)
	waitForHits(t, base, token, url.Values{"deleted": {"true"}}, 1)
	waitForHits(t, base, token, url.Values{"edited": {"true"}}, 1)
	waitForHits(t, base, token, url.Values{"q": {"gracias"}, "kind": {"reply"}}, 1) // accents and case folded
	// Facets agree with the catalog.
	ans = waitForHits(t, base, token, url.Values{}, uint64(posts+comments))
	kinds := map[string]int{}
	for _, it := range allItems(t, base, token, 1) {
		kinds[it.Kind]++
	}
	for _, f := range ans.Facets["kind"] {
		if kinds[f.Term] != f.Count {
			t.Errorf("kind facet %s = %d, catalog has %d", f.Term, f.Count, kinds[f.Term])
		}
	}
	// A malformed query is a 400 with the parser's message.
	if code, _, body := apiSearch(t, base, token, url.Values{"q": {`"unterminated`}}); code != http.StatusBadRequest || !strings.Contains(body, "bad_query") {
		t.Fatalf("malformed query: %d %s", code, body)
	}
	// The command line, while the server runs: through the API with a token.
	if code, _, errOut := cli(t, envVars, "", "search", "parade"); code != 1 || !strings.Contains(errOut, "CIVICARCHIVE_TOKEN") {
		t.Fatalf("search without a token while the server runs: %d %q", code, errOut)
	}
	withToken := map[string]string{"CIVICARCHIVE_TOKEN": token}
	for k, v := range envVars {
		withToken[k] = v
	}
	withToken["CIVICARCHIVE_LISTEN"] = strings.TrimPrefix(base, "http://")
	if code, out, errOut := cli(t, withToken, "", "search", "parade"); code != 0 || !strings.Contains(out, "1 items match") || !strings.Contains(out, "matched version 1") {
		t.Fatalf("search through the server: %d %q %q", code, out, errOut)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	// With the server stopped: straight from the index, after a reindex.
	if code, out, errOut := cli(t, envVars, "", "reindex"); code != 0 || !strings.Contains(out, fmt.Sprintf("reindexed %d items", posts+comments)) {
		t.Fatalf("reindex: %d %q %q", code, out, errOut)
	}
	code, out, errOut := cli(t, envVars, "", "search", "library", "--json")
	var got cliResult
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.Total != 1 || got.Hits[0].DeletedAt == nil {
		t.Fatalf("search --json: %d %q %q", code, out, errOut)
	}
}
