package feed

import (
	"io"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// mediaOf lists an entry's attachments: RSS <enclosure> and Atom
// <link rel="enclosure">, Media RSS <media:content> (also inside
// <media:group>) and <media:thumbnail>, and the images its HTML body shows.
// Feeds give no ids for media, so NativeID stays empty; each URL is listed
// once.
func mediaOf(fi *gofeed.Item, base *url.URL, link, body string, isHTML bool) []platforms.Media {
	var out []platforms.Media
	seen := map[string]bool{}
	add := func(m platforms.Media) {
		m.URL = resolve(base, strings.TrimSpace(m.URL))
		if m.URL == "" || seen[m.URL] {
			return
		}
		seen[m.URL] = true
		if m.Kind == "" {
			m.Kind = kindOf(m.ContentType, "")
		}
		out = append(out, m)
	}
	for _, e := range fi.Enclosures {
		if e != nil {
			add(platforms.Media{URL: e.URL, ContentType: e.Type})
		}
	}
	for _, m := range mediaRSS(fi.Extensions) {
		add(m)
	}
	if isHTML {
		imgBase := base
		if l, err := url.Parse(link); err == nil && l.IsAbs() {
			imgBase = l
		}
		for _, m := range htmlImages(body) {
			m.URL = resolve(imgBase, m.URL)
			add(m)
		}
	}
	return out
}

// mediaRSS reads <media:content>, <media:group><media:content> and
// <media:thumbnail> (Media RSS 1.5.1).
func mediaRSS(exts ext.Extensions) []platforms.Media {
	mrss := exts["media"]
	if mrss == nil {
		return nil
	}
	var out []platforms.Media
	contents := append([]ext.Extension{}, mrss["content"]...)
	for _, g := range mrss["group"] {
		contents = append(contents, g.Children["content"]...)
	}
	for _, c := range contents {
		out = append(out, platforms.Media{
			URL:         c.Attrs["url"],
			ContentType: c.Attrs["type"],
			Kind:        kindOf(c.Attrs["type"], c.Attrs["medium"]),
			AltText:     childText(c, "description", "title"),
		})
	}
	for _, t := range mrss["thumbnail"] {
		out = append(out, platforms.Media{URL: t.Attrs["url"], Kind: "thumbnail"})
	}
	return out
}

// childText is the text of the first named child element that has some.
func childText(e ext.Extension, names ...string) string {
	for _, n := range names {
		for _, c := range e.Children[n] {
			if v := strings.TrimSpace(c.Value); v != "" {
				return v
			}
		}
	}
	return ""
}

// kindOf maps a MIME type (or Media RSS medium) to a Media kind.
func kindOf(contentType, medium string) string {
	switch medium {
	case "image", "video", "audio", "document":
		return medium
	}
	switch t := strings.ToLower(contentType); {
	case t == "image/gif":
		return "gif"
	case strings.HasPrefix(t, "image/"):
		return "image"
	case strings.HasPrefix(t, "video/"):
		return "video"
	case strings.HasPrefix(t, "audio/"):
		return "audio"
	}
	return "document"
}

// htmlImages lists the <img> elements of an HTML fragment.
func htmlImages(s string) []platforms.Media {
	if !strings.Contains(s, "<") {
		return nil
	}
	var out []platforms.Media
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if t.DataAtom != atom.Img {
				continue
			}
			m := platforms.Media{Kind: "image"}
			for _, a := range t.Attr {
				switch a.Key {
				case "src":
					m.URL = a.Val
				case "alt":
					m.AltText = a.Val
				}
			}
			if m.URL != "" && !strings.HasPrefix(strings.ToLower(m.URL), "data:") {
				out = append(out, m)
			}
		}
	}
}

// blockTags end a line of text.
var blockTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Blockquote: true, atom.Pre: true, atom.Ul: true,
	atom.Ol: true, atom.Table: true, atom.Hr: true, atom.Section: true,
	atom.Article: true, atom.Figure: true, atom.Figcaption: true,
}

// htmlToText turns an HTML fragment into plain text: entities decoded,
// tags dropped, script and style skipped, one line per block, spaces
// collapsed within a line.
func htmlToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return normaliseLines(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				b.Write(z.Raw())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if skip == 0 {
				b.WriteString(tok.Data)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			if tok.DataAtom == atom.Script || tok.DataAtom == atom.Style {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			}
			if blockTags[tok.DataAtom] {
				b.WriteByte('\n')
			}
		}
	}
	return normaliseLines(b.String())
}

// normaliseLines collapses spaces and tabs within each line, trims lines
// and drops empty ones.
func normaliseLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.FieldsFunc(l, isBlank), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// isBlank is an ASCII space or tab (a no-break space is content).
func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v' }
