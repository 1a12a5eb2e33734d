package facebook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
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

type result struct {
	sink  *platformtest.Sink
	blobs *platformtest.MemBlobs
	waits []time.Duration
	err   error
}

func capture(t *testing.T, srv *facebooktest.Server, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	r := result{sink: platformtest.NewSink(), blobs: &platformtest.MemBlobs{}}
	cl := platformtest.Client(t, r.blobs, &r.waits, acct.Credential)
	r.err = facebook.New().Capture(context.Background(), acct, opts, cl, r.sink)
	return r
}

var full = platforms.Options{Full: true}

// checkWorld compares what was reported with the world's current state:
// same posts, comments and replies (ids, kinds, parents, texts, hidden,
// media), parents before children, every thread and the listing complete.
func checkWorld(t *testing.T, srv *facebooktest.Server, w *platformtest.World, r result) {
	t.Helper()
	got := r.sink.ByID()
	order := map[string]int{}
	for i, it := range r.sink.Items {
		if _, dup := order[it.NativeID]; !dup {
			order[it.NativeID] = i
		}
	}
	posts, comments := w.Counts()
	if n := r.sink.Count(platforms.KindPost); n != posts {
		t.Errorf("posts: got %d, want %d", n, posts)
	}
	if n := r.sink.Count(platforms.KindComment) + r.sink.Count(platforms.KindReply); n != comments {
		t.Errorf("comments+replies: got %d, want %d", n, comments)
	}
	for _, p := range w.Posts() {
		id := srv.NativeID(p.ID)
		it, ok := got[id]
		if !ok {
			t.Errorf("post %s (%s) not reported", p.ID, id)
			continue
		}
		if it.Kind != platforms.KindPost || it.Text != p.Text || it.Hidden != p.Hidden || it.CreatedAt == nil || !it.CreatedAt.Equal(p.Created) {
			t.Errorf("post %s: got %+v, want text %q created %v", id, it, p.Text, p.Created)
		}
		if len(it.Media) != len(p.Media) {
			t.Errorf("post %s: media %+v, want %v", id, it.Media, p.Media)
		}
		for i, m := range p.Media {
			if i < len(it.Media) && (it.Media[i].NativeID != facebooktest.MediaID(m) || !strings.Contains(it.Media[i].URL, "/media/"+m)) {
				t.Errorf("post %s media %d: %+v", id, i, it.Media[i])
			}
		}
		if !r.sink.CompleteThread[id] {
			t.Errorf("thread %s not complete", id)
		}
		for _, c := range w.Thread(p.ID) {
			checkComment(t, srv, c, got, order, id)
		}
	}
	if !r.sink.PostsDone {
		t.Error("PostsComplete not called")
	}
}

func checkComment(t *testing.T, srv *facebooktest.Server, c platformtest.Comment, got map[string]platforms.Item, order map[string]int, postID string) {
	t.Helper()
	id := srv.NativeID(c.ID)
	it, ok := got[id]
	if !ok {
		t.Errorf("comment %s (%s) %q not reported", c.ID, id, c.Text)
		return
	}
	kind, parent := platforms.KindComment, postID
	if c.ParentID != "" {
		kind, parent = platforms.KindReply, srv.NativeID(c.ParentID)
	}
	if it.Kind != kind || it.ParentNativeID != parent || it.RootNativeID != postID {
		t.Errorf("comment %s: kind %s parent %s root %s; want %s %s %s", id, it.Kind, it.ParentNativeID, it.RootNativeID, kind, parent, postID)
	}
	if it.Text != c.Text || it.Hidden != c.Hidden || it.AuthorName != c.AuthorName || it.AuthorID != facebooktest.UserID(c.Author) {
		t.Errorf("comment %s: got text %q hidden %v author %q/%q; want %q %v %q", id, it.Text, it.Hidden, it.AuthorID, it.AuthorName, c.Text, c.Hidden, c.AuthorName)
	}
	if it.EditMarker != "" || it.EditedAt != nil {
		t.Errorf("comment %s: Facebook has no comment edit marker, got %q %v", id, it.EditMarker, it.EditedAt)
	}
	if p, ok := order[parent]; ok && p > order[id] {
		t.Errorf("comment %s reported before its parent %s", id, parent)
	}
}

