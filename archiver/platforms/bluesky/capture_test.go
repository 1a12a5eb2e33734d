package bluesky_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky/blueskytest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

var start = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	return platformtest.NewWorld(start, platformtest.Profile{
		Handle: "clintoncity.bsky.social", DisplayName: "City of Clinton",
		Description: "Official account of Clinton City, Utah 🏔️", Website: "https://www.clintoncity.com", Email: "info@clintoncity.com",
	})
}

func seeded() *platformtest.World {
	w := newWorld()
	platformtest.Seed(w)
	return w
}

type result = platformtest.Recording

func capture(t *testing.T, srv *blueskytest.Server, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	return platformtest.Capture(t, bluesky.New(), acct, opts, nil)
}

func full(t *testing.T, srv *blueskytest.Server) result {
	t.Helper()
	return capture(t, srv, srv.Account(), platforms.Options{Full: true})
}

// checkWorld compares what was captured with the World's visible state:
// exactly its posts, comments and replies, with kinds, parents, roots,
// texts byte for byte, hidden flags and media.
func checkWorld(t *testing.T, w *platformtest.World, srv *blueskytest.Server, sink *platformtest.Sink) {
	t.Helper()
	got := sink.ByID()
	want := 0
	for _, p := range w.Posts() {
		want++
		id := srv.NativeID(p.ID)
		it, ok := got[id]
		if !ok {
			t.Errorf("post %s (%q) not captured", p.ID, p.Text)
			continue
		}
		if it.Kind != platforms.KindPost || it.Text != p.Text || it.ParentNativeID != "" || it.EditMarker == "" {
			t.Errorf("post %s: kind %q text %q parent %q marker %q", p.ID, it.Kind, it.Text, it.ParentNativeID, it.EditMarker)
		}
		if it.CreatedAt == nil || !it.CreatedAt.Equal(p.Created) {
			t.Errorf("post %s: created %v, want %v", p.ID, it.CreatedAt, p.Created)
		}
		if len(it.Media) != len(p.Media) {
			t.Errorf("post %s: %d media, want %d", p.ID, len(it.Media), len(p.Media))
		}
		for i, m := range it.Media {
			if m.URL != srv.URL+"/media/"+p.Media[i] || !strings.HasPrefix(m.NativeID, "bafkrei") || m.Kind != "image" {
				t.Errorf("post %s media %d: %+v", p.ID, i, m)
			}
		}
		if !sink.CompleteThread[id] {
			t.Errorf("post %s: thread not complete", p.ID)
		}
		for _, c := range w.Thread(p.ID) {
			want++
			cit, ok := got[srv.NativeID(c.ID)]
			if !ok {
				t.Errorf("comment %s (%q) not captured", c.ID, c.Text)
				continue
			}
			kind, parent := platforms.KindComment, id
			if c.ParentID != "" {
				kind, parent = platforms.KindReply, srv.NativeID(c.ParentID)
			}
			if cit.Kind != kind || cit.ParentNativeID != parent || cit.RootNativeID != id || cit.Text != c.Text || cit.Hidden != c.Hidden {
				t.Errorf("comment %s: got kind %q parent %q root %q text %q hidden %v; want %q %q %q %q %v",
					c.ID, cit.Kind, cit.ParentNativeID, cit.RootNativeID, cit.Text, cit.Hidden, kind, parent, id, c.Text, c.Hidden)
			}
		}
	}
	if len(got) != want {
		t.Errorf("captured %d distinct items, world has %d", len(got), want)
	}
	// Parents come before children.
	seen := map[string]bool{}
	for _, it := range sink.Items {
		if it.ParentNativeID != "" && !seen[it.ParentNativeID] {
			t.Errorf("%s reported before its parent %s", it.NativeID, it.ParentNativeID)
		}
		seen[it.NativeID] = true
	}
}

func TestFullCaptureSeededWorld(t *testing.T) {
	w := seeded()
	srv := blueskytest.NewServer(w)
	defer srv.Close()
	res := full(t, srv)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, w, srv, res.Sink)
	if !res.Sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	if len(res.Sink.Profiles) != 1 {
		t.Fatalf("%d profiles", len(res.Sink.Profiles))
	}
	p := res.Sink.Profiles[0]
	if p.NativeID != srv.DID() || p.Handle != "clintoncity.bsky.social" || p.DisplayName != "City of Clinton" ||
		!strings.HasPrefix(p.Description, "Official account of Clinton City, Utah 🏔️") ||
		p.Website != "https://www.clintoncity.com" || p.Email != "info@clintoncity.com" || p.RawKey == "" {
		t.Errorf("profile %+v", p)
	}
	if _, ok := res.Blobs.Get(p.RawKey); !ok {
		t.Error("profile raw page not stored")
	}
	// The city's own reply in its thread is a reply by the account.
	for _, it := range res.Sink.Items {
		if it.Text == "Around 3 pm, thanks for asking!" && (it.AuthorID != srv.DID() || it.Kind != platforms.KindReply) {
			t.Errorf("city reply: %+v", it)
		}
		if _, ok := res.Blobs.Get(it.RawKey); !ok {
			t.Errorf("%s: raw page %q not stored", it.NativeID, it.RawKey)
		}
	}
}

