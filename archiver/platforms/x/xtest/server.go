// Package xtest is a fake X API v2 for tests: an httptest server that
// renders a platformtest.World's current state with X's real paths, JSON
// shapes, pagination, edit chains (each edit a new tweet id), t.co links,
// @mention-prefixed replies, partial errors, the 7-day window of recent
// search, the 3,200-post timeline cap and bearer-token auth.
package xtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	mw       []func(http.Handler) http.Handler
	now      func() time.Time
	cap      int
	pageSize int
}

// WithMiddleware wraps the server's handler (e.g. with platformtest.Faults).
// Middlewares see every request, media included, before auth is checked.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) { c.mw = append(c.mw, mw) }
}

// WithNow sets the server's clock (default time.Now), which decides what
// /2/tweets/search/recent still sees (the last 7 days).
func WithNow(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTimelineCap sets how many of the newest posts the timeline reaches
// (X: 3,200).
func WithTimelineCap(n int) Option { return func(c *config) { c.cap = n } }

// WithPageSize sets the most tweets a page holds (default 3).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// Server is a fake X API v2 serving a World.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL      string
	ts       *httptest.Server
	w        *platformtest.World
	cfg      config
	cred     string
	requests atomic.Int64
}

// NewServer starts a fake X API for w.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	s := &Server{w: w, cfg: config{now: time.Now, cap: 3200, pageSize: 3}}
	for _, o := range opts {
		o(&s.cfg)
	}
	b := make([]byte, 24)
	rand.Read(b)
	s.cred = "AAAAAAAAAAAAAAAAAAAAA" + hex.EncodeToString(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2/users/by/username/{username}", s.userByName)
	mux.HandleFunc("GET /2/users/{id}/tweets", s.timeline)
	mux.HandleFunc("GET /2/tweets/search/recent", s.search(true))
	mux.HandleFunc("GET /2/tweets/search/all", s.search(false))
	mux.HandleFunc("GET /2/tweets", s.lookup)
	mux.HandleFunc("GET /media/{name}", s.media)
	var h http.Handler = s.auth(mux)
	for _, mw := range s.cfg.mw {
		h = mw(h)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(rw, r)
	}))
	s.URL = s.ts.URL
	return s
}

// APIBase is the value to register as the account's api_base.
func (s *Server) APIBase() string { return s.URL }

// Credential is the bearer token the server accepts.
func (s *Server) Credential() string { return s.cred }

// Account is a platforms.Account ready to capture.
func (s *Server) Account() platforms.Account {
	return platforms.Account{Platform: platforms.X, Handle: s.w.Profile.Handle, NativeID: s.accountID(),
		APIBase: s.APIBase(), Credential: s.cred}
}

// NativeID is the native id the connector reports for a world post or
// comment: the first tweet id of its edit chain.
func (s *Server) NativeID(worldID string) string { return tweetID(worldID, 0) }

// VersionID is the tweet id of version v (0 = original) of a world item.
func (s *Server) VersionID(worldID string, v int) string { return tweetID(worldID, v) }

// Text is the text X shows for a visible world post or comment: replies
// start with the @mention of whom they answer, links are t.co links.
func (s *Server) Text(worldID string) string {
	n, ok := s.node(worldID)
	if !ok {
		return ""
	}
	return s.render(n, n.versions()-1).Text
}

// Username is the X username the server gives a world comment author
// (the display name, as AuthorName, reduced to [A-Za-z0-9_]).
func (s *Server) Username(authorName string) string { return username(authorName) }

// Requests counts the requests served (media included).
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// auth checks the bearer token on API paths; media are public.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/media/") && r.Header.Get("Authorization") != "Bearer "+s.cred {
			rw.Header().Set("Content-Type", "application/problem+json")
			rw.WriteHeader(http.StatusUnauthorized)
			rw.Write([]byte(`{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`))
			return
		}
		next.ServeHTTP(rw, r)
	})
}

// writeJSON answers 200 with v, UTF-8 unescaped as X sends it, and the rate
// headers (budget never spent).
func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("x-rate-limit-limit", "900")
	rw.Header().Set("x-rate-limit-remaining", "899")
	rw.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Add(15*time.Minute).Unix(), 10))
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	rw.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	rw.WriteHeader(status)
	rw.Write([]byte(b.String()))
}

// invalid answers X's 400 for a bad parameter.
func invalid(rw http.ResponseWriter, param, value, msg string) {
	writeJSON(rw, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"parameters": map[string][]string{param: {value}}, "message": msg}},
		"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
		"type": "https://api.twitter.com/2/problems/invalid-request",
	})
}

// notFound is X's partial error for a missing resource.
func notFound(kind, param, value string) jsonProblem {
	return jsonProblem{Value: value, Detail: "Could not find " + kind + " with " + param + ": [" + value + "].",
		Title: "Not Found Error", ResourceType: kind, Parameter: param, ResourceID: value,
		Type: "https://api.twitter.com/2/problems/resource-not-found"}
}

func (s *Server) accountID() string {
	p := s.w.Profile
	if _, err := strconv.ParseUint(p.ID, 10, 64); err == nil && p.ID != "" {
		return p.ID
	}
	return userID("account:" + p.Handle)
}

// accountUser is the account's User object.
func (s *Server) accountUser() jsonUser {
	p := s.w.Profile
	u := jsonUser{ID: s.accountID(), Name: p.DisplayName, Username: p.Handle, Description: p.Description, Verified: true}
	if _, ok := s.w.Media("avatar.jpg"); ok {
		u.ProfileImageURL = s.URL + "/media/avatar.jpg"
	}
	if p.Website != "" {
		short := shorten(p.Website)
		u.URL = short
		u.Entities = &jsonUserEnts{URL: &jsonEntities{URLs: []jsonURL{{Start: 0, End: len(short), URL: short,
			ExpandedURL: p.Website, DisplayURL: strings.TrimPrefix(p.Website, "https://")}}}}
	}
	return u
}

// isAccount says whether a world comment author is the account itself.
func (s *Server) isAccount(author, name string) bool {
	p := s.w.Profile
	return (name != "" && (name == p.DisplayName || name == p.Handle)) || author == "u"+p.Handle
}

// user is the User object of a node's author.
func (s *Server) user(n node) jsonUser {
	if n.post || s.isAccount(n.author, n.name) {
		return s.accountUser()
	}
	return jsonUser{ID: userID(n.author), Name: n.name, Username: username(n.name)}
}

func (s *Server) userByName(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if !strings.EqualFold(name, s.w.Profile.Handle) {
		writeJSON(rw, http.StatusOK, map[string]any{"errors": []jsonProblem{notFound("user", "username", name)}})
		return
	}
	writeJSON(rw, http.StatusOK, map[string]any{"data": s.accountUser()})
}
