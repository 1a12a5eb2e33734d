package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight"
	htmlformat "github.com/blevesearch/bleve/v2/search/highlight/format/html"
	simplefrag "github.com/blevesearch/bleve/v2/search/highlight/fragmenter/simple"
	simplehl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/simple"
	index "github.com/blevesearch/bleve_index_api"
)

// highlighterName is bleve's HTML highlighter (text HTML-escaped, matches
// in <mark>…</mark>, "…" where a fragment is cut) made version-aware: the
// "versions" fragment comes from the version that matched, and the number
// of that version is left on the hit for Search to read.
const highlighterName = "civicarchive_versions"

// matchedVersionKey is the hit field the highlighter leaves the 1-based
// matched version in.
const matchedVersionKey = "civicarchive.matched_version"

func init() {
	err := registry.RegisterHighlighter(highlighterName, func(_ map[string]any, cache *registry.Cache) (highlight.Highlighter, error) {
		frag, err := cache.FragmenterNamed(simplefrag.Name)
		if err != nil {
			return nil, fmt.Errorf("search: fragmenter: %w", err)
		}
		format, err := cache.FragmentFormatterNamed(htmlformat.Name)
		if err != nil {
			return nil, fmt.Errorf("search: fragment formatter: %w", err)
		}
		return versionHighlighter{simplehl.NewHighlighter(frag, format, simplehl.DefaultSeparator)}, nil
	})
	if err != nil {
		panic(err)
	}
}

type versionHighlighter struct{ *simplehl.Highlighter }

// BestFragmentsInField highlights text as bleve does; for versions it
// picks the matched version (see matchedPosition), highlights only that
// one, and records its number. When only text matched, the matched version
// is the latest one.
func (h versionHighlighter) BestFragmentsInField(dm *search.DocumentMatch, doc index.Document, field string, num int) []string {
	if field != FieldVersions {
		if len(dm.Locations[field]) == 0 { // bleve would return the field's start, unmarked
			return nil
		}
		return h.Highlighter.BestFragmentsInField(dm, doc, field, num)
	}
	pos, ok := matchedPosition(dm.Locations[FieldVersions])
	if !ok {
		if len(dm.Locations[FieldText]) > 0 {
			n := 0
			doc.VisitFields(func(f index.Field) {
				if f.Name() == FieldVersions {
					n++
				}
			})
			dm.AddFieldValue(matchedVersionKey, float64(n))
		}
		return nil
	}
	dm.AddFieldValue(matchedVersionKey, float64(pos+1))
	only := search.TermLocationMap{}
	for term, locs := range dm.Locations[FieldVersions] {
		for _, l := range locs {
			if len(l.ArrayPositions) > 0 && l.ArrayPositions[0] == pos {
				only[term] = append(only[term], l)
			}
		}
	}
	tmp := &search.DocumentMatch{Locations: search.FieldTermLocationMap{FieldVersions: only}}
	frags := h.Highlighter.BestFragmentsInField(tmp, doc, FieldVersions, num)
	if len(frags) > 0 {
		dm.AddFragments(FieldVersions, frags)
	}
	return frags
}

// matchedPosition is the array position (0-based) of the version where the
// query matched: the one matching the most distinct query terms, the
// latest of those on a tie (a word present in every version matched the
// current one). False when no version matched.
func matchedPosition(tlm search.TermLocationMap) (uint64, bool) {
	terms := map[uint64]map[string]bool{}
	for term, locs := range tlm {
		for _, l := range locs {
			if len(l.ArrayPositions) == 0 {
				continue
			}
			p := l.ArrayPositions[0]
			if terms[p] == nil {
				terms[p] = map[string]bool{}
			}
			terms[p][term] = true
		}
	}
	var best uint64
	bestN := 0
	for p, ts := range terms {
		if len(ts) > bestN || (len(ts) == bestN && p > best) {
			best, bestN = p, len(ts)
		}
	}
	return best, bestN > 0
}
