package search

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
)

// unclean matches what must never reach a user in an error message: a
// pointer, a Go value printed with %v/%#v, a formatting mistake, or a
// recovered runtime panic.
var unclean = regexp.MustCompile(`0x[0-9a-fA-F]{6,}|%!|&\{|\(\*[a-z]+\.|runtime error|goroutine \d`)

// cleanMessage reports whether msg, an error for input s, shows nothing
// internal: a match of unclean that the user did not type is internal.
func cleanMessage(s, msg string) bool {
	if strings.TrimSpace(msg) == "" {
		return false
	}
	for _, m := range unclean.FindAllString(msg, -1) {
		if !strings.Contains(s, m) {
			return false
		}
	}
	return true
}

// fieldsOf lists the field of every fieldable leaf of q, walking the
// containers buildQuery and the parser make.
func fieldsOf(q query.Query) []string {
	var out []string
	var walk func(q query.Query)
	walk = func(q query.Query) {
		switch t := q.(type) {
		case nil:
		case *query.BooleanQuery:
			walk(t.Must)
			walk(t.Should)
			walk(t.MustNot)
			walk(t.Filter)
		case *query.ConjunctionQuery:
			for _, c := range t.Conjuncts {
				walk(c)
			}
		case *query.DisjunctionQuery:
			for _, c := range t.Disjuncts {
				walk(c)
			}
		case query.FieldableQuery:
			out = append(out, t.Field())
		}
	}
	walk(q)
	return out
}

// FuzzParseQuery feeds the q string of GET /api/v1/search to the query
// language (buildQuery: bleve's query-string parser and this package's
// rewrite of it) and then to a real index.
//
// Properties: it never panics; an error is ErrBadQuery with a clean,
// non-empty message (no pointers, no %v dumps, no recovered panics); the
// same input parses the same way twice; an accepted query leaves no leaf
// searching an unmapped field (unfielded words point at the text fields);
// and searching an accepted query on a real index either succeeds,
// matching no more documents than the index holds, or is ErrBadQuery —
// never an internal error, which the API would answer with a 500.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", " ", "road", "road closure", `"road closure"`, `"road`, "+road -parade", "+", "-", "kind:", "kind:post",
		"platform:mastodon", `author:"City of Clinton"`, "account:1", "account:>1", "deleted:true", "deleted:maybe",
		"edited:1", "hidden:false", "created_at:2024-01-10", "created_at:2024-01", "created_at:yesterday",
		`created_at:>"2024-01-01"`, `created_at:>="2024-01-01T00:00:00Z"`, `created_at:<"soon"`, "captured_at:2024-03", "created_at:0001-01-01", "deleted_at:9999-12", `created_at:<"1500-01-01"`,
		"deleted_at:2024-03-05T10:00:00-07:00", "road~1", "road~2", "road~5", "road~x", "road~-1", "/", "cl?sed", "road*", "*", "?",
		"/ro.d/", "/[a/", `/\broad/`, "/^road$/", "/(a|b)*/", "text:road", "versions:resurfacing", "colour:red",
		"credential_enc:x", "_all:road", "road^2", "road^x", `"road closure"~2`, "a:b:c", `\:`, `\`, "((road))",
		"' OR '1'='1", "1; DROP TABLE items;--", "%27%20OR%201=1", "\x00", "información 🏊", "ÉCOLE", "month:2024-01",
		"flag:A", "native_id:p1", "5", "-5", "1e999", ">", ">=", "<", `field:"`, strings.Repeat("road ", 200),
		strings.Repeat("(", 100), strings.Repeat("a", 2000), "\xff\xfe", "road\u202eclosure",
	} {
		f.Add(s)
	}
	x, _ := MustIndex(f)
	feed := &memFeed{}
	fill(feed, 40)
	feed.add("Nuevo horario de la piscina: información aquí 🏊 🚧")
	feed.add("École fermée; ' OR '1'='1", "SQL-looking text: 1; DROP TABLE items;--")
	docs, err := x.CatchUp(context.Background(), feed)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, s string) {
		r := Request{Query: s}
		start := time.Now()
		q1, textual1, err1 := buildQuery(r)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%q: parsing took %v", s, d)
		}
		q2, textual2, err2 := buildQuery(r)
		if (err1 == nil) != (err2 == nil) || textual1 != textual2 {
			t.Fatalf("%q parsed twice: (%v, %v) then (%v, %v)", s, textual1, err1, textual2, err2)
		}
		if err1 != nil {
			if !errors.Is(err1, ErrBadQuery) {
				t.Fatalf("%q: error %v is not ErrBadQuery", s, err1)
			}
			msg := err1.Error()
			if !cleanMessage(s, msg) {
				t.Fatalf("%q: unclean error message %q", s, msg)
			}
			if err2.Error() != msg {
				t.Fatalf("%q: error changed between parses: %q then %q", s, msg, err2)
			}
			return
		}
		if textual1 != (strings.TrimSpace(s) != "") {
			t.Fatalf("%q: textual = %v", s, textual1)
		}
		j1, e1 := json.Marshal(q1)
		j2, e2 := json.Marshal(q2)
		if e1 != nil || e2 != nil || string(j1) != string(j2) {
			t.Fatalf("%q parsed differently twice:\n%s (%v)\n%s (%v)", s, j1, e1, j2, e2)
		}
		for _, field := range fieldsOf(q1) {
			if _, ok := fieldKinds[field]; !ok {
				t.Fatalf("%q: a leaf searches field %q, which is not mapped (%s)", s, field, j1)
			}
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := x.Search(ctx, Request{Query: s, Size: MaxPageSize})
		if ctx.Err() != nil {
			t.Fatalf("%q: search took over 10s on %d documents", s, docs)
		}
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("%q: accepted by the parser, but searching fails with an internal error: %v", s, err)
			}
			if msg := err.Error(); !cleanMessage(s, msg) {
				t.Fatalf("%q: unclean error message %q", s, msg)
			}
			return
		}
		if res.Total > uint64(docs) || len(res.Hits) > docs {
			t.Fatalf("%q: %d matches (%d hits) in an index of %d documents", s, res.Total, len(res.Hits), docs)
		}
		seen := map[uint64]bool{}
		for _, h := range res.Hits {
			if h.ItemID < 1 || h.ItemID > uint64(docs) || seen[h.ItemID] {
				t.Fatalf("%q: hit %d is not a distinct indexed item", s, h.ItemID)
			}
			seen[h.ItemID] = true
		}
		// The same search again finds the same items.
		again, err := x.Search(ctx, Request{Query: s, Size: MaxPageSize})
		if err != nil || again.Total != res.Total || !slices.EqualFunc(again.Hits, res.Hits, func(a, b Hit) bool { return a.ItemID == b.ItemID }) {
			t.Fatalf("%q: the same search twice differs: %d then %d matches (%v)", s, res.Total, again.Total, err)
		}
	})
}

