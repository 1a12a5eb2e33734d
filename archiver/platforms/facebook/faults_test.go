package facebook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func TestFaults(t *testing.T) {
	w := newWorld()
	posts := w.Posts() // newest first: winter parking, council, parade
	probe := facebooktest.NewServer(w)
	parade, council := probe.NativeID(posts[2].ID), probe.NativeID(posts[1].ID)
	probe.Close()
	for _, tc := range faultCases(parade, council) {
		t.Run(tc.Name, func(t *testing.T) { runFaultCase(t, w, tc) })
	}
}

type faultCase = graphtest.FaultCase

func faultCases(parade, council string) []faultCase {
	isComments := func(r *http.Request, post string) bool {
		return strings.HasSuffix(r.URL.Path, "/"+post+"/comments")
	}
	return []faultCase{
		{Name: "429 then success", Plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 1 || n == 3 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, WantWait: true, PostsDone: true},
		{Name: "500 once", Plan: func(n int, r *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.Server
			}
			return platformtest.None
		}, PostsDone: true},
		{Name: "truncated comments page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if isComments(r, parade) && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, Incomplete: parade, PostsDone: true, WantInErrMsg: "facebook: read comments of " + parade},
		{Name: "garbage comments page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if isComments(r, council) {
				return platformtest.Garbage
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, Incomplete: council, PostsDone: true},
		{Name: "truncated posts page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/posts") && r.URL.Query().Get("after") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, PostsDone: false, WantInErrMsg: "facebook: read posts"},
		{Name: "garbage posts page", Plan: func(n int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/posts") {
				return platformtest.Garbage
			}
			return platformtest.None
		}, WantErr: platforms.ErrMalformed, PostsDone: false},
		{Name: "slow answers", Plan: func(n int, r *http.Request) platformtest.Fault {
			if n%4 == 0 {
				return platformtest.Slow
			}
			return platformtest.None
		}, PostsDone: true},
	}
}

func runFaultCase(t *testing.T, w *platformtest.World, tc faultCase) {
	t.Helper()
	srv := facebooktest.NewServer(w, facebooktest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, tc.Plan)
	}))
	defer srv.Close()
	r := capture(t, srv, srv.Account(), full)
	graphWorld(srv).CheckFault(t, tc, w, r, func() { checkWorld(t, srv, w, r) })
}

func TestWrongCredential(t *testing.T) {
	srv := facebooktest.NewServer(newWorld())
	defer srv.Close()
	acct := srv.Account()
	acct.Credential = "EAAJwrongTokenXYZ123"
	r := capture(t, srv, acct, full)
	var he interface{ Error() string }
	if !errors.Is(r.Err, platforms.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", r.Err)
	}
	he = r.Err
	if !strings.Contains(he.Error(), "code 190") || !strings.Contains(he.Error(), "HTTP 400") {
		t.Errorf("error should show Graph's code 190 on a 400: %v", r.Err)
	}
	if strings.Contains(r.Err.Error(), acct.Credential) {
		t.Error("error holds the credential")
	}
	if len(r.Sink.CompleteThread) != 0 || r.Sink.PostsDone || len(r.Sink.Items) != 0 {
		t.Errorf("something reported or completed: %d items, %v, %v", len(r.Sink.Items), r.Sink.CompleteThread, r.Sink.PostsDone)
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
			if !errors.Is(r.Err, tc.want) {
				t.Fatalf("err = %v, want %v", r.Err, tc.want)
			}
			if tc.notIs != nil && errors.Is(r.Err, tc.notIs) {
				t.Errorf("err %v should not be %v", r.Err, tc.notIs)
			}
			if srv.Requests() != 1 {
				t.Errorf("run went on after a fatal error: %d requests", srv.Requests())
			}
		})
	}
}
