package facebook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	w := platformtest.NewWorld(start, platformtest.Profile{
		Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official page of Clinton City ✅", Website: "https://www.clintoncity.net", Email: "info@clintoncity.net",
	})
	platformtest.Seed(w)
	return w
}

type result = platformtest.Recording

func capture(t *testing.T, srv *facebooktest.Server, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	return platformtest.Capture(t, facebook.New(), acct, opts, nil)
}

var full = platforms.Options{Full: true}

// graphWorld is how a capture of srv should look, beyond what
// graphtest.World checks: hidden posts, Graph's media and author ids, no
// comment edit marker.
func graphWorld(srv *facebooktest.Server) graphtest.World {
	return graphtest.World{
		NativeID: srv.NativeID,
		Post: func(t testing.TB, p platformtest.Post, id string, it platforms.Item) {
			t.Helper()
			if it.Hidden != p.Hidden {
				t.Errorf("post %s: hidden %v, want %v", id, it.Hidden, p.Hidden)
			}
			for i, m := range p.Media {
				if i < len(it.Media) && it.Media[i].NativeID != facebooktest.MediaID(m) {
					t.Errorf("post %s media %d: %+v", id, i, it.Media[i])
				}
			}
		},
		Comment: func(t testing.TB, c platformtest.Comment, id string, it platforms.Item) {
			t.Helper()
			if it.AuthorName != c.AuthorName || it.AuthorID != facebooktest.UserID(c.Author) {
				t.Errorf("comment %s: got author %q/%q; want %q", id, it.AuthorID, it.AuthorName, c.AuthorName)
			}
			if it.EditMarker != "" || it.EditedAt != nil {
				t.Errorf("comment %s: Facebook has no comment edit marker, got %q %v", id, it.EditMarker, it.EditedAt)
			}
		},
	}
}

// checkWorld compares what was reported with the world's current state:
// same posts, comments and replies (ids, kinds, parents, texts, hidden,
// media), parents before children, every thread and the listing complete.
func checkWorld(t *testing.T, srv *facebooktest.Server, w *platformtest.World, r result) {
	t.Helper()
	graphWorld(srv).CheckWorld(t, w, r.Sink)
}

func TestCaptureSeededWorld(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r)
	if len(r.Sink.Profiles) != 1 {
		t.Fatalf("profiles: %d", len(r.Sink.Profiles))
	}
	p := r.Sink.Profiles[0]
	want := platforms.Profile{NativeID: srv.PageID(), Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official page of Clinton City ✅", Website: "https://www.clintoncity.net", Email: "info@clintoncity.net",
		URL: "https://www.facebook.com/clintoncityut", Verified: true, Extra: map[string]string{"verification_status": "blue_verified"}}
	want.RawKey = p.RawKey
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Errorf("profile:\n got %+v\nwant %+v", p, want)
	}
	if _, ok := r.Blobs.Get(p.RawKey); !ok || p.RawKey == "" {
		t.Errorf("profile raw page %q not stored", p.RawKey)
	}
	// The Spanish, the emoji and the media, byte for byte.
	got := r.Sink.ByID()
	for _, p := range w.Posts() {
		if p.Title == "Road closure" {
			it := got[srv.NativeID(p.ID)]
			if it.Text != "Main St closed between 1st and 3rd Ave on Saturday for the parade 🎉" || len(it.Media) != 1 || it.Media[0].Kind != "image" {
				t.Errorf("road closure post: %+v", it)
			}
			if _, ok := r.Blobs.Get(it.RawKey); !ok {
				t.Error("post raw page not stored")
			}
		}
	}
}

