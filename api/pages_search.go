package api

import (
	"bytes"
	"errors"
	"html"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
)

// CanSearch reports whether the caller may use the clerk's search pages.
func (id *Identity) CanSearch() bool { return id != nil && slices.Contains(readers, id.Role) }

// searchView is what search.html gets.
type searchView struct {
	pageData
	Q        string
	QError   string   // the parser's message for a malformed query
	Problems []string // other bad parameters
	From, To string
	Deleted  string // "", "true" or "false"
	Edited   string
	Hidden   string
	Sort     string
	Carry    []param // active facet filters the form keeps
	Total    uint64
	Took     string
	Hits     []hitView
	Facets   []facetView
	NextURL  string
	FirstURL string // set on later pages
	ClearURL string // filters off, query kept
	Filtered bool
	Searched bool
}

type param struct{ Name, Value string }

type facetView struct {
	Label string
	Terms []facetTerm
}

type facetTerm struct {
	Label  string
	Count  int
	URL    string
	Active bool
}

type hitView struct {
	URL          string
	Title        string
	Platform     string
	Account      string
	Created      string
	Deleted      string // when the deletion was noticed, city time; "" when live
	Hidden       bool
	VersionCount int
	Matched      int
	Snippet      template.HTML
	SnippetLabel string
}

// EarlierVersion is true when the query matched a version the item no
// longer shows.
func (h hitView) EarlierVersion() bool { return h.Matched > 0 && h.Matched < h.VersionCount }

// base is the pageData every page of the clerk's pages starts from.
func (s *Server) base(c *gin.Context, title string) pageData {
	return pageData{Title: title, Who: identity(c), CSRF: s.csrfToken(c), Version: s.Version}
}

// renderView executes a page whose data is more than pageData (v embeds
// it), into a buffer first like render.
func (s *Server) renderView(c *gin.Context, status int, name string, v any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, v); err != nil {
		s.Log.Error("render page", "page", name, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// searchPage is GET /search: the query form, facets and one page of hits.
// Its parameters are those of GET /api/v1/search, so a search is a link.
func (s *Server) searchPage(c *gin.Context) {
	q := c.Request.URL.Query()
	v := searchView{pageData: s.base(c, "Search the archive"), Q: c.Query("q"), From: c.Query("from"), To: c.Query("to"),
		Deleted: c.Query("deleted"), Edited: c.Query("edited"), Hidden: c.Query("hidden"), Sort: c.DefaultQuery("sort", search.SortRelevance)}
	for _, name := range []string{"platform", "kind", "account", "flag", "department", "author"} {
		for _, val := range multi(c, name) {
			v.Carry = append(v.Carry, param{name, val})
		}
	}
	v.Filtered = len(v.Carry) > 0 || v.From != "" || v.To != "" || v.Deleted != "" || v.Edited != "" || v.Hidden != ""
	v.ClearURL = "/search?" + url.Values{"q": {v.Q}, "sort": {v.Sort}}.Encode()
	if s.Search == nil {
		s.fail(c, http.StatusServiceUnavailable, "unavailable", "search is not available on this server")
		return
	}
	r, problems := s.searchRequest(c)
	if len(problems) > 0 {
		for _, f := range slices.Sorted(maps.Keys(problems)) {
			v.Problems = append(v.Problems, f+" "+problems[f])
		}
		s.renderView(c, http.StatusBadRequest, "search.html", v)
		return
	}
	res, hits, err := s.runSearch(c, r)
	if errors.Is(err, search.ErrBadQuery) {
		v.QError = err.Error()
		s.renderView(c, http.StatusBadRequest, "search.html", v)
		return
	}
	if err != nil {
		s.internal(c, "search", err)
		return
	}
	v.Searched, v.Total, v.Took = true, res.Total, res.Took.Round(time.Millisecond).String()
	var accounts map[uint64]storage.Account
	if len(res.Facets[search.FacetAccount]) > 0 {
		if accounts, err = s.Catalog.AccountsByID(c.Request.Context()); err != nil {
			s.internal(c, "search accounts", err)
			return
		}
	}
	for _, h := range hits {
		v.Hits = append(v.Hits, s.hitView(h, accounts))
	}
	v.Facets = s.facetViews(q, res.Facets, accounts)
	if res.NextPageToken != "" {
		v.NextURL = withParam(q, "page_token", res.NextPageToken)
	}
	if q.Get("page_token") != "" {
		v.FirstURL = withParam(q, "page_token", "")
	}
	s.renderView(c, http.StatusOK, "search.html", v)
}

// withParam is /search with q's parameters, name set to value (or
// removed when value is ""), and never the old page token.
func withParam(q url.Values, name, value string) string {
	n := url.Values{}
	for k, vs := range q {
		if k != "page_token" && k != name {
			n[k] = vs
		}
	}
	if value != "" {
		n.Set(name, value)
	}
	return "/search?" + n.Encode()
}

// toggled is /search with value added to (or, when there, removed from)
// the multi-valued filter name, on the first page.
func toggled(q url.Values, name, value string) (string, bool) {
	var cur []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				cur = append(cur, p)
			}
		}
	}
	active := slices.Contains(cur, value)
	if active {
		cur = slices.DeleteFunc(cur, func(s string) bool { return s == value })
	} else {
		cur = append(cur, value)
	}
	n := url.Values{}
	for k, vs := range q {
		if k != "page_token" && k != name {
			n[k] = vs
		}
	}
	if len(cur) > 0 {
		n[name] = cur
	}
	return "/search?" + n.Encode(), active
}

