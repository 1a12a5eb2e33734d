// Command search benchmarks the search index at archive scale: it
// generates a city's archive (posts and threaded comments, some edited
// several times, some deleted, some in Spanish, some with emoji) from a
// seed, builds the real index from it through search.Index.Rebuild (the
// path of `civicarchive reindex`), then, in a second process that only
// opens the built index, times 20 representative queries through
// Index.Search, beside grep -F over the same texts as JSON lines.
//
//	go build -o /tmp/benchsearch ./scripts/bench/search
//	/tmp/benchsearch -items 1000000
//	/tmp/benchsearch -items 1000000 -dir /tmp/sb -keep   # keep the index and dump
//	/tmp/benchsearch -dir /tmp/sb -queries-only          # re-run the queries on it
//
// The generator keeps no item in memory beyond the batch being indexed:
// item i depends only on the seed and i. See README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/search"
)

// meta is what a kept directory remembers of its build, so -queries-only
// reports the same table.
type meta struct {
	Items        int     `json:"items"`
	Seed         uint64  `json:"seed"`
	Versions     int     `json:"versions"`
	BuildSeconds float64 `json:"build_seconds"`
	GenSeconds   float64 `json:"gen_seconds"`
	IndexBytes   int64   `json:"index_bytes"`
	IndexFiles   int     `json:"index_files"`
	Segments     int     `json:"segments"`
	DumpBytes    int64   `json:"dump_bytes"`
	PeakRSS      int64   `json:"build_peak_rss_kib"`
	LoadStart    string  `json:"load_start"`
	LoadEnd      string  `json:"load_end"`
	Built        string  `json:"built"`
}

func main() {
	items := flag.Int("items", 1000000, "items to generate and index")
	dir := flag.String("dir", "", "work directory (index, dump); default a temp dir removed at the end")
	keep := flag.Bool("keep", false, "keep -dir (the index and the JSON-lines dump)")
	queriesOnly := flag.Bool("queries-only", false, "skip the build: re-run the queries on the index kept in -dir")
	seed := flag.Uint64("seed", 20260401, "generator seed")
	runs := flag.Int("runs", 50, "timed runs of each query")
	warmup := flag.Int("warmup", 5, "untimed runs of each query before the timed ones")
	grepRuns := flag.Int("grep-runs", 3, "timed grep runs per query (median reported), after one untimed")
	cpuprofile := flag.String("cpuprofile", "", "write CPU profiles to PREFIX.build and PREFIX.query")
	serve := flag.Bool("serve", false, "internal: the query process")
	out := flag.String("out", "", "also write the Markdown report to this file")
	only := flag.String("only", "", "run only these queries: numbers of the report's table, comma-separated (for profiling)")
	flag.Parse()
	if *only != "" {
		onlyQueries = map[int]bool{}
		for _, f := range strings.Split(*only, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				fatal("-only: %v", err)
			}
			onlyQueries[n] = true
		}
	}

	if *serve {
		m := readMeta(*dir)
		if *cpuprofile != "" {
			stop := profile(*cpuprofile + ".query")
			defer stop()
		}
		runQueries(*dir, newGen(m.Seed, m.Items), *warmup, *runs)
		return
	}

	remove := false
	if *dir == "" {
		if *queriesOnly {
			fatal("-queries-only needs -dir")
		}
		d, err := os.MkdirTemp("", "benchsearch-")
		if err != nil {
			fatal("%v", err)
		}
		*dir, remove = d, !*keep
	}
	if remove {
		defer os.RemoveAll(*dir)
	}

	var m meta
	if *queriesOnly {
		m = readMeta(*dir)
	} else {
		if *cpuprofile != "" {
			stop := profile(*cpuprofile + ".build")
			m = build(*dir, *items, *seed)
			stop()
		} else {
			m = build(*dir, *items, *seed)
		}
	}

	fmt.Fprintf(os.Stderr, "queries: %d warm-up + %d timed runs each, in a separate process\n", *warmup, *runs)
	self, err := os.Executable()
	if err != nil {
		fatal("%v", err)
	}
	args := []string{"-serve", "-dir", *dir, "-runs", strconv.Itoa(*runs), "-warmup", strconv.Itoa(*warmup)}
	if *cpuprofile != "" {
		args = append(args, "-cpuprofile", *cpuprofile)
	}
	if *only != "" {
		args = append(args, "-only", *only)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		fatal("query process: %v", err)
	}
	var rep serveReport
	if err := json.Unmarshal(b, &rep); err != nil {
		fatal("query process output: %v", err)
	}

	fmt.Fprintf(os.Stderr, "grep -F -c over the dump (%d untimed + %d timed runs each)\n", 1, *grepRuns)
	g := newGen(m.Seed, m.Items)
	qs := queries(g)
	for i := range rep.Results {
		if len(qs[i].Needles) == 0 {
			rep.Results[i].GrepN = -1
			continue
		}
		rep.Results[i].GrepN, rep.Results[i].GrepMS = grep(dumpPath(*dir), qs[i].Needles, *grepRuns)
		rep.Results[i].Needles = len(qs[i].Needles)
	}
	md := markdown(m, rep, qs, *runs, *warmup, *grepRuns)
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fatal("%v", err)
		}
	}
	if *keep || !remove {
		fmt.Fprintf(os.Stderr, "kept %s\n", *dir)
	}
}

