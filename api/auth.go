package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

const (
	sessionCookie = "civicarchive_session"
	csrfCookie    = "civicarchive_csrf" // anonymous forms: double-submit token
	csrfField     = "csrf_token"
	identityKey   = "civicarchive.identity"
)

// Identity is the authenticated caller.
type Identity struct {
	Kind string // "session" or "token"
	Name string // username or token name
	Role string
	// Department is a department head's department: it sees and manages
	// only that department's accounts.
	Department string
	UserID     uint64
	Display    string // the user's display name, for letters they sign
	session    *storage.Session
}

// Actor is how the caller is named in the custody log.
func (id *Identity) Actor() string {
	if id.Kind == "token" {
		return "token:" + id.Name
	}
	return "user:" + id.Name
}

// identity returns the caller, or nil when anonymous.
func identity(c *gin.Context) *Identity {
	v, ok := c.Get(identityKey)
	if !ok {
		return nil
	}
	return v.(*Identity)
}

// authorize is the one middleware every route goes through: it identifies
// the caller (bearer token for the JSON API, session cookie for pages) and,
// unless the route is public, refuses a caller without one of its roles.
func (s *Server) authorize(rt Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := s.identify(c, rt.HTML)
		if err != nil && !errors.Is(err, storage.ErrBadCredentials) {
			s.Log.Error("identify caller", "err", err)
			s.fail(c, http.StatusServiceUnavailable, "unavailable", "cannot check credentials now")
			c.Abort()
			return
		}
		if id != nil {
			c.Set(identityKey, id)
		}
		if rt.Access == Public {
			c.Next()
			return
		}
		switch {
		case id == nil && rt.HTML && c.Request.Method == http.MethodGet:
			c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
		case id == nil:
			c.Header("WWW-Authenticate", `Bearer realm="civicarchive"`)
			s.fail(c, http.StatusUnauthorized, "unauthorized", "sign in or send a valid API token")
			c.Abort()
		case !slices.Contains(rt.Roles, id.Role):
			s.fail(c, http.StatusForbidden, "forbidden", "your role may not do this")
			c.Abort()
		case !s.auditRead(c, rt, id):
			s.fail(c, http.StatusServiceUnavailable, "unavailable", "cannot record this read in the audit log now; try again")
			c.Abort()
		default:
			c.Next()
		}
	}
}

// auditRead records a read of non-public content (a GET of a route that
// needs a role) in the custody log before it happens: no one reads
// evidence or residents' data without a trace. The caller's own identity
// (/api/v1/me) is not such content. False when the event could not be
// written; the read is then refused.
func (s *Server) auditRead(c *gin.Context, rt Route, id *Identity) bool {
	if c.Request.Method != http.MethodGet || rt.Path == "/api/v1/me" {
		return true
	}
	query := c.Request.URL.RawQuery
	if len(query) > 1000 {
		query = query[:1000] + "…"
	}
	_, err := s.Catalog.AppendCustody(c.Request.Context(), storage.NewEvent{Kind: "read", Actor: id.Actor(),
		SubjectType: "route", SubjectID: rt.Method + " " + rt.Path,
		Details: map[string]any{"path": c.Request.URL.Path, "query": query, "role": id.Role}})
	if err != nil {
		s.Log.Error("audit read", "route", rt.Path, "err", err)
		return false
	}
	return true
}

// identify resolves the caller from a bearer token (JSON API) or the session
// cookie (pages). A presented but bad credential is ErrBadCredentials.
func (s *Server) identify(c *gin.Context, html bool) (*Identity, error) {
	if !html {
		h := c.GetHeader("Authorization")
		if h == "" {
			return nil, nil
		}
		plain, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, storage.ErrBadCredentials
		}
		t, err := s.Catalog.TokenByPlain(c.Request.Context(), strings.TrimSpace(plain))
		if err != nil {
			return nil, err
		}
		id := &Identity{Kind: "token", Name: t.Name, Role: t.Role, Department: t.Department}
		if t.UserID != nil {
			id.UserID = *t.UserID
		}
		return id, nil
	}
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie == "" {
		return nil, nil
	}
	sess, err := s.Catalog.SessionByPlain(c.Request.Context(), cookie)
	if err != nil {
		if errors.Is(err, storage.ErrBadCredentials) {
			return nil, nil // stale cookie: treat as signed out
		}
		return nil, err
	}
	return &Identity{Kind: "session", Name: sess.User.Username, Role: sess.User.Role, Department: sess.User.Department, UserID: sess.UserID,
		Display: sess.User.DisplayName, session: sess}, nil
}

// csrfToken returns the token forms must carry: the session's own when
// signed in, else a double-submit cookie set here.
func (s *Server) csrfToken(c *gin.Context) string {
	if id := identity(c); id != nil && id.session != nil {
		return id.session.CSRFToken
	}
	if v, err := c.Cookie(csrfCookie); err == nil && len(v) >= 32 {
		return v
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(c, csrfCookie, v, 0)
	return v
}

// checkCSRF compares the form's token with the expected one in constant time.
func (s *Server) checkCSRF(c *gin.Context) bool {
	got := c.PostForm(csrfField)
	var want string
	if id := identity(c); id != nil && id.session != nil {
		want = id.session.CSRFToken
	} else if v, err := c.Cookie(csrfCookie); err == nil {
		want = v
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.CookieSecure, SameSite: http.SameSiteLaxMode,
	})
}

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
