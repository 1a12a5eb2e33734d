package records

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/storage"
)

// Kinds of export scope.
const (
	ExportSearch  = "search"
	ExportItems   = "items"
	ExportRequest = "request"
	ExportHold    = "hold"
)

// ExportScope is what an export holds.
type ExportScope struct {
	// Kind is ExportSearch, ExportItems, ExportRequest or ExportHold.
	Kind string `json:"kind"`
	// Query is a search's GET /api/v1/search parameters as a query string,
	// e.g. "q=parade&platform=facebook&from=2026-01-01". It is frozen:
	// resolved to item ids once, when the export starts.
	Query string `json:"query,omitempty"`
	// ItemIDs are the items of an items export.
	ItemIDs []uint64 `json:"item_ids,omitempty"`
	// RequestID names a records request: the items whose versions are
	// attached to it, withheld ones included.
	RequestID uint64 `json:"request_id,omitempty"`
	// HoldID names a legal hold: its frozen items.
	HoldID uint64 `json:"hold_id,omitempty"`
	// Matter is free text, the case name; a hold export defaults to the
	// hold's matter.
	Matter string `json:"matter,omitempty"`
}

// Finder resolves a search (GET /api/v1/search parameters as a query
// string) to the ids of every matching item. The api package supplies it;
// records never imports search.
type Finder func(ctx context.Context, query string) ([]uint64, error)

// Limits of an export scope.
const (
	maxExportQuery  = 4096
	maxExportMatter = 255
	// listExports caps Exports.
	listExportsDefault, listExportsMax = 50, 1000
)

// errShuttingDown refuses new exports once Close was called.
var errShuttingDown = errors.New("records: export: the records office is shutting down")

// StartExport checks the scope, resolves it to item ids (an items, request
// or hold scope at once; a search in the background, so the search is
// frozen when the build starts), records the export as running and starts
// building its bundle in the background, bounded by Config.ExportWorkers.
// It returns at once. A bad scope is FieldErrors naming kind, query,
// item_ids, request, hold or matter, and nothing is recorded.
func (o *Office) StartExport(ctx context.Context, a Actor, s ExportScope) (*storage.Export, error) {
	if o.exports.isClosed() {
		return nil, errShuttingDown
	}
	if fe := o.checkScope(&s); len(fe) > 0 {
		return nil, fe
	}
	now := time.Now().UTC()
	e := &storage.Export{Kind: s.Kind, Query: s.Query, Matter: s.Matter, Status: storage.ExportRunning,
		CreatedBy: a.ID, CreatedAt: o.cfg.Now().UTC(), Holder: o.cfg.ReplicaID, HeartbeatAt: &now}
	ids, err := o.resolveScope(ctx, &s, e)
	if err != nil {
		return nil, err
	}
	e.Matter = s.Matter
	e.ItemsTotal = len(ids)
	scope, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("records: export: scope: %w", err)
	}
	e.Scope = string(scope)
	if err := o.cat.CreateExport(ctx, e); err != nil {
		return nil, fmt.Errorf("records: export: %w", err)
	}
	job := *e
	err = o.exports.start(func(bctx context.Context) {
		stop := o.beatExport(bctx, job.ID)
		defer stop()
		o.runExport(bctx, &job, s, ids)
	})
	if err != nil {
		o.failExport(e.ID, err)
		return nil, err
	}
	return e, nil
}

