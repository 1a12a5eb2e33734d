package instagram

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func testdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestDecodeUser(t *testing.T) {
	u, err := parseUser(testdata(t, "user.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := platforms.Profile{
		NativeID: "17841405822304914", Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official account of Clinton City 🏙️ — noticias en español también",
		Website:     "https://www.clintoncity.net", URL: "https://www.instagram.com/clintoncityut/",
		AvatarURL: "https://scontent.cdninstagram.com/v/t51.2885-19/4455_n.jpg?_nc_ht=scontent.cdninstagram.com&oh=00_AYBx&oe=678B2C3D",
		RawKey:    "raw",
	}
	if got := profileOf(u, "raw"); !reflect.DeepEqual(got, want) {
		t.Errorf("profile:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeMedia(t *testing.T) {
	pg, err := parseMedia(testdata(t, "media.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pg.Paging.Next == "" || pg.Paging.Cursors.After != "QVFIUkd6dnRuMnBXdWRw" {
		t.Errorf("paging %+v", pg.Paging)
	}
	want := []platforms.Item{
		{NativeID: "17895695668004550", Kind: "post", Text: "Heritage Days parade 🎉 ¡Gracias a todos!",
			Permalink: "https://www.instagram.com/p/C2xYz1AbCdE/", CreatedAt: at("2025-01-10T17:00:00Z"), RawKey: "raw",
			Extra: map[string]string{"media_type": "CAROUSEL_ALBUM"},
			Media: []platforms.Media{
				{NativeID: "17880997618081620", Kind: "image", URL: "https://scontent.cdninstagram.com/v/t51.29350-15/p1_n.jpg?oh=00_AYa&oe=1"},
				{NativeID: "17871527143187462", Kind: "video", URL: "https://scontent.cdninstagram.com/o1/v/t16/f1/m82/parade.mp4?oh=00_AYb"},
			}},
		{NativeID: "17918195224117851", Kind: "post", Text: "Snow plows out tonight ❄️",
			Permalink: "https://www.instagram.com/p/C2aBcDeFgHi/", CreatedAt: at("2025-01-14T03:12:45Z"), RawKey: "raw",
			Extra: map[string]string{"media_type": "IMAGE"},
			Media: []platforms.Media{{NativeID: "17918195224117851", Kind: "image", URL: "https://scontent.cdninstagram.com/v/t51.29350-15/plow_n.jpg?oh=00_AYc&oe=2"}}},
		{NativeID: "17900000000000001", Kind: "post", // media_url withheld: no file listed
			Permalink: "https://www.instagram.com/reel/C2zzzzzzzzz/", CreatedAt: at("2025-01-02T10:00:00Z"), RawKey: "raw",
			Extra: map[string]string{"media_type": "VIDEO"}},
	}
	for i, m := range pg.Data {
		got, err := mediaItem(m, "raw")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("media %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestDecodeComments(t *testing.T) {
	pg, err := parseComments(testdata(t, "comments.json"))
	if err != nil {
		t.Fatal(err)
	}
	root := "17895695668004550"
	want := []platforms.Item{
		{NativeID: "17870913679156914", Kind: "comment", ParentNativeID: root, RootNativeID: root, AuthorName: "ana_perez",
			Text: "¡Qué bonito desfile! 😍", CreatedAt: at("2025-01-10T18:01:10Z"), RawKey: "raw"},
		{NativeID: "17873440459141021", Kind: "comment", ParentNativeID: root, RootNativeID: root, AuthorName: "spam_bot_99",
			Text: "buy followers at spam.example", CreatedAt: at("2025-01-10T19:20:00Z"), Hidden: true, RawKey: "raw"},
	}
	for i, c := range pg.Data {
		got, err := commentItem(c, root, root, "raw")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) { // like_count (12) is nowhere in the item
			t.Errorf("comment %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	reply, err := commentItem(pg.Data[0], "17870000000000000", root, "raw")
	if err != nil || reply.Kind != platforms.KindReply || reply.ParentNativeID != "17870000000000000" || reply.RootNativeID != root {
		t.Errorf("reply: %+v %v", reply, err)
	}
}

func TestDecodeRefusesWrongShapes(t *testing.T) {
	for _, body := range []string{`{}`, `{"data":null}`, `<html>`, `{"data":[{"id":5}]}`, ``} {
		if _, err := parseMedia([]byte(body)); !errors.Is(err, platforms.ErrMalformed) {
			t.Errorf("media %q: %v", body, err)
		}
		if _, err := parseComments([]byte(body)); !errors.Is(err, platforms.ErrMalformed) {
			t.Errorf("comments %q: %v", body, err)
		}
	}
	if _, err := mediaItem(igMedia{ID: "1", Timestamp: "soon"}, ""); !errors.Is(err, platforms.ErrMalformed) {
		t.Errorf("bad time: %v", err)
	}
}

func FuzzParseMedia(f *testing.F) {
	f.Add(testdata(f, "media.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if pg, err := parseMedia(body); err == nil {
			for _, m := range pg.Data {
				mediaItem(m, "raw")
			}
		}
	})
}

func FuzzParseComments(f *testing.F) {
	f.Add(testdata(f, "comments.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if pg, err := parseComments(body); err == nil {
			for _, c := range pg.Data {
				commentItem(c, "p", "r", "raw")
			}
		}
	})
}

func FuzzParseUser(f *testing.F) {
	f.Add(testdata(f, "user.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if u, err := parseUser(body); err == nil {
			profileOf(u, "raw")
		}
	})
}
