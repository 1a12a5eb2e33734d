// Package mastodontest is a fake Mastodon instance for tests: it renders a
// platformtest.World as the real REST API (accounts lookup, an account's
// statuses paged with Link headers, status context, edit history, media),
// with Mastodon's error bodies, token checks and public context limits.
package mastodontest

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// DefaultCredential is the access token a Server accepts unless
// WithCredential says otherwise.
const DefaultCredential = "mstdn-test-token-9f2Kq7LzX4"

// Server is a fake Mastodon instance serving one World.
type Server struct {
	// URL is the instance's base URL (http://127.0.0.1:port).
	URL string

	ts       *httptest.Server
	w        *platformtest.World
	cfg      config
	requests atomic.Int64
}

type config struct {
	credential   string
	authRequired bool
	pageSize     int
	publicDesc   int
	publicDepth  int
	middleware   []func(http.Handler) http.Handler
}

// Option configures a Server.
type Option func(*config)

// WithMiddleware wraps the server's handler (outermost last), e.g. with
// platformtest.Faults.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw) }
}

// WithCredential sets the access token the server accepts; "" makes a
// server with no token (Account().Credential is empty, public access only).
func WithCredential(token string) Option { return func(c *config) { c.credential = token } }

// WithAuthRequired makes the instance refuse requests without a token, as
// an instance in limited-federation ("whitelist") mode does.
func WithAuthRequired() Option { return func(c *config) { c.authRequired = true } }

// WithPageSize caps how many statuses one page holds (default 3).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithPublicContextLimits sets the descendants and depth limits of
// /context for requests without a token (default 60 and 20, as Mastodon).
func WithPublicContextLimits(descendants, depth int) Option {
	return func(c *config) { c.publicDesc, c.publicDepth = descendants, depth }
}

// NewServer starts a fake instance rendering w's current state.
func NewServer(w *platformtest.World, opts ...Option) *Server {
	cfg := config{credential: DefaultCredential, pageSize: 3, publicDesc: 60, publicDepth: 20}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{w: w, cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/accounts/lookup", s.lookup)
	mux.HandleFunc("GET /api/v1/accounts/{id}", s.accountByID)
	mux.HandleFunc("GET /api/v1/accounts/{id}/statuses", s.statuses)
	mux.HandleFunc("GET /api/v1/statuses/{id}", s.status)
	mux.HandleFunc("GET /api/v1/statuses/{id}/context", s.context)
	mux.HandleFunc("GET /api/v1/statuses/{id}/history", s.history)
	mux.HandleFunc("GET /media/{name}", s.media)
	mux.HandleFunc("/", func(rw http.ResponseWriter, _ *http.Request) { writeError(rw, http.StatusNotFound, "Record not found") })
	var h http.Handler = s.auth(mux)
	for _, mw := range cfg.middleware {
		h = mw(h)
	}
	counted := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(rw, r)
	})
	s.ts = httptest.NewServer(counted)
	s.URL = s.ts.URL
	return s
}

// APIBase is the value to register as the account's api_base.
func (s *Server) APIBase() string { return s.URL }

// Credential is the token the server accepts ("" when none).
func (s *Server) Credential() string { return s.cfg.credential }

// Account is a platforms.Account ready to capture.
func (s *Server) Account() platforms.Account {
	return platforms.Account{
		Platform:   platforms.Mastodon,
		Handle:     s.handle(),
		NativeID:   s.accountID(),
		APIBase:    s.APIBase(),
		Credential: s.cfg.credential,
	}
}

// NativeID is the status id the server gives the world post or comment
// worldID (Mastodon ids are snowflakes that grow with time).
func (s *Server) NativeID(worldID string) string {
	if n, err := strconv.ParseInt(worldID, 10, 64); err == nil && n >= 0 {
		return strconv.FormatInt(idBase+n<<16, 10)
	}
	return strconv.FormatInt(idBase+int64(hash32(worldID))<<16+1, 10)
}

const idBase = int64(110_000_000_000_000_000)

func (s *Server) worldID(native string) (string, bool) {
	n, err := strconv.ParseInt(native, 10, 64)
	if err != nil || n < idBase || (n-idBase)%(1<<16) != 0 {
		return "", false
	}
	return strconv.FormatInt((n-idBase)>>16, 10), true
}

// Requests counts the requests served (media included).
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

func (s *Server) handle() string {
	if s.w.Profile.Handle != "" {
		return strings.TrimPrefix(s.w.Profile.Handle, "@")
	}
	return "clintoncity"
}

func (s *Server) domain() string {
	return strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
}

func (s *Server) accountID() string {
	if s.w.Profile.ID != "" {
		return strconv.FormatInt(int64(hash32("acct:"+s.w.Profile.ID)), 10)
	}
	return strconv.FormatInt(int64(hash32("acct:"+s.handle())), 10)
}

func hash32(v string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(v))
	return h.Sum32()
}

// auth checks the Authorization header: a wrong token is refused even on
// public endpoints; no token is public access unless the instance
// requires one. Media files are served without checks.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/media/") {
			next.ServeHTTP(rw, r)
			return
		}
		h := r.Header.Get("Authorization")
		switch {
		case h != "" && (s.cfg.credential == "" || h != "Bearer "+s.cfg.credential):
			writeError(rw, http.StatusUnauthorized, "The access token is invalid")
			return
		case h == "" && s.cfg.authRequired:
			writeError(rw, http.StatusUnauthorized, "This API requires an authenticated user")
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func authed(r *http.Request) bool { return r.Header.Get("Authorization") != "" }

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("X-RateLimit-Limit", "300")
	rw.Header().Set("X-RateLimit-Remaining", "299")
	rw.Header().Set("X-RateLimit-Reset", time.Now().UTC().Add(5*time.Minute).Format("2006-01-02T15:04:05.000Z"))
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rw.WriteHeader(status)
	rw.Write(b)
}

func writeError(rw http.ResponseWriter, status int, msg string) {
	writeJSON(rw, status, map[string]string{"error": msg})
}

func (s *Server) lookup(rw http.ResponseWriter, r *http.Request) {
	acct := strings.TrimPrefix(r.URL.Query().Get("acct"), "@")
	if acct == "" {
		writeError(rw, http.StatusBadRequest, "Missing required parameter: acct")
		return
	}
	if local, dom, ok := strings.Cut(acct, "@"); ok && dom == s.domain() {
		acct = local // the local domain is stripped, as Mastodon does
	}
	if !strings.EqualFold(acct, s.handle()) {
		writeError(rw, http.StatusNotFound, "Record not found")
		return
	}
	writeJSON(rw, http.StatusOK, s.cityAccount())
}

func (s *Server) accountByID(rw http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != s.accountID() {
		writeError(rw, http.StatusNotFound, "Record not found")
		return
	}
	writeJSON(rw, http.StatusOK, s.cityAccount())
}

func (s *Server) media(rw http.ResponseWriter, r *http.Request) {
	m, ok := s.w.Media(r.PathValue("name"))
	if !ok {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", m.ContentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(m.Data)))
	rw.Write(m.Data)
}
