package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// holdOut is a legal hold as the API shows it.
type holdOut struct {
	ID            uint64     `json:"id"`
	Matter        string     `json:"matter"`
	Query         string     `json:"query"`
	ItemIDs       []uint64   `json:"item_ids"`
	ItemCount     int        `json:"item_count"`
	RequestID     *uint64    `json:"request_id,omitempty"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ReleasedBy    string     `json:"released_by,omitempty"`
	ReleasedAt    *time.Time `json:"released_at"`
	ReleaseReason string     `json:"release_reason,omitempty"`
}

func toHoldOut(h storage.Hold, withItems bool) holdOut {
	ids, _ := h.HoldItems()
	o := holdOut{ID: h.ID, Matter: h.Matter, Query: h.ScopeQuery, ItemCount: len(ids), RequestID: h.RequestID,
		CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt, ReleasedBy: h.ReleasedBy, ReleasedAt: h.ReleasedAt, ReleaseReason: h.ReleaseReason}
	if withItems {
		o.ItemIDs = ids
	}
	return o
}

// holdInput is a new hold: a matter and a scope (a search, or items).
type holdInput struct {
	Matter  string         `json:"matter"`
	Query   string         `json:"query"`
	Filters map[string]any `json:"filters"`
	ItemIDs []uint64       `json:"item_ids"`
}

// placeHold validates a hold, resolves its scope to a frozen item list and
// stores it with its custody event.
func (s *Server) placeHold(c *gin.Context, in holdInput) (*storage.Hold, error) {
	in.Matter = strings.TrimSpace(in.Matter)
	fe := records.FieldErrors{}
	if in.Matter == "" || len(in.Matter) > 255 {
		fe["matter"] = "is required (the case or reason, at most 255 characters)"
	}
	hasSearch := strings.TrimSpace(in.Query) != "" || len(in.Filters) > 0
	if hasSearch == (len(in.ItemIDs) > 0) {
		fe["scope"] = "give either a search (query and/or filters) or item_ids"
	}
	if len(fe) > 0 {
		return nil, fe
	}
	ctx := c.Request.Context()
	ids, params := in.ItemIDs, ""
	if hasSearch {
		var err error
		if params, err = searchParams(in.Query, in.Filters); err != nil {
			return nil, err
		}
		if ids, err = s.findItems(ctx, params); err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, records.FieldErrors{"query": "matches no items"}
		}
	} else {
		items, err := s.Catalog.ItemsByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if _, ok := items[id]; !ok {
				return nil, records.FieldErrors{"item_ids": "no such item: " + strconv.FormatUint(id, 10)}
			}
		}
	}
	h := &storage.Hold{Matter: in.Matter, ScopeQuery: params, CreatedBy: identity(c).Actor()}
	if err := s.Catalog.CreateHold(ctx, h, dedupe(ids)); err != nil {
		return nil, err
	}
	s.Log.Info("legal hold placed", "hold_id", h.ID, "items", len(ids), "actor", h.CreatedBy)
	s.mirrorHold(c, h.ID)
	return h, nil
}

func dedupe(ids []uint64) []uint64 {
	seen := make(map[uint64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// createHoldAPI is POST /api/v1/holds.
func (s *Server) createHoldAPI(c *gin.Context) {
	var in holdInput
	if !s.decodeStrict(c, &in) {
		return
	}
	h, err := s.placeHold(c, in)
	if !s.recordsOK(c, "place hold", err) {
		return
	}
	c.JSON(http.StatusCreated, toHoldOut(*h, true))
}

// listHoldsAPI is GET /api/v1/holds (?standing=true for those in force).
func (s *Server) listHoldsAPI(c *gin.Context) {
	hs, err := s.Catalog.ListHolds(c.Request.Context(), c.Query("standing") == "true")
	if err != nil {
		s.internal(c, "list holds", err)
		return
	}
	out := make([]holdOut, 0, len(hs))
	for _, h := range hs {
		out = append(out, toHoldOut(h, false))
	}
	c.JSON(http.StatusOK, gin.H{"holds": out})
}

// getHoldAPI is GET /api/v1/holds/:id, with its items.
func (s *Server) getHoldAPI(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	h, err := s.Catalog.HoldByID(c.Request.Context(), id)
	if !s.found(c, "hold", err) {
		return
	}
	c.JSON(http.StatusOK, toHoldOut(*h, true))
}

// releaseHoldAPI is POST /api/v1/holds/:id/release {"reason"}. The
// automatic hold of a denial ends with the appeals, not by hand.
func (s *Server) releaseHoldAPI(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if !s.decodeStrict(c, &in) {
		return
	}
	h, err := s.releaseHold(c, id, in.Reason)
	if !s.holdReleased(c, err) {
		return
	}
	c.JSON(http.StatusOK, toHoldOut(*h, false))
}

var errRequestHold = errors.New("this hold keeps records withheld by a denial until the appeals are over; it ends with them")

func (s *Server) releaseHold(c *gin.Context, id uint64, reason string) (*storage.Hold, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, records.FieldErrors{"reason": "is required: say why the hold ends"}
	}
	h, err := s.Catalog.HoldByID(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if h.RequestID != nil {
		return nil, errRequestHold
	}
	released, err := s.Catalog.ReleaseHold(c.Request.Context(), id, identity(c).Actor(), reason)
	if err == nil {
		s.mirrorHold(c, id)
	}
	return released, err
}

func (s *Server) holdReleased(c *gin.Context, err error) bool {
	switch {
	case errors.Is(err, errRequestHold):
		s.fail(c, http.StatusConflict, "not_allowed", err.Error())
	case errors.Is(err, storage.ErrConflict):
		s.fail(c, http.StatusConflict, "not_allowed", "the hold was released already")
	default:
		return s.recordsOK(c, "release hold", err)
	}
	return false
}
