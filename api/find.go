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
	if s.Search == nil {
		return nil, records.FieldErrors{"query": "search is not available on this server"}
	}
	q, err := url.ParseQuery(params)
	if err != nil {
		return nil, records.FieldErrors{"query": "must be search parameters like q=parade&platform=facebook"}
	}
	sr, problems := s.searchRequestFrom(q)
	if len(problems) > 0 {
		return nil, records.FieldErrors(problems)
	}
	sr.Facets, sr.Size, sr.PageToken, sr.Sort = false, search.MaxPageSize, "", search.SortOldest
	var out []uint64
	for {
		res, err := s.Search.Search(ctx, sr)
		if errors.Is(err, search.ErrBadQuery) {
			return nil, records.FieldErrors{"query": err.Error()}
		}
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			out = append(out, h.ItemID)
		}
		if len(out) > maxScopeItems {
			return nil, records.FieldErrors{"query": fmt.Sprintf("matches more than %d items; narrow it", maxScopeItems)}
		}
		if res.NextPageToken == "" {
			return out, nil
		}
		sr.PageToken = res.NextPageToken
	}
}

// Finder is findItems for the records office (serve wires it).
func (s *Server) Finder() func(context.Context, string) ([]uint64, error) { return s.findItems }
