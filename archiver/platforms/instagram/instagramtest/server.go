// Package instagramtest is a fake Instagram Graph API: it renders a
// platformtest.World as one IG professional account with the real paths
// (/v21.0/{ig-user-id}, /{ig-user-id}/media, /{ig-media-id}/comments,
// /{ig-comment-id}/replies), JSON shapes, cursor paging (small pages),
// Graph error bodies (code 190 for a wrong token, 100/33 for deleted
// objects) and media files at /media/<name>. Replies are served under any
// comment, so nesting deeper than Instagram's one level can be tested.
package instagramtest

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Prefix is the path prefix of a real api_base (https://graph.facebook.com/v21.0).
const Prefix = "/v21.0"

// DefaultUserID is the IG user id used when the World's profile has no numeric id.
const DefaultUserID = "17841405822304914"

// DefaultCredential is the access token the server accepts by default.
const DefaultCredential = "EAAJfakeIGToken9Kp3ZBcivic0rchive"

var (
	userFieldNames    = []string{"id", "ig_id", "username", "name", "biography", "website", "profile_picture_url", "followers_count", "follows_count", "media_count"}
	mediaFieldNames   = []string{"id", "ig_id", "caption", "media_type", "media_url", "permalink", "timestamp", "children", "thumbnail_url", "username", "like_count", "comments_count", "is_comment_enabled", "media_product_type", "shortcode", "owner", "alt_text"}
	commentFieldNames = []string{"id", "text", "timestamp", "username", "hidden", "like_count", "from", "media", "parent_id", "replies", "user", "legacy_instagram_comment_id"}
)

// Option configures a Server.
type Option func(*Server)

// WithMiddleware wraps the server's handler (e.g. with platformtest.Faults).
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.mws = append(s.mws, mw) }
}

// WithCredential sets the access token the server accepts.
func WithCredential(token string) Option { return func(s *Server) { s.token = token } }

// WithPageSizes sets the largest media and comments pages (default 2 and 3).
func WithPageSizes(media, comments int) Option {
	return func(s *Server) { s.mediaMax, s.commentsMax = media, comments }
}

// Server is a running fake Instagram Graph API for one account.
type Server struct {
	// URL is the server's base URL (no path).
	URL string

	srv         *httptest.Server
	w           *platformtest.World
	mws         []func(http.Handler) http.Handler
	token       string
	userID      string
	mediaMax    int
	commentsMax int
	requests    atomic.Int64
}

// NewServer starts a fake Instagram Graph API serving w.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	s := &Server{w: w, token: DefaultCredential, userID: DefaultUserID, mediaMax: 2, commentsMax: 3}
	if id := w.Profile.ID; id != "" && strings.Trim(id, "0123456789") == "" {
		s.userID = id
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

// Credential is the access token the server accepts.
func (s *Server) Credential() string { return s.token }

// UserID is the IG user id.
func (s *Server) UserID() string { return s.userID }

// Account is a platforms.Account ready to capture this server.
func (s *Server) Account() platforms.Account {
	return platforms.Account{Platform: platforms.Instagram, Handle: s.username(), NativeID: s.userID, APIBase: s.APIBase(), Credential: s.token}
}

// NativeID is the IG id the connector reports for a world post or comment
// id (IG media and comment ids are numbers like 17895695668004550).
func (s *Server) NativeID(worldID string) string {
	n, err := strconv.ParseUint(worldID, 10, 64)
	if err != nil {
		return "178" + worldID
	}
	return fmt.Sprintf("178%014d", n)
}

// worldID inverts NativeID.
func worldID(native string) (string, bool) {
	rest, ok := strings.CutPrefix(native, "178")
	if !ok || len(rest) != 14 {
		return "", false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// MediaID is the IG media id of a carousel child (a world media file).
func MediaID(postWorldID, name string) string {
	h := fnv.New64a()
	h.Write([]byte(postWorldID + "/" + name))
	return strconv.FormatUint(17900000000000000+h.Sum64()%100000000000000, 10)
}

// Username is the Instagram username of a world comment author.
func Username(author string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(author), " ", "_"))
}

// Requests counts the requests served (faults included).
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) username() string {
	if s.w.Profile.Handle != "" {
		return s.w.Profile.Handle
	}
	return "clintoncityut"
}

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	rest, parts, ok := graphtest.Route(rw, r, Prefix, s.token, s.file)
	if !ok {
		return
	}
	id := parts[0]
	switch {
	case len(parts) == 1 && id == s.userID:
		s.user(rw, r)
	case len(parts) == 2 && parts[1] == "media" && id == s.userID:
		s.media(rw, r)
	case len(parts) == 2 && (parts[1] == "comments" || parts[1] == "replies"):
		s.comments(rw, r, id, parts[1])
	case len(parts) <= 2:
		graphtest.NotFound(rw, id)
	default:
		graphtest.UnknownPath(rw, rest)
	}
}

