package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/civicarchive/civicarchive/search"
)

// benchQuery is one of the representative queries. needles are what
// grep -F looks for in the dump (any of them, as with several -e); none
// when grep cannot express the query at all.
type benchQuery struct {
	Name    string
	Class   string
	Req     search.Request
	Pages   int // > 1: the timed request is this page, reached with page tokens
	Needles []string
	Note    string
}

func ptr[T any](v T) *T { return &v }

// onlyQueries, when set (-only), keeps the queries whose number (1-based)
// is in it.
var onlyQueries map[int]bool

func queries(g *gen) []benchQuery {
	all := allQueries(g)
	if len(onlyQueries) == 0 {
		return all
	}
	var out []benchQuery
	for i, q := range all {
		if onlyQueries[i+1] {
			out = append(out, q)
		}
	}
	return out
}

func allQueries(g *gen) []benchQuery {
	mar := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	apr := mar.AddDate(0, 1, 0)
	return []benchQuery{
		{Name: "council", Class: "one word (common)", Req: search.Request{Query: "council"}, Needles: []string{"council"}},
		{Name: "pothole", Class: "one word", Req: search.Request{Query: "pothole"}, Needles: []string{"pothole"}},
		{Name: g.rareWord(), Class: "one word (rare)", Req: search.Request{Query: g.rareWord()}, Needles: []string{g.rareWord()}},
		{Name: "información", Class: "one word (Spanish, accent-folded)", Req: search.Request{Query: "informacion"}, Needles: []string{"información"}},
		{Name: "🚧", Class: "one word (emoji)", Req: search.Request{Query: "🚧"}, Needles: []string{"🚧"}},
		{Name: `"road closure"`, Class: "phrase", Req: search.Request{Query: `"road closure"`}, Needles: []string{"Road closure"}},
		{Name: `"city council meeting"`, Class: "phrase", Req: search.Request{Query: `"city council meeting"`}, Needles: []string{"City Council meeting"}},
		{Name: "+budget +hearing -council", Class: "boolean", Req: search.Request{Query: "+budget +hearing -council"}, Needles: []string{"hearing"}, Note: "grep: hearing only"},
		{Name: "snow ice", Class: "boolean (either)", Req: search.Request{Query: "snow ice"}, Needles: []string{"snow", "ice"}},
		{Name: "+versions:tentatively -text:tentatively", Class: "earlier version only", Req: search.Request{Query: "+versions:tentatively -text:tentatively"}, Needles: []string{"entatively"}, Note: "grep: any version"},
		{Name: "constru*", Class: "wildcard", Req: search.Request{Query: "constru*"}, Needles: []string{"constru"}},
		{Name: "libary~1", Class: "fuzzy", Req: search.Request{Query: "libary~1"}, Needles: []string{"library"}},
		{Name: "budget, platform=facebook, kind=comment", Class: "filtered", Req: search.Request{Query: "budget", Platforms: []string{"facebook"}, Kinds: []string{"comment"}}, Needles: []string{"budget"}, Note: "grep: the word only"},
		{Name: "water, created in 2024-03", Class: "filtered (date range)", Req: search.Request{Query: "water", From: &mar, To: &apr}, Needles: []string{"water"}, Note: "grep: the word only"},
		{Name: "trash, deleted=true", Class: "filtered (deleted)", Req: search.Request{Query: "trash", Deleted: ptr(true)}, Needles: []string{"trash"}, Note: "grep: the word only"},
		{Name: "meeting, account=1, edited=true", Class: "filtered (account, edited)", Req: search.Request{Query: "meeting", AccountIDs: []uint64{1}, Edited: ptr(true)}, Needles: []string{"meeting"}, Note: "grep: the word only"},
		{Name: "council, with facets", Class: "one word + facet counts", Req: search.Request{Query: "council", Facets: true}, Needles: []string{"council"}},
		{Name: "(all), department=Parks and Recreation", Class: "faceted browse", Req: search.Request{Departments: []string{"Parks and Recreation"}, Facets: true}},
		{Name: "(all)", Class: "faceted browse, everything", Req: search.Request{Facets: true}},
		{Name: "council, newest first", Class: "date-sorted", Req: search.Request{Query: "council", Sort: search.SortNewest}, Needles: []string{"council"}},
		{Name: "council, newest first, page 50", Class: "deep page (page_token)", Req: search.Request{Query: "council", Sort: search.SortNewest}, Pages: 50, Needles: []string{"council"}},
	}
}

