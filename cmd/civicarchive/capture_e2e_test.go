package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky/blueskytest"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed/feedtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram/instagramtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/x/xtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
)

// fakePlatform is what every <platform>test server offers.
type fakePlatform interface {
	Account() platforms.Account
	NativeID(worldID string) string
	Close()
}

// platformCase is one platform in the end-to-end test.
type platformCase struct {
	name string
	// start serves the world in the platform's real API shapes.
	start func(w *platformtest.World) fakePlatform
	// comments: the platform has comments and replies; deletes: a full
	// sweep can tell a deleted post from one that fell off the end.
	comments, deletes bool
}

var platformCases = []platformCase{
	{"feed", func(w *platformtest.World) fakePlatform { return feedtest.NewServer(w) }, false, false},
	{"mastodon", func(w *platformtest.World) fakePlatform { return mastodontest.NewServer(w) }, true, true},
	{"youtube", func(w *platformtest.World) fakePlatform { return youtubetest.NewServer(w) }, true, true},
	{"bluesky", func(w *platformtest.World) fakePlatform { return blueskytest.NewServer(w) }, true, true},
	{"facebook", func(w *platformtest.World) fakePlatform { return facebooktest.NewServer(w) }, true, true},
	{"instagram", func(w *platformtest.World) fakePlatform { return instagramtest.NewServer(w) }, true, true},
	{"x", func(w *platformtest.World) fakePlatform { return xtest.NewServer(w) }, true, true},
}