// checkScope validates and tidies a scope; every problem is reported.
func (o *Office) checkScope(s *ExportScope) FieldErrors {
	fe := FieldErrors{}
	s.Kind = strings.TrimSpace(s.Kind)
	s.Query = strings.TrimSpace(s.Query)
	s.Matter = strings.TrimSpace(s.Matter)
	switch {
	case !oneLineText(s.Matter):
		fe["matter"] = "must be one line of text"
	case utf8.RuneCountInString(s.Matter) > maxExportMatter:
		fe["matter"] = fmt.Sprintf("is too long (at most %d characters)", maxExportMatter)
	}
	only := func(field string, set bool, kind string) {
		if set && s.Kind != kind {
			fe[field] = "is only for a " + kind + " export"
		}
	}
	only("query", s.Query != "", ExportSearch)
	only("item_ids", len(s.ItemIDs) > 0, ExportItems)
	only("request", s.RequestID != 0, ExportRequest)
	only("hold", s.HoldID != 0, ExportHold)
	switch s.Kind {
	case ExportSearch:
		if msg := o.checkQuery(s.Query); msg != "" {
			fe["query"] = msg
		}
	case ExportItems:
		if len(s.ItemIDs) == 0 {
			fe["item_ids"] = "must name at least one item"
		}
	case ExportRequest:
		if s.RequestID == 0 {
			fe["request"] = "is required"
		}
	case ExportHold:
		if s.HoldID == 0 {
			fe["hold"] = "is required"
		}
	default:
		fe["kind"] = "must be search, items, request or hold"
	}
	return fe
}

// checkQuery says what is wrong with a search export's query, or "".
func (o *Office) checkQuery(q string) string {
	switch {
	case o.cfg.Finder == nil:
		return "search exports are not available here"
	case len(q) > maxExportQuery:
		return fmt.Sprintf("is too long (at most %d bytes)", maxExportQuery)
	case !oneLineText(q):
		return "must be one line of text"
	}
	if _, err := url.ParseQuery(q); err != nil {
		return "is not a query string of search parameters (q=...&platform=...)"
	}
	return ""
}

// resolveScope returns the scope's items, deduplicated and existing, and
// fills in the export's hold or request. A search is resolved later, by
// the build; it returns no ids.
func (o *Office) resolveScope(ctx context.Context, s *ExportScope, e *storage.Export) ([]uint64, error) {
	var ids []uint64
	switch s.Kind {
	case ExportSearch:
		return nil, nil
	case ExportItems:
		ids = dedupe(s.ItemIDs)
		s.ItemIDs = ids
	case ExportRequest:
		r, err := o.cat.RequestByID(ctx, s.RequestID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, FieldErrors{"request": fmt.Sprintf("no such request: %d", s.RequestID)}
		} else if err != nil {
			return nil, fmt.Errorf("records: export: %w", err)
		}
		if ids, err = o.cat.RequestItemIDs(ctx, r.ID); err != nil {
			return nil, fmt.Errorf("records: export: %w", err)
		}
		e.RequestID = &r.ID
	case ExportHold:
		h, err := o.cat.HoldByID(ctx, s.HoldID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, FieldErrors{"hold": fmt.Sprintf("no such hold: %d", s.HoldID)}
		} else if err != nil {
			return nil, fmt.Errorf("records: export: %w", err)
		}
		if ids, err = h.HoldItems(); err != nil {
			return nil, fmt.Errorf("records: export: %w", err)
		}
		ids = dedupe(ids)
		e.HoldID = &h.ID
		if s.Matter == "" {
			s.Matter = oneLine(h.Matter)
		}
	}
	existing, err := o.cat.ExistingItemIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("records: export: %w", err)
	}
	return existing, scopeProblem(s, ids, existing)
}

// scopeProblem reports items of the scope that do not exist, or an empty
// scope, as FieldErrors; nil when there is none.
func scopeProblem(s *ExportScope, asked, existing []uint64) error {
	switch s.Kind {
	case ExportItems:
		if len(existing) < len(asked) {
			return FieldErrors{"item_ids": "no such item: " + listMissing(asked, existing)}
		}
	case ExportRequest:
		if len(existing) == 0 {
			return FieldErrors{"request": "has no attached items to export"}
		}
	case ExportHold:
		if len(existing) == 0 {
			return FieldErrors{"hold": "holds no items to export"}
		}
	}
	return nil
}

