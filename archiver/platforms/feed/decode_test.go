package feed

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeTestdata parses feeds written from the RSS 2.0 spec and RFC
// 4287 and checks the normalised profile and items field by field.
func TestDecodeTestdata(t *testing.T) {
	tests := []struct {
		file    string
		pageURL string
		profile platforms.Profile
		next    string
		items   []platforms.Item
	}{
		{
			file:    "rss2-spec.xml",
			pageURL: "https://www.clintoncity.example/news/rss.xml",
			profile: platforms.Profile{
				DisplayName: "Clinton City News",
				Description: "Noticias y avisos de la ciudad & more 🏙️",
				Website:     "https://www.clintoncity.example/news",
				Email:       "editor@clintoncity.example",
				URL:         "https://www.clintoncity.example/news/rss.xml",
				AvatarURL:   "https://www.clintoncity.example/logo.png",
				Extra:       map[string]string{"feed_type": "rss", "feed_version": "2.0", "language": "en-us"},
			},
			next: "https://www.clintoncity.example/news/rss.xml?page=2",
			items: []platforms.Item{{
				NativeID:   "http://liftoff.msfc.nasa.gov/2003/06/03.html#item573",
				Kind:       platforms.KindPost,
				AuthorName: "Ana Pérez",
				Title:      "Star City & the parade 🎉",
				Text:       "Main St closed for the parade 🎉 — ¿A qué hora abren?\nDetails & map below.",
				Permalink:  "https://www.clintoncity.example/news/2003/06/03/parade",
				CreatedAt:  ts("2003-06-03T09:39:21Z"),
				Media: []platforms.Media{
					{URL: "https://www.clintoncity.example/media/parade.mp3", ContentType: "audio/mpeg", Kind: "audio"},
					{URL: "https://www.clintoncity.example/media/route.jpg", ContentType: "image/jpeg", Kind: "image", AltText: "Parade route: Main St from 1st to 3rd Ave"},
					{URL: "https://www.clintoncity.example/img/map.png", Kind: "image", AltText: "Parade map"},
				},
				Extra: map[string]string{
					"categories": "Events, Streets",
					"html":       "<p>Main St closed for the parade 🎉 &mdash; <b>¿A qué hora</b> abren?</p>\n<p>Details &amp; map below.</p><img src=\"/img/map.png\" alt=\"Parade map\"><script>alert(\"x\")</script>",
					"link":       "https://www.clintoncity.example/news/2003/06/03/parade",
					"summary":    "How do Americans get ready to work with Russians aboard the International Space Station? They take a crash course in culture, language and protocol at Russia's Star City.",
				},
			}, {
				NativeID:   "http://liftoff.msfc.nasa.gov/2003/05/30.html#item572",
				Kind:       platforms.KindPost,
				Title:      "Water rates",
				Text:       "Sky watchers in Europe, Asia, and parts of Alaska and Canada will experience a partial eclipse of the Sun on Saturday, May 31st. Rates rise 3\u2009%.",
				Permalink:  "https://www.clintoncity.example/news/2003/05/30/water",
				CreatedAt:  ts("2003-05-30T11:06:42Z"),
				EditedAt:   ts("2003-06-01T08:00:00Z"),
				EditMarker: "2003-06-01T08:00:00Z",
				Extra: map[string]string{
					"html": "Sky watchers in Europe, Asia, and parts of Alaska and Canada will experience a <a href=\"http://science.nasa.gov/headlines/y2003/30may_solareclipse.htm\">partial eclipse of the Sun</a> on Saturday, May 31st. Rates rise 3\u2009%.",
					"link": "https://www.clintoncity.example/news/2003/05/30/water",
				},
			}},
		},
		{
			file:    "atom-rfc4287.xml",
			pageURL: "http://example.org/feed.atom",
			profile: platforms.Profile{
				DisplayName: "dive into mark",
				Description: "A lot of effort\nwent into making this effortless",
				Website:     "http://example.org/",
				URL:         "http://example.org/feed.atom",
				Extra: map[string]string{"copyright": "Copyright (c) 2003, Mark Pilgrim", "feed_id": "tag:example.org,2003:3",
					"feed_type": "atom", "feed_version": "1.0"},
			},
			next: "http://example.org/2003/11/index.atom",
			items: []platforms.Item{{
				NativeID:   "tag:example.org,2003:3.2397",
				Kind:       platforms.KindPost,
				AuthorName: "Mark Pilgrim",
				Title:      "Atom draft-07 snapshot",
				Text:       "[Update: The Atom draft is finished.]\nGracias 🙏 — ¿qué tal?",
				Permalink:  "http://example.org/2005/04/02/atom",
				CreatedAt:  ts("2003-12-13T12:29:29Z"),
				EditedAt:   ts("2005-07-31T12:29:29Z"),
				EditMarker: "2005-07-31T12:29:29Z",
				Media:      []platforms.Media{{URL: "http://example.org/audio/ph34r_my_podcast.mp3", ContentType: "audio/mpeg", Kind: "audio"}},
				Extra: map[string]string{
					"html": "<p><i>[Update: The Atom draft is finished.]</i></p>\n        <p>Gracias 🙏 — ¿qué tal?</p>",
					"link": "http://example.org/2005/04/02/atom",
				},
			}, {
				NativeID:  "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
				Kind:      platforms.KindPost,
				Title:     "Plain text entry",
				Text:      "Tom & Jerry <3 snow ❄️", // type="text": kept as is, not parsed as HTML
				Permalink: "http://example.org/2003/12/13/plain",
				CreatedAt: ts("2003-12-13T18:30:02Z"), // no <published>: <updated> is the creation time, no edit
				Extra:     map[string]string{"link": "http://example.org/2003/12/13/plain", "summary": "Some text ❄️"},
			}},
		},
		{
			file:    "rss2-noguid.xml",
			pageURL: "https://parks.clintoncity.example/rss",
			profile: platforms.Profile{
				DisplayName: "Parks & Recreation",
				Description: "Parks department notices",
				Website:     "https://parks.clintoncity.example/",
				Extra:       map[string]string{"feed_type": "rss", "feed_version": "2.0"},
			},
			items: []platforms.Item{{
				NativeID:  "https://parks.clintoncity.example/pool", // no guid: the link
				Kind:      platforms.KindPost,
				Title:     "Pool opens",
				Text:      "The pool opens Saturday.",
				Permalink: "https://parks.clintoncity.example/pool",
				CreatedAt: ts("2025-06-07T14:00:00Z"),
				Extra:     map[string]string{"html": "The pool opens <b>Saturday</b>.", "link": "https://parks.clintoncity.example/pool"},
			}, {
				// no guid, no link: SHA-256 of title + "\n" + pubDate
				NativeID:  "sha256:aa5f38d148cc987146d2789b802396dbd233a6cc2f742bad38364fe71c4ffd04",
				Kind:      platforms.KindPost,
				Title:     "Sin enlace",
				Text:      "No guid and no link: ¡hola! 👋",
				CreatedAt: ts("2025-06-06T14:00:00Z"),
				Extra:     map[string]string{"html": "No guid and no link: ¡hola! 👋"},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := decode(readTestdata(t, tc.file), tc.pageURL)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.profile, tc.profile) {
				t.Errorf("profile\n got %+v\nwant %+v", doc.profile, tc.profile)
			}
			if doc.next != tc.next {
				t.Errorf("next = %q, want %q", doc.next, tc.next)
			}
			if len(doc.items) != len(tc.items) {
				t.Fatalf("got %d items, want %d", len(doc.items), len(tc.items))
			}
			for i, want := range tc.items {
				got := doc.items[i]
				checkItem(t, got, want)
			}
		})
	}
}

