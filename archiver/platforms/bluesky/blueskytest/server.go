// Package blueskytest serves a platformtest.World as the Bluesky AppView
// does: app.bsky.actor.getProfile, app.bsky.feed.getAuthorFeed (opaque
// cursor, small pages, filters) and app.bsky.feed.getPostThread (nested
// replies, depth, threadgate hiddenReplies), with XRPC error bodies, and
// media files at /media/<name>.
//
// Posts are at://<did>/app.bsky.feed.post/<rkey> with TID record keys; a
// post's cid is a hash of its content, so an edited World post keeps its
// uri and gets a new cid. Deleted posts and replies disappear; a deleted
// thread root answers 400 {"error":"NotFound"}.
package blueskytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// DefaultHandle is the account's handle when the World's profile has none.
const DefaultHandle = "clintoncity.bsky.social"

// Server is a fake Bluesky AppView rendering a World's current state.
type Server struct {
	// URL is the server's base URL (also the api_base: XRPC paths sit at
	// /xrpc/ under the host, as on the real AppView).
	URL string

	srv      *httptest.Server
	w        *platformtest.World
	did      string
	handle   string
	cred     string
	pageSize int
	repost   bool
	mw       []func(http.Handler) http.Handler
	reqs     atomic.Int64

	mu      sync.Mutex
	authors map[string]string // world comment id → author did, kept after deletion
}

// Option configures a Server.
type Option func(*Server)

// WithMiddleware wraps the server's handler, e.g. with platformtest.Faults.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.mw = append(s.mw, mw) }
}

// WithCredential makes the server demand "Authorization: Bearer cred" on
// XRPC calls, as an authenticated AppView or PDS proxy does; others get
// 401 AuthMissing or InvalidToken. The public AppView needs none.
func WithCredential(cred string) Option { return func(s *Server) { s.cred = cred } }

// WithPageSize sets the most feed items per page (default 2), whatever
// limit the client asks for.
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// WithRepost puts a repost of another account's old post at the top of
// the author feed (reason app.bsky.feed.defs#reasonRepost).
func WithRepost() Option { return func(s *Server) { s.repost = true } }

// NewServer starts a server for w. Close it when done.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	s := &Server{w: w, pageSize: 2, authors: map[string]string{}}
	for _, o := range opts {
		o(s)
	}
	s.handle = w.Profile.Handle
	if s.handle == "" {
		s.handle = DefaultHandle
	}
	s.did = w.Profile.ID
	if !strings.HasPrefix(s.did, "did:") {
		s.did = didFor("account:" + s.handle)
	}
	s.remember()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /xrpc/app.bsky.actor.getProfile", s.auth(s.getProfile))
	mux.HandleFunc("GET /xrpc/app.bsky.feed.getAuthorFeed", s.auth(s.getAuthorFeed))
	mux.HandleFunc("GET /xrpc/app.bsky.feed.getPostThread", s.auth(s.getPostThread))
	mux.HandleFunc("/xrpc/", func(w http.ResponseWriter, _ *http.Request) {
		xrpcErr(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
	})
	mux.HandleFunc("GET /media/{name}", s.media)
	var h http.Handler = mux
	for i := len(s.mw) - 1; i >= 0; i-- {
		h = s.mw[i](h)
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		h.ServeHTTP(w, r)
	})
	s.srv = httptest.NewServer(counted)
	s.URL = s.srv.URL
	return s
}

// APIBase is the value to register as the account's api_base.
func (s *Server) APIBase() string { return s.URL }

// Credential is the bearer token the server accepts ("" when none).
func (s *Server) Credential() string { return s.cred }

// DID is the account's did.
func (s *Server) DID() string { return s.did }

// Account is a platforms.Account ready to capture.
func (s *Server) Account() platforms.Account {
	return platforms.Account{Platform: platforms.Bluesky, Handle: s.handle, NativeID: s.did, APIBase: s.APIBase(), Credential: s.cred}
}

