package x

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/x/xtest"
)

// start is two days ago, so recent search sees every seeded reply.
var start = time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)

func newWorld() *platformtest.World {
	return platformtest.NewWorld(start, platformtest.Profile{
		Handle: "ClintonCityUT", DisplayName: "City of Clinton",
		Description: "Official account of Clinton City, Utah 🏔️", Website: "https://www.clintoncity.net",
	})
}

func seeded() *platformtest.World {
	w := newWorld()
	platformtest.Seed(w)
	return w
}

type result = platformtest.Recording

func capture(t *testing.T, conn *Connector, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	return platformtest.Capture(t, conn, acct, opts, nil)
}

var full = platforms.Options{Full: true}

// checkWorld asserts the sink holds exactly the world's visible posts,
// comments and replies, in X's shapes, parents before children.
func checkWorld(t *testing.T, srv *xtest.Server, w *platformtest.World, s *platformtest.Sink) {
	t.Helper()
	posts, comments := w.Counts()
	if len(s.Items) != posts+comments {
		t.Errorf("reported %d items, want %d posts + %d comments", len(s.Items), posts, comments)
	}
	seen := map[string]int{}
	for i, it := range s.Items {
		if _, dup := seen[it.NativeID]; dup {
			t.Errorf("item %s reported twice", it.NativeID)
		}
		seen[it.NativeID] = i
	}
	got := s.ByID()
	for _, p := range w.Posts() {
		it, ok := got[srv.NativeID(p.ID)]
		if !ok {
			t.Errorf("post %s missing", p.ID)
			continue
		}
		if it.Kind != platforms.KindPost || it.Text != srv.Text(p.ID) || it.ParentNativeID != "" {
			t.Errorf("post %s: %+v", p.ID, it)
		}
		if !strings.Contains(p.Text, "http") && it.Text != p.Text {
			t.Errorf("post %s text %q, want %q", p.ID, it.Text, p.Text)
		}
		for _, c := range w.Thread(p.ID) {
			ci, ok := got[srv.NativeID(c.ID)]
			if !ok {
				t.Errorf("comment %s missing", c.ID)
				continue
			}
			kind, parent := platforms.KindComment, p.ID
			if c.ParentID != "" {
				kind, parent = platforms.KindReply, c.ParentID
			}
			if ci.Kind != kind || ci.ParentNativeID != srv.NativeID(parent) || ci.RootNativeID != srv.NativeID(p.ID) {
				t.Errorf("comment %s: kind %s parent %s root %s", c.ID, ci.Kind, ci.ParentNativeID, ci.RootNativeID)
			}
			if ci.Text != srv.Text(c.ID) || !strings.HasPrefix(ci.Text, "@") || !strings.HasSuffix(ci.Text, " "+c.Text) {
				t.Errorf("comment %s text %q, want @mention + %q", c.ID, ci.Text, c.Text)
			}
			if seen[ci.ParentNativeID] >= seen[ci.NativeID] {
				t.Errorf("comment %s reported before its parent", c.ID)
			}
		}
	}
}

// TestCaptureSeed: a full capture of the seeded world reports the profile,
// every post, comment and reply (emoji and Spanish byte for byte), media,
// and marks every thread and the post listing complete.
func TestCaptureSeed(t *testing.T) {
	w := seeded()
	srv := xtest.NewServer(w)
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r.Sink)
	if len(r.Sink.Profiles) != 1 {
		t.Fatalf("%d profiles", len(r.Sink.Profiles))
	}
	p := r.Sink.Profiles[0]
	if p.Handle != "ClintonCityUT" || p.DisplayName != "City of Clinton" || p.NativeID != srv.Account().NativeID ||
		p.Website != "https://www.clintoncity.net" || p.Description != w.Profile.Description || p.RawKey == "" {
		t.Errorf("profile %+v", p)
	}
	for _, post := range w.Posts() {
		if !r.Sink.CompleteThread[srv.NativeID(post.ID)] {
			t.Errorf("thread %s not complete", post.ID)
		}
	}
	if !r.Sink.PostsDone {
		t.Error("PostsComplete not called")
	}
	road := r.Sink.ByID()[srv.NativeID(w.Posts()[2].ID)]
	if len(road.Media) != 1 || road.Media[0].URL != srv.URL+"/media/road.jpg" || road.Media[0].NativeID == "" || road.Media[0].Kind != "image" {
		t.Errorf("media %+v", road.Media)
	}
	for _, it := range r.Sink.Items {
		if it.RawKey == "" || it.CreatedAt == nil || it.EditMarker != it.NativeID {
			t.Errorf("item %s: raw %q created %v marker %q", it.NativeID, it.RawKey, it.CreatedAt, it.EditMarker)
		}
	}
}

