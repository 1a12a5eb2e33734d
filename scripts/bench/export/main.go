// Command export benchmarks litigation exports at scale: it generates an
// archive of N items in threads (a post and its comments), each item with
// one media file of random bytes (M bytes of media in all), then, in a
// second process that only opens the catalog and the blob store, exports
// every item through records.Office.StartExport (the path of POST
// /api/v1/exports) and reports the wall time and the peak RSS (VmHWM) of
// that process, beside `zip -r` over the same blob files.
//
//	go build -o /tmp/benchexport ./scripts/bench/export
//	/tmp/benchexport                                  # 100,000 items, 2 GB of media
//	/tmp/benchexport -items 20000 -media-bytes 400000000
//	/tmp/benchexport -media-files 10000                # 2 GB in 10,000 files (200 KB each)
//	/tmp/benchexport -dir /tmp/eb -keep               # keep the archive and the bundle
//	/tmp/benchexport -dir /tmp/eb -export-only        # export the kept archive again
//
// The generator writes blob files straight into the local store's layout
// (sha256/ab/cd/SUM, read-only), as blob.Local.Put leaves them but without
// an fsync per file, and records items through storage.Catalog.RecordItem,
// 1,000 to a transaction: the benchmark is of the export, not of seeding.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// result is what the export process reports to the parent.
type result struct {
	Items   int     `json:"items"`
	Seconds float64 `json:"seconds"`
	Bytes   int64   `json:"bytes"`
	SHA256  string  `json:"sha256"`
	PeakRSS int64   `json:"peak_rss_kib"`
	Status  string  `json:"status"`
	Error   string  `json:"error"`
}

func main() {
	items := flag.Int("items", 100000, "items to generate and export")
	mediaBytes := flag.Int64("media-bytes", 2_000_000_000, "bytes of media in all, random")
	mediaFiles := flag.Int("media-files", 0, "media files, spread evenly over the items (default one per item)")
	perThread := flag.Int("per-thread", 10, "items per thread: a post and its comments")
	dir := flag.String("dir", "", "work directory (catalog, blobs, zip); default a temp dir removed at the end")
	keep := flag.Bool("keep", false, "keep -dir")
	exportOnly := flag.Bool("export-only", false, "skip generating: export the archive kept in -dir (run by the parent)")
	skipZip := flag.Bool("skip-zip", false, "do not time zip -r")
	memprofile := flag.String("memprofile", "", "write the export process's heap profile here at its end")
	flag.Parse()
	ctx := context.Background()
	if *exportOnly {
		if *dir == "" {
			fatal("-export-only needs -dir")
		}
		if *memprofile != "" {
			go profilePeaks(*memprofile)
		}
		r := export(ctx, *dir)
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "benchexport-"); err != nil {
			fatal("%v", err)
		}
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	began := time.Now()
	if *mediaFiles <= 0 || *mediaFiles > *items {
		*mediaFiles = *items
	}
	if err := generate(ctx, work, *items, *perThread, *mediaFiles, *mediaBytes); err != nil {
		fatal("generate: %v", err)
	}
	gen := time.Since(began)
	r := runChild(work, *memprofile)
	var zipTime, zipSync time.Duration
	if !*skipZip {
		zipTime, zipSync = timeZip(work)
	}
	report(*items, *mediaBytes, gen, r, zipTime, zipSync)
}

