package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
)

type catchUp struct {
	Name                     string
	Wall                     time.Duration // process start → index holds N (polled)
	Took                     time.Duration // the index's own first catch-up ("search index caught up")
	Indexed                  int
	RSS, HWM, HWMEnd         int64 // KiB
	IndexDisk, IndexApparent int64
}

type report struct {
	Items, Clients, Accounts, Posts, Comments, CaptureRPS int
	Duration                                              time.Duration
	Args                                                  string
	Began, End                                            time.Time

	CatalogEmpty, Catalog, CatalogAfterLoad catalogSize
	Seed                                    seedStats
	Objects, ObjectBytes, S3Disk            int64
	CatchUp                                 []catchUp
	Totals                                  [][]int
	Search                                  []loadResult
	ReadEvents, ReadEventBytes              int64
	Capture                                 []captureResult
	CaptureObjects, CaptureObjectBytes      int64
	CaptureItems                            int
	TxItems, Writers                        int
}

const projected = 100_000_000

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sizeRow is one line of the size table: bytes at N items, per item, and
// at 100M items, linearly.
func sizeRow(b *strings.Builder, what string, bytes int64, n int) {
	per := float64(bytes) / float64(n)
	fmt.Fprintf(b, "| %s | %s | %.0f B | %.0f GB |\n", what, mib(bytes), per, per*projected/1e9)
}

