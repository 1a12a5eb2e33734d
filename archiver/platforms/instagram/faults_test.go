package instagram_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram/instagramtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func TestFaults(t *testing.T) {
	w := newWorld()
	posts := w.Posts() // winter parking, council, parade
	probe := instagramtest.NewServer(w)
	parade, council := probe.NativeID(posts[2].ID), probe.NativeID(posts[1].ID)
	firstComment := probe.NativeID(w.Thread(posts[2].ID)[0].ID)
	probe.Close()
	for _, tc := range faultCases(parade, council, firstComment) {
		t.Run(tc.name, func(t *testing.T) { runFaultCase(t, w, tc) })
	}
}

type faultCase struct {
	name       string
	plan       func(n int, r *http.Request) platformtest.Fault
	wantErr    error // nil: success
	wantWait   bool  // the 2s Retry-After was honoured
	incomplete string
	postsDone  bool
}

func faultCases(parade, council, firstComment string) []faultCase {
	is := func(r *http.Request, suffix string) bool { return strings.HasSuffix(r.URL.Path, suffix) }
	return []faultCase{
		{name: "429 then success", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, wantWait: true, postsDone: true},
		{name: "500 once", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 3 {
				return platformtest.Server
			}
			return platformtest.None
		}, postsDone: true},
		{name: "truncated comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+parade+"/comments") {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: parade, postsDone: true},
		{name: "truncated replies page", plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+firstComment+"/replies") {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: parade, postsDone: true},
		{name: "garbage comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+council+"/comments") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: council, postsDone: true},
		{name: "truncated media page", plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/media") && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed},
		{name: "garbage media page", plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/media") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed},
	}
}

func runFaultCase(t *testing.T, w *platformtest.World, tc faultCase) {
	t.Helper()
	srv := instagramtest.NewServer(w, instagramtest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, tc.plan)
	}))
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if tc.wantErr == nil {
		if r.err != nil {
			t.Fatal(r.err)
		}
		checkWorld(t, srv, w, r)
	} else if !errors.Is(r.err, tc.wantErr) {
		t.Fatalf("err = %v, want %v", r.err, tc.wantErr)
	}
	if tc.wantErr != nil && !strings.HasPrefix(r.err.Error(), "instagram: ") {
		t.Errorf("error not wrapped: %v", r.err)
	}
	if tc.wantWait && !containsWait(r.waits, 2*time.Second) {
		t.Errorf("waits %v lack the 2s Retry-After", r.waits)
	}
	if r.sink.PostsDone != tc.postsDone {
		t.Errorf("PostsDone = %v, want %v", r.sink.PostsDone, tc.postsDone)
	}
	if tc.incomplete != "" {
		if r.sink.CompleteThread[tc.incomplete] {
			t.Errorf("thread %s complete after a failed page", tc.incomplete)
		}
		for _, p := range w.Posts() {
			if id := srv.NativeID(p.ID); id != tc.incomplete && !r.sink.CompleteThread[id] {
				t.Errorf("thread %s of another post not complete", id)
			}
		}
	}
}

func containsWait(waits []time.Duration, d time.Duration) bool {
	for _, w := range waits {
		if w == d {
			return true
		}
	}
	return false
}

func TestWrongCredential(t *testing.T) {
	srv := instagramtest.NewServer(newWorld())
	defer srv.Close()
	acct := srv.Account()
	acct.Credential = "EAAJwrongIGToken42"
	r := capture(t, acct, full)
	if !errors.Is(r.err, platforms.ErrAuth) || !strings.Contains(r.err.Error(), "code 190") {
		t.Fatalf("err = %v, want ErrAuth from code 190", r.err)
	}
	if len(r.sink.CompleteThread) != 0 || r.sink.PostsDone || len(r.sink.Items) != 0 || srv.Requests() != 1 {
		t.Errorf("run went on: %d items, %v, %v, %d requests", len(r.sink.Items), r.sink.CompleteThread, r.sink.PostsDone, srv.Requests())
	}
}

func TestRateLimitCodeStopsRun(t *testing.T) {
	srv := instagramtest.NewServer(newWorld(), instagramtest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/comments") {
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusForbidden)
				rw.Write([]byte(`{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true,"fbtrace_id":"AxY"}}`))
				return
			}
			h.ServeHTTP(rw, r)
		})
	}))
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	if !errors.Is(r.err, platforms.ErrRateLimited) || errors.Is(r.err, platforms.ErrAuth) {
		t.Fatalf("err = %v, want ErrRateLimited and not ErrAuth", r.err)
	}
	if r.sink.Count(platforms.KindPost) != 1 || r.sink.PostsDone {
		t.Errorf("the run should stop at the first rate-limited thread: %d posts", r.sink.Count(platforms.KindPost))
	}
}
