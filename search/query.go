package search

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
)

// Page sizes: Size 0 (or less) means DefaultPageSize; anything above
// MaxPageSize is cut to MaxPageSize.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Sort orders of Request.Sort.
const (
	SortRelevance = "relevance" // best match first (the default); an empty query sorts newest first
	SortNewest    = "newest"    // created_at, newest first
	SortOldest    = "oldest"    // created_at, oldest first
)

// Facet names in Result.Facets.
const (
	FacetPlatform = "platform"
	FacetAccount  = "account" // terms are account ids in decimal
	FacetKind     = "kind"
	FacetMonth    = "month" // terms are YYYY-MM (UTC)
	FacetFlag     = "flag"
)

// facetSizes bounds how many terms each facet returns (most frequent
// first); they are far above what a city has, so the counts are complete.
var facetSizes = map[string]int{FacetPlatform: 50, FacetAccount: 2000, FacetKind: 10, FacetMonth: 1200, FacetFlag: 50}

// ErrBadQuery is wrapped by every error caused by the request itself: a
// query string the parser refuses, an unknown field, a bad page token or
// sort. The error's message is meant for the user (the API answers 400
// with it); for a malformed query it is the parser's own message.
var ErrBadQuery = errors.New("search: bad query")

type badQueryError struct{ msg string }

func (e *badQueryError) Error() string        { return e.msg }
func (e *badQueryError) Is(target error) bool { return target == ErrBadQuery }

func badQuery(format string, args ...any) error {
	return &badQueryError{msg: fmt.Sprintf(format, args...)}
}

// Request is one search.
type Request struct {
	// Query is bleve query-string syntax: words (any may match; more
	// matches rank higher), "a phrase", +required, -excluded, field:value
	// (fields are the Field* constants), wildcards (road*, cl?sed),
	// /regexp/, fuzzy (closure~1), field:>"2024-01-01" date ranges, ^boost.
	// Words without a field search the current text and every version.
	// Empty matches everything the filters allow.
	Query string
	// Filters: within one filter any value matches; all filters must hold.
	Platforms, Kinds, Departments, Authors, Flags []string
	AccountIDs                                    []uint64
	// From (inclusive) and To (exclusive) bound created_at.
	From, To                *time.Time
	Deleted, Edited, Hidden *bool
	Sort                    string // SortRelevance (default), SortNewest, SortOldest
	Size                    int    // default DefaultPageSize, capped at MaxPageSize
	PageToken               string // NextPageToken of the previous page of the same request
	// Facets asks for the facet counts. They cost more than the search
	// itself on a large archive (every match's facet values are read), so
	// ask only where they are shown.
	Facets bool
}

// Result is one page of hits.
type Result struct {
	Total         uint64 // exact number of matching items
	Hits          []Hit
	Facets        map[string][]FacetCount // by Facet* name, over all matches (when the request asked)
	NextPageToken string                  // empty on the last page
	Took          time.Duration
}

// Hit is one matching item.
type Hit struct {
	ItemID uint64
	Score  float64
	// Highlights by field: "text" (the current text) and "versions" (the
	// matched version's text); HTML-escaped, matches in <mark>…</mark>.
	Highlights map[string][]string
	// MatchedVersion is the 1-based number of the version the query words
	// matched (equal to storage.Version.Seq): the one matching the most
	// query terms, the latest on a tie; the latest when only the current
	// text matched; 0 when no text matched (a filter-only query).
	MatchedVersion int
}

