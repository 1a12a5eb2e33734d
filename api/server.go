// Package api is civicarchive's web surface: the gin router, JSON API,
// server-rendered HTML pages, probes and the one authorisation middleware
// every non-public route goes through. Only this package imports gin.
package api

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/policy"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is everything the web surface needs, built by cmd/civicarchive.
type Deps struct {
	Catalog      *storage.Catalog
	Blobs        blob.Store
	Log          *slog.Logger
	Metrics      *Metrics
	Version      string
	SessionTTL   time.Duration
	CookieSecure bool
	MaxBodyBytes int64
	// Archiver starts captures and knows the platforms' connectors.
	Archiver *archiver.Archiver
	// Sealer encrypts platform credentials before they are stored.
	Sealer *storage.Sealer
	// OnAccountChange, if set, is told of a new or changed account (serve
	// puts it on the schedule).
	OnAccountChange func(storage.Account) error
	// Search answers searches; Location is the city's time zone (dates in
	// filters are the city's days).
	Search   *search.Index
	Location *time.Location
	// Records is the records office (requests, the GRAMA clock, letters).
	Records *records.Office
	// FormsPerHour limits records requests filed from one network address;
	// MaxDescription is the longest description accepted.
	FormsPerHour   int
	MaxDescription int
	// ObjectLock: the blob store's bucket has S3 Object Lock, so legal
	// holds are mirrored onto object legal holds.
	ObjectLock bool
	// Policy serves the social media policy: directory, plans, designated
	// users, custodians, screening review, removal records.
	Policy *policy.Office
	// TrustedProxies are the addresses or CIDR ranges of the reverse
	// proxies in front of the server, whose X-Forwarded-For is believed;
	// none by default.
	TrustedProxies []string
	// DirectoryFrameAncestors are the origins allowed to embed the public
	// directory in a frame (the city's website); every other page refuses
	// framing.
	DirectoryFrameAncestors []string
}

// Server is the HTTP handler of civicarchive.
type Server struct {
	Deps
	engine        *gin.Engine
	pages         *template.Template
	formLimiter   *addressLimiter
	lookupLimiter *addressLimiter
	loginLimiter  *addressLimiter
}

// New builds the router with every route of routes.go.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(d.Version)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 12 * time.Hour
	}
	pages, err := template.New("").Funcs(template.FuncMap{"has": slices.Contains[[]string], "money": records.Money, "label": records.Label,
		"deref": func(p *uint64) uint64 { return *p }, "platformName": platformName, "categoryName": categoryName}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	collectors := []prometheus.Collector{newAccountHealth(d.Catalog)}
	if d.Search != nil {
		collectors = append(collectors, newIndexLag(d.Catalog, d.Search))
	}
	if d.Records != nil {
		collectors = append(collectors, newRequestGauges(d.Catalog, d.Records))
	}
	for _, c := range collectors {
		if err := d.Metrics.reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	gin.SetMode(gin.ReleaseMode)
	if d.FormsPerHour <= 0 {
		d.FormsPerHour = 5
	}
	s := &Server{Deps: d, engine: gin.New(), pages: pages,
		formLimiter:   newAddressLimiter(d.FormsPerHour, time.Hour),
		lookupLimiter: newAddressLimiter(60, time.Hour),
		loginLimiter:  newAddressLimiter(30, 15*time.Minute)}
	s.engine.HandleMethodNotAllowed = true
	// The client's address (per-address limits, logs) is the connection's
	// unless it comes through a proxy listed in TrustedProxies: by default
	// an X-Forwarded-For header is not believed, so a client cannot name
	// itself a new address to escape the limits.
	if err := s.engine.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// Handlers pass c.Request.Context() to storage, never c itself: gin
	// recycles Contexts after the request, and the SQLite driver watches
	// ctx.Done() from its own goroutine.
	s.engine.Use(s.recoverPanics, s.observe, securityHeaders, s.limitBody)
	static, _ := fs.Sub(staticFS, "static")
	s.engine.StaticFS("/static", http.FS(static))
	for _, rt := range s.routes() {
		s.engine.Handle(rt.Method, rt.Path, s.authorize(rt), rt.handler)
	}
	s.engine.NoRoute(func(c *gin.Context) { s.fail(c, http.StatusNotFound, "not_found", "no such page") })
	s.engine.NoMethod(func(c *gin.Context) {
		s.fail(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed here")
	})
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// recoverPanics turns a panic into a plain 500 and logs the stack; the client
// never sees internals.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.Log.Error("panic in handler", "path", c.FullPath(), "panic", v, "stack", string(debug.Stack()))
			s.fail(c, http.StatusInternalServerError, "internal", "internal error")
			c.Abort()
		}
	}()
	c.Next()
}

// observe logs each request and counts it for Prometheus, by route
// template (not raw path) so metrics stay bounded.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	d := time.Since(start)
	s.Metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	s.Metrics.duration.WithLabelValues(c.Request.Method, route).Observe(d.Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	// The path only, never the query: it can carry an e-mail or a token.
	s.Log.Log(c, level, "http request", "method", c.Request.Method, "route", route,
		"path", c.Request.URL.Path, "status", status, "duration_ms", d.Milliseconds(), "remote", c.ClientIP())
}

// securityHeaders are sent on every response.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}

// limitBody caps every request body; reading past it fails and the handler
// answers 413.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.MaxBodyBytes {
		s.fail(c, http.StatusRequestEntityTooLarge, "too_large", "request body too large")
		c.Abort()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.MaxBodyBytes)
	c.Next()
}
