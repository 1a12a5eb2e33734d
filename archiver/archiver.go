package archiver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// ErrAlreadyRunning: the account is being captured right now.
var ErrAlreadyRunning = errors.New("archiver: a capture of this account is already running")

// ErrNoConnector: the account's platform has no connector.
var ErrNoConnector = errors.New("archiver: no connector for this platform")

// Options configure an Archiver.
type Options struct {
	Catalog      *storage.Catalog
	Blobs        blob.Store
	Sealer       *storage.Sealer
	Connectors   map[string]platforms.Connector
	Limits       *platforms.HostLimits
	HTTP         *http.Client
	Concurrency  int
	RunTimeout   time.Duration
	RecentWindow time.Duration
	MaxPageBytes int64
	Log          *slog.Logger
	// OnRun, if set, is told each finished run's platform and status.
	OnRun func(platform, status string)
	// OnChange, if set, is called after a run that changed the archive
	// (the search index follows).
	OnChange func()
	// Screen, if set, screens each item's current text under the city's
	// policy (3.4.3); its hits are stored as flags with the item's new
	// version, in the same transaction.
	Screen func(text string) []storage.FlagCapture
	// ReplicaID names this process in capture leases (default: host name,
	// process id and a random part). LeaseTTL is how long a lease lasts
	// without renewal (default 2 minutes): a replica that dies mid-run
	// holds its accounts at most that long.
	ReplicaID string
	LeaseTTL  time.Duration
	// Sleep replaces waiting between platform retries (tests).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Archiver runs captures: at most Concurrency at once, never two of the same
// account, each within RunTimeout.
type Archiver struct {
	o       Options
	sem     chan struct{}
	mu      sync.Mutex
	running map[uint64]bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// New makes an Archiver.
func New(o Options) *Archiver {
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.RunTimeout <= 0 {
		o.RunTimeout = time.Hour
	}
	if o.RecentWindow <= 0 {
		o.RecentWindow = 72 * time.Hour
	}
	if o.Limits == nil {
		o.Limits = platforms.NewHostLimits(5, 10)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	if o.ReplicaID == "" {
		o.ReplicaID = defaultReplicaID()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Archiver{o: o, sem: make(chan struct{}, o.Concurrency), running: map[uint64]bool{}, ctx: ctx, cancel: cancel}
}

// Sealer is the credential sealer the archiver opens credentials with.
func (a *Archiver) Sealer() *storage.Sealer { return a.o.Sealer }

// Connector returns the connector of a platform.
func (a *Archiver) Connector(platform string) (platforms.Connector, bool) {
	c, ok := a.o.Connectors[platform]
	return c, ok
}

// claim marks the account as being captured, or says it already is.
func (a *Archiver) claim(id uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[id] {
		return false
	}
	a.running[id] = true
	return true
}

func (a *Archiver) release(id uint64) {
	a.mu.Lock()
	delete(a.running, id)
	a.mu.Unlock()
}

// Start begins a capture in the background and returns its run record at
// once (status running).
func (a *Archiver) Start(accountID uint64, kind, trigger string) (*storage.CaptureRun, error) {
	r, acct, err := a.begin(a.ctx, accountID, kind, trigger)
	if err != nil {
		return nil, err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.execute(a.ctx, r, acct) // releases the account in finish
	}()
	return r, nil
}

// Capture runs a capture and waits for it; the error is about starting it,
// the run record says how the run went.
func (a *Archiver) Capture(ctx context.Context, accountID uint64, kind, trigger string) (*storage.CaptureRun, error) {
	r, acct, err := a.begin(ctx, accountID, kind, trigger)
	if err != nil {
		return nil, err
	}
	a.wg.Add(1)
	defer a.wg.Done()
	a.execute(ctx, r, acct) // releases the account in finish
	return a.o.Catalog.RunByID(context.WithoutCancel(ctx), r.ID)
}

func (a *Archiver) begin(ctx context.Context, accountID uint64, kind, trigger string) (*storage.CaptureRun, *storage.Account, error) {
	if kind != storage.RunFull && kind != storage.RunIncremental {
		return nil, nil, fmt.Errorf("archiver: kind %q is not full or incremental", kind)
	}
	acct, err := a.o.Catalog.AccountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := a.o.Connectors[acct.Platform]; !ok {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoConnector, acct.Platform)
	}
	if !a.claim(accountID) {
		return nil, nil, ErrAlreadyRunning
	}
	// Another replica on the same catalog may be capturing it.
	held, err := a.o.Catalog.AcquireLease(ctx, accountID, a.o.ReplicaID, a.o.LeaseTTL)
	if err != nil || !held {
		a.release(accountID)
		if err == nil {
			err = ErrAlreadyRunning
		}
		return nil, nil, err
	}
	r, err := a.o.Catalog.StartRun(ctx, accountID, kind, trigger)
	if err == nil {
		_, err = a.o.Catalog.RenewLease(ctx, accountID, a.o.ReplicaID, r.ID, a.o.LeaseTTL)
	}
	if err != nil {
		a.o.Catalog.ReleaseLease(context.WithoutCancel(ctx), accountID, a.o.ReplicaID)
		a.release(accountID)
		return nil, nil, err
	}
	return r, acct, nil
}

// Wait blocks until every capture running now has finished.
func (a *Archiver) Wait() { a.wg.Wait() }

// Close cancels running captures and waits for them to record how they
// ended, or for ctx.
func (a *Archiver) Close(ctx context.Context) error {
	a.cancel()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("archiver: close: captures still running: %w", ctx.Err())
	}
}

// execute runs one capture to its end and records the outcome. It never
// panics the process: a connector panic fails the run.
func (a *Archiver) execute(ctx context.Context, r *storage.CaptureRun, acct *storage.Account) {
	log := a.o.Log.With("run_id", r.ID, "account_id", acct.ID, "platform", acct.Platform, "kind", r.Kind)
	select {
	case a.sem <- struct{}{}:
		defer func() { <-a.sem }()
	case <-ctx.Done():
		a.finish(r, acct, &run{}, ctx.Err(), log)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.o.RunTimeout)
	defer cancel()
	stopRenewing := a.keepLease(ctx, cancel, acct.ID, r.ID, log)
	defer stopRenewing()
	cred, err := a.o.Sealer.Open(acct.CredentialEnc)
	if err != nil {
		a.finish(r, acct, &run{}, err, log)
		return
	}
	rn := newRun(a, r, acct, log)
	client := platforms.NewClient(platforms.ClientOptions{
		HTTP: a.o.HTTP, Raw: a.o.Blobs, Limits: a.o.Limits, Secrets: []string{cred},
		MaxBody: a.o.MaxPageBytes, Log: log, Sleep: a.o.Sleep,
	})
	rn.client = client
	opts := platforms.Options{Full: r.Kind == storage.RunFull, Since: time.Now().Add(-a.o.RecentWindow)}
	log.Info("capture started")
	err = safeCapture(ctx, a.o.Connectors[acct.Platform], platforms.Account{
		ID: acct.ID, Platform: acct.Platform, Handle: acct.Handle, NativeID: acct.NativeID,
		APIBase: acct.APIBase, Credential: cred,
	}, opts, client, rn)
	a.finish(r, acct, rn, err, log)
}

func safeCapture(ctx context.Context, c platforms.Connector, acct platforms.Account, opts platforms.Options, client *platforms.Client, sink platforms.Sink) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("archiver: connector panicked: %v", v)
		}
	}()
	return c.Capture(ctx, acct, opts, client, sink)
}