func indexDir(dir string) string { return filepath.Join(dir, "index") }
func dumpPath(dir string) string { return filepath.Join(dir, "items.jsonl") }
func metaPath(dir string) string { return filepath.Join(dir, "meta.json") }

func readMeta(dir string) meta {
	b, err := os.ReadFile(metaPath(dir))
	if err != nil {
		fatal("no build in %s: %v", dir, err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		fatal("%s: %v", metaPath(dir), err)
	}
	return m
}

// build generates the items and indexes them with Rebuild, writing the
// JSON-lines dump on the way.
func build(dir string, n int, seed uint64) meta {
	ctx := context.Background()
	if _, err := os.Stat(indexDir(dir)); err == nil {
		fatal("%s already holds an index: use -queries-only, or another -dir", dir)
	}
	m := meta{Items: n, Seed: seed, LoadStart: loadavg(), Built: time.Now().UTC().Format(time.RFC3339)}
	dump, err := os.Create(dumpPath(dir))
	if err != nil {
		fatal("%v", err)
	}
	g := newGen(seed, n)
	feed := newMemFeed(g, dump)

	fmt.Fprintf(os.Stderr, "build: %d items into %s (load %s)\n", n, dir, m.LoadStart)
	start := time.Now()
	x, _, err := search.Open(indexDir(dir), nil)
	if err != nil {
		fatal("open: %v", err)
	}
	next := 0
	err = x.Rebuild(ctx, feed, func(done, total int) {
		if done >= next || done == total {
			el := time.Since(start)
			fmt.Fprintf(os.Stderr, "  %9d / %d  %6.0fs  %7.0f items/s  RSS %5d MiB  load %s\n",
				done, total, el.Seconds(), float64(done)/el.Seconds(), procStatus("VmRSS")/1024, loadavg())
			next = done + max(total/20, 1)
		}
	})
	if err != nil {
		fatal("rebuild: %v", err)
	}
	if err := x.Close(); err != nil {
		fatal("close: %v", err)
	}
	m.BuildSeconds = time.Since(start).Seconds()
	m.PeakRSS = procStatus("VmHWM")
	m.GenSeconds = feed.genTime.Seconds()
	m.Versions = feed.nVers
	m.LoadEnd = loadavg()
	if err := feed.flush(); err != nil {
		fatal("dump: %v", err)
	}
	if err := dump.Close(); err != nil {
		fatal("dump: %v", err)
	}
	m.IndexBytes, m.IndexFiles = du(indexDir(dir))
	m.Segments = countSegments(dir)
	if st, err := os.Stat(dumpPath(dir)); err == nil {
		m.DumpBytes = st.Size()
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(metaPath(dir), b, 0o644); err != nil {
		fatal("%v", err)
	}
	fmt.Fprintf(os.Stderr, "build: %.1fs, %.0f items/s, index %s in %d files (%d segments), peak RSS %d MiB\n",
		m.BuildSeconds, float64(n)/m.BuildSeconds, human(m.IndexBytes), m.IndexFiles, m.Segments, m.PeakRSS/1024)
	return m
}

// grep runs grep -F -c with the needles over the dump: once untimed (the
// dump into the page cache), then runs times; it returns the count and
// the median time.
func grep(path string, needles []string, runs int) (int64, float64) {
	args := []string{"-F", "-c"}
	for _, n := range needles {
		args = append(args, "-e", n)
	}
	args = append(args, path)
	var count int64
	var took []time.Duration
	for i := range runs + 1 {
		t0 := time.Now()
		out, err := exec.Command("grep", args...).Output()
		d := time.Since(t0)
		if err != nil && len(out) == 0 { // exit 1 is "no match", with "0" printed
			fatal("grep %v: %v", needles, err)
		}
		count, _ = strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if i > 0 {
			took = append(took, d)
		}
	}
	if len(took) == 0 {
		return count, 0
	}
	for i := 1; i < len(took); i++ { // insertion sort: a handful of values
		for j := i; j > 0 && took[j] < took[j-1]; j-- {
			took[j], took[j-1] = took[j-1], took[j]
		}
	}
	return count, ms(took[len(took)/2])
}

// du sums the sizes of the files under dir (apparent size) and counts them.
func du(dir string) (int64, int) {
	var total int64
	files := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
				files++
			}
		}
		return nil
	})
	return total, files
}

// countSegments counts scorch's segment files (*.zap) of the index.
func countSegments(dir string) int {
	n := 0
	filepath.WalkDir(indexDir(dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".zap") {
			n++
		}
		return nil
	})
	return n
}

var statusRe = map[string]*regexp.Regexp{}

// procStatus reads a KiB value (VmRSS, VmHWM) from /proc/self/status.
func procStatus(key string) int64 {
	re, ok := statusRe[key]
	if !ok {
		re = regexp.MustCompile(key + `:\s+(\d+) kB`)
		statusRe[key] = re
	}
	b, _ := os.ReadFile("/proc/self/status")
	m := re.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b/1024)
}

func profile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		fatal("%v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fatal("%v", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchsearch: "+format+"\n", args...)
	os.Exit(1)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b bytes.Buffer
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
