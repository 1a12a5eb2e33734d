package mastodon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

var start = time.Date(2024, 5, 1, 16, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	return platformtest.NewWorld(start, platformtest.Profile{
		ID: "city", Handle: "clintoncity", DisplayName: "City of Clinton",
		Description: "Official account of Clinton City, Utah — Ciudad de Clinton 🏛️",
		Website:     "https://clintoncity.com", Email: "info@clintoncity.com",
	})
}

func seeded() *platformtest.World {
	w := newWorld()
	platformtest.Seed(w)
	return w
}

type result = platformtest.Recording

func capture(t *testing.T, acct platforms.Account, opts platforms.Options, blobs *platformtest.MemBlobs) result {
	t.Helper()
	return platformtest.Capture(t, mastodon.New(), acct, opts, blobs)
}

var full = platforms.Options{Full: true}

// checkWorld compares what was reported with the world: exactly its posts
// and comments, kinds, parents, texts byte for byte, parents first.
func checkWorld(t *testing.T, srv *mastodontest.Server, w *platformtest.World, s *platformtest.Sink) {
	t.Helper()
	want := map[string]platforms.Item{}
	for _, p := range w.Posts() {
		want[srv.NativeID(p.ID)] = platforms.Item{Kind: platforms.KindPost, Text: p.Text}
		for _, c := range w.Thread(p.ID) {
			kind, parent := platforms.KindComment, srv.NativeID(p.ID)
			if c.ParentID != "" {
				kind, parent = platforms.KindReply, srv.NativeID(c.ParentID)
			}
			want[srv.NativeID(c.ID)] = platforms.Item{Kind: kind, Text: c.Text, ParentNativeID: parent,
				RootNativeID: srv.NativeID(p.ID), AuthorName: c.AuthorName}
		}
	}
	seen := map[string]bool{}
	for _, it := range s.Items {
		if seen[it.NativeID] {
			t.Errorf("%s reported twice", it.NativeID)
		}
		if it.ParentNativeID != "" && !seen[it.ParentNativeID] {
			t.Errorf("%s reported before its parent %s", it.NativeID, it.ParentNativeID)
		}
		seen[it.NativeID] = true
		wt, ok := want[it.NativeID]
		if !ok {
			t.Errorf("reported %s (%s %q) which the world does not show", it.NativeID, it.Kind, it.Text)
			continue
		}
		if it.Kind != wt.Kind || it.Text != wt.Text || it.ParentNativeID != wt.ParentNativeID || it.RootNativeID != wt.RootNativeID {
			t.Errorf("%s = {%s %q parent %s root %s}, want {%s %q parent %s root %s}", it.NativeID,
				it.Kind, it.Text, it.ParentNativeID, it.RootNativeID, wt.Kind, wt.Text, wt.ParentNativeID, wt.RootNativeID)
		}
		if wt.AuthorName != "" && it.AuthorName != wt.AuthorName {
			t.Errorf("%s author %q, want %q", it.NativeID, it.AuthorName, wt.AuthorName)
		}
	}
	for id, wt := range want {
		if !seen[id] {
			t.Errorf("missing %s %s %q", wt.Kind, id, wt.Text)
		}
	}
}

func checkComplete(t *testing.T, srv *mastodontest.Server, w *platformtest.World, s *platformtest.Sink, except ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, e := range except {
		skip[srv.NativeID(e)] = true
	}
	for _, p := range w.Posts() {
		id := srv.NativeID(p.ID)
		if got := s.CompleteThread[id]; got == skip[id] {
			t.Errorf("ThreadComplete(%s) = %v, want %v", id, got, !skip[id])
		}
	}
}

