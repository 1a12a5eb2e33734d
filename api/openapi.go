package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc documents the whole JSON API; a test keeps it in step with
// the routing table.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
