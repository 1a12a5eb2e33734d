package bluesky

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

const (
	acctDID  = "did:plc:z72i7hdynmk6r22z27h6tvur"
	paradeID = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lf3gxwcbcs2k"
	anaID    = "at://did:plc:4eqp3evxyojrwg6mqdw3lp6i/app.bsky.feed.post/3lf3h2kzsuc2w"
	cityID   = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lf3h4c7ba22y"
	thanksID = "at://did:plc:4eqp3evxyojrwg6mqdw3lp6i/app.bsky.feed.post/3lf3h5vabc22z"
	spamID   = "at://did:plc:spam5pamspam5pamspam5pam/app.bsky.feed.post/3lf3hspam2s2q"
	agendaID = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lf2kq7nmgk2s"
	plowID   = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lf22v4rdlc2c"
	paradeTx = "Main St closed Saturday for the parade 🎉 Detour map: clintoncity.com/parade @udot.bsky.social #ClintonParade"
	mapCID   = "bafkreifv3oq6w7uhzmh5zkcgmvdp6zv5vnd5ofbwtgoqhvzqv4wfffjfom"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestDecodeProfile(t *testing.T) {
	p, err := decodeProfile(readTestdata(t, "profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := toProfile(p, "raw")
	want := platforms.Profile{
		NativeID:    acctDID,
		Handle:      "clintoncity.bsky.social",
		DisplayName: "Clinton City, Utah 🏔️",
		Description: "Official account of Clinton City, Utah. Noticias en español también.\nhttps://www.clintoncity.com.\nQuestions: info@clintoncity.com",
		Website:     "https://www.clintoncity.com",
		Email:       "info@clintoncity.com",
		URL:         "https://bsky.app/profile/clintoncity.bsky.social",
		AvatarURL:   "https://cdn.bsky.app/img/avatar/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkreihhqvmybd6jnjlkh7xm4jjwwtyc4bqvhg2yxtdlqc6ux6bz2g7w5u@jpeg",
		Verified:    true,
		Extra: map[string]string{
			"banner":      "https://cdn.bsky.app/img/banner/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkreichzyovokfzmymz36p5jibbjrhsur6n7hjnzxrpbt5jaydp2szvna@jpeg",
			"pinned_post": "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6oveex3ii2l",
		},
		RawKey: "raw",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeFeedItems(t *testing.T) {
	out, err := decodeFeed(readTestdata(t, "author_feed.json"))
	if err != nil {
		t.Fatal(err)
	}
	feed := *out.Feed
	if len(feed) != 5 || out.Cursor == "" {
		t.Fatalf("feed has %d items, cursor %q", len(feed), out.Cursor)
	}
	r := &run{seen: map[string]bool{}}
	var own []string
	for i := range feed {
		if r.ownPost(&feed[i], acctDID) {
			own = append(own, feed[i].Post.URI)
		}
	}
	// The repost (item 0) and the account's reply to a resident (item 2)
	// are not posts of the account.
	if want := []string{paradeID, agendaID, plowID}; !reflect.DeepEqual(own, want) {
		t.Errorf("own posts = %v, want %v", own, want)
	}
	tests := []struct {
		name string
		idx  int
		want platforms.Item
	}{
		{"images, facets, emoji", 1, platforms.Item{
			NativeID: paradeID, Kind: "post", AuthorID: acctDID, AuthorName: "Clinton City, Utah 🏔️",
			Text: paradeTx, Permalink: "https://bsky.app/profile/clintoncity.bsky.social/post/3lf3gxwcbcs2k",
			CreatedAt: ts("2025-01-06T17:04:11.512Z"), EditMarker: "bafyreihwcnvvzlbnp3hcfn2l5kzxd4yxazyrxbyonpfjxw6nu6k5zgcsle",
			Media: []platforms.Media{{NativeID: mapCID, ContentType: "image/jpeg", Kind: "image", AltText: "Mapa del desvío 🗺️",
				URL: "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:z72i7hdynmk6r22z27h6tvur/" + mapCID + "@jpeg"}},
			Extra: map[string]string{"links": "https://clintoncity.com/parade", "mentions": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
				"tags": "ClintonParade", "langs": "en,es"},
			RawKey: "k",
		}},
		{"quote with external card", 3, platforms.Item{
			NativeID: agendaID, Kind: "post", AuthorID: acctDID, AuthorName: "Clinton City, Utah 🏔️",
			Text: "Council agenda is up. As the mayor said:", Permalink: "https://bsky.app/profile/clintoncity.bsky.social/post/3lf2kq7nmgk2s",
			CreatedAt: ts("2025-01-05T20:00:00Z"), EditMarker: "bafyreiekjcxz2mfw7f4nq3ztymnp7yzpdzhqkx3yjcoiwmuq3i2rufmh7m",
			Media: []platforms.Media{{NativeID: "bafkreidq3ju6ydv6vc6oxwsxtkdfhkrqctx5jamrqxcmhqwk2t4pnmcfvq", Kind: "thumbnail",
				URL: "https://cdn.bsky.app/img/feed_thumbnail/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkreidq3ju6ydv6vc6oxwsxtkdfhkrqctx5jamrqxcmhqwk2t4pnmcfvq@jpeg"}},
			Extra: map[string]string{"langs": "en", "quote_uri": "at://did:plc:m4y0rx3eqqwahbnbqbvmjx6u/app.bsky.feed.post/3lf2jx2iyus2a",
				"external_uri": "https://www.clintoncity.com/agenda.pdf", "external_title": "Agenda – Jan 7", "external_description": "Budget, parks, water rates"},
			RawKey: "k",
		}},
		{"video", 4, platforms.Item{
			NativeID: plowID, Kind: "post", AuthorID: acctDID, AuthorName: "Clinton City, Utah 🏔️",
			Text: "Snow plows out tonight ❄️", Permalink: "https://bsky.app/profile/clintoncity.bsky.social/post/3lf22v4rdlc2c",
			CreatedAt: ts("2025-01-05T09:30:00Z"), EditMarker: "bafyreifgqqvbk2nbgwrdbxrxqwcccfzomi2drdufefr4kb3eiwmfmdvf2q",
			Media: []platforms.Media{
				{NativeID: "bafkreiaocbhgcxidmuhmbvmzmnqfd3aa2ttcnjezwyuwzy7z5b2s4sb3hy", ContentType: "video/mp4", Kind: "video", AltText: "Plow on 2000 W",
					URL: "https://video.bsky.app/watch/did%3Aplc%3Az72i7hdynmk6r22z27h6tvur/bafkreiaocbhgcxidmuhmbvmzmnqfd3aa2ttcnjezwyuwzy7z5b2s4sb3hy/playlist.m3u8"},
				{NativeID: "bafkreiaocbhgcxidmuhmbvmzmnqfd3aa2ttcnjezwyuwzy7z5b2s4sb3hy#thumbnail", Kind: "thumbnail",
					URL: "https://video.bsky.app/watch/did%3Aplc%3Az72i7hdynmk6r22z27h6tvur/bafkreiaocbhgcxidmuhmbvmzmnqfd3aa2ttcnjezwyuwzy7z5b2s4sb3hy/thumbnail.jpg"},
			},
			Extra:  map[string]string{"langs": "en"},
			RawKey: "k",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := toItem(&feed[tc.idx].Post, platforms.KindPost, "", "", "k")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("item\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestDecodeThread walks the testdata thread: nested replies at three
// levels, a notFoundPost and a blockedPost skipped, a reply hidden by the
// threadgate.
func TestDecodeThread(t *testing.T) {
	thr, err := decodeThread(readTestdata(t, "post_thread.json"))
	if err != nil {
		t.Fatal(err)
	}
	sink := platformtest.NewSink()
	r := &run{sink: sink}
	complete, err := r.walk(context.Background(), thr.Thread, paradeID, true, thr.hiddenSet(), "k", 0)
	if err != nil || !complete {
		t.Fatalf("walk: complete=%v err=%v", complete, err)
	}
	type want struct {
		id, kind, parent, text, author, authorName string
		hidden                                     bool
	}
	wants := []want{
		{anaID, "comment", paradeID, "¿A qué hora abren de nuevo? 🚗", "did:plc:4eqp3evxyojrwg6mqdw3lp6i", "Ana Pérez", false},
		{cityID, "reply", anaID, "Around 3 pm, thanks for asking!", acctDID, "Clinton City, Utah 🏔️", false},
		{thanksID, "reply", cityID, "Gracias 🙏", "did:plc:4eqp3evxyojrwg6mqdw3lp6i", "Ana Pérez", false},
		{spamID, "comment", paradeID, "cheap parade tickets!!! https://example.invalid/x", "did:plc:spam5pamspam5pamspam5pam", "deals4u.bsky.social", true},
	}
	if len(sink.Items) != len(wants) {
		t.Fatalf("got %d items, want %d: %+v", len(sink.Items), len(wants), sink.Items)
	}
	for i, w := range wants {
		it := sink.Items[i]
		got := want{it.NativeID, it.Kind, it.ParentNativeID, it.Text, it.AuthorID, it.AuthorName, it.Hidden}
		if got != w {
			t.Errorf("item %d\n got %+v\nwant %+v", i, got, w)
		}
		if it.RootNativeID != paradeID || it.EditMarker == "" || it.CreatedAt == nil || it.RawKey != "k" {
			t.Errorf("item %d: root %q marker %q created %v raw %q", i, it.RootNativeID, it.EditMarker, it.CreatedAt, it.RawKey)
		}
	}
	if got := sink.Items[3].Extra["links"]; got != "https://example.invalid/x" {
		t.Errorf("spam links = %q", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
	}{
		{"feed without feed", func(b []byte) error { _, err := decodeFeed(b); return err }, `{"cursor":"x"}`},
		{"feed of wrong type", func(b []byte) error { _, err := decodeFeed(b); return err }, `{"feed":{}}`},
		{"feed item without uri", func(b []byte) error { _, err := decodeFeed(b); return err }, `{"feed":[{"post":{}}]}`},
		{"thread without thread", func(b []byte) error { _, err := decodeThread(b); return err }, `{}`},
		{"thread root without uri", func(b []byte) error { _, err := decodeThread(b); return err }, `{"thread":{"$type":"app.bsky.feed.defs#threadViewPost","post":{}}}`},
		{"profile without did", func(b []byte) error { _, err := decodeProfile(b); return err }, `{"handle":"x"}`},
		{"html", func(b []byte) error { _, err := decodeProfile(b); return err }, `<html>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode([]byte(tc.body)); !errors.Is(err, platforms.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// staticServer answers with the testdata payloads: the feed lists a
// repost, a post whose thread is post_thread.json, the account's reply to
// a resident, a post whose thread is notFoundPost and a post whose thread
// is the XRPC NotFound error (both deleted since the listing).
func staticServer(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]string{paradeID: "post_thread.json", agendaID: "thread_not_found.json"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/xrpc/app.bsky.actor.getProfile":
			w.Write(readTestdata(t, "profile.json"))
		case "/xrpc/app.bsky.feed.getAuthorFeed":
			if q.Get("cursor") == "" {
				w.Write(readTestdata(t, "author_feed.json"))
			} else {
				w.Write(readTestdata(t, "author_feed_end.json"))
			}
		case "/xrpc/app.bsky.feed.getPostThread":
			if f, ok := files[q.Get("uri")]; ok {
				w.Write(readTestdata(t, f))
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			w.Write(readTestdata(t, "error_not_found.json"))
		default:
			w.WriteHeader(http.StatusNotImplemented)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCaptureStaticPayloads runs Capture on the documented payloads:
// reposts and the account's replies to others are not posts, deleted
// thread roots (notFoundPost, XRPC NotFound) are not reported and are no
// error, notFoundPost/blockedPost replies are skipped.
func TestCaptureStaticPayloads(t *testing.T) {
	srv := staticServer(t)
	sink := platformtest.NewSink()
	acct := platforms.Account{Platform: platforms.Bluesky, Handle: "clintoncity.bsky.social", APIBase: srv.URL}
	err := New().Capture(context.Background(), acct, platforms.Options{Full: true}, platformtest.Client(t, &platformtest.MemBlobs{}, nil), sink)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range sink.Items {
		ids = append(ids, it.Kind+" "+it.NativeID)
	}
	want := []string{"post " + paradeID, "comment " + anaID, "reply " + cityID, "reply " + thanksID, "comment " + spamID}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("items\n got %v\nwant %v", ids, want)
	}
	if !sink.CompleteThread[paradeID] || len(sink.CompleteThread) != 1 || !sink.PostsDone {
		t.Errorf("complete threads %v, posts done %v", sink.CompleteThread, sink.PostsDone)
	}
	if p := sink.Profiles; len(p) != 1 || p[0].NativeID != acctDID || p[0].RawKey == "" {
		t.Errorf("profiles %+v", p)
	}
	if strings.Contains(strings.Join(ids, " "), "udot") {
		t.Error("repost reported")
	}
}