func (s *Server) file(rw http.ResponseWriter, name string) {
	m, ok := s.w.Media(name)
	if !ok && name == "avatar.jpg" { // the profile picture, unless the world has one
		m, ok = platformtest.MediaFile{Name: name, ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff\xe0 fake avatar jpeg")}, true
	}
	graphtest.ServeFile(rw, m, ok)
}

func (s *Server) user(rw http.ResponseWriter, r *http.Request) {
	fields, ok := graphtest.CheckFields(rw, r, "User", userFieldNames, nil)
	if !ok {
		return
	}
	p := s.w.Profile
	posts, _ := s.w.Counts()
	obj := map[string]any{
		"id": s.userID, "username": s.username(), "name": p.DisplayName, "biography": p.Description,
		"website": p.Website, "profile_picture_url": s.URL + "/media/avatar.jpg?oh=00_" + MediaID("", "avatar"),
		"media_count": posts, "followers_count": 4321,
	}
	if p.Website == "" {
		delete(obj, "website")
	}
	graphtest.WriteJSON(rw, graphtest.Only(obj, fields))
}

func (s *Server) media(rw http.ResponseWriter, r *http.Request) {
	fields, ok := graphtest.CheckFields(rw, r, "IGMedia", mediaFieldNames, nil)
	if !ok {
		return
	}
	// newest first
	graphtest.WriteList(rw, r, s.w.Posts(), func(p platformtest.Post) string { return p.ID }, s.mediaMax, func(p platformtest.Post) map[string]any {
		return graphtest.Only(s.mediaJSON(p), fields)
	})
}

// mediaJSON renders a post: one file is an IMAGE or VIDEO, several a
// CAROUSEL_ALBUM with children; no file at all renders as an IMAGE whose
// media_url is withheld (as Instagram does for flagged media).
func (s *Server) mediaJSON(p platformtest.Post) map[string]any {
	obj := map[string]any{
		"id": s.NativeID(p.ID), "media_type": "IMAGE", "timestamp": graphtest.Time(p.Created),
		"permalink": "https://www.instagram.com/p/C" + shortcode(p.ID) + "/", "username": s.username(),
		"like_count": s.Requests() % 7, "comments_count": len(s.w.Thread(p.ID)),
		"media_product_type": "FEED", "is_comment_enabled": true,
	}
	if p.Text != "" {
		obj["caption"] = p.Text
	}
	switch {
	case len(p.Media) == 1:
		obj["media_type"], obj["media_url"] = s.mediaType(p.Media[0]), s.mediaURL(p.Media[0])
	case len(p.Media) > 1:
		obj["media_type"] = "CAROUSEL_ALBUM"
		kids := []map[string]any{}
		for _, m := range p.Media {
			kids = append(kids, map[string]any{"id": MediaID(p.ID, m), "media_type": s.mediaType(m), "media_url": s.mediaURL(m)})
		}
		obj["children"] = map[string]any{"data": kids}
	}
	return obj
}

func (s *Server) mediaType(name string) string {
	if m, _ := s.w.Media(name); strings.HasPrefix(m.ContentType, "video/") {
		return "VIDEO"
	}
	return "IMAGE"
}

func (s *Server) mediaURL(name string) string {
	return s.URL + "/media/" + name + "?_nc_ht=scontent.cdninstagram.com&oh=00_" + MediaID("sig", name)
}

func shortcode(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// comments serves /{ig-media-id}/comments (top-level comments) and
// /{ig-comment-id}/replies (the replies to a comment).
func (s *Server) comments(rw http.ResponseWriter, r *http.Request, native, edge string) {
	fields, ok := graphtest.CheckFields(rw, r, "IGComment", commentFieldNames, nil)
	if !ok {
		return
	}
	wid, ok := worldID(native)
	var list []platformtest.Comment
	switch {
	case ok && edge == "comments":
		if _, ok = s.w.Post(wid); ok {
			list = s.w.Comments(wid, "")
		}
	case ok && edge == "replies":
		var c platformtest.Comment
		if c, ok = s.w.Comment(wid); ok {
			list = s.w.Comments(c.PostID, c.ID)
		}
	}
	if !ok {
		graphtest.NotFound(rw, native)
		return
	}
	graphtest.WriteList(rw, r, list, func(c platformtest.Comment) string { return c.ID }, s.commentsMax, func(c platformtest.Comment) map[string]any {
		obj := map[string]any{
			"id": s.NativeID(c.ID), "text": c.Text, "timestamp": graphtest.Time(c.Created),
			"username": Username(c.Author), "hidden": c.Hidden, "like_count": s.Requests() % 5,
			"from":  map[string]string{"id": MediaID("user", c.Author), "username": Username(c.Author)},
			"media": map[string]string{"id": s.NativeID(c.PostID)},
		}
		if c.ParentID != "" {
			obj["parent_id"] = s.NativeID(c.ParentID)
		}
		return graphtest.Only(obj, fields, "timestamp", "text")
	})
}
