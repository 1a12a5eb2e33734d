// Package youtubetest is a fake YouTube Data API v3 server that renders a
// platformtest.World in YouTube's real JSON shapes, paths, page tokens and
// error bodies, for the connector's tests and the end-to-end test.
//
// How the world maps onto YouTube: the world's posts are the channel's
// uploads (newest first); a post's first media file is the video's
// thumbnail; comments with no parent are top-level comments (one
// commentThread each); every deeper comment is a reply one level under its
// top-level comment, as on YouTube. A comment edit moves updatedAt; a video
// edit changes title/description only (videos carry no edit marker).
// Deleted posts and comments disappear; hidden comments are not public on
// YouTube, so they are not listed (an API key cannot see them).
package youtubetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// PathPrefix is the path a real api_base has: server.URL + PathPrefix is
// the value to register as api_base.
const PathPrefix = "/youtube/v3"

// DefaultCredential is the API key the server accepts unless told
// otherwise (shaped like a real key: "AIza" and 35 more characters).
const DefaultCredential = "AIzaSyC1v1cArch1ve-FakeKey_0123456789ab"

// Server serves a World as the YouTube Data API v3.
type Server struct {
	// URL is the server's base URL (no path).
	URL string

	ts       *httptest.Server
	w        *platformtest.World
	cfg      config
	requests atomic.Int64
	apiCalls atomic.Int64

	mu       sync.Mutex
	native   map[string]string // world id → YouTube id
	world    map[string]string // YouTube id → world id
	channel  string
	disabled map[string]bool // world post ids with comments disabled
}

type config struct {
	middleware []func(http.Handler) http.Handler
	credential string
	pageSize   int
	embedded   int
	disabled   []string
	quota      int
}

// Option changes how the server behaves.
type Option func(*config)

// WithMiddleware wraps the server's handler (e.g. with platformtest.Faults).
// The first option given is the outermost wrapper.
func WithMiddleware(m func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, m) }
}

// WithCredential sets the API key the server accepts ("" accepts any).
func WithCredential(key string) Option { return func(c *config) { c.credential = key } }

// WithPageSize sets the largest page of every list (default 2), whatever
// maxResults the client asks for.
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = max(n, 1) } }

// WithEmbeddedReplies sets how many replies a commentThread embeds
// (default 1): YouTube embeds only a subset and the rest must be paged
// with comments.list.
func WithEmbeddedReplies(n int) Option { return func(c *config) { c.embedded = max(n, 0) } }

// WithCommentsDisabled turns comments off on the given world posts:
// commentThreads.list answers 403 commentsDisabled for them.
func WithCommentsDisabled(worldPostIDs ...string) Option {
	return func(c *config) { c.disabled = append(c.disabled, worldPostIDs...) }
}

// WithQuota lets n API calls through; every later call answers 403
// quotaExceeded, as when the day's 10,000 units are spent.
func WithQuota(n int) Option { return func(c *config) { c.quota = n } }

// NewServer starts a fake YouTube serving w's current state.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	cfg := config{credential: DefaultCredential, pageSize: 2, embedded: 1, quota: -1}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{w: w, cfg: cfg, native: map[string]string{}, world: map[string]string{}, disabled: map[string]bool{}}
	for _, id := range cfg.disabled {
		s.disabled[id] = true
	}
	s.channel = channelID(w.Profile.ID)
	s.index()
	var h http.Handler = http.HandlerFunc(s.serve)
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		h = cfg.middleware[i](h)
	}
	counted := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(rw, r)
	})
	s.ts = httptest.NewServer(counted)
	s.URL = s.ts.URL
	return s
}

// APIBase is the api_base to register: URL + "/youtube/v3".
func (s *Server) APIBase() string { return s.URL + PathPrefix }

// Credential is the API key the server accepts ("" when it accepts any).
func (s *Server) Credential() string { return s.cfg.credential }

// ChannelID is the channel id the server gives the world's account.
func (s *Server) ChannelID() string { return s.channel }

// Account is a platforms.Account ready to capture this server.
func (s *Server) Account() platforms.Account {
	return platforms.Account{
		Platform:   platforms.YouTube,
		Handle:     customURL(s.w.Profile.Handle),
		NativeID:   s.channel,
		APIBase:    s.APIBase(),
		Credential: s.cfg.credential,
	}
}

// NativeID is the YouTube id the connector reports for a world post
// (video id) or comment (comment id; replies are "<top-level id>.<id>").
// Ids of items deleted since the server started are remembered. It
// returns "" for an id the server never saw.
func (s *Server) NativeID(worldID string) string {
	s.index()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.native[worldID]
}

