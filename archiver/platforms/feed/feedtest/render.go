package feedtest

import (
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Namespaces used in the documents.
const (
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsHistory = "http://purl.org/syndication/history/1.0" // RFC 5005
	nsMedia   = "http://search.yahoo.com/mrss/"
	nsContent = "http://purl.org/rss/1.0/modules/content/"
)

// Atom 1.0 (RFC 4287) shapes.
type atomFeed struct {
	XMLName  xml.Name    `xml:"feed"`
	NS       string      `xml:"xmlns,attr"`
	NSFH     string      `xml:"xmlns:fh,attr"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Links    []atomLink  `xml:"link"`
	ID       string      `xml:"id"`
	Updated  string      `xml:"updated"`
	Author   atomPerson  `xml:"author"`
	Archive  *struct{}   `xml:"fh:archive,omitempty"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel    string `xml:"rel,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
	Length string `xml:"length,attr,omitempty"`
	Href   string `xml:"href,attr"`
}

type atomPerson struct {
	Name  string `xml:"name"`
	Email string `xml:"email,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	Links     []atomLink `xml:"link"`
	ID        string     `xml:"id"`
	Published string     `xml:"published"`
	Updated   string     `xml:"updated"`
	Content   atomText   `xml:"content"`
}

// RSS 2.0 shapes.
type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	NSContent string     `xml:"xmlns:content,attr"`
	NSAtom    string     `xml:"xmlns:atom,attr"`
	NSMedia   string     `xml:"xmlns:media,attr"`
	Channel   rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	AtomLink      atomLink  `xml:"atom:link"`
	Editor        string    `xml:"managingEditor,omitempty"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string         `xml:"title"`
	Link        string         `xml:"link"`
	Description string         `xml:"description"`
	Encoded     cdata          `xml:"content:encoded"`
	GUID        rssGUID        `xml:"guid"`
	PubDate     string         `xml:"pubDate"`
	Updated     string         `xml:"atom:updated,omitempty"`
	Enclosure   *rssEnclosure  `xml:"enclosure"`
	Media       []mediaContent `xml:"media:content"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssEnclosure struct {
	URL    string `xml:"url,attr"`
	Length string `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

type mediaContent struct {
	URL    string `xml:"url,attr"`
	Type   string `xml:"type,attr,omitempty"`
	Medium string `xml:"medium,attr,omitempty"`
}

func (s *Server) serveAtom(w http.ResponseWriter, r *http.Request) {
	n, ok := page(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	posts := s.world.Posts()
	size := s.cfg.pageSize
	from, to := min((n-1)*size, len(posts)), min(n*size, len(posts))
	p := s.world.Profile
	f := atomFeed{
		NS: nsAtom, NSFH: nsHistory,
		Title: p.DisplayName, Subtitle: p.Description,
		ID:      "tag:clinton.example,2024:news",
		Updated: feedUpdated(posts).Format(time.RFC3339),
		Author:  atomPerson{Name: p.DisplayName, Email: p.Email},
		Links: []atomLink{
			{Rel: "alternate", Type: "text/html", Href: p.Website},
			{Rel: "self", Type: "application/atom+xml", Href: s.atomPage(n)},
		},
	}
	more := to < len(posts)
	switch {
	case !s.cfg.archived && more:
		f.Links = append(f.Links, atomLink{Rel: "next", Type: "application/atom+xml", Href: s.atomPage(n + 1)})
	case s.cfg.archived:
		f.Links = append(f.Links, atomLink{Rel: "current", Href: s.URL + "/atom.xml"})
		if more {
			f.Links = append(f.Links, atomLink{Rel: "prev-archive", Href: s.atomPage(n + 1)})
		}
		if n > 1 {
			f.Archive = &struct{}{}
			f.Links = append(f.Links, atomLink{Rel: "next-archive", Href: s.atomPage(n - 1)})
		}
	}
	for _, post := range posts[from:to] {
		f.Entries = append(f.Entries, s.atomEntry(post))
	}
	s.writeXML(w, "application/atom+xml; charset=utf-8", f)
}

func (s *Server) atomPage(n int) string {
	if n == 1 {
		return s.URL + "/atom.xml"
	}
	return s.URL + "/atom.xml?page=" + strconv.Itoa(n)
}

func (s *Server) atomEntry(p platformtest.Post) atomEntry {
	e := atomEntry{
		Title:     p.Title,
		ID:        s.NativeID(p.ID),
		Published: p.Created.UTC().Format(time.RFC3339),
		Updated:   updated(p).UTC().Format(time.RFC3339),
		Content:   atomText{Type: "html", Text: s.postHTML(p)},
		Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: s.PostURL(p.ID)}},
	}
	for _, name := range p.Media {
		m, _ := s.world.Media(name)
		e.Links = append(e.Links, atomLink{Rel: "enclosure", Type: m.ContentType, Length: strconv.Itoa(len(m.Data)), Href: s.MediaURL(name)})
	}
	return e
}

func (s *Server) serveRSS(w http.ResponseWriter, r *http.Request) {
	posts := s.world.Posts()
	if s.cfg.rssLimit > 0 && len(posts) > s.cfg.rssLimit {
		posts = posts[:s.cfg.rssLimit]
	}
	p := s.world.Profile
	ch := rssChannel{
		Title: p.DisplayName, Link: p.Website, Description: p.Description, Language: "en-us",
		AtomLink:      atomLink{Rel: "self", Type: "application/rss+xml", Href: s.URL + "/rss.xml"},
		LastBuildDate: feedUpdated(posts).Format(time.RFC1123Z),
	}
	if p.Email != "" {
		ch.Editor = p.Email + " (" + p.DisplayName + ")"
	}
	for _, post := range posts {
		ch.Items = append(ch.Items, s.rssItem(post))
	}
	s.writeXML(w, "application/rss+xml; charset=utf-8", rssDoc{
		Version: "2.0", NSContent: nsContent, NSAtom: nsAtom, NSMedia: nsMedia, Channel: ch,
	})
}

func (s *Server) rssItem(p platformtest.Post) rssItem {
	it := rssItem{
		Title:       p.Title,
		Link:        s.PostURL(p.ID),
		Description: p.Text,
		Encoded:     cdata{Text: s.postHTML(p)},
		GUID:        rssGUID{IsPermaLink: "false", Value: s.NativeID(p.ID)},
		PubDate:     p.Created.UTC().Format(time.RFC1123Z),
	}
	if p.Edited != nil {
		it.Updated = p.Edited.UTC().Format(time.RFC3339)
	}
	for i, name := range p.Media {
		m, _ := s.world.Media(name)
		if i == 0 { // RSS 2.0 allows one enclosure; Media RSS lists them all
			it.Enclosure = &rssEnclosure{URL: s.MediaURL(name), Length: strconv.Itoa(len(m.Data)), Type: m.ContentType}
		}
		it.Media = append(it.Media, mediaContent{URL: s.MediaURL(name), Type: m.ContentType, Medium: medium(m.ContentType)})
	}
	return it
}

// postHTML is the entry body as the website's CMS writes it: the text in a
// paragraph, each image shown with a relative src.
func (s *Server) postHTML(p platformtest.Post) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(p.Text) + "</p>")
	for _, name := range p.Media {
		if m, _ := s.world.Media(name); medium(m.ContentType) == "image" {
			fmt.Fprintf(&b, `<figure><img src="../media/%s" alt="%s"></figure>`, html.EscapeString(name), html.EscapeString(p.Title))
		}
	}
	return b.String()
}

func (s *Server) writeXML(w http.ResponseWriter, contentType string, v any) {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func updated(p platformtest.Post) time.Time {
	if p.Edited != nil {
		return *p.Edited
	}
	return p.Created
}

func feedUpdated(posts []platformtest.Post) time.Time {
	var t time.Time
	for _, p := range posts {
		if u := updated(p); u.After(t) {
			t = u
		}
	}
	return t.UTC()
}

func medium(contentType string) string {
	if kind, _, ok := strings.Cut(contentType, "/"); ok && (kind == "image" || kind == "video" || kind == "audio") {
		return kind
	}
	return "document"
}
