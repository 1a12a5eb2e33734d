// Command replicas benchmarks civicarchive run as several replicas: real
// `civicarchive serve` processes sharing one PostgreSQL catalog and one S3
// bucket, each with its own data dir and search index. It measures search
// latency and capture throughput with one and with two replicas on this
// machine, and what grows with the archive (catalog rows and bytes, blobs,
// the index each replica keeps), projected to 100 million items.
//
//	go build -o /tmp/benchrep ./scripts/bench/replicas
//	/tmp/benchrep -servers /tmp/benchrep-srv -out /tmp/benchrep.md       # 200,000 items, ~8.5 min
//	/tmp/benchrep -servers /tmp/benchrep-srv2 -items 20000 -duration 5s  # a quick run
//
// -servers DIR starts a throw-away PostgreSQL (scripts/start-postgres.sh
// DIR) and versitygw (scripts/start-s3.sh DIR) and stops both at the end;
// DIR must be fresh. Without it the bench uses the servers named by
// CIVICARCHIVE_TEST_DATABASE_URL, CIVICARCHIVE_TEST_S3_ENDPOINT and
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (source DIR/pg.env and
// DIR/s3.env). Each run makes its own PostgreSQL schema and bucket.
//
// Steps:
//
//  1. Seed: N items (threads of a post and 9 comments; texts from civic
//     templates and a small vocabulary, see gen.go) in batches of 1,000:
//     the batch's blobs (one raw page per thread, one normalised JSON per
//     version) put straight into the bucket in blob.S3's layout, then its
//     items recorded through storage.Catalog.RecordItem by -seed-writers
//     writers (threads split between them), each item its own
//     transaction (-tx-items; on PostgreSQL 1,000 items to a transaction
//     was 5× slower: every RecordItem is two savepoints and an update of
//     the custody head row), uploads of the next batch overlapping.
//  2. Build ./cmd/civicarchive; start replica A (scheduler off, JSON logs,
//     --listen 127.0.0.1:0), wait until its index holds N items (polling
//     GET /api/v1/search?size=1 with an admin token from `civicarchive token
//     create`), then the same for replica B.
//  3. Search: 21 queries (words, phrases, boolean, wildcard, fuzzy,
//     filters, date sort, four with facet counts) in turn: first one
//     client on A for -baseline (latency without queueing), then -rounds
//     rounds of -clients closed-loop clients for -duration against A, then
//     round robin over A and B (alternating, so other work on the machine
//     falls on both alike).
//  4. Capture: -accounts fake Mastodon accounts (mastodontest, 40 statuses
//     a page) of -posts posts with -comments comments, registered through
//     the API and captured in full through A; then as many fresh accounts
//     split between A and B; -capture-rounds times. Each replica runs
//     capture.concurrency (2) captures at once; capture.per_host_rps is
//     set to -capture-rps (each fake account is its own host:port).
//  5. Size: pg_database_size and each table's pg_total_relation_size, row
//     counts, the bucket's objects and bytes (ListObjectsV2) and du of the
//     S3 server's files, each replica's index on disk; per item and
//     projected linearly to 100,000,000 items.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func addCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

var cleanupOnce sync.Once

func runCleanups() {
	cleanupOnce.Do(func() {
		cleanupMu.Lock()
		fs := append([]func(){}, cleanups...)
		cleanupMu.Unlock()
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
	})
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchrep: "+format+"\n", args...)
	runCleanups()
	os.Exit(1)
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

type servers struct {
	dbURL, s3Endpoint, key, secret, region string
	s3pid                                  int
	s3Dir                                  string
}

// startServers runs the two scripts into dir and reads what they wrote.
func startServers(repo, dir string) servers {
	if _, err := os.Stat(dir); err == nil {
		fatal("-servers %s exists: give a fresh directory", dir)
	}
	for _, script := range []string{"start-postgres.sh", "start-s3.sh"} {
		cmd := exec.Command("bash", filepath.Join(repo, "scripts", script), dir)
		cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fatal("%s: %v", script, err)
		}
		if script == "start-postgres.sh" {
			addCleanup(func() {
				if err := exec.Command(filepath.Join(dir, "pg.stop")).Run(); err != nil {
					fmt.Fprintf(os.Stderr, "pg.stop: %v\n", err)
				}
			})
		} else {
			addCleanup(func() {
				b, _ := os.ReadFile(filepath.Join(dir, "s3.pid"))
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					syscall.Kill(pid, syscall.SIGTERM)
				}
			})
		}
	}
	out, err := exec.Command("bash", "-c", `. "$1/pg.env" && . "$1/s3.env" && printf '%s\n' "$CIVICARCHIVE_TEST_DATABASE_URL" "$CIVICARCHIVE_TEST_S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION"`, "_", dir).Output()
	if err != nil {
		fatal("read %s/pg.env, s3.env: %v", dir, err)
	}
	f := strings.Split(string(out), "\n")
	s := servers{dbURL: f[0], s3Endpoint: f[1], key: f[2], secret: f[3], region: f[4], s3Dir: filepath.Join(dir, "s3")}
	b, _ := os.ReadFile(filepath.Join(dir, "s3.pid"))
	s.s3pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	return s
}