func checkItem(t *testing.T, got, want platforms.Item) {
	t.Helper()
	str := func(name, g, w string) {
		if g != w {
			t.Errorf("%s %s = %q, want %q", want.NativeID, name, g, w)
		}
	}
	str("NativeID", got.NativeID, want.NativeID)
	str("Kind", got.Kind, want.Kind)
	str("AuthorName", got.AuthorName, want.AuthorName)
	str("Title", got.Title, want.Title)
	str("Text", got.Text, want.Text)
	str("Permalink", got.Permalink, want.Permalink)
	str("EditMarker", got.EditMarker, want.EditMarker)
	str("ParentNativeID", got.ParentNativeID, "")
	str("RootNativeID", got.RootNativeID, "")
	if !timeEq(got.CreatedAt, want.CreatedAt) || !timeEq(got.EditedAt, want.EditedAt) {
		t.Errorf("%s times = %v / %v, want %v / %v", want.NativeID, got.CreatedAt, got.EditedAt, want.CreatedAt, want.EditedAt)
	}
	if !reflect.DeepEqual(got.Media, want.Media) {
		t.Errorf("%s media\n got %+v\nwant %+v", want.NativeID, got.Media, want.Media)
	}
	if !reflect.DeepEqual(got.Extra, want.Extra) {
		t.Errorf("%s extra\n got %q\nwant %q", want.NativeID, got.Extra, want.Extra)
	}
	if got.Hidden || len(got.History) > 0 {
		t.Errorf("%s: hidden or history set", want.NativeID)
	}
}

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// TestDecodeMalformed: anything that does not parse as a feed is
// ErrMalformed, never an empty feed.
func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"unclosed XML", readTestdata(t, "malformed.xml")},
		{"HTML page", readTestdata(t, "not-a-feed.html")},
		{"empty", nil},
		{"JSON error", []byte(`{"error":"internal"}`)},
		{"truncated atom", readTestdata(t, "atom-rfc4287.xml")[:700]},
		{"garbage", []byte("<html>upstream error</html>")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.body, "https://example.org/feed")
			if !errors.Is(err, platforms.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestHTMLToText: entities decoded, tags dropped, scripts skipped, blocks
// on their own lines, plain text untouched.
func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text ❄️", "plain text ❄️"},
		{"<p>Hola &amp; adiós 🎉</p>", "Hola & adiós 🎉"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{"a<br>b<br/>c", "a\nb\nc"},
		{"x <script>var a = '<p>';</script>y", "x y"},
		{"  lots   of\t space  ", "lots of space"},
		{"&lt;b&gt;not bold&lt;/b&gt;", "<b>not bold</b>"},
		{"no\u00a0break", "no\u00a0break"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFeedURL: Handle is the feed URL; a path Handle is joined to APIBase.
func TestFeedURL(t *testing.T) {
	tests := []struct {
		acct    platforms.Account
		want    string
		wantErr bool
	}{
		{platforms.Account{Handle: "https://city.example/news/feed/"}, "https://city.example/news/feed/", false},
		{platforms.Account{Handle: "http://city.example/rss.xml", APIBase: "https://other.example"}, "http://city.example/rss.xml", false},
		{platforms.Account{Handle: "/news/atom.xml", APIBase: "https://city.example/"}, "https://city.example/news/atom.xml", false},
		{platforms.Account{Handle: "news/atom.xml", APIBase: "https://city.example/site"}, "https://city.example/site/news/atom.xml", false},
		{platforms.Account{Handle: "/news/atom.xml"}, "", true},
		{platforms.Account{Handle: "ftp://city.example/feed"}, "", true},
		{platforms.Account{Handle: "/feed", APIBase: "city.example"}, "", true},
		{platforms.Account{}, "", true},
	}
	for _, tc := range tests {
		got, err := FeedURL(tc.acct)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("FeedURL(%+v) = %q, %v; want %q, err %v", tc.acct, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestAuthorization: "user:password" is HTTP Basic, anything else a bearer
// token, nothing when there is no credential.
func TestAuthorization(t *testing.T) {
	tests := []struct{ cred, want string }{
		{"", ""},
		{"s3cret-token", "Bearer s3cret-token"},
		{"clerk:pa55", "Basic Y2xlcms6cGE1NQ=="},
	}
	for _, tc := range tests {
		if got := authorization(tc.cred); got != tc.want {
			t.Errorf("authorization(%q) = %q, want %q", tc.cred, got, tc.want)
		}
	}
}
