package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/storage"
)

type captureOut struct {
	ID         uint64        `json:"id"`
	AccountID  uint64        `json:"account_id"`
	Kind       string        `json:"kind"`
	Status     string        `json:"status"`
	Trigger    string        `json:"trigger"`
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	Counts     captureCounts `json:"counts"`
	Errors     []string      `json:"errors"`
}

type captureCounts struct {
	Posts    int `json:"posts"`
	Comments int `json:"comments"`
	New      int `json:"new"`
	Changed  int `json:"changed"`
	Deleted  int `json:"deleted"`
	Media    int `json:"media"`
}

func toCaptureOut(r storage.CaptureRun) captureOut {
	errs := []string{}
	_ = json.Unmarshal([]byte(r.Errors), &errs)
	return captureOut{ID: r.ID, AccountID: r.AccountID, Kind: r.Kind, Status: r.Status, Trigger: r.Trigger,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Errors: errs,
		Counts: captureCounts{Posts: r.Posts, Comments: r.Comments, New: r.New, Changed: r.Changed, Deleted: r.Deleted, Media: r.MediaCount}}
}

// startCapture starts a capture of an account now (202); the run goes on in
// the background and GET /api/v1/captures/{id} follows it.
func (s *Server) startCapture(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var in struct {
		Kind string `json:"kind"`
	}
	if c.Request.ContentLength != 0 {
		if !s.decodeStrict(c, &in) {
			return
		}
	} else if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
		s.fail(c, http.StatusBadRequest, "bad_body", "could not read the body")
		return
	}
	if in.Kind == "" {
		in.Kind = storage.RunFull
	}
	if in.Kind != storage.RunFull && in.Kind != storage.RunIncremental {
		s.invalid(c, map[string]string{"kind": "must be full or incremental"})
		return
	}
	a, err := s.Catalog.AccountByID(c.Request.Context(), id)
	if !s.found(c, "account", err) {
		return
	}
	if a.Approval != storage.ApprovalApproved || a.Status != storage.AccountActive {
		s.fail(c, http.StatusConflict, "not_capturable", "only approved, active accounts are captured")
		return
	}
	r, err := s.Archiver.Start(id, in.Kind, "api")
	switch {
	case errors.Is(err, archiver.ErrAlreadyRunning):
		s.fail(c, http.StatusConflict, "already_running", "a capture of this account is already running")
	case err != nil:
		s.internal(c, "start capture", err)
	default:
		c.Header("Location", "/api/v1/captures/"+itoa(r.ID))
		c.JSON(http.StatusAccepted, gin.H{"id": r.ID, "status": r.Status})
	}
}

func (s *Server) getCapture(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	r, err := s.Catalog.RunByID(c.Request.Context(), id)
	if s.found(c, "capture", err) {
		c.JSON(http.StatusOK, toCaptureOut(*r))
	}
}