// TestPagination: enough posts and replies for several pages of the
// timeline and of each conversation search.
func TestPagination(t *testing.T) {
	w := newWorld()
	var first string
	for i := range 8 {
		id := w.AddPost("", fmt.Sprintf("Aviso %d: ¡reciclaje el jueves! ♻️", i))
		if i == 0 {
			first = id
		}
	}
	var parent string
	for i := range 7 {
		c := w.AddComment(first, "", fmt.Sprintf("Vecino%d", i), fmt.Sprintf("Comentario %d 👍", i))
		if i == 0 {
			parent = c
		}
	}
	for i := range 4 {
		parent = w.AddComment(first, parent, "Deep", fmt.Sprintf("nivel %d", i))
	}
	var mu sync.Mutex
	paged := map[string]int{}
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("pagination_token") != "" || r.URL.Query().Get("next_token") != "" {
				mu.Lock()
				paged[r.URL.Path]++
				mu.Unlock()
			}
			h.ServeHTTP(rw, r)
		})
	}
	srv := xtest.NewServer(w, xtest.WithPageSize(3), xtest.WithMiddleware(count))
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r.Sink)
	if paged["/2/users/"+srv.Account().NativeID+"/tweets"] < 2 || paged["/2/tweets/search/recent"] < 3 {
		t.Errorf("follow-up pages requested: %v", paged)
	}
	if !r.Sink.PostsDone || !r.Sink.CompleteThread[srv.NativeID(first)] {
		t.Error("not complete")
	}
}

// TestEditsAndDeletions: edits come back as new tweet ids; the item keeps
// the chain's first id, the new text, the chain as edit marker and the old
// text in History; deleted posts and comments are no longer reported and
// the remaining threads still complete.
func TestEditsAndDeletions(t *testing.T) {
	w := seeded()
	srv := xtest.NewServer(w)
	defer srv.Close()
	if r := capture(t, New(), srv.Account(), full); r.Err != nil {
		t.Fatal(r.Err)
	}
	posts := w.Posts() // newest first: winter, council, road
	road, council, winter := posts[2], posts[1], posts[0]
	ana := w.Thread(road.ID)[0]
	w.Edit(road.ID, "Main St closed between 1st and 3rd Ave on Saturday 🎉 (updated route)")
	w.Edit(ana.ID, "¿A qué hora reabren? 🚗")
	late := w.AddComment(road.ID, ana.ID, "Dan", "Replying after the edit")
	carol := w.Thread(council.ID)[0]
	w.Delete(carol.ID)
	w.Delete(winter.ID)

	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkWorld(t, srv, w, r.Sink)
	got := r.Sink.ByID()
	for _, tc := range []struct{ world, old string }{{road.ID, road.Text}, {ana.ID, srv.Text(ana.ID)[:strings.Index(srv.Text(ana.ID), " ")+1] + ana.Text}} {
		it := got[srv.NativeID(tc.world)]
		marker := srv.VersionID(tc.world, 0) + "," + srv.VersionID(tc.world, 1)
		if it.Text != srv.Text(tc.world) || it.EditMarker != marker || it.EditedAt == nil {
			t.Errorf("edited %s: text %q marker %q", tc.world, it.Text, it.EditMarker)
		}
		if len(it.History) != 1 || it.History[0].Text != tc.old || it.History[0].EditMarker != srv.VersionID(tc.world, 0) ||
			it.History[0].NativeID != it.NativeID {
			t.Errorf("history of %s: %+v", tc.world, it.History)
		}
	}
	if it := got[srv.NativeID(late)]; it.ParentNativeID != srv.NativeID(ana.ID) {
		t.Errorf("reply to edited comment: parent %q, want chain root %q", it.ParentNativeID, srv.NativeID(ana.ID))
	}
	for _, gone := range []string{carol.ID, winter.ID} {
		if _, ok := got[srv.NativeID(gone)]; ok {
			t.Errorf("deleted %s still reported", gone)
		}
	}
	if !r.Sink.CompleteThread[srv.NativeID(council.ID)] || !r.Sink.CompleteThread[srv.NativeID(road.ID)] || !r.Sink.PostsDone {
		t.Error("threads or listing not complete after deletions")
	}
}

// TestHiddenRepliesStillCaptured: X's API v2 has no hidden flag on tweets
// and search still returns hidden replies, so they are captured, unflagged.
func TestHiddenRepliesStillCaptured(t *testing.T) {
	w := seeded()
	bob := w.Thread(w.Posts()[2].ID)[3]
	w.Hide(bob.ID, true)
	srv := xtest.NewServer(w)
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if it, ok := r.Sink.ByID()[srv.NativeID(bob.ID)]; !ok || it.Hidden {
		t.Errorf("hidden reply: %+v, %v", it, ok)
	}
}

