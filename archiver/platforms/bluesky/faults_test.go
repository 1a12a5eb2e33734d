package bluesky_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky/blueskytest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func feedOrThread(r *http.Request) (feed, thread bool) {
	return strings.HasSuffix(r.URL.Path, "getAuthorFeed"), strings.HasSuffix(r.URL.Path, "getPostThread")
}

func TestFaults(t *testing.T) {
	w := seeded()
	probe := blueskytest.NewServer(w)
	middle := probe.NativeID(w.Posts()[1].ID)
	probe.Close()
	tests := []struct {
		name        string
		plan        func(n int, r *http.Request) platformtest.Fault
		wantErr     error
		want2s      bool
		postsDone   bool
		incomplete  string // thread expected not complete
		allComplete bool
	}{
		{name: "429 once", want2s: true, postsDone: true, allComplete: true,
			plan: func(n int, _ *http.Request) platformtest.Fault {
				return map[bool]platformtest.Fault{true: platformtest.TooMany}[n == 2]
			}},
		{name: "500 once", postsDone: true, allComplete: true,
			plan: func(n int, _ *http.Request) platformtest.Fault {
				return map[bool]platformtest.Fault{true: platformtest.Server}[n == 3]
			}},
		{name: "slow", postsDone: true, allComplete: true,
			plan: func(n int, _ *http.Request) platformtest.Fault {
				return map[bool]platformtest.Fault{true: platformtest.Slow}[n == 3]
			}},
		{name: "truncated thread", wantErr: platforms.ErrMalformed, postsDone: true, incomplete: middle,
			plan: func(_ int, r *http.Request) platformtest.Fault {
				if _, th := feedOrThread(r); th && r.URL.Query().Get("uri") == middle {
					return platformtest.Truncated
				}
				return platformtest.None
			}},
		{name: "garbage thread", wantErr: platforms.ErrMalformed, postsDone: true, incomplete: middle,
			plan: func(_ int, r *http.Request) platformtest.Fault {
				if _, th := feedOrThread(r); th && r.URL.Query().Get("uri") == middle {
					return platformtest.Garbage
				}
				return platformtest.None
			}},
		{name: "garbage feed page 2", wantErr: platforms.ErrMalformed,
			plan: func(_ int, r *http.Request) platformtest.Fault {
				if f, _ := feedOrThread(r); f && r.URL.Query().Get("cursor") != "" {
					return platformtest.Garbage
				}
				return platformtest.None
			}},
		{name: "truncated feed", wantErr: platforms.ErrMalformed,
			plan: func(_ int, r *http.Request) platformtest.Fault {
				if f, _ := feedOrThread(r); f {
					return platformtest.Truncated
				}
				return platformtest.None
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := blueskytest.NewServer(w, blueskytest.WithMiddleware(func(h http.Handler) http.Handler {
				return platformtest.Faults(h, tc.plan)
			}))
			defer srv.Close()
			res := full(t, srv)
			if tc.wantErr == nil && res.Err != nil || tc.wantErr != nil && !errors.Is(res.Err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", res.Err, tc.wantErr)
			}
			if res.Err != nil && !strings.HasPrefix(res.Err.Error(), "bluesky: ") {
				t.Errorf("error not prefixed: %v", res.Err)
			}
			if tc.want2s && !platformtest.ContainsWait(res.Waits, 2*time.Second) {
				t.Errorf("waits %v, want a 2s Retry-After wait", res.Waits)
			}
			if res.Sink.PostsDone != tc.postsDone {
				t.Errorf("PostsDone = %v, want %v", res.Sink.PostsDone, tc.postsDone)
			}
			if tc.allComplete {
				checkWorld(t, w, srv, res.Sink)
			}
			if tc.incomplete != "" {
				if res.Sink.CompleteThread[tc.incomplete] {
					t.Error("thread of the failed page marked complete")
				}
				if _, ok := res.Sink.ByID()[tc.incomplete]; !ok {
					t.Error("post of the failed thread not reported")
				}
				for _, p := range w.Posts() {
					if id := srv.NativeID(p.ID); id != tc.incomplete && !res.Sink.CompleteThread[id] {
						t.Errorf("other post %s not complete", p.ID)
					}
				}
			}
		})
	}
}