// bigWorld has enough posts and comments to need several pages of each,
// and a reply chain deeper than the tests' thread depth.
func bigWorld(posts, comments int) *platformtest.World {
	w := newWorld()
	w.AddMedia("map.png", "image/png", []byte("\x89PNG fake"))
	for i := range posts {
		p := w.AddPost("", fmt.Sprintf("Aviso %d: recolección de basura 🗑️ el martes", i), "map.png")
		parent := ""
		for j := range comments {
			c := w.AddComment(p, "", fmt.Sprintf("Vecino %d", j), fmt.Sprintf("Comentario %d–%d ✅", i, j))
			if j%3 == 0 {
				parent = w.AddComment(p, c, "City of Clinton", "Gracias por avisar")
				w.AddComment(p, parent, "Vecino 0", "👍")
			}
		}
	}
	return w
}

func TestPagination(t *testing.T) {
	for _, size := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("page size %d", size), func(t *testing.T) {
			w := bigWorld(7, 5)
			feedCalls := 0
			var mu sync.Mutex
			srv := blueskytest.NewServer(w, blueskytest.WithPageSize(size), blueskytest.WithMiddleware(func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "getAuthorFeed") {
						mu.Lock()
						feedCalls++
						mu.Unlock()
					}
					h.ServeHTTP(rw, r)
				})
			}))
			defer srv.Close()
			res := full(t, srv)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			checkWorld(t, w, srv, res.Sink)
			if !res.Sink.PostsDone {
				t.Error("PostsComplete not called")
			}
			if min := (7 + size - 1) / size; feedCalls < min {
				t.Errorf("%d feed pages read, want at least %d", feedCalls, min)
			}
		})
	}
}

// TestDeepReplies: a reply chain deeper than the depth asked of
// getPostThread is followed with further getPostThread calls.
func TestDeepReplies(t *testing.T) {
	defer bluesky.SetThreadDepth(2)()
	w := newWorld()
	p := w.AddPost("", "Deep thread")
	parent := ""
	for i := range 7 {
		parent = w.AddComment(p, parent, fmt.Sprintf("P%d", i%2), fmt.Sprintf("nivel %d", i))
	}
	var mu sync.Mutex
	threads := 0
	srv := blueskytest.NewServer(w, blueskytest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if _, th := feedOrThread(r); th {
				mu.Lock()
				threads++
				mu.Unlock()
			}
			h.ServeHTTP(rw, r)
		})
	}))
	defer srv.Close()
	res := full(t, srv)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, w, srv, res.Sink)
	if threads != 4 { // levels 1-2, then 3-4, 5-6 and 7
		t.Errorf("%d getPostThread calls, want 4", threads)
	}

	// A failing continuation call leaves the thread incomplete.
	srv2 := blueskytest.NewServer(w, blueskytest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, func(_ int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "getPostThread") && r.URL.Query().Get("uri") != srv.NativeID(p) {
				return platformtest.Garbage
			}
			return platformtest.None
		})
	}))
	defer srv2.Close()
	res = full(t, srv2)
	if !errors.Is(res.Err, platforms.ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed", res.Err)
	}
	if res.Sink.CompleteThread[srv2.NativeID(p)] {
		t.Error("thread marked complete after a failed continuation")
	}
	if !res.Sink.PostsDone {
		t.Error("the listing was complete: PostsComplete expected")
	}
}

func TestEditsAndDeletions(t *testing.T) {
	w := seeded()
	srv := blueskytest.NewServer(w)
	defer srv.Close()
	first := full(t, srv)
	if first.Err != nil {
		t.Fatal(first.Err)
	}
	posts := w.Posts()
	post := posts[len(posts)-1] // the road closure post
	comment := w.Thread(post.ID)[0]
	w.Edit(post.ID, "Main St closed between 1st and 3rd Ave on Saturday — parade moved to 10 am 🎉")
	w.Edit(comment.ID, "¿A qué hora abren de nuevo? 🚗 (gracias)")

	second := full(t, srv)
	if second.Err != nil {
		t.Fatal(second.Err)
	}
	checkWorld(t, w, srv, second.Sink)
	for _, id := range []string{post.ID, comment.ID} {
		before, after := first.Sink.ByID()[srv.NativeID(id)], second.Sink.ByID()[srv.NativeID(id)]
		if before.EditMarker == after.EditMarker || after.EditMarker == "" {
			t.Errorf("%s: edit marker %q → %q, want a new cid", id, before.EditMarker, after.EditMarker)
		}
		if before.Text == after.Text {
			t.Errorf("%s: text unchanged", id)
		}
	}
	// An unedited item keeps its cid.
	other := w.Thread(post.ID)[3]
	if a, b := first.Sink.ByID()[srv.NativeID(other.ID)], second.Sink.ByID()[srv.NativeID(other.ID)]; a.EditMarker != b.EditMarker {
		t.Errorf("unedited comment changed cid %q → %q", a.EditMarker, b.EditMarker)
	}

	deletedPost := posts[0].ID
	deletedComment := comment.ID
	deletedReplies := w.Thread(post.ID)[1:3]
	w.Delete(deletedPost)
	w.Delete(deletedComment)
	third := full(t, srv)
	if third.Err != nil {
		t.Fatal(third.Err)
	}
	checkWorld(t, w, srv, third.Sink)
	got := third.Sink.ByID()
	for _, id := range []string{deletedPost, deletedComment, deletedReplies[0].ID, deletedReplies[1].ID} {
		if _, ok := got[srv.NativeID(id)]; ok {
			t.Errorf("deleted %s still reported", id)
		}
	}
	if !third.Sink.CompleteThread[srv.NativeID(post.ID)] || !third.Sink.PostsDone {
		t.Error("threads and listing must still complete after deletions")
	}
}

