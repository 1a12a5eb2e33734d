package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/policy"
)

// directoryView is what directory.html gets.
type directoryView struct {
	Entity   string
	Accounts []policy.DirectoryEntry
}

// directoryPage is GET /directory: the public directory of official
// accounts (policy 3.5.6), a page the city's website may embed in a frame.
// It is the one page that may be framed, and only by the origins in
// DirectoryFrameAncestors.
func (s *Server) directoryPage(c *gin.Context) {
	es, err := s.Policy.Directory(c.Request.Context())
	if err != nil {
		s.internal(c, "directory page", err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors "+s.frameAncestors())
	h.Del("X-Frame-Options")
	entity := "the city"
	if s.Records != nil {
		entity = s.Records.Entity().Name
	}
	s.renderView(c, http.StatusOK, "directory.html", directoryView{Entity: entity, Accounts: es})
}

// frameAncestors is the directory's frame-ancestors source list.
func (s *Server) frameAncestors() string {
	list := []string{"'self'"}
	for _, o := range s.DirectoryFrameAncestors {
		if o = strings.TrimSpace(o); o != "" && !strings.ContainsAny(o, " ;,'\"") {
			list = append(list, o)
		}
	}
	return strings.Join(list, " ")
}

// platformNames are the platforms as people write them.
var platformNames = map[string]string{"mastodon": "Mastodon", "bluesky": "Bluesky", "facebook": "Facebook",
	"instagram": "Instagram", "youtube": "YouTube", "x": "X (Twitter)", "feed": "News feed (RSS/Atom)"}

func platformName(p string) string {
	if n, ok := platformNames[p]; ok {
		return n
	}
	return p
}
