package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.Version})
}

type checkResult struct {
	Status  string `json:"status"` // ok, unavailable
	Backend string `json:"backend,omitempty"`
	Ms      int64  `json:"ms"`
}

// readyz checks the catalog, the blob store and the index in parallel, each
// within a time limit. Failures are logged with their cause; the response
// names only what failed.
func (s *Server) readyz(c *gin.Context) {
	checks := map[string]struct {
		backend string
		fn      func(context.Context) error
	}{
		"catalog": {s.Catalog.Dialect(), s.Catalog.Ping},
		"blobs":   {s.Blobs.Name(), s.Blobs.Check},
		"index":   {"bleve", s.Search.Check},
	}
	results := make(map[string]checkResult, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, ch := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			err := ch.fn(ctx)
			r := checkResult{Status: "ok", Backend: ch.backend, Ms: time.Since(start).Milliseconds()}
			if err != nil {
				r.Status = "unavailable"
				s.Log.Warn("readiness check failed", "check", name, "err", err)
			}
			mu.Lock()
			results[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	status, code := "ready", http.StatusOK
	for _, r := range results {
		if r.Status != "ok" {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
	}
	c.JSON(code, gin.H{"status": status, "checks": results, "accounts": s.accountsHealth(c.Request.Context())})
}

type unhealthyAccount struct {
	ID       uint64 `json:"id"`
	Platform string `json:"platform"`
	Handle   string `json:"handle"`
}

// accountsHealth lists accounts whose captures need attention. It informs;
// it does not make the server unready.
func (s *Server) accountsHealth(ctx context.Context) gin.H {
	as, err := s.Catalog.ListAccounts(ctx)
	if err != nil {
		return gin.H{"status": "unknown"}
	}
	bad := []unhealthyAccount{}
	for _, a := range as {
		if a.Health == storage.HealthUnhealthy {
			bad = append(bad, unhealthyAccount{a.ID, a.Platform, a.Handle})
		}
	}
	status := "ok"
	if len(bad) > 0 {
		status = "degraded"
	}
	return gin.H{"status": status, "total": len(as), "unhealthy": bad}
}
