package feed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed/feedtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	w := platformtest.NewWorld(start, platformtest.Profile{
		ID: "clinton-news", Handle: "news", DisplayName: "Clinton City — Noticias",
		Description: "Official news of Clinton City, Utah 🏔️", Website: "https://www.clintoncity.example",
		Email: "pio@clintoncity.example",
	})
	platformtest.Seed(w)
	return w
}

type result = platformtest.Recording

func capture(t *testing.T, conn *feed.Connector, acct platforms.Account, opts platforms.Options) result {
	t.Helper()
	return platformtest.Capture(t, conn, acct, opts, nil)
}

// accounts are the server's two feeds.
func accounts(s *feedtest.Server) map[string]platforms.Account {
	return map[string]platforms.Account{"atom": s.Account(), "rss": s.RSSAccount()}
}

// checkMatchesWorld: the capture reported exactly the world's visible posts
// (and nothing else), in the world's text, each with a complete thread.
func checkMatchesWorld(t *testing.T, s *feedtest.Server, w *platformtest.World, r result) {
	t.Helper()
	posts := w.Posts()
	got := r.Sink.ByID()
	if len(got) != len(posts) || len(r.Sink.Items) != len(posts) {
		t.Fatalf("reported %d items (%d distinct), world has %d posts", len(r.Sink.Items), len(got), len(posts))
	}
	for _, p := range posts {
		id := s.NativeID(p.ID)
		it, ok := got[id]
		if !ok {
			t.Errorf("post %s (%s) not reported", p.ID, id)
			continue
		}
		if it.Kind != platforms.KindPost || it.ParentNativeID != "" || it.RootNativeID != "" {
			t.Errorf("%s: kind %q parent %q root %q", id, it.Kind, it.ParentNativeID, it.RootNativeID)
		}
		if it.Text != p.Text || it.Title != p.Title {
			t.Errorf("%s: title/text = %q / %q, want %q / %q", id, it.Title, it.Text, p.Title, p.Text)
		}
		if it.CreatedAt == nil || !it.CreatedAt.Equal(p.Created) {
			t.Errorf("%s: created %v, want %v", id, it.CreatedAt, p.Created)
		}
		if it.Permalink != s.PostURL(p.ID) {
			t.Errorf("%s: permalink %q", id, it.Permalink)
		}
		var urls []string
		for _, m := range it.Media {
			urls = append(urls, m.URL)
		}
		var want []string
		for _, name := range p.Media {
			want = append(want, s.MediaURL(name))
		}
		if !slices.Equal(urls, want) {
			t.Errorf("%s: media %v, want %v", id, urls, want)
		}
		if it.RawKey == "" {
			t.Errorf("%s: no raw key", id)
		} else if _, ok := r.Blobs.Get(it.RawKey); !ok {
			t.Errorf("%s: raw key %s not in the blob store", id, it.RawKey)
		}
		if !r.Sink.CompleteThread[id] {
			t.Errorf("%s: thread not complete", id)
		}
	}
	if len(r.Sink.CompleteThread) != len(posts) {
		t.Errorf("%d threads complete, want %d", len(r.Sink.CompleteThread), len(posts))
	}
}

// TestCaptureFull captures the seeded world from both feeds: every post,
// no comments (feeds have none), the profile, media, complete threads, and
// PostsComplete only for a CompleteFeed connector.
func TestCaptureFull(t *testing.T) {
	w := newWorld()
	s := feedtest.NewServer(w)
	defer s.Close()
	for name, acct := range accounts(s) {
		for _, complete := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/complete=%v", name, complete), func(t *testing.T) {
				r := capture(t, &feed.Connector{CompleteFeed: complete}, acct, platforms.Options{Full: true})
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				checkMatchesWorld(t, s, w, r)
				if r.Sink.Count(platforms.KindComment)+r.Sink.Count(platforms.KindReply) != 0 {
					t.Error("a feed reported comments")
				}
				if r.Sink.PostsDone != complete {
					t.Errorf("PostsComplete = %v, want %v", r.Sink.PostsDone, complete)
				}
				if len(r.Sink.Profiles) != 1 {
					t.Fatalf("%d profiles", len(r.Sink.Profiles))
				}
				p := r.Sink.Profiles[0]
				if p.DisplayName != "Clinton City — Noticias" || p.Description != "Official news of Clinton City, Utah 🏔️" ||
					p.Website != "https://www.clintoncity.example" || p.Email != "pio@clintoncity.example" ||
					p.Handle != acct.Handle || p.NativeID != acct.Handle || p.RawKey == "" {
					t.Errorf("profile = %+v", p)
				}
			})
		}
	}
}

