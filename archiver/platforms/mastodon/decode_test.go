package mastodon

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeProfileTestdata(t *testing.T) {
	a, err := decodeAccount(readTestdata(t, "account_lookup.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := profile(a, "raw-key")
	want := map[string][2]string{
		"NativeID":    {p.NativeID, "109302445311582361"},
		"Handle":      {p.Handle, "clintoncity"},
		"DisplayName": {p.DisplayName, "Clinton City, Utah 🏛️"},
		"Description": {p.Description, "Official account of Clinton City & its departments.\nCiudad de Clinton — información oficial.\n\nPolicy: https://clintoncity.com/social"},
		"Website":     {p.Website, "https://clintoncity.com"},
		"Email":       {p.Email, "info@clintoncity.com"},
		"URL":         {p.URL, "https://mastodon.example/@clintoncity"},
		"RawKey":      {p.RawKey, "raw-key"},
		"field:Phone": {p.Extra["field:Phone"], "801-614-0700"},
	}
	for name, gw := range want {
		if gw[0] != gw[1] {
			t.Errorf("%s = %q, want %q", name, gw[0], gw[1])
		}
	}
	if !p.Verified {
		t.Error("Verified = false; the Website field has verified_at")
	}
}

func TestDecodeStatusesTestdata(t *testing.T) {
	ss, err := decodeStatuses(readTestdata(t, "statuses_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("got %d statuses", len(ss))
	}
	it := statusItem(&ss[0], platforms.KindPost, "", "", "k1")
	wantText := "Main St cerrada el sábado por el desfile 🎉 & fireworks <3\n\nDetalles:\nhttps://clintoncity.com/news/2024/05/parade-route-and-closures #ClintonUT"
	checks := []struct{ name, got, want string }{
		{"NativeID", it.NativeID, "112345678901234567"},
		{"Kind", it.Kind, "post"},
		{"AuthorID", it.AuthorID, "109302445311582361"},
		{"AuthorName", it.AuthorName, "Clinton City, Utah 🏛️"},
		{"Text", it.Text, wantText},
		{"Permalink", it.Permalink, "https://mastodon.example/@clintoncity/112345678901234567"},
		{"CreatedAt", it.CreatedAt.Format("2006-01-02T15:04:05.000Z07:00"), "2024-05-01T16:20:33.901Z"},
		{"EditMarker", it.EditMarker, "2024-05-01T17:02:10.000Z"},
		{"EditedAt", it.EditedAt.Format("15:04:05"), "17:02:10"},
		{"spoiler_text", it.Extra["spoiler_text"], "Cierre de calles"},
		{"links", it.Extra["links"], "https://clintoncity.com/news/2024/05/parade-route-and-closures"},
		{"poll_options", it.Extra["poll_options"], "Sí 👍\nNo"},
		{"language", it.Extra["language"], "es"},
		{"html", it.Extra["html"], ss[0].Content},
		{"RawKey", it.RawKey, "k1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	wantMedia := []platforms.Media{
		{NativeID: "22345792", URL: "https://files.mastodon.example/media_attachments/files/022/345/792/original/57859aede991da25.jpeg", Kind: "image", AltText: "Mapa del recorrido del desfile 🗺️"},
		{NativeID: "21130559", URL: "https://other.example/media/bc84838f77991326.mp4", Kind: "gif"},
	}
	if !reflect.DeepEqual(it.Media, wantMedia) {
		t.Errorf("Media = %+v\nwant %+v", it.Media, wantMedia)
	}
	for _, k := range []string{"replies_count", "favourites_count"} {
		if _, ok := it.Extra[k]; ok {
			t.Errorf("counter %s in Extra", k)
		}
	}

	r := statusItem(&ss[1], platforms.KindPost, "", "", "k1")
	if r.Text != "Line one\nLine two\n\nPara two" || r.Extra["sensitive"] != "true" || r.Extra["in_reply_to_id"] != "112345500000000009" ||
		r.Permalink != ss[1].URI || r.AuthorName != "clintoncity" || r.EditMarker != "" {
		t.Errorf("second status = %+v", r)
	}
}

func TestDecodeContextTestdata(t *testing.T) {
	sc, err := decodeContext(readTestdata(t, "context.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree("112345678901234567")
	tr.add(sc.Descendants, "k")
	got := tr.ordered()
	if len(got) != 2 {
		t.Fatalf("got %d", len(got))
	}
	c := statusItem(got[0], platforms.KindComment, got[0].replyTo(), "112345678901234567", "k")
	if c.Text != "@clintoncity ¿A qué hora abren de nuevo? 🚗" || c.AuthorName != "Ana Pérez" || c.AuthorID != "634458" ||
		c.ParentNativeID != "112345678901234567" || c.Extra["links"] != "" {
		t.Errorf("comment = %+v", c)
	}
	if got[1].replyTo() != "112345678901300001" || got[1].EditedAt == nil {
		t.Errorf("reply = %+v", got[1])
	}
}

func TestDecodeHistoryTestdata(t *testing.T) {
	es, err := decodeHistory(readTestdata(t, "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	cur := platforms.Item{NativeID: "1", Kind: "post", Text: "now", Extra: map[string]string{"visibility": "public"}}
	hs := historyItems(cur, es, "hk")
	if len(hs) != 2 {
		t.Fatalf("got %d earlier versions", len(hs))
	}
	if hs[0].Text != "Main St closed Saturday" || hs[0].EditMarker != "" || hs[0].EditedAt != nil || hs[0].RawKey != "hk" {
		t.Errorf("first = %+v", hs[0])
	}
	if hs[1].Text != "Main St closed Saturday for the parade 🎉" || hs[1].EditMarker != "2024-05-01T16:40:00.000Z" ||
		hs[1].Extra["spoiler_text"] != "Road closure" || hs[1].Extra["poll_options"] != "Yes\nNo" || hs[1].Extra["visibility"] != "public" {
		t.Errorf("second = %+v", hs[1])
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name string
		fn   func([]byte) error
		body string
	}{
		{"statuses object", func(b []byte) error { _, err := decodeStatuses(b); return err }, `{"error":"x"}`},
		{"statuses null", func(b []byte) error { _, err := decodeStatuses(b); return err }, `null`},
		{"statuses no id", func(b []byte) error { _, err := decodeStatuses(b); return err }, `[{"created_at":"2024-01-01T00:00:00Z"}]`},
		{"statuses bad time", func(b []byte) error { _, err := decodeStatuses(b); return err }, `[{"id":"1","created_at":"yesterday"}]`},
		{"statuses truncated", func(b []byte) error { _, err := decodeStatuses(b); return err }, `[{"id":"1","created_at":"2024-01-01T00:00`},
		{"context no descendants", func(b []byte) error { _, err := decodeContext(b); return err }, `{"ancestors":[]}`},
		{"context garbage", func(b []byte) error { _, err := decodeContext(b); return err }, `<html>upstream error</html>`},
		{"history empty", func(b []byte) error { _, err := decodeHistory(b); return err }, `[]`},
		{"account no id", func(b []byte) error { _, err := decodeAccount(b); return err }, `{"username":"x"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fn([]byte(c.body)); !errors.Is(err, platforms.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestRenderHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"<p>a<br />b<br>c</p>", "a\nb\nc"},
		{"<p>&quot;x&quot; &amp; &#39;y&#39; &lt;z&gt;</p>", `"x" & 'y' <z>`},
		{"plain", "plain"},
		{"", ""},
		{"<p>ñandú 🦤</p>", "ñandú 🦤"},
		{"<ul><li>one</li><li>two</li></ul>", "one\ntwo"},
	}
	for _, c := range cases {
		if got := renderHTML(c.in).Text; got != c.want {
			t.Errorf("renderHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNextLink(t *testing.T) {
	cases := []struct{ in, want string }{
		{`<https://m.example/api/v1/accounts/1/statuses?limit=40&max_id=9>; rel="next", <https://m.example/api/v1/accounts/1/statuses?limit=40&min_id=12>; rel="prev"`, "https://m.example/api/v1/accounts/1/statuses?limit=40&max_id=9"},
		{`<https://m.example/x?min_id=12>; rel="prev", <https://m.example/x?max_id=3>; rel="next"`, "https://m.example/x?max_id=3"},
		{`<https://m.example/x?min_id=12>; rel="prev"`, ""},
		{`<https://m.example/x?a=1,2>; rel=next`, "https://m.example/x?a=1,2"},
		{``, ""},
		{`garbage`, ""},
	}
	for _, c := range cases {
		if got := nextLink(c.in); got != c.want {
			t.Errorf("nextLink(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(readTestdata(f, n))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"descendants":[{"id":1,"created_at":"2024-01-01T00:00:00Z","reblog":{"id":"2"}}]}`))
}

func FuzzDecodeStatuses(f *testing.F) {
	addSeeds(f, "statuses_page.json", "context.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := decodeStatuses(b)
		if err != nil {
			return
		}
		for i := range ss {
			statusItem(&ss[i], platforms.KindPost, "", "", "k")
		}
	})
}

func FuzzDecodeContext(f *testing.F) {
	addSeeds(f, "context.json", "statuses_page.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := decodeContext(b)
		if err != nil {
			return
		}
		tr := newTree("1")
		tr.add(sc.Descendants, "k")
		for _, s := range tr.ordered() {
			statusItem(s, platforms.KindReply, s.replyTo(), "1", "k")
		}
		tr.missing(&status{})
		(&run{}).capped("1", sc.Descendants)
	})
}

func FuzzDecodeHistory(f *testing.F) {
	addSeeds(f, "history.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeHistory(b)
		if err != nil {
			return
		}
		historyItems(platforms.Item{NativeID: "1"}, es, "k")
	})
}

func FuzzDecodeAccount(f *testing.F) {
	addSeeds(f, "account_lookup.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeAccount(b); err == nil {
			profile(a, "k")
		}
	})
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://m.example/x?max_id=3>; rel="next", <https://m.example/x?min_id=4>; rel="prev"`)
	f.Add(`<<>>;;rel=`)
	f.Fuzz(func(t *testing.T, h string) {
		nextLink(h)
		renderHTML(h)
	})
}

// TestFollowKeepsTokenOnInstance: a Link rel="next" naming another host
// (a misconfigured WEB_DOMAIN, or a hostile body) is moved onto api_base's
// host so the bearer token is never sent elsewhere.
func TestFollowKeepsTokenOnInstance(t *testing.T) {
	base, _ := url.Parse("https://mastodon.example")
	r := &run{baseURL: base, c: platforms.NewClient(platforms.ClientOptions{})}
	cases := []struct{ link, want string }{
		{`<https://mastodon.example/api/v1/accounts/1/statuses?max_id=5>; rel="next"`, "https://mastodon.example/api/v1/accounts/1/statuses?max_id=5"},
		{`<https://evil.example/api/v1/accounts/1/statuses?max_id=5>; rel="next"`, "https://mastodon.example/api/v1/accounts/1/statuses?max_id=5"},
		{`</api/v1/accounts/1/statuses?max_id=5>; rel="next"`, "https://mastodon.example/api/v1/accounts/1/statuses?max_id=5"},
		{`<https://mastodon.example/x?min_id=5>; rel="prev"`, ""},
	}
	for _, c := range cases {
		got, err := r.follow(c.link)
		if err != nil || got != c.want {
			t.Errorf("follow(%q) = %q, %v; want %q", c.link, got, err, c.want)
		}
	}
	if _, err := r.follow(`<ftp://mastodon.example/x>; rel="next"`); !errors.Is(err, platforms.ErrMalformed) {
		t.Errorf("ftp next: err = %v", err)
	}
}
