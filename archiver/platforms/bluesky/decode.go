package bluesky

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// Lexicon $type values the connector acts on.
const (
	typeThreadViewPost = "app.bsky.feed.defs#threadViewPost"
	typeNotFoundPost   = "app.bsky.feed.defs#notFoundPost"
	typeBlockedPost    = "app.bsky.feed.defs#blockedPost"
	typeReasonRepost   = "app.bsky.feed.defs#reasonRepost"
	typeImagesView     = "app.bsky.embed.images#view"
	typeExternalView   = "app.bsky.embed.external#view"
	typeVideoView      = "app.bsky.embed.video#view"
	typeRecordView     = "app.bsky.embed.record#view"
	typeRecordWithView = "app.bsky.embed.recordWithMedia#view"
	typeFacetLink      = "app.bsky.richtext.facet#link"
	typeFacetMention   = "app.bsky.richtext.facet#mention"
	typeFacetTag       = "app.bsky.richtext.facet#tag"
)

// xrpcError is the body of every XRPC error answer (atproto spec,
// "error responses"): a machine name and a human message.
type xrpcError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// profileView is app.bsky.actor.defs#profileViewDetailed.
type profileView struct {
	DID          string     `json:"did"`
	Handle       string     `json:"handle"`
	DisplayName  string     `json:"displayName"`
	Description  string     `json:"description"`
	Avatar       string     `json:"avatar"`
	Banner       string     `json:"banner"`
	PinnedPost   *strongRef `json:"pinnedPost"`
	Verification *struct {
		VerifiedStatus string `json:"verifiedStatus"`
	} `json:"verification"`
}

// strongRef is com.atproto.repo.strongRef.
type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// authorView is app.bsky.actor.defs#profileViewBasic.
type authorView struct {
	DID         string `json:"did"`
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName"`
}

// postView is app.bsky.feed.defs#postView. Counts and indexedAt are read
// but never put in an Item (they move by themselves).
type postView struct {
	URI        string          `json:"uri"`
	CID        string          `json:"cid"`
	Author     authorView      `json:"author"`
	Record     postRecord      `json:"record"`
	Embed      *embedView      `json:"embed"`
	ReplyCount int             `json:"replyCount"`
	IndexedAt  string          `json:"indexedAt"`
	Threadgate *threadgateView `json:"threadgate"`
}

// postRecord is the app.bsky.feed.post record inside a postView.
type postRecord struct {
	Text      string       `json:"text"`
	CreatedAt string       `json:"createdAt"`
	Langs     []string     `json:"langs"`
	Facets    []facet      `json:"facets"`
	Reply     *replyRef    `json:"reply"`
	Embed     *recordEmbed `json:"embed"`
}

type replyRef struct {
	Root   strongRef `json:"root"`
	Parent strongRef `json:"parent"`
}

// facet is app.bsky.richtext.facet: a byte range and its features.
type facet struct {
	Features []struct {
		Type string `json:"$type"`
		URI  string `json:"uri"`
		DID  string `json:"did"`
		Tag  string `json:"tag"`
	} `json:"features"`
}

// recordEmbed is the embed as stored in the record; it carries the blob
// CIDs, which are stable where CDN URLs may not be.
type recordEmbed struct {
	Images []struct {
		Alt   string   `json:"alt"`
		Image *blobRef `json:"image"`
	} `json:"images"`
	Video    *blobRef     `json:"video"`
	Media    *recordEmbed `json:"media"`
	External *struct {
		Thumb *blobRef `json:"thumb"`
	} `json:"external"`
}

// blobRef is an atproto blob: {"$type":"blob","ref":{"$link":cid},...},
// or the legacy {"cid":...,"mimeType":...}.
type blobRef struct {
	Ref *struct {
		Link string `json:"$link"`
	} `json:"ref"`
	CID      string `json:"cid"`
	MimeType string `json:"mimeType"`
}

