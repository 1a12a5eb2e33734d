package feed_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed/feedtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// staticSite serves fixed documents by request URI.
func staticSite(t *testing.T, docs map[string]string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := docs[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func rssPage(next string, guids ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>News</title><link>https://city.example/</link><description>d</description>`)
	if next != "" {
		fmt.Fprintf(&b, `<atom:link rel="next" href="%s"/>`, next)
	}
	for _, g := range guids {
		fmt.Fprintf(&b, `<item><title>%s</title><description>texto de %s</description><guid isPermaLink="false">%s</guid><pubDate>Mon, 02 Jun 2025 10:00:00 GMT</pubDate></item>`, g, g, g)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// TestPagingQuirks: RFC 5005 atom:link rel="next" in an RSS channel with a
// relative href; a chain that loops back ends without refetching; a chain
// longer than MaxPages is an error and never complete; an entry repeated
// on two pages is reported once.
func TestPagingQuirks(t *testing.T) {
	tests := []struct {
		name     string
		docs     map[string]string
		maxPages int
		wantIDs  []string
		wantErr  bool
	}{
		{
			name: "relative next in RSS",
			docs: map[string]string{
				"/feed":        rssPage("feed?page=2", "a", "b"),
				"/feed?page=2": rssPage("", "c"),
			},
			wantIDs: []string{"a", "b", "c"},
		},
		{
			name: "loop back to the first page",
			docs: map[string]string{
				"/feed":        rssPage("/feed?page=2", "a"),
				"/feed?page=2": rssPage("/feed", "b"),
			},
			wantIDs: []string{"a", "b"},
		},
		{
			name:    "self loop",
			docs:    map[string]string{"/feed": rssPage("/feed", "a")},
			wantIDs: []string{"a"},
		},
		{
			name: "repeated entry",
			docs: map[string]string{
				"/feed":        rssPage("/feed?page=2", "a", "b", "a"),
				"/feed?page=2": rssPage("", "b", "c"),
			},
			wantIDs: []string{"a", "b", "c"},
		},
		{
			name: "too many pages",
			docs: map[string]string{
				"/feed":        rssPage("/feed?page=2", "a"),
				"/feed?page=2": rssPage("/feed?page=3", "b"),
				"/feed?page=3": rssPage("", "c"),
			},
			maxPages: 2,
			wantIDs:  []string{"a", "b"},
			wantErr:  true,
		},
		{
			name: "next page gone",
			docs: map[string]string{
				"/feed": rssPage("/feed?page=2", "a"),
			},
			wantIDs: []string{"a"},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := staticSite(t, tc.docs)
			acct := platforms.Account{Platform: platforms.Feed, Handle: srv.URL + "/feed"}
			r := capture(t, &feed.Connector{CompleteFeed: true, MaxPages: tc.maxPages}, acct, platforms.Options{Full: true})
			if (r.Err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", r.Err, tc.wantErr)
			}
			var ids []string
			for _, it := range r.Sink.Items {
				ids = append(ids, it.NativeID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("reported %v, want %v", ids, tc.wantIDs)
			}
			if r.Sink.PostsDone == tc.wantErr {
				t.Errorf("PostsComplete = %v", r.Sink.PostsDone)
			}
		})
	}
}

// TestShiftingPages: a post published while the paged feed is being read
// pushes an entry from page 1 onto page 2; it is reported once and every
// post is still captured.
func TestShiftingPages(t *testing.T) {
	w := bigWorld()
	var once sync.Once
	s := feedtest.NewServer(w, feedtest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery == "page=2" {
				once.Do(func() { w.AddPost("Breaking", "Nuevo aviso publicado durante la captura 🚨") })
			}
			h.ServeHTTP(rw, r)
		})
	}))
	defer s.Close()
	r := capture(t, feed.New(), s.Account(), platforms.Options{Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	posts := w.Posts()
	if len(r.Sink.Items) != len(posts)-1 { // all but the one published mid-run
		t.Errorf("%d items reported, want %d", len(r.Sink.Items), len(posts)-1)
	}
	if len(r.Sink.ByID()) != len(r.Sink.Items) {
		t.Error("an entry was reported twice")
	}
}

// TestAPIBaseJoin: a Handle that is a path is joined to APIBase.
func TestAPIBaseJoin(t *testing.T) {
	w := newWorld()
	s := feedtest.NewServer(w)
	defer s.Close()
	acct := platforms.Account{Platform: platforms.Feed, Handle: "/rss.xml", APIBase: s.URL + "/"}
	r := capture(t, feed.New(), acct, platforms.Options{Full: true})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	checkMatchesWorld(t, s, w, r)
	acct.APIBase = ""
	if r := capture(t, feed.New(), acct, platforms.Options{Full: true}); r.Err == nil {
		t.Error("a path Handle without APIBase was accepted")
	}
}

// TestCancelled: a cancelled context stops the run with its error.
func TestCancelled(t *testing.T) {
	w := newWorld()
	s := feedtest.NewServer(w)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := platformtest.NewSink()
	err := feed.New().Capture(ctx, s.Account(), platforms.Options{Full: true}, platformtest.Client(t, &platformtest.MemBlobs{}, nil), sink)
	if !errors.Is(err, context.Canceled) || len(sink.Items) != 0 {
		t.Errorf("err = %v, %d items", err, len(sink.Items))
	}
}

// TestConnectorNames: the connector says which platform it is.
func TestConnectorNames(t *testing.T) {
	var c platforms.Connector = feed.New()
	if c.Platform() != platforms.Feed || c.DefaultAPIBase() != "" {
		t.Errorf("Platform %q DefaultAPIBase %q", c.Platform(), c.DefaultAPIBase())
	}
}
