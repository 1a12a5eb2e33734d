package graphtest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// What the facebook and instagram tests share about checking a capture of
// their fake servers.

// World says how a connector's capture of a fake server should look:
// NativeID maps world ids to the ids the connector reports; Post and
// Comment check what is particular to the platform.
type World struct {
	NativeID func(worldID string) string
	Post     func(t testing.TB, p platformtest.Post, id string, it platforms.Item)
	Comment  func(t testing.TB, c platformtest.Comment, id string, it platforms.Item)
}

// CheckWorld compares what was reported with the world's current state:
// as many posts and comments+replies; each post reported with its text,
// creation time and media files (in order), its thread complete; each
// comment reported with its kind, parent, root, text and hidden flag, after
// its parent; PostsComplete called.
func (c World) CheckWorld(t testing.TB, w *platformtest.World, s *platformtest.Sink) {
	t.Helper()
	got := s.ByID()
	order := map[string]int{}
	for i, it := range s.Items {
		if _, dup := order[it.NativeID]; !dup {
			order[it.NativeID] = i
		}
	}
	posts, comments := w.Counts()
	if n := s.Count(platforms.KindPost); n != posts {
		t.Errorf("posts: got %d, want %d", n, posts)
	}
	if n := s.Count(platforms.KindComment) + s.Count(platforms.KindReply); n != comments {
		t.Errorf("comments+replies: got %d, want %d", n, comments)
	}
	for _, p := range w.Posts() {
		id := c.NativeID(p.ID)
		it, ok := got[id]
		if !ok {
			t.Errorf("post %s (%s) not reported", p.ID, id)
			continue
		}
		if it.Kind != platforms.KindPost || it.Text != p.Text || it.CreatedAt == nil || !it.CreatedAt.Equal(p.Created) {
			t.Errorf("post %s: got %+v, want text %q created %v", id, it, p.Text, p.Created)
		}
		if len(it.Media) != len(p.Media) {
			t.Errorf("post %s: media %+v, want %v", id, it.Media, p.Media)
		}
		for i, m := range p.Media {
			if i < len(it.Media) && !strings.Contains(it.Media[i].URL, "/media/"+m) {
				t.Errorf("post %s media %d: %+v", id, i, it.Media[i])
			}
		}
		c.Post(t, p, id, it)
		if !s.CompleteThread[id] {
			t.Errorf("thread %s not complete", id)
		}
		for _, cm := range w.Thread(p.ID) {
			c.checkComment(t, cm, got, order, id)
		}
	}
	if !s.PostsDone {
		t.Error("PostsComplete not called")
	}
}

func (c World) checkComment(t testing.TB, cm platformtest.Comment, got map[string]platforms.Item, order map[string]int, postID string) {
	t.Helper()
	id := c.NativeID(cm.ID)
	it, ok := got[id]
	if !ok {
		t.Errorf("comment %s (%s) %q not reported", cm.ID, id, cm.Text)
		return
	}
	kind, parent := platforms.KindComment, postID
	if cm.ParentID != "" {
		kind, parent = platforms.KindReply, c.NativeID(cm.ParentID)
	}
	if it.Kind != kind || it.ParentNativeID != parent || it.RootNativeID != postID {
		t.Errorf("comment %s: kind %s parent %s root %s; want %s %s %s", id, it.Kind, it.ParentNativeID, it.RootNativeID, kind, parent, postID)
	}
	if it.Text != cm.Text || it.Hidden != cm.Hidden {
		t.Errorf("comment %s: got text %q hidden %v; want %q %v", id, it.Text, it.Hidden, cm.Text, cm.Hidden)
	}
	c.Comment(t, cm, id, it)
	if p, ok := order[parent]; ok && p > order[id] {
		t.Errorf("comment %s reported before its parent %s", id, parent)
	}
}

// CheckSecretsNotStored: the access token is in no stored raw page, item or
// profile, and at least one stored page held a redacted paging.next link
// (else the capture did not exercise redaction).
func CheckSecretsNotStored(t testing.TB, r platformtest.Recording, token string) {
	t.Helper()
	if b, ok := platformtest.BlobWith(r.Blobs, token); ok {
		t.Fatalf("a raw blob holds the credential: %.200s", b)
	}
	redacted := 0
	for _, b := range r.Blobs.All() {
		if bytes.Contains(b, []byte("access_token="+platforms.Redacted)) || bytes.Contains(b, []byte("access_token=%5BREDACTED%5D")) {
			redacted++
		}
	}
	if redacted == 0 {
		t.Error("no paging.next link was redacted: the test does not exercise redaction")
	}
	if platformtest.ReportedWith(r.Sink, token) {
		t.Fatal("an item or profile holds the credential")
	}
}

// ForeignNext starts a server on another host that fails t when called
// (closed at the end of the test) and returns a middleware for a fake Graph
// server that points every paging.next link on *self (the fake's URL, set
// once it runs) at that foreign host.
func ForeignNext(t testing.TB, self *string) func(http.Handler) http.Handler {
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("foreign host called: %s", r.URL)
	}))
	t.Cleanup(evil.Close)
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"next":"`+*self), []byte(`"next":"`+evil.URL))
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.Header().Del("Content-Length")
			rw.WriteHeader(rec.Code)
			rw.Write(body)
		})
	}
}

// FaultCase is a capture against a fake server with faults injected.
type FaultCase struct {
	Name         string
	Plan         func(n int, r *http.Request) platformtest.Fault
	WantErr      error  // nil: success
	WantWait     bool   // the 2s Retry-After was honoured
	Incomplete   string // this thread must not be complete
	PostsDone    bool
	WantInErrMsg string // the error says this
	ErrPrefix    string // with WantErr: the error starts with this
}

// CheckFault checks the capture r of tc: the error wanted (on success,
// checkWorld holds), the wait honoured, PostsComplete as wanted, and only
// the failed thread incomplete.
func (c World) CheckFault(t testing.TB, tc FaultCase, w *platformtest.World, r platformtest.Recording, checkWorld func()) {
	t.Helper()
	if tc.WantErr == nil {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		checkWorld()
	} else if !errors.Is(r.Err, tc.WantErr) {
		t.Fatalf("err = %v, want %v", r.Err, tc.WantErr)
	}
	if tc.WantInErrMsg != "" && !strings.Contains(r.Err.Error(), tc.WantInErrMsg) {
		t.Errorf("err %q does not say %q", r.Err, tc.WantInErrMsg)
	}
	if tc.WantErr != nil && tc.ErrPrefix != "" && !strings.HasPrefix(r.Err.Error(), tc.ErrPrefix) {
		t.Errorf("error not wrapped: %v", r.Err)
	}
	if tc.WantWait && !platformtest.ContainsWait(r.Waits, 2*time.Second) {
		t.Errorf("waits %v lack the 2s Retry-After", r.Waits)
	}
	if r.Sink.PostsDone != tc.PostsDone {
		t.Errorf("PostsDone = %v, want %v", r.Sink.PostsDone, tc.PostsDone)
	}
	if tc.Incomplete != "" {
		if r.Sink.CompleteThread[tc.Incomplete] {
			t.Errorf("thread %s marked complete after a failed page", tc.Incomplete)
		}
		for _, p := range w.Posts() {
			if id := c.NativeID(p.ID); id != tc.Incomplete && !r.Sink.CompleteThread[id] {
				t.Errorf("thread %s of another post not complete", id)
			}
		}
	}
}