// listMissing names the ids of asked not in existing, the first ten of them.
func listMissing(asked, existing []uint64) string {
	have := make(map[uint64]bool, len(existing))
	for _, id := range existing {
		have[id] = true
	}
	var names []string
	more := 0
	for _, id := range asked {
		switch {
		case have[id]:
		case len(names) < 10:
			names = append(names, fmt.Sprint(id))
		default:
			more++
		}
	}
	out := strings.Join(names, ", ")
	if more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

// oneLineText reports whether s is valid UTF-8 without control characters
// or line breaks.
func oneLineText(s string) bool {
	return utf8.ValidString(s) && !hasControl(s) && !strings.ContainsAny(s, "\r\n")
}

// dedupe returns ids without repeats, in first-seen order.
func dedupe(ids []uint64) []uint64 {
	seen := make(map[uint64]bool, len(ids))
	out := make([]uint64, 0, len(ids))
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Export returns one export; a missing one wraps storage.ErrNotFound.
func (o *Office) Export(ctx context.Context, id uint64) (*storage.Export, error) {
	e, err := o.cat.ExportByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("records: export: %w", err)
	}
	return e, nil
}

// Exports lists the newest exports first (default 50, at most 1000).
func (o *Office) Exports(ctx context.Context, limit int) ([]storage.Export, error) {
	if limit <= 0 {
		limit = listExportsDefault
	}
	limit = min(limit, listExportsMax)
	es, err := o.cat.ListExports(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("records: exports: %w", err)
	}
	return es, nil
}

// WaitExports waits for the builds in flight (tests, shutdown).
func (o *Office) WaitExports() { o.exports.wg.Wait() }

// Close stops the records office's background work: builds in flight are
// cancelled and end failed ("stopped: server shutting down"). It waits for
// them to record that, or for ctx. New exports are refused from now on.
func (o *Office) Close(ctx context.Context) error {
	o.exports.close()
	done := make(chan struct{})
	go func() { o.exports.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("records: close: exports still stopping: %w", ctx.Err())
	}
}

// exportHeartbeat is how often a build says it is alive; a build silent
// for exportStale is taken for dead (its replica stopped).
const (
	exportHeartbeat = 30 * time.Second
	exportStale     = 3 * time.Minute
)

// beatExport keeps the export's heartbeat until stop is called.
func (o *Office) beatExport(ctx context.Context, id uint64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(exportHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := o.cat.ExportHeartbeat(ctx, id); err != nil && ctx.Err() == nil {
					o.log.Warn("export heartbeat", "export", id, "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// FailStaleExports marks failed the exports whose builder stopped beating
// (its replica died); run it from time to time.
func (o *Office) FailStaleExports(ctx context.Context) (int, error) {
	n, err := o.cat.FailRunningExports(ctx, "interrupted: the server building it stopped; start the export again", "",
		time.Now().Add(-exportStale))
	if err != nil {
		return 0, fmt.Errorf("records: export: %w", err)
	}
	return int(n), nil
}

// FailInterruptedExports marks failed the exports a crash left running; call
// it at start, before any export is started. With several replicas sharing
// a catalog, only one should call it, as another may be building.
func (o *Office) FailInterruptedExports(ctx context.Context) (int, error) {
	n, err := o.cat.FailRunningExports(ctx, "interrupted: the server stopped while the bundle was being built; start the export again",
		o.cfg.ReplicaID, time.Now().Add(-exportStale))
	if err != nil {
		return 0, fmt.Errorf("records: export: %w", err)
	}
	return int(n), nil
}

// exportRunner runs export builds in the background, a bounded number at
// once, under a context of its own that Close cancels.
type exportRunner struct {
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

func (r *exportRunner) init(workers int) {
	if workers <= 0 {
		workers = 2
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.sem = make(chan struct{}, workers)
}

func (r *exportRunner) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// start runs fn in the background once a slot is free; fn gets the
// runner's context, cancelled already when Close came first.
func (r *exportRunner) start(fn func(ctx context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errShuttingDown
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case r.sem <- struct{}{}:
			defer func() { <-r.sem }()
		case <-r.ctx.Done():
		}
		fn(r.ctx)
	}()
	return nil
}

func (r *exportRunner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.cancel()
}

// exportError is a failure whose message is safe to show to the user.
type exportError struct {
	msg string
	err error
}

func (e *exportError) Error() string { return "records: export: " + e.msg + ": " + e.err.Error() }
func (e *exportError) Unwrap() error { return e.err }

// publicMessage is the one line the export's Error shows for err: never
// internal error text, which the log has.
func publicMessage(ctx context.Context, err error) string {
	var ee *exportError
	switch {
	case ctx.Err() != nil:
		return "stopped: server shutting down"
	case errors.As(err, &ee):
		return ee.msg
	}
	return "internal error while building the bundle; the server log has the details"
}

// runExport builds one export's bundle and records the outcome.
func (o *Office) runExport(ctx context.Context, e *storage.Export, s ExportScope, ids []uint64) {
	log := o.log.With("export_id", e.ID, "kind", e.Kind)
	began := time.Now()
	err := ctx.Err()
	if err == nil && s.Kind == ExportSearch {
		ids, err = o.findItems(ctx, e, s.Query)
	}
	var done *storage.Export
	if err == nil {
		done, err = o.buildExport(ctx, e, s, ids)
	}
	if err != nil {
		msg := publicMessage(ctx, err)
		log.Error("export failed", "err", err, "message", msg)
		o.failExportMsg(e.ID, msg)
		return
	}
	log.Info("export ready", "items", done.ItemCount, "size", done.Size, "sha256", done.BundleSHA256,
		"duration", time.Since(began).Round(time.Millisecond))
}

// findItems runs a search export's frozen search and records its total.
func (o *Office) findItems(ctx context.Context, e *storage.Export, query string) ([]uint64, error) {
	found, err := o.cfg.Finder(ctx, query)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &exportError{"the search could not be run", err}
	}
	ids, err := o.cat.ExistingItemIDs(ctx, dedupe(found))
	if err != nil {
		return nil, err
	}
	if err := o.cat.ExportProgress(ctx, e.ID, 0, len(ids)); err != nil {
		return nil, err
	}
	e.ItemsTotal = len(ids)
	return ids, nil
}

// failExport records a failure to start.
func (o *Office) failExport(id uint64, err error) {
	msg := "not started"
	if errors.Is(err, errShuttingDown) {
		msg = "stopped: server shutting down"
	}
	o.failExportMsg(id, msg)
}

// failExportMsg marks the export failed. It uses a context of its own: a
// build stopped by Close must still record how it ended.
func (o *Office) failExportMsg(id uint64, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := o.cat.FailExport(ctx, id, msg); err != nil {
		o.log.Error("record export failure", "export_id", id, "err", err)
	}
}

// itemRef is an exported item's place in its thread: what the builder
// keeps of each exported item for the whole build, 24 bytes.
type itemRef struct {
	ID     uint64
	Thread uint64 // the thread's root post id; the item's own id when it has none
	Parent uint64 // 0: none
}

// compactRefs keeps what the builder needs of the catalog's refs.
func compactRefs(rs []storage.ItemRef) []itemRef {
	out := make([]itemRef, len(rs))
	for i, r := range rs {
		out[i] = itemRef{ID: r.ID, Thread: r.Root()}
		if r.ParentID != nil {
			out[i].Parent = *r.ParentID
		}
	}
	return out
}

// exportIDs returns the ids of refs, in order.
func exportIDs(refs []itemRef) []uint64 {
	ids := make([]uint64, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids
}

// sortRefs orders items by thread (root id), each thread's root first,
// then by id: the order every part of a bundle lists them in.
func sortRefs(refs []itemRef) {
	slices.SortFunc(refs, func(a, b itemRef) int {
		if ra, rb := a.Thread, b.Thread; ra != rb {
			return cmp.Compare(ra, rb)
		}
		if ar, br := a.ID == a.Thread, b.ID == b.Thread; ar != br {
			if ar {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