func TestPagination(t *testing.T) {
	w := platformtest.NewWorld(start, platformtest.Profile{Handle: "clintoncityut", DisplayName: "Clinton"})
	var posts []string
	for i := range 7 {
		posts = append(posts, w.AddPost("", fmt.Sprintf("post %d — ñ 🌨️", i)))
	}
	parent := ""
	for i := range 8 { // a chain eight deep on the oldest post
		parent = w.AddComment(posts[0], parent, "Ana", fmt.Sprintf("reply %d", i))
	}
	for i := range 5 {
		w.AddComment(posts[3], "", "Bob", fmt.Sprintf("top %d", i))
	}
	var pages []string
	rec := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("after") != "" {
				pages = append(pages, r.URL.Path)
			}
			h.ServeHTTP(rw, r)
		})
	}
	srv := facebooktest.NewServer(w, facebooktest.WithPageSizes(2, 3), facebooktest.WithMiddleware(rec))
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r)
	var postPages, commentPages int
	for _, p := range pages {
		if strings.HasSuffix(p, "/posts") {
			postPages++
		} else {
			commentPages++
		}
	}
	if postPages != 3 || commentPages < 3 { // 7 posts in pages of 2; 8 and 5 comments in pages of 3
		t.Errorf("follow-up pages: %d of posts, %d of comments (%v)", postPages, commentPages, pages)
	}
}

func TestEditsAndDeletions(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	if r := capture(t, srv, srv.Account(), full); r.Err != nil {
		t.Fatal(r.Err)
	}
	posts := w.Posts()
	council, parade := posts[1], posts[2]
	thread := w.Thread(parade.ID)
	edited, deleted := thread[1], thread[3] // the city's reply; Bob's comment
	councilID, deletedID := srv.NativeID(council.ID), srv.NativeID(deleted.ID)
	w.Edit(parade.ID, "Main St reopens at 3 pm — ¡gracias! 🎉")
	w.Edit(edited.ID, "Around 3:30 pm now, sorry 🙏")
	w.Delete(council.ID)
	w.Delete(deleted.ID)

	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r)
	got := r.Sink.ByID()
	if it := got[srv.NativeID(parade.ID)]; it.Text != "Main St reopens at 3 pm — ¡gracias! 🎉" || it.EditMarker != "" {
		t.Errorf("edited post: %+v", it)
	}
	if it := got[srv.NativeID(edited.ID)]; it.Text != "Around 3:30 pm now, sorry 🙏" || it.EditMarker != "" || it.EditedAt != nil {
		t.Errorf("edited comment (Facebook shows no marker): %+v", it)
	}
	for _, id := range []string{councilID, deletedID} {
		if _, ok := got[id]; ok || id == "" {
			t.Errorf("deleted %q still reported", id)
		}
	}
	if r.Sink.CompleteThread[councilID] {
		t.Error("deleted post's thread marked complete")
	}
}

func TestHiddenComments(t *testing.T) {
	w := newWorld()
	post := w.Posts()[2]
	hidden := w.AddComment(post.ID, "", "Troll", "spam spam spam")
	w.Hide(hidden, true)
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r)
	if it := r.Sink.ByID()[srv.NativeID(hidden)]; !it.Hidden || it.Text != "spam spam spam" {
		t.Errorf("hidden comment: %+v", it)
	}
}

func TestIncremental(t *testing.T) {
	w := newWorld()
	var paths []string
	rec := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			h.ServeHTTP(rw, r)
		})
	}
	srv := facebooktest.NewServer(w, facebooktest.WithMiddleware(rec))
	defer srv.Close()
	posts := w.Posts() // newest first
	since := posts[1].Created.Add(-time.Second)
	r := capture(t, srv, srv.Account(), platforms.Options{Since: since})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got := r.Sink.ByID()
	if _, ok := got[srv.NativeID(posts[0].ID)]; !ok {
		t.Error("newest post not read")
	}
	if _, ok := got[srv.NativeID(posts[1].ID)]; !ok {
		t.Error("post created after since not read")
	}
	old := srv.NativeID(posts[2].ID)
	if _, ok := got[old]; ok {
		t.Error("post older than since reported")
	}
	for _, p := range paths {
		if strings.Contains(p, old) {
			t.Errorf("old post's thread fetched: %s", p)
		}
	}
	if r.Sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
	if !r.Sink.CompleteThread[srv.NativeID(posts[1].ID)] {
		t.Error("thread of a new post not complete")
	}
}

