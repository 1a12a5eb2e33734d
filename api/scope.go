package api

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// Department heads (role department) are limited to the accounts of their
// own department: every handler a department head may call asks deptScope
// which accounts the caller may see, or ownsAccount about one. A department
// is matched as the accounts name it, ignoring case and surrounding space.

// deptScope returns the ids of the accounts the caller may see, and true,
// when the caller is limited to a department; nil and false for everyone
// else (all accounts).
func (s *Server) deptScope(c *gin.Context) ([]uint64, bool, error) {
	id := identity(c)
	if id == nil || id.Role != storage.RoleDepartment {
		return nil, false, nil
	}
	as, err := s.Catalog.ListAccounts(c.Request.Context())
	if err != nil {
		return nil, true, err
	}
	ids := []uint64{}
	for _, a := range as {
		if sameDepartment(a.Department, id.Department) {
			ids = append(ids, a.ID)
		}
	}
	return ids, true, nil
}

// ownsAccount reports whether the caller may see account a.
func ownsAccount(c *gin.Context, a storage.Account) bool {
	id := identity(c)
	return id == nil || id.Role != storage.RoleDepartment || sameDepartment(a.Department, id.Department)
}

func sameDepartment(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// isDepartmentHead reports whether the caller is limited to a department.
func isDepartmentHead(c *gin.Context) bool {
	id := identity(c)
	return id != nil && id.Role == storage.RoleDepartment
}

// CanCoordinate reports whether the caller may use the coordinator's pages
// (a department head sees its own department's part of them).
func (id *Identity) CanCoordinate() bool { return id != nil && slices.Contains(planners, id.Role) }

// CanReview reports whether the caller reviews flags and decides plans:
// the coordinator's own work.
func (id *Identity) CanReview() bool { return id != nil && slices.Contains(managers, id.Role) }