func TestCaptureFull(t *testing.T) {
	w := seeded()
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	res := capture(t, srv.Account(), full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, srv, w, res.Sink)
	checkComplete(t, srv, w, res.Sink)
	if !res.Sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	if len(res.Sink.Profiles) != 1 {
		t.Fatalf("profiles = %d", len(res.Sink.Profiles))
	}
	p := res.Sink.Profiles[0]
	if p.Handle != "clintoncity" || p.DisplayName != "City of Clinton" || p.Description != w.Profile.Description ||
		p.Website != "https://clintoncity.com" || p.Email != "info@clintoncity.com" || !p.Verified || p.RawKey == "" {
		t.Errorf("profile = %+v", p)
	}
	if _, ok := res.Blobs.Get(p.RawKey); !ok {
		t.Error("profile RawKey not in blobs")
	}
	byID := res.Sink.ByID()
	post := byID[srv.NativeID(w.Posts()[2].ID)] // the oldest: road closure
	if len(post.Media) != 1 || post.Media[0].URL != srv.URL+"/media/road.jpg" || post.Media[0].Kind != "image" || post.Media[0].NativeID == "" {
		t.Fatalf("media = %+v", post.Media)
	}
	if post.Extra["spoiler_text"] != "Road closure" || !strings.Contains(post.Extra["html"], "🎉") || post.EditMarker != "" {
		t.Errorf("post extra = %+v", post)
	}
	c := platformtest.Client(t, res.Blobs, nil)
	rc, _, err := c.Download(context.Background(), post.Media[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if m, _ := w.Media("road.jpg"); !bytes.Equal(got, m.Data) {
		t.Error("media bytes differ")
	}
	for _, it := range res.Sink.Items {
		if it.RawKey == "" || it.CreatedAt == nil {
			t.Errorf("%s: RawKey %q CreatedAt %v", it.NativeID, it.RawKey, it.CreatedAt)
		}
	}
}

func TestPagination(t *testing.T) {
	for _, size := range []int{2, 3} { // 2: the last page is exactly full and links to an empty one
		w := newWorld()
		for i := range 10 {
			p := w.AddPost("", "Aviso número "+string(rune('A'+i))+" ✅")
			if i == 4 {
				var last string
				for j := range 8 {
					c := w.AddComment(p, "", "Vecino", "comentario "+string(rune('a'+j)))
					last = w.AddComment(p, c, "City of Clinton", "respuesta 🙏")
				}
				w.AddComment(p, last, "Vecino", "¡gracias!")
			}
		}
		srv := mastodontest.NewServer(w, mastodontest.WithPageSize(size))
		res := capture(t, srv.Account(), full, nil)
		if res.Err != nil {
			t.Fatalf("page size %d: %v", size, res.Err)
		}
		checkWorld(t, srv, w, res.Sink)
		checkComplete(t, srv, w, res.Sink)
		if !res.Sink.PostsDone {
			t.Errorf("page size %d: PostsComplete not called", size)
		}
		srv.Close()
	}
}

func TestEditsAndDeletions(t *testing.T) {
	w := seeded()
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	if res := capture(t, srv.Account(), full, nil); res.Err != nil {
		t.Fatal(res.Err)
	}
	posts := w.Posts() // newest first: winter, council, road
	road, council := posts[2], posts[1]
	thread := w.Thread(road.ID)
	anaQ, bob := thread[0], thread[3]
	w.Edit(road.ID, "Main St closed between 1st and 3rd Ave on Saturday — parade moved to 10 am 🎉")
	w.Edit(anaQ.ID, "¿A qué hora abren de nuevo? 🚗 (editado)")
	w.Delete(council.ID)
	w.Delete(bob.ID)

	res := capture(t, srv.Account(), full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, srv, w, res.Sink)
	checkComplete(t, srv, w, res.Sink)
	if !res.Sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	byID := res.Sink.ByID()
	for _, tc := range []struct{ id, old string }{{road.ID, road.Text}, {anaQ.ID, anaQ.Text}} {
		it := byID[srv.NativeID(tc.id)]
		if it.EditMarker == "" || it.EditedAt == nil {
			t.Errorf("%s: no edit marker", tc.id)
		}
		if len(it.History) != 1 || it.History[0].Text != tc.old || it.History[0].NativeID != it.NativeID || it.History[0].RawKey == "" {
			t.Errorf("%s: history = %+v", tc.id, it.History)
		}
	}
	for _, gone := range []string{council.ID, bob.ID} {
		if _, ok := byID[srv.NativeID(gone)]; ok {
			t.Errorf("deleted %s reported", gone)
		}
	}
}

func TestHiddenCommentsStayPublic(t *testing.T) {
	// Mastodon has no page-moderator "hide": a status is public or deleted.
	// A comment hidden in the world is still served and reported, not Hidden.
	w := seeded()
	c := w.Thread(w.Posts()[1].ID)[0]
	w.Hide(c.ID, true)
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	res := capture(t, srv.Account(), full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	it, ok := res.Sink.ByID()[srv.NativeID(c.ID)]
	if !ok || it.Hidden {
		t.Errorf("hidden comment: reported %v, Hidden %v", ok, it.Hidden)
	}
}

// pathLog records the paths a server was asked for.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) mw(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(rw, r)
	})
}

