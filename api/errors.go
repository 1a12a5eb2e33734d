package api

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// errorBody is the JSON error shape of the contract.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// fail answers an error: JSON for the API and probes, an HTML page for pages.
// The message must be safe to show: internal errors are logged, never sent.
func (s *Server) fail(c *gin.Context, status int, code, msg string, fields ...string) {
	if wantsHTML(c) {
		c.Status(status)
		s.render(c, status, "error.html", pageData{Title: http.StatusText(status), Message: msg})
		return
	}
	c.JSON(status, errorBody{Error: errorDetail{Code: code, Message: msg, Fields: fields}})
}

// internal logs err and answers a bare 500.
func (s *Server) internal(c *gin.Context, what string, err error) {
	s.Log.Error(what, "route", c.FullPath(), "err", err)
	s.fail(c, http.StatusInternalServerError, "internal", "internal error")
}

// wantsHTML: everything outside /api/ and the probes is a page.
func wantsHTML(c *gin.Context) bool {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
		return false
	}
	return true
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// invalid answers 422 naming every offending field, sorted.
func (s *Server) invalid(c *gin.Context, problems map[string]string) {
	fields := make([]string, 0, len(problems))
	for f := range problems {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	msgs := make([]string, 0, len(fields))
	for _, f := range fields {
		msgs = append(msgs, f+" "+problems[f])
	}
	s.fail(c, http.StatusUnprocessableEntity, "invalid", strings.Join(msgs, "; "), fields...)
}

// pathID reads the :id path parameter; a malformed one is a 404 (there is
// no such thing), never a 500.
func (s *Server) pathID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 63)
	if err != nil || id == 0 {
		s.fail(c, http.StatusNotFound, "not_found", "no such "+strings.TrimSuffix(strings.Split(strings.TrimPrefix(c.FullPath(), "/api/v1/"), "/")[0], "s"))
		return 0, false
	}
	return id, true
}

// found answers a failed lookup: 404 naming what is missing, or a plain
// 500. It returns true when the lookup succeeded.
func (s *Server) found(c *gin.Context, what string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such "+what)
	default:
		s.internal(c, "get "+what, err)
	}
	return false
}
