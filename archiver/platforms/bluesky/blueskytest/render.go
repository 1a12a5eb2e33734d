package blueskytest

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Lexicon $type values the server writes.
const (
	tPost           = "app.bsky.feed.post"
	tPostView       = "app.bsky.feed.defs#postView"
	tThreadViewPost = "app.bsky.feed.defs#threadViewPost"
	tReasonRepost   = "app.bsky.feed.defs#reasonRepost"
	tImages         = "app.bsky.embed.images"
	tImagesView     = "app.bsky.embed.images#view"
	tFacetLink      = "app.bsky.richtext.facet#link"
	tThreadgate     = "app.bsky.feed.threadgate"
)

const atTime = "2006-01-02T15:04:05.000Z"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func hash32(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return strings.ToLower(b32.EncodeToString(sum[:]))
}

// didFor makes a did:plc from a seed.
func didFor(seed string) string { return "did:plc:" + hash32(seed)[:24] }

// cidFor makes a dag-cbor-like CIDv1 string from content.
func cidFor(parts ...string) string { return "bafyrei" + hash32(parts...)[:52] }

// blobCID makes a raw-codec CIDv1 string for media bytes.
func blobCID(data []byte) string { return "bafkrei" + hash32(string(data))[:52] }

const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

var tidBase = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// tidFor makes a TID record key (13 base32-sortable characters: 53 bits
// of microseconds and 10 bits of clock id) from a World id, one second
// apart per id so record keys sort as the World created them.
func tidFor(worldID string) string {
	n, err := strconv.ParseInt(worldID, 10, 64)
	if err != nil || n < 0 {
		h := fnv.New32a()
		h.Write([]byte(worldID))
		n = int64(h.Sum32())
	}
	v := uint64(tidBase+n*1_000_000)<<10 | uint64(n%1024)
	var out [13]byte
	for i := 12; i >= 0; i-- {
		out[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(out[:])
}

func postURI(did, worldID string) string {
	return "at://" + did + "/app.bsky.feed.post/" + tidFor(worldID)
}

var slugMap = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n", " ", "-", "_", "-")

// handleFor makes a commenter's handle from a display name.
func handleFor(name string) string {
	var b strings.Builder
	for _, r := range slugMap.Replace(strings.ToLower(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	h := strings.Trim(b.String(), "-")
	if h == "" {
		h = "user-" + hash32(name)[:6]
	}
	return h + ".bsky.social"
}

// isAccount says a World comment was written by the account itself.
func (s *Server) isAccount(c platformtest.Comment) bool {
	p := s.w.Profile
	return p.ID != "" && c.Author == p.ID || p.DisplayName != "" && c.AuthorName == p.DisplayName
}

func (s *Server) authorDID(c platformtest.Comment) string {
	if s.isAccount(c) {
		return s.did
	}
	return didFor("user:" + c.Author)
}

// rec is a World post or comment as a Bluesky post record.
type rec struct {
	id, postID, parentID string // parentID "" for posts
	did, handle, name    string
	text, origText       string
	created              time.Time
	media                []string
	isPost               bool
}

func (r rec) uri() string     { return postURI(r.did, r.id) }
func (r rec) cid() string     { return cidFor(append([]string{r.id, r.text}, r.media...)...) }
func (r rec) origCID() string { return cidFor(append([]string{r.id, r.origText}, r.media...)...) }

// childParent is the World parent id of this record's direct replies.
func (r rec) childParent() string {
	if r.isPost {
		return ""
	}
	return r.id
}

func first(history []string, text string) string {
	if len(history) > 0 {
		return history[0]
	}
	return text
}

func (s *Server) postRec(p platformtest.Post) rec {
	return rec{id: p.ID, postID: p.ID, did: s.did, handle: s.handle, name: s.w.Profile.DisplayName,
		text: p.Text, origText: first(p.History, p.Text), created: p.Created, media: p.Media, isPost: true}
}

func (s *Server) commentRec(c platformtest.Comment) rec {
	r := rec{id: c.ID, postID: c.PostID, parentID: c.ParentID, did: s.authorDID(c), handle: handleFor(c.AuthorName),
		name: c.AuthorName, text: c.Text, origText: first(c.History, c.Text), created: c.Created}
	if r.did == s.did {
		r.handle, r.name = s.handle, s.w.Profile.DisplayName
	}
	return r
}

func (s *Server) author(r rec) map[string]any {
	return map[string]any{"did": r.did, "handle": r.handle, "displayName": r.name, "labels": []any{},
		"createdAt": "2023-04-12T16:20:00.000Z"}
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// record renders the app.bsky.feed.post record, with link facets (byte
// offsets), reply refs (the parents' cids as they were when replied to)
// and image blobs.
func (s *Server) record(r rec) map[string]any {
	lang := "en"
	if strings.ContainsAny(r.text, "¿¡ñáéíóú") {
		lang = "es"
	}
	m := map[string]any{"$type": tPost, "text": r.text, "createdAt": r.created.UTC().Format(atTime), "langs": []string{lang}}
	var facets []any
	for _, ix := range linkRE.FindAllStringIndex(r.text, -1) {
		facets = append(facets, map[string]any{
			"index":    map[string]int{"byteStart": ix[0], "byteEnd": ix[1]},
			"features": []any{map[string]string{"$type": tFacetLink, "uri": r.text[ix[0]:ix[1]]}},
		})
	}
	if facets != nil {
		m["facets"] = facets
	}
	if !r.isPost {
		root, _ := s.w.Post(r.postID)
		rr := s.postRec(root)
		parent := rr
		if pc, ok := s.w.Comment(r.parentID); ok && r.parentID != "" {
			parent = s.commentRec(pc)
		}
		m["reply"] = map[string]any{
			"root":   map[string]string{"uri": rr.uri(), "cid": rr.origCID()},
			"parent": map[string]string{"uri": parent.uri(), "cid": parent.origCID()},
		}
	}
	if len(r.media) > 0 {
		var imgs []any
		for _, name := range r.media {
			f, _ := s.w.Media(name)
			imgs = append(imgs, map[string]any{"alt": "", "aspectRatio": map[string]int{"width": 1200, "height": 800},
				"image": map[string]any{"$type": "blob", "ref": map[string]string{"$link": blobCID(f.Data)}, "mimeType": f.ContentType, "size": len(f.Data)}})
		}
		m["embed"] = map[string]any{"$type": tImages, "images": imgs}
	}
	return m
}

// view renders an app.bsky.feed.defs#postView.
func (s *Server) view(r rec) map[string]any {
	v := map[string]any{
		"uri": r.uri(), "cid": r.cid(), "author": s.author(r), "record": s.record(r),
		"replyCount":  len(s.w.Comments(r.postID, r.childParent())),
		"repostCount": 0, "likeCount": 0, "quoteCount": 0,
		"indexedAt": r.created.Add(time.Second).UTC().Format(atTime), "labels": []any{},
	}
	if len(r.media) > 0 {
		var imgs []any
		for _, name := range r.media {
			u := s.URL + "/media/" + name
			imgs = append(imgs, map[string]any{"thumb": u, "fullsize": u, "alt": "", "aspectRatio": map[string]int{"width": 1200, "height": 800}})
		}
		v["embed"] = map[string]any{"$type": tImagesView, "images": imgs}
	}
	if r.isPost {
		if tg := s.threadgate(r); tg != nil {
			v["threadgate"] = tg
		}
	}
	return v
}

// threadgate renders the root's threadgate view when replies are hidden.
func (s *Server) threadgate(root rec) map[string]any {
	var hidden []string
	for _, c := range s.w.Thread(root.postID) {
		if c.Hidden {
			hidden = append(hidden, s.commentRec(c).uri())
		}
	}
	if hidden == nil {
		return nil
	}
	return map[string]any{
		"uri": "at://" + s.did + "/" + tThreadgate + "/" + tidFor(root.id),
		"cid": cidFor(append([]string{"threadgate", root.id}, hidden...)...),
		"record": map[string]any{"$type": tThreadgate, "post": root.uri(),
			"createdAt": root.created.UTC().Format(atTime), "hiddenReplies": hidden},
		"lists": []any{},
	}
}

func (s *Server) profileView() map[string]any {
	p := s.w.Profile
	desc := p.Description
	for _, extra := range []string{p.Website, p.Email} {
		if extra != "" && !strings.Contains(desc, extra) {
			desc = strings.TrimSpace(desc + "\n" + extra)
		}
	}
	posts := len(s.w.Posts())
	v := map[string]any{
		"did": s.did, "handle": s.handle, "displayName": p.DisplayName, "description": desc,
		"followersCount": 1200 + posts, "followsCount": 12, "postsCount": posts,
		"associated": map[string]any{"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": false},
		"indexedAt":  "2024-01-20T05:32:42.000Z", "createdAt": "2023-04-12T16:20:00.000Z", "labels": []any{},
	}
	if _, ok := s.w.Media("avatar.jpg"); ok {
		v["avatar"] = s.URL + "/media/avatar.jpg"
	}
	return v
}

// feedKey orders the author feed, newest first.
type feedKey struct {
	ms   int64
	rkey string
}

func (k feedKey) before(o feedKey) bool {
	return k.ms < o.ms || k.ms == o.ms && k.rkey < o.rkey
}

func (k feedKey) cursor() string { return fmt.Sprintf("%d::%s", k.ms, k.rkey) }

func parseCursor(c string) (feedKey, bool) {
	ms, rk, ok := strings.Cut(c, "::")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || rk == "" {
		return feedKey{}, false
	}
	return feedKey{n, rk}, true
}

type feedEntry struct {
	key  feedKey
	item map[string]any
}

// feed lists the author feed for a filter, newest first.
func (s *Server) feed(filter string) []feedEntry {
	var out []feedEntry
	var newest time.Time
	withReplies := filter == "posts_with_replies" || filter == "posts_and_author_threads"
	for _, p := range s.w.Posts() {
		newest = later(newest, p.Created)
		if filter == "posts_with_media" && len(p.Media) == 0 {
			continue
		}
		r := s.postRec(p)
		out = append(out, feedEntry{feedKey{p.Created.UnixMilli(), tidFor(p.ID)}, map[string]any{"post": s.view(r)}})
		if !withReplies {
			continue
		}
		for _, c := range s.w.Thread(p.ID) {
			if !s.isAccount(c) {
				continue
			}
			out = append(out, feedEntry{feedKey{c.Created.UnixMilli(), tidFor(c.ID)}, s.replyItem(r, c)})
		}
	}
	if s.repost {
		out = append(out, s.repostEntry(newest.Add(time.Hour)))
	}
	sort.Slice(out, func(i, j int) bool { return out[j].key.before(out[i].key) })
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// replyItem is a feed item for the account's reply, with its reply refs.
func (s *Server) replyItem(root rec, c platformtest.Comment) map[string]any {
	parent := root
	if pc, ok := s.w.Comment(c.ParentID); ok && c.ParentID != "" {
		parent = s.commentRec(pc)
	}
	typed := func(r rec) map[string]any {
		v := s.view(r)
		v["$type"] = tPostView
		return v
	}
	return map[string]any{"post": s.view(s.commentRec(c)), "reply": map[string]any{"root": typed(root), "parent": typed(parent)}}
}

// repostEntry is the account reposting another account's old post.
func (s *Server) repostEntry(at time.Time) feedEntry {
	other := rec{id: "repost-source", postID: "repost-source", did: didFor("user:udot"), handle: "udot.bsky.social",
		name: "Utah DOT", text: "I-15 lane closures this weekend near Clinton 🚧", created: time.Date(2020, 1, 2, 15, 0, 0, 0, time.UTC)}
	v := map[string]any{"uri": other.uri(), "cid": other.cid(), "author": s.author(other),
		"record":     map[string]any{"$type": tPost, "text": other.text, "createdAt": other.created.Format(atTime), "langs": []string{"en"}},
		"replyCount": 0, "repostCount": 1, "likeCount": 0, "quoteCount": 0,
		"indexedAt": other.created.Format(atTime), "labels": []any{}}
	reason := map[string]any{"$type": tReasonRepost, "by": s.author(rec{did: s.did, handle: s.handle, name: s.w.Profile.DisplayName}),
		"indexedAt": at.UTC().Format(atTime)}
	return feedEntry{feedKey{at.UnixMilli(), "zzzzzzzzzzzzz"}, map[string]any{"post": v, "reason": reason}}
}

// find looks a post or comment up by uri.
func (s *Server) find(uri string) (rec, bool) {
	for _, p := range s.w.Posts() {
		r := s.postRec(p)
		if r.uri() == uri {
			return r, true
		}
		for _, c := range s.w.Thread(p.ID) {
			if cr := s.commentRec(c); cr.uri() == uri {
				return cr, true
			}
		}
	}
	return rec{}, false
}

// thread renders the threadViewPost of uri with depth levels of replies,
// and the root's threadgate.
func (s *Server) thread(uri string, depth int) (map[string]any, map[string]any, bool) {
	r, ok := s.find(uri)
	if !ok {
		return nil, nil, false
	}
	root, _ := s.w.Post(r.postID)
	return s.node(r, depth), s.threadgate(s.postRec(root)), true
}

func (s *Server) node(r rec, depth int) map[string]any {
	n := map[string]any{"$type": tThreadViewPost, "post": s.view(r)}
	if depth > 0 {
		replies := []any{}
		for _, c := range s.w.Comments(r.postID, r.childParent()) {
			replies = append(replies, s.node(s.commentRec(c), depth-1))
		}
		n["replies"] = replies
	}
	return n
}