func (l *pathLog) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.paths {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}

func TestIncremental(t *testing.T) {
	w := seeded()
	posts := w.Posts() // winter, council, road
	log := &pathLog{}
	srv := mastodontest.NewServer(w, mastodontest.WithMiddleware(log.mw), mastodontest.WithPageSize(2))
	defer srv.Close()
	res := capture(t, srv.Account(), platforms.Options{Since: posts[1].Created}, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	byID := res.Sink.ByID()
	for _, p := range posts[:2] {
		if byID[srv.NativeID(p.ID)].Kind != platforms.KindPost || !res.Sink.CompleteThread[srv.NativeID(p.ID)] {
			t.Errorf("post %s not captured", p.ID)
		}
	}
	old := srv.NativeID(posts[2].ID)
	if _, ok := byID[old]; ok || log.has(old) {
		t.Errorf("old post %s fetched (reported %v)", old, ok)
	}
	if res.Sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
}

// TestIncrementalOwnReplyInOldThread: the account's reply to a comment is in
// its statuses listing; when the thread's post is older than Since, the
// post and its thread are read through the reply's /context, and every
// status is reported once with the right kind.
func TestIncrementalOwnReplyInOldThread(t *testing.T) {
	w := seeded()
	road := w.Posts()[2]
	reply := w.Thread(road.ID)[1] // "Around 3 pm", by the city
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	res := capture(t, srv.Account(), platforms.Options{Since: reply.Created.Add(-30 * time.Second)}, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, srv, w, res.Sink)
	checkComplete(t, srv, w, res.Sink)
	if it := res.Sink.ByID()[srv.NativeID(reply.ID)]; it.Kind != platforms.KindReply {
		t.Errorf("own reply kind = %q", it.Kind)
	}
}

// TestPublicContextLimit: without a token /context stops at 60
// descendants. The connector must not call such a thread complete (the
// run would mark replies 61+ deleted); with a token it reads them all.
func TestPublicContextLimit(t *testing.T) {
	w := seeded()
	busy := w.AddPost("", "Budget hearing tonight. Comments welcome 💬")
	for i := range 65 {
		w.AddComment(busy, "", "Resident", "comment "+strings.Repeat("!", i+1))
	}
	for _, tc := range []struct {
		name   string
		public bool
	}{{"public", true}, {"token", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mastodontest.NewServer(w)
			defer srv.Close()
			acct := srv.Account()
			if tc.public {
				acct.Credential = ""
			}
			res := capture(t, acct, full, nil)
			n := 0
			for _, it := range res.Sink.Items {
				if it.RootNativeID == srv.NativeID(busy) {
					n++
				}
			}
			if tc.public {
				if !errors.Is(res.Err, mastodon.ErrThreadCapped) {
					t.Errorf("err = %v, want ErrThreadCapped", res.Err)
				}
				if n != 60 {
					t.Errorf("got %d comments, want the 60 public ones", n)
				}
				checkComplete(t, srv, w, res.Sink, busy)
				return
			}
			if res.Err != nil || n != 65 {
				t.Fatalf("err %v, %d comments", res.Err, n)
			}
			checkWorld(t, srv, w, res.Sink)
			checkComplete(t, srv, w, res.Sink)
		})
	}
}