// TestUpdatedTimeNotContent: a new comment moves the post's updated_time;
// the post's Item must not change.
func TestUpdatedTimeNotContent(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	first := capture(t, srv, srv.Account(), full)
	post := w.Posts()[1]
	w.AddComment(post.ID, "", "Dan", "New comment moves updated_time")
	second := capture(t, srv, srv.Account(), full)
	if first.Err != nil || second.Err != nil {
		t.Fatal(first.Err, second.Err)
	}
	id := srv.NativeID(post.ID)
	a, b := first.Sink.ByID()[id], second.Sink.ByID()[id]
	a.RawKey, b.RawKey = "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("post item changed with updated_time:\n%s\n%s", ja, jb)
	}
	raw, _ := second.Blobs.Get(second.Sink.ByID()[id].RawKey)
	if !bytes.Contains(raw, []byte(`"updated_time"`)) {
		t.Error("raw page should keep updated_time")
	}
}

func TestSecretsNotStored(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	graphtest.CheckSecretsNotStored(t, r, srv.Credential())
}

// TestForeignNextNotFollowed: a paging.next link pointing at another host
// is not followed; the after cursor is used on api_base instead.
func TestForeignNextNotFollowed(t *testing.T) {
	w := newWorld()
	var self string
	srv := facebooktest.NewServer(w, facebooktest.WithMiddleware(graphtest.ForeignNext(t, &self)))
	defer srv.Close()
	self = srv.URL
	r := capture(t, srv, srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r)
}

func TestDeprecatedFieldsRefused(t *testing.T) {
	srv := facebooktest.NewServer(newWorld())
	defer srv.Close()
	for _, field := range []string{"type", "link"} {
		u := srv.APIBase() + "/" + srv.PageID() + "/posts?fields=id," + field + "&access_token=" + srv.Credential()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 400 || body.Error.Code != 12 || body.Error.Type != "OAuthException" || !strings.HasPrefix(body.Error.Message, "(#12) "+field) {
			t.Errorf("fields=%s: %d %+v", field, resp.StatusCode, body.Error)
		}
	}
}

func TestErrorMessagesNameTheAction(t *testing.T) {
	srv := facebooktest.NewServer(newWorld())
	defer srv.Close()
	acct := srv.Account()
	acct.NativeID = "999999999"
	r := capture(t, srv, acct, full)
	if !errors.Is(r.Err, platforms.ErrNotFound) || !strings.Contains(r.Err.Error(), "facebook: read profile:") {
		t.Errorf("unknown page: %v", r.Err)
	}
	if r.Sink.PostsDone {
		t.Error("PostsComplete for an unknown page")
	}
}

// TestStreamFilterListsReplies: Graph's default comment filter (toplevel)
// hides replies; filter=stream lists them with their parent, which is why
// the connector asks for it.
func TestStreamFilterListsReplies(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w, facebooktest.WithPageSizes(2, 10))
	defer srv.Close()
	parade := w.Posts()[2]
	get := func(filter string) (ids, parents []string) {
		u := srv.APIBase() + "/" + srv.NativeID(parade.ID) + "/comments?fields=id,parent{id}&limit=50&access_token=" + srv.Credential() + filter
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Data []struct {
				ID     string `json:"id"`
				Parent *struct {
					ID string `json:"id"`
				} `json:"parent"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		for _, c := range body.Data {
			ids = append(ids, c.ID)
			if c.Parent != nil {
				parents = append(parents, c.Parent.ID)
			}
		}
		return ids, parents
	}
	top, topParents := get("")
	all, allParents := get("&filter=stream")
	if len(top) != 2 || len(topParents) != 0 {
		t.Errorf("toplevel: %v %v", top, topParents)
	}
	if len(all) != 4 || len(allParents) != 2 {
		t.Errorf("stream: %v %v", all, allParents)
	}
}
