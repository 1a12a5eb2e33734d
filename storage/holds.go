package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// HoldItems decodes a hold's frozen item list.
func (h *Hold) HoldItems() ([]uint64, error) {
	var ids []uint64
	if h.ScopeItems == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(h.ScopeItems), &ids); err != nil {
		return nil, fmt.Errorf("storage: hold %d: items: %w", h.ID, err)
	}
	return ids, nil
}

// CreateHold places a legal hold on a frozen list of items, with its
// custody event, in one transaction.
func (c *Catalog) CreateHold(ctx context.Context, h *Hold, items []uint64) error {
	b, _ := json.Marshal(items)
	h.ScopeItems = string(b)
	h.CreatedAt = time.Now().UTC()
	return c.Tx(ctx, func(tx *Catalog) error {
		if err := tx.gdb(ctx).Create(h).Error; err != nil {
			return fmt.Errorf("storage: create hold: %w", err)
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "hold_placed", Actor: h.CreatedBy, SubjectType: "hold",
			SubjectID: fmt.Sprint(h.ID), Details: map[string]any{"matter": h.Matter, "query": h.ScopeQuery, "items": len(items)}})
		return err
	})
}

// ReleaseHold ends a standing hold with its custody event. A hold already
// released is ErrConflict.
func (c *Catalog) ReleaseHold(ctx context.Context, id uint64, actor, reason string) (*Hold, error) {
	var out Hold
	err := c.Tx(ctx, func(tx *Catalog) error {
		if err := tx.gdb(ctx).Take(&out, id).Error; err != nil {
			return mapErr(err)
		}
		if out.ReleasedAt != nil {
			return fmt.Errorf("%w: hold %d was released already", ErrConflict, id)
		}
		now := time.Now().UTC()
		out.ReleasedAt, out.ReleasedBy, out.ReleaseReason = &now, actor, reason
		if err := tx.gdb(ctx).Model(&Hold{}).Where("id = ?", id).
			Updates(map[string]any{"released_at": now, "released_by": actor, "release_reason": reason}).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "hold_released", Actor: actor, SubjectType: "hold",
			SubjectID: fmt.Sprint(id), Details: map[string]any{"reason": reason}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: release hold %d: %w", id, err)
	}
	return &out, nil
}

// HoldByID returns one hold.
func (c *Catalog) HoldByID(ctx context.Context, id uint64) (*Hold, error) {
	var h Hold
	if err := c.gdb(ctx).Take(&h, id).Error; err != nil {
		return nil, fmt.Errorf("storage: hold %d: %w", id, mapErr(err))
	}
	return &h, nil
}

// ListHolds returns holds, newest first; standing only when asked.
func (c *Catalog) ListHolds(ctx context.Context, standingOnly bool) ([]Hold, error) {
	q := c.gdb(ctx).Order("id DESC")
	if standingOnly {
		q = q.Where("released_at IS NULL")
	}
	var hs []Hold
	if err := q.Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("storage: list holds: %w", err)
	}
	return hs, nil
}

// HeldItems returns the set of items under any standing hold (legal holds
// and the automatic holds of records withheld by a denial). Nothing in it
// may be disposed of.
func (c *Catalog) HeldItems(ctx context.Context) (map[uint64]bool, error) {
	hs, err := c.ListHolds(ctx, true)
	if err != nil {
		return nil, err
	}
	held := map[uint64]bool{}
	for _, h := range hs {
		ids, err := h.HoldItems()
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			held[id] = true
		}
	}
	return held, nil
}
