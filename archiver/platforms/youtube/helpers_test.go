package youtube

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
)

var start = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func newWorld() *platformtest.World {
	return platformtest.NewWorld(start, platformtest.Profile{
		ID: "clinton", Handle: "ClintonCityUT", DisplayName: "Clinton City, Utah",
		Description: "Official channel of Clinton City 🏔️ — info@clintoncity.gov",
		Website:     "https://clintoncity.gov", Email: "info@clintoncity.gov",
	})
}

func seeded() *platformtest.World {
	w := newWorld()
	platformtest.Seed(w)
	return w
}

// harness is one fake server and what captures against it recorded.
type harness struct {
	t     *testing.T
	w     *platformtest.World
	srv   *youtubetest.Server
	blobs *platformtest.MemBlobs
	waits []time.Duration

	mu    sync.Mutex
	paths []string // every API request, path and query without key
}

func newHarness(t *testing.T, w *platformtest.World, opts ...youtubetest.Option) *harness {
	t.Helper()
	h := &harness{t: t, w: w, blobs: &platformtest.MemBlobs{}}
	log := youtubetest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del("key")
			h.mu.Lock()
			h.paths = append(h.paths, r.URL.Path+"?"+q.Encode())
			h.mu.Unlock()
			next.ServeHTTP(rw, r)
		})
	})
	h.srv = youtubetest.NewServer(w, append([]youtubetest.Option{log}, opts...)...)
	t.Cleanup(h.srv.Close)
	return h
}

// capture runs the connector once with a fresh sink.
func (h *harness) capture(opts platforms.Options) (*platformtest.Sink, error) {
	return h.captureAs(h.srv.Account(), opts)
}

func (h *harness) captureAs(acct platforms.Account, opts platforms.Options) (*platformtest.Sink, error) {
	h.t.Helper()
	r := platformtest.Capture(h.t, New(), acct, opts, h.blobs)
	h.waits = append(h.waits, r.Waits...)
	h.checkNoSecret(r.Sink, r.Err)
	return r.Sink, r.Err
}

// calls counts API requests to path (e.g. "/youtube/v3/comments").
func (h *harness) calls(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, p := range h.paths {
		if strings.HasPrefix(p, path+"?") {
			n++
		}
	}
	return n
}

// checkNoSecret: the key is in no blob, item, profile or error.
func (h *harness) checkNoSecret(sink *platformtest.Sink, err error) {
	h.t.Helper()
	key := h.srv.Credential()
	if key == "" {
		return
	}
	if _, ok := platformtest.BlobWith(h.blobs, key); ok {
		h.t.Errorf("a stored blob contains the API key")
	}
	if platformtest.ReportedWith(sink, key) {
		h.t.Errorf("a reported item or profile contains the API key")
	}
	if err != nil && strings.Contains(err.Error(), key) {
		h.t.Errorf("the error contains the API key: %v", err)
	}
}

// want is what the connector should report for a world post or comment.
type want struct {
	kind, parent, root, title, text string
}

// expected renders the world as YouTube shows it: every visible post, every
// visible, not hidden comment; replies at any depth hang under their
// top-level comment.
func expected(w *platformtest.World, srv *youtubetest.Server) map[string]want {
	out := map[string]want{}
	for _, p := range w.Posts() {
		vid := srv.NativeID(p.ID)
		out[vid] = want{kind: platforms.KindPost, title: p.Title, text: p.Text}
		for _, c := range w.Thread(p.ID) {
			if c.Hidden {
				continue
			}
			top := c
			for top.ParentID != "" {
				top, _ = w.Comment(top.ParentID)
			}
			if top.Hidden {
				continue
			}
			wc := want{kind: platforms.KindComment, parent: vid, root: vid, text: c.Text}
			if c.ParentID != "" {
				wc.kind, wc.parent = platforms.KindReply, srv.NativeID(top.ID)
			}
			out[srv.NativeID(c.ID)] = wc
		}
	}
	return out
}

// checkReported compares what the sink got with the world, field by field,
// and checks parents came before children.
func checkReported(t *testing.T, sink *platformtest.Sink, w *platformtest.World, srv *youtubetest.Server) {
	t.Helper()
	exp := expected(w, srv)
	got := sink.ByID()
	if len(got) != len(exp) || len(sink.Items) != len(exp) {
		t.Errorf("reported %d items (%d distinct), want %d", len(sink.Items), len(got), len(exp))
	}
	pos := map[string]int{}
	for i, it := range sink.Items {
		pos[it.NativeID] = i
	}
	for id, e := range exp {
		it, ok := got[id]
		if !ok {
			t.Errorf("missing %s %s %q", e.kind, id, e.text)
			continue
		}
		g := want{kind: it.Kind, parent: it.ParentNativeID, root: it.RootNativeID, title: it.Title, text: it.Text}
		if g != e {
			t.Errorf("%s:\n got %+v\nwant %+v", id, g, e)
		}
		if it.RawKey == "" || it.CreatedAt == nil {
			t.Errorf("%s: RawKey %q CreatedAt %v", id, it.RawKey, it.CreatedAt)
		}
		if e.parent != "" && pos[e.parent] > pos[id] {
			t.Errorf("%s reported before its parent %s", id, e.parent)
		}
	}
	for id := range got {
		if _, ok := exp[id]; !ok {
			t.Errorf("reported %s, which the world does not show", id)
		}
	}
}

func checkThreadsComplete(t *testing.T, sink *platformtest.Sink, w *platformtest.World, srv *youtubetest.Server) {
	t.Helper()
	for _, p := range w.Posts() {
		if !sink.CompleteThread[srv.NativeID(p.ID)] {
			t.Errorf("thread of post %s (%q) not complete", p.ID, p.Title)
		}
	}
}
