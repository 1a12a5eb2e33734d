package feed

import (
	"testing"
)

// FuzzDecode: no input makes the feed decoder panic; what it accepts has
// ids for every item.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"rss2-spec.xml", "atom-rfc4287.xml", "rss2-noguid.xml", "malformed.xml", "not-a-feed.html"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","content_html":"<p>x</p>"}]}`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="next" href="::"/></entry></feed>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := decode(body, "https://city.example/feed")
		if err != nil {
			return
		}
		for _, it := range doc.items {
			if it.NativeID == "" {
				t.Errorf("item without a native id: %+v", it)
			}
		}
	})
}

// FuzzHTMLToText: the HTML-to-text conversion never panics.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>a &amp; b</p>", "<script>x", "&#x1F600;<br", "plain 🎉", "<img src=x alt=\"y\">"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = htmlToText(s)
		_ = htmlImages(s)
	})
}