// TestMediaServed: the listed media URLs download the world's bytes.
func TestMediaServed(t *testing.T) {
	w := newWorld()
	s := feedtest.NewServer(w)
	defer s.Close()
	r := capture(t, feed.New(), s.Account(), platforms.Options{Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	cl := platformtest.Client(t, &platformtest.MemBlobs{}, nil)
	n := 0
	for _, it := range r.Sink.Items {
		for _, m := range it.Media {
			body, ctype, err := cl.Download(context.Background(), m.URL)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(body)
			body.Close()
			want, _ := w.Media("road.jpg")
			if !bytes.Equal(data, want.Data) || ctype != "image/jpeg" || m.Kind != "image" {
				t.Errorf("media %s: %d bytes, %s, kind %s", m.URL, len(data), ctype, m.Kind)
			}
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d media listed, want 1 (enclosure, media:content and <img> are one file)", n)
	}
}

// pathRecorder records the request URIs a server sees.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.RequestURI())
		p.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (p *pathRecorder) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.paths)
}

// bigWorld has 11 posts: four Atom pages of three.
func bigWorld() *platformtest.World {
	w := newWorld()
	for i := range 8 {
		w.AddPost(fmt.Sprintf("Aviso %d", i), fmt.Sprintf("Aviso número %d: reunión del consejo 📣", i))
	}
	return w
}

// TestPagination follows rel="next" (paged feed) and rel="prev-archive"
// (archived feed) through every page.
func TestPagination(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []feedtest.Option
	}{
		{"paged rel=next", nil},
		{"archived rel=prev-archive", []feedtest.Option{feedtest.WithArchives()}},
		{"page size 2", []feedtest.Option{feedtest.WithPageSize(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := bigWorld()
			rec := &pathRecorder{}
			s := feedtest.NewServer(w, append(tc.opts, feedtest.WithMiddleware(rec.middleware))...)
			defer s.Close()
			r := capture(t, &feed.Connector{CompleteFeed: true}, s.Account(), platforms.Options{Full: true})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			checkMatchesWorld(t, s, w, r)
			if !r.Sink.PostsDone {
				t.Error("PostsComplete not called after the last page")
			}
			size := 3
			if tc.name == "page size 2" {
				size = 2
			}
			pages := (len(w.Posts()) + size - 1) / size
			if got := rec.get(); len(got) != pages || s.Requests() != pages {
				t.Errorf("requests %v, want %d pages", got, pages)
			}
		})
	}
}

// TestEditsAndDeletions: an edited post comes back with the new text and
// its Atom <updated> (or RSS atom:updated) as the edit marker; a deleted
// post is no longer reported, and the other threads still complete.
func TestEditsAndDeletions(t *testing.T) {
	for _, name := range []string{"atom", "rss"} {
		t.Run(name, func(t *testing.T) {
			w := bigWorld()
			s := feedtest.NewServer(w)
			defer s.Close()
			acct := accounts(s)[name]
			conn := &feed.Connector{CompleteFeed: true}
			first := capture(t, conn, acct, platforms.Options{Full: true})
			if first.Err != nil {
				t.Fatal(first.Err)
			}
			posts := w.Posts()
			edited, deleted := posts[len(posts)-1].ID, posts[1].ID
			w.Edit(edited, "Main St reabre a las 3 pm ✅ (actualizado)")
			w.Delete(deleted)
			second := capture(t, conn, acct, platforms.Options{Full: true})
			if second.Err != nil {
				t.Fatal(second.Err)
			}
			checkMatchesWorld(t, s, w, second)
			got := second.Sink.ByID()
			if _, ok := got[s.NativeID(deleted)]; ok {
				t.Error("deleted post reported")
			}
			it := got[s.NativeID(edited)]
			p, _ := w.Post(edited)
			if it.Text != "Main St reabre a las 3 pm ✅ (actualizado)" || it.EditedAt == nil || !it.EditedAt.Equal(*p.Edited) ||
				it.EditMarker != p.Edited.UTC().Format(time.RFC3339Nano) {
				t.Errorf("edited item = text %q edited %v marker %q", it.Text, it.EditedAt, it.EditMarker)
			}
			before := first.Sink.ByID()[s.NativeID(edited)]
			if before.EditMarker != "" || before.EditedAt != nil {
				t.Errorf("unedited post had an edit marker %q", before.EditMarker)
			}
			if !second.Sink.PostsDone {
				t.Error("PostsComplete not called")
			}
		})
	}
}

// TestLatestNFeed: a feed that shows only its latest entries never says
// the listing is complete, so older entries are not taken as deleted.
func TestLatestNFeed(t *testing.T) {
	w := bigWorld()
	s := feedtest.NewServer(w, feedtest.WithRSSLimit(4))
	defer s.Close()
	r := capture(t, feed.New(), s.RSSAccount(), platforms.Options{Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.Sink.Items) != 4 || r.Sink.PostsDone {
		t.Errorf("%d items, PostsComplete %v; want 4 and false", len(r.Sink.Items), r.Sink.PostsDone)
	}
	for _, p := range w.Posts()[:4] {
		if !r.Sink.CompleteThread[s.NativeID(p.ID)] {
			t.Errorf("thread of %s not complete", p.ID)
		}
	}
}

// TestIncremental: entries published before Since are not reported and the
// pages after the first one that reached them are not fetched.
func TestIncremental(t *testing.T) {
	w := bigWorld()
	rec := &pathRecorder{}
	s := feedtest.NewServer(w, feedtest.WithMiddleware(rec.middleware))
	defer s.Close()
	posts := w.Posts() // newest first; 11 posts, pages of 3
	since := posts[4].Created.Add(-time.Second)
	r := capture(t, &feed.Connector{CompleteFeed: true}, s.Account(), platforms.Options{Since: since})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got := r.Sink.ByID()
	if len(got) != 5 {
		t.Errorf("reported %d posts, want 5", len(got))
	}
	for i, p := range posts {
		_, ok := got[s.NativeID(p.ID)]
		if ok != (i <= 4) {
			t.Errorf("post %d (%s) reported = %v", i, p.Created, ok)
		}
	}
	if paths := rec.get(); !slices.Equal(paths, []string{"/atom.xml", "/atom.xml?page=2"}) {
		t.Errorf("fetched %v, want the first two pages only", paths)
	}
	if r.Sink.PostsDone {
		t.Error("PostsComplete in an incremental run")
	}
}

// TestFaults: retries on 429 (waiting Retry-After) and 500; a truncated or
// garbage page fails the run with ErrMalformed and leaves the listing
// incomplete, keeping what was read before it.
func TestFaults(t *testing.T) {
	onPage := func(path string, f platformtest.Fault, once bool) func(int, *http.Request) platformtest.Fault {
		done := false
		return func(_ int, r *http.Request) platformtest.Fault {
			if r.URL.RequestURI() == path && !(once && done) {
				done = true
				return f
			}
			return platformtest.None
		}
	}
	tests := []struct {
		name      string
		plan      func(int, *http.Request) platformtest.Fault
		wantErr   error
		wantItems int
		wantWait  time.Duration
	}{
		{"429 then ok", onPage("/atom.xml?page=2", platformtest.TooMany, true), nil, 11, 2 * time.Second},
		{"500 then ok", onPage("/atom.xml", platformtest.Server, true), nil, 11, 0},
		{"truncated page 3", onPage("/atom.xml?page=3", platformtest.Truncated, false), platforms.ErrMalformed, 6, 0},
		{"garbage page 2", onPage("/atom.xml?page=2", platformtest.Garbage, false), platforms.ErrMalformed, 3, 0},
		{"garbage first page", onPage("/atom.xml", platformtest.Garbage, false), platforms.ErrMalformed, 0, 0},
		{"500 always", onPage("/atom.xml?page=4", platformtest.Server, false), nil, 9, 0},
		{"429 always", onPage("/atom.xml", platformtest.TooMany, false), platforms.ErrRateLimited, 0, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := bigWorld()
			s := feedtest.NewServer(w, feedtest.WithMiddleware(func(h http.Handler) http.Handler { return platformtest.Faults(h, tc.plan) }))
			defer s.Close()
			r := capture(t, &feed.Connector{CompleteFeed: true}, s.Account(), platforms.Options{Full: true})
			failed := tc.wantErr != nil || tc.name == "500 always"
			switch {
			case tc.wantErr != nil && !errors.Is(r.Err, tc.wantErr):
				t.Fatalf("err = %v, want %v", r.Err, tc.wantErr)
			case failed && r.Err == nil:
				t.Fatal("no error")
			case !failed && r.Err != nil:
				t.Fatal(r.Err)
			}
			if failed && !strings.HasPrefix(r.Err.Error(), "feed: ") {
				t.Errorf("error not wrapped by the connector: %v", r.Err)
			}
			if len(r.Sink.Items) != tc.wantItems || len(r.Sink.CompleteThread) != tc.wantItems {
				t.Errorf("%d items, %d threads complete; want %d", len(r.Sink.Items), len(r.Sink.CompleteThread), tc.wantItems)
			}
			if r.Sink.PostsDone == failed {
				t.Errorf("PostsComplete = %v after a run that failed=%v", r.Sink.PostsDone, failed)
			}
			if tc.wantWait > 0 && !slices.Contains(r.Waits, tc.wantWait) {
				t.Errorf("waits %v lack %v", r.Waits, tc.wantWait)
			}
		})
	}
}

// TestCredential: a private feed gets the bearer credential; a wrong one
// is ErrAuth with nothing marked complete; no stored page or error holds
// the credential.
func TestCredential(t *testing.T) {
	const secret = "feed-token-Zx81"
	w := newWorld()
	s := feedtest.NewServer(w, feedtest.WithCredential(secret))
	defer s.Close()
	if s.Credential() != secret || s.Account().Credential != secret {
		t.Fatal("server does not hand out its credential")
	}
	for _, acct := range accounts(s) {
		r := capture(t, feed.New(), acct, platforms.Options{Full: true})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		checkMatchesWorld(t, s, w, r)
		if _, ok := platformtest.BlobWith(r.Blobs, secret); ok {
			t.Error("credential stored in a blob")
		}
	}
	for _, cred := range []string{"", "wrong-token-123", "user:password"} {
		acct := s.Account()
		acct.Credential = cred
		r := capture(t, &feed.Connector{CompleteFeed: true}, acct, platforms.Options{Full: true})
		if !errors.Is(r.Err, platforms.ErrAuth) {
			t.Errorf("credential %q: err = %v, want ErrAuth", cred, r.Err)
		}
		if len(r.Sink.Items) != 0 || len(r.Sink.CompleteThread) != 0 || r.Sink.PostsDone || len(r.Sink.Profiles) != 0 {
			t.Errorf("credential %q: something reported or completed", cred)
		}
		if cred != "" && strings.Contains(r.Err.Error(), cred) {
			t.Errorf("error shows the credential: %v", r.Err)
		}
	}
}