func TestHiddenReplies(t *testing.T) {
	w := seeded()
	p := w.Posts()[1]
	c := w.Thread(p.ID)[0]
	w.Hide(c.ID, true)
	srv := blueskytest.NewServer(w)
	defer srv.Close()
	res := full(t, srv)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, w, srv, res.Sink)
	hidden := 0
	for _, it := range res.Sink.ByID() {
		if it.Hidden {
			hidden++
		}
	}
	if !res.Sink.ByID()[srv.NativeID(c.ID)].Hidden || hidden != 1 {
		t.Errorf("hidden items %d; the hidden comment flagged: %v", hidden, res.Sink.ByID()[srv.NativeID(c.ID)].Hidden)
	}
}

// TestRepostsAndAccountReplies: reposts of other accounts are not posts,
// and the account's replies are not posts even when the server ignores
// filter=posts_no_replies and lists them in the feed.
func TestRepostsAndAccountReplies(t *testing.T) {
	w := seeded()
	dropFilter := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del("filter")
			r.URL.RawQuery = q.Encode()
			h.ServeHTTP(rw, r)
		})
	}
	srv := blueskytest.NewServer(w, blueskytest.WithRepost(), blueskytest.WithMiddleware(dropFilter))
	defer srv.Close()
	res := full(t, srv)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, w, srv, res.Sink)
	if n := res.Sink.Count(platforms.KindPost); n != 3 {
		t.Errorf("%d posts, want 3", n)
	}
}

func TestIncremental(t *testing.T) {
	for _, repost := range []bool{false, true} {
		t.Run(fmt.Sprintf("repost=%v", repost), func(t *testing.T) {
			w := seeded()
			posts := w.Posts() // newest first
			oldest := posts[len(posts)-1]
			var opts []blueskytest.Option
			if repost {
				opts = append(opts, blueskytest.WithRepost()) // an old post reposted at the top must not stop paging
			}
			var mu sync.Mutex
			var threads []string
			opts = append(opts, blueskytest.WithMiddleware(func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "getPostThread") {
						mu.Lock()
						threads = append(threads, r.URL.Query().Get("uri"))
						mu.Unlock()
					}
					h.ServeHTTP(rw, r)
				})
			}))
			srv := blueskytest.NewServer(w, opts...)
			defer srv.Close()
			res := capture(t, srv, srv.Account(), platforms.Options{Since: oldest.Created.Add(time.Second)})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			got := res.Sink.ByID()
			if _, ok := got[srv.NativeID(oldest.ID)]; ok {
				t.Error("post older than Since was reported")
			}
			for _, u := range threads {
				if u == srv.NativeID(oldest.ID) {
					t.Error("thread of post older than Since was fetched")
				}
			}
			for _, p := range posts[:len(posts)-1] {
				if _, ok := got[srv.NativeID(p.ID)]; !ok || !res.Sink.CompleteThread[srv.NativeID(p.ID)] {
					t.Errorf("newer post %s missing or incomplete", p.ID)
				}
			}
			if res.Sink.PostsDone {
				t.Error("PostsComplete called in an incremental run")
			}
		})
	}
}

func TestConnectorIdentity(t *testing.T) {
	c := bluesky.New()
	if c.Platform() != platforms.Bluesky || c.DefaultAPIBase() != "https://public.api.bsky.app" {
		t.Errorf("platform %q base %q", c.Platform(), c.DefaultAPIBase())
	}
}

func TestServerRequestsAndMedia(t *testing.T) {
	w := seeded()
	srv := blueskytest.NewServer(w)
	defer srv.Close()
	res := full(t, srv)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	n := srv.Requests()
	var post platforms.Item
	for _, it := range res.Sink.Items {
		if len(it.Media) > 0 {
			post = it
		}
	}
	c := platformtest.Client(t, &platformtest.MemBlobs{}, nil)
	body, ct, err := c.Download(context.Background(), post.Media[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if ct != "image/jpeg" || srv.Requests() != n+1 {
		t.Errorf("media content type %q, requests %d → %d", ct, n, srv.Requests())
	}
}
