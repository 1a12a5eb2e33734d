package api

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// pageData is what every page template gets.
type pageData struct {
	Title    string
	Message  string
	Error    string
	Who      *Identity
	CSRF     string
	Next     string
	Username string
	Version  string
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (s *Server) render(c *gin.Context, status int, name string, d pageData) {
	if d.Who == nil {
		d.Who = identity(c)
	}
	d.Version = s.Version
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, d); err != nil {
		s.Log.Error("render page", "page", name, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) home(c *gin.Context) {
	s.render(c, http.StatusOK, "home.html", pageData{Title: "Official social media records", CSRF: s.csrfToken(c)})
}

func (s *Server) loginPage(c *gin.Context) {
	if identity(c) != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.render(c, http.StatusOK, "login.html", pageData{Title: "Sign in", CSRF: s.csrfToken(c), Next: safeNext(c.Query("next"))})
}

// login checks the password and starts a session (POST → redirect → GET).
func (s *Server) login(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	username := strings.TrimSpace(c.PostForm("username"))
	again := func(status int, msg string) {
		s.render(c, status, "login.html", pageData{Title: "Sign in", Error: msg, CSRF: s.csrfToken(c), Next: next, Username: username})
	}
	if !s.checkCSRF(c) {
		again(http.StatusForbidden, "Your form expired. Please try again.")
		return
	}
	if !s.loginLimiter.allow(c.ClientIP()) {
		s.Log.Warn("login refused: too many attempts from one address", "remote", c.ClientIP())
		c.Header("Retry-After", "900")
		again(http.StatusTooManyRequests, "Too many sign-in attempts from your network. Please wait 15 minutes.")
		return
	}
	u, err := s.Catalog.Authenticate(c.Request.Context(), username, c.PostForm("password"))
	if errors.Is(err, storage.ErrLocked) {
		s.Log.Warn("login refused: user locked out", "username_len", len(username))
		c.Header("Retry-After", "900")
		again(http.StatusTooManyRequests, "Too many failed sign-ins for this user. Please wait 15 minutes, or ask an administrator.")
		return
	}
	if errors.Is(err, storage.ErrBadCredentials) {
		s.Log.Info("login failed", "username_len", len(username))
		again(http.StatusUnauthorized, "Wrong username or password.")
		return
	}
	if err != nil {
		s.internal(c, "login", err)
		return
	}
	cookie, _, err := s.Catalog.CreateSession(c.Request.Context(), u.ID, s.SessionTTL)
	if err != nil {
		s.internal(c, "create session", err)
		return
	}
	s.setCookie(c, sessionCookie, cookie, int(s.SessionTTL.Seconds()))
	s.setCookie(c, csrfCookie, "", -1)
	s.Log.Info("login", "user_id", u.ID, "role", u.Role)
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c *gin.Context) {
	if !s.checkCSRF(c) {
		s.fail(c, http.StatusForbidden, "csrf", "Your form expired. Please try again.")
		return
	}
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := s.Catalog.DeleteSession(c.Request.Context(), cookie); err != nil {
			s.internal(c, "logout", err)
			return
		}
	}
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}
