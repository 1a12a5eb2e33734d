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
		id, err := strconv.ParseUint(f, 10, 63)
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

// exportsView is what exports.html gets.
type exportsView struct {
	pageData
	Exports                   []exportOut
	Holds                     []holdOut
	Query, From, To, Platform string
	Matter, HoldID            string
	Problems                  []string
}

// exportsPage is GET /legal/exports: every export and the form to start one.
func (s *Server) exportsPage(c *gin.Context) {
	s.renderExports(c, http.StatusOK, exportsView{})
}

func (s *Server) renderExports(c *gin.Context, status int, v exportsView) {
	es, err := s.Records.Exports(c.Request.Context(), 200)
	if err != nil {
		s.internal(c, "exports page", err)
		return
	}
	hs, err := s.Catalog.ListHolds(c.Request.Context(), true)
	if err != nil {
		s.internal(c, "exports page", err)
		return
	}
	v.pageData = s.base(c, "Exports")
	for _, e := range es {
		v.Exports = append(v.Exports, toExportOut(e))
	}
	for _, h := range hs {
		v.Holds = append(v.Holds, toHoldOut(h, false))
	}
	s.renderView(c, status, "exports.html", v)
}

// startExportPage is POST /legal/exports: a search (words and filters) or
// a hold.
func (s *Server) startExportPage(c *gin.Context) {
	v := exportsView{Query: c.PostForm("query"), From: c.PostForm("from"), To: c.PostForm("to"),
		Platform: c.PostForm("platform"), Matter: c.PostForm("matter"), HoldID: c.PostForm("hold_id")}
	if !s.checkCSRF(c) {
		v.Problems = []string{"Your form expired. Please try again."}
		s.renderExports(c, http.StatusForbidden, v)
		return
	}
	in := exportInput{Matter: v.Matter}
	if v.HoldID != "" {
		id, err := strconv.ParseUint(v.HoldID, 10, 63)
		if err != nil {
			v.Problems = []string{"Pick a hold from the list."}
			s.renderExports(c, http.StatusUnprocessableEntity, v)
			return
		}
		in.HoldID = id
	} else {
		in.Query, in.Filters = &v.Query, map[string]any{}
		for k, val := range map[string]string{"from": v.From, "to": v.To, "platform": v.Platform} {
			if val != "" {
				in.Filters[k] = val
			}
		}
	}
	sc, err := s.exportScope(c, in)
	var e *storage.Export
	if err == nil {
		e, err = s.Records.StartExport(c.Request.Context(), actor(c), sc)
	}
	var fe records.FieldErrors
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/legal/exports/"+strconv.FormatUint(e.ID, 10))
	case errors.As(err, &fe):
		v.Problems = []string{strings.TrimPrefix(fe.Error(), "records: invalid request: ")}
		s.renderExports(c, http.StatusUnprocessableEntity, v)
	default:
		s.internal(c, "start export", err)
	}
}

// exportView is what export.html gets.
type exportView struct {
	pageData
	E       exportOut
	Running bool
	Percent int
}

// exportPage is GET /legal/exports/:id: progress (the page refreshes itself
// while the export runs, without script), then the download.
func (s *Server) exportPage(c *gin.Context) {
	e, ok := s.loadExport(c)
	if !ok {
		return
	}
	v := exportView{pageData: s.base(c, "Export "+strconv.FormatUint(e.ID, 10)), E: toExportOut(*e), Running: e.Status == "running"}
	if e.ItemsTotal > 0 {
		v.Percent = e.ItemsDone * 100 / e.ItemsTotal
	}
	if v.Running {
		c.Header("Refresh", "2") // the page follows the export without script
	}
	s.renderView(c, http.StatusOK, "export.html", v)
}
