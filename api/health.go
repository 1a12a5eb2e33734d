package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
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
		"blobs":   {s.BlobsName, s.Blobs.Check},
		"index":   {"bleve", s.Index.Check},
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
	c.JSON(code, gin.H{"status": status, "checks": results})
}