// FacetCount is one term of a facet and how many matches have it.
type FacetCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// Search runs a query.
func (x *Index) Search(ctx context.Context, r Request) (*Result, error) {
	q, textual, err := buildQuery(r)
	if err != nil {
		return nil, err
	}
	sortName, order, err := sortOrder(r)
	if err != nil {
		return nil, err
	}
	size := r.Size
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)

	sreq := bleve.NewSearchRequestOptions(q, size, 0, false)
	sreq.SortByCustom(order)
	fp := fingerprint(r, sortName)
	if r.PageToken != "" {
		after, err := decodeToken(r.PageToken, sortName, fp, order)
		if err != nil {
			return nil, err
		}
		sreq.SetSearchAfter(after)
	}
	if r.Facets {
		for name, n := range facetSizes {
			sreq.AddFacet(name, bleve.NewFacetRequest(name, n))
		}
	}
	if textual {
		sreq.Highlight = bleve.NewHighlightWithStyle(highlighterName)
		sreq.Highlight.AddField(FieldText)
		sreq.Highlight.AddField(FieldVersions)
		sreq.IncludeLocations = true
	}

	x.mu.RLock()
	res, err := x.idx.SearchInContext(ctx, sreq)
	x.mu.RUnlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("search: %w", err)
	}

	out := &Result{Total: res.Total, Took: res.Took, Facets: map[string][]FacetCount{}, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		id, err := strconv.ParseUint(h.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("search: document id %q is not an item id", h.ID)
		}
		hit := Hit{ItemID: id, Score: h.Score}
		if len(h.Fragments) > 0 {
			hit.Highlights = make(map[string][]string, len(h.Fragments))
			for f, frags := range h.Fragments {
				hit.Highlights[f] = frags
			}
		}
		if v, ok := h.Fields[matchedVersionKey].(float64); ok {
			hit.MatchedVersion = int(v)
		}
		out.Hits = append(out.Hits, hit)
	}
	for name := range facetSizes {
		if !r.Facets {
			break
		}
		fr := res.Facets[name]
		counts := []FacetCount{}
		if fr != nil && fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				counts = append(counts, FacetCount{Term: t.Term, Count: t.Count})
			}
		}
		sort.Slice(counts, func(i, j int) bool {
			if counts[i].Count != counts[j].Count {
				return counts[i].Count > counts[j].Count
			}
			return counts[i].Term < counts[j].Term
		})
		out.Facets[name] = counts
	}
	// A full page may have more after it; the token carries the last
	// hit's sort values (SearchAfter), so pages neither repeat nor skip.
	if len(res.Hits) == size && uint64(size) < res.Total {
		last := res.Hits[len(res.Hits)-1]
		after := make([]string, len(order))
		for i, s := range order {
			if _, ok := s.(*bsearch.SortScore); ok {
				after[i] = strconv.FormatFloat(last.Score, 'g', -1, 64)
			} else {
				after[i] = last.DecodedSort[i]
			}
		}
		out.NextPageToken = encodeToken(pageToken{Sort: sortName, Fingerprint: fp, After: after})
	}
	return out, nil
}

// sortOrder is the bleve sort of the request, always ending with the
// document id so equal values have a fixed order.
func sortOrder(r Request) (string, bsearch.SortOrder, error) {
	name := r.Sort
	switch name {
	case "", SortRelevance:
		name = SortRelevance
		if strings.TrimSpace(r.Query) == "" { // nothing to rank by
			name = SortNewest
		}
	case SortNewest, SortOldest:
	default:
		return "", nil, badQuery("unknown sort %q (want %s, %s or %s)", r.Sort, SortRelevance, SortNewest, SortOldest)
	}
	switch name {
	case SortNewest:
		return name, bsearch.SortOrder{
			&bsearch.SortField{Field: FieldCreatedAt, Desc: true, Type: bsearch.SortFieldAsDate, Missing: bsearch.SortFieldMissingLast},
			&bsearch.SortDocID{Desc: true},
		}, nil
	case SortOldest:
		return name, bsearch.SortOrder{
			&bsearch.SortField{Field: FieldCreatedAt, Type: bsearch.SortFieldAsDate, Missing: bsearch.SortFieldMissingLast},
			&bsearch.SortDocID{},
		}, nil
	}
	return name, bsearch.SortOrder{&bsearch.SortScore{Desc: true}, &bsearch.SortDocID{}}, nil
}