func (r *report) markdown() string {
	var b strings.Builder
	n := r.Items
	fmt.Fprintf(&b, "Measured %s → %s (%s), %d cores, `%s`.\n\n", r.Began.Format("2006-01-02 15:04"), r.End.Format("15:04"),
		secs(r.End.Sub(r.Began)), runtime.NumCPU(), "benchrep "+r.Args)

	fmt.Fprintf(&b, "### Seed (batches of 1,000; %d catalog writer(s), %d item(s) to a transaction)\n\n", r.Writers, r.TxItems)
	b.WriteString("| items | versions | blobs (raw pages + normalised JSON) | seed wall time | items/s | upload busy | RecordItem busy |\n|---|---|---|---|---|---|---|\n")
	s := r.Seed
	fmt.Fprintf(&b, "| %s | %s | %s, %s | %s | %.0f | %s | %s |\n\n", thousands(int64(s.Items)), thousands(int64(s.Versions)),
		thousands(int64(s.Blobs)), mib(s.BlobBytes), secs(s.Wall), float64(s.Items)/s.Wall.Seconds(), secs(s.Upload), secs(s.Record))

	b.WriteString("### Index catch-up (each replica builds its own index from the shared catalog)\n\n")
	b.WriteString("| replica | index holds all items, from process start | catch-up (the index's own log) | items/s | index on disk | RSS after catch-up | peak RSS, whole run |\n|---|---|---|---|---|---|---|\n")
	for _, c := range r.CatchUp {
		rate := 0.0
		if c.Took > 0 {
			rate = float64(c.Indexed) / c.Took.Seconds()
		}
		fmt.Fprintf(&b, "| %s | %s | %s (%s items) | %.0f | %s | %d MiB | %d MiB |\n", c.Name, secs(c.Wall), secs(c.Took),
			thousands(int64(c.Indexed)), rate, mib(c.IndexDisk), c.RSS>>10, c.HWMEnd>>10)
	}
	b.WriteString("\n")

	if len(r.Search) > 0 {
		fmt.Fprintf(&b, "### Search load (%d queries in turn, closed-loop clients, page of 20 with highlighting, through GET /api/v1/search)\n\n", len(queries))
		b.WriteString("| round | replicas | clients | requests | req/s | p50 | p95 | p99 | mean | errors | CPU per request: replicas + PostgreSQL | new PostgreSQL connections | CPU, cores used | load avg after |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		row := func(round string, l loadResult) {
			errs := fmt.Sprint(l.Errors)
			if l.FirstError != "" {
				errs += " (" + l.FirstError + ")"
			}
			rc, pc := l.cpuPerRequest()
			cpu := l.CPU
			if cpu == "" {
				cpu = fmt.Sprintf("replicas %.2f, PostgreSQL %.2f, everything else %.2f", l.Cores.Replicas, l.Cores.PG, l.Cores.Other)
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %.0f | %s | %s | %s | %s | %s | %s + %s | %s | %s | %s |\n", round, l.Replicas, l.Clients,
				thousands(int64(l.Requests)), l.rps(), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Mean), errs, ms(rc), ms(pc),
				thousands(l.NewConns), cpu, l.Load)
		}
		var base *loadResult
		for i, l := range r.Search {
			if l.Round == 0 {
				base = &r.Search[i]
				row("1 client", l)
			} else {
				row(fmt.Sprint(l.Round), l)
			}
		}
		one, two := merge(r.Search, 1, r.Clients, false), merge(r.Search, 2, r.Clients, false)
		for _, m := range []loadResult{one, two} {
			if m.Requests > 0 {
				row("**all rounds**", m)
			}
		}
		for _, m := range []loadResult{merge(r.Search, 1, r.Clients, true), merge(r.Search, 2, r.Clients, true)} {
			if m.Requests > 0 {
				row(fmt.Sprintf("**quiet rounds** (everything else < %.2f cores)", quietCores), m)
			}
		}
		fmt.Fprintf(&b, "\nEvery authenticated GET appends a \"read\" event to the custody log: the load added %s custody rows (%s, %.0f B each).\n\n",
			thousands(r.ReadEvents), mib(r.ReadEventBytes), float64(r.ReadEventBytes)/float64(max(r.ReadEvents, 1)))
		fmt.Fprintf(&b, "| # | query | matches (A / B) | p50, 1 client | p50, %d clients, one replica | p50, %d clients, two replicas |\n|---|---|---|---|---|---|\n", r.Clients, r.Clients)
		for i, q := range queries {
			tot := "?"
			if len(r.Totals) == 2 {
				tot = thousands(int64(r.Totals[0][i]))
				if r.Totals[1][i] != r.Totals[0][i] {
					tot += " / " + thousands(int64(r.Totals[1][i]))
				}
			}
			var p [3]string
			for j, l := range []*loadResult{base, &one, &two} {
				if l != nil && i < len(l.PerQuery) {
					p[j] = ms(l.PerQuery[i])
				}
			}
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", i+1, q.Label, tot, p[0], p[1], p[2])
		}
		b.WriteString("\n")
	}

	if len(r.Capture) > 0 {
		fmt.Fprintf(&b, "### Capture (%d fake Mastodon accounts × %d posts × %d comments per phase, full captures started at once; capture.per_host_rps %d)\n\n",
			r.Accounts, r.Posts, r.Comments, r.CaptureRPS)
		b.WriteString("| round | replicas | captures at once | items | time (first start → last finish) | items/s | CPU per item: replicas + PostgreSQL + versitygw | platform requests | failed runs | new PostgreSQL connections | CPU, cores used |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		var items [3]int
		var took [3]float64
		for _, c := range r.Capture {
			failed := fmt.Sprint(len(c.Failed))
			if len(c.Failed) > 0 {
				failed += ": " + strings.Join(c.Failed, "; ")
			}
			per := func(x float64) string {
				return ms(time.Duration(x * c.Cores.Secs / float64(max(c.Items, 1)) * float64(time.Second)))
			}
			fmt.Fprintf(&b, "| %d | %d | %d | %s | %.1f s | %.0f | %s + %s + %s | %s | %s | %s | %s |\n", c.Round, c.Replicas, 2*c.Replicas,
				thousands(int64(c.Items)), c.Seconds, c.itemsPerSec(), per(c.Cores.Replicas), per(c.Cores.PG), per(c.Cores.S3),
				thousands(int64(c.Requests)), failed, thousands(c.NewConns), c.CPU)
			items[c.Replicas] += c.Items
			took[c.Replicas] += c.Seconds
		}
		for n := 1; n <= 2; n++ {
			if took[n] > 0 {
				fmt.Fprintf(&b, "| **all rounds** | %d | %d | %s | %.1f s | %.0f | | | | | |\n", n, 2*n, thousands(int64(items[n])), took[n],
					float64(items[n])/took[n])
			}
		}
		if r.CaptureItems > 0 {
			fmt.Fprintf(&b, "\nBlobs written by the captures: %s objects, %s (%.0f B and %.2f objects per item).\n",
				thousands(r.CaptureObjects), mib(r.CaptureObjectBytes), float64(r.CaptureObjectBytes)/float64(r.CaptureItems),
				float64(r.CaptureObjects)/float64(r.CaptureItems))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "### Size at %s items, and linearly at 100,000,000\n\n", thousands(int64(n)))
	b.WriteString("| what | at N items | per item | at 100M items |\n|---|---|---|---|\n")
	sizeRow(&b, "catalog: the schema's tables with indexes and TOAST (less the empty schema)", r.Catalog.Schema-r.CatalogEmpty.Schema, n)
	for _, t := range []string{"items", "versions", "custody_events"} {
		sizeRow(&b, "&nbsp;&nbsp;table "+t, r.Catalog.Tables[t]-r.CatalogEmpty.Tables[t], n)
	}
	sizeRow(&b, "catalog: pg_database_size (less the empty database)", r.Catalog.Database-r.CatalogEmpty.Database, n)
	sizeRow(&b, fmt.Sprintf("blobs: bucket bytes (%s objects, %.2f per item)", thousands(r.Objects), float64(r.Objects)/float64(n)), r.ObjectBytes, n)
	if r.S3Disk > 0 {
		sizeRow(&b, "blobs: the S3 server's files on disk (du; versitygw posix)", r.S3Disk, n)
	}
	for _, c := range r.CatchUp {
		sizeRow(&b, "search index, "+c.Name+" (du)", c.IndexDisk, n)
	}
	b.WriteString("\n| table | rows | total size (with indexes) |\n|---|---|---|\n")
	var tables []string
	for t := range r.Catalog.Tables {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return r.Catalog.Tables[tables[i]] > r.Catalog.Tables[tables[j]] })
	for _, t := range tables[:min(8, len(tables))] {
		rows := "—"
		if v, ok := r.Catalog.Rows[t]; ok {
			rows = thousands(v)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t, rows, mib(r.Catalog.Tables[t]))
	}
	b.WriteString("\n")
	return b.String()
}
