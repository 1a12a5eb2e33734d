package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// exportOut is an export as the API shows it (CONTRACT.md, exports).
type exportOut struct {
	ID         uint64     `json:"id"`
	Status     string     `json:"status"`
	Kind       string     `json:"kind"`
	Query      string     `json:"query,omitempty"`
	Matter     string     `json:"matter,omitempty"`
	HoldID     *uint64    `json:"hold_id,omitempty"`
	RequestID  *uint64    `json:"request_id,omitempty"`
	ItemCount  int        `json:"item_count"`
	ItemsTotal int        `json:"items_total"`
	ItemsDone  int        `json:"items_done"`
	SHA256     string     `json:"sha256"`
	Size       int64      `json:"size"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Error      string     `json:"error,omitempty"`
}

func toExportOut(e storage.Export) exportOut {
	return exportOut{ID: e.ID, Status: e.Status, Kind: e.Kind, Query: e.Query, Matter: e.Matter, HoldID: e.HoldID,
		RequestID: e.RequestID, ItemCount: e.ItemCount, ItemsTotal: e.ItemsTotal, ItemsDone: e.ItemsDone,
		SHA256: e.BundleSHA256, Size: e.Size, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt, Error: e.Error}
}

// exportInput is POST /api/v1/exports: a search ({"query", "filters"}),
// items ({"item_ids"}), a legal hold ({"hold_id"}) or a records request
// ({"request": tracking number}); "matter" names the case.
type exportInput struct {
	Query   *string        `json:"query"`
	Filters map[string]any `json:"filters"`
	ItemIDs []uint64       `json:"item_ids"`
	HoldID  uint64         `json:"hold_id"`
	Request string         `json:"request"`
	Matter  string         `json:"matter"`
}

// exportScope turns the input into the records office's scope; exactly one
// kind of scope may be given.
func (s *Server) exportScope(c *gin.Context, in exportInput) (records.ExportScope, error) {
	sc := records.ExportScope{Matter: strings.TrimSpace(in.Matter)}
	kinds := 0
	if in.Query != nil || len(in.Filters) > 0 {
		kinds++
		q := ""
		if in.Query != nil {
			q = *in.Query
		}
		params, err := searchParams(q, in.Filters)
		if err != nil {
			return sc, err
		}
		if err := s.checkSearch(c.Request.Context(), params); err != nil {
			return sc, err // refused now, not as a failed export later
		}
		sc.Kind, sc.Query = "search", params
	}
	if len(in.ItemIDs) > 0 {
		kinds++
		sc.Kind, sc.ItemIDs = "items", in.ItemIDs
	}
	if in.HoldID != 0 {
		kinds++
		sc.Kind, sc.HoldID = "hold", in.HoldID
	}
	if in.Request != "" {
		kinds++
		r, err := s.Catalog.RequestByTracking(c.Request.Context(), strings.ToUpper(strings.TrimSpace(in.Request)))
		if err != nil {
			return sc, records.FieldErrors{"request": "no such records request"}
		}
		sc.Kind, sc.RequestID = "request", r.ID
	}
	if kinds != 1 {
		return sc, records.FieldErrors{"scope": "give exactly one of: query and/or filters, item_ids, hold_id, request"}
	}
	return sc, nil
}

// createExportAPI is POST /api/v1/exports → 202 {"id", "status"}.
func (s *Server) createExportAPI(c *gin.Context) {
	var in exportInput
	if !s.decodeStrict(c, &in) {
		return
	}
	sc, err := s.exportScope(c, in)
	if !s.recordsOK(c, "export", err) {
		return
	}
	e, err := s.Records.StartExport(c.Request.Context(), actor(c), sc)
	if !s.recordsOK(c, "export", err) {
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": e.ID, "status": e.Status})
}

// loadExport reads the :id export, answering 404 itself.
func (s *Server) loadExport(c *gin.Context) (*storage.Export, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	e, err := s.Records.Export(c.Request.Context(), id)
	return e, s.found(c, "export", err)
}

// getExportAPI is GET /api/v1/exports/:id: status and progress.
func (s *Server) getExportAPI(c *gin.Context) {
	if e, ok := s.loadExport(c); ok {
		c.JSON(http.StatusOK, toExportOut(*e))
	}
}

// listExportsAPI is GET /api/v1/exports, newest first.
func (s *Server) listExportsAPI(c *gin.Context) {
	es, err := s.Records.Exports(c.Request.Context(), 200)
	if err != nil {
		s.internal(c, "list exports", err)
		return
	}
	out := make([]exportOut, 0, len(es))
	for _, e := range es {
		out = append(out, toExportOut(e))
	}
	c.JSON(http.StatusOK, gin.H{"exports": out})
}

// exportBundle is GET /api/v1/exports/:id/bundle (and the page's download):
// the ZIP, streamed from the blob store, verified as it is read.
func (s *Server) exportBundle(c *gin.Context) {
	e, ok := s.loadExport(c)
	if !ok {
		return
	}
	if e.Status != "ready" {
		s.fail(c, http.StatusConflict, "not_ready", "the export is "+e.Status+", not ready")
		return
	}
	s.Log.Info("export downloaded", "export_id", e.ID, "actor", identity(c).Actor())
	s.streamBlob(c, e.BundleKey, "application/zip", "export-"+c.Param("id")+".zip")
}