var facetLabels = []struct{ name, param, label string }{
	{search.FacetPlatform, "platform", "Platform"},
	{search.FacetKind, "kind", "Kind"},
	{search.FacetAccount, "account", "Account"},
	{search.FacetFlag, "flag", "Policy flag"},
	{search.FacetMonth, "", "Month"},
}

// facetViews turns the facets into links that add or remove one value and
// keep every other parameter.
func (s *Server) facetViews(q url.Values, facets map[string][]search.FacetCount, accounts map[uint64]storage.Account) []facetView {
	var out []facetView
	for _, f := range facetLabels {
		counts := facets[f.name]
		if len(counts) == 0 {
			continue
		}
		fv := facetView{Label: f.label}
		if f.name == search.FacetMonth { // newest month first reads better than by count
			counts = slices.Clone(counts)
			sort.Slice(counts, func(i, j int) bool { return counts[i].Term > counts[j].Term })
		}
		for _, t := range counts {
			ft := facetTerm{Label: t.Term, Count: t.Count}
			switch f.name {
			case search.FacetMonth:
				ft.URL, ft.Active = monthLink(q, t.Term)
			case search.FacetAccount:
				if id, err := strconv.ParseUint(t.Term, 10, 63); err == nil {
					if a, ok := accounts[id]; ok {
						ft.Label = a.Handle + " (" + a.Platform + ")"
					}
				}
				ft.URL, ft.Active = toggled(q, f.param, t.Term)
			default:
				ft.URL, ft.Active = toggled(q, f.param, t.Term)
			}
			fv.Terms = append(fv.Terms, ft)
		}
		out = append(out, fv)
	}
	return out
}

// monthLink limits the search to one month (from its first to its last
// day) or, when it is the current limit, lifts it.
func monthLink(q url.Values, month string) (string, bool) {
	start, err := time.Parse("2006-01", month)
	if err != nil { // the index only makes YYYY-MM terms
		return withParam(q, "page_token", ""), false
	}
	from, to := start.Format(time.DateOnly), start.AddDate(0, 1, -1).Format(time.DateOnly)
	n := url.Values{}
	for k, vs := range q {
		if k != "page_token" && k != "from" && k != "to" {
			n[k] = vs
		}
	}
	active := q.Get("from") == from && q.Get("to") == to
	if !active {
		n.Set("from", from)
		n.Set("to", to)
	}
	return "/search?" + n.Encode(), active
}

func (s *Server) hitView(h searchHit, accounts map[uint64]storage.Account) hitView {
	v := hitView{URL: "/items/" + itoa(h.ItemID), Title: kindTitle(h.Kind, h.AuthorName), Platform: h.Platform,
		Created: s.cityTime(h.CreatedAt), VersionCount: h.VersionCount, Matched: h.MatchedVersion}
	if a, ok := accounts[h.AccountID]; ok {
		v.Account = a.Handle
	}
	if h.DeletedAt != nil {
		v.Deleted = s.cityTime(h.DeletedAt)
	}
	if h.MatchedVersion > 0 {
		v.URL += "#version-" + strconv.Itoa(h.MatchedVersion)
	}
	switch {
	case len(h.Highlights["versions"]) > 0 && h.MatchedVersion > 0:
		v.Snippet = safeHighlight(h.Highlights["versions"][0])
		v.SnippetLabel = "Version " + strconv.Itoa(h.MatchedVersion)
	case len(h.Highlights["text"]) > 0:
		v.Snippet = safeHighlight(h.Highlights["text"][0])
		v.SnippetLabel = "Current text"
	default:
		v.Snippet = template.HTML(html.EscapeString(excerpt(h.Text, 240)))
		v.SnippetLabel = "Current text"
	}
	return v
}

func kindTitle(kind, author string) string {
	k := "Item"
	switch kind {
	case "post":
		k = "Post"
	case "comment":
		k = "Comment"
	case "reply":
		k = "Reply"
	}
	if author == "" {
		return k
	}
	return k + " by " + author
}

// cityTime shows an instant in the city's time zone; "" for none.
func (s *Server) cityTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(s.location()).Format("2006-01-02 15:04 MST")
}

// excerpt is at most n runes of text, cut at a space when it can be.
func excerpt(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// safeHighlight admits a highlighter fragment as HTML only when it is what
// the highlighter promises: escaped text with balanced <mark> tags and no
// other markup. Anything else is shown as text.
func safeHighlight(frag string) template.HTML {
	rest, open := frag, false
	for rest != "" {
		i := strings.IndexByte(rest, '<')
		text := rest
		if i >= 0 {
			text = rest[:i]
		}
		if html.EscapeString(html.UnescapeString(text)) != text {
			return template.HTML(html.EscapeString(frag))
		}
		if i < 0 {
			break
		}
		rest = rest[i:]
		switch {
		case !open && strings.HasPrefix(rest, "<mark>"):
			rest, open = rest[len("<mark>"):], true
		case open && strings.HasPrefix(rest, "</mark>"):
			rest, open = rest[len("</mark>"):], false
		default:
			return template.HTML(html.EscapeString(frag))
		}
	}
	if open {
		return template.HTML(html.EscapeString(frag))
	}
	return template.HTML(frag)
}