// TestLinksExpanded: links come back as t.co in the text (kept as is) and
// the expanded URL goes to Extra.
func TestLinksExpanded(t *testing.T) {
	w := newWorld()
	id := w.AddPost("", "Agenda del concejo 📄 https://www.clintoncity.net/agenda?id=7 ¡Participe!")
	srv := xtest.NewServer(w)
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	it := r.Sink.ByID()[srv.NativeID(id)]
	if !strings.Contains(it.Text, "https://t.co/") || it.Text != srv.Text(id) || it.Extra["expanded_urls"] != "https://www.clintoncity.net/agenda?id=7" {
		t.Errorf("got text %q extra %v", it.Text, it.Extra)
	}
}

// TestIncremental: with Since after the oldest post, older posts and their
// threads are not fetched, and the listing is not complete.
func TestIncremental(t *testing.T) {
	w := seeded()
	var mu sync.Mutex
	var queries []string
	rec := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			mu.Lock()
			queries = append(queries, r.URL.Query().Get("query"))
			mu.Unlock()
			h.ServeHTTP(rw, r)
		})
	}
	srv := xtest.NewServer(w, xtest.WithMiddleware(rec))
	defer srv.Close()
	posts := w.Posts()
	road := posts[2]
	r := capture(t, New(), srv.Account(), platforms.Options{Since: posts[1].Created})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got := r.Sink.ByID()
	if _, ok := got[srv.NativeID(road.ID)]; ok {
		t.Error("post older than Since reported")
	}
	if _, ok := got[srv.NativeID(posts[1].ID)]; !ok {
		t.Error("post at Since missing")
	}
	for _, q := range queries {
		if q == "conversation_id:"+srv.NativeID(road.ID) {
			t.Error("thread of an old post read")
		}
	}
	if r.Sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
}

// TestOldPostsNeedFullArchive: posts older than 7 days are captured, but
// recent search cannot see their threads, so they are not complete; with
// FullArchiveSearch the threads are read through /2/tweets/search/all.
func TestOldPostsNeedFullArchive(t *testing.T) {
	for _, fullArchive := range []bool{false, true} {
		t.Run(fmt.Sprint("full_archive=", fullArchive), func(t *testing.T) {
			w := seeded()
			later := func() time.Time { return start.Add(10 * 24 * time.Hour) }
			srv := xtest.NewServer(w, xtest.WithNow(later))
			defer srv.Close()
			conn := &Connector{FullArchiveSearch: fullArchive, now: later}
			r := capture(t, conn, srv.Account(), full)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			posts, comments := w.Counts()
			wantComments := 0
			if fullArchive {
				wantComments = comments
			}
			if got := r.Sink.Count(platforms.KindPost); got != posts {
				t.Errorf("%d posts, want %d", got, posts)
			}
			if got := r.Sink.Count(platforms.KindComment) + r.Sink.Count(platforms.KindReply); got != wantComments {
				t.Errorf("%d comments, want %d", got, wantComments)
			}
			if len(r.Sink.CompleteThread) != 0 != fullArchive || !r.Sink.PostsDone {
				t.Errorf("complete threads %v, posts %v", r.Sink.CompleteThread, r.Sink.PostsDone)
			}
		})
	}
}

// TestTimelineCap: X only lists the newest 3,200 posts (shrunk here); a
// listing that stops at the cap is not complete.
func TestTimelineCap(t *testing.T) {
	tests := []struct {
		posts    int
		wantSeen int
		complete bool
	}{
		{posts: 4, wantSeen: 4, complete: true},
		{posts: 5, wantSeen: 5, complete: false}, // reached the cap exactly: cannot tell
		{posts: 9, wantSeen: 5, complete: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.posts), func(t *testing.T) {
			w := newWorld()
			for i := range tt.posts {
				w.AddPost("", fmt.Sprint("post ", i))
			}
			srv := xtest.NewServer(w, xtest.WithTimelineCap(5), xtest.WithPageSize(2))
			defer srv.Close()
			r := capture(t, &Connector{timelineCap: 5}, srv.Account(), full)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if len(r.Sink.Items) != tt.wantSeen || r.Sink.PostsDone != tt.complete {
				t.Errorf("seen %d, complete %v", len(r.Sink.Items), r.Sink.PostsDone)
			}
		})
	}
}

// TestEmptyTimeline: an empty page omits data; that is a valid end.
func TestEmptyTimeline(t *testing.T) {
	srv := xtest.NewServer(newWorld())
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil || len(r.Sink.Items) != 0 || !r.Sink.PostsDone || len(r.Sink.Profiles) != 1 {
		t.Errorf("err %v items %d done %v", r.Err, len(r.Sink.Items), r.Sink.PostsDone)
	}
}