func TestCaptureSeededWorld(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	if len(r.sink.Profiles) != 1 {
		t.Fatalf("profiles: %d", len(r.sink.Profiles))
	}
	p := r.sink.Profiles[0]
	want := platforms.Profile{NativeID: srv.PageID(), Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official page of Clinton City ✅", Website: "https://www.clintoncity.net", Email: "info@clintoncity.net",
		URL: "https://www.facebook.com/clintoncityut", Verified: true, Extra: map[string]string{"verification_status": "blue_verified"}}
	want.RawKey = p.RawKey
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Errorf("profile:\n got %+v\nwant %+v", p, want)
	}
	if _, ok := r.blobs.Get(p.RawKey); !ok || p.RawKey == "" {
		t.Errorf("profile raw page %q not stored", p.RawKey)
	}
	// The Spanish, the emoji and the media, byte for byte.
	got := r.sink.ByID()
	for _, p := range w.Posts() {
		if p.Title == "Road closure" {
			it := got[srv.NativeID(p.ID)]
			if it.Text != "Main St closed between 1st and 3rd Ave on Saturday for the parade 🎉" || len(it.Media) != 1 || it.Media[0].Kind != "image" {
				t.Errorf("road closure post: %+v", it)
			}
			if _, ok := r.blobs.Get(it.RawKey); !ok {
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
	if r.err != nil {
		t.Fatal(r.err)
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
	if r := capture(t, srv, srv.Account(), full); r.err != nil {
		t.Fatal(r.err)
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
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	got := r.sink.ByID()
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
	if r.sink.CompleteThread[councilID] {
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
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	if it := r.sink.ByID()[srv.NativeID(hidden)]; !it.Hidden || it.Text != "spam spam spam" {
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
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := r.sink.ByID()
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
	if r.sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
	if !r.sink.CompleteThread[srv.NativeID(posts[1].ID)] {
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
	if first.err != nil || second.err != nil {
		t.Fatal(first.err, second.err)
	}
	id := srv.NativeID(post.ID)
	a, b := first.sink.ByID()[id], second.sink.ByID()[id]
	a.RawKey, b.RawKey = "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("post item changed with updated_time:\n%s\n%s", ja, jb)
	}
	raw, _ := second.blobs.Get(second.sink.ByID()[id].RawKey)
	if !bytes.Contains(raw, []byte(`"updated_time"`)) {
		t.Error("raw page should keep updated_time")
	}
}

func TestSecretsNotStored(t *testing.T) {
	w := newWorld()
	srv := facebooktest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	tok := []byte(srv.Credential())
	redacted := 0
	for _, b := range r.blobs.All() {
		if bytes.Contains(b, tok) {
			t.Fatalf("a raw blob holds the credential: %.200s", b)
		}
		if bytes.Contains(b, []byte("access_token="+platforms.Redacted)) || bytes.Contains(b, []byte("access_token=%5BREDACTED%5D")) {
			redacted++
		}
	}
	if redacted == 0 {
		t.Error("no paging.next link was redacted: the test does not exercise redaction")
	}
	for _, v := range []any{r.sink.Items, r.sink.Profiles} {
		b, _ := json.Marshal(v)
		if bytes.Contains(b, tok) {
			t.Fatal("an item or profile holds the credential")
		}
	}
}

// TestForeignNextNotFollowed: a paging.next link pointing at another host
// is not followed; the after cursor is used on api_base instead.
func TestForeignNextNotFollowed(t *testing.T) {
	w := newWorld()
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("foreign host called: %s", r.URL)
	}))
	defer evil.Close()
	var srv *facebooktest.Server
	rewrite := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"next":"`+srv.URL), []byte(`"next":"`+evil.URL))
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.Header().Del("Content-Length")
			rw.WriteHeader(rec.Code)
			rw.Write(body)
		})
	}
	srv = facebooktest.NewServer(w, facebooktest.WithMiddleware(rewrite))
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
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
	if !errors.Is(r.err, platforms.ErrNotFound) || !strings.Contains(r.err.Error(), "facebook: read profile:") {
		t.Errorf("unknown page: %v", r.err)
	}
	if r.sink.PostsDone {
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