// TestDeepThreadPublic: without a token /context stops at depth 20; the
// connector reads the /context of the deepest replies to get the rest.
func TestDeepThreadPublic(t *testing.T) {
	w := seeded()
	p := w.AddPost("", "Snow plow schedule ❄️")
	parent := ""
	for i := range 27 {
		who := "Vecina"
		if i%2 == 1 {
			who = "City of Clinton"
		}
		parent = w.AddComment(p, parent, who, "nivel "+strings.Repeat("·", i))
	}
	srv := mastodontest.NewServer(w, mastodontest.WithCredential(""))
	defer srv.Close()
	if srv.Account().Credential != "" {
		t.Fatal("credential set")
	}
	res := capture(t, srv.Account(), full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, srv, w, res.Sink)
	checkComplete(t, srv, w, res.Sink)
}

// TestRecaptureSameContent: counters (favourites, followers) move between
// requests on the fake server; the items must not.
func TestRecaptureSameContent(t *testing.T) {
	w := seeded()
	w.Edit(w.Thread(w.Posts()[2].ID)[0].ID, "editado ✏️")
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	a, b := capture(t, srv.Account(), full, nil), capture(t, srv.Account(), full, nil)
	if a.Err != nil || b.Err != nil {
		t.Fatal(a.Err, b.Err)
	}
	norm := func(its []platforms.Item) string {
		var out []platforms.Item
		for _, it := range its {
			it.RawKey = ""
			for i := range it.History {
				it.History[i].RawKey = ""
			}
			out = append(out, it)
		}
		j, _ := json.Marshal(out)
		return string(j)
	}
	if norm(a.Sink.Items) != norm(b.Sink.Items) {
		t.Errorf("unchanged world, different items:\n%s\n%s", norm(a.Sink.Items), norm(b.Sink.Items))
	}
}

// TestLookupByIDAfterRename: the acct no longer resolves (the account was
// renamed); the registered native id still does.
func TestLookupByIDAfterRename(t *testing.T) {
	w := seeded()
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	acct := srv.Account()
	acct.Handle = "@oldname"
	res := capture(t, acct, full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, srv, w, res.Sink)
	acct.NativeID = ""
	if res := capture(t, acct, full, nil); !errors.Is(res.Err, platforms.ErrNotFound) {
		t.Errorf("unknown acct: err = %v", res.Err)
	}
}

// TestPostDeletedDuringRun: /context answers 404 for a post deleted after
// it was listed: its thread is gone, which is not an error.
func TestPostDeletedDuringRun(t *testing.T) {
	w := seeded()
	council := w.Posts()[1]
	id := srvNativeIDProbe(w, council.ID)
	srv := mastodontest.NewServer(w, mastodontest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/statuses/"+id+"/context" {
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusNotFound)
				io.WriteString(rw, `{"error":"Record not found"}`)
				return
			}
			h.ServeHTTP(rw, r)
		})
	}))
	defer srv.Close()
	res := capture(t, srv.Account(), full, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkComplete(t, srv, w, res.Sink, council.ID)
	if !res.Sink.PostsDone {
		t.Error("PostsComplete not called")
	}
}

func TestCancelled(t *testing.T) {
	w := seeded()
	srv := mastodontest.NewServer(w)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := platformtest.NewSink()
	err := mastodon.New().Capture(ctx, srv.Account(), full, platformtest.Client(t, &platformtest.MemBlobs{}, nil), sink)
	if !errors.Is(err, context.Canceled) || sink.PostsDone || len(sink.CompleteThread) > 0 {
		t.Errorf("err = %v, sink = %+v", err, sink)
	}
}
