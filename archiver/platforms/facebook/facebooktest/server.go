// Package facebooktest is a fake Graph API for Facebook Pages: it renders a
// platformtest.World as one Page with the real paths (/v21.0/{page-id},
// /{page-id}/posts, /{object-id}/comments with filter=stream or toplevel),
// JSON shapes, cursor paging (small pages), error bodies (code 190 for a
// wrong token, #12 for deprecated post fields, 100/33 for deleted
// objects) and media at /media/<name>. Tests and the end-to-end test of
// the program capture it with the facebook connector.
package facebooktest

import (
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Prefix is the path prefix of a real api_base (https://graph.facebook.com/v21.0).
const Prefix = "/v21.0"

// DefaultPageID is the page id used when the World's profile has no numeric id.
const DefaultPageID = "104520798231532"

// DefaultCredential is the page access token the server accepts by default.
const DefaultCredential = "EAAJfakePageToken7Qx2ZBcivic0rchive"

// Fields the fake knows per node type, and the post fields Graph refuses
// since v3.3 with error #12.
var (
	pageFieldNames    = []string{"id", "name", "about", "emails", "website", "link", "username", "verification_status", "category", "fan_count", "followers_count", "description", "phone", "picture", "cover"}
	postFieldNames    = []string{"id", "message", "created_time", "updated_time", "permalink_url", "attachments", "is_hidden", "from", "story", "full_picture", "status_type", "message_tags", "shares", "is_published", "comments", "reactions"}
	deprecatedPost    = []string{"type", "link", "name", "caption", "description", "object_id", "source"}
	commentFieldNames = []string{"id", "message", "created_time", "from", "parent", "is_hidden", "attachment", "like_count", "comment_count", "can_hide", "can_remove", "permalink_url", "message_tags", "object", "user_likes"}
)

// Option configures a Server.
type Option func(*Server)

// WithMiddleware wraps the server's handler (e.g. with platformtest.Faults).
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.mws = append(s.mws, mw) }
}

// WithCredential sets the page access token the server accepts.
func WithCredential(token string) Option { return func(s *Server) { s.token = token } }

// WithPageSizes sets the largest posts and comments pages (default 2 and 3).
func WithPageSizes(posts, comments int) Option {
	return func(s *Server) { s.postsMax, s.commentsMax = posts, comments }
}

// Server is a running fake Graph API for one Page.
type Server struct {
	// URL is the server's base URL (no path).
	URL string

	srv         *httptest.Server
	w           *platformtest.World
	mws         []func(http.Handler) http.Handler
	token       string
	pageID      string
	postsMax    int
	commentsMax int
	requests    atomic.Int64

	mu  sync.Mutex
	ids map[string]string // world id → native id, remembered after deletion
}

// NewServer starts a fake Graph API serving w.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	s := &Server{w: w, token: DefaultCredential, pageID: DefaultPageID, postsMax: 2, commentsMax: 3, ids: map[string]string{}}
	if id := w.Profile.ID; id != "" && strings.Trim(id, "0123456789") == "" {
		s.pageID = id
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = graphtest.Serve(http.HandlerFunc(s.serve), s.mws, &s.requests)
	s.URL = s.srv.URL
	return s
}

// APIBase is the value to register as the account's api_base.
func (s *Server) APIBase() string { return s.URL + Prefix }

// Credential is the page access token the server accepts.
func (s *Server) Credential() string { return s.token }

// PageID is the Page's id.
func (s *Server) PageID() string { return s.pageID }

// Account is a platforms.Account ready to capture this server.
func (s *Server) Account() platforms.Account {
	return platforms.Account{Platform: platforms.Facebook, Handle: s.handle(), NativeID: s.pageID, APIBase: s.APIBase(), Credential: s.token}
}

