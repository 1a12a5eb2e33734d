// Package feedtest is a fake city website for the feed connector: an
// httptest.Server rendering a platformtest.World's current posts as an
// RSS 2.0 feed (/rss.xml) and as an RFC 5005 paged Atom 1.0 feed
// (/atom.xml, rel="next", a few entries a page), with the media files at
// /media/<name>. World comments are ignored: feeds have none.
package feedtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// DefaultPageSize is how many entries one Atom page holds.
const DefaultPageSize = 3

// Server is the fake website. Create it with NewServer and Close it.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:1234.
	URL string

	world    *platformtest.World
	srv      *httptest.Server
	requests atomic.Int64
	cfg      config
}

type config struct {
	middleware []func(http.Handler) http.Handler
	credential string
	pageSize   int
	rssLimit   int
	archived   bool
}

// Option changes how the server behaves.
type Option func(*config)

// WithMiddleware wraps the server's handler (e.g. with platformtest.Faults).
// Several wrap in order: the first given is the outermost.
func WithMiddleware(m func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, m) }
}

// WithCredential makes the feeds private: every feed request must carry
// "Authorization: Bearer <cred>", or gets 401 with WWW-Authenticate.
func WithCredential(cred string) Option { return func(c *config) { c.credential = cred } }

// WithPageSize sets the entries per Atom page (DefaultPageSize when < 1).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithRSSLimit makes /rss.xml show only the latest n entries, as most
// real feeds do (0: all of them).
func WithRSSLimit(n int) Option { return func(c *config) { c.rssLimit = n } }

// WithArchives makes /atom.xml an RFC 5005 archived feed: the subscription
// document links older entries with rel="prev-archive" to archive
// documents (marked <fh:archive/>) instead of rel="next".
func WithArchives() Option { return func(c *config) { c.archived = true } }

// NewServer starts a server for w.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	s := &Server{world: w, cfg: config{pageSize: DefaultPageSize}}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.pageSize < 1 {
		s.cfg.pageSize = DefaultPageSize
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rss.xml", s.auth(s.serveRSS))
	mux.HandleFunc("GET /atom.xml", s.auth(s.serveAtom))
	mux.HandleFunc("GET /media/{name}", s.serveMedia)
	var h http.Handler = mux
	for i := len(s.cfg.middleware) - 1; i >= 0; i-- {
		h = s.cfg.middleware[i](h)
	}
	counted := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(rw, r)
	})
	s.srv = httptest.NewServer(counted)
	s.URL = s.srv.URL
	return s
}

// APIBase is the server's base URL. Feed accounts are identified by the
// feed URL alone (Account's Handle is absolute, so APIBase is not needed);
// a Handle that is just a path ("/atom.xml") is joined to it.
func (s *Server) APIBase() string { return s.URL }

// Credential is the credential the server accepts ("" when the feeds are
// public).
func (s *Server) Credential() string { return s.cfg.credential }

// Account is a feed account for the paged Atom feed: Handle and NativeID
// are the feed URL.
func (s *Server) Account() platforms.Account {
	return s.account("/atom.xml")
}

// RSSAccount is a feed account for the RSS 2.0 feed.
func (s *Server) RSSAccount() platforms.Account {
	return s.account("/rss.xml")
}

func (s *Server) account(path string) platforms.Account {
	return platforms.Account{
		Platform:   platforms.Feed,
		Handle:     s.URL + path,
		NativeID:   s.URL + path,
		APIBase:    s.URL,
		Credential: s.cfg.credential,
	}
}

// NativeID is the guid / id the feeds give the world post worldID.
func (s *Server) NativeID(worldID string) string {
	return "tag:clinton.example,2024:news/" + worldID
}

// MediaURL is where the server serves the world media file name.
func (s *Server) MediaURL(name string) string { return s.URL + "/media/" + name }

// PostURL is the website page of the world post worldID (entries' link).
func (s *Server) PostURL(worldID string) string { return s.URL + "/news/" + worldID }

// Requests is how many requests the server has received.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// auth refuses feed requests without the right bearer credential.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.credential != "" && r.Header.Get("Authorization") != "Bearer "+s.cfg.credential {
			w.Header().Set("WWW-Authenticate", `Bearer realm="news"`)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, "<!DOCTYPE html><html><head><title>401 Unauthorized</title></head><body><h1>Unauthorized</h1></body></html>\n")
			return
		}
		h(w, r)
	}
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	m, ok := s.world.Media(r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.Data)))
	w.Write(m.Data)
}

// page reads ?page=N (1 when absent); ok is false for a bad value.
func page(r *http.Request) (int, bool) {
	v := strings.TrimSpace(r.URL.Query().Get("page"))
	if v == "" {
		return 1, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1
}