// TestHostileQueriesAreBadQueries pins what FuzzParseQuery found: each of
// these must be refused as ErrBadQuery with a clean message, as the API
// answers 400 with it, rather than searched into an internal error (a
// 500) or answered with a recovered parser panic.
func TestHostileQueriesAreBadQueries(t *testing.T) {
	x, _ := MustIndex(t)
	feed := &memFeed{}
	fill(feed, 5)
	if _, err := x.CatchUp(context.Background(), feed); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"road~-1",  // negative fuzziness: bleve refuses it only while searching
		"B~-01",    // the same, as the fuzzer wrote it
		"/",        // a lone slash: the parser slices "/"[1:0] and recovers the panic
		"/^road$/", // "/" ends at the boost operator: the same
		// Dates bleve cannot hold (before 1677-09-22 or after 2262-04-11,
		// int64 nanoseconds) fail only while searching.
		"created_at:0001-01-01",
		"deleted_at:9999-12",
		`created_at:<"1500-01-01"`,
	} {
		_, err := x.Search(context.Background(), Request{Query: q})
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("%q: err = %v; want ErrBadQuery", q, err)
			continue
		}
		if !cleanMessage(q, err.Error()) {
			t.Errorf("%q: the user would read %q", q, err)
		}
	}
	// The same dates as the from and to filters (the API's from= and to=).
	for _, d := range []time.Time{time.Date(1500, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		for name, r := range map[string]Request{"from": {From: &d}, "to": {To: &d}} {
			if _, err := x.Search(context.Background(), r); !errors.Is(err, ErrBadQuery) {
				t.Errorf("%s %s: err = %v; want ErrBadQuery", name, d.Format(time.DateOnly), err)
			}
		}
	}
}
