package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// What litigation exports read and write. The builder walks the exported
// items in chunks, so every query that takes item ids takes a bounded list;
// the ones that may be handed a whole scope (ExistingItemIDs, ItemRefs,
// CaptureWindow) split it themselves.

// Export statuses.
const (
	ExportRunning = "running"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// inChunk bounds the ids bound into one IN (...) list: far below the
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const inChunk = 1000

// eachChunk calls fn on ids in slices of at most inChunk.
func eachChunk(ids []uint64, fn func(part []uint64) error) error {
	for len(ids) > 0 {
		n := min(len(ids), inChunk)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// CreateExport inserts a new export row (status running unless set).
func (c *Catalog) CreateExport(ctx context.Context, e *Export) error {
	if e.Status == "" {
		e.Status = ExportRunning
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	if err := c.gdb(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("storage: create export: %w", mapErr(err))
	}
	return nil
}

// ExportByID returns one export, or an error wrapping ErrNotFound.
func (c *Catalog) ExportByID(ctx context.Context, id uint64) (*Export, error) {
	var e Export
	if err := c.gdb(ctx).Take(&e, id).Error; err != nil {
		return nil, fmt.Errorf("storage: export %d: %w", id, mapErr(err))
	}
	return &e, nil
}

// ListExports returns the newest exports first, at most limit of them,
// without their Scope (an item list can hold 100,000 ids; Kind, Query,
// HoldID, RequestID and Matter say what each holds). ExportByID has it.
func (c *Catalog) ListExports(ctx context.Context, limit int) ([]Export, error) {
	var es []Export
	if err := c.gdb(ctx).Omit("scope").Order("id DESC").Limit(limit).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("storage: list exports: %w", err)
	}
	return es, nil
}

// ExportProgress records how far a running export has come: items written
// of the total. A negative total leaves the total as it is.
func (c *Catalog) ExportProgress(ctx context.Context, id uint64, done, total int) error {
	up := map[string]any{"items_done": done}
	if total >= 0 {
		up["items_total"] = total
	}
	err := c.gdb(ctx).Model(&Export{}).Where("id = ? AND status = ?", id, ExportRunning).Updates(up).Error
	if err != nil {
		return fmt.Errorf("storage: export %d progress: %w", id, err)
	}
	return nil
}

// ExportBundle is what a finished export produced.
type ExportBundle struct {
	Key, SHA256 string
	Size        int64
	Items       int
}

// FinishExport marks a running export ready with its bundle, and appends
// its custody event, in one transaction. An export that is no longer
// running (failed meanwhile) is ErrConflict: the bundle stays unreferenced.
func (c *Catalog) FinishExport(ctx context.Context, id uint64, b ExportBundle, ev NewEvent) (*Export, error) {
	err := c.Tx(ctx, func(tx *Catalog) error {
		now := time.Now().UTC()
		res := tx.gdb(ctx).Model(&Export{}).Where("id = ? AND status = ?", id, ExportRunning).Updates(map[string]any{
			"status": ExportReady, "bundle_key": b.Key, "bundle_sha256": b.SHA256, "size": b.Size,
			"item_count": b.Items, "items_total": b.Items, "items_done": b.Items, "finished_at": now, "error": ""})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w: export %d is not running", ErrConflict, id)
		}
		_, err := tx.AppendCustody(ctx, ev)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: finish export %d: %w", id, err)
	}
	return c.ExportByID(ctx, id)
}

// FailExport marks a running export failed with a message safe to show.
func (c *Catalog) FailExport(ctx context.Context, id uint64, msg string) error {
	now := time.Now().UTC()
	err := c.gdb(ctx).Model(&Export{}).Where("id = ? AND status = ?", id, ExportRunning).
		Updates(map[string]any{"status": ExportFailed, "error": msg, "finished_at": now}).Error
	if err != nil {
		return fmt.Errorf("storage: fail export %d: %w", id, err)
	}
	return nil
}

// FailRunningExports marks every running export failed with msg (at start:
// builds a crash left behind) and returns how many there were.
// Only exports no replica is building any more are failed: those of holder
// (this replica, starting again; "" for none) and those whose builder's
// heartbeat is older than staleBefore.
func (c *Catalog) FailRunningExports(ctx context.Context, msg, holder string, staleBefore time.Time) (int64, error) {
	now := time.Now().UTC()
	res := c.gdb(ctx).Model(&Export{}).Where("status = ?", ExportRunning).
		Where("holder = ? OR heartbeat_at IS NULL OR heartbeat_at < ?", holder, staleBefore.UTC()).
		Updates(map[string]any{"status": ExportFailed, "error": msg, "finished_at": now})
	if res.Error != nil {
		return 0, fmt.Errorf("storage: fail running exports: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ExistingItemIDs returns which of ids are items in the catalog, in the
// order given, without duplicates.
func (c *Catalog) ExistingItemIDs(ctx context.Context, ids []uint64) ([]uint64, error) {
	found := make(map[uint64]bool, len(ids))
	err := eachChunk(ids, func(part []uint64) error {
		var got []uint64
		if err := c.gdb(ctx).Model(&Item{}).Where("id IN ?", part).Pluck("id", &got).Error; err != nil {
			return err
		}
		for _, id := range got {
			found[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: existing items: %w", err)
	}
	out := make([]uint64, 0, len(found))
	for _, id := range ids {
		if found[id] {
			out = append(out, id)
			delete(found, id)
		}
	}
	return out, nil
}

// ItemRef is an item's place in its thread: what an export sorts and
// nests by, without the item's text.
type ItemRef struct {
	ID       uint64
	RootID   *uint64
	ParentID *uint64
	Kind     string
}

// Root is the id of the item's thread: its root post's id, or its own when
// it has none.
func (r ItemRef) Root() uint64 {
	if r.RootID != nil {
		return *r.RootID
	}
	return r.ID
}

// ItemRefs returns the thread places of the given items, in no particular
// order; missing items are absent.
func (c *Catalog) ItemRefs(ctx context.Context, ids []uint64) ([]ItemRef, error) {
	out := make([]ItemRef, 0, len(ids))
	err := eachChunk(ids, func(part []uint64) error {
		var refs []ItemRef
		if err := c.gdb(ctx).Model(&Item{}).Select("id", "root_id", "parent_id", "kind").Where("id IN ?", part).Find(&refs).Error; err != nil {
			return err
		}
		out = append(out, refs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: item refs: %w", err)
	}
	return out, nil
}

// RequestItemIDs returns the distinct items whose versions are attached to
// a request, withheld ones included, by id.
func (c *Catalog) RequestItemIDs(ctx context.Context, requestID uint64) ([]uint64, error) {
	var ids []uint64
	err := c.gdb(ctx).Model(&RequestItem{}).Where("request_id = ?", requestID).Distinct("item_id").Order("item_id").Pluck("item_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("storage: request %d items: %w", requestID, err)
	}
	return ids, nil
}

// CaptureWindow returns the earliest and latest capture time of the
// versions of the given items; both nil when they have none.
func (c *Catalog) CaptureWindow(ctx context.Context, ids []uint64) (first, last *time.Time, err error) {
	err = eachChunk(ids, func(part []uint64) error {
		var vs []Version
		for _, dir := range []string{"captured_at", "captured_at DESC"} {
			vs = vs[:0]
			if err := c.gdb(ctx).Select("captured_at").Where("item_id IN ?", part).Order(dir).Limit(1).Find(&vs).Error; err != nil {
				return err
			}
			if len(vs) == 0 {
				return nil
			}
			t := vs[0].CapturedAt.UTC()
			if first == nil || t.Before(*first) {
				first = &t
			}
			if last == nil || t.After(*last) {
				last = &t
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("storage: capture window: %w", err)
	}
	return first, last, nil
}

// MediaOf returns the media of the given items in one query, keyed by item
// id, each list in id order.
func (c *Catalog) MediaOf(ctx context.Context, itemIDs []uint64) (map[uint64][]Media, error) {
	out := make(map[uint64][]Media, len(itemIDs))
	if len(itemIDs) == 0 {
		return out, nil
	}
	var ms []Media
	if err := c.gdb(ctx).Where("item_id IN ?", itemIDs).Order("item_id, id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: media of %d items: %w", len(itemIDs), err)
	}
	for _, m := range ms {
		out[m.ItemID] = append(out[m.ItemID], m)
	}
	return out, nil
}

// ItemCustodyEvents returns the custody events about the given items in one
// query, keyed by item id, each list oldest first.
func (c *Catalog) ItemCustodyEvents(ctx context.Context, itemIDs []uint64) (map[uint64][]CustodyEvent, error) {
	out := make(map[uint64][]CustodyEvent, len(itemIDs))
	if len(itemIDs) == 0 {
		return out, nil
	}
	subjects := make([]string, len(itemIDs))
	for i, id := range itemIDs {
		subjects[i] = strconv.FormatUint(id, 10)
	}
	var evs []CustodyEvent
	err := c.gdb(ctx).Where("subject_type = ? AND subject_id IN ?", "item", subjects).Order("seq").Find(&evs).Error
	if err != nil {
		return nil, fmt.Errorf("storage: custody events of %d items: %w", len(itemIDs), err)
	}
	for _, ev := range evs {
		id, err := strconv.ParseUint(ev.SubjectID, 10, 64)
		if err != nil {
			continue // not an id this query asked for
		}
		out[id] = append(out[id], ev)
	}
	return out, nil
}

// ExportHeartbeat says the export's builder is alive.
func (c *Catalog) ExportHeartbeat(ctx context.Context, id uint64) error {
	err := c.gdb(ctx).Model(&Export{}).Where("id = ? AND status = ?", id, ExportRunning).
		Update("heartbeat_at", time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("storage: export %d heartbeat: %w", id, err)
	}
	return nil
}
