package api

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// searchParamNames are the parameters searchRequestFrom can refuse.
var searchParamNames = []string{"account", "from", "to", "deleted", "edited", "hidden", "size", "sort"}

// searchFuzzHarness is a fuzz harness whose index holds a few items.
func searchFuzzHarness(f *testing.F) (*harness, int) {
	h := newFuzzHarness(f)
	ctx := context.Background()
	acct := &storage.Account{Platform: "mastodon", Handle: "clintoncity", Department: "Parks", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := h.cat.CreateAccount(ctx, acct, "test"); err != nil {
		f.Fatal(err)
	}
	run, err := h.cat.StartRun(ctx, acct.ID, storage.RunFull, "test")
	if err != nil {
		f.Fatal(err)
	}
	texts := []string{"Main St closed Saturday for the parade", "Council meets Tuesday", "Nuevo horario de la piscina 🏊", "Road closure on Elm Avenue"}
	for i, text := range texts {
		ref, _, err := blob.PutBytes(ctx, h.srv.Blobs, []byte(text))
		if err != nil {
			f.Fatal(err)
		}
		at := time.Date(2026, 7, 20+i, 15, 0, 0, 0, time.UTC)
		if _, err := h.cat.RecordItem(ctx, storage.ItemCapture{AccountID: acct.ID, RunID: run.ID, Platform: "mastodon", NativeID: "p" + string(rune('1'+i)),
			Kind: "post", AuthorName: "City of Clinton", CreatedAt: &at, Actor: "system:test",
			Versions: []storage.VersionCapture{{SHA256: ref.SHA256, NormalizedKey: ref.Key, RawKey: ref.Key, Text: text}}}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := h.srv.Search.CatchUp(ctx, h.cat); err != nil {
		f.Fatal(err)
	}
	return h, len(texts)
}

// FuzzSearchParams sends a random query string to GET /api/v1/search and
// to parseSearch, which reads the same parameters for holds and exports.
//
// Properties: the handler answers 200, 400 (the index refused q, the
// page token or the sort, naming one of them) or 422 (naming exactly the
// parameters searchRequestFrom refuses), never a 500; a 400's message
// shows no recovered panic; a 200 is a JSON page of at most size hits out
// of no more items than the index holds; parseSearch refuses with
// FieldErrors naming only search parameters or the scope's field, and
// what it accepts has a known sort, a size within bounds, and the q,
// accounts and filters the string carries.
func FuzzSearchParams(f *testing.F) {
	for _, s := range []string{
		"", "q=parade", "q=" + url.QueryEscape(`"road closure" -parade`), "q=%22unterminated", "q=nosuchfield:x", "q=road~-1", "q=%2F",
		"page_token=garbage", "deleted=maybe", "deleted=1&edited=F&hidden=true", "size=1000000", "size=-3", "size=0", "size=1",
		"sort=newest", "sort=loudest", "facets=false", "from=2026-07-20&to=2026-07-21", "from=24/07/2026", "to=2026-02-30",
		"from=0001-01-01", "to=9999-12-31", "q=created_at:0001-01-01",
		"platform=mastodon,x&platform=bluesky", "account=1,2", "account=1;%20DROP%20TABLE%20items", "account=18446744073709551615",
		"account=18446744073709551616", "kind=post&department=Parks&author=City+of+Clinton&flag=A",
		"q=%27+OR+%271%27%3D%271", "platform=%27+OR+%271%27%3D%271", "q=%00", "q=%ff", "%", "q=%zz", "&&&=", "q=a&q=b", ";",
		"q=" + strings.Repeat("x", 5000),
	} {
		f.Add(s)
	}
	h, docs := searchFuzzHarness(f)

	f.Fuzz(func(t *testing.T, raw string) {
		// The pure parse, as a hold or an export's scope is read.
		sr, err := h.srv.parseSearch(raw, "query")
		if err != nil {
			var fe records.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("parseSearch(%q): %v is not FieldErrors", raw, err)
			}
			for k, msg := range fe {
				if (k != "query" && !slices.Contains(searchParamNames, k)) || msg == "" {
					t.Fatalf("parseSearch(%q): refuses %q (%q)", raw, k, msg)
				}
			}
		} else {
			q, _ := url.ParseQuery(raw)
			if sr.Query != q.Get("q") || sr.PageToken != q.Get("page_token") {
				t.Fatalf("parseSearch(%q): query %q, page token %q", raw, sr.Query, sr.PageToken)
			}
			if !slices.Contains([]string{search.SortRelevance, search.SortNewest, search.SortOldest}, sr.Sort) {
				t.Fatalf("parseSearch(%q): sort %q", raw, sr.Sort)
			}
			if sr.Size < 0 || sr.Size > search.MaxPageSize {
				t.Fatalf("parseSearch(%q): size %d", raw, sr.Size)
			}
			if len(sr.AccountIDs) != len(multiValues(q, "account")) {
				t.Fatalf("parseSearch(%q): accounts %v", raw, sr.AccountIDs)
			}
			for name, got := range map[string][]string{"platform": sr.Platforms, "kind": sr.Kinds, "department": sr.Departments, "author": sr.Authors, "flag": sr.Flags} {
				if !slices.Equal(got, multiValues(q, name)) {
					t.Fatalf("parseSearch(%q): %s %q", raw, name, got)
				}
			}
		}

		// The handler, on the parameters as gin reads them (dropping
		// pairs it cannot decode).
		req := httptest.NewRequest("GET", "/api/v1/search", nil)
		req.URL.RawQuery = raw
		req.Header.Set("Authorization", "Bearer "+h.tokens[storage.RoleClerk])
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		_, problems := h.srv.searchRequestFrom(req.URL.Query())
		var e errorBody
		switch w.Code {
		case http.StatusOK:
			if len(problems) > 0 {
				t.Fatalf("search?%q: 200 despite %v", raw, problems)
			}
			var page struct {
				Total uint64            `json:"total"`
				Hits  []json.RawMessage `json:"hits"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				t.Fatalf("search?%q: 200, not a page: %v", raw, err)
			}
			if page.Total > uint64(docs) || len(page.Hits) > int(page.Total) || len(page.Hits) > search.MaxPageSize {
				t.Fatalf("search?%q: %d hits of %d in an index of %d", raw, len(page.Hits), page.Total, docs)
			}
		case http.StatusBadRequest:
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code != "bad_query" || e.Error.Message == "" || len(e.Error.Fields) != 1 ||
				!slices.Contains([]string{"q", "page_token", "sort"}, e.Error.Fields[0]) {
				t.Fatalf("search?%q: 400 that is not a bad query naming q, page_token or sort: %s", raw, w.Body)
			}
			for _, leak := range []string{"runtime error", "goroutine", "0xc0", "%!"} {
				if strings.Contains(e.Error.Message, leak) && !strings.Contains(raw, leak) && !strings.Contains(req.URL.Query().Get("q"), leak) {
					t.Fatalf("search?%q: the 400 shows an internal error: %q", raw, e.Error.Message)
				}
			}
		case http.StatusUnprocessableEntity:
			want := slices.Sorted(maps.Keys(problems))
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !slices.Equal(e.Error.Fields, want) {
				t.Fatalf("search?%q: 422 naming %v; want %v: %s", raw, e.Error.Fields, want, w.Body)
			}
		default:
			t.Fatalf("search?%q: %d; want 200, 400 or 422: %.500s", raw, w.Code, w.Body)
		}
	})
}

// FuzzSearchScope feeds a hold's or an export's scope, a query and a JSON
// filters object, to searchParams, which freezes it as GET /api/v1/search
// parameters.
//
// Properties: a refusal is FieldErrors naming only "filters"; otherwise
// the parameters parse back to the same query and to exactly the filters
// given (each a known filter, a string kept as is), and parseSearch
// either accepts them or names only known filters.
func FuzzSearchScope(f *testing.F) {
	for _, s := range []struct{ q, filters string }{
		{"", `{}`}, {"parade", `{"platform":"mastodon"}`}, {"parade", `{"platform":["mastodon","x"],"deleted":true,"account":7}`},
		{"", `{"from":"2026-07-01","to":"2026-07-31"}`}, {"", `{"q":"x"}`}, {"", `{"size":5}`}, {"", `{"platform":{"a":1}}`},
		{"", `{"platform":null}`}, {"", `{"account":1e300}`}, {"", `{"account":-1.5}`}, {"' OR '1'='1", `{"author":"' OR '1'='1"}`},
		{"a&b=c", `{"department":"x&platform=y"}`}, {"", `{"platform":[null,{"a":1},[1]]}`}, {"%zz", `{"kind":"%zz"}`}, {"", `[]`}, {"", `null`},
	} {
		f.Add(s.q, s.filters)
	}
	s := &Server{Deps: Deps{}}

	f.Fuzz(func(t *testing.T, query, filtersJSON string) {
		var filters map[string]any
		if json.Unmarshal([]byte(filtersJSON), &filters) != nil {
			return // the API refuses a body that is not JSON before this
		}
		params, err := searchParams(query, filters)
		if err != nil {
			var fe records.FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || fe["filters"] == "" {
				t.Fatalf("searchParams(%q, %s): %v", query, filtersJSON, err)
			}
			return
		}
		q, err := url.ParseQuery(params)
		if err != nil {
			t.Fatalf("searchParams(%q, %s) = %q, which does not parse: %v", query, filtersJSON, params, err)
		}
		if q.Get("q") != query || (query == "" && q.Has("q")) {
			t.Fatalf("searchParams(%q, %s) = %q: q is %q", query, filtersJSON, params, q.Get("q"))
		}
		for k, vs := range q {
			if k == "q" {
				continue
			}
			if !slices.Contains(filterParams, k) {
				t.Fatalf("searchParams(%q, %s) = %q: %q is not a filter", query, filtersJSON, params, k)
			}
			if _, ok := filters[k]; !ok {
				t.Fatalf("searchParams(%q, %s) = %q: %q was not given", query, filtersJSON, params, k)
			}
			if str, ok := filters[k].(string); ok && (len(vs) != 1 || vs[0] != str) {
				t.Fatalf("searchParams(%q, %s) = %q: %q is %q, not %q", query, filtersJSON, params, k, vs, str)
			}
		}
		for k, v := range filters {
			if l, ok := v.([]any); ok && len(l) == 0 {
				continue // an empty list adds nothing
			}
			if !q.Has(k) {
				t.Fatalf("searchParams(%q, %s) = %q: %q is lost", query, filtersJSON, params, k)
			}
		}
		if _, err := s.parseSearch(params, "query"); err != nil {
			var fe records.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("parseSearch(%q): %v", params, err)
			}
			for k := range fe {
				if !slices.Contains(filterParams, k) {
					t.Fatalf("parseSearch(%q) refuses %q, which is not a filter of the scope", params, k)
				}
			}
		}
	})
}