// queryResult is what the query process reports for one query.
type queryResult struct {
	Name     string  `json:"name"`
	Class    string  `json:"class"`
	Total    uint64  `json:"total"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	Mean     float64 `json:"mean_ms"`
	Max      float64 `json:"max_ms"`
	Runs     int     `json:"runs"`
	Error    string  `json:"error,omitempty"`
	GrepN    int64   `json:"grep_matches"`
	GrepMS   float64 `json:"grep_ms"`
	Note     string  `json:"note,omitempty"`
	Needles  int     `json:"needles"`
	Facets   int     `json:"facet_terms"`
	PageHits int     `json:"page_hits"`
}

// serveReport is the query process's output.
type serveReport struct {
	OpenMS        float64       `json:"open_ms"`
	DocCount      uint64        `json:"doc_count"`
	RSSAfterOpen  int64         `json:"rss_after_open_kib"`
	PeakRSS       int64         `json:"peak_rss_kib"`
	SegmentsStart int           `json:"segments_start"`
	SegmentsEnd   int           `json:"segments_end"`
	LoadStart     string        `json:"load_start"`
	LoadEnd       string        `json:"load_end"`
	Seconds       float64       `json:"seconds"`
	Results       []queryResult `json:"results"`
}

// runQueries is the query process: it opens the built index (nothing
// else), runs each query warmup times, then runs times timed, and prints
// a serveReport as JSON.
func runQueries(dir string, g *gen, warmup, runs int) {
	ctx := context.Background()
	rep := serveReport{LoadStart: loadavg(), SegmentsStart: countSegments(dir)}
	began := time.Now()
	x, fresh, err := search.Open(indexDir(dir), nil)
	if err != nil {
		fatal("open index: %v", err)
	}
	if fresh {
		fatal("no index under %s (Open created an empty one)", dir)
	}
	rep.OpenMS = ms(time.Since(began))
	rep.RSSAfterOpen = procStatus("VmRSS")
	rep.DocCount, _ = x.DocCount()
	for _, q := range queries(g) {
		res := queryResult{Name: q.Name, Class: q.Class, Note: q.Note}
		req := q.Req
		if q.Pages > 1 { // walk to the page once; the timed request is that page
			for p := 1; p < q.Pages; p++ {
				r, err := x.Search(ctx, req)
				if err != nil || r.NextPageToken == "" {
					res.Error = fmt.Sprintf("page %d: %v (no next page)", p, err)
					break
				}
				req.PageToken = r.NextPageToken
			}
		}
		if res.Error == "" {
			var took []time.Duration
			for i := range warmup + runs {
				t0 := time.Now()
				r, err := x.Search(ctx, req)
				d := time.Since(t0)
				if err != nil {
					res.Error = err.Error()
					break
				}
				if i == 0 {
					res.Total, res.PageHits = r.Total, len(r.Hits)
					for _, f := range r.Facets {
						res.Facets += len(f)
					}
				}
				if i >= warmup {
					took = append(took, d)
				}
			}
			if len(took) > 0 {
				slices.Sort(took)
				var sum time.Duration
				for _, d := range took {
					sum += d
				}
				res.Runs = len(took)
				res.P50, res.P95, res.P99 = ms(pct(took, 0.50)), ms(pct(took, 0.95)), ms(pct(took, 0.99))
				res.Mean, res.Max = ms(sum/time.Duration(len(took))), ms(took[len(took)-1])
			}
		}
		rep.Results = append(rep.Results, res)
		fmt.Fprintf(os.Stderr, "  %-45s total %8d  p50 %8.2f ms  p95 %8.2f ms  p99 %8.2f ms %s\n", q.Name, res.Total, res.P50, res.P95, res.P99, res.Error)
	}
	rep.Seconds = time.Since(began).Seconds()
	rep.PeakRSS = procStatus("VmHWM")
	rep.LoadEnd = loadavg()
	if err := x.Close(); err != nil {
		fatal("close: %v", err)
	}
	rep.SegmentsEnd = countSegments(dir)
	json.NewEncoder(os.Stdout).Encode(rep)
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
