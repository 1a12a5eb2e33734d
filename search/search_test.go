package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/civicarchive/civicarchive/storage"
)

// archive is a small real catalog (SQLite in a temp dir) built through the
// storage API, with the ids of its items by native id.
type archive struct {
	cat      *storage.Catalog
	accounts map[string]*storage.Account // by handle
	ids      map[string]uint64           // item id by native id
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(15 * time.Hour) // mid-afternoon UTC
}

// MustCatalog opens an empty SQLite catalog, closed at cleanup.
func MustCatalog(tb testing.TB) *storage.Catalog {
	tb.Helper()
	c, err := storage.Open(context.Background(), storage.Options{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatalf("open catalog: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// MustIndex opens a new index in a temp dir, closed at cleanup.
func MustIndex(tb testing.TB) (*Index, string) {
	tb.Helper()
	dir := tb.TempDir()
	x, _, err := Open(dir, nil)
	if err != nil {
		tb.Fatalf("open index: %v", err)
	}
	tb.Cleanup(func() { x.Close() })
	return x, dir
}

type rec struct {
	native, kind, parent, root string
	author, authorID           string
	created                    string
	hidden                     bool
	text                       string
}

func (a *archive) record(t testing.TB, handle string, run uint64, r rec) {
	t.Helper()
	acct := a.accounts[handle]
	h := sha256.Sum256([]byte(r.native + "\x00" + r.text))
	sum := hex.EncodeToString(h[:])
	created := day(r.created)
	res, err := a.cat.RecordItem(context.Background(), storage.ItemCapture{
		AccountID: acct.ID, RunID: run, Platform: acct.Platform, NativeID: r.native, Kind: r.kind,
		ParentNativeID: r.parent, RootNativeID: r.root, AuthorName: r.author, AuthorID: r.authorID,
		CreatedAt: &created, Hidden: r.hidden, Actor: "system:test",
		Versions: []storage.VersionCapture{{SHA256: sum, NormalizedKey: "n-" + sum[:12], RawKey: "r-" + sum[:12], Text: r.text}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.ids[r.native] = res.ItemID
}

func (a *archive) run(t testing.TB, handle string) uint64 {
	t.Helper()
	r, err := a.cat.StartRun(context.Background(), a.accounts[handle].ID, storage.RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// newArchive builds the fixture: three accounts on three platforms; an
// edited post whose first version alone says "resurfacing"; a comment,
// deleted later, that alone says "detour"; Spanish with accents and emoji;
// a hidden comment; a reply.
func newArchive(t testing.TB) *archive {
	t.Helper()
	ctx := context.Background()
	a := &archive{cat: MustCatalog(t), accounts: map[string]*storage.Account{}, ids: map[string]uint64{}}
	for _, acct := range []*storage.Account{
		{Platform: "mastodon", Handle: "city", Department: "Public Works", CredentialEnc: []byte("s3cret-token")},
		{Platform: "bluesky", Handle: "parks.city", Department: "Parks"},
		{Platform: "facebook", Handle: "police", NativeID: "1234", Department: "Police", CredentialEnc: []byte("fb-page-token")},
	} {
		acct.Status, acct.Approval = storage.AccountActive, storage.ApprovalApproved
		if err := a.cat.CreateAccount(ctx, acct, "test"); err != nil {
			t.Fatal(err)
		}
		a.accounts[acct.Handle] = acct
	}
	run1 := a.run(t, "city")
	a.record(t, "city", run1, rec{native: "p1", kind: "post", author: "City of Clinton", authorID: "acct1", created: "2024-01-10", text: "Main Street resurfacing starts Monday"})
	a.record(t, "city", run1, rec{native: "c1", kind: "comment", parent: "p1", root: "p1", author: "Jane Doe", authorID: "u42", created: "2024-01-11", text: "How long will the detour last?"})
	a.record(t, "city", run1, rec{native: "r1", kind: "reply", parent: "c1", root: "p1", author: "City of Clinton", authorID: "acct1", created: "2024-01-12", text: "About two weeks, thanks for asking"})
	a.record(t, "city", run1, rec{native: "p2", kind: "post", author: "City of Clinton", authorID: "acct1", created: "2024-03-15", text: "Council meeting agenda posted"})
	// The second run sees p1 edited and r1, not c1: c1 was deleted.
	run2 := a.run(t, "city")
	a.record(t, "city", run2, rec{native: "p1", kind: "post", author: "City of Clinton", authorID: "acct1", created: "2024-01-10", text: "Main Street work starts Monday"})
	a.record(t, "city", run2, rec{native: "r1", kind: "reply", parent: "c1", root: "p1", author: "City of Clinton", authorID: "acct1", created: "2024-01-12", text: "About two weeks, thanks for asking"})
	if n, err := a.cat.MarkThreadDeleted(ctx, a.accounts["city"].ID, run2, "p1", "system:test"); err != nil || n != 1 {
		t.Fatalf("mark deleted: %d, %v; want c1", n, err)
	}
	run3 := a.run(t, "parks.city")
	a.record(t, "parks.city", run3, rec{native: "b1", kind: "post", author: "Parks", authorID: "did:plc:parks", created: "2024-02-03", text: "Nuevo horario de la piscina: información aquí 🏊 🚧"})
	a.record(t, "parks.city", run3, rec{native: "b2", kind: "post", author: "Parks", authorID: "did:plc:parks", created: "2024-02-20", text: "Park cleanup volunteers needed this Saturday <3 & thanks"})
	run4 := a.run(t, "police")
	a.record(t, "police", run4, rec{native: "f1", kind: "post", author: "Clinton Police", authorID: "1234", created: "2024-03-05", text: "Road closures on Elm Avenue due to flooding"})
	a.record(t, "police", run4, rec{native: "fc1", kind: "comment", parent: "f1", root: "f1", author: "Sam Roe", authorID: "u77", created: "2024-03-06", hidden: true, text: "Is the road closed near the school?"})
	return a
}

// items returns every catalog item.
func (a *archive) items(t testing.TB) []storage.Item {
	t.Helper()
	p, err := a.cat.ListItems(context.Background(), 0, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func (a *archive) native(id uint64) string {
	for n, i := range a.ids {
		if i == id {
			return n
		}
	}
	return fmt.Sprintf("#%d", id)
}

func (a *archive) natives(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, a.native(h.ItemID))
	}
	sort.Strings(out)
	return out
}

// indexed builds the fixture and an index caught up with it.
func indexed(t testing.TB) (*archive, *Index, string) {
	t.Helper()
	a := newArchive(t)
	x, dir := MustIndex(t)
	n, err := x.CatchUp(context.Background(), a.cat)
	if err != nil || n != len(a.ids) {
		t.Fatalf("CatchUp = %d, %v; want %d items", n, err, len(a.ids))
	}
	return a, x, dir
}

func ptr[T any](v T) *T { return &v }

func mustSearch(t *testing.T, x *Index, r Request) *Result {
	t.Helper()
	res, err := x.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("Search(%+v): %v", r, err)
	}
	return res
}

func TestSearch(t *testing.T) {
	a, x, _ := indexed(t)
	tests := []struct {
		name    string
		req     Request
		want    []string       // native ids, any order
		version map[string]int // MatchedVersion by native id, when checked
	}{
		{"word_only_in_an_earlier_version", Request{Query: "resurfacing"}, []string{"p1"}, map[string]int{"p1": 1}},
		{"word_in_the_current_version", Request{Query: "work"}, []string{"p1"}, map[string]int{"p1": 2}},
		{"word_in_every_version_matches_the_latest", Request{Query: "Monday"}, []string{"p1"}, map[string]int{"p1": 2}},
		{"only_the_current_text_field", Request{Query: "text:monday"}, []string{"p1"}, map[string]int{"p1": 2}},
		{"versions_field_finds_old_words", Request{Query: "versions:resurfacing"}, []string{"p1"}, map[string]int{"p1": 1}},
		{"current_text_field_ignores_old_words", Request{Query: "text:resurfacing"}, nil, nil},
		{"word_only_in_a_deleted_comment", Request{Query: "detour"}, []string{"c1"}, map[string]int{"c1": 1}},
		{"deleted_filter_keeps_it", Request{Query: "detour", Deleted: ptr(true)}, []string{"c1"}, nil},
		{"live_filter_excludes_it", Request{Query: "detour", Deleted: ptr(false)}, nil, nil},
		{"phrase", Request{Query: `"road closed"`}, []string{"fc1"}, nil},
		{"plus_minus", Request{Query: "+road -school"}, []string{"f1"}, nil},
		{"any_word", Request{Query: "flooding detour"}, []string{"c1", "f1"}, nil},
		{"required_field_and_word", Request{Query: "+kind:comment +road"}, []string{"fc1"}, nil},
		{"field_value", Request{Query: "kind:comment"}, []string{"c1", "fc1"}, map[string]int{"c1": 0, "fc1": 0}},
		{"field_platform", Request{Query: "platform:bluesky"}, []string{"b1", "b2"}, nil},
		{"field_native_id", Request{Query: "native_id:f1"}, []string{"f1"}, nil},
		{"field_author_name", Request{Query: `author:"Jane Doe"`}, []string{"c1"}, nil},
		{"field_author_id", Request{Query: "author:u42"}, []string{"c1"}, nil},
		{"field_deleted", Request{Query: "deleted:true"}, []string{"c1"}, nil},
		{"field_month", Request{Query: "month:2024-02"}, []string{"b1", "b2"}, nil},
		{"field_created_month", Request{Query: "created_at:2024-03"}, []string{"f1", "fc1", "p2"}, nil},
		{"field_created_day", Request{Query: "created_at:2024-03-06"}, []string{"fc1"}, nil},
		{"field_created_range", Request{Query: `created_at:>="2024-03-06"`}, []string{"fc1", "p2"}, nil},
		{"wildcard", Request{Query: "flood*"}, []string{"f1"}, nil},
		{"wildcard_upper_case", Request{Query: "Clos*"}, []string{"f1", "fc1"}, nil},
		{"fuzzy", Request{Query: "agendda~1"}, []string{"p2"}, nil},
		{"stemming", Request{Query: "closure"}, []string{"f1"}, nil},
		{"spanish", Request{Query: "información"}, []string{"b1"}, map[string]int{"b1": 1}},
		{"spanish_without_accent", Request{Query: "informacion piscina"}, []string{"b1"}, nil},
		{"emoji", Request{Query: "🏊"}, []string{"b1"}, nil},
		{"stop_words_only", Request{Query: "the"}, nil, nil},
		{"filter_platform", Request{Platforms: []string{"facebook"}}, []string{"f1", "fc1"}, nil},
		{"filter_platforms_any", Request{Platforms: []string{"facebook", "bluesky"}}, []string{"b1", "b2", "f1", "fc1"}, nil},
		{"filter_kind", Request{Kinds: []string{"reply"}}, []string{"r1"}, nil},
		{"filter_department", Request{Departments: []string{"Parks"}}, []string{"b1", "b2"}, nil},
		{"filter_author", Request{Authors: []string{"Jane Doe"}}, []string{"c1"}, nil},
		{"filter_account", Request{AccountIDs: []uint64{a.accounts["parks.city"].ID}}, []string{"b1", "b2"}, nil},
		{"filter_dates", Request{From: ptr(day("2024-02-01")), To: ptr(day("2024-03-05"))}, []string{"b1", "b2"}, nil},
		{"filter_from", Request{From: ptr(day("2024-03-06"))}, []string{"fc1", "p2"}, nil},
		{"filter_edited", Request{Edited: ptr(true)}, []string{"p1"}, nil},
		{"filter_hidden", Request{Hidden: ptr(true)}, []string{"fc1"}, nil},
		{"filter_flag_none_yet", Request{Flags: []string{"A"}}, nil, nil},
		{"query_and_filters", Request{Query: "road", Platforms: []string{"facebook"}, Hidden: ptr(false)}, []string{"f1"}, nil},
		{"filters_combine", Request{Kinds: []string{"post"}, Departments: []string{"Public Works"}}, []string{"p1", "p2"}, nil},
		{"credentials_not_indexed", Request{Query: "s3cret-token fb-page-token"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustSearch(t, x, tt.req)
			got := a.natives(res.Hits)
			want := slices.Clone(tt.want)
			sort.Strings(want)
			if !slices.Equal(got, want) || res.Total != uint64(len(want)) {
				t.Fatalf("hits = %v (total %d); want %v", got, res.Total, want)
			}
			for _, h := range res.Hits {
				if v, ok := tt.version[a.native(h.ItemID)]; ok && h.MatchedVersion != v {
					t.Errorf("%s: MatchedVersion = %d; want %d", a.native(h.ItemID), h.MatchedVersion, v)
				}
			}
		})
	}
}

func TestSearchHighlights(t *testing.T) {
	a, x, _ := indexed(t)
	tests := []struct {
		query, native, field, want string
	}{
		{"resurfacing", "p1", "versions", "Main Street <mark>resurfacing</mark> starts Monday"},
		{"detour", "c1", "text", "How long will the <mark>detour</mark> last?"},
		{"volunteers", "b2", "text", "Park cleanup <mark>volunteers</mark> needed this Saturday &lt;3 &amp; thanks"},
		{"informacion", "b1", "versions", "<mark>información</mark>"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := mustSearch(t, x, Request{Query: tt.query})
			if len(res.Hits) != 1 || a.native(res.Hits[0].ItemID) != tt.native {
				t.Fatalf("hits = %v", a.natives(res.Hits))
			}
			frags := res.Hits[0].Highlights[tt.field]
			if len(frags) == 0 || !strings.Contains(frags[0], tt.want) {
				t.Fatalf("highlights = %q; want %s containing %q", res.Hits[0].Highlights, tt.field, tt.want)
			}
		})
	}
	// The versions fragment is the matched version's, not the current one.
	res := mustSearch(t, x, Request{Query: "resurfacing"})
	if h := res.Hits[0].Highlights; strings.Contains(strings.Join(h["versions"], " "), "work") || len(h["text"]) != 0 {
		t.Fatalf("highlights of an old version: %q", h)
	}
	// A filter-only search has no highlights.
	res = mustSearch(t, x, Request{Kinds: []string{"post"}})
	for _, h := range res.Hits {
		if h.Highlights != nil || h.MatchedVersion != 0 {
			t.Fatalf("filter-only hit %+v", h)
		}
	}
}

func TestSearchBadQuery(t *testing.T) {
	_, x, _ := indexed(t)
	parserMessage := func(q string) string {
		_, err := query.NewQueryStringQuery(q).Parse()
		if err == nil {
			t.Fatalf("the parser accepts %q", q)
		}
		return err.Error()
	}
	tests := []struct {
		name string
		req  Request
		want string // message, or "" for the parser's own
	}{
		{"unterminated_quote", Request{Query: `"road`}, ""},
		{"lone_plus", Request{Query: "+"}, ""},
		{"field_without_value", Request{Query: "kind:"}, ""},
		{"bad_fuzziness", Request{Query: "road~x"}, ""},
		{"bad_date", Request{Query: `created_at:>"soon"`}, ""},
		{"unknown_field", Request{Query: "colour:red"}, `unknown field "colour"`},
		{"credential_field", Request{Query: "credential_enc:x"}, `unknown field "credential_enc"`},
		{"bool_field_value", Request{Query: "deleted:maybe"}, "deleted takes true or false"},
		{"date_field_value", Request{Query: "created_at:yesterday"}, "created_at takes a date"},
		{"too_fuzzy", Request{Query: "road~5"}, "fuzziness exceeds max"},
		{"bad_regexp", Request{Query: "/[a/"}, "bad regular expression"},
		{"anchored_regexp", Request{Query: `/\broad/`}, "anchors"},
		{"unknown_sort", Request{Query: "road", Sort: "random"}, "unknown sort"},
		{"garbage_token", Request{Query: "road", PageToken: "!!!"}, "bad page token"},
		{"token_of_json_garbage", Request{Query: "road", PageToken: "eyJ2IjoxfQ"}, "bad page token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := x.Search(context.Background(), tt.req)
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("err = %v; want ErrBadQuery", err)
			}
			want := tt.want
			if want == "" {
				want = parserMessage(tt.req.Query)
				if err.Error() != want {
					t.Fatalf("message %q; want the parser's %q", err, want)
				}
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("message %q; want it to contain %q", err, want)
			}
		})
	}
}

// catalogFacets counts, from the catalog, what the facets count.
func catalogFacets(items []storage.Item, keep func(storage.Item) bool) map[string]map[string]int {
	out := map[string]map[string]int{FacetPlatform: {}, FacetAccount: {}, FacetKind: {}, FacetMonth: {}, FacetFlag: {}}
	for _, it := range items {
		if !keep(it) {
			continue
		}
		created := it.FirstSeenAt
		if it.PlatformCreatedAt != nil {
			created = *it.PlatformCreatedAt
		}
		out[FacetPlatform][it.Platform]++
		out[FacetAccount][strconv.FormatUint(it.AccountID, 10)]++
		out[FacetKind][it.Kind]++
		out[FacetMonth][created.UTC().Format("2006-01")]++
	}
	return out
}

func TestFacetsOnlyWhenAsked(t *testing.T) {
	_, x, _ := indexed(t)
	if res := mustSearch(t, x, Request{}); len(res.Facets) != 0 {
		t.Fatalf("facets computed without being asked: %v", res.Facets)
	}
	if res := mustSearch(t, x, Request{Facets: true}); len(res.Facets[FacetKind]) == 0 {
		t.Fatal("facets missing when asked")
	}
}

func TestSearchFacetsMatchCatalog(t *testing.T) {
	a, x, _ := indexed(t)
	items := a.items(t)
	tests := []struct {
		name string
		req  Request
		keep func(storage.Item) bool
	}{
		{"everything", Request{}, func(storage.Item) bool { return true }},
		{"posts", Request{Kinds: []string{"post"}}, func(it storage.Item) bool { return it.Kind == "post" }},
		{"deleted", Request{Deleted: ptr(true)}, func(it storage.Item) bool { return it.DeletedAt != nil }},
		{"bluesky_or_facebook", Request{Platforms: []string{"bluesky", "facebook"}}, func(it storage.Item) bool { return it.Platform != "mastodon" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Facets = true
			res := mustSearch(t, x, tt.req)
			want := catalogFacets(items, tt.keep)
			for name, counts := range want {
				got := map[string]int{}
				for _, fc := range res.Facets[name] {
					got[fc.Term] = fc.Count
				}
				if fmt.Sprint(got) != fmt.Sprint(counts) {
					t.Errorf("facet %s = %v; catalog says %v", name, got, counts)
				}
			}
			total := 0
			for _, n := range want[FacetKind] {
				total += n
			}
			if res.Total != uint64(total) {
				t.Errorf("total %d; catalog says %d", res.Total, total)
			}
		})
	}
}

func TestSearchSort(t *testing.T) {
	a, x, _ := indexed(t)
	created := map[uint64]time.Time{}
	for _, it := range a.items(t) {
		created[it.ID] = *it.PlatformCreatedAt
	}
	tests := []struct {
		name, sort string
		query      string
		newest     bool
	}{
		{"newest", SortNewest, "", true},
		{"oldest", SortOldest, "", false},
		{"newest_with_query", SortNewest, "road detour council", true},
		{"oldest_with_query", SortOldest, "road detour council", false},
		{"empty_query_relevance_is_newest", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustSearch(t, x, Request{Query: tt.query, Sort: tt.sort})
			if len(res.Hits) < 3 {
				t.Fatalf("only %d hits", len(res.Hits))
			}
			for i := 1; i < len(res.Hits); i++ {
				prev, cur := created[res.Hits[i-1].ItemID], created[res.Hits[i].ItemID]
				if (tt.newest && cur.After(prev)) || (!tt.newest && cur.Before(prev)) {
					t.Fatalf("hit %d (%s) out of order after %s", i, cur, prev)
				}
			}
		})
	}
	res := mustSearch(t, x, Request{Query: "road closed school"})
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Score > res.Hits[i-1].Score {
			t.Fatalf("relevance order: %v", res.Hits)
		}
	}
	if a.native(res.Hits[0].ItemID) != "fc1" {
		t.Fatalf("best match %s; want fc1 (all three words)", a.native(res.Hits[0].ItemID))
	}
}

// walk pages through a search, calling between after each page.
func walk(t *testing.T, x *Index, r Request, between func(page int)) ([]uint64, uint64) {
	t.Helper()
	var ids []uint64
	var total uint64
	for page := 0; ; page++ {
		res := mustSearch(t, x, r)
		if page == 0 {
			total = res.Total
		}
		if len(res.Hits) > r.Size {
			t.Fatalf("page of %d hits; size %d", len(res.Hits), r.Size)
		}
		for _, h := range res.Hits {
			ids = append(ids, h.ItemID)
		}
		if res.NextPageToken == "" {
			return ids, total
		}
		if page > 100 {
			t.Fatal("endless pages")
		}
		r.PageToken = res.NextPageToken
		if between != nil {
			between(page)
		}
	}
}

func TestSearchPagination(t *testing.T) {
	for _, sortName := range []string{SortRelevance, SortNewest, SortOldest} {
		t.Run("stable_"+sortName, func(t *testing.T) {
			_, x, _ := indexed(t)
			one := mustSearch(t, x, Request{Query: "the road OR detour OR park OR main OR council OR about OR nuevo", Sort: sortName, Size: MaxPageSize})
			ids, total := walk(t, x, Request{Query: "the road OR detour OR park OR main OR council OR about OR nuevo", Sort: sortName, Size: 2}, nil)
			if total != one.Total || len(ids) != len(one.Hits) {
				t.Fatalf("walked %d of %d; one page has %d", len(ids), total, len(one.Hits))
			}
			for i := range ids {
				if ids[i] != one.Hits[i].ItemID {
					t.Fatalf("page walk order differs at %d", i)
				}
			}
		})
	}
	for _, sortName := range []string{SortNewest, SortOldest} {
		t.Run("new_items_between_pages_"+sortName, func(t *testing.T) {
			a, x, _ := indexed(t)
			before := mustSearch(t, x, Request{Sort: sortName, Size: MaxPageSize})
			run := a.run(t, "parks.city")
			ids, _ := walk(t, x, Request{Sort: sortName, Size: 2}, func(page int) {
				// Items newer and older than anything, and an edit of one
				// already listed, land in the index between pages.
				a.record(t, "parks.city", run, rec{native: fmt.Sprintf("new%d", page), kind: "post", created: "2025-06-01", text: "brand new"})
				a.record(t, "parks.city", run, rec{native: fmt.Sprintf("old%d", page), kind: "post", created: "2020-06-01", text: "backfilled"})
				a.record(t, "parks.city", run, rec{native: "b1", kind: "post", author: "Parks", created: "2024-02-03", text: fmt.Sprintf("edited %d", page)})
				if _, err := x.CatchUp(context.Background(), a.cat); err != nil {
					t.Fatal(err)
				}
			})
			seen := map[uint64]int{}
			for _, id := range ids {
				seen[id]++
				if seen[id] > 1 {
					t.Fatalf("item %s listed twice", a.native(id))
				}
			}
			for _, h := range before.Hits {
				if seen[h.ItemID] != 1 {
					t.Fatalf("item %s listed %d times; want once", a.native(h.ItemID), seen[h.ItemID])
				}
			}
			// The original hits keep their relative order.
			var orig []uint64
			for _, id := range ids {
				if slices.ContainsFunc(before.Hits, func(h Hit) bool { return h.ItemID == id }) {
					orig = append(orig, id)
				}
			}
			for i, h := range before.Hits {
				if orig[i] != h.ItemID {
					t.Fatalf("order changed at %d: %s, want %s", i, a.native(orig[i]), a.native(h.ItemID))
				}
			}
		})
	}
	t.Run("token_bound_to_its_search", func(t *testing.T) {
		_, x, _ := indexed(t)
		res := mustSearch(t, x, Request{Size: 2, Sort: SortNewest})
		if res.NextPageToken == "" {
			t.Fatal("no next page token")
		}
		for name, r := range map[string]Request{
			"other_sort":   {Size: 2, Sort: SortOldest, PageToken: res.NextPageToken},
			"other_filter": {Size: 2, Sort: SortNewest, Kinds: []string{"post"}, PageToken: res.NextPageToken},
			"other_query":  {Size: 2, Sort: SortNewest, Query: "road", PageToken: res.NextPageToken},
			"truncated":    {Size: 2, Sort: SortNewest, PageToken: res.NextPageToken[:len(res.NextPageToken)-3]},
		} {
			if _, err := x.Search(context.Background(), r); !errors.Is(err, ErrBadQuery) {
				t.Errorf("%s: err = %v; want ErrBadQuery", name, err)
			}
		}
		// Another page size is the same search.
		if _, err := x.Search(context.Background(), Request{Size: 3, Sort: SortNewest, PageToken: res.NextPageToken}); err != nil {
			t.Errorf("other size: %v", err)
		}
	})
}

// memFeed is an in-memory Feed for tests and benchmarks that need many
// items or a feed that fails.
type memFeed struct {
	mu       sync.Mutex
	items    []storage.Item // by ChangeSeq
	versions map[uint64][]storage.Version
	seq      uint64
	failAt   int // ItemsChangedSince fails on this call (1-based); 0 never
	calls    int
}

var errFeed = errors.New("catalog unavailable")

func (f *memFeed) add(texts ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.versions == nil {
		f.versions = map[uint64][]storage.Version{}
	}
	id := uint64(len(f.items) + 1)
	f.seq++
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Hour)
	it := storage.Item{ID: id, AccountID: 1 + id%3, Platform: []string{"mastodon", "bluesky", "x"}[id%3], NativeID: strconv.FormatUint(id, 10),
		Kind: "post", Text: texts[len(texts)-1], PlatformCreatedAt: &created, FirstSeenAt: created, VersionCount: len(texts), ChangeSeq: f.seq}
	f.items = append(f.items, it)
	for i, s := range texts {
		f.versions[id] = append(f.versions[id], storage.Version{ItemID: id, Seq: i + 1, Text: s, CapturedAt: created})
	}
}

func (f *memFeed) ItemsChangedSince(_ context.Context, seq uint64, limit int) ([]storage.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failAt != 0 && f.calls >= f.failAt {
		return nil, errFeed
	}
	var out []storage.Item
	for _, it := range f.items {
		if it.ChangeSeq > seq && len(out) < limit {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ChangeSeq < out[j].ChangeSeq })
	return out, nil
}

func (f *memFeed) VersionsOf(_ context.Context, ids []uint64) (map[uint64][]storage.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[uint64][]storage.Version{}
	for _, id := range ids {
		out[id] = f.versions[id]
	}
	return out, nil
}

func (f *memFeed) AccountsByID(context.Context) (map[uint64]storage.Account, error) {
	return map[uint64]storage.Account{1: {ID: 1, Department: "Clerk"}, 2: {ID: 2}, 3: {ID: 3}}, nil
}

func (f *memFeed) CountItems(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items), nil
}

var words = strings.Fields("road closure council meeting park water library budget snow plow trash recycling permit festival parade bridge detour fire police school bus")

func fill(f *memFeed, n int) {
	for i := 0; i < n; i++ {
		w := func(k int) string { return words[(i*11+k*5)%len(words)] }
		if i%10 == 0 {
			f.add(fmt.Sprintf("The %s %s item %d", w(1), w(2), i), fmt.Sprintf("The %s %s item %d, updated", w(3), w(2), i))
		} else {
			f.add(fmt.Sprintf("The %s and %s near the %s, item %d", w(1), w(2), w(3), i))
		}
	}
}

func TestPageSizeCapped(t *testing.T) {
	x, _ := MustIndex(t)
	f := &memFeed{}
	fill(f, MaxPageSize+30)
	if _, err := x.CatchUp(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ size, want int }{{0, DefaultPageSize}, {-5, DefaultPageSize}, {7, 7}, {MaxPageSize, MaxPageSize}, {100000, MaxPageSize}} {
		res := mustSearch(t, x, Request{Size: tt.size})
		if len(res.Hits) != tt.want || res.Total != uint64(MaxPageSize+30) || res.NextPageToken == "" {
			t.Errorf("size %d: %d hits of %d; want %d", tt.size, len(res.Hits), res.Total, tt.want)
		}
	}
}

func TestCatchUpFollowsWatermark(t *testing.T) {
	a, x, _ := indexed(t)
	ctx := context.Background()
	top, _ := a.cat.MaxChangeSeq(ctx)
	if w, err := x.Watermark(); err != nil || w != top {
		t.Fatalf("watermark %d, %v; want %d", w, err, top)
	}
	if n, err := x.CatchUp(ctx, a.cat); err != nil || n != 0 {
		t.Fatalf("second CatchUp indexed %d, %v; want nothing", n, err)
	}
	run := a.run(t, "city")
	a.record(t, "city", run, rec{native: "p3", kind: "post", created: "2024-04-01", text: "Snow plow schedule"})
	a.record(t, "city", run, rec{native: "p2", kind: "post", created: "2024-03-15", text: "Council meeting agenda posted, with minutes"})
	if n, err := x.CatchUp(ctx, a.cat); err != nil || n != 2 {
		t.Fatalf("CatchUp after two changes indexed %d, %v; want 2", n, err)
	}
	if res := mustSearch(t, x, Request{Query: "minutes plow"}); len(res.Hits) != 2 {
		t.Fatalf("changes not searchable: %v", a.natives(res.Hits))
	}
	if n, _ := x.DocCount(); n != uint64(len(a.ids)) {
		t.Fatalf("doc count %d; want %d", n, len(a.ids))
	}
}

func TestCatchUpBatches(t *testing.T) {
	x, _ := MustIndex(t)
	f := &memFeed{}
	fill(f, 2*BatchSize+17)
	n, err := x.CatchUp(context.Background(), f)
	if err != nil || n != 2*BatchSize+17 || f.calls != 3 {
		t.Fatalf("CatchUp = %d, %v in %d reads; want %d in 3", n, err, f.calls, 2*BatchSize+17)
	}
	if w, _ := x.Watermark(); w != f.seq {
		t.Fatalf("watermark %d; want %d", w, f.seq)
	}
	// A feed failing midway leaves the watermark at the last whole batch.
	x2, _ := MustIndex(t)
	f.calls, f.failAt = 0, 2
	if _, err := x2.CatchUp(context.Background(), f); !errors.Is(err, errFeed) {
		t.Fatalf("err = %v; want the feed's", err)
	}
	if w, _ := x2.Watermark(); w != f.items[BatchSize-1].ChangeSeq {
		t.Fatalf("watermark after a failure %d; want %d", w, f.items[BatchSize-1].ChangeSeq)
	}
	if n, _ := x2.DocCount(); n != BatchSize {
		t.Fatalf("doc count after a failure %d; want %d", n, BatchSize)
	}
}

// TestCrashKeepsWatermarkWithDocs: the watermark is written in the same
// batch as the documents, so an index closed (or killed) right after a
// batch reopens with both, and catching up again adds nothing twice.
func TestCrashKeepsWatermarkWithDocs(t *testing.T) {
	a, x, dir := indexed(t)
	ctx := context.Background()
	n0, _ := x.DocCount()
	w0, _ := x.Watermark()
	x.Close()
	x, fresh, err := Open(dir, nil)
	if err != nil || fresh {
		t.Fatalf("reopen: fresh=%v err=%v", fresh, err)
	}
	defer x.Close()
	if n, _ := x.DocCount(); n != n0 {
		t.Fatalf("doc count after reopen %d; want %d", n, n0)
	}
	if w, _ := x.Watermark(); w != w0 || w == 0 {
		t.Fatalf("watermark after reopen %d; want %d", w, w0)
	}
	if n, err := x.CatchUp(ctx, a.cat); err != nil || n != 0 {
		t.Fatalf("CatchUp after reopen indexed %d, %v; want 0", n, err)
	}
	// A watermark behind the documents (as if the process died before
	// recording it) only re-indexes: no duplicates.
	if err := x.idx.SetInternal(watermarkKey, []byte("0")); err != nil {
		t.Fatal(err)
	}
	if n, err := x.CatchUp(ctx, a.cat); err != nil || n != len(a.ids) {
		t.Fatalf("CatchUp from 0 indexed %d, %v", n, err)
	}
	if n, _ := x.DocCount(); n != n0 {
		t.Fatalf("doc count after re-indexing %d; want %d", n, n0)
	}
	if res := mustSearch(t, x, Request{Query: "detour"}); res.Total != 1 {
		t.Fatalf("detour found %d times; want once", res.Total)
	}
}

func TestMappingVersionChangeRefills(t *testing.T) {
	a, x, dir := indexed(t)
	n0, _ := x.DocCount()
	x.idx.SetInternal(mappingVersionKey, []byte(strconv.Itoa(MappingVersion-1)))
	x.Close()
	x, fresh, err := Open(dir, nil)
	if err != nil || !fresh {
		t.Fatalf("open with an old mapping: fresh=%v err=%v; want a new index", fresh, err)
	}
	defer x.Close()
	if n, _ := x.DocCount(); n != 0 {
		t.Fatalf("recreated index holds %d docs", n)
	}
	if w, _ := x.Watermark(); w != 0 {
		t.Fatalf("recreated index has watermark %d", w)
	}
	if _, err := x.CatchUp(context.Background(), a.cat); err != nil {
		t.Fatal(err)
	}
	if n, _ := x.DocCount(); n != n0 {
		t.Fatalf("refilled %d docs; want %d", n, n0)
	}
	if res := mustSearch(t, x, Request{Query: "resurfacing"}); len(res.Hits) != 1 || res.Hits[0].MatchedVersion != 1 {
		t.Fatalf("refilled index: %+v", res.Hits)
	}
}

func indexDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestRebuild(t *testing.T) {
	a, x, dir := indexed(t)
	ctx := context.Background()
	n0, _ := x.DocCount()
	var calls, lastDone, lastTotal int
	if err := x.Rebuild(ctx, a.cat, func(done, total int) { calls, lastDone, lastTotal = calls+1, done, total }); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != len(a.ids) || lastTotal != len(a.ids) {
		t.Fatalf("progress: %d calls, last %d/%d; want %d/%d", calls, lastDone, lastTotal, len(a.ids), len(a.ids))
	}
	if n, _ := x.DocCount(); n != n0 {
		t.Fatalf("rebuilt index holds %d docs; want %d", n, n0)
	}
	// The same Index value keeps working: search, follow, watermark.
	if res := mustSearch(t, x, Request{Query: "detour"}); res.Total != 1 {
		t.Fatalf("search after rebuild: %d hits", res.Total)
	}
	run := a.run(t, "city")
	a.record(t, "city", run, rec{native: "p9", kind: "post", created: "2024-05-01", text: "Library hours extended"})
	if n, err := x.CatchUp(ctx, a.cat); err != nil || n != 1 {
		t.Fatalf("CatchUp after rebuild: %d, %v", n, err)
	}
	if dirs := indexDirs(t, dir); len(dirs) != 1 || dirs[0] == defaultIndexName {
		t.Fatalf("index dirs after rebuild: %v; want only the new one", dirs)
	}
	// Reopening finds the rebuilt index.
	x.Close()
	x2, fresh, err := Open(dir, nil)
	if err != nil || fresh {
		t.Fatalf("reopen after rebuild: fresh=%v err=%v", fresh, err)
	}
	defer x2.Close()
	if res := mustSearch(t, x2, Request{Query: "library"}); res.Total != 1 {
		t.Fatalf("reopened rebuilt index: %d hits", res.Total)
	}
}

func TestRebuildFailureKeepsOldIndex(t *testing.T) {
	x, dir := MustIndex(t)
	ctx := context.Background()
	f := &memFeed{}
	fill(f, 2*BatchSize+5)
	if _, err := x.CatchUp(ctx, f); err != nil {
		t.Fatal(err)
	}
	before := mustSearch(t, x, Request{Query: "road"})
	w0, _ := x.Watermark()
	f.calls, f.failAt = 0, 2 // the second batch of the rebuild fails
	if err := x.Rebuild(ctx, f, nil); !errors.Is(err, errFeed) {
		t.Fatalf("Rebuild = %v; want the feed's error", err)
	}
	after := mustSearch(t, x, Request{Query: "road"})
	if after.Total != before.Total || after.Total == 0 {
		t.Fatalf("old index after a failed rebuild: %d hits; want %d", after.Total, before.Total)
	}
	if w, _ := x.Watermark(); w != w0 {
		t.Fatalf("watermark changed by a failed rebuild: %d; want %d", w, w0)
	}
	if dirs := indexDirs(t, dir); len(dirs) != 1 || dirs[0] != defaultIndexName {
		t.Fatalf("index dirs after a failed rebuild: %v; want only the old one", dirs)
	}
	// A cancelled rebuild is a failure too.
	f.failAt = 0
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := x.Rebuild(cctx, f, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Rebuild = %v", err)
	}
	if n, _ := x.DocCount(); n != uint64(len(f.items)) {
		t.Fatalf("doc count %d after a cancelled rebuild", n)
	}
}

func TestOpenRemovesLeftoverRebuild(t *testing.T) {
	dir := t.TempDir()
	x, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	// A rebuild that died before its swap left its directory behind.
	if err := os.MkdirAll(filepath.Join(dir, "index-123.bleve"), 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o640)
	x, fresh, err := Open(dir, nil)
	if err != nil || fresh {
		t.Fatalf("reopen: fresh=%v err=%v", fresh, err)
	}
	x.Close()
	if dirs := indexDirs(t, dir); len(dirs) != 1 || dirs[0] != defaultIndexName {
		t.Fatalf("dirs: %v", dirs)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Fatal("a file that is not an index was removed")
	}
}

func TestFollow(t *testing.T) {
	a := newArchive(t)
	x, _ := MustIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	notify := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		x.Follow(ctx, a.cat, time.Hour, notify)
		close(done)
	}()
	waitFor := func(q string, want uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if res, err := x.Search(ctx, Request{Query: q}); err == nil && res.Total == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%q never reached %d hits", q, want)
	}
	waitFor("detour", 1) // the first round catches up at once
	run := a.run(t, "city")
	a.record(t, "city", run, rec{native: "p7", kind: "post", created: "2024-05-02", text: "Fireworks permit approved"})
	notify <- struct{}{}
	waitFor("fireworks", 1)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not stop with its context")
	}
}