// buildQuery parses the query string, points its unfielded parts at the
// text fields, checks its field names, and ANDs the filters in as a
// non-scoring filter. textual reports whether there is a query string.
func buildQuery(r Request) (q query.Query, textual bool, err error) {
	for _, d := range []*time.Time{r.From, r.To} {
		if d != nil && !DateInRange(*d) {
			return nil, false, badQuery("dates must lie between %d and %d, not %s", MinYear, MaxYear, d.Format(time.DateOnly))
		}
	}
	filter := filters(r)
	if strings.TrimSpace(r.Query) == "" {
		if filter == nil {
			return query.NewMatchAllQuery(), false, nil
		}
		b := query.NewBooleanQuery(nil, nil, nil)
		b.AddFilter(filter)
		return b, false, nil
	}
	parsed, err := query.NewQueryStringQuery(r.Query).Parse()
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "runtime error") {
			// The parser recovered from its own panic: its message is
			// about its insides, not the query.
			msg = "the query cannot be parsed: check its quotes, brackets and slashes (a / starts a regular expression: /abc/)"
		}
		return nil, false, &badQueryError{msg: msg}
	}
	parsed, err = rewrite(parsed)
	if err != nil {
		return nil, false, err
	}
	if filter == nil {
		return parsed, true, nil
	}
	b, ok := parsed.(*query.BooleanQuery)
	if !ok || b.Filter != nil {
		b = query.NewBooleanQuery([]query.Query{parsed}, nil, nil)
	}
	b.AddFilter(filter)
	return b, true, nil
}