// NativeID is the Graph id the connector reports for a world post or
// comment id ("" if the world never had it visible).
func (s *Server) NativeID(worldID string) string {
	if _, ok := s.w.Post(worldID); ok {
		return s.postID(worldID)
	}
	if c, ok := s.w.Comment(worldID); ok {
		return s.commentID(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[worldID]
}

// Requests counts the requests served (faults included).
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) handle() string {
	if s.w.Profile.Handle != "" {
		return s.w.Profile.Handle
	}
	return "cityofclinton"
}

func (s *Server) remember(worldID, native string) string {
	s.mu.Lock()
	s.ids[worldID] = native
	s.mu.Unlock()
	return native
}

func (s *Server) postID(worldID string) string {
	return s.remember(worldID, s.pageID+"_"+worldID)
}

// commentID is "{post object id}_{comment id}", as Graph writes them.
func (s *Server) commentID(c platformtest.Comment) string {
	return s.remember(c.ID, c.PostID+"_"+c.ID)
}

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	rest, parts, ok := graphtest.Route(rw, r, Prefix, s.token, s.media)
	if !ok {
		return
	}
	switch {
	case len(parts) == 1 && parts[0] == s.pageID:
		s.page(rw, r)
	case len(parts) == 1 && s.isPost(parts[0]):
		s.postNode(rw, r, parts[0])
	case len(parts) == 2 && (parts[1] == "posts" || parts[1] == "feed" || parts[1] == "published_posts") && parts[0] == s.pageID:
		s.posts(rw, r)
	case len(parts) == 2 && parts[1] == "comments":
		s.comments(rw, r, parts[0])
	case len(parts) == 1 || len(parts) == 2 && parts[1] == "posts":
		graphtest.NotFound(rw, parts[0])
	default:
		graphtest.UnknownPath(rw, rest)
	}
}

func (s *Server) media(rw http.ResponseWriter, name string) {
	m, ok := s.w.Media(name)
	graphtest.ServeFile(rw, m, ok)
}

func (s *Server) page(rw http.ResponseWriter, r *http.Request) {
	fields, ok := graphtest.CheckFields(rw, r, "Page", pageFieldNames, nil)
	if !ok {
		return
	}
	p := s.w.Profile
	obj := map[string]any{
		"id": s.pageID, "name": p.DisplayName, "about": p.Description, "website": p.Website,
		"link": "https://www.facebook.com/" + s.handle(), "username": s.handle(),
		"verification_status": "blue_verified", "category": "Government organization",
	}
	if p.Email != "" {
		obj["emails"] = []string{p.Email}
	}
	graphtest.WriteJSON(rw, graphtest.Only(obj, fields, "name"))
}

// isPost says whether native is the id of a post this Page ever showed.
func (s *Server) isPost(native string) bool {
	wid, ok := strings.CutPrefix(native, s.pageID+"_")
	if !ok {
		return false
	}
	_, ok = s.w.Post(wid)
	return ok
}

func (s *Server) postNode(rw http.ResponseWriter, r *http.Request, native string) {
	fields, ok := graphtest.CheckFields(rw, r, "PagePost", postFieldNames, deprecatedPost)
	if !ok {
		return
	}
	p, _ := s.w.Post(strings.TrimPrefix(native, s.pageID+"_"))
	graphtest.WriteJSON(rw, graphtest.Only(s.postJSON(p), fields, "created_time", "message"))
}

func (s *Server) posts(rw http.ResponseWriter, r *http.Request) {
	fields, ok := graphtest.CheckFields(rw, r, "PagePost", postFieldNames, deprecatedPost)
	if !ok {
		return
	}
	// newest first, as Graph lists them
	graphtest.WriteList(rw, r, s.w.Posts(), postWorldID, s.postsMax, func(p platformtest.Post) map[string]any {
		return graphtest.Only(s.postJSON(p), fields, "created_time", "message")
	})
}

// postJSON renders a post. updated_time moves with edits and with every
// new comment, as Graph's does.
func (s *Server) postJSON(p platformtest.Post) map[string]any {
	updated := p.Created
	if p.Edited != nil && p.Edited.After(updated) {
		updated = *p.Edited
	}
	for _, c := range s.w.Thread(p.ID) {
		if c.Created.After(updated) {
			updated = c.Created
		}
	}
	obj := map[string]any{
		"id": s.postID(p.ID), "created_time": graphtest.Time(p.Created), "updated_time": graphtest.Time(updated),
		"permalink_url": "https://www.facebook.com/" + s.pageID + "/posts/" + p.ID,
		"is_hidden":     p.Hidden, "from": map[string]string{"id": s.pageID, "name": s.w.Profile.DisplayName},
		"status_type": "mobile_status_update",
	}
	if p.Text != "" {
		obj["message"] = p.Text
	}
	if len(p.Media) > 0 {
		obj["attachments"] = map[string]any{"data": []any{s.attachment(p)}}
		obj["full_picture"] = s.mediaURL(p.Media[0])
	}
	return obj
}

// attachment renders a post's media: one photo or video, or an album
// whose subattachments are the files.
func (s *Server) attachment(p platformtest.Post) map[string]any {
	if len(p.Media) == 1 {
		return s.mediaAttachment(p.Media[0])
	}
	subs := make([]any, len(p.Media))
	for i, m := range p.Media {
		subs[i] = s.mediaAttachment(m)
	}
	album := MediaID("album:" + p.ID)
	return map[string]any{
		"media_type": "album", "type": "album", "title": p.Title,
		"url":            "https://www.facebook.com/media/set/?set=a." + album,
		"target":         map[string]string{"id": album, "url": "https://www.facebook.com/media/set/?set=a." + album},
		"subattachments": map[string]any{"data": subs},
	}
}

