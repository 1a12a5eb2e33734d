package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// custodyVerify walks the custody log's hash chain and says whether it is
// intact, naming the first broken event otherwise.
func (s *Server) custodyVerify(c *gin.Context) {
	n, err := s.Catalog.VerifyCustody(c.Request.Context())
	var ce *storage.ChainError
	switch {
	case errors.As(err, &ce):
		c.JSON(http.StatusOK, gin.H{"intact": false, "events_checked": n,
			"first_broken": gin.H{"seq": ce.Seq, "reason": ce.Reason}})
	case err != nil:
		s.internal(c, "custody verify", err)
	default:
		c.JSON(http.StatusOK, gin.H{"intact": true, "events_checked": n})
	}
}
