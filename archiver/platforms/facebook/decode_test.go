package facebook

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
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

func TestDecodeProfile(t *testing.T) {
	p, err := parseProfile(readTestdata(t, "page.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := profileOf(p, "raw")
	want := platforms.Profile{
		NativeID: "104520798231532", Handle: "clintoncityut", DisplayName: "Clinton City, Utah",
		Description: "Official page of Clinton City — información en español también 🇺🇸",
		Website:     "https://www.clintoncity.net", Email: "info@clintoncity.net",
		URL: "https://www.facebook.com/clintoncityut", Verified: true, RawKey: "raw",
		Extra: map[string]string{"emails": "info@clintoncity.net,records@clintoncity.net", "verification_status": "blue_verified"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodePosts(t *testing.T) {
	pg, err := parsePosts(readTestdata(t, "posts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pg.Paging.Next == "" || pg.Paging.Cursors == nil || pg.Paging.Cursors.After != "QVFIUkFPeTlqbHVaY2x" {
		t.Errorf("paging: %+v", pg.Paging)
	}
	want := []platforms.Item{
		{
			NativeID: "104520798231532_122145833162008473", Kind: "post",
			Text:      "Snow plows are out tonight ❄️ — ¡manejen con cuidado!",
			Permalink: "https://www.facebook.com/104520798231532/posts/122145833162008473",
			CreatedAt: at("2025-01-14T03:12:45Z"), RawKey: "raw",
			Media: []platforms.Media{{NativeID: "122145833090008473", Kind: "image",
				URL: "https://scontent.xx.fbcdn.net/v/t39.30808-6/473_n.jpg?stp=dst-jpg_s720x720&_nc_cat=107&oh=00_AYD1&oe=678A1B2C"}},
		},
		{
			NativeID: "104520798231532_122145700001008473", Kind: "post",
			Text:      "Photos from the Heritage Days parade 🎉",
			Permalink: "https://www.facebook.com/104520798231532/posts/122145700001008473",
			CreatedAt: at("2025-01-10T17:00:00Z"), RawKey: "raw",
			Media: []platforms.Media{
				{NativeID: "122145699991008473", Kind: "image", URL: "https://scontent.xx.fbcdn.net/v/parade1.jpg?oh=00_AYa"},
				{NativeID: "122145699992008473", Kind: "video", URL: "https://video.xx.fbcdn.net/v/parade2.mp4?oh=00_AYc"},
			},
		},
		{
			NativeID: "104520798231532_122145600002008473", Kind: "post",
			Text:      "Read the 2025 budget draft:",
			Permalink: "https://www.facebook.com/104520798231532/posts/122145600002008473",
			CreatedAt: at("2025-01-08T15:30:00Z"), RawKey: "raw", Hidden: true,
			Media: []platforms.Media{{NativeID: "link:https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.clintoncity.net%2Fbudget",
				Kind: "thumbnail", URL: "https://external.xx.fbcdn.net/emg1/v/t13/budget.png?url=x&_nc_oc=AdQ"}},
			Extra: map[string]string{"link": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.clintoncity.net%2Fbudget"},
		},
	}
	if len(pg.Data) != len(want) {
		t.Fatalf("%d posts", len(pg.Data))
	}
	for i, p := range pg.Data {
		got, err := postItem(p, "raw")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(want[i], "", " ")
			t.Errorf("post %d:\n got %s\nwant %s", i, g, w)
		}
		if p.UpdatedTime == "" {
			t.Error("updated_time should be read (and then left out)")
		}
	}
}

func TestDecodeComments(t *testing.T) {
	pg, err := parseComments(readTestdata(t, "comments_stream.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pg.Paging.Next != "" {
		t.Error("last page has no next")
	}
	post := "104520798231532_122145833162008473"
	c1, r1 := "122145833162008473_1043557387234567", "122145833162008473_1043557399876543"
	want := []platforms.Item{
		{NativeID: c1, Kind: "comment", ParentNativeID: post, RootNativeID: post, AuthorID: "7712345678901234", AuthorName: "Ana Pérez",
			Text: "¿A qué hora pasan por la calle 1300 N? 🚜", CreatedAt: at("2025-01-14T04:01:10Z"), RawKey: "raw"},
		{NativeID: r1, Kind: "reply", ParentNativeID: c1, RootNativeID: post, AuthorID: "104520798231532", AuthorName: "Clinton City, Utah",
			Text: "Around 9 pm, thanks for asking!", CreatedAt: at("2025-01-14T04:20:00Z"), RawKey: "raw"},
		{NativeID: "122145833162008473_1043557411112222", Kind: "reply", ParentNativeID: r1, RootNativeID: post, AuthorID: "7798765432109876",
			AuthorName: "Bob 👷", CreatedAt: at("2025-01-14T05:00:00Z"), Hidden: true, RawKey: "raw",
			Media: []platforms.Media{{NativeID: "369239263222822", Kind: "image", URL: "https://scontent.xx.fbcdn.net/v/sticker.png?oh=00_AYs"}}},
	}
	for i, c := range pg.Data {
		got, err := commentItem(c, post, "raw")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("comment %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestDecodeErrorBody(t *testing.T) {
	e, ok := graph.ParseError(400, readTestdata(t, "error_190.json"))
	if !ok || e.Code != 190 || e.Subcode != 463 || e.Type != "OAuthException" || e.FBTraceID != "AbCdEfGh12345" || !errors.Is(e, platforms.ErrAuth) {
		t.Errorf("error: %+v", e)
	}
}

func TestDecodeRefusesWrongShapes(t *testing.T) {
	for _, body := range []string{`{}`, `{"data":null}`, `<html>`, `{"data":[{"id":5}]}`, `{"data":{}}`, ``} {
		if _, err := parsePosts([]byte(body)); !errors.Is(err, platforms.ErrMalformed) {
			t.Errorf("posts %q: %v", body, err)
		}
		if _, err := parseComments([]byte(body)); !errors.Is(err, platforms.ErrMalformed) {
			t.Errorf("comments %q: %v", body, err)
		}
	}
	if _, err := postItem(post{ID: "1_2", CreatedTime: "yesterday"}, ""); !errors.Is(err, platforms.ErrMalformed) {
		t.Errorf("bad time: %v", err)
	}
	if _, err := parseProfile([]byte(`{"name":"x"}`)); !errors.Is(err, platforms.ErrMalformed) {
		t.Errorf("profile without id: %v", err)
	}
}

// TestOrderer: items arriving before their parents wait for them; items
// whose parent never shows up are reported at the end.
func TestOrderer(t *testing.T) {
	var got []string
	o := newOrderer("P", func(it platforms.Item) error { got = append(got, it.NativeID); return nil })
	for _, it := range []platforms.Item{
		{NativeID: "c", ParentNativeID: "b"},
		{NativeID: "a", ParentNativeID: "P"},
		{NativeID: "x", ParentNativeID: "gone"},
		{NativeID: "b", ParentNativeID: "a"},
		{NativeID: "a", ParentNativeID: "P"},
		{NativeID: "d", ParentNativeID: "P"},
	} {
		if err := o.add(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "d", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func FuzzParsePosts(f *testing.F) {
	f.Add(readFile(f, "posts.json"))
	f.Add([]byte(`{"data":[{"id":"1_2","created_time":"2025-01-01T00:00:00+0000","attachments":{"data":[{"subattachments":{"data":[{}]}}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pg, err := parsePosts(body)
		if err != nil {
			return
		}
		for _, p := range pg.Data {
			postItem(p, "raw")
		}
	})
}

func FuzzParseComments(f *testing.F) {
	f.Add(readFile(f, "comments_stream.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		pg, err := parseComments(body)
		if err != nil {
			return
		}
		o := newOrderer("P", func(platforms.Item) error { return nil })
		for _, c := range pg.Data {
			if it, err := commentItem(c, "P", "raw"); err == nil {
				o.add(it)
			}
		}
		o.flush()
	})
}

func FuzzParseProfile(f *testing.F) {
	f.Add(readFile(f, "page.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, err := parseProfile(body); err == nil {
			profileOf(p, "raw")
		}
	})
}

func readFile(f *testing.F, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
