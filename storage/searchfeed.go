package storage

import (
	"context"
	"fmt"
)

// What the search indexer reads from the catalog. Every read is bounded:
// the indexer walks items by change sequence in batches, fetches the
// versions of one batch in one query, and keeps the (small) account table
// in memory.

// ItemsChangedSince returns at most limit items whose change sequence is
// greater than seq, ordered by change sequence. Item.ChangeSeq is the
// custody seq of the item's latest change; custody appends are serialised
// and commit in seq order, so a reader that remembers the last seq it saw
// never misses a later change.
func (c *Catalog) ItemsChangedSince(ctx context.Context, seq uint64, limit int) ([]Item, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: items changed since %d: limit must be positive", seq)
	}
	var items []Item
	err := c.gdb(ctx).Where("change_seq > ?", seq).Order("change_seq, id").Limit(limit).Find(&items).Error
	if err != nil {
		return nil, fmt.Errorf("storage: items changed since %d: %w", seq, err)
	}
	return items, nil
}

// VersionsOf returns the versions of the given items in one query, keyed by
// item id, each list oldest first. Items without versions are absent.
func (c *Catalog) VersionsOf(ctx context.Context, itemIDs []uint64) (map[uint64][]Version, error) {
	out := make(map[uint64][]Version, len(itemIDs))
	if len(itemIDs) == 0 {
		return out, nil
	}
	var vs []Version
	if err := c.gdb(ctx).Where("item_id IN ?", itemIDs).Order("item_id, seq").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("storage: versions of %d items: %w", len(itemIDs), err)
	}
	for _, v := range vs {
		out[v.ItemID] = append(out[v.ItemID], v)
	}
	return out, nil
}

// AccountsByID returns every account keyed by id, with only the public
// fields filled: the sealed credential and the capture settings are not
// read.
func (c *Catalog) AccountsByID(ctx context.Context) (map[uint64]Account, error) {
	var as []Account
	err := c.gdb(ctx).Select("id", "platform", "handle", "native_id", "department", "display_name", "status", "approval").
		Order("id").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("storage: accounts: %w", err)
	}
	out := make(map[uint64]Account, len(as))
	for _, a := range as {
		out[a.ID] = a
	}
	return out, nil
}

// MaxChangeSeq is the highest item change sequence, 0 when there are no
// items. The search index is up to date when its watermark reaches it.
func (c *Catalog) MaxChangeSeq(ctx context.Context) (uint64, error) {
	var seq uint64
	if err := c.gdb(ctx).Model(&Item{}).Select("COALESCE(MAX(change_seq), 0)").Scan(&seq).Error; err != nil {
		return 0, fmt.Errorf("storage: max change seq: %w", err)
	}
	return seq, nil
}

// CountItems is the number of items in the catalog (a full reindex's total).
func (c *Catalog) CountItems(ctx context.Context) (int, error) {
	var n int64
	if err := c.gdb(ctx).Model(&Item{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count items: %w", err)
	}
	return int(n), nil
}
