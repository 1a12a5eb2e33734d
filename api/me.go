package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// me tells API callers who they are and which role they hold.
func (s *Server) me(c *gin.Context) {
	id := identity(c)
	c.JSON(http.StatusOK, gin.H{"kind": id.Kind, "name": id.Name, "role": id.Role})
}
