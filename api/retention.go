package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// retentionRulesAPI is GET /api/v1/retention/rules: the schedule in force.
func (s *Server) retentionRulesAPI(c *gin.Context) {
	rules, err := s.Records.RetentionRules(c.Request.Context())
	if err != nil {
		s.internal(c, "retention rules", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rules": rules})
}

// setRetentionRuleAPI is PUT /api/v1/retention/rules (admin): {"account_id"
// (absent: every account), "kind", "keep_days" (0: permanent), "trigger",
// "citation"}. A custody event.
func (s *Server) setRetentionRuleAPI(c *gin.Context) {
	var in struct {
		AccountID *uint64 `json:"account_id"`
		Kind      string  `json:"kind"`
		KeepDays  int     `json:"keep_days"`
		Trigger   string  `json:"trigger"`
		Citation  string  `json:"citation"`
	}
	if !s.decodeStrict(c, &in) {
		return
	}
	r, err := s.Records.SetRetentionRule(c.Request.Context(), actor(c), records.RuleInput{AccountID: in.AccountID,
		Kind: in.Kind, KeepDays: in.KeepDays, Trigger: in.Trigger, Citation: in.Citation})
	if !s.recordsOK(c, "set retention rule", err) {
		return
	}
	c.JSON(http.StatusOK, r)
}

// proposeDispositionAPI is POST /api/v1/dispositions {"as_of": YYYY-MM-DD
// (default today)}: lists what is eligible, skipping everything on hold.
// Nothing is removed until someone else approves it.
func (s *Server) proposeDispositionAPI(c *gin.Context) {
	var in struct {
		AsOf string `json:"as_of"`
	}
	if !s.decodeStrict(c, &in) {
		return
	}
	asOf := time.Now()
	if in.AsOf != "" {
		d, err := calendar.ParseDate(in.AsOf)
		if err != nil {
			s.invalid(c, map[string]string{"as_of": "must be a date YYYY-MM-DD"})
			return
		}
		// The end of that day in the city.
		asOf = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, s.location())
		if asOf.After(time.Now()) {
			asOf = time.Now()
		}
	}
	d, err := s.Records.ProposeDisposition(c.Request.Context(), actor(c), asOf)
	if !s.recordsOK(c, "propose disposition", err) {
		return
	}
	c.JSON(http.StatusCreated, d)
}

// dispositionsAPI is GET /api/v1/dispositions, newest first.
func (s *Server) dispositionsAPI(c *gin.Context) {
	ds, err := s.Records.Dispositions(c.Request.Context(), 100, 0)
	if err != nil {
		s.internal(c, "dispositions", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"dispositions": ds})
}

// dispositionAPI is GET /api/v1/dispositions/:id.
func (s *Server) dispositionAPI(c *gin.Context) {
	d, ok := s.loadDisposition(c)
	if ok {
		c.JSON(http.StatusOK, d)
	}
}

func (s *Server) loadDisposition(c *gin.Context) (*storage.Disposition, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	d, err := s.Records.Disposition(c.Request.Context(), id)
	return d, s.found(c, "disposition", err)
}

// dispositionActionAPI is POST /api/v1/dispositions/:id/approve (someone
// other than the proposer; runs it) and /cancel {"reason"}.
func (s *Server) dispositionActionAPI(c *gin.Context) {
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
	var (
		d   *storage.Disposition
		err error
	)
	switch c.Param("action") {
	case "approve":
		d, err = s.Records.ApproveDisposition(c.Request.Context(), id, actor(c))
	case "cancel":
		d, err = s.Records.CancelDisposition(c.Request.Context(), id, actor(c), in.Reason)
	default:
		s.fail(c, http.StatusNotFound, "not_found", "no such action; approve or cancel")
		return
	}
	if !s.recordsOK(c, "disposition "+c.Param("action"), err) {
		return
	}
	c.JSON(http.StatusOK, d)
}

// dispositionFileAPI is GET /api/v1/dispositions/:id/{certificate|list}.
func (s *Server) dispositionFileAPI(c *gin.Context) {
	d, ok := s.loadDisposition(c)
	if !ok {
		return
	}
	key := map[string]string{"certificate": d.CertificateKey, "list": d.ListKey}[c.Param("what")]
	if key == "" {
		s.fail(c, http.StatusNotFound, "not_found", "no such file on this disposition")
		return
	}
	s.streamBlob(c, key, "application/json", "disposition-"+strconv.FormatUint(d.ID, 10)+"-"+c.Param("what")+".json")
}

// mirrorHold mirrors a placed or released hold onto S3 object legal holds
// when the bucket has Object Lock; a failure is logged, never undoes the
// hold (the periodic sync tries again).
func (s *Server) mirrorHold(c *gin.Context, id uint64) {
	if !s.ObjectLock {
		return
	}
	rep, err := s.Records.MirrorHolds(c.Request.Context(), id)
	if err != nil || rep.Failed > 0 {
		s.Log.Error("mirror hold onto object legal holds", "hold_id", id, "err", err, "failed", rep.Failed,
			"errors", strings.Join(rep.Errors, "; "))
	}
}
