// Command capture benchmarks a full capture against a local Mastodon
// server holding a large account, beside the time to merely fetch the same
// pages, and reports the capturing process's peak memory.
//
//	go run ./scripts/bench/capture -posts 10000 -comments 9
//
// It runs three processes: the fake platform server, a fetch-only client
// and the capture (the real archiver: SQLite catalog, local blob store,
// fsync on every commit), so each one's peak RSS is its own.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

func main() {
	mode := flag.String("mode", "", "internal: serve, fetch or capture")
	posts := flag.Int("posts", 10000, "posts in the account")
	comments := flag.Int("comments", 9, "comments and replies per post (a third of them replies)")
	base := flag.String("base", "", "internal: server URL")
	cpuprofile := flag.String("cpuprofile", "", "write the capture's CPU profile here")
	flag.Parse()
	if *cpuprofile != "" && *mode == "capture" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			panic(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	switch *mode {
	case "serve":
		serve(*posts, *comments)
	case "fetch":
		report(fetchOnly(*base))
	case "capture":
		report(capture(*base))
		return
	default:
		parent(*posts, *comments)
	}
}

type result struct {
	Mode     string  `json:"mode"`
	Items    int     `json:"items"`
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	Again    float64 `json:"again_seconds,omitempty"` // a second full sweep of the unchanged account
	PeakRSS  int64   `json:"peak_rss_kb"`
	Status   string  `json:"status,omitempty"`
}

func report(r result) {
	r.PeakRSS = peakRSS()
	json.NewEncoder(os.Stdout).Encode(r)
}

// peakRSS reads the process's high-water resident set (VmHWM) in KiB.
func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

func world(posts, comments int) *platformtest.World {
	w := platformtest.NewWorld(time.Now().Add(-time.Duration(posts+posts*comments+10)*time.Minute),
		platformtest.Profile{ID: "1", Handle: "clintoncity", DisplayName: "Clinton City"})
	for i := 0; i < posts; i++ {
		p := w.AddPost("", fmt.Sprintf("Post %d: road work on Main St, council agenda, parks ñ 🌳 %s", i, strings.Repeat("detail ", 20)))
		var last string
		for j := 0; j < comments; j++ {
			parent := ""
			if j%3 == 2 {
				parent = last
			}
			last = w.AddComment(p, parent, fmt.Sprintf("resident%d", j), fmt.Sprintf("Comment %d on post %d — ¿cuándo? %s", j, i, strings.Repeat("words ", 10)))
		}
	}
	return w
}

func serve(posts, comments int) {
	srv := mastodontest.NewServer(world(posts, comments), mastodontest.WithPageSize(40))
	fmt.Println(srv.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}

// fetchOnly walks the same pages the connector reads: the listing by its
// Link header and each post's context, discarding the bodies.
func fetchOnly(base string) result {
	start := time.Now()
	get := func(u string) (http.Header, []byte) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+mastodontest.DefaultCredential)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header, b
	}
	_, b := get(base + "/api/v1/accounts/lookup?acct=clintoncity")
	var acct struct{ ID string }
	json.Unmarshal(b, &acct)
	next := base + "/api/v1/accounts/" + acct.ID + "/statuses?limit=40&exclude_reblogs=true"
	linkRE := regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)
	requests, items := 1, 0
	for next != "" {
		h, b := get(next)
		requests++
		var page []struct{ ID string }
		json.Unmarshal(b, &page)
		if len(page) == 0 {
			break
		}
		for _, st := range page {
			_, cb := get(base + "/api/v1/statuses/" + st.ID + "/context")
			requests++
			var ctx struct{ Descendants []json.RawMessage }
			json.Unmarshal(cb, &ctx)
			items += 1 + len(ctx.Descendants)
		}
		next = ""
		if m := linkRE.FindStringSubmatch(h.Get("Link")); m != nil {
			next = m[1]
		}
	}
	return result{Mode: "fetch", Items: items, Requests: requests, Seconds: time.Since(start).Seconds()}
}

func capture(base string) result {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "civicarchive-bench-")
	defer os.RemoveAll(dir)
	cat, err := storage.Open(ctx, storage.Options{DataDir: dir})
	if err != nil {
		panic(err)
	}
	defer cat.Close()
	blobs, _ := blob.NewLocal(filepath.Join(dir, "blobs"))
	key, _ := storage.LoadSecretKey("", dir)
	sealer, _ := storage.NewSealer(key)
	cred, _ := sealer.Seal(mastodontest.DefaultCredential)
	acct := &storage.Account{Platform: platforms.Mastodon, Handle: "clintoncity", APIBase: base, CredentialEnc: cred,
		Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := cat.CreateAccount(ctx, acct, "bench"); err != nil {
		panic(err)
	}
	arc := archiver.New(archiver.Options{Catalog: cat, Blobs: blobs, Sealer: sealer,
		Connectors: map[string]platforms.Connector{platforms.Mastodon: mastodon.New()},
		Limits:     platforms.NewHostLimits(1e6, 1e6), RunTimeout: 10 * time.Hour})
	start := time.Now()
	r, err := arc.Capture(ctx, acct.ID, storage.RunFull, "bench")
	if err != nil {
		panic(err)
	}
	first := time.Since(start).Seconds()
	start = time.Now()
	again, err := arc.Capture(ctx, acct.ID, storage.RunFull, "bench")
	if err != nil || again.New+again.Changed != 0 {
		panic(fmt.Sprintf("second sweep: %v %+v", err, again))
	}
	return result{Mode: "capture", Items: r.Posts + r.Comments, Seconds: first, Again: time.Since(start).Seconds(), Status: r.Status}
}

func parent(posts, comments int) {
	self, _ := os.Executable()
	srv := exec.Command(self, "-mode", "serve", "-posts", strconv.Itoa(posts), "-comments", strconv.Itoa(comments))
	srv.Stderr = os.Stderr
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	url, _ := bufio.NewReader(out).ReadString('\n')
	url = strings.TrimSpace(url)
	fmt.Printf("account: %d posts × %d comments = %d items, server %s\n", posts, comments, posts*(1+comments), url)
	var fetch, capt result
	for _, step := range []struct {
		mode string
		into *result
	}{{"fetch", &fetch}, {"capture", &capt}} {
		b, err := exec.Command(self, "-mode", step.mode, "-base", url).Output()
		if err != nil {
			panic(fmt.Sprintf("%s: %v", step.mode, err))
		}
		json.Unmarshal(b, step.into)
	}
	fmt.Printf("fetch only: %d items, %d requests in %.1fs (%.0f items/s), peak RSS %d MiB\n",
		fetch.Items, fetch.Requests, fetch.Seconds, float64(fetch.Items)/fetch.Seconds, fetch.PeakRSS/1024)
	fmt.Printf("capture:    %d items in %.1fs (%.0f items/s, %.1f× fetch time), status %s, peak RSS %d MiB\n",
		capt.Items, capt.Seconds, float64(capt.Items)/capt.Seconds, capt.Seconds/fetch.Seconds, capt.Status, capt.PeakRSS/1024)
	fmt.Printf("re-sweep:   %d unchanged items in %.1fs (%.0f items/s, %.1f× fetch time)\n",
		capt.Items, capt.Again, float64(capt.Items)/capt.Again, capt.Again/fetch.Seconds)
}
