package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// CanHoldAndExport reports whether the caller may use the legal pages.
func (id *Identity) CanHoldAndExport() bool { return id != nil && slices.Contains(custody, id.Role) }

// holdsView is what holds.html gets.
type holdsView struct {
	pageData
	Holds                  []holdOut
	Matter, Query, ItemIDs string
	Problems               []string
	Notice                 string
}

// holdsPage is GET /legal/holds: every hold, and the form to place one.
func (s *Server) holdsPage(c *gin.Context) {
	s.renderHolds(c, http.StatusOK, holdsView{Notice: c.Query("done")})
}

func (s *Server) renderHolds(c *gin.Context, status int, v holdsView) {
	hs, err := s.Catalog.ListHolds(c.Request.Context(), false)
	if err != nil {
		s.internal(c, "holds page", err)
		return
	}
	v.pageData = s.base(c, "Legal holds")
	for _, h := range hs {
		v.Holds = append(v.Holds, toHoldOut(h, false))
	}
	s.renderView(c, status, "holds.html", v)
}

// placeHoldPage is POST /legal/holds.
func (s *Server) placeHoldPage(c *gin.Context) {
	v := holdsView{Matter: c.PostForm("matter"), Query: c.PostForm("query"), ItemIDs: c.PostForm("item_ids")}
	if !s.checkCSRF(c) {
		v.Problems = []string{"Your form expired. Please try again."}
		s.renderHolds(c, http.StatusForbidden, v)
		return
	}
	in := holdInput{Matter: v.Matter, Query: v.Query}
	for _, f := range strings.FieldsFunc(v.ItemIDs, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		id, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			v.Problems = []string{"Item ids must be numbers, separated by commas or spaces."}
			s.renderHolds(c, http.StatusUnprocessableEntity, v)
			return
		}
		in.ItemIDs = append(in.ItemIDs, id)
	}
	h, err := s.placeHold(c, in)
	var fe records.FieldErrors
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/legal/holds?done=hold+"+strconv.FormatUint(h.ID, 10)+"+placed")
	case errors.As(err, &fe):
		v.Problems = []string{strings.TrimPrefix(fe.Error(), "records: invalid request: ")}
		s.renderHolds(c, http.StatusUnprocessableEntity, v)
	default:
		s.internal(c, "place hold", err)
	}
}

// releaseHoldPage is POST /legal/holds/:id/release.
func (s *Server) releaseHoldPage(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if !s.checkCSRF(c) {
		s.renderHolds(c, http.StatusForbidden, holdsView{Problems: []string{"Your form expired. Please try again."}})
		return
	}
	_, err := s.releaseHold(c, id, c.PostForm("reason"))
	var fe records.FieldErrors
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/legal/holds?done=hold+"+strconv.FormatUint(id, 10)+"+released")
	case errors.As(err, &fe):
		s.renderHolds(c, http.StatusUnprocessableEntity, holdsView{Problems: []string{"Say why the hold ends."}})
	case errors.Is(err, errRequestHold), errors.Is(err, storage.ErrConflict):
		s.renderHolds(c, http.StatusConflict, holdsView{Problems: []string{err.Error()}})
	case errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such hold")
	default:
		s.internal(c, "release hold", err)
	}
}
