package instagram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram/instagramtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	w := platformtest.NewWorld(start, platformtest.Profile{
		Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official Instagram of Clinton City 🏙️", Website: "https://www.clintoncity.net",
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

func capture(t *testing.T, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	r := result{sink: platformtest.NewSink(), blobs: &platformtest.MemBlobs{}}
	cl := platformtest.Client(t, r.blobs, &r.waits, acct.Credential)
	r.err = instagram.New().Capture(context.Background(), acct, opts, cl, r.sink)
	return r
}

var full = platforms.Options{Full: true}

// checkWorld compares what was reported with the world's current state.
func checkWorld(t *testing.T, srv *instagramtest.Server, w *platformtest.World, r result) {
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
			t.Errorf("post %s not reported", id)
			continue
		}
		if it.Kind != platforms.KindPost || it.Text != p.Text || it.CreatedAt == nil || !it.CreatedAt.Equal(p.Created) {
			t.Errorf("post %s: got %+v, want %q", id, it, p.Text)
		}
		if len(it.Media) != len(p.Media) {
			t.Errorf("post %s: media %+v, want %v", id, it.Media, p.Media)
		}
		for i, m := range p.Media {
			if i < len(it.Media) && (it.Media[i].NativeID == "" || !strings.Contains(it.Media[i].URL, "/media/"+m)) {
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

func checkComment(t *testing.T, srv *instagramtest.Server, c platformtest.Comment, got map[string]platforms.Item, order map[string]int, postID string) {
	t.Helper()
	id := srv.NativeID(c.ID)
	it, ok := got[id]
	if !ok {
		t.Errorf("comment %s %q not reported", id, c.Text)
		return
	}
	kind, parent := platforms.KindComment, postID
	if c.ParentID != "" {
		kind, parent = platforms.KindReply, srv.NativeID(c.ParentID)
	}
	if it.Kind != kind || it.ParentNativeID != parent || it.RootNativeID != postID {
		t.Errorf("comment %s: kind %s parent %s root %s; want %s %s %s", id, it.Kind, it.ParentNativeID, it.RootNativeID, kind, parent, postID)
	}
	if it.Text != c.Text || it.Hidden != c.Hidden || it.AuthorName != instagramtest.Username(c.Author) {
		t.Errorf("comment %s: got %q hidden %v author %q; want %q %v", id, it.Text, it.Hidden, it.AuthorName, c.Text, c.Hidden)
	}
	if p, ok := order[parent]; ok && p > order[id] {
		t.Errorf("comment %s reported before its parent %s", id, parent)
	}
}

func TestCaptureSeededWorld(t *testing.T) {
	w := newWorld()
	srv := instagramtest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	if len(r.sink.Profiles) != 1 {
		t.Fatalf("profiles: %d", len(r.sink.Profiles))
	}
	p := r.sink.Profiles[0]
	if p.NativeID != srv.UserID() || p.Handle != "clintoncityut" || p.DisplayName != "Clinton City, Utah" ||
		p.Description != "Official Instagram of Clinton City 🏙️" || p.Website != "https://www.clintoncity.net" ||
		p.URL != "https://www.instagram.com/clintoncityut/" || !strings.Contains(p.AvatarURL, "/media/avatar.jpg") || p.RawKey == "" {
		t.Errorf("profile: %+v", p)
	}
	got := r.sink.ByID()
	for _, p := range w.Posts() {
		if p.Title == "Road closure" {
			it := got[srv.NativeID(p.ID)]
			if it.Text != "Main St closed between 1st and 3rd Ave on Saturday for the parade 🎉" || it.Extra["media_type"] != "IMAGE" || it.Media[0].NativeID != it.NativeID {
				t.Errorf("road closure post: %+v", it)
			}
		}
	}
}

func TestPaginationAndCarousel(t *testing.T) {
	w := platformtest.NewWorld(start, platformtest.Profile{Handle: "clintoncityut"})
	w.AddMedia("a.jpg", "image/jpeg", []byte("jpeg a"))
	w.AddMedia("b.mp4", "video/mp4", []byte("mp4 b"))
	var posts []string
	for i := range 5 {
		posts = append(posts, w.AddPost("", fmt.Sprintf("foto %d — ñ 📸", i), "a.jpg", "b.mp4"))
	}
	for i := range 7 {
		c := w.AddComment(posts[1], "", "Ana", fmt.Sprintf("comment %d", i))
		if i == 0 {
			for j := range 4 {
				w.AddComment(posts[1], c, "Bob", fmt.Sprintf("reply %d", j))
			}
		}
	}
	srv := instagramtest.NewServer(w, instagramtest.WithPageSizes(2, 3))
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	it := r.sink.ByID()[srv.NativeID(posts[0])]
	want := []platforms.Media{
		{NativeID: instagramtest.MediaID(posts[0], "a.jpg"), Kind: "image"},
		{NativeID: instagramtest.MediaID(posts[0], "b.mp4"), Kind: "video"},
	}
	if it.Extra["media_type"] != "CAROUSEL_ALBUM" || len(it.Media) != 2 {
		t.Fatalf("carousel: %+v", it)
	}
	for i, m := range want {
		if it.Media[i].NativeID != m.NativeID || it.Media[i].Kind != m.Kind {
			t.Errorf("child %d: %+v, want %+v", i, it.Media[i], m)
		}
	}
}

func TestEditsAndDeletions(t *testing.T) {
	w := newWorld()
	srv := instagramtest.NewServer(w)
	defer srv.Close()
	if r := capture(t, srv.Account(), full); r.err != nil {
		t.Fatal(r.err)
	}
	posts := w.Posts()
	council, parade := posts[1], posts[2]
	thread := w.Thread(parade.ID)
	edited, deleted := thread[0], thread[3]
	w.Edit(parade.ID, "Main St reopens at 3 pm — ¡gracias! 🎉")
	w.Edit(edited.ID, "¿Ya abrieron? 🚗")
	w.Delete(council.ID)
	w.Delete(deleted.ID)
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	got := r.sink.ByID()
	if it := got[srv.NativeID(parade.ID)]; it.Text != "Main St reopens at 3 pm — ¡gracias! 🎉" || it.EditMarker != "" {
		t.Errorf("edited caption: %+v", it)
	}
	if it := got[srv.NativeID(edited.ID)]; it.Text != "¿Ya abrieron? 🚗" || it.EditMarker != "" || it.EditedAt != nil || len(it.History) != 0 {
		t.Errorf("edited comment (no marker, no history on Instagram): %+v", it)
	}
	for _, id := range []string{srv.NativeID(council.ID), srv.NativeID(deleted.ID)} {
		if _, ok := got[id]; ok {
			t.Errorf("deleted %s still reported", id)
		}
	}
}

func TestHiddenComments(t *testing.T) {
	w := newWorld()
	post := w.Posts()[0]
	c := w.AddComment(post.ID, "", "Troll", "spam spam")
	w.Hide(c, true)
	srv := instagramtest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
	if it := r.sink.ByID()[srv.NativeID(c)]; !it.Hidden {
		t.Errorf("hidden comment: %+v", it)
	}
}

func TestIncremental(t *testing.T) {
	w := newWorld()
	var paths []string
	srv := instagramtest.NewServer(w, instagramtest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			h.ServeHTTP(rw, r)
		})
	}))
	defer srv.Close()
	posts := w.Posts()
	r := capture(t, srv.Account(), platforms.Options{Since: posts[1].Created.Add(-time.Second)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := r.sink.ByID()
	for i, p := range posts {
		_, ok := got[srv.NativeID(p.ID)]
		if ok != (i < 2) {
			t.Errorf("post %d reported = %v", i, ok)
		}
	}
	old := srv.NativeID(posts[2].ID)
	for _, p := range paths {
		if strings.Contains(p, old) {
			t.Errorf("old post's comments fetched: %s", p)
		}
	}
	if r.sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
}

// TestLikeCountNotContent: like_count changes between captures; the items
// must not.
func TestLikeCountNotContent(t *testing.T) {
	w := newWorld()
	srv := instagramtest.NewServer(w)
	defer srv.Close()
	a, b := capture(t, srv.Account(), full), capture(t, srv.Account(), full)
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	changedRaw := false
	for id, x := range a.sink.ByID() {
		y := b.sink.ByID()[id]
		if x.RawKey != y.RawKey {
			changedRaw = true
		}
		x.RawKey, y.RawKey = "", ""
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if !bytes.Equal(jx, jy) {
			t.Errorf("item %s changed:\n%s\n%s", id, jx, jy)
		}
	}
	if !changedRaw {
		t.Error("the raw pages should differ (like_count moved): the test does not exercise the quirk")
	}
}

func TestSecretsNotStored(t *testing.T) {
	w := newWorld()
	srv := instagramtest.NewServer(w)
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	tok := []byte(srv.Credential())
	redacted := 0
	for _, b := range r.blobs.All() {
		if bytes.Contains(b, tok) {
			t.Fatalf("a raw blob holds the credential: %.200s", b)
		}
		if bytes.Contains(b, []byte("access_token=%5BREDACTED%5D")) || bytes.Contains(b, []byte("access_token="+platforms.Redacted)) {
			redacted++
		}
	}
	if redacted == 0 {
		t.Error("no paging.next link was redacted")
	}
	for _, v := range []any{r.sink.Items, r.sink.Profiles} {
		if b, _ := json.Marshal(v); bytes.Contains(b, tok) {
			t.Fatal("an item or profile holds the credential")
		}
	}
}

func TestForeignNextNotFollowed(t *testing.T) {
	w := newWorld()
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("foreign host called: %s", r.URL)
	}))
	defer evil.Close()
	var srv *instagramtest.Server
	srv = instagramtest.NewServer(w, instagramtest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"next":"`+srv.URL), []byte(`"next":"`+evil.URL))
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(rec.Code)
			rw.Write(body)
		})
	}))
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkWorld(t, srv, w, r)
}
