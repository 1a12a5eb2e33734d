package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/civicarchive/civicarchive/api"
	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

func newServeCmd(e *env, sf *settingsFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the web server and the scheduled archivers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, e)
		},
	}
}

// closer is one started component, stopped in reverse order of start.
type closer struct {
	name string
	stop func(ctx context.Context) error
}

// serve starts catalog → blobs → index → scheduler → HTTP, runs until ctx
// ends, then stops them in reverse: HTTP, scheduler, index, catalog.
func serve(ctx context.Context, cfg configs.Config, e *env) (err error) {
	log := newLogger(cfg, e.stderr)
	var started []closer
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		for i := len(started) - 1; i >= 0; i-- {
			c := started[i]
			if cerr := c.stop(sctx); cerr != nil {
				log.Error("stop component", "component", c.name, "err", cerr)
				err = errors.Join(err, cerr)
			} else {
				log.Info("stopped", "component", c.name)
			}
		}
	}()

	rs, err := loadRecordsSetup(cfg, log)
	if err != nil {
		return err
	}
	rules, err := loadScreening(cfg)
	if err != nil {
		return err
	}
	cat, err := openCatalog(ctx, cfg, log)
	if err != nil {
		return err
	}
	started = append(started, closer{"catalog", func(context.Context) error { return cat.Close() }})

	blobs, err := openBlobs(ctx, cfg)
	if err != nil {
		return err
	}

	idx, fresh, err := search.Open(filepath.Join(cfg.DataDir, "index"), log.With("component", "search"))
	if err != nil {
		return err
	}
	started = append(started, closer{"index", func(context.Context) error { return idx.Close() }})
	if fresh {
		log.Info("search index created", "path", filepath.Join(cfg.DataDir, "index"))
	}

	// The index follows the catalog: at once (catching up on whatever a
	// crash or a restore left unindexed), after every capture that changed
	// something, and every few seconds (changes made by other replicas).
	changed := make(chan struct{}, 1)
	followCtx, stopFollow := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		idx.Follow(followCtx, cat, 5*time.Second, changed)
	}()
	started = append(started, closer{"indexer", func(context.Context) error { stopFollow(); <-followed; return nil }})

	// The policy office screens what the archiver captures, and follows
	// captures to write removal records and check authenticity.
	pol := newPolicy(cfg, rules, cat, blobs, log)
	policyNudge := make(chan struct{}, 1)
	started = append(started, closer{"policy", followPolicy(pol, policyNudge)})

	metrics := api.NewMetrics(version)
	arc, err := newArchiver(ctx, cfg, cat, blobs, metrics, log, pol.Screen, func() {
		for _, ch := range []chan struct{}{changed, policyNudge} {
			select {
			case ch <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	})
	if err != nil {
		return err
	}
	started = append(started, closer{"archiver", arc.Close})

	// Exports resolve searches through the web server's search; it is built
	// after the office, so the office asks it through srv.
	var srv *api.Server
	find := func(ctx context.Context, query string) ([]uint64, error) { return srv.Finder()(ctx, query) }
	office, err := newOffice(ctx, cfg, rs, cat, blobs, find, log)
	if err != nil {
		return err
	}
	started = append(started, closer{"records", office.Close})
	sched := archiver.NewScheduler(log.With("component", "scheduler"), metrics.JobRun)
	if err := addHousekeeping(sched, cat, arc, log); err != nil {
		return err
	}
	if err := addRecordsJobs(sched, office, objectLock(cfg), log); err != nil {
		return err
	}
	defaults := archiver.Schedules{Incremental: cfg.Capture.IncrementalSchedule, Full: cfg.Capture.FullSchedule, TimeZone: cfg.TimeZone}
	onAccount := func(storage.Account) error { return nil }
	if cfg.Scheduler == "on" {
		if err := arc.ScheduleAll(ctx, sched, defaults); err != nil {
			return err
		}
		// Accounts registered or approved through another replica join
		// this one's schedule within half a minute.
		err := sched.Add("captures.sync_schedules", "@every 30s", time.Minute, func(ctx context.Context) error {
			return arc.ScheduleAll(ctx, sched, defaults)
		})
		if err != nil {
			return err
		}
		sched.Start()
		started = append(started, closer{"scheduler", sched.Stop})
		onAccount = func(a storage.Account) error {
			if err := arc.ScheduleAccount(sched, a, defaults); err != nil {
				return err
			}
			// A new account is captured at once, not at its first cron turn.
			_, err := arc.Start(a.ID, storage.RunFull, "catch_up")
			return err
		}
		if n, err := arc.CatchUp(ctx, defaults, time.Now()); err != nil {
			return err
		} else if n > 0 {
			log.Info("catching up on captures missed while down", "runs", n)
		}
	} else {
		log.Info("scheduler off: captures run only when started through the API")
	}

	srv, err = api.New(api.Deps{
		Catalog: cat, Blobs: blobs, Log: log.With("component", "api"),
		Metrics: metrics, Version: version, SessionTTL: cfg.Auth.SessionTTL,
		CookieSecure: cfg.Auth.CookieSecure, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Archiver: arc, Sealer: arc.Sealer(), OnAccountChange: onAccount,
		Search: idx, Location: cfg.Location(),
		Records: office, FormsPerHour: cfg.Records.FormsPerHour, MaxDescription: cfg.Records.MaxDescription,
		ObjectLock: objectLock(cfg),
		Policy:     pol, DirectoryFrameAncestors: frameAncestors(cfg), TrustedProxies: cfg.HTTP.TrustedProxyList(),
	})
	if err != nil {
		return fmt.Errorf("build web server: %w", err)
	}
	onListen := func(addr string) {
		if cfg.PublicURL == "" {
			office.SetPublicURL(defaultPublicURL(addr, log))
		}
	}
	return listenAndServe(ctx, cfg, srv, log, e, &started, onListen)
}

func listenAndServe(ctx context.Context, cfg configs.Config, h http.Handler, log *slog.Logger, e *env, started *[]closer, onListen func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return &configs.SettingError{Setting: "CIVICARCHIVE_LISTEN (listen)", Msg: err.Error()}
	}
	hs := &http.Server{
		Handler:           h,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	*started = append(*started, closer{"http", hs.Shutdown})
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	addr := ln.Addr().String()
	onListen(addr)
	log.Info("civicarchive listening", "addr", addr, "url", "http://"+addr, "version", version,
		"data_dir", cfg.DataDir, "scheduler", cfg.Scheduler)
	if e.ready != nil {
		e.ready(addr)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", context.Cause(ctx))
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http server: %w", err)
	}
}

func openCatalog(ctx context.Context, cfg configs.Config, log *slog.Logger) (*storage.Catalog, error) {
	return storage.Open(ctx, storage.Options{
		URL: cfg.DatabaseURL, DataDir: cfg.DataDir, BusyTimeout: cfg.Database.BusyTimeout,
		MaxOpenConns: cfg.Database.MaxOpenConns, Logger: log.With("component", "catalog"),
	})
}

// openBlobs opens the S3 store when a bucket is configured (creating the
// bucket, with Object Lock when retention is set, if it is missing), else the
// local directory under the data dir.
func openBlobs(ctx context.Context, cfg configs.Config) (blob.Store, error) {
	if cfg.S3.Bucket == "" {
		return blob.NewLocal(filepath.Join(cfg.DataDir, "blobs"))
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("blob: create spool dir: %w", err)
	}
	s, err := blob.NewS3(ctx, blob.S3Config{
		Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region, PathStyle: cfg.S3.PathStyle,
		Prefix: cfg.S3.Prefix, RetentionDays: cfg.S3.RetentionDays, MultipartThreshold: cfg.S3.MultipartThreshold,
		TempDir: tmp,
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.EnsureBucket(cctx, cfg.S3.RetentionDays > 0); err != nil {
		return nil, err
	}
	return s, nil
}

// newArchiver loads the credential key and builds the archiver with every
// platform's connector. Runs a crashed process left "running" are failed
// first: nothing of theirs was marked deleted, and their items are kept.
func newArchiver(ctx context.Context, cfg configs.Config, cat *storage.Catalog, blobs blob.Store, m *api.Metrics, log *slog.Logger, screen func(string) []storage.FlagCapture, onChange func()) (*archiver.Archiver, error) {
	sealer, err := openSealer(ctx, cfg, cat, log) // keys.go: the key ring, an interrupted rotation settled
	if err != nil {
		return nil, err
	}
	// This replica starting again has no run in flight: what its last life
	// held is released, and runs left "running" without a live lease (here
	// or on another replica) are failed.
	replica := replicaID(cfg)
	if _, err := cat.ReleaseLeasesOf(ctx, replica); err != nil {
		return nil, err
	}
	if n, err := cat.FailInterruptedRuns(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		log.Warn("capture runs interrupted by the last stop marked failed", "runs", n)
	}
	return archiver.New(archiver.Options{
		ReplicaID: replica,
		Catalog:   cat, Blobs: blobs, Sealer: sealer, Connectors: connectors(),
		Limits:      platforms.NewHostLimits(float64(cfg.Capture.PerHostRPS), 2*cfg.Capture.PerHostRPS),
		Concurrency: cfg.Capture.Concurrency, RunTimeout: cfg.Capture.RunTimeout, RecentWindow: cfg.Capture.RecentWindow,
		MaxPageBytes: cfg.Capture.MaxPageBytes, Log: log.With("component", "archiver"), OnRun: m.CaptureRun,
		OnChange: onChange, Screen: screen,
	}), nil
}

// replicaID names this process in capture leases: replica_id, or the host
// name and a hash of the data dir (stable across restarts).
func replicaID(cfg configs.Config) string {
	if cfg.ReplicaID != "" {
		return cfg.ReplicaID
	}
	host, _ := os.Hostname()
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dir = cfg.DataDir
	}
	sum := sha256.Sum256([]byte(dir))
	return fmt.Sprintf("%s/%x", host, sum[:4])
}

// addHousekeeping schedules the jobs every installation runs.
func addHousekeeping(s *archiver.Scheduler, cat *storage.Catalog, arc *archiver.Archiver, log *slog.Logger) error {
	// A replica that died mid-run is found once its lease expires.
	// Its accounts are captured again here at once (the lease decides
	// which replica, if several find it).
	err := s.Add("captures.fail_orphans", "@every 1m", time.Minute, func(ctx context.Context) error {
		runs, err := cat.FailOrphanRuns(ctx)
		for _, r := range runs {
			log.Warn("capture run of a replica that stopped answering marked failed; capturing again", "run_id", r.ID, "account_id", r.AccountID)
			if _, serr := arc.Start(r.AccountID, r.Kind, "takeover"); serr != nil && !errors.Is(serr, archiver.ErrAlreadyRunning) {
				log.Warn("takeover capture not started", "account_id", r.AccountID, "err", serr)
			}
		}
		if err == nil {
			_, err = cat.PurgeSlots(ctx, time.Now().Add(-7*24*time.Hour))
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.Add("sessions.purge", "@every 1h", time.Minute, func(ctx context.Context) error {
		n, err := cat.PurgeExpiredSessions(ctx)
		if err == nil && n > 0 {
			log.Info("expired sessions purged", "count", n)
		}
		return err
	})
}

// defaultPublicURL is the address links in letters and e-mail use when
// public_url is not set: the one the server listens on. A wildcard address
// reaches no one, so it becomes localhost, with a warning.
func defaultPublicURL(addr string, log *slog.Logger) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		log.Warn("public_url is not set and the server listens on every address: links in letters and e-mail say localhost; set CIVICARCHIVE_PUBLIC_URL", "listen", addr)
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
