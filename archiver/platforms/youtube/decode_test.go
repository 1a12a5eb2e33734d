package youtube

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func readFile(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tm(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestDecodeChannelProfile(t *testing.T) {
	resp, err := decodeChannels(readTestdata(t, "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Items) != 1 {
		t.Fatalf("items = %d", len(resp.Items))
	}
	got := profileOf(resp.Items[0], "raw/1")
	want := platforms.Profile{
		NativeID:    "UCclintonCityUtah0000000",
		Handle:      "@clintoncityut",
		DisplayName: "Clinton City, Utah 🏔️",
		Description: "Official channel of Clinton City. Información en español: clintoncity.gov",
		URL:         "https://www.youtube.com/channel/UCclintonCityUtah0000000",
		AvatarURL:   "https://yt3.ggpht.com/ytc/clinton=s800-c-k-c0x00ffffff-no-rj",
		Extra:       map[string]string{"country": "US"},
		RawKey:      "raw/1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile\n got %+v\nwant %+v", got, want)
	}
	if u := resp.Items[0].ContentDetails.RelatedPlaylists.Uploads; u != "UUclintonCityUtah0000000" {
		t.Errorf("uploads = %q", u)
	}
}

func TestDecodePlaylistItems(t *testing.T) {
	resp, err := decodePlaylistItems(readTestdata(t, "playlistItems.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextPageToken != "EAAaBlBUOkNBVQ" || len(resp.Items) != 2 {
		t.Fatalf("next=%q items=%d", resp.NextPageToken, len(resp.Items))
	}
	tests := []struct {
		id        string
		published time.Time
	}{
		{"dxZkz8qPEwM", *tm("2024-06-01T18:00:00Z")},
		{"fsKd8xY_9TE", time.Time{}}, // private: no videoPublishedAt
	}
	for i, tc := range tests {
		it := resp.Items[i]
		if it.videoID() != tc.id || !it.videoPublished().Equal(tc.published) {
			t.Errorf("item %d: id %q published %v, want %q %v", i, it.videoID(), it.videoPublished(), tc.id, tc.published)
		}
	}
}

func TestDecodeVideoPost(t *testing.T) {
	resp, err := decodeVideos(readTestdata(t, "videos.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := postOf(resp.Items[0], "raw/2")
	want := platforms.Item{
		NativeID:   "dxZkz8qPEwM",
		Kind:       platforms.KindPost,
		AuthorID:   "UCclintonCityUtah0000000",
		AuthorName: "Clinton City, Utah 🏔️",
		Title:      "Council meeting – June 2024",
		Text:       "Full recording. Agenda: budget, parks, water rates.\nSubtítulos en español 🇲🇽",
		Permalink:  "https://www.youtube.com/watch?v=dxZkz8qPEwM",
		CreatedAt:  tm("2024-06-01T18:00:00Z"),
		Media: []platforms.Media{{
			NativeID: "dxZkz8qPEwM/maxres",
			URL:      "https://i.ytimg.com/vi/dxZkz8qPEwM/maxresdefault.jpg",
			Kind:     "thumbnail",
		}},
		Extra:  map[string]string{"tags": `["city council","budget","Clinton Utah"]`},
		RawKey: "raw/2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("post\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeCommentThreadsAndReplies(t *testing.T) {
	threads, err := decodeCommentThreads(readTestdata(t, "commentThreads.json"))
	if err != nil {
		t.Fatal(err)
	}
	replies, err := decodeComments(readTestdata(t, "comments.json"))
	if err != nil {
		t.Fatal(err)
	}
	const vid, top = "dxZkz8qPEwM", "UgzDE2tasfmrYLyNkGt4AaABAg"
	t0 := threads.Items[0]
	if t0.Snippet.TotalReplyCount != 3 || len(t0.Replies.Comments) != 1 {
		t.Errorf("thread 0: total %d embedded %d", t0.Snippet.TotalReplyCount, len(t0.Replies.Comments))
	}
	tests := []struct {
		name string
		got  platforms.Item
		want platforms.Item
	}{
		{"edited top-level comment (textOriginal)", commentOf(t0.Snippet.TopLevelComment, vid, vid, "k"), platforms.Item{
			NativeID: top, Kind: platforms.KindComment, ParentNativeID: vid, RootNativeID: vid,
			AuthorID: "UCanaPerez00000000000000", AuthorName: "@AnaPerez",
			Text:      "¿A qué hora abren de nuevo? 🚗",
			Permalink: "https://www.youtube.com/watch?v=dxZkz8qPEwM&lc=" + top,
			CreatedAt: tm("2024-06-01T19:02:11Z"), EditedAt: tm("2024-06-01T19:05:40Z"), EditMarker: "2024-06-01T19:05:40Z",
			RawKey: "k",
		}},
		{"embedded reply", commentOf(t0.Replies.Comments[0], vid, replyParent(t0.Replies.Comments[0], top), "k"), platforms.Item{
			NativeID: top + ".9xYv2bQp3Kd9xYw0aLmN2p", Kind: platforms.KindReply, ParentNativeID: top, RootNativeID: vid,
			AuthorID: "UCclintonCityUtah0000000", AuthorName: "@clintoncityut",
			Text:      "Around 3 pm, thanks for asking!",
			Permalink: "https://www.youtube.com/watch?v=dxZkz8qPEwM&lc=" + top + ".9xYv2bQp3Kd9xYw0aLmN2p",
			CreatedAt: tm("2024-06-01T19:30:00Z"), RawKey: "k",
		}},
		{"held for review, textDisplay only", commentOf(threads.Items[1].Snippet.TopLevelComment, vid, vid, "k"), platforms.Item{
			NativeID: "UgwM3pL9xQ2rT5vY8zB1AaABAg", Kind: platforms.KindComment, ParentNativeID: vid, RootNativeID: vid,
			AuthorID: "UCbob000000000000000000", AuthorName: "@bob", Text: "Will the library be open?",
			Permalink: "https://www.youtube.com/watch?v=dxZkz8qPEwM&lc=UgwM3pL9xQ2rT5vY8zB1AaABAg",
			CreatedAt: tm("2024-06-01T20:00:00Z"), Hidden: true, RawKey: "k",
		}},
		{"paged, edited reply", commentOf(replies.Items[1], vid, replyParent(replies.Items[1], top), "k"), platforms.Item{
			NativeID: top + ".9xYv2bQp3Kd9xZ1cQrS4tU", Kind: platforms.KindReply, ParentNativeID: top, RootNativeID: vid,
			AuthorID: "UCanaPerez00000000000000", AuthorName: "@AnaPerez", Text: "@clintoncityut Gracias 🙏",
			Permalink: "https://www.youtube.com/watch?v=dxZkz8qPEwM&lc=" + top + ".9xYv2bQp3Kd9xZ1cQrS4tU",
			CreatedAt: tm("2024-06-01T21:10:00Z"), EditedAt: tm("2024-06-02T08:00:00Z"), EditMarker: "2024-06-02T08:00:00Z",
			RawKey: "k",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", tc.got, tc.want)
			}
		})
	}
}

func TestDecodeRejectsWrongShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		dec  func([]byte) error
	}{
		{"empty object", `{}`, func(b []byte) error { _, err := decodeCommentThreads(b); return err }},
		{"other kind", string(readTestdata(t, "comments.json")), func(b []byte) error { _, err := decodeCommentThreads(b); return err }},
		{"not json", `<html>`, func(b []byte) error { _, err := decodeVideos(b); return err }},
		{"null", `null`, func(b []byte) error { _, err := decodePlaylistItems(b); return err }},
		{"item without id", `{"kind":"youtube#videoListResponse","items":[{"snippet":{"publishedAt":"2024-01-01T00:00:00Z"}}]}`,
			func(b []byte) error { _, err := decodeVideos(b); return err }},
		{"bad time", `{"kind":"youtube#commentListResponse","items":[{"id":"x","snippet":{"publishedAt":"yesterday"}}]}`,
			func(b []byte) error { _, err := decodeComments(b); return err }},
		{"channel without id", `{"kind":"youtube#channelListResponse","items":[{}]}`,
			func(b []byte) error { _, err := decodeChannels(b); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec([]byte(tc.body)); !errors.Is(err, platforms.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestErrorReason(t *testing.T) {
	tests := []struct {
		file string
		want string
		is   error
	}{
		{"error_commentsDisabled.json", "commentsDisabled", errCommentsDisabled},
		{"error_quotaExceeded.json", "quotaExceeded", platforms.ErrRateLimited},
		{"error_keyInvalid.json", "keyInvalid", platforms.ErrAuth},
	}
	for _, tc := range tests {
		body := string(readTestdata(t, tc.file))
		for _, cut := range []int{len(body), 300} { // whole, and as the shared client keeps it
			b := body[:min(cut, len(body))]
			if got := errorReason(b); got != tc.want {
				t.Errorf("%s[:%d]: reason %q, want %q", tc.file, cut, got, tc.want)
			}
			status := 403
			if tc.want == "keyInvalid" {
				status = 400
			}
			err := classify(&platforms.HTTPError{Status: status, Body: b})
			if !errors.Is(err, tc.is) {
				t.Errorf("%s[:%d]: classify = %v, want %v", tc.file, cut, err, tc.is)
			}
			if tc.is == platforms.ErrRateLimited && errors.Is(err, platforms.ErrAuth) {
				t.Errorf("%s: quota error must not be ErrAuth", tc.file)
			}
		}
	}
}
