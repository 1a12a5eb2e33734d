package youtube

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
)

// faultOn applies f to requests whose path and query contain every one of
// match: to the first `times` of them, or to all when times is 0.
func faultOn(f platformtest.Fault, times int, match ...string) func(int, *http.Request) platformtest.Fault {
	seen := 0
	return func(_ int, r *http.Request) platformtest.Fault {
		s := r.URL.Path + "?" + r.URL.RawQuery
		for _, m := range match {
			if !strings.Contains(s, m) {
				return platformtest.None
			}
		}
		seen++
		if times > 0 && seen > times {
			return platformtest.None
		}
		return f
	}
}

func TestCaptureFaults(t *testing.T) {
	w := seeded()
	posts := w.Posts() // winter, council, road
	probe := youtubetest.NewServer(w)
	road := probe.NativeID(posts[2].ID)
	probe.Close()

	tests := []struct {
		name       string
		plan       func(int, *http.Request) platformtest.Fault
		wantErr    error
		wantWait   time.Duration
		incomplete []string // video ids whose thread must not complete
		postsDone  bool
	}{
		{name: "429 with Retry-After then success", plan: faultOn(platformtest.TooMany, 1, "/commentThreads"),
			wantWait: 2 * time.Second, postsDone: true},
		{name: "429 on the post listing then success", plan: faultOn(platformtest.TooMany, 2, "/playlistItems"),
			wantWait: 2 * time.Second, postsDone: true},
		{name: "500 once then success", plan: faultOn(platformtest.Server, 1, "/videos"), postsDone: true},
		{name: "500 once on replies then success", plan: faultOn(platformtest.Server, 1, "/comments?"), postsDone: true},
		{name: "truncated comments page", plan: faultOn(platformtest.Truncated, 0, "/commentThreads", "videoId="+road),
			wantErr: platforms.ErrMalformed, incomplete: []string{road}, postsDone: true},
		{name: "truncated replies page", plan: faultOn(platformtest.Truncated, 0, "/comments?"),
			wantErr: platforms.ErrMalformed, incomplete: []string{road}, postsDone: true},
		{name: "truncated post listing", plan: faultOn(platformtest.Truncated, 0, "/playlistItems", "pageToken="),
			wantErr: platforms.ErrMalformed, postsDone: false},
		{name: "garbage 200 on videos", plan: faultOn(platformtest.Garbage, 0, "/videos"),
			wantErr: platforms.ErrMalformed, postsDone: false},
		{name: "garbage 200 on comments", plan: faultOn(platformtest.Garbage, 0, "/commentThreads", "videoId="+road),
			wantErr: platforms.ErrMalformed, incomplete: []string{road}, postsDone: true},
		{name: "slow answers", plan: faultOn(platformtest.Slow, 2, "/"), postsDone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := seeded()
			h := newHarness(t, w, youtubetest.WithMiddleware(func(next http.Handler) http.Handler {
				return platformtest.Faults(next, tc.plan)
			}))
			sink, err := h.capture(platforms.Options{Full: true})
			if tc.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "youtube: ") {
				t.Errorf("error not wrapped as youtube: ...: %v", err)
			}
			if tc.wantWait > 0 && !slices.Contains(h.waits, tc.wantWait) {
				t.Errorf("waits %v lack %v", h.waits, tc.wantWait)
			}
			if sink.PostsDone != tc.postsDone {
				t.Errorf("PostsDone = %v, want %v", sink.PostsDone, tc.postsDone)
			}
			for _, p := range w.Posts() {
				vid := h.srv.NativeID(p.ID)
				_, reported := sink.ByID()[vid]
				want := reported && !slices.Contains(tc.incomplete, vid)
				if sink.CompleteThread[vid] != want {
					t.Errorf("thread %s complete = %v, want %v", vid, sink.CompleteThread[vid], want)
				}
			}
			if tc.wantErr == nil {
				checkReported(t, sink, w, h.srv)
				checkThreadsComplete(t, sink, w, h.srv)
			}
		})
	}
}

// A failing thread does not stop the other posts: all are reported and
// the other threads complete; the run still returns the error.
func TestCaptureFailingThreadDoesNotStopOthers(t *testing.T) {
	w := seeded()
	var road string // set once the server exists; read by the plan
	h := newHarness(t, w, youtubetest.WithMiddleware(func(next http.Handler) http.Handler {
		return platformtest.Faults(next, func(_ int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/commentThreads") && r.URL.Query().Get("videoId") == road {
				return platformtest.Server
			}
			return platformtest.None
		})
	}))
	road = h.srv.NativeID(w.Posts()[2].ID)
	sink, err := h.capture(platforms.Options{Full: true})
	var he *platforms.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusInternalServerError {
		t.Fatalf("err = %v, want the 500 after retries", err)
	}
	if n := sink.Count(platforms.KindPost); n != 3 {
		t.Errorf("posts = %d, want 3", n)
	}
	for _, p := range w.Posts() {
		vid := h.srv.NativeID(p.ID)
		if sink.CompleteThread[vid] == (vid == road) {
			t.Errorf("thread %s complete = %v", vid, sink.CompleteThread[vid])
		}
	}
	if !sink.PostsDone {
		t.Error("the post listing was read to the end: PostsComplete expected")
	}
}

// A video deleted between the listing and its comments (404) leaves its
// thread incomplete without failing the run.
func TestCaptureVideoDeletedDuringRun(t *testing.T) {
	w := seeded()
	council := w.Posts()[1]
	h := newHarness(t, w, youtubetest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/commentThreads") {
				w.Delete(council.ID)
			}
			next.ServeHTTP(rw, r)
		})
	}))
	vid := h.srv.NativeID(council.ID)
	sink, err := h.capture(platforms.Options{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sink.ByID()[vid]; !ok {
		t.Fatal("council video was listed and should be reported")
	}
	if sink.CompleteThread[vid] {
		t.Error("thread of a video that vanished marked complete")
	}
}

func TestCaptureBadCredential(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{"wrong key", "AIzaSyWRONG-key-0000000000000000000000"},
		{"no key", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, seeded())
			acct := h.srv.Account()
			acct.Credential = tc.key
			sink, err := h.captureAs(acct, platforms.Options{Full: true})
			if !errors.Is(err, platforms.ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if tc.key != "" && strings.Contains(err.Error(), tc.key) {
				t.Errorf("error shows the key: %v", err)
			}
			if len(sink.Items) != 0 || len(sink.CompleteThread) != 0 || sink.PostsDone {
				t.Errorf("something reported or completed: items %d threads %v posts %v", len(sink.Items), sink.CompleteThread, sink.PostsDone)
			}
			if n := h.srv.Requests(); n != 1 {
				t.Errorf("requests = %d: ErrAuth must stop the run", n)
			}
		})
	}
}

func TestCaptureCancelled(t *testing.T) {
	w := seeded()
	ctx, cancel := context.WithCancel(context.Background())
	h := newHarness(t, w, youtubetest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/commentThreads") {
				cancel()
			}
			next.ServeHTTP(rw, r)
		})
	}))
	sink := platformtest.NewSink()
	c := platformtest.Client(t, h.blobs, nil, h.srv.Credential())
	err := New().Capture(ctx, h.srv.Account(), platforms.Options{Full: true}, c, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if sink.PostsDone || len(sink.CompleteThread) > 1 {
		t.Errorf("completed after cancel: %v %v", sink.PostsDone, sink.CompleteThread)
	}
}