func TestCredential(t *testing.T) {
	const token = "bsky-app-token-3kq9x7"
	w := seeded()
	srv := blueskytest.NewServer(w, blueskytest.WithCredential(token))
	defer srv.Close()
	if srv.Credential() != token || srv.Account().Credential != token {
		t.Fatal("credential not exposed")
	}
	for _, cred := range []string{"wrong-token-zz", ""} {
		t.Run("refused "+cred, func(t *testing.T) {
			acct := srv.Account()
			acct.Credential = cred
			res := capture(t, srv, acct, platforms.Options{Full: true})
			if !errors.Is(res.Err, platforms.ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", res.Err)
			}
			if res.Sink.PostsDone || len(res.Sink.CompleteThread) > 0 || len(res.Sink.Items) > 0 {
				t.Error("something reported or marked complete with a refused credential")
			}
			if cred != "" && strings.Contains(res.Err.Error(), cred) {
				t.Error("credential in the error")
			}
		})
	}
	t.Run("accepted, never stored", func(t *testing.T) {
		res := full(t, srv)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		checkWorld(t, w, srv, res.Sink)
		if _, ok := platformtest.BlobWith(res.Blobs, token); ok {
			t.Fatal("credential found in a stored blob")
		}
		for _, it := range res.Sink.Items {
			if strings.Contains(fmt.Sprintf("%+v", it), token) {
				t.Fatal("credential in an item")
			}
		}
	})
}

func TestMissingActor(t *testing.T) {
	srv := blueskytest.NewServer(seeded())
	defer srv.Close()
	acct := srv.Account()
	acct.Handle, acct.NativeID = "nobody.bsky.social", ""
	res := capture(t, srv, acct, platforms.Options{Full: true})
	if !errors.Is(res.Err, platforms.ErrNotFound) || !strings.Contains(res.Err.Error(), "Profile not found") {
		t.Fatalf("err = %v, want ErrNotFound with the XRPC message", res.Err)
	}
	if len(res.Sink.Profiles) > 0 || res.Sink.PostsDone {
		t.Error("reported something for a missing actor")
	}
}

func TestCancelled(t *testing.T) {
	srv := blueskytest.NewServer(seeded())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := platformtest.NewSink()
	err := bluesky.New().Capture(ctx, srv.Account(), platforms.Options{Full: true}, platformtest.Client(t, &platformtest.MemBlobs{}, nil), sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if sink.PostsDone || len(sink.CompleteThread) > 0 {
		t.Error("marked complete after cancellation")
	}
}

// TestHandleMoved: the registered did wins over a stale handle (handles
// are mutable; the did is the account).
func TestHandleMoved(t *testing.T) {
	w := seeded()
	srv := blueskytest.NewServer(w)
	defer srv.Close()
	acct := srv.Account()
	acct.Handle = "old-name.bsky.social"
	res := capture(t, srv, acct, platforms.Options{Full: true})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkWorld(t, w, srv, res.Sink)
	if h := res.Sink.Profiles[0].Handle; h != "clintoncity.bsky.social" {
		t.Errorf("profile handle %q", h)
	}
}

// TestServerXRPCErrors: the fake answers bad calls with XRPC error bodies.
func TestServerXRPCErrors(t *testing.T) {
	srv := blueskytest.NewServer(seeded())
	defer srv.Close()
	tests := []struct {
		path, name string
		status     int
	}{
		{"/xrpc/app.bsky.actor.getProfile?actor=nobody.bsky.social", "InvalidRequest", 400},
		{"/xrpc/app.bsky.feed.getAuthorFeed?actor=" + srv.DID() + "&limit=101", "InvalidRequest", 400},
		{"/xrpc/app.bsky.feed.getAuthorFeed?actor=" + srv.DID() + "&cursor=nonsense", "InvalidRequest", 400},
		{"/xrpc/app.bsky.feed.getPostThread?uri=" + srv.NativeID("999999"), "NotFound", 400},
		{"/xrpc/app.bsky.feed.getPostThread?uri=x&depth=1001", "InvalidRequest", 400},
		{"/xrpc/app.bsky.feed.searchPosts?q=x", "MethodNotImplemented", 501},
	}
	for _, tc := range tests {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error, Message string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || body.Error != tc.name || body.Message == "" {
			t.Errorf("%s: %d %+v %v, want %d %s", tc.path, resp.StatusCode, body, err, tc.status, tc.name)
		}
	}
}