func TestEmojiTokenizer(t *testing.T) {
	tok := emojiTokenizer{words: unicodetok.NewUnicodeTokenizer()}
	tests := []struct {
		in   string
		want []string
	}{
		{"Road closed 🚧", []string{"Road", "closed", "🚧"}},
		{"🚧🚧 ok", []string{"🚧", "🚧", "ok"}},
		{"thumbs 👍🏽 up", []string{"thumbs", "👍🏽", "up"}},
		{"family 👨‍👩‍👧 day", []string{"family", "👨‍👩‍👧", "day"}},
		{"no symbols, only words.", []string{"no", "symbols", "only", "words"}},
	}
	for _, tt := range tests {
		var got []string
		for i, tk := range tok.Tokenize([]byte(tt.in)) {
			got = append(got, string(tk.Term))
			if string(tt.in[tk.Start:tk.End]) != string(tk.Term) || tk.Position != i+1 {
				t.Errorf("%q: token %q at %d-%d position %d", tt.in, tk.Term, tk.Start, tk.End, tk.Position)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"información": "informacion", "año": "ano", "plain": "plain", "🚧": "🚧", "Ｒｏａｄ": "Road"} {
		orig := []byte(in)
		if got := string(foldBytes(orig)); got != want {
			t.Errorf("fold(%q) = %q; want %q", in, got, want)
		}
		if string(orig) != in {
			t.Errorf("fold changed its input %q", in)
		}
	}
}

func TestMatchedPosition(t *testing.T) {
	loc := func(pos uint64) *bsearch.Location { return &bsearch.Location{ArrayPositions: []uint64{pos}} }
	tests := []struct {
		name string
		tlm  bsearch.TermLocationMap
		want uint64
		ok   bool
	}{
		{"none", nil, 0, false},
		{"one_old_version", bsearch.TermLocationMap{"resurfac": {loc(0)}}, 0, true},
		{"every_version_latest_wins", bsearch.TermLocationMap{"monday": {loc(0), loc(1), loc(2)}}, 2, true},
		{"most_terms_wins", bsearch.TermLocationMap{"a": {loc(0), loc(2)}, "b": {loc(0)}}, 0, true},
	}
	for _, tt := range tests {
		got, ok := matchedPosition(tt.tlm)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// BenchmarkIndexBatch indexes BatchSize new items per iteration.
func BenchmarkIndexBatch(b *testing.B) {
	x, _ := MustIndex(b)
	f := &memFeed{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fill(f, BatchSize)
		b.StartTimer()
		if n, err := x.CatchUp(ctx, f); err != nil || n != BatchSize {
			b.Fatalf("CatchUp = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*BatchSize)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSearchOneWord runs a one-word query with facets and highlights
// over 20,000 items.
func BenchmarkSearchOneWord(b *testing.B) {
	x, _ := MustIndex(b)
	f := &memFeed{}
	fill(f, 20000)
	ctx := context.Background()
	if _, err := x.CatchUp(ctx, f); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := x.Search(ctx, Request{Query: "detour"})
		if err != nil || res.Total == 0 {
			b.Fatalf("search: %v, %v", res, err)
		}
	}
}

// An item disposed of under its retention schedule leaves the index with
// the change that disposed of it.
func TestDisposedItemLeavesIndex(t *testing.T) {
	x, _ := MustIndex(t)
	f := &memFeed{}
	f.add("Pothole on 5th street")
	f.add("Library hours extended")
	ctx := context.Background()
	if _, err := x.CatchUp(ctx, f); err != nil {
		t.Fatal(err)
	}
	if res := mustSearch(t, x, Request{Query: "pothole"}); res.Total != 1 {
		t.Fatalf("before disposal: %d hits", res.Total)
	}
	f.mu.Lock()
	now := time.Now()
	f.seq++
	f.items[0].DisposedAt, f.items[0].Text, f.items[0].ChangeSeq = &now, "", f.seq
	delete(f.versions, f.items[0].ID)
	f.mu.Unlock()
	if _, err := x.CatchUp(ctx, f); err != nil {
		t.Fatal(err)
	}
	if res := mustSearch(t, x, Request{Query: "pothole"}); res.Total != 0 {
		t.Fatalf("disposed item still found: %d", res.Total)
	}
	if n, _ := x.DocCount(); n != 1 {
		t.Fatalf("doc count %d; want 1", n)
	}
}
