package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/search"
)

// maxScopeItems caps how many items one search may put under a hold or in
// an export.
const maxScopeItems = 1_000_000

// filterParams are the search filters a scope may carry (those of GET
// /api/v1/search).
var filterParams = []string{"platform", "account", "kind", "department", "author", "flag", "from", "to", "deleted", "edited", "hidden"}

// searchParams turns a query and a filters object into GET /api/v1/search
// parameters, the frozen form a hold or an export keeps.
func searchParams(query string, filters map[string]any) (string, error) {
	q := url.Values{}
	if query != "" {
		q.Set("q", query)
	}
	keys := make([]string, 0, len(filters))
	for k := range filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(filterParams, k) {
			return "", records.FieldErrors{"filters": fmt.Sprintf("%q is not a filter; use %v", k, filterParams)}
		}
		switch v := filters[k].(type) {
		case string:
			q.Add(k, v)
		case bool:
			q.Add(k, strconv.FormatBool(v))
		case float64:
			q.Add(k, strconv.FormatFloat(v, 'f', -1, 64))
		case []any:
			for _, x := range v {
				q.Add(k, fmt.Sprint(x))
			}
		default:
			return "", records.FieldErrors{"filters": fmt.Sprintf("%q must be a string, a boolean, a number or a list", k)}
		}
	}
	return q.Encode(), nil
}

// findItems resolves GET /api/v1/search parameters to every matching item
// id, paging through the index. It is the records office's Finder.
func (s *Server) findItems(ctx context.Context, params string) ([]uint64, error) {
	ids, more, err := s.searchIDs(ctx, params, "query", maxScopeItems)
	if err == nil && more {
		err = records.FieldErrors{"query": fmt.Sprintf("matches more than %d items; narrow it", maxScopeItems)}
	}
	return ids, err
}

// searchIDs pages through a search given as GET /api/v1/search parameters
// and returns up to limit item ids, and whether there were more. Problems
// with the search are FieldErrors naming field.
func (s *Server) searchIDs(ctx context.Context, params, field string, limit int) ([]uint64, bool, error) {
	if s.Search == nil {
		return nil, false, records.FieldErrors{field: "search is not available on this server"}
	}
	sr, err := s.parseSearch(params, field)
	if err != nil {
		return nil, false, err
	}
	sr.Facets, sr.Size, sr.PageToken, sr.Sort = false, search.MaxPageSize, "", search.SortOldest
	var out []uint64
	for {
		res, err := s.Search.Search(ctx, sr)
		if errors.Is(err, search.ErrBadQuery) {
			return nil, false, records.FieldErrors{field: err.Error()}
		}
		if err != nil {
			return nil, false, err
		}
		for _, h := range res.Hits {
			out = append(out, h.ItemID)
		}
		if len(out) > limit {
			return out[:limit], true, nil
		}
		if res.NextPageToken == "" {
			return out, false, nil
		}
		sr.PageToken = res.NextPageToken
	}
}

// parseSearch reads GET /api/v1/search parameters, so a bad filter is
// refused when a hold or an export is asked for, not later.
func (s *Server) parseSearch(params, field string) (search.Request, error) {
	q, err := url.ParseQuery(params)
	if err != nil {
		return search.Request{}, records.FieldErrors{field: "must be search parameters like q=parade&platform=facebook"}
	}
	sr, problems := s.searchRequestFrom(q)
	if len(problems) > 0 {
		return sr, records.FieldErrors(problems)
	}
	return sr, nil
}

// Finder is findItems for the records office (serve wires it).
func (s *Server) Finder() func(context.Context, string) ([]uint64, error) { return s.findItems }

// checkSearch runs a search once for one hit, so a bad filter or a query
// the parser refuses is a 422 when an export is asked for; the export
// itself runs the search again when it starts, which is when it is frozen.
func (s *Server) checkSearch(ctx context.Context, params string) error {
	sr, err := s.parseSearch(params, "query")
	if err != nil || s.Search == nil {
		return err
	}
	sr.Facets, sr.Size = false, 1
	if _, err := s.Search.Search(ctx, sr); errors.Is(err, search.ErrBadQuery) {
		return records.FieldErrors{"query": err.Error()}
	} else if err != nil {
		return err
	}
	return nil
}