// Requests is how many requests the server answered (media included).
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// index gives every visible post and comment its YouTube id.
func (s *Server) index() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.w.Posts() {
		vid := hashID("video:"+p.ID, 11)
		s.remember(p.ID, vid)
		for _, top := range s.w.Comments(p.ID, "") {
			tid := "Ug" + hashID("comment:"+top.ID, 17) + "4AaABAg"
			s.remember(top.ID, tid)
			for _, r := range s.descendants(p.ID, top.ID) {
				s.remember(r.ID, tid+"."+hashID("reply:"+r.ID, 22))
			}
		}
	}
}

func (s *Server) remember(worldID, nativeID string) {
	s.native[worldID] = nativeID
	s.world[nativeID] = worldID
}

// worldID maps a YouTube id back to the world's id.
func (s *Server) worldID(nativeID string) (string, bool) {
	s.index()
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.world[nativeID]
	return id, ok
}

// descendants lists every visible comment under parentID, depth-first,
// parents before children (YouTube shows them all as replies to the
// top-level comment).
func (s *Server) descendants(postID, parentID string) []platformtest.Comment {
	var out []platformtest.Comment
	for _, c := range s.w.Comments(postID, parentID) {
		out = append(out, c)
		out = append(out, s.descendants(postID, c.ID)...)
	}
	return out
}

// hashID derives a stable id of n URL-safe base64 characters.
func hashID(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:n]
}

// channelID is "UC" and 22 characters, like a real channel id; a world
// profile id already in that form is kept.
func channelID(profileID string) string {
	if len(profileID) == 24 && strings.HasPrefix(profileID, "UC") {
		return profileID
	}
	return "UC" + hashID("channel:"+profileID, 22)
}

func customURL(handle string) string {
	h := strings.ToLower(strings.TrimPrefix(handle, "@"))
	if h == "" {
		return ""
	}
	return "@" + h
}

func (s *Server) uploadsPlaylist() string { return "UU" + s.channel[2:] }

// serve routes a request.
func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/media/"); ok {
		s.serveMedia(rw, name)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || r.Method != http.MethodGet {
		writeError(rw, http.StatusNotFound, "NOT_FOUND", "notFound", "global", "Not Found")
		return
	}
	if !s.authorised(rw, r) {
		return
	}
	if s.cfg.quota >= 0 && s.apiCalls.Add(1) > int64(s.cfg.quota) {
		writeError(rw, http.StatusForbidden, "", "quotaExceeded", "youtube.quota",
			`The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`)
		return
	}
	q := r.URL.Query()
	if q.Get("part") == "" {
		writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "required", "global", "Required parameter: part")
		return
	}
	switch path {
	case "/channels":
		s.channels(rw, q)
	case "/playlistItems":
		s.playlistItems(rw, q)
	case "/videos":
		s.videos(rw, q)
	case "/commentThreads":
		s.commentThreads(rw, q)
	case "/comments":
		s.comments(rw, q)
	default:
		writeError(rw, http.StatusNotFound, "NOT_FOUND", "notFound", "global", "Not Found")
	}
}

// authorised checks the key parameter as Google does: none is 403
// forbidden, a wrong one 400 keyInvalid.
func (s *Server) authorised(rw http.ResponseWriter, r *http.Request) bool {
	if s.cfg.credential == "" {
		return true
	}
	key := r.URL.Query().Get("key")
	switch {
	case key == "":
		writeError(rw, http.StatusForbidden, "PERMISSION_DENIED", "forbidden", "global",
			"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		return false
	case key != s.cfg.credential:
		writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "keyInvalid", "usageLimits",
			"API key not valid. Please pass a valid API key.")
		return false
	}
	return true
}

func (s *Server) serveMedia(rw http.ResponseWriter, name string) {
	m, ok := s.w.Media(name)
	if !ok {
		http.NotFound(rw, nil)
		return
	}
	rw.Header().Set("Content-Type", m.ContentType)
	rw.Write(m.Data)
}

// writeJSON answers like Google: pretty-printed JSON, HTML escaped as
// \u003c, with a Content-Length.
func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	rw.Header().Set("Content-Length", itoa(len(b)))
	rw.WriteHeader(status)
	rw.Write(b)
}

// writeError writes Google's error body: {"error": {"code", "message",
// "errors": [{"message", "domain", "reason"}], "status"}}.
func writeError(rw http.ResponseWriter, code int, status, reason, domain, message string) {
	type detail struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}
	type body struct {
		Code    int      `json:"code"`
		Message string   `json:"message"`
		Errors  []detail `json:"errors"`
		Status  string   `json:"status,omitempty"`
	}
	writeJSON(rw, code, map[string]body{"error": {
		Code: code, Message: message, Status: status,
		Errors: []detail{{Message: message, Domain: domain, Reason: reason}},
	}})
}