func (b *blobRef) cid() string {
	switch {
	case b == nil:
		return ""
	case b.Ref != nil && b.Ref.Link != "":
		return b.Ref.Link
	default:
		return b.CID
	}
}

// embedView is the union of the embed views a postView may carry.
type embedView struct {
	Type   string `json:"$type"`
	Images []struct {
		Thumb    string `json:"thumb"`
		Fullsize string `json:"fullsize"`
		Alt      string `json:"alt"`
	} `json:"images"`
	External *struct {
		URI         string `json:"uri"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Thumb       string `json:"thumb"`
	} `json:"external"`
	CID       string          `json:"cid"`
	Playlist  string          `json:"playlist"`
	Thumbnail string          `json:"thumbnail"`
	Alt       string          `json:"alt"`
	Record    json.RawMessage `json:"record"`
	Media     *embedView      `json:"media"`
}

// threadgateView carries the root author's hidden replies.
type threadgateView struct {
	URI    string `json:"uri"`
	Record struct {
		HiddenReplies []string `json:"hiddenReplies"`
	} `json:"record"`
}

// feedViewPost is app.bsky.feed.defs#feedViewPost.
type feedViewPost struct {
	Post   postView        `json:"post"`
	Reply  json.RawMessage `json:"reply"`
	Reason *struct {
		Type string `json:"$type"`
	} `json:"reason"`
}

// feedOutput is the answer of app.bsky.feed.getAuthorFeed.
type feedOutput struct {
	Cursor string          `json:"cursor"`
	Feed   *[]feedViewPost `json:"feed"`
}

// threadNode is a threadViewPost, notFoundPost or blockedPost.
type threadNode struct {
	Type     string       `json:"$type"`
	Post     *postView    `json:"post"`
	URI      string       `json:"uri"`
	NotFound bool         `json:"notFound"`
	Blocked  bool         `json:"blocked"`
	Replies  []threadNode `json:"replies"`
}

// threadOutput is the answer of app.bsky.feed.getPostThread.
type threadOutput struct {
	Thread     *threadNode     `json:"thread"`
	Threadgate *threadgateView `json:"threadgate"`
}

// isPost says the node is a readable post (not deleted, not blocked).
func (n *threadNode) isPost() bool {
	switch {
	case n.Type == typeThreadViewPost:
		return n.Post != nil
	case n.Type == "":
		return n.Post != nil && !n.NotFound && !n.Blocked
	default:
		return false
	}
}

// isNotFound says the node stands for a deleted post.
func (n *threadNode) isNotFound() bool {
	return n.Type == typeNotFoundPost || (n.Type == "" && n.NotFound)
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", platforms.ErrMalformed, what, err)
}

// decodeProfile reads an app.bsky.actor.getProfile answer.
func decodeProfile(body []byte) (profileView, error) {
	var p profileView
	if err := json.Unmarshal(body, &p); err != nil {
		return p, malformed("getProfile", err)
	}
	if !strings.HasPrefix(p.DID, "did:") {
		return p, malformed("getProfile", errors.New("no did"))
	}
	return p, nil
}

// decodeFeed reads an app.bsky.feed.getAuthorFeed answer. A page without
// the required "feed" array is malformed, never empty.
func decodeFeed(body []byte) (feedOutput, error) {
	var f feedOutput
	if err := json.Unmarshal(body, &f); err != nil {
		return f, malformed("getAuthorFeed", err)
	}
	if f.Feed == nil {
		return f, malformed("getAuthorFeed", errors.New(`no "feed"`))
	}
	for i := range *f.Feed {
		if !validURI((*f.Feed)[i].Post.URI) {
			return f, malformed("getAuthorFeed", fmt.Errorf("feed item %d has no at:// uri", i))
		}
	}
	return f, nil
}

// decodeThread reads an app.bsky.feed.getPostThread answer.
func decodeThread(body []byte) (threadOutput, error) {
	var t threadOutput
	if err := json.Unmarshal(body, &t); err != nil {
		return t, malformed("getPostThread", err)
	}
	if t.Thread == nil {
		return t, malformed("getPostThread", errors.New(`no "thread"`))
	}
	if t.Thread.isPost() && !validURI(t.Thread.Post.URI) {
		return t, malformed("getPostThread", errors.New("root has no at:// uri"))
	}
	return t, nil
}

func validURI(u string) bool { return strings.HasPrefix(u, "at://") && len(u) > len("at://") }

// hiddenSet returns the replies the root author hid (threadgate
// hiddenReplies), from the answer's threadgate or the root post's.
func (t *threadOutput) hiddenSet() map[string]bool {
	tg := t.Threadgate
	if tg == nil && t.Thread != nil && t.Thread.Post != nil {
		tg = t.Thread.Post.Threadgate
	}
	m := map[string]bool{}
	if tg != nil {
		for _, u := range tg.Record.HiddenReplies {
			m[u] = true
		}
	}
	return m
}

// parseTime reads an atproto datetime; nil when it cannot.
func parseTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// rkey returns the record key (last path segment) of an at:// uri.
func rkey(uri string) string {
	if i := strings.LastIndexByte(uri, '/'); i >= 0 {
		return uri[i+1:]
	}
	return uri
}

// permalink is the post's page on bsky.app.
func permalink(pv *postView) string {
	who := pv.Author.Handle
	if who == "" || who == "handle.invalid" {
		who = pv.Author.DID
	}
	if who == "" {
		return ""
	}
	return "https://bsky.app/profile/" + who + "/post/" + rkey(pv.URI)
}

// toItem normalises a postView. Only content goes in: text, facets,
// embeds, the cid as edit marker, createdAt from the record.
func toItem(pv *postView, kind, parent, root, rawKey string) platforms.Item {
	it := platforms.Item{
		NativeID:       pv.URI,
		Kind:           kind,
		ParentNativeID: parent,
		RootNativeID:   root,
		AuthorID:       pv.Author.DID,
		AuthorName:     pv.Author.DisplayName,
		Text:           pv.Record.Text,
		Permalink:      permalink(pv),
		CreatedAt:      parseTime(pv.Record.CreatedAt),
		EditMarker:     pv.CID,
		RawKey:         rawKey,
	}
	if it.AuthorName == "" {
		it.AuthorName = pv.Author.Handle
	}
	extra := map[string]string{}
	addFacets(extra, pv.Record.Facets)
	if len(pv.Record.Langs) > 0 {
		extra["langs"] = strings.Join(pv.Record.Langs, ",")
	}
	it.Media = addEmbed(extra, pv.Embed, pv.Record.Embed, 0)
	if len(extra) > 0 {
		it.Extra = extra
	}
	return it
}

// addFacets keeps links, mentions and tags, in text order.
func addFacets(extra map[string]string, facets []facet) {
	var links, mentions, tags []string
	for _, f := range facets {
		for _, ft := range f.Features {
			switch ft.Type {
			case typeFacetLink:
				links = append(links, ft.URI)
			case typeFacetMention:
				mentions = append(mentions, ft.DID)
			case typeFacetTag:
				tags = append(tags, ft.Tag)
			}
		}
	}
	put := func(k string, v []string) {
		if len(v) > 0 {
			extra[k] = strings.Join(v, "\n")
		}
	}
	put("links", links)
	put("mentions", mentions)
	put("tags", tags)
}

// addEmbed lists an embed's media and puts its other content (external
// link card, quoted post) in extra. rec is the record's own embed, which
// holds the blob CIDs used as stable media ids.
func addEmbed(extra map[string]string, ev *embedView, rec *recordEmbed, depth int) []platforms.Media {
	if ev == nil || depth > 2 {
		return nil
	}
	var media []platforms.Media
	switch ev.Type {
	case typeImagesView:
		for i, img := range ev.Images {
			m := platforms.Media{URL: img.Fullsize, Kind: "image", AltText: img.Alt, NativeID: cidFromURL(img.Fullsize)}
			if rec != nil && i < len(rec.Images) && rec.Images[i].Image.cid() != "" {
				m.NativeID = rec.Images[i].Image.cid()
				m.ContentType = rec.Images[i].Image.MimeType
			}
			media = append(media, m)
		}
	case typeVideoView:
		m := platforms.Media{NativeID: ev.CID, URL: ev.Playlist, Kind: "video", AltText: ev.Alt}
		if rec != nil && rec.Video != nil {
			m.ContentType = rec.Video.MimeType
		}
		media = append(media, m)
		if ev.Thumbnail != "" {
			media = append(media, platforms.Media{NativeID: ev.CID + "#thumbnail", URL: ev.Thumbnail, Kind: "thumbnail"})
		}
	case typeExternalView:
		if x := ev.External; x != nil {
			extra["external_uri"], extra["external_title"], extra["external_description"] = x.URI, x.Title, x.Description
			if x.Thumb != "" {
				m := platforms.Media{URL: x.Thumb, Kind: "thumbnail", NativeID: cidFromURL(x.Thumb)}
				if rec != nil && rec.External != nil && rec.External.Thumb.cid() != "" {
					m.NativeID = rec.External.Thumb.cid()
				}
				media = append(media, m)
			}
		}
	case typeRecordView:
		if u := quotedURI(ev.Record, false); u != "" {
			extra["quote_uri"] = u
		}
	case typeRecordWithView:
		if u := quotedURI(ev.Record, true); u != "" {
			extra["quote_uri"] = u
		}
		var inner *recordEmbed
		if rec != nil {
			inner = rec.Media
		}
		media = addEmbed(extra, ev.Media, inner, depth+1)
	}
	return media
}

// quotedURI reads the quoted post's uri from record#view's record
// (viewRecord, viewNotFound, viewBlocked all carry uri), or from
// recordWithMedia#view's record, which is itself a record#view.
func quotedURI(raw json.RawMessage, nested bool) string {
	if len(raw) == 0 {
		return ""
	}
	if nested {
		var v struct {
			Record struct {
				URI string `json:"uri"`
			} `json:"record"`
		}
		if json.Unmarshal(raw, &v) != nil {
			return ""
		}
		return v.Record.URI
	}
	var v struct {
		URI string `json:"uri"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v.URI
}

// cidFromURL reads the blob CID from a CDN URL such as
// https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:x/bafkrei...@jpeg.
func cidFromURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	seg := u[strings.LastIndexByte(u, '/')+1:]
	if i := strings.IndexByte(seg, '@'); i >= 0 {
		seg = seg[:i]
	}
	if strings.HasPrefix(seg, "baf") {
		return seg
	}
	return ""
}

var (
	urlRE   = regexp.MustCompile(`https?://[^\s<>"]+`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// toProfile normalises a profile. Bluesky has no website or e-mail
// fields; the first ones written in the description are used.
func toProfile(p profileView, rawKey string) platforms.Profile {
	out := platforms.Profile{
		NativeID:    p.DID,
		Handle:      p.Handle,
		DisplayName: p.DisplayName,
		Description: p.Description,
		AvatarURL:   p.Avatar,
		URL:         "https://bsky.app/profile/" + p.Handle,
		RawKey:      rawKey,
	}
	if w := urlRE.FindString(p.Description); w != "" {
		out.Website = strings.TrimRight(w, ".,;:!?)")
	}
	out.Email = emailRE.FindString(p.Description)
	out.Verified = p.Verification != nil && p.Verification.VerifiedStatus == "valid"
	extra := map[string]string{}
	if p.Banner != "" {
		extra["banner"] = p.Banner
	}
	if p.PinnedPost != nil && p.PinnedPost.URI != "" {
		extra["pinned_post"] = p.PinnedPost.URI
	}
	if len(extra) > 0 {
		out.Extra = extra
	}
	return out
}
