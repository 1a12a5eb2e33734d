package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// document is one parsed feed page: its channel (profile) data, its
// entries as posts, and where the RFC 5005 chain goes next.
type document struct {
	profile platforms.Profile
	items   []platforms.Item
	// next is the absolute URL of the page with older entries: Atom
	// rel="next" (paged feed) or rel="prev-archive" (archived feed), from
	// the Atom feed's own links or from atom:link elements in an RSS
	// channel. "" at the end of the chain.
	next string
}

// Link relations of RFC 5005 that lead to older entries, in order of
// preference.
var olderRels = []string{"next", "prev-archive"}

// decode parses one feed page (RSS 2.0, Atom 1.0, or anything else gofeed
// reads) fetched from pageURL. A body that is not a feed is
// platforms.ErrMalformed.
func decode(body []byte, pageURL string) (*document, error) {
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	f, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: not a feed: %v", platforms.ErrMalformed, err)
	}
	if f.FeedType == "json" && !strings.HasPrefix(f.FeedVersion, "https://jsonfeed.org/version/") {
		// gofeed reads any JSON object as a JSON Feed; an error body is not one.
		return nil, fmt.Errorf("%w: JSON that is not a JSON Feed", platforms.ErrMalformed)
	}
	base, _ := url.Parse(pageURL)
	doc := &document{profile: profileOf(f, base)}
	var atomEntries []*atom.Entry
	switch orig := f.OriginalFeed().(type) {
	case *atom.Feed:
		atomEntries = orig.Entries
		doc.next = atomOlderLink(orig.Links, base)
	case *rss.Feed:
		doc.next = extOlderLink(orig.Extensions, base)
	}
	seen := map[string]bool{}
	for i, fi := range f.Items {
		if fi == nil {
			continue
		}
		var ae *atom.Entry
		if i < len(atomEntries) {
			ae = atomEntries[i]
		}
		it := itemOf(fi, ae, base)
		if seen[it.NativeID] {
			continue // a feed that repeats an entry lists it once
		}
		seen[it.NativeID] = true
		doc.items = append(doc.items, it)
	}
	return doc, nil
}

// profileOf reads the channel / feed element.
func profileOf(f *gofeed.Feed, base *url.URL) platforms.Profile {
	p := platforms.Profile{
		DisplayName: strings.TrimSpace(f.Title),
		Description: strings.TrimSpace(htmlToText(f.Description)),
		Website:     resolve(base, f.Link),
		URL:         resolve(base, f.FeedLink),
		Extra:       map[string]string{},
	}
	if f.Image != nil {
		p.AvatarURL = resolve(base, f.Image.URL)
	}
	if len(f.Authors) > 0 && f.Authors[0] != nil {
		p.Email = f.Authors[0].Email
	}
	setExtra(p.Extra, "feed_type", f.FeedType)
	setExtra(p.Extra, "feed_version", f.FeedVersion)
	setExtra(p.Extra, "language", f.Language)
	setExtra(p.Extra, "copyright", f.Copyright)
	if a, ok := f.OriginalFeed().(*atom.Feed); ok {
		setExtra(p.Extra, "feed_id", a.ID)
	}
	if len(p.Extra) == 0 {
		p.Extra = nil
	}
	return p
}

// itemOf normalises one entry. ae is the Atom entry it came from (nil for
// RSS), which says whether <content> is text or markup.
func itemOf(fi *gofeed.Item, ae *atom.Entry, base *url.URL) platforms.Item {
	link := resolve(base, strings.TrimSpace(fi.Link))
	it := platforms.Item{
		NativeID:  nativeID(fi, link),
		Kind:      platforms.KindPost,
		Title:     strings.TrimSpace(fi.Title),
		Permalink: link,
		Extra:     map[string]string{},
	}
	body, isHTML := fi.Content, true
	if body == "" {
		body = fi.Description
	} else if fi.Description != "" && fi.Description != fi.Content {
		setExtra(it.Extra, "summary", htmlToText(fi.Description))
	}
	if ae != nil && ae.Content != nil && fi.Content != "" {
		t := strings.ToLower(ae.Content.Type)
		isHTML = t == "html" || t == "xhtml" || strings.Contains(t, "html")
		setExtra(it.Extra, "content_src", resolve(base, ae.Content.Src))
	}
	if isHTML {
		it.Text = htmlToText(body)
		setExtra(it.Extra, "html", body)
	} else {
		it.Text = strings.TrimSpace(body)
	}
	setExtra(it.Extra, "link", link)
	setExtra(it.Extra, "categories", strings.Join(fi.Categories, ", "))
	if len(fi.Authors) > 0 && fi.Authors[0] != nil {
		it.AuthorName = fi.Authors[0].Name
		if it.AuthorName == "" {
			it.AuthorName = fi.Authors[0].Email
		}
	}
	it.CreatedAt = utc(fi.PublishedParsed)
	if up := utc(fi.UpdatedParsed); up != nil && it.CreatedAt != nil && !up.Equal(*it.CreatedAt) {
		it.EditedAt = up
		it.EditMarker = up.Format(time.RFC3339Nano)
	}
	it.Media = mediaOf(fi, base, link, body, isHTML)
	if len(it.Extra) == 0 {
		it.Extra = nil
	}
	return it
}

// nativeID is the entry's guid (RSS) or id (Atom); failing that its link;
// failing that the SHA-256 of its title and published date.
func nativeID(fi *gofeed.Item, link string) string {
	if g := strings.TrimSpace(fi.GUID); g != "" {
		return g
	}
	if link != "" {
		return link
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(fi.Title) + "\n" + strings.TrimSpace(fi.Published)))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// atomOlderLink finds the RFC 5005 link to older entries in an Atom feed.
func atomOlderLink(links []*atom.Link, base *url.URL) string {
	for _, rel := range olderRels {
		for _, l := range links {
			if l != nil && strings.EqualFold(strings.TrimSpace(l.Rel), rel) && strings.TrimSpace(l.Href) != "" {
				return resolve(base, strings.TrimSpace(l.Href))
			}
		}
	}
	return ""
}

// extOlderLink finds the RFC 5005 atom:link to older entries in an RSS
// channel's extensions.
func extOlderLink(exts ext.Extensions, base *url.URL) string {
	for _, rel := range olderRels {
		for _, ns := range []string{"atom", "atom10", "atom03"} {
			for _, l := range exts[ns]["link"] {
				href := strings.TrimSpace(l.Attrs["href"])
				if strings.EqualFold(strings.TrimSpace(l.Attrs["rel"]), rel) && href != "" {
					return resolve(base, href)
				}
			}
		}
	}
	return ""
}

// resolve makes ref absolute against base (xml:base is already applied by
// gofeed for Atom). It returns ref unchanged when it cannot.
func resolve(base *url.URL, ref string) string {
	if ref == "" || base == nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(u).String()
}

// utc copies t in UTC, or returns nil.
func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func setExtra(m map[string]string, k, v string) {
	if v = strings.TrimSpace(v); v != "" {
		m[k] = v
	}
}