// TestSecretsNeverStored: no raw page, item or profile holds the token.
func TestSecretsNeverStored(t *testing.T) {
	w := seeded()
	leak := func(h http.Handler) http.Handler { // a server that echoes the header back
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("X-Echo", r.Header.Get("Authorization"))
			h.ServeHTTP(rw, r)
		})
	}
	srv := xtest.NewServer(w, xtest.WithMiddleware(leak))
	defer srv.Close()
	acct := srv.Account()
	r := capture(t, New(), acct, full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	bad := acct
	bad.Credential = "wrong-" + acct.Credential
	r2 := capture(t, New(), bad, full)
	for _, res := range []result{r, r2} {
		if _, ok := platformtest.BlobWith(res.Blobs, acct.Credential); ok {
			t.Error("credential in a stored blob")
		}
		if platformtest.ReportedWith(res.Sink, acct.Credential) {
			t.Error("credential in an item or profile")
		}
	}
	if r2.Err == nil || strings.Contains(r2.Err.Error(), acct.Credential) {
		t.Errorf("error leaks or is missing: %v", r2.Err)
	}
}

// TestWrongCredential: X's 401 problem body is ErrAuth and stops the run
// with nothing marked complete.
func TestWrongCredential(t *testing.T) {
	srv := xtest.NewServer(seeded())
	defer srv.Close()
	acct := srv.Account()
	acct.Credential = "AAAAAAAAAAAAAAAAAAAAAnot-the-token"
	r := capture(t, New(), acct, full)
	var he *platforms.HTTPError
	if !errors.Is(r.Err, platforms.ErrAuth) || !errors.As(r.Err, &he) || he.Status != 401 || !strings.Contains(he.Body, `"title":"Unauthorized"`) {
		t.Fatalf("err %v", r.Err)
	}
	if !strings.HasPrefix(r.Err.Error(), "x: ") {
		t.Errorf("error not wrapped by the connector: %v", r.Err)
	}
	if len(r.Sink.Items) != 0 || len(r.Sink.CompleteThread) != 0 || r.Sink.PostsDone {
		t.Error("something reported or completed")
	}
}

// TestAccountRepliesInTimeline: the timeline also lists the account's own
// replies. One in a conversation the account started belongs to that
// thread (reported once, as a reply); one in someone else's conversation
// is something the city published, reported as a post with what it
// answers in Extra.
func TestAccountRepliesInTimeline(t *testing.T) {
	w := seeded()
	const foreignRoot, reply = "1789999999999990000", "1790000000000000040"
	var srv *xtest.Server
	inject := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/2/tweets" && r.URL.Query().Get("ids") == foreignRoot:
				rw.Write([]byte(`{"data":[{"id":"` + foreignRoot + `","text":"¿Cuándo abre Main St?","author_id":"99887766","conversation_id":"` + foreignRoot + `","edit_history_tweet_ids":["` + foreignRoot + `"]}]}`))
			case strings.HasPrefix(r.URL.Path, "/2/users/") && strings.HasSuffix(r.URL.Path, "/tweets") && r.URL.Query().Get("pagination_token") == "":
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				var page map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
					t.Error(err)
				}
				page["data"] = append(page["data"].([]any), map[string]any{
					"id": reply, "text": "@vecino_ana Abrimos a las 3 pm. ¡Gracias!", "author_id": srv.Account().NativeID,
					"created_at": time.Now().UTC().Format(time.RFC3339), "conversation_id": foreignRoot, "in_reply_to_user_id": "99887766",
					"referenced_tweets": []map[string]string{{"type": "replied_to", "id": foreignRoot}}, "edit_history_tweet_ids": []string{reply},
				})
				json.NewEncoder(rw).Encode(page)
			default:
				h.ServeHTTP(rw, r)
			}
		})
	}
	srv = xtest.NewServer(w, xtest.WithMiddleware(inject))
	defer srv.Close()
	r := capture(t, New(), srv.Account(), full)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got := r.Sink.ByID()
	it, ok := got[reply]
	if !ok || it.Kind != platforms.KindPost || it.Extra["in_reply_to_tweet_id"] != foreignRoot || it.Text != "@vecino_ana Abrimos a las 3 pm. ¡Gracias!" {
		t.Errorf("reply in a foreign conversation: %+v", it)
	}
	cityReply := w.Thread(w.Posts()[2].ID)[1] // the account answering Ana in its own thread
	if c := got[srv.NativeID(cityReply.ID)]; c.Kind != platforms.KindReply {
		t.Errorf("own-thread reply reported as %q", c.Kind)
	}
	n := 0
	for _, i := range r.Sink.Items {
		if i.NativeID == srv.NativeID(cityReply.ID) {
			n++
		}
	}
	if n != 1 || !r.Sink.PostsDone {
		t.Errorf("own-thread reply reported %d times; posts done %v", n, r.Sink.PostsDone)
	}
}