func apiDo(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type apiItem struct {
	ID           uint64
	NativeID     string `json:"native_id"`
	Kind         string
	Text         string
	DeletedAt    *time.Time `json:"deleted_at"`
	VersionCount int        `json:"version_count"`
	Versions     []struct{ Text, SHA256 string }
}

// captureAndWait starts a capture through the API and polls it to its end.
func captureAndWait(t *testing.T, base, token string, account uint64, kind string) map[string]any {
	t.Helper()
	code, body := apiDo(t, "POST", fmt.Sprintf("%s/api/v1/accounts/%d/captures", base, account), token, map[string]string{"kind": kind})
	if code != http.StatusAccepted {
		t.Fatalf("start capture: %d %s", code, body)
	}
	var started struct{ ID uint64 }
	json.Unmarshal(body, &started)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		_, body := apiDo(t, "GET", fmt.Sprintf("%s/api/v1/captures/%d", base, started.ID), token, nil)
		var run map[string]any
		json.Unmarshal(body, &run)
		if run["status"] != "running" {
			return run
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("capture did not finish in 2 minutes")
	return nil
}

// allItems pages through GET /api/v1/items for one account.
func allItems(t *testing.T, base, token string, account uint64) map[string]apiItem {
	t.Helper()
	out := map[string]apiItem{}
	tok := ""
	for {
		_, body := apiDo(t, "GET", fmt.Sprintf("%s/api/v1/items?account=%d&size=2&page_token=%s", base, account, tok), token, nil)
		var page struct {
			Items []apiItem
			Next  *string `json:"next_page_token"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("items page: %v: %s", err, body)
		}
		for _, it := range page.Items {
			out[it.NativeID] = it
		}
		if page.Next == nil {
			return out
		}
		tok = *page.Next
	}
}

// expected lists the native ids of everything the world shows.
func expected(w *platformtest.World, fp fakePlatform, comments bool) (posts, replies []string) {
	for _, p := range w.Posts() {
		posts = append(posts, fp.NativeID(p.ID))
		if comments {
			for _, c := range w.Thread(p.ID) {
				replies = append(replies, fp.NativeID(c.ID))
			}
		}
	}
	return posts, replies
}

// The whole path a coordinator takes: start the real program, register one
// account per platform through the API against local platform servers,
// capture, and find exactly the platforms' posts and comments; then the
// platforms edit and delete, and the next full capture shows new versions
// and deletion marks and keeps every old version.
func TestCaptureEndToEnd(t *testing.T) {
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": t.TempDir(), "CIVICARCHIVE_SCHEDULER": "off", "CIVICARCHIVE_LOG_LEVEL": "debug"}
	base, _, logs := startServerLogs(t, envVars)
	_, out, _ := cli(t, envVars, "", "token", "create", "--name", "coordinator", "--role", "admin")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]

	for _, pc := range platformCases {
		t.Run(pc.name, func(t *testing.T) {
			w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "42", Handle: "clintoncity", DisplayName: "Clinton City"})
			platformtest.Seed(w)
			fp := pc.start(w)
			defer fp.Close()
			a := fp.Account()
			code, body := apiDo(t, "POST", base+"/api/v1/accounts", token, map[string]string{
				"platform": a.Platform, "handle": a.Handle, "native_id": a.NativeID, "api_base": a.APIBase,
				"credential": a.Credential, "department": "Communications",
			})
			if code != http.StatusCreated {
				t.Fatalf("register account: %d %s", code, body)
			}
			if a.Credential != "" && bytes.Contains(body, []byte(a.Credential)) {
				t.Fatal("the API returned the credential")
			}
			var acct struct{ ID uint64 }
			json.Unmarshal(body, &acct)

			run := captureAndWait(t, base, token, acct.ID, "full")
			if run["status"] != "succeeded" {
				t.Fatalf("first capture: %v", run)
			}
			posts, replies := expected(w, fp, pc.comments)
			got := allItems(t, base, token, acct.ID)
			assertIDs(t, got, posts, replies)

			// The platform changes: an edit of a post and of a comment, a
			// deleted post and a deleted comment.
			p := w.Posts()
			edited := p[len(p)-1].ID
			w.Edit(edited, "Main St closed Saturday 8 am – 3 pm (updated) 🎉")
			var editedComment, deletedComment string
			if pc.comments {
				th := w.Thread(edited)
				editedComment, deletedComment = th[0].ID, th[len(th)-1].ID
				w.Edit(editedComment, "¿A qué hora reabren? (editado)")
				w.Delete(deletedComment)
			}
			deletedPost := p[0].ID
			w.Delete(deletedPost)

			run = captureAndWait(t, base, token, acct.ID, "full")
			if run["status"] != "succeeded" {
				t.Fatalf("second capture: %v", run)
			}
			got = allItems(t, base, token, acct.ID)
			checkVersions(t, base, token, got[fp.NativeID(edited)], "Main St closed Saturday 8 am – 3 pm (updated) 🎉")
			if pc.comments {
				checkVersions(t, base, token, got[fp.NativeID(editedComment)], "¿A qué hora reabren? (editado)")
				if got[fp.NativeID(deletedComment)].DeletedAt == nil {
					t.Errorf("deleted comment %s not marked deleted", deletedComment)
				}
			}
			if pc.deletes && got[fp.NativeID(deletedPost)].DeletedAt == nil {
				t.Errorf("deleted post %s not marked deleted", deletedPost)
			}
			for id, it := range got {
				if it.DeletedAt != nil && id != fp.NativeID(deletedPost) && id != fp.NativeID(deletedComment) {
					t.Errorf("%s marked deleted but still on the platform", id)
				}
			}
			if !strings.Contains(logs.String(), "capture finished") {
				t.Fatal("the server log shows no capture; the secret check below would prove nothing")
			}
			if a.Credential != "" && strings.Contains(logs.String(), a.Credential) {
				t.Errorf("the %s credential appears in the server's log", pc.name)
			}
		})
	}
}

func assertIDs(t *testing.T, got map[string]apiItem, posts, replies []string) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range posts {
		want[id] = true
		if got[id].Kind != "post" {
			t.Errorf("post %s archived as %q", id, got[id].Kind)
		}
	}
	for _, id := range replies {
		want[id] = true
		if k := got[id].Kind; k != "comment" && k != "reply" {
			t.Errorf("comment %s archived as %q", id, k)
		}
	}
	var missing, extra []string
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 || len(got) != len(want) {
		t.Fatalf("archived %d items, platform shows %d; missing %v, extra %v", len(got), len(want), missing, extra)
	}
}

// checkVersions: the item has two versions, the old one kept, the new one current.
func checkVersions(t *testing.T, base, token string, it apiItem, newText string) {
	t.Helper()
	_, body := apiDo(t, "GET", fmt.Sprintf("%s/api/v1/items/%d", base, it.ID), token, nil)
	var full apiItem
	json.Unmarshal(body, &full)
	if full.VersionCount != 2 || len(full.Versions) != 2 || !strings.Contains(full.Versions[1].Text, strings.Fields(newText)[0]) ||
		full.Versions[0].Text == full.Versions[1].Text || full.Versions[0].SHA256 == full.Versions[1].SHA256 {
		t.Errorf("item %s after an edit: %s", it.NativeID, body)
	}
}

// With the scheduler on (the default), a newly registered account is
// captured at once, without anyone starting a capture.
func TestNewAccountCapturedAtOnce(t *testing.T) {
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": t.TempDir()}
	base, _ := startServer(t, envVars)
	_, out, _ := cli(t, envVars, "", "token", "create", "--name", "coordinator", "--role", "coordinator")
	token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	w := platformtest.NewWorld(time.Now().Add(-time.Hour), platformtest.Profile{Handle: "news"})
	platformtest.Seed(w)
	fp := feedtest.NewServer(w)
	defer fp.Close()
	a := fp.Account()
	if code, body := apiDo(t, "POST", base+"/api/v1/accounts", token, map[string]string{"platform": a.Platform, "handle": a.Handle, "api_base": a.APIBase}); code != http.StatusCreated {
		t.Fatalf("register: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := apiDo(t, "GET", base+"/api/v1/captures/1", token, nil)
		var run map[string]any
		json.Unmarshal(body, &run)
		if code == http.StatusOK && run["status"] == "succeeded" {
			if run["trigger"] != "catch_up" {
				t.Fatalf("first capture: %v", run)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no capture of the new account within 30s: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
