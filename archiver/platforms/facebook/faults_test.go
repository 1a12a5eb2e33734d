package facebook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func TestFaults(t *testing.T) {
	w := newWorld()
	posts := w.Posts() // newest first: winter parking, council, parade
	probe := facebooktest.NewServer(w)
	parade, council := probe.NativeID(posts[2].ID), probe.NativeID(posts[1].ID)
	probe.Close()
	for _, tc := range faultCases(parade, council) {
		t.Run(tc.name, func(t *testing.T) { runFaultCase(t, w, tc) })
	}
}

type faultCase struct {
	name         string
	plan         func(n int, r *http.Request) platformtest.Fault
	wantErr      error  // nil: success
	wantWait     bool   // the 2s Retry-After was honoured
	incomplete   string // this thread must not be complete
	postsDone    bool
	wantInErrMsg string
}

func faultCases(parade, council string) []faultCase {
	isComments := func(r *http.Request, post string) bool {
		return strings.HasSuffix(r.URL.Path, "/"+post+"/comments")
	}
	return []faultCase{
		{name: "429 then success", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 1 || n == 3 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, wantWait: true, postsDone: true},
		{name: "500 once", plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.Server
			}
			return platformtest.None
		}, postsDone: true},
		{name: "truncated comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if isComments(r, parade) && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: parade, postsDone: true, wantInErrMsg: "facebook: read comments of " + parade},
		{name: "garbage comments page", plan: func(n int, r *http.Request) platformtest.Fault {
			if isComments(r, council) {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, incomplete: council, postsDone: true},
		{name: "truncated posts page", plan: func(n int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/posts") && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, postsDone: false, wantInErrMsg: "facebook: read posts"},
		{name: "garbage posts page", plan: func(n int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/posts") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, wantErr: platforms.ErrMalformed, postsDone: false},
		{name: "slow answers", plan: func(n int, r *http.Request) platformtest.Fault {
			if n%4 == 0 {
				return platformtest.Slow
			}
			return platformtest.None
		}, postsDone: true},
	}
}

func runFaultCase(t *testing.T, w *platformtest.World, tc faultCase) {
	t.Helper()
	srv := facebooktest.NewServer(w, facebooktest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, tc.plan)
	}))
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	if tc.wantErr == nil {
		if r.err != nil {
			t.Fatal(r.err)
		}
		checkWorld(t, srv, w, r)
	} else if !errors.Is(r.err, tc.wantErr) {
		t.Fatalf("err = %v, want %v", r.err, tc.wantErr)
	}
	if tc.wantInErrMsg != "" && !strings.Contains(r.err.Error(), tc.wantInErrMsg) {
		t.Errorf("err %q does not say %q", r.err, tc.wantInErrMsg)
	}
	if tc.wantWait && !containsWait(r.waits, 2*time.Second) {
		t.Errorf("waits %v lack the 2s Retry-After", r.waits)
	}
	if r.sink.PostsDone != tc.postsDone {
		t.Errorf("PostsDone = %v, want %v", r.sink.PostsDone, tc.postsDone)
	}
	if tc.incomplete != "" {
		if r.sink.CompleteThread[tc.incomplete] {
			t.Errorf("thread %s marked complete after a failed page", tc.incomplete)
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
	srv := facebooktest.NewServer(newWorld())
	defer srv.Close()
	acct := srv.Account()
	acct.Credential = "EAAJwrongTokenXYZ123"
	r := capture(t, srv, acct, full)
	var he interface{ Error() string }
	if !errors.Is(r.err, platforms.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", r.err)
	}
	he = r.err
	if !strings.Contains(he.Error(), "code 190") || !strings.Contains(he.Error(), "HTTP 400") {
		t.Errorf("error should show Graph's code 190 on a 400: %v", r.err)
	}
	if strings.Contains(r.err.Error(), acct.Credential) {
		t.Error("error holds the credential")
	}
	if len(r.sink.CompleteThread) != 0 || r.sink.PostsDone || len(r.sink.Items) != 0 {
		t.Errorf("something reported or completed: %d items, %v, %v", len(r.sink.Items), r.sink.CompleteThread, r.sink.PostsDone)
	}
	if srv.Requests() != 1 {
		t.Errorf("the run should stop at the refused token; %d requests", srv.Requests())
	}
}

// TestGraphErrorCodes: Graph's code, not the HTTP status, decides.
func TestGraphErrorCodes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
		notIs  error
	}{
		{"expired token on 400", 400, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Ab1"}}`, platforms.ErrAuth, nil},
		{"app rate limit on 403", 403, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"Ab2"}}`, platforms.ErrRateLimited, platforms.ErrAuth},
		{"page rate limit", 400, `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32,"fbtrace_id":"Ab3"}}`, platforms.ErrRateLimited, platforms.ErrAuth},
		{"user rate limit", 400, `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17,"fbtrace_id":"Ab4"}}`, platforms.ErrRateLimited, nil},
		{"custom rate limit", 400, `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"Ab5"}}`, platforms.ErrRateLimited, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := facebooktest.NewServer(newWorld(), facebooktest.WithMiddleware(func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					rw.Header().Set("Content-Type", "application/json")
					rw.WriteHeader(tc.status)
					rw.Write([]byte(tc.body))
				})
			}))
			defer srv.Close()
			r := capture(t, srv, srv.Account(), full)
			if !errors.Is(r.err, tc.want) {
				t.Fatalf("err = %v, want %v", r.err, tc.want)
			}
			if tc.notIs != nil && errors.Is(r.err, tc.notIs) {
				t.Errorf("err %v should not be %v", r.err, tc.notIs)
			}
			if srv.Requests() != 1 {
				t.Errorf("run went on after a fatal error: %d requests", srv.Requests())
			}
		})
	}
}
