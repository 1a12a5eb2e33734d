package x

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
	"github.com/civicarchive/civicarchive/archiver/platforms/x/xtest"
)

// TestFaults injects 429s, 500s, truncated and garbage bodies: retried
// faults still give a complete capture; a page that keeps failing makes
// Capture return ErrMalformed, leaves its thread (or the listing)
// incomplete, and the other posts are still captured and completed.
func TestFaults(t *testing.T) {
	w := seeded()
	posts := w.Posts() // winter, council, road
	probe := xtest.NewServer(w)
	roadQuery := "conversation_id:" + probe.NativeID(posts[2].ID)
	probe.Close()
	isTimeline := func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/tweets") && strings.HasPrefix(r.URL.Path, "/2/users/")
	}
	tests := []struct {
		name         string
		plan         func(n int, r *http.Request) platformtest.Fault
		pageSize     int
		wantErr      error
		wantWait     time.Duration
		incomplete   []string // world post ids whose thread must not complete
		postsDone    bool
		wantAllItems bool
	}{
		{name: "429 then success", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 1 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, wantWait: 2 * time.Second, postsDone: true, wantAllItems: true},
		{name: "429 on a thread page", plan: func() func(int, *http.Request) platformtest.Fault {
			hit := false // Faults calls the plan under its lock
			return func(n int, r *http.Request) platformtest.Fault {
				if r.URL.Query().Get("query") == roadQuery && !hit {
					hit = true
					return platformtest.TooMany
				}
				return platformtest.None
			}
		}(), wantWait: 2 * time.Second, postsDone: true, wantAllItems: true},
		{name: "500 once", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.Server
			}
			return platformtest.None
		}, postsDone: true, wantAllItems: true},
		{name: "truncated comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if r.URL.Query().Get("query") == roadQuery {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: []string{posts[2].ID}, postsDone: true},
		{name: "garbage comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if r.URL.Query().Get("query") == roadQuery {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: []string{posts[2].ID}, postsDone: true},
		{name: "truncated second timeline page", pageSize: 2, plan: func(n int, r *http.Request) platformtest.Fault {
			if isTimeline(r) && r.URL.Query().Get("pagination_token") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, postsDone: false},
		{name: "garbage timeline", plan: func(n int, r *http.Request) platformtest.Fault {
			if isTimeline(r) {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, postsDone: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := seeded()
			opts := []xtest.Option{xtest.WithMiddleware(func(h http.Handler) http.Handler { return platformtest.Faults(h, tt.plan) })}
			if tt.pageSize > 0 {
				opts = append(opts, xtest.WithPageSize(tt.pageSize))
			}
			srv := xtest.NewServer(w, opts...)
			defer srv.Close()
			r := capture(t, New(), srv.Account(), full)
			if tt.wantErr == nil && r.Err != nil || tt.wantErr != nil && !errors.Is(r.Err, tt.wantErr) {
				t.Fatalf("err %v, want %v", r.Err, tt.wantErr)
			}
			if r.Err != nil && !strings.HasPrefix(r.Err.Error(), "x: ") {
				t.Errorf("error not wrapped: %v", r.Err)
			}
			if tt.wantWait > 0 && !slices.Contains(r.Waits, tt.wantWait) {
				t.Errorf("waits %v lack %v", r.Waits, tt.wantWait)
			}
			if tt.wantAllItems {
				checkWorld(t, srv, w, r.Sink)
			}
			if r.Sink.PostsDone != tt.postsDone {
				t.Errorf("PostsDone %v, want %v", r.Sink.PostsDone, tt.postsDone)
			}
			got := r.Sink.ByID()
			for _, p := range w.Posts() {
				id := srv.NativeID(p.ID)
				if _, reported := got[id]; !reported {
					continue // a listing failure cut it off
				}
				if want := !slices.Contains(tt.incomplete, p.ID); r.Sink.CompleteThread[id] != want {
					t.Errorf("thread %s complete %v, want %v", p.ID, r.Sink.CompleteThread[id], want)
				}
			}
		})
	}
}

// TestCancelStops: a cancelled context stops the run at once.
func TestCancelStops(t *testing.T) {
	srv := xtest.NewServer(seeded())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := platformtest.NewSink()
	err := New().Capture(ctx, srv.Account(), full, platformtest.Client(t, &platformtest.MemBlobs{}, nil), sink)
	if !errors.Is(err, context.Canceled) || len(sink.Items) != 0 || sink.PostsDone {
		t.Errorf("err %v, items %d", err, len(sink.Items))
	}
}
