package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// userJSON is a user as the API shows it: never the password hash.
type userJSON struct {
	ID          uint64    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) listUsers(c *gin.Context) {
	users, err := s.Catalog.ListUsers(c.Request.Context())
	if err != nil {
		s.internal(c, "list users", err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt})
	}
	c.JSON(http.StatusOK, gin.H{"users": out})
}
