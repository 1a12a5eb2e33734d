package x

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(s string) *time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &v
}

// TestDecodeProfile checks the profile normalisation field by field,
// t.co links expanded from entities.
func TestDecodeProfile(t *testing.T) {
	u, err := decodeUser(readTestdata(t, "user.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := profileOf(u, "raw/1")
	want := platforms.Profile{
		NativeID: "2244994945", Handle: "ClintonCityUT", DisplayName: "Clinton City, Utah 🏔️",
		Description: "Official account of Clinton City. Términos: https://t.co/AbCdEfGhIj",
		Website:     "https://www.clintoncity.net", URL: "https://x.com/ClintonCityUT",
		AvatarURL: "https://pbs.twimg.com/profile_images/1445764922474827784/W2zEPN7U_normal.jpg",
		Verified:  true, Extra: map[string]string{"description_urls": "https://www.clintoncity.net/terms"}, RawKey: "raw/1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeUser(readTestdata(t, "user_not_found.json")); !errors.Is(err, platforms.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
}

// TestDecodeTimeline checks a timeline page: edited post merged with its
// old version, t.co link expanded into Extra, photo and video media, a
// repost, the account's reply in someone else's conversation.
func TestDecodeTimeline(t *testing.T) {
	resp, err := decodeTweets(readTestdata(t, "timeline.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Meta.NextToken != "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i" {
		t.Errorf("next_token %q", resp.Meta.NextToken)
	}
	tweets := latest(resp.Data)
	if len(tweets) != 3 {
		t.Fatalf("latest kept %d tweets, want 3 (the two versions merged)", len(tweets))
	}
	post := build(&pending{tw: tweets[0], inc: &resp.Includes, rawKey: "raw/t", shape: shape{kind: platforms.KindPost}},
		map[string]version{"1790000000000000101": {tw: resp.Data[1], inc: &resp.Includes, rawKey: "raw/t"}})
	want := platforms.Item{
		NativeID: "1790000000000000101", Kind: platforms.KindPost, AuthorID: "2244994945", AuthorName: "Clinton City, Utah 🏔️",
		Text:      "Main St closed Saturday for the parade 🎉 Details: https://t.co/Xy12AbCd9q",
		Permalink: "https://x.com/ClintonCityUT/status/1790000000000000105",
		CreatedAt: ts("2024-05-10T16:00:00Z"), EditedAt: ts("2024-05-10T16:05:00Z"),
		EditMarker: "1790000000000000101,1790000000000000105",
		Media: []platforms.Media{
			{NativeID: "3_1790000000000000900", URL: "https://pbs.twimg.com/media/GNroadmapXYZ.jpg", Kind: "image", AltText: "Mapa del cierre de Main St"},
			{NativeID: "7_1790000000000000901", URL: "https://video.twimg.com/ext_tw_video/1/pu/vid/1280x720/high.mp4", ContentType: "video/mp4", Kind: "video"},
		},
		Extra:  map[string]string{"expanded_urls": "https://www.clintoncity.net/events/parade-2024"},
		RawKey: "raw/t",
		History: []platforms.Item{{
			NativeID: "1790000000000000101", Kind: platforms.KindPost, AuthorID: "2244994945", AuthorName: "Clinton City, Utah 🏔️",
			Text: "Main St closed Saturday for the parade 🎉", Permalink: "https://x.com/ClintonCityUT/status/1790000000000000101",
			CreatedAt: ts("2024-05-10T16:00:00Z"), EditMarker: "1790000000000000101", RawKey: "raw/t",
		}},
	}
	if !reflect.DeepEqual(post, want) {
		t.Errorf("edited post\n got %+v\nwant %+v", post, want)
	}
	rt := normalise(&tweets[1], &resp.Includes, shape{kind: platforms.KindPost}, "1790000000000000050", "raw/t")
	if rt.Extra["retweeted_tweet_id"] != "1789999999999999000" || rt.Text != "RT @UtahDOT: I-15 lane closures tonight near Clinton ⚠️" {
		t.Errorf("repost: %+v", rt)
	}
	rp := normalise(&tweets[2], &resp.Includes, shape{kind: platforms.KindPost}, "1790000000000000040", "raw/t")
	if rp.Extra["in_reply_to_tweet_id"] != "1789999999999990000" || rp.Text != "@vecino_ana Abrimos a las 3 pm. ¡Gracias!" {
		t.Errorf("reply post: %+v", rp)
	}
}

// TestDecodeThread checks a conversation page: the root post dropped,
// comment vs reply by replied_to, parents before children, @mentions kept.
func TestDecodeThread(t *testing.T) {
	resp, err := decodeTweets(readTestdata(t, "search.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{}
	var ps []pending
	for _, tw := range resp.Data {
		ps = append(ps, pending{tw: tw, inc: &resp.Includes, rawKey: "raw/s"})
	}
	const post = "1790000000000000101"
	ps = r.shapeThread(post, []string{post, "1790000000000000105"}, latestPending(ps))
	for i := range ps {
		ps[i].item = build(&ps[i], nil)
	}
	type row struct{ id, kind, parent, author, text string }
	want := []row{
		{"1790000000000000110", "comment", post, "Ana Pérez", "@ClintonCityUT ¿A qué hora abren de nuevo? 🚗"},
		{"1790000000000000120", "reply", "1790000000000000110", "Clinton City, Utah 🏔️", "@vecino_ana Around 3 pm, thanks for asking!"},
		{"1790000000000000130", "reply", "1790000000000000120", "Ana Pérez", "@ClintonCityUT Gracias 🙏"},
	}
	order := threadOrder(post, ps)
	if len(order) != len(want) {
		t.Fatalf("got %d replies, want %d", len(order), len(want))
	}
	for i, idx := range order {
		it := ps[idx].item
		got := row{it.NativeID, it.Kind, it.ParentNativeID, it.AuthorName, it.Text}
		if got != want[i] || it.RootNativeID != post || it.EditMarker != it.NativeID || it.CreatedAt == nil {
			t.Errorf("reply %d: got %+v (root %s marker %s), want %+v", i, got, it.RootNativeID, it.EditMarker, want[i])
		}
	}
}

// TestDecodeMisc covers partial errors, the empty page without data, long
// posts (note_tweet) and malformed bodies.
func TestDecodeMisc(t *testing.T) {
	tests := []struct {
		file, body string
		listing    bool
		wantErr    error
		wantTweets int
		wantText   string
	}{
		{file: "lookup_partial.json", wantTweets: 1, wantText: "Main St closed Saturday for the parade 🎉"},
		{file: "empty_page.json", listing: true},
		{file: "note_tweet.json", listing: true, wantTweets: 1, wantText: "Snow emergency declared. No street parking 2–6 am on all city streets until further notice. Vehicles left on the street will be towed at the owner's expense. Plows will run continuously; please keep driveways and sidewalks clear and check on your neighbors, especially older residents ❄️ ¡Cuídense!"},
		{body: `{"data":[{"id":"1","text":"x"}]}`, listing: true, wantErr: platforms.ErrMalformed},
		{body: `{"meta":{"result_count":1},"data":[{"text":"no id"}]}`, listing: true, wantErr: platforms.ErrMalformed},
		{body: `{}`, wantErr: platforms.ErrMalformed},
		{body: `{"errors":[{"value":"9","detail":"Could not find user with id: [9].","title":"Not Found Error","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`, listing: true, wantErr: platforms.ErrNotFound},
		{body: `[]`, listing: true, wantErr: platforms.ErrMalformed},
		{body: `{"meta":{"result_count":0},"data":[`, listing: true, wantErr: platforms.ErrMalformed},
		{body: `<html>upstream error</html>`, listing: true, wantErr: platforms.ErrMalformed},
	}
	for _, tt := range tests {
		name := tt.file
		if name == "" {
			name = tt.body
		}
		t.Run(name, func(t *testing.T) {
			body := []byte(tt.body)
			if tt.file != "" {
				body = readTestdata(t, tt.file)
			}
			resp, err := decodeTweets(body, tt.listing)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != tt.wantTweets {
				t.Fatalf("%d tweets, want %d", len(resp.Data), tt.wantTweets)
			}
			if tt.wantText != "" && resp.Data[0].fullText() != tt.wantText {
				t.Errorf("text %q", resp.Data[0].fullText())
			}
		})
	}
}

// TestBuildMissingVersion: an earlier version X no longer returns (a
// partial error) is left out of History; the item is still whole.
func TestBuildMissingVersion(t *testing.T) {
	tw := tweet{ID: "3", Text: "v3", EditHistoryTweetIDs: []string{"1", "2", "3"}, CreatedAt: "2024-05-10T16:10:00.000Z"}
	found := map[string]version{"2": {tw: tweet{ID: "2", Text: "v2", EditHistoryTweetIDs: []string{"1", "2", "3"}, CreatedAt: "2024-05-10T16:05:00.000Z"}}}
	it := build(&pending{tw: tw, shape: shape{kind: platforms.KindPost}}, found)
	if it.NativeID != "1" || it.Text != "v3" || it.EditMarker != "1,2,3" || len(it.History) != 1 ||
		it.History[0].Text != "v2" || it.History[0].EditMarker != "1,2" || it.History[0].NativeID != "1" {
		t.Errorf("got %+v", it)
	}
	// A stale version in a listing: the newer one found by lookup wins.
	stale := tweet{ID: "1", Text: "v1", EditHistoryTweetIDs: []string{"1", "2"}}
	it = build(&pending{tw: stale, shape: shape{kind: platforms.KindPost}}, map[string]version{"2": {tw: tweet{ID: "2", Text: "v2"}}})
	if it.Text != "v2" || it.EditMarker != "1,2" || len(it.History) != 1 || it.History[0].Text != "v1" {
		t.Errorf("stale listing version: got %+v", it)
	}
}
