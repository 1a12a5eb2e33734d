package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/search"
)

// searchHit is one hit as the API shows it (CONTRACT.md, search).
type searchHit struct {
	ItemID         uint64              `json:"item_id"`
	AccountID      uint64              `json:"account_id"`
	NativeID       string              `json:"native_id"`
	Platform       string              `json:"platform"`
	Kind           string              `json:"kind"`
	AuthorName     string              `json:"author_name"`
	Text           string              `json:"text"`
	Highlights     map[string][]string `json:"highlights"`
	CreatedAt      *time.Time          `json:"created_at"`
	DeletedAt      *time.Time          `json:"deleted_at"`
	VersionCount   int                 `json:"version_count"`
	MatchedVersion int                 `json:"matched_version"`
	Score          float64             `json:"score"`
}

// multi reads a filter given as repeated parameters or comma-separated.
func multi(c *gin.Context, name string) []string { return multiValues(c.Request.URL.Query(), name) }

// multiValues is multi over parsed parameters.
func multiValues(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// searchRequest turns query parameters into a search.Request; problems
// name each bad parameter.
func (s *Server) searchRequest(c *gin.Context) (search.Request, map[string]string) {
	return s.searchRequestFrom(c.Request.URL.Query())
}

// searchRequestFrom is searchRequest over parsed parameters (a request's
// attached search keeps them as a query string).
func (s *Server) searchRequestFrom(q url.Values) (search.Request, map[string]string) {
	problems := map[string]string{}
	sort := q.Get("sort")
	if sort == "" {
		sort = search.SortRelevance
	}
	r := search.Request{Query: q.Get("q"), Platforms: multiValues(q, "platform"), Kinds: multiValues(q, "kind"),
		Departments: multiValues(q, "department"), Authors: multiValues(q, "author"), Flags: multiValues(q, "flag"),
		Sort: sort, PageToken: q.Get("page_token")}
	for _, a := range multiValues(q, "account") {
		id, err := strconv.ParseUint(a, 10, 63)
		if err != nil {
			problems["account"] = "must be account ids"
			continue
		}
		r.AccountIDs = append(r.AccountIDs, id)
	}
	day := func(name string, next bool) *time.Time {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		d, err := time.ParseInLocation("2006-01-02", v, s.location())
		if err != nil {
			problems[name] = "must be a date YYYY-MM-DD"
			return nil
		}
		if !search.DateInRange(d) {
			problems[name] = fmt.Sprintf("must be a date between %d and %d", search.MinYear, search.MaxYear)
			return nil
		}
		if next { // "to" includes its whole day in the city's time zone
			d = d.AddDate(0, 0, 1)
		}
		return &d
	}
	r.From, r.To = day("from", false), day("to", true)
	// Facets are on unless the caller says facets=false (they cost more
	// than the search on a large archive).
	r.Facets = q.Get("facets") != "false"
	for name, dst := range map[string]**bool{"deleted": &r.Deleted, "edited": &r.Edited, "hidden": &r.Hidden} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				problems[name] = "must be true or false"
				continue
			}
			*dst = &b
		}
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems["size"] = "must be a positive number (at most " + strconv.Itoa(search.MaxPageSize) + ")"
		}
		r.Size = min(n, search.MaxPageSize)
	}
	switch r.Sort {
	case search.SortRelevance, search.SortNewest, search.SortOldest:
	default:
		problems["sort"] = "must be relevance, newest or oldest"
	}
	return r, problems
}

func (s *Server) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// runSearch searches and loads the hits' items from the catalog.
func (s *Server) runSearch(c *gin.Context, r search.Request) (*search.Result, []searchHit, error) {
	res, err := s.Search.Search(c.Request.Context(), r)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uint64, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ItemID)
	}
	items, err := s.Catalog.ItemsByIDs(c.Request.Context(), ids)
	if err != nil {
		return nil, nil, err
	}
	hits := make([]searchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		it, ok := items[h.ItemID]
		if !ok {
			continue // indexed but gone from the catalog: a restored backup; reindex heals it
		}
		hl := h.Highlights
		if hl == nil {
			hl = map[string][]string{}
		}
		hits = append(hits, searchHit{ItemID: it.ID, AccountID: it.AccountID, NativeID: it.NativeID, Platform: it.Platform,
			Kind: it.Kind, AuthorName: it.AuthorName, Text: it.Text, Highlights: hl, CreatedAt: it.PlatformCreatedAt,
			DeletedAt: it.DeletedAt, VersionCount: it.VersionCount, MatchedVersion: h.MatchedVersion, Score: h.Score})
	}
	return res, hits, nil
}

// apiSearch is GET /api/v1/search.
func (s *Server) apiSearch(c *gin.Context) {
	r, problems := s.searchRequest(c)
	if len(problems) > 0 {
		s.invalid(c, problems)
		return
	}
	res, hits, err := s.runSearch(c, r)
	if errors.Is(err, search.ErrBadQuery) {
		s.fail(c, http.StatusBadRequest, "bad_query", err.Error(), "q")
		return
	}
	if err != nil {
		s.internal(c, "search", err)
		return
	}
	var next *string
	if res.NextPageToken != "" {
		next = &res.NextPageToken
	}
	c.JSON(http.StatusOK, gin.H{"total": res.Total, "hits": hits, "facets": res.Facets, "next_page_token": next,
		"took_ms": res.Took.Milliseconds(), "max_size": search.MaxPageSize})
}