func (s *Server) mediaAttachment(name string) map[string]any {
	id := MediaID(name)
	mf, _ := s.w.Media(name)
	media := map[string]any{"image": map[string]any{"height": 720, "width": 960, "src": s.mediaURL(name)}}
	kind, typ, page := "photo", "photo", "https://www.facebook.com/photo.php?fbid="+id
	if strings.HasPrefix(mf.ContentType, "video/") {
		kind, typ, page = "video", "video_inline", "https://www.facebook.com/watch/?v="+id
		media["source"] = s.mediaURL(name)
	}
	return map[string]any{
		"media_type": kind, "type": typ, "url": page, "media": media,
		"target": map[string]string{"id": id, "url": page},
	}
}

// mediaURL is a CDN-like URL with a signature that, like Facebook's, is
// not part of the file's identity.
func (s *Server) mediaURL(name string) string {
	return s.URL + "/media/" + name + "?_nc_cat=107&oh=00_" + MediaID("sig:"+name)
}

// MediaID is the Graph id (photo or video id) of a world media file.
func MediaID(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	return strconv.FormatUint(100000000000000+h.Sum64()%900000000000000, 10)
}

// UserID is the app-scoped id Graph gives a commenter.
func UserID(author string) string { return MediaID("user:" + author) }

// comments serves /{object-id}/comments for a post or a comment:
// filter=stream lists every comment and reply below it in chronological
// order, each reply with its parent; the default (toplevel) lists only
// the object's direct comments.
func (s *Server) comments(rw http.ResponseWriter, r *http.Request, native string) {
	fields, ok := graphtest.CheckFields(rw, r, "Comment", commentFieldNames, nil)
	if !ok {
		return
	}
	postWID, parentWID, ok := s.resolve(native)
	if !ok {
		graphtest.NotFound(rw, native)
		return
	}
	var list []platformtest.Comment
	if r.URL.Query().Get("filter") == "stream" {
		list = s.descendants(postWID, parentWID)
		sort.SliceStable(list, func(i, j int) bool { return list[i].Created.Before(list[j].Created) })
	} else {
		list = s.w.Comments(postWID, parentWID)
	}
	if r.URL.Query().Get("order") == "reverse_chronological" {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Created.After(list[j].Created) })
	}
	graphtest.WriteList(rw, r, list, commentWorldID, s.commentsMax, func(c platformtest.Comment) map[string]any {
		return graphtest.Only(s.commentJSON(c), fields, "created_time", "from", "message")
	})
}

func postWorldID(p platformtest.Post) string       { return p.ID }
func commentWorldID(c platformtest.Comment) string { return c.ID }

// resolve finds the visible post (parent "") or comment a native id names.
func (s *Server) resolve(native string) (postWID, parentWID string, ok bool) {
	if wid, isPost := strings.CutPrefix(native, s.pageID+"_"); isPost {
		_, ok := s.w.Post(wid)
		return wid, "", ok
	}
	postWID, cWID, found := strings.Cut(native, "_")
	if !found {
		return "", "", false
	}
	c, ok := s.w.Comment(cWID)
	if !ok || c.PostID != postWID {
		return "", "", false
	}
	return postWID, cWID, true
}

func (s *Server) descendants(postWID, parentWID string) []platformtest.Comment {
	var out []platformtest.Comment
	var walk func(string)
	walk = func(parent string) {
		for _, c := range s.w.Comments(postWID, parent) {
			out = append(out, c)
			walk(c.ID)
		}
	}
	walk(parentWID)
	return out
}

func (s *Server) commentJSON(c platformtest.Comment) map[string]any {
	obj := map[string]any{
		"id": s.commentID(c), "message": c.Text, "created_time": graphtest.Time(c.Created),
		"from":      map[string]string{"id": UserID(c.Author), "name": c.AuthorName},
		"is_hidden": c.Hidden, "like_count": 0, "can_hide": true, "can_remove": true,
		"permalink_url": "https://www.facebook.com/" + s.pageID + "/posts/" + c.PostID + "?comment_id=" + c.ID,
	}
	if c.ParentID != "" {
		if p, ok := s.w.Comment(c.ParentID); ok {
			obj["parent"] = map[string]string{"id": s.commentID(p)}
		}
	}
	return obj
}