func envServers(s3Dir string) servers {
	s := servers{dbURL: os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"), s3Endpoint: os.Getenv("CIVICARCHIVE_TEST_S3_ENDPOINT"),
		key: os.Getenv("AWS_ACCESS_KEY_ID"), secret: os.Getenv("AWS_SECRET_ACCESS_KEY"), region: os.Getenv("AWS_REGION"), s3Dir: s3Dir}
	if s.dbURL == "" || s.s3Endpoint == "" || s.key == "" {
		fatal("give -servers DIR, or set CIVICARCHIVE_TEST_DATABASE_URL, CIVICARCHIVE_TEST_S3_ENDPOINT and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
	}
	return s
}

// newSchema makes a fresh schema and returns the URL that uses it.
func newSchema(base, name string) string {
	db, err := sql.Open("pgx", base)
	if err != nil {
		fatal("%v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		fatal("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		fatal("%v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func main() {
	items := flag.Int("items", 200000, "items to seed")
	clients := flag.Int("clients", 8, "concurrent search clients")
	duration := flag.Duration("duration", 20*time.Second, "timed search load per configuration")
	warmup := flag.Duration("warmup", 3*time.Second, "untimed search load before the first timed load of each configuration")
	rounds := flag.Int("rounds", 3, "search load rounds (each: one replica, then two)")
	baseline := flag.Duration("baseline", 10*time.Second, "first, one client on one replica for this long (0: skip)")
	captureRounds := flag.Int("capture-rounds", 2, "capture rounds (each: one replica, then two, fresh accounts)")
	accounts := flag.Int("accounts", 8, "fake Mastodon accounts per capture phase")
	posts := flag.Int("posts", 50, "posts per fake account")
	comments := flag.Int("comments", 20, "comments per post (every third a reply)")
	captureRPS := flag.Int("capture-rps", 1000, "CIVICARCHIVE_CAPTURE_PER_HOST_RPS of the replicas")
	serversDir := flag.String("servers", "", "start PostgreSQL and versitygw into this fresh directory, stop them at the end")
	s3Dir := flag.String("s3-dir", "", "the S3 server's data directory, for du (default: -servers DIR/s3)")
	dir := flag.String("dir", "", "work directory (binary, replicas' data dirs and logs); default a temp dir")
	keep := flag.Bool("keep", false, "keep -dir")
	repo := flag.String("repo", ".", "the repository (for go build and the server scripts)")
	seedv := flag.Uint64("seed", 20261124, "generator seed")
	workers := flag.Int("upload-workers", 16, "concurrent PutObject calls while seeding")
	txItems := flag.Int("tx-items", 1, "items recorded per catalog transaction while seeding (1: each RecordItem its own, as a capture does)")
	writers := flag.Int("seed-writers", 2, "concurrent catalog writers while seeding (threads split between them)")
	seedOnly := flag.Bool("seed-only", false, "stop after seeding and measuring the catalog and the bucket")
	out := flag.String("out", "", "also write the Markdown report here")
	skipLoad := flag.Bool("skip-load", false, "skip the search load")
	skipCapture := flag.Bool("skip-capture", false, "skip the capture phases")
	flag.Parse()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; fatal("interrupted") }()
	defer runCleanups()

	absRepo, err := filepath.Abs(*repo)
	if err != nil {
		fatal("%v", err)
	}
	if _, err := os.Stat(filepath.Join(absRepo, "go.mod")); err != nil {
		fatal("-repo %s: no go.mod (run from the repository or give -repo)", absRepo)
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "benchrep-"); err != nil {
			fatal("%v", err)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		fatal("%v", err)
	}
	if !*keep {
		addCleanup(func() { os.RemoveAll(work) })
	}
	ctx := context.Background()
	rep := &report{Items: *items, Clients: *clients, Duration: *duration, Accounts: *accounts, Posts: *posts,
		Comments: *comments, CaptureRPS: *captureRPS, Args: strings.Join(os.Args[1:], " "), Began: time.Now()}

	var srv servers
	if *serversDir != "" {
		step("starting PostgreSQL and versitygw into %s", *serversDir)
		srv = startServers(absRepo, *serversDir)
	} else {
		srv = envServers(*s3Dir)
	}
	if *s3Dir != "" {
		srv.s3Dir = *s3Dir
	}
	if u, err := url.Parse(srv.s3Endpoint); err == nil && srv.s3pid == 0 {
		srv.s3pid = serverPid("versitygw", u.Host)
	}
	if u, err := url.Parse(srv.dbURL); err == nil {
		pgPid = serverPid("postgres", "-p\x00"+u.Port())
	}
	if srv.s3pid == 0 || pgPid == 0 {
		fmt.Fprintf(os.Stderr, "benchrep: did not find the servers' processes (versitygw %d, postgres %d): their CPU is not counted\n", srv.s3pid, pgPid)
	}
	if srv.region == "" {
		srv.region = "us-east-1"
	}
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	dbURL := newSchema(srv.dbURL, "bench_"+stamp)
	bucket := "bench-replicas-" + stamp
	cli := s3Client(ctx, srv.s3Endpoint, srv.key, srv.secret, srv.region)

	// 1. Seed.
	cat, err := storage.Open(ctx, storage.Options{URL: dbURL})
	if err != nil {
		fatal("open catalog: %v", err)
	}
	rep.CatalogEmpty = measureCatalog(ctx, dbURL)
	ensureBucket(ctx, srv.s3Endpoint, bucket, srv.key, srv.secret, srv.region)
	var s3Empty int64
	if srv.s3Dir != "" {
		s3Empty, _ = du(srv.s3Dir)
	}
	step("seeding %d items", *items)
	rep.Seed = seed(ctx, cat, cli, bucket, *items, *workers, max(*writers, 1), max(*txItems, 1), *seedv)
	rep.TxItems, rep.Writers = max(*txItems, 1), max(*writers, 1)
	cat.Close()
	step("seeded in %.1f s; measuring", rep.Seed.Wall.Seconds())
	rep.Catalog = measureCatalog(ctx, dbURL)
	rep.Objects, rep.ObjectBytes = bucketSize(ctx, cli, bucket)
	if srv.s3Dir != "" {
		d, _ := du(srv.s3Dir)
		rep.S3Disk = d - s3Empty
	}

	if *seedOnly {
		rep.End = time.Now()
		fmt.Print(rep.markdown())
		return
	}

	// 2. Replicas.
	step("building civicarchive")
	bin := buildBinary(absRepo, work)
	key := make([]byte, 32)
	rand.Read(key)
	shared := map[string]string{
		"CIVICARCHIVE_DATABASE_URL": dbURL, "CIVICARCHIVE_S3_ENDPOINT": srv.s3Endpoint, "CIVICARCHIVE_S3_BUCKET": bucket,
		"CIVICARCHIVE_S3_PATH_STYLE": "true", "CIVICARCHIVE_S3_REGION": srv.region, "AWS_ACCESS_KEY_ID": srv.key,
		"AWS_SECRET_ACCESS_KEY": srv.secret, "AWS_REGION": srv.region, "CIVICARCHIVE_SECRET_KEY": hex.EncodeToString(key),
		"CIVICARCHIVE_SCHEDULER": "off", "CIVICARCHIVE_LOG_FORMAT": "json",
		"CIVICARCHIVE_CAPTURE_PER_HOST_RPS": strconv.Itoa(*captureRPS),
	}
	names := []string{"replica A", "replica B"}
	envA := replicaEnv(shared, "replica-a", filepath.Join(work, "replica-a"))
	token := adminToken(bin, envA)
	var reps []*replica
	for i, name := range []string{"replica-a", "replica-b"} {
		step("starting %s; waiting for its index to hold %d items", name, *items)
		r := startReplica(bin, name, filepath.Join(work, name), replicaEnv(shared, name, filepath.Join(work, name)))
		wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		ready := r.waitIndexed(wctx, token, *items)
		cancel()
		r.mu.Lock()
		ci := catchUp{Name: names[i], Wall: ready, Took: r.caughtUp, Indexed: r.indexedLog, RSS: procStatus(r.cmd.Process.Pid, "VmRSS"),
			HWM: procStatus(r.cmd.Process.Pid, "VmHWM")}
		r.mu.Unlock()
		ci.IndexDisk, ci.IndexApparent = du(filepath.Join(r.dataDir, "index"))
		rep.CatchUp = append(rep.CatchUp, ci)
		step("  %s: index holds %d items %.1f s after start (catch-up took %.1f s), index %d MiB", name, *items,
			ready.Seconds(), r.caughtUp.Seconds(), ci.IndexDisk>>20)
		reps = append(reps, r)
	}

	// 3. Search load: one client on one replica (latency without
	// queueing), then rounds alternating one and two replicas, so that
	// other work on the machine falls on both alike.
	if !*skipLoad {
		rep.Totals = [][]int{queryTotals(reps[0].base, token), queryTotals(reps[1].base, token)}
		custodyBefore := measureCatalog(ctx, dbURL)
		load := func(n, c int, d time.Duration, round int) {
			var bases []string
			for _, r := range reps[:n] {
				bases = append(bases, r.base)
			}
			step("search load: %d client(s) for %s over %d replica(s)", c, d, n)
			if round <= 1 && *warmup > 0 {
				runLoad(bases, token, c, *warmup)
			}
			sessions := pgSessions(ctx, dbURL)
			before := sampleCPU(reps, srv.s3pid)
			res := runLoad(bases, token, c, d)
			res.CPU, res.Cores = cpuUse(before, sampleCPU(reps, srv.s3pid), names)
			res.NewConns = pgSessions(ctx, dbURL) - sessions
			res.Load, res.Round = loadavg(), round
			step("  %d requests, %.0f req/s, p50 %s p95 %s p99 %s, %d errors %s; %s; %d new PostgreSQL connections", res.Requests, res.rps(),
				res.P50, res.P95, res.P99, res.Errors, res.FirstError, res.CPU, res.NewConns)
			rep.Search = append(rep.Search, res)
		}
		if *baseline > 0 {
			load(1, 1, *baseline, 0)
		}
		for round := 1; round <= *rounds; round++ {
			for n := 1; n <= 2; n++ {
				load(n, *clients, *duration, round)
			}
		}
		rep.CatalogAfterLoad = measureCatalog(ctx, dbURL)
		rep.ReadEvents = rep.CatalogAfterLoad.Rows["custody_events"] - custodyBefore.Rows["custody_events"]
		rep.ReadEventBytes = rep.CatalogAfterLoad.Tables["custody_events"] - custodyBefore.Tables["custody_events"]
	}

	// 4. Capture: rounds alternating one and two replicas, fresh accounts
	// each phase.
	if !*skipCapture {
		tg := newTextGen(*seedv)
		for round := 1; round <= *captureRounds; round++ {
			for n := 1; n <= 2; n++ {
				step("capture round %d: %d accounts × %d posts × %d comments split between %d replica(s)", round, *accounts, *posts, *comments, n)
				c := capturePhase(ctx, dbURL, tg, *seedv+uint64(10*round+n), fmt.Sprintf("r%dn%d", round, n), reps[:n], reps, token,
					*accounts, *posts, *comments, srv.s3pid, names)
				c.Round, c.Replicas = round, n
				rep.Capture = append(rep.Capture, c)
			}
		}
		objs, bytes := bucketSize(ctx, cli, bucket)
		rep.CaptureObjects, rep.CaptureObjectBytes = objs-rep.Objects, bytes-rep.ObjectBytes
		for _, c := range rep.Capture {
			rep.CaptureItems += c.Items
		}
	}
	for i, r := range reps {
		rep.CatchUp[i].HWMEnd = procStatus(r.cmd.Process.Pid, "VmHWM")
	}
	for _, r := range reps {
		r.stop()
	}
	rep.End = time.Now()
	md := rep.markdown()
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fatal("%v", err)
		}
	}
}