// filters is the conjunction of the request's filters, nil when none.
func filters(r Request) query.Query {
	var fs []query.Query
	anyOf := func(field string, vals []string) {
		var qs []query.Query
		for _, v := range vals {
			t := query.NewTermQuery(v)
			t.SetField(field)
			qs = append(qs, t)
		}
		switch len(qs) {
		case 0:
		case 1:
			fs = append(fs, qs[0])
		default:
			fs = append(fs, query.NewDisjunctionQuery(qs))
		}
	}
	anyOf(FieldPlatform, r.Platforms)
	anyOf(FieldKind, r.Kinds)
	anyOf(FieldDepartment, r.Departments)
	anyOf(FieldAuthor, r.Authors)
	anyOf(FieldFlag, r.Flags)
	accounts := make([]string, len(r.AccountIDs))
	for i, id := range r.AccountIDs {
		accounts[i] = strconv.FormatUint(id, 10)
	}
	anyOf(FieldAccount, accounts)
	if r.From != nil || r.To != nil {
		var from, to time.Time
		if r.From != nil {
			from = r.From.UTC()
		}
		if r.To != nil {
			to = r.To.UTC()
		}
		incl, excl := true, false
		d := query.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
		d.SetField(FieldCreatedAt)
		fs = append(fs, d)
	}
	for field, v := range map[string]*bool{FieldDeleted: r.Deleted, FieldEdited: r.Edited, FieldHidden: r.Hidden} {
		if v != nil {
			b := query.NewBoolFieldQuery(*v)
			b.SetField(field)
			fs = append(fs, b)
		}
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return query.NewConjunctionQuery(fs)
}

// rewrite walks the parsed query string in place (keeping the parser's
// containers, which skip stop-word-only parts) and fixes its leaves.
func rewrite(q query.Query) (query.Query, error) {
	var err error
	switch t := q.(type) {
	case *query.BooleanQuery:
		for _, part := range []*query.Query{&t.Must, &t.Should, &t.MustNot} {
			if *part != nil {
				if *part, err = rewrite(*part); err != nil {
					return nil, err
				}
			}
		}
		return t, nil
	case *query.ConjunctionQuery:
		for i := range t.Conjuncts {
			if t.Conjuncts[i], err = rewrite(t.Conjuncts[i]); err != nil {
				return nil, err
			}
		}
		return t, nil
	case *query.DisjunctionQuery:
		for i := range t.Disjuncts {
			if t.Disjuncts[i], err = rewrite(t.Disjuncts[i]); err != nil {
				return nil, err
			}
		}
		return t, nil
	case query.FieldableQuery:
		return rewriteLeaf(t)
	}
	return q, nil
}

// fieldNames lists the fields a query may name, for error messages.
func fieldNames() string {
	names := make([]string, 0, len(fieldKinds))
	for f := range fieldKinds {
		names = append(names, f)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// rewriteLeaf checks one leaf: an unfielded one searches text and
// versions; a fielded one must name a known field and suit its type.
func rewriteLeaf(q query.FieldableQuery) (query.Query, error) {
	if err := checkLeaf(q); err != nil {
		return nil, err
	}
	field := q.Field()
	if field == "" {
		a, b := cloneLeaf(q), cloneLeaf(q)
		if a == nil {
			return nil, badQuery("unsupported query part %T", q)
		}
		a.SetField(FieldText)
		b.SetField(FieldVersions)
		foldWildcard(a)
		foldWildcard(b)
		return query.NewDisjunctionQuery([]query.Query{a, b}), nil
	}
	kind, ok := fieldKinds[field]
	if !ok {
		return nil, badQuery("unknown field %q; fields are %s", field, fieldNames())
	}
	switch kind {
	case "text":
		foldWildcard(q)
	case "keyword":
		// A keyword field holds whole values without positions: a phrase
		// is the exact value.
		if p, ok := q.(*query.MatchPhraseQuery); ok {
			t := query.NewTermQuery(p.MatchPhrase)
			t.SetField(field)
			if p.BoostVal != nil {
				t.SetBoost(p.BoostVal.Value())
			}
			return t, nil
		}
	case "boolean":
		switch t := q.(type) {
		case *query.MatchQuery:
			v, err := strconv.ParseBool(t.Match)
			if err != nil {
				return nil, badQuery("%s takes true or false, not %q", field, t.Match)
			}
			b := query.NewBoolFieldQuery(v)
			b.SetField(field)
			return b, nil
		case *query.NumericRangeQuery:
		default:
			return nil, badQuery("%s takes true or false", field)
		}
	case "datetime":
		switch t := q.(type) {
		case *query.MatchQuery:
			return dayOrMonthRange(field, t.Match)
		case *query.MatchPhraseQuery:
			return dayOrMonthRange(field, t.MatchPhrase)
		case *query.DateRangeQuery, *query.NumericRangeQuery:
		default:
			return nil, badQuery("%s takes a date (YYYY-MM-DD, YYYY-MM or RFC 3339) or a range like %s:>=\"2024-01-01\"", field, field)
		}
	}
	return q, nil
}

// checkLeaf refuses what bleve would only refuse while searching.
func checkLeaf(q query.FieldableQuery) error {
	switch t := q.(type) {
	case *query.MatchQuery:
		if t.Fuzziness > searcher.MaxFuzziness {
			return badQuery("fuzziness exceeds max (%d)", searcher.MaxFuzziness)
		}
		if t.Fuzziness < 0 {
			return badQuery("fuzziness must not be negative")
		}
	case *query.DateRangeQuery:
		if !DateInRange(t.Start.Time) || !DateInRange(t.End.Time) {
			return badQuery("a date range must lie between %d and %d", MinYear, MaxYear)
		}
	case *query.RegexpQuery:
		re, err := syntax.Parse(t.Regexp, syntax.Perl)
		if err != nil {
			return badQuery("bad regular expression /%s/: %v", t.Regexp, err)
		}
		if hasAnchor(re) {
			return badQuery("bad regular expression /%s/: anchors and word boundaries are not supported (it always matches whole terms)", t.Regexp)
		}
	}
	return nil
}

func hasAnchor(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAnchor(s) {
			return true
		}
	}
	return false
}

// cloneLeaf copies a parser leaf so each text field gets its own.
func cloneLeaf(q query.FieldableQuery) query.FieldableQuery {
	switch t := q.(type) {
	case *query.MatchQuery:
		c := *t
		return &c
	case *query.MatchPhraseQuery:
		c := *t
		return &c
	case *query.WildcardQuery:
		c := *t
		return &c
	case *query.RegexpQuery:
		c := *t
		return &c
	case *query.NumericRangeQuery:
		c := *t
		return &c
	case *query.DateRangeQuery:
		c := *t
		return &c
	}
	return nil
}

// foldWildcard lower-cases and folds accents out of a wildcard on a text
// field: wildcards skip analysis, and the indexed terms are folded.
func foldWildcard(q query.Query) {
	if w, ok := q.(*query.WildcardQuery); ok {
		w.Wildcard = foldString(strings.ToLower(w.Wildcard))
	}
}

// dayOrMonthRange turns field:2024-03-05 (that day, UTC), field:2024-03
// (that month) or field:<RFC 3339> (that instant) into a date range.
func dayOrMonthRange(field, v string) (query.Query, error) {
	var from, to time.Time
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		from, to = t, t.Add(time.Nanosecond)
	} else if t, err := time.Parse(time.DateOnly, v); err == nil {
		from, to = t, t.AddDate(0, 0, 1)
	} else if t, err := time.Parse("2006-01", v); err == nil {
		from, to = t, t.AddDate(0, 1, 0)
	} else {
		return nil, badQuery("%s takes a date (YYYY-MM-DD, YYYY-MM or RFC 3339), not %q", field, v)
	}
	if !DateInRange(from) || !DateInRange(to) {
		return nil, badQuery("%s: %q is outside the dates the index holds (%d to %d)", field, v, MinYear, MaxYear)
	}
	incl, excl := true, false
	d := query.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
	d.SetField(field)
	return d, nil
}

// The index stores times as nanoseconds since 1970 in an int64, so it
// holds years 1678 to 2261; a date outside a safe range within that is a
// bad query, not a failed search.
const (
	MinYear = 1900
	MaxYear = 2200
)

// DateInRange reports whether t is a date the index can search for.
func DateInRange(t time.Time) bool {
	return t.IsZero() || (t.Year() >= MinYear && t.Year() <= MaxYear)
}

// pageToken is what NextPageToken encodes: the sort it belongs to, a
// fingerprint of the request, and the last hit's sort values.
type pageToken struct {
	Version     int      `json:"v"`
	Sort        string   `json:"s"`
	Fingerprint string   `json:"f"`
	After       []string `json:"a"`
}

const tokenVersion = 1

func encodeToken(t pageToken) string {
	t.Version = tokenVersion
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s, sortName, fp string, order bsearch.SortOrder) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, badQuery("bad page token")
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.Version != tokenVersion || len(t.After) != len(order) {
		return nil, badQuery("bad page token")
	}
	if t.Sort != sortName {
		return nil, badQuery("the page token belongs to the %q sort, not %q", t.Sort, sortName)
	}
	if t.Fingerprint != fp {
		return nil, badQuery("the page token belongs to another search")
	}
	for i, s := range order {
		switch s := s.(type) {
		case *bsearch.SortScore:
			if _, err := strconv.ParseFloat(t.After[i], 64); err != nil {
				return nil, badQuery("bad page token")
			}
		case *bsearch.SortField:
			if s.Type == bsearch.SortFieldAsDate {
				if _, err := time.Parse(time.RFC3339Nano, t.After[i]); err != nil {
					return nil, badQuery("bad page token")
				}
			}
		}
	}
	return t.After, nil
}

// fingerprint identifies a request apart from its page, so a token is
// only used with the search it came from.
func fingerprint(r Request, sortName string) string {
	norm := func(vs []string) []string {
		c := slices.Clone(vs)
		slices.Sort(c)
		return c
	}
	accounts := slices.Clone(r.AccountIDs)
	slices.Sort(accounts)
	b, _ := json.Marshal([]any{strings.TrimSpace(r.Query), norm(r.Platforms), norm(r.Kinds), norm(r.Departments),
		norm(r.Authors), norm(r.Flags), accounts, r.From, r.To, r.Deleted, r.Edited, r.Hidden, sortName})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
