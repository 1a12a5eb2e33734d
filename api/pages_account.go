package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// passwordView is what account_password.html gets.
type passwordView struct {
	pageData
	Problems []string
	Done     bool
}

// passwordPage is GET /account/password: a signed-in user changes their
// own password.
func (s *Server) passwordPage(c *gin.Context) {
	s.renderView(c, http.StatusOK, "account_password.html", passwordView{pageData: s.base(c, "Change your password"), Done: c.Query("done") != ""})
}

// changePassword is POST /account/password: the current password, then
// the new one twice. Every other session of the user ends. Wrong current
// passwords count against the same per-address limit as sign-ins.
func (s *Server) changePassword(c *gin.Context) {
	again := func(status int, msg string) {
		s.renderView(c, status, "account_password.html", passwordView{pageData: s.base(c, "Change your password"), Problems: []string{msg}})
	}
	id := identity(c)
	if id.session == nil {
		s.fail(c, http.StatusForbidden, "forbidden", "sign in to change your password")
		return
	}
	if !s.checkCSRF(c) {
		again(http.StatusForbidden, "Your form expired. Please try again.")
		return
	}
	if !s.loginLimiter.allow(c.ClientIP()) {
		c.Header("Retry-After", "900")
		again(http.StatusTooManyRequests, "Too many attempts from your network. Please wait 15 minutes.")
		return
	}
	next := c.PostForm("new_password")
	if next != c.PostForm("confirm_password") {
		again(http.StatusUnprocessableEntity, "The new password and its confirmation differ.")
		return
	}
	err := s.Catalog.ChangePassword(c.Request.Context(), id.UserID, c.PostForm("current_password"), next, id.session.ID)
	switch {
	case err == nil:
		s.Log.Info("password changed", "user_id", id.UserID)
		c.Redirect(http.StatusSeeOther, "/account/password?done=1")
	case errors.Is(err, storage.ErrBadCredentials):
		again(http.StatusUnauthorized, "Your current password is wrong.")
	case errors.Is(err, storage.ErrWeakPassword):
		again(http.StatusUnprocessableEntity, "The new password must be at least 12 characters.")
	default:
		s.internal(c, "change password", err)
	}
}
