package mastodon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func TestFaults(t *testing.T) {
	w := seeded()
	posts := w.Posts()
	road := srvNativeIDProbe(w, posts[2].ID)
	cases := []struct {
		name       string
		plan       func(n int, r *http.Request) platformtest.Fault
		wantErr    error
		wantWait   time.Duration
		incomplete []string // posts whose thread must not be complete
		postsDone  bool
	}{
		{"429 then success", func(n int, _ *http.Request) platformtest.Fault {
			if n == 2 {
				return platformtest.TooMany
			}
			return platformtest.None
		}, nil, 2 * time.Second, nil, true},
		{"500 once", func(n int, _ *http.Request) platformtest.Fault {
			if n == 3 {
				return platformtest.Server
			}
			return platformtest.None
		}, nil, 0, nil, true},
		{"truncated comments page", func(_ int, r *http.Request) platformtest.Fault {
			if r.URL.Path == "/api/v1/statuses/"+road+"/context" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, platforms.ErrMalformed, 0, []string{posts[2].ID}, true},
		{"truncated posts listing", func(_ int, r *http.Request) platformtest.Fault {
			if strings.HasSuffix(r.URL.Path, "/statuses") && r.URL.Query().Get("max_id") != "" {
				return platformtest.Truncated
			}
			return platformtest.None
		}, platforms.ErrMalformed, 0, []string{posts[2].ID}, false},
		{"garbage context", func(_ int, r *http.Request) platformtest.Fault {
			if r.URL.Path == "/api/v1/statuses/"+road+"/context" {
				return platformtest.Garbage
			}
			return platformtest.None
		}, platforms.ErrMalformed, 0, []string{posts[2].ID}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mastodontest.NewServer(w, mastodontest.WithPageSize(2), mastodontest.WithMiddleware(func(h http.Handler) http.Handler {
				return platformtest.Faults(h, tc.plan)
			}))
			defer srv.Close()
			res := capture(t, srv.Account(), full, nil)
			if tc.wantErr == nil && res.Err != nil {
				t.Fatalf("err = %v", res.Err)
			}
			if tc.wantErr != nil && !errors.Is(res.Err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", res.Err, tc.wantErr)
			}
			if tc.wantErr != nil && !strings.HasPrefix(res.Err.Error(), "mastodon: ") {
				t.Errorf("err not prefixed: %v", res.Err)
			}
			if tc.wantWait > 0 && !platformtest.ContainsWait(res.Waits, tc.wantWait) {
				t.Errorf("waits = %v, want %v among them", res.Waits, tc.wantWait)
			}
			checkComplete(t, srv, w, res.Sink, tc.incomplete...)
			if res.Sink.PostsDone != tc.postsDone {
				t.Errorf("PostsDone = %v, want %v", res.Sink.PostsDone, tc.postsDone)
			}
			if tc.wantErr == nil {
				checkWorld(t, srv, w, res.Sink)
			}
		})
	}
}

// srvNativeIDProbe maps a world id the way every Server does.
func srvNativeIDProbe(w *platformtest.World, id string) string {
	s := mastodontest.NewServer(w)
	defer s.Close()
	return s.NativeID(id)
}

func TestAuth(t *testing.T) {
	w := seeded()
	cases := []struct {
		name    string
		opts    []mastodontest.Option
		cred    func(srv *mastodontest.Server) string
		wantErr error
	}{
		{"wrong token", nil, func(*mastodontest.Server) string { return "not-the-right-token" }, platforms.ErrAuth},
		{"no token, public instance", nil, func(*mastodontest.Server) string { return "" }, nil},
		{"no token, instance requires one", []mastodontest.Option{mastodontest.WithAuthRequired()}, func(*mastodontest.Server) string { return "" }, platforms.ErrAuth},
		{"token, instance requires one", []mastodontest.Option{mastodontest.WithAuthRequired()}, (*mastodontest.Server).Credential, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mastodontest.NewServer(w, tc.opts...)
			defer srv.Close()
			acct := srv.Account()
			acct.Credential = tc.cred(srv)
			res := capture(t, acct, full, nil)
			if !errors.Is(res.Err, tc.wantErr) || (tc.wantErr == nil && res.Err != nil) {
				t.Fatalf("err = %v, want %v", res.Err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if len(res.Sink.CompleteThread) > 0 || res.Sink.PostsDone || len(res.Sink.Items) > 0 {
					t.Errorf("refused credential but marked complete: %+v", res.Sink)
				}
				return
			}
			checkWorld(t, srv, w, res.Sink)
			checkComplete(t, srv, w, res.Sink)
		})
	}
}

func TestSecretsNotStored(t *testing.T) {
	w := seeded()
	w.Edit(w.Posts()[0].ID, "Reminder: no street parking 2–6 am during snow events ❄️ (updated)")
	srv := mastodontest.NewServer(w, mastodontest.WithMiddleware(func(h http.Handler) http.Handler {
		return platformtest.Faults(h, func(n int, _ *http.Request) platformtest.Fault {
			if n%4 == 0 {
				return platformtest.Server
			}
			return platformtest.None
		})
	}))
	defer srv.Close()
	tok := srv.Credential()
	if tok == "" {
		t.Fatal("server has no credential")
	}
	blobs := &platformtest.MemBlobs{}
	res := capture(t, srv.Account(), full, blobs)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	bad := srv.Account()
	bad.Credential = "wrong-" + tok
	capture(t, bad, full, blobs)
	if b, ok := platformtest.BlobWith(blobs, tok); ok {
		t.Fatalf("credential stored in a blob: %.200s", b)
	}
	out, _ := json.Marshal(struct {
		I []platforms.Item
		P []platforms.Profile
	}{res.Sink.Items, res.Sink.Profiles})
	if bytes.Contains(out, []byte(tok)) {
		t.Error("credential in an item or profile")
	}
}