// finish records the run's status, counts and errors, and the account's
// health. It uses a fresh context: a cancelled run must still be recorded.
// It frees the account first, so whoever sees the run finished can start
// the next one.
func (a *Archiver) finish(r *storage.CaptureRun, acct *storage.Account, rn *run, err error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer func() {
		if lerr := a.o.Catalog.ReleaseLease(ctx, acct.ID, a.o.ReplicaID); lerr != nil {
			log.Error("release capture lease", "err", lerr)
		}
		a.release(acct.ID)
	}()
	errs := rn.errors()
	if err != nil {
		msg := err.Error()
		if rn.client != nil {
			msg = rn.client.Redact(msg) // a connector may have quoted the credential
		}
		errs = append(errs, msg)
	}
	status := storage.RunSucceeded
	switch {
	case len(errs) == 0:
	case rn.recorded() > 0:
		status = storage.RunPartial
	default:
		status = storage.RunFailed
	}
	if ferr := a.o.Catalog.FinishRun(ctx, r.ID, status, rn.counts(), errs, platforms.RedactionRule); ferr != nil {
		log.Error("record capture run", "err", ferr)
	}
	lastErr := ""
	if len(errs) > 0 {
		lastErr = errs[len(errs)-1]
	}
	auth := errors.Is(err, platforms.ErrAuth)
	if herr := a.o.Catalog.RecordAccountHealth(ctx, acct.ID, lastErr, auth, r.Kind == storage.RunFull, time.Now().UTC()); herr != nil {
		log.Error("record account health", "err", herr)
	}
	n := rn.counts()
	log.Info("capture finished", "status", status, "posts", n.Posts, "comments", n.Comments, "new", n.New,
		"changed", n.Changed, "deleted", n.Deleted, "media", n.Media, "errors", len(errs))
	if a.o.OnRun != nil {
		a.o.OnRun(acct.Platform, status)
	}
	if a.o.OnChange != nil && (n.New+n.Changed+n.Deleted) > 0 {
		a.o.OnChange()
	}
}

// keepLease renews the run's account lease every third of its time to live
// until the returned stop is called. A lease lost (this replica was too
// slow and another took the account) cancels the run.
func (a *Archiver) keepLease(ctx context.Context, cancel context.CancelFunc, accountID, runID uint64, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(a.o.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				held, err := a.o.Catalog.RenewLease(ctx, accountID, a.o.ReplicaID, runID, a.o.LeaseTTL)
				if err != nil && ctx.Err() == nil {
					log.Warn("renew capture lease", "err", err)
				}
				if err == nil && !held {
					log.Error("capture lease lost to another replica; stopping the run")
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// defaultReplicaID names this process: host, pid and a random part.
func defaultReplicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}