// generate writes the archive: blobs into dir/blobs, catalog in dir.
func generate(ctx context.Context, dir string, items, perThread, mediaFiles int, mediaBytes int64) error {
	cat, err := storage.Open(ctx, storage.Options{DataDir: dir})
	if err != nil {
		return err
	}
	defer cat.Close()
	blobDir := filepath.Join(dir, "blobs")
	if _, err := blob.NewLocal(blobDir); err != nil {
		return err
	}
	acct := &storage.Account{Platform: "mastodon", Handle: "clintoncity", APIBase: "https://mastodon.example",
		DisplayName: "City of Clinton", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := cat.CreateAccount(ctx, acct, "bench"); err != nil {
		return err
	}
	run, err := cat.StartRun(ctx, acct.ID, storage.RunFull, "bench")
	if err != nil {
		return err
	}
	g := &gen{dir: blobDir, acct: acct.ID, run: run.ID, perThread: perThread, rng: rand.NewChaCha8([32]byte{20, 26}),
		mediaEvery: items / mediaFiles, media: make([]byte, mediaBytes/int64(mediaFiles))}
	for start := 0; start < items; start += 1000 {
		err := cat.Tx(ctx, func(tx *storage.Catalog) error {
			for i := start; i < min(start+1000, items); i++ {
				if err := g.item(ctx, tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if (start/1000)%10 == 9 {
			fmt.Fprintf(os.Stderr, "generated %d items\n", start+1000)
		}
	}
	return cat.FinishRun(ctx, run.ID, storage.RunSucceeded, storage.RunCounts{}, nil, "")
}

// gen makes item i from i alone (and the random stream of media bytes).
type gen struct {
	dir        string
	acct, run  uint64
	perThread  int
	mediaEvery int // item i has media when i%mediaEvery == 0
	rng        *rand.ChaCha8
	media      []byte
	raw        string // the current thread's raw page key
}

func (g *gen) item(ctx context.Context, tx *storage.Catalog, i int) error {
	post := fmt.Sprintf("%d", 110_000_000_000+i/g.perThread)
	native, kind, parent := post, "post", ""
	if i%g.perThread != 0 {
		native, kind, parent = fmt.Sprintf("%d", 120_000_000_000+i), "comment", post
	}
	text := fmt.Sprintf("Item %d: %s about the parade route, the budget and the snow plan.", i, kind)
	if i%g.perThread == 0 {
		page, _ := json.Marshal(map[string]any{"page": post, "statuses": []string{text}})
		g.raw = g.put(page)
	}
	norm, _ := json.Marshal(map[string]any{"schema": "civicarchive.item/v1", "native_id": native, "text": text, "kind": kind})
	var media []storage.MediaCapture
	if i%g.mediaEvery == 0 {
		g.rng.Read(g.media)
		key := g.put(g.media)
		media = append(media, storage.MediaCapture{SHA256: key[len(key)-64:], BlobKey: key, ContentType: "image/jpeg",
			Size: int64(len(g.media))})
	}
	sum := sha256.Sum256(norm)
	_, err := tx.RecordItem(ctx, storage.ItemCapture{AccountID: g.acct, RunID: g.run, Platform: "mastodon", NativeID: native,
		Kind: kind, ParentNativeID: parent, RootNativeID: parent, AuthorName: "Resident " + strconv.Itoa(i%97), Actor: "system:bench",
		Versions: []storage.VersionCapture{{SHA256: hex.EncodeToString(sum[:]), NormalizedKey: g.put(norm), RawKey: g.raw, Text: text}},
		Media:    media})
	return err
}

// put writes b as a blob file where blob.Local keeps it and returns its key.
func (g *gen) put(b []byte) string {
	sum := sha256.Sum256(b)
	key := blob.KeyFor(hex.EncodeToString(sum[:]))
	path := filepath.Join(g.dir, filepath.FromSlash(key))
	if _, err := os.Stat(path); err == nil {
		return key
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fatal("%v", err)
	}
	if err := os.WriteFile(path, b, 0o444); err != nil {
		fatal("%v", err)
	}
	return key
}

// runChild runs the export in a fresh process and returns what it reports.
func runChild(dir, memprofile string) result {
	self, err := os.Executable()
	if err != nil {
		fatal("%v", err)
	}
	var out bytes.Buffer
	cmd := exec.Command(self, "-export-only", "-dir", dir, "-memprofile", memprofile)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		fatal("export process: %v", err)
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		fatal("export process said %q: %v", out.String(), err)
	}
	if r.Status != storage.ExportReady {
		fatal("export %s: %s", r.Status, r.Error)
	}
	return r
}

// export exports every item of the archive in dir and reports it.
func export(ctx context.Context, dir string) result {
	cat, err := storage.Open(ctx, storage.Options{DataDir: dir})
	if err != nil {
		fatal("%v", err)
	}
	defer cat.Close()
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		fatal("%v", err)
	}
	law, err := records.ParseLaw(configs.UtahGRAMA)
	if err != nil {
		fatal("%v", err)
	}
	o, err := records.New(records.Config{Catalog: cat, Blobs: blobs, Law: law, Entity: records.Entity{Name: "Clinton City"},
		Version: "bench"})
	if err != nil {
		fatal("%v", err)
	}
	var ids []uint64
	for after := uint64(0); ; {
		page, err := cat.ListItems(ctx, 0, after, 10000)
		if err != nil {
			fatal("%v", err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextID == 0 {
			break
		}
		after = page.NextID
	}
	began := time.Now()
	ex, err := o.StartExport(ctx, records.Actor{ID: "user:bench"}, records.ExportScope{Kind: records.ExportItems, ItemIDs: ids,
		Matter: "benchmark"})
	if err != nil {
		fatal("%v", err)
	}
	o.WaitExports()
	secs := time.Since(began).Seconds()
	done, err := o.Export(ctx, ex.ID)
	if err != nil {
		fatal("%v", err)
	}
	return result{Items: done.ItemCount, Seconds: secs, Bytes: done.Size, SHA256: done.BundleSHA256, PeakRSS: peakRSS(),
		Status: done.Status, Error: done.Error}
}

// timeZip times `zip -r` over the blob files, then the same with the ZIP
// synced to disk (the export's bundle is: the blob store fsyncs it).
func timeZip(dir string) (plain, synced time.Duration) {
	if _, err := exec.LookPath("zip"); err != nil {
		fmt.Fprintln(os.Stderr, "zip is not installed: skipping the comparison")
		return 0, 0
	}
	out := filepath.Join(dir, "blobs.zip")
	os.Remove(out)
	began := time.Now()
	cmd := exec.Command("zip", "-r", "-q", out, "sha256")
	cmd.Dir = filepath.Join(dir, "blobs")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fatal("zip -r: %v", err)
	}
	plain = time.Since(began)
	if err := exec.Command("sync", out).Run(); err != nil {
		fmt.Fprintf(os.Stderr, "sync: %v\n", err)
	}
	synced = time.Since(began)
	os.Remove(out)
	return plain, synced
}

func report(items int, mediaBytes int64, gen time.Duration, r result, zipTime, zipSync time.Duration) {
	fmt.Printf("| items | media | generate | export | bundle | export peak RSS | zip -r (+ sync) | export ÷ zip -r |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|\n")
	ratio := "—"
	zip := "skipped"
	if zipTime > 0 {
		ratio = fmt.Sprintf("%.2f× (%.2f× with sync)", r.Seconds/zipTime.Seconds(), r.Seconds/zipSync.Seconds())
		zip = fmt.Sprintf("%.1f s (%.1f s)", zipTime.Seconds(), zipSync.Seconds())
	}
	fmt.Printf("| %d | %.2f GB | %.1f s | %.1f s, %.0f MB/s | %.2f GB | %d MiB | %s | %s |\n", items, float64(mediaBytes)/1e9,
		gen.Seconds(), r.Seconds, float64(r.Bytes)/1e6/r.Seconds, float64(r.Bytes)/1e9, r.PeakRSS/1024, zip, ratio)
}

// profilePeaks writes a heap profile to path each time the heap in use
// reaches a new high, so the file ends up describing the peak.
func profilePeaks(path string) {
	var high uint64
	for range time.Tick(100 * time.Millisecond) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse < high+high/20 {
			continue
		}
		high = ms.HeapInuse
		fmt.Fprintf(os.Stderr, "heap in use %d MiB, heap sys %d MiB, sys %d MiB, rss peak %d MiB, next gc %d MiB\n",
			ms.HeapInuse>>20, ms.HeapSys>>20, ms.Sys>>20, peakRSS()>>10, ms.NextGC>>20)
		f, err := os.Create(path)
		if err != nil {
			fatal("%v", err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

// peakRSS is the process's high-water resident set size (VmHWM), in KiB.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchexport: "+format+"\n", args...)
	os.Exit(1)
}
