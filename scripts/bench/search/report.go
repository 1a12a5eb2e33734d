package main

import (
	"fmt"
	"strings"

	"github.com/civicarchive/civicarchive/search"
)

// markdown is the report, ready to paste into BENCHMARKS.md.
func markdown(m meta, rep serveReport, qs []benchQuery, runs, warmup, grepRuns int) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("### %s items\n\n", thousands(int64(m.Items)))
	p("| build (Rebuild, batches of %d) | |\n|---|---|\n", search.BatchSize)
	p("| items / versions | %s / %s |\n", thousands(int64(m.Items)), thousands(int64(m.Versions)))
	p("| full reindex | %.1f s (%.1f min) — %s items/s |\n", m.BuildSeconds, m.BuildSeconds/60, thousands(int64(float64(m.Items)/m.BuildSeconds)))
	p("| of which generating items and writing the dump | %.1f s |\n", m.GenSeconds)
	p("| index size on disk | %s (%d files, %d segments) |\n", human(m.IndexBytes), m.IndexFiles, m.Segments)
	p("| JSON-lines dump (grep's input) | %s |\n", human(m.DumpBytes))
	p("| peak RSS, build process | %d MiB |\n", m.PeakRSS/1024)
	p("| load average (1/5/15 min), build start → end | %s → %s |\n", m.LoadStart, m.LoadEnd)
	p("| serve: open the index | %.0f ms, RSS after open %d MiB |\n", rep.OpenMS, rep.RSSAfterOpen/1024)
	p("| serve: peak RSS after all queries | %d MiB |\n", rep.PeakRSS/1024)
	p("| serve: segments at open → after queries | %d → %d |\n", rep.SegmentsStart, rep.SegmentsEnd)
	p("| load average, queries start → end | %s → %s |\n\n", rep.LoadStart, rep.LoadEnd)

	p("Latency of `Index.Search` (page of 20, highlighting; facet counts only where the row says so), %d timed runs after %d warm-up; grep: `grep -F -c` over the dump, median of %d runs after one untimed.\n\n", runs, warmup, grepRuns)
	p("| # | query | kind | matches | p50 ms | p95 ms | p99 ms | grep -F matches | grep -F ms |\n")
	p("|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range rep.Results {
		name := strings.ReplaceAll(r.Name, "|", `\|`)
		gm, gt := "—", "—"
		if r.GrepN >= 0 {
			needles := make([]string, len(qs[i].Needles))
			for j, n := range qs[i].Needles {
				needles[j] = "`" + n + "`"
			}
			gm = fmt.Sprintf("%s (%s)", thousands(r.GrepN), strings.Join(needles, " or "))
			gt = fmt.Sprintf("%.0f", r.GrepMS)
		}
		lat := fmt.Sprintf("%.1f | %.1f | %.1f", r.P50, r.P95, r.P99)
		if r.Error != "" {
			lat = "error: " + r.Error + " | | "
		}
		p("| %d | `%s` | %s | %s | %s | %s | %s |\n", i+1, name, r.Class, thousands(int64(r.Total)), lat, gm, gt)
	}
	p("\n")

	// Targets of issue 4.
	var oneWordP95 float64
	var worst string
	for _, r := range rep.Results {
		// The target is for plain one-word searches; "one word + facet counts" is shown beside it.
		if strings.HasPrefix(r.Class, "one word") && !strings.Contains(r.Class, "facet") && r.P95 > oneWordP95 {
			oneWordP95, worst = r.P95, r.Name
		}
	}
	at := ""
	if m.Items != 1000000 {
		at = " at " + thousands(int64(m.Items)) + " items"
	}
	verdict := func(ok bool) string {
		if ok {
			return "met" + at
		}
		return "**missed**" + at
	}
	p("| target (issue 4: at 1M items, 2 cores) | measured%s | |\n|---|---|---|\n", at)
	p("| one-word query p95 < 50 ms | %.1f ms (worst: `%s`) | %s |\n", oneWordP95, worst, verdict(oneWordP95 < 50))
	reindex := m.BuildSeconds
	if m.Items != 1000000 {
		reindex = m.BuildSeconds * 1e6 / float64(m.Items)
		p("| full reindex of 1M < 10 min | %.1f min (%.1f min here × %.0f, linear extrapolation) | %s |\n", reindex/60, m.BuildSeconds/60, 1e6/float64(m.Items), strings.TrimSuffix(verdict(reindex < 600), at))
	} else {
		p("| full reindex of 1M < 10 min | %.1f min | %s |\n", reindex/60, verdict(reindex < 600))
	}
	p("| serve RSS < 500 MB | %d MiB peak (%.0f MB) | %s |\n\n", rep.PeakRSS/1024, float64(rep.PeakRSS)*1024/1e6, verdict(float64(rep.PeakRSS)*1024 < 500e6))
	return b.String()
}
