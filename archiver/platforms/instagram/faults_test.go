package instagram_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
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
		t.Run(tc.Name, func(t *testing.T) { runFaultCase(t, w, tc) })
	}
}

type faultCase = graphtest.FaultCase

func faultCases(parade, council, firstComment string) []faultCase {
	is := func(r *http.Request, suffix string) bool { return strings.HasSuffix(r.URL.Path, suffix) }
	return []faultCase{
		{Name: "429 then success", Plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, WantWait: true, PostsDone: true},
		{Name: "500 once", Plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 3 {
				return platformtest.Server
			}
			return platformtest.None
		}, PostsDone: true},
		{Name: "truncated comments page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+parade+"/comments") {
				return platformtest.Truncated
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, Incomplete: parade, PostsDone: true},
		{Name: "truncated replies page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+firstComment+"/replies") {
				return platformtest.Truncated
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, Incomplete: parade, PostsDone: true},
		{Name: "garbage comments page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/"+council+"/comments") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, Incomplete: council, PostsDone: true},
		{Name: "truncated media page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/media") && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed},
		{Name: "garbage media page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if is(r, "/media") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed},
	}
}

func runFaultCase(t *testing.T, w *platformtest.World, tc faultCase) {
	t.Helper()
	srv := instagramtest.NewServer(w, instagramtest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, tc.Plan)
	}))
	defer srv.Close()
	r := capture(t, srv.Account(), full)
	tc.ErrPrefix = "instagram: " // every error names the connector
	graphWorld(srv).CheckFault(t, tc, w, r, func() { checkWorld(t, srv, w, r) })
}

func TestWrongCredential(t *testing.T) {
	srv := instagramtest.NewServer(newWorld())
	defer srv.Close()
	acct := srv.Account()
	acct.Credential = "EAAJwrongIGToken42"
	r := capture(t, acct, full)
	if !errors.Is(r.Err, platforms.ErrAuth) || !strings.Contains(r.Err.Error(), "code 190") {
		t.Fatalf("err = %v, want ErrAuth from code 190", r.Err)
	}
	if len(r.Sink.CompleteThread) != 0 || r.Sink.PostsDone || len(r.Sink.Items) != 0 || srv.Requests() != 1 {
		t.Errorf("run went on: %d items, %v, %v, %d requests", len(r.Sink.Items), r.Sink.CompleteThread, r.Sink.PostsDone, srv.Requests())
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
	if !errors.Is(r.Err, platforms.ErrRateLimited) || errors.Is(r.Err, platforms.ErrAuth) {
		t.Fatalf("err = %v, want ErrRateLimited and not ErrAuth", r.Err)
	}
	if r.Sink.Count(platforms.KindPost) != 1 || r.Sink.PostsDone {
		t.Errorf("the run should stop at the first rate-limited thread: %d posts", r.Sink.Count(platforms.KindPost))
	}
}