// NativeID is the at:// uri the connector reports for a World post or
// comment id (also for ones deleted since the server last saw them).
func (s *Server) NativeID(worldID string) string {
	s.remember()
	s.mu.Lock()
	author, ok := s.authors[worldID]
	s.mu.Unlock()
	if !ok {
		author = s.did // posts are the account's
	}
	return postURI(author, worldID)
}

// Requests counts every request served (media included).
func (s *Server) Requests() int { return int(s.reqs.Load()) }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// remember records the author of every visible comment, so that uris of
// comments deleted later can still be named.
func (s *Server) remember() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.w.Posts() {
		for _, c := range s.w.Thread(p.ID) {
			s.authors[c.ID] = s.authorDID(c)
		}
	}
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cred != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			switch {
			case !ok || got == "":
				xrpcErr(w, http.StatusUnauthorized, "AuthMissing", "Authentication Required")
				return
			case got != s.cred:
				xrpcErr(w, http.StatusUnauthorized, "InvalidToken", "Token could not be verified")
				return
			}
		}
		s.remember()
		h(w, r)
	}
}

// xrpcErr writes an XRPC error body.
func xrpcErr(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, map[string]string{"error": name, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) knownActor(actor string) bool {
	return actor == s.did || strings.EqualFold(actor, s.handle)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	actor := r.URL.Query().Get("actor")
	switch {
	case actor == "":
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", `Error: Params must have the property "actor"`)
	case !s.knownActor(actor):
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", "Profile not found")
	default:
		writeJSON(w, http.StatusOK, s.profileView())
	}
}

func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	m, ok := s.w.Media(r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.Data)))
	w.Write(m.Data)
}

// intParam reads an integer parameter within [lo, hi], def when absent;
// msg is the XRPC InvalidRequest message when it is not valid.
func intParam(r *http.Request, name string, def, lo, hi int) (n int, msg string) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, ""
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("Error: %s must be an integer", name)
	case n < lo:
		return 0, fmt.Sprintf("Error: %s can not be less than %d", name, lo)
	case n > hi:
		return 0, fmt.Sprintf("Error: %s can not be greater than %d", name, hi)
	}
	return n, ""
}

func (s *Server) getAuthorFeed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	actor := q.Get("actor")
	if actor == "" {
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", `Error: Params must have the property "actor"`)
		return
	}
	limit, msg := intParam(r, "limit", 50, 1, 100)
	if msg != "" {
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	if !s.knownActor(actor) {
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", "Profile not found")
		return
	}
	var after *feedKey
	if c := q.Get("cursor"); c != "" {
		k, ok := parseCursor(c)
		if !ok {
			xrpcErr(w, http.StatusBadRequest, "InvalidRequest", "Malformed cursor")
			return
		}
		after = &k
	}
	filter := q.Get("filter")
	if filter == "" {
		filter = "posts_with_replies"
	}
	n := min(limit, s.pageSize)
	var page []any
	var last feedKey
	for _, e := range s.feed(filter) {
		if after != nil && !e.key.before(*after) {
			continue
		}
		if len(page) == n {
			break
		}
		page = append(page, e.item)
		last = e.key
	}
	out := map[string]any{"feed": page}
	if page == nil {
		out["feed"] = []any{}
	}
	if len(page) == n && n > 0 {
		out["cursor"] = last.cursor()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPostThread(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("uri")
	if uri == "" {
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", `Error: Params must have the property "uri"`)
		return
	}
	depth, msg := intParam(r, "depth", 6, 0, 1000)
	if msg == "" {
		_, msg = intParam(r, "parentHeight", 80, 0, 1000)
	}
	if msg != "" {
		xrpcErr(w, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	thread, tg, ok := s.thread(uri, depth)
	if !ok {
		xrpcErr(w, http.StatusBadRequest, "NotFound", "Post not found: "+uri)
		return
	}
	out := map[string]any{"thread": thread}
	if tg != nil {
		out["threadgate"] = tg
	}
	writeJSON(w, http.StatusOK, out)
}
