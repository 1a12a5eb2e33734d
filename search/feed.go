package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/civicarchive/civicarchive/storage"
)

// Feed is what the index reads from the catalog; *storage.Catalog
// satisfies it.
type Feed interface {
	// ItemsChangedSince returns at most limit items with ChangeSeq > seq,
	// ordered by ChangeSeq.
	ItemsChangedSince(ctx context.Context, seq uint64, limit int) ([]storage.Item, error)
	// VersionsOf returns the versions of the items, each list oldest first.
	VersionsOf(ctx context.Context, itemIDs []uint64) (map[uint64][]storage.Version, error)
	// AccountsByID returns every account (for its department).
	AccountsByID(ctx context.Context) (map[uint64]storage.Account, error)
}

// ItemCounter is implemented by a Feed that can say how many items there
// are, so Rebuild reports a total (*storage.Catalog does).
type ItemCounter interface {
	CountItems(ctx context.Context) (int, error)
}

// FlagFeed is implemented by a Feed that knows the policy screening flags
// of items (category letters A–L). Without it, documents carry no flags.
type FlagFeed interface {
	FlagsOf(ctx context.Context, itemIDs []uint64) (map[uint64][]string, error)
}

// BatchSize is how many items CatchUp reads and indexes at a time.
const BatchSize = 500

// CatchUp indexes every item that changed after the watermark, in batches
// of BatchSize. Each bleve batch carries its documents and the new
// watermark together, so after a crash the watermark never claims a
// change that is not in the index (an item indexed twice is harmless: its
// document is replaced). It returns how many items it indexed.
func (x *Index) CatchUp(ctx context.Context, feed Feed) (int, error) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	// Holding wmu, x.idx cannot be swapped under us.
	return catchUp(ctx, x.idx, feed, nil)
}

// catchUp indexes into idx what changed after idx's watermark. progress,
// when set, is called after each batch with the running count.
func catchUp(ctx context.Context, idx bleve.Index, feed Feed, progress func(done int)) (int, error) {
	wm, err := watermark(idx)
	if err != nil {
		return 0, err
	}
	var accounts map[uint64]storage.Account
	flagFeed, _ := feed.(FlagFeed)
	done := 0
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		items, err := feed.ItemsChangedSince(ctx, wm, BatchSize)
		if err != nil {
			return done, fmt.Errorf("search: read changes after %d: %w", wm, err)
		}
		if len(items) == 0 {
			return done, nil
		}
		ids := make([]uint64, len(items))
		for i, it := range items {
			ids[i] = it.ID
		}
		versions, err := feed.VersionsOf(ctx, ids)
		if err != nil {
			return done, fmt.Errorf("search: read versions: %w", err)
		}
		var flags map[uint64][]string
		if flagFeed != nil {
			if flags, err = flagFeed.FlagsOf(ctx, ids); err != nil {
				return done, fmt.Errorf("search: read flags: %w", err)
			}
		}
		b := idx.NewBatch()
		last := wm
		refreshed := false
		for _, it := range items {
			acct, ok := accounts[it.AccountID]
			if !ok && !refreshed { // first batch, or an account created since we read them
				if accounts, err = feed.AccountsByID(ctx); err != nil {
					return done, fmt.Errorf("search: read accounts: %w", err)
				}
				refreshed = true
				acct = accounts[it.AccountID]
			}
			d := NewDocument(it, versions[it.ID], acct, flags[it.ID])
			if it.DisposedAt != nil {
				// Disposed of under its retention schedule: not findable.
				b.Delete(d.ID())
				last = max(last, it.ChangeSeq)
				continue
			}
			if err := b.Index(d.ID(), d.fields()); err != nil {
				return done, fmt.Errorf("search: index item %d: %w", it.ID, err)
			}
			last = max(last, it.ChangeSeq)
		}
		b.SetInternal(watermarkKey, []byte(strconv.FormatUint(last, 10)))
		if err := idx.Batch(b); err != nil {
			return done, fmt.Errorf("search: write batch: %w", err)
		}
		done += len(items)
		wm = last
		if progress != nil {
			progress(done)
		}
		if len(items) < BatchSize {
			return done, nil
		}
	}
}

// Follow keeps the index up to date until ctx ends: it catches up at once,
// then whenever notify fires (a capture stored items) and every interval.
// Errors are logged and the next round tries again.
func (x *Index) Follow(ctx context.Context, feed Feed, every time.Duration, notify <-chan struct{}) {
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := x.CatchUp(ctx, feed)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			x.log.Error("search index catch-up failed", "err", err, "indexed", n)
		case n > 0:
			x.log.Info("search index caught up", "indexed", n, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case _, ok := <-notify:
			if !ok {
				notify = nil // closed: rely on the ticker
			}
		}
	}
}

// Rebuild reindexes everything from change seq 0 into a new index
// directory beside the current one and swaps it in at the end. Until the
// swap the current index keeps answering (and following the catalog); if
// the rebuild fails, the new directory is removed and nothing changes.
// progress, when set, is called after each batch with the items done and
// the total (0 when the feed cannot count).
func (x *Index) Rebuild(ctx context.Context, feed Feed, progress func(done, total int)) error {
	total := 0
	if c, ok := feed.(ItemCounter); ok {
		n, err := c.CountItems(ctx)
		if err != nil {
			return fmt.Errorf("search: rebuild: count items: %w", err)
		}
		total = n
	}
	x.mu.RLock()
	closed := x.closed
	x.mu.RUnlock()
	if closed {
		return errors.New("search: rebuild: the index is closed")
	}
	name := fmt.Sprintf("index-%d.bleve", time.Now().UnixNano())
	path := filepath.Join(x.dir, name)
	fresh, err := newIndex(path)
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	abandon := func(err error) error {
		fresh.Close()
		if rerr := os.RemoveAll(path); rerr != nil {
			x.log.Warn("could not remove an abandoned search index", "dir", name, "err", rerr)
		}
		return fmt.Errorf("search: rebuild: %w", err)
	}
	report := func(done int) {
		if progress != nil {
			progress(done, max(total, done))
		}
	}
	if progress != nil {
		progress(0, total)
	}
	done, err := catchUp(ctx, fresh, feed, report)
	if err != nil {
		return abandon(err)
	}

	x.wmu.Lock()
	defer x.wmu.Unlock()
	// Changes stored while we rebuilt went to the old index; take them too.
	more, err := catchUp(ctx, fresh, feed, func(n int) { report(done + n) })
	if err != nil {
		return abandon(err)
	}
	if err := setCurrent(x.dir, name); err != nil {
		return abandon(err)
	}
	x.mu.Lock()
	old, oldPath := x.idx, x.path
	x.idx, x.path = fresh, path
	x.mu.Unlock()
	if err := old.Close(); err != nil && !errors.Is(err, bleve.ErrorIndexClosed) {
		x.log.Warn("closing the replaced search index", "err", err)
	}
	if err := os.RemoveAll(oldPath); err != nil {
		x.log.Warn("could not remove the replaced search index", "dir", oldPath, "err", err)
	}
	x.log.Info("search index rebuilt", "items", done+more, "dir", name)
	return nil
}
