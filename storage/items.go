package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// VersionCapture is one content of an item as captured: its content hash
// and the blobs already written for it.
type VersionCapture struct {
	SHA256        string // content hash
	NormalizedKey string // blob key of the normalised JSON
	RawKey        string // blob key of the raw response
	Text          string
	EditMarker    string
}

// MediaCapture is an attachment whose bytes are already in the blob store.
type MediaCapture struct {
	NativeID, URL, SHA256, BlobKey, ContentType string
	Size                                        int64
}

// ItemCapture is what a capture run saw of one item. Versions holds the
// earlier contents the platform exposes (oldest first) and, last, the
// current one.
type ItemCapture struct {
	AccountID, RunID             uint64
	Platform, NativeID, Kind     string
	ParentNativeID, RootNativeID string
	AuthorID, AuthorName, URL    string
	CreatedAt, EditedAt          *time.Time
	Hidden                       bool
	Versions                     []VersionCapture
	Media                        []MediaCapture
	Actor                        string // for the custody log, e.g. "system:archiver"
	// Flags are the screening hits on the current version's text (policy
	// 3.4.3). They are stored only when the current version is new, once
	// per rule per item.
	Flags []FlagCapture
}

// RecordResult says what RecordItem changed.
type RecordResult struct {
	ItemID      uint64
	New         bool // first time seen
	NewVersions int  // versions added
	Reappeared  bool // was marked deleted, is back
}

// RecordItem stores one captured item in one transaction: the item row, any
// new versions (only when the content hash differs from the latest stored
// one), its media rows, and a custody event for each change. The blobs the
// rows name must already be written.
func (c *Catalog) RecordItem(ctx context.Context, in ItemCapture) (RecordResult, error) {
	if len(in.Versions) == 0 {
		return RecordResult{}, errors.New("storage: record item: no version")
	}
	var res RecordResult
	err := c.Tx(ctx, func(tx *Catalog) error {
		var err error
		res, err = tx.recordItem(ctx, in)
		return err
	})
	if err != nil {
		return RecordResult{}, fmt.Errorf("storage: record item %s/%s: %w", in.Platform, in.NativeID, err)
	}
	return res, nil
}

func (c *Catalog) recordItem(ctx context.Context, in ItemCapture) (RecordResult, error) {
	db := c.gdb(ctx)
	now := time.Now().UTC()
	var it Item
	err := db.Where("platform = ? AND account_id = ? AND native_id = ?", in.Platform, in.AccountID, in.NativeID).First(&it).Error
	res := RecordResult{}
	var toAdd []VersionCapture
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		it = Item{AccountID: in.AccountID, Platform: in.Platform, NativeID: in.NativeID, FirstSeenAt: now}
		res.New, toAdd = true, in.Versions
	case err != nil:
		return res, err
	case it.DisposedAt != nil:
		// Disposed of under its retention schedule: still on the platform,
		// but not kept again; the tombstone only notes it was seen.
		res.ItemID = it.ID
		return res, db.Model(&Item{}).Where("id = ?", it.ID).Updates(map[string]any{"last_seen_at": now, "last_seen_run_id": in.RunID}).Error
	default:
		var last Version
		if err := db.Where("item_id = ?", it.ID).Order("seq DESC").First(&last).Error; err != nil {
			return res, err
		}
		toAdd = versionsAfter(in.Versions, last.SHA256)
		if it.DeletedAt != nil {
			res.Reappeared = true
			it.DeletedAt = nil
		}
		// Seen again, unchanged, already linked: the common case of a full
		// sweep costs one UPDATE. (Same content means same media.)
		if len(toAdd) == 0 && !res.Reappeared && (in.ParentNativeID == "" || it.ParentID != nil) && (in.RootNativeID == "" || it.RootID != nil) {
			res.ItemID = it.ID
			return res, db.Model(&Item{}).Where("id = ?", it.ID).Updates(map[string]any{
				"last_seen_at": now, "last_seen_run_id": in.RunID, "author_name": in.AuthorName, "url": in.URL}).Error
		}
	}
	if err := c.fillItem(ctx, &it, in, now); err != nil {
		return res, err
	}
	if err := db.Omit(clause.Associations).Save(&it).Error; err != nil {
		return res, err
	}
	res.ItemID = it.ID
	var current uint64
	for _, v := range toAdd {
		it.VersionCount++
		row := Version{ItemID: it.ID, Seq: it.VersionCount, SHA256: v.SHA256, NormalizedKey: v.NormalizedKey, RawKey: v.RawKey,
			Text: v.Text, EditMarker: v.EditMarker, CaptureRunID: &in.RunID, CapturedAt: now}
		if err := db.Omit(clause.Associations).Create(&row).Error; err != nil {
			return res, err
		}
		res.NewVersions++
		current = row.ID
	}
	if current != 0 {
		for _, f := range in.Flags {
			row := Flag{ItemID: it.ID, AccountID: it.AccountID, VersionID: current, Category: f.Category, Rule: f.Rule,
				Match: f.Match, RulesVersion: f.RulesVersion, Status: FlagPending, CreatedAt: now}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return res, err
			}
		}
	}
	if err := c.addMedia(ctx, it.ID, in.Media, now); err != nil {
		return res, err
	}
	if res.NewVersions == 0 && !res.Reappeared {
		return res, db.Model(&Item{}).Where("id = ?", it.ID).Updates(map[string]any{"last_seen_at": now, "last_seen_run_id": in.RunID}).Error
	}
	kind := "capture"
	if res.Reappeared && res.NewVersions == 0 {
		kind = "reappeared"
	}
	last := in.Versions[len(in.Versions)-1]
	ev, err := c.AppendCustody(ctx, NewEvent{Kind: kind, Actor: in.Actor, SubjectType: "item", SubjectID: fmt.Sprint(it.ID),
		Details: map[string]any{"platform": in.Platform, "native_id": in.NativeID, "capture_run": in.RunID,
			"version": it.VersionCount, "new_versions": res.NewVersions, "sha256": last.SHA256,
			"normalized_key": last.NormalizedKey, "raw_key": last.RawKey}})
	if err != nil {
		return res, err
	}
	return res, db.Model(&Item{}).Where("id = ?", it.ID).Updates(map[string]any{"version_count": it.VersionCount, "change_seq": ev.Seq}).Error
}

// versionsAfter returns the captured versions newer than the stored one
// with hash last: those after its position in the platform's history, or
// just the current one when the history does not contain it. Nothing when
// the current one is what is stored.
func versionsAfter(vs []VersionCapture, last string) []VersionCapture {
	if vs[len(vs)-1].SHA256 == last {
		return nil
	}
	for i := len(vs) - 2; i >= 0; i-- {
		if vs[i].SHA256 == last {
			return vs[i+1:]
		}
	}
	return vs[len(vs)-1:]
}

// fillItem copies the capture's current fields onto the row and links its
// parent and root, which were recorded before it.
func (c *Catalog) fillItem(ctx context.Context, it *Item, in ItemCapture, now time.Time) error {
	cur := in.Versions[len(in.Versions)-1]
	it.Kind, it.ParentNativeID, it.AuthorID, it.AuthorName = in.Kind, in.ParentNativeID, in.AuthorID, in.AuthorName
	it.URL, it.Text, it.Hidden = in.URL, cur.Text, in.Hidden
	it.PlatformCreatedAt, it.PlatformEditedAt = in.CreatedAt, in.EditedAt
	it.LastSeenAt, it.LastSeenRunID = now, &in.RunID
	var err error
	if it.ParentID, err = c.itemIDByNative(ctx, in.AccountID, in.ParentNativeID); err != nil {
		return err
	}
	if in.RootNativeID == in.ParentNativeID {
		it.RootID = it.ParentID
	} else if it.RootID, err = c.itemIDByNative(ctx, in.AccountID, in.RootNativeID); err != nil {
		return err
	}
	return nil
}

func (c *Catalog) itemIDByNative(ctx context.Context, accountID uint64, native string) (*uint64, error) {
	if native == "" {
		return nil, nil
	}
	var ids []uint64
	if err := c.gdb(ctx).Model(&Item{}).Where("account_id = ? AND native_id = ?", accountID, native).Limit(1).Pluck("id", &ids).Error; err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return &ids[0], nil
}

func (c *Catalog) addMedia(ctx context.Context, itemID uint64, ms []MediaCapture, now time.Time) error {
	for _, m := range ms {
		row := Media{ItemID: itemID, NativeID: m.NativeID, URL: m.URL, SHA256: m.SHA256, BlobKey: m.BlobKey, ContentType: m.ContentType, Size: m.Size, CapturedAt: now}
		err := c.gdb(ctx).Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// MediaByNativeID finds media of the account already captured under the
// platform's media id, so unchanged attachments are not downloaded again.
func (c *Catalog) MediaByNativeID(ctx context.Context, accountID uint64, nativeID string) (*Media, error) {
	var m Media
	err := c.gdb(ctx).Joins("JOIN items ON items.id = media.item_id").
		Where("items.account_id = ? AND media.native_id = ?", accountID, nativeID).First(&m).Error
	if err != nil {
		return nil, mapErr(err)
	}
	return &m, nil
}

// MarkThreadDeleted marks deleted every comment and reply under the post
// that the run did not see. Call only after the run read the whole thread.
func (c *Catalog) MarkThreadDeleted(ctx context.Context, accountID, runID uint64, postNativeID, actor string) (int, error) {
	post, err := c.itemIDByNative(ctx, accountID, postNativeID)
	if err != nil || post == nil {
		return 0, err
	}
	return c.markDeleted(ctx, runID, actor, "account_id = ? AND root_id = ?", accountID, *post)
}

// MarkMissingPosts marks deleted every post of the account, with its
// thread, that the run did not see. Call only after a full run read the
// whole post listing.
func (c *Catalog) MarkMissingPosts(ctx context.Context, accountID, runID uint64, actor string) (int, error) {
	n, err := c.markDeleted(ctx, runID, actor, "account_id = ? AND kind = ?", accountID, "post")
	if err != nil {
		return n, err
	}
	// The threads of posts now deleted are gone with them.
	m, err := c.markDeleted(ctx, runID, actor, "account_id = ? AND root_id IN (SELECT id FROM items WHERE account_id = ? AND kind = ? AND deleted_at IS NOT NULL)", accountID, accountID, "post")
	return n + m, err
}

// markDeleted sets deleted_at on the unseen live items matching where, each
// with a custody event, in batches.
func (c *Catalog) markDeleted(ctx context.Context, runID uint64, actor, where string, args ...any) (int, error) {
	total := 0
	for {
		var ids []uint64
		q := c.gdb(ctx).Model(&Item{}).Where(where, args...).
			Where("deleted_at IS NULL AND (last_seen_run_id IS NULL OR last_seen_run_id <> ?)", runID)
		if err := q.Order("id").Limit(500).Pluck("id", &ids).Error; err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		err := c.Tx(ctx, func(tx *Catalog) error {
			now := time.Now().UTC()
			for _, id := range ids {
				ev, err := tx.AppendCustody(ctx, NewEvent{Kind: "deletion_detected", Actor: actor, SubjectType: "item",
					SubjectID: fmt.Sprint(id), Details: map[string]any{"capture_run": runID}})
				if err != nil {
					return err
				}
				if err := tx.gdb(ctx).Model(&Item{}).Where("id = ?", id).Updates(map[string]any{"deleted_at": now, "change_seq": ev.Seq}).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(ids)
	}
}

// ItemPage is one page of ListItems.
type ItemPage struct {
	Items  []Item
	NextID uint64 // 0 when this is the last page
}

// ListItems returns items by id, after afterID, optionally of one account.
func (c *Catalog) ListItems(ctx context.Context, accountID, afterID uint64, limit int) (ItemPage, error) {
	q := c.gdb(ctx).Where("id > ?", afterID)
	if accountID != 0 {
		q = q.Where("account_id = ?", accountID)
	}
	var items []Item
	if err := q.Order("id").Limit(limit + 1).Find(&items).Error; err != nil {
		return ItemPage{}, err
	}
	p := ItemPage{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextID = items[limit-1].ID
	}
	return p, nil
}

// ItemByID returns one item.
func (c *Catalog) ItemByID(ctx context.Context, id uint64) (*Item, error) {
	var it Item
	if err := c.gdb(ctx).First(&it, id).Error; err != nil {
		return nil, fmt.Errorf("storage: item %d: %w", id, mapErr(err))
	}
	return &it, nil
}

// Versions returns an item's versions, oldest first.
func (c *Catalog) Versions(ctx context.Context, itemID uint64) ([]Version, error) {
	var vs []Version
	err := c.gdb(ctx).Where("item_id = ?", itemID).Order("seq").Find(&vs).Error
	return vs, err
}

// ItemMedia returns an item's media.
func (c *Catalog) ItemMedia(ctx context.Context, itemID uint64) ([]Media, error) {
	var ms []Media
	err := c.gdb(ctx).Where("item_id = ?", itemID).Order("id").Find(&ms).Error
	return ms, err
}

// ItemsByIDs loads the items with the given ids (missing ones are absent).
func (c *Catalog) ItemsByIDs(ctx context.Context, ids []uint64) (map[uint64]Item, error) {
	out := make(map[uint64]Item, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var items []Item
	if err := c.gdb(ctx).Where("id IN ?", ids).Find(&items).Error; err != nil {
		return nil, err
	}
	for _, it := range items {
		out[it.ID] = it
	}
	return out, nil
}

// ThreadItems returns the items under a post (comments and replies at any
// depth), by id, at most limit of them; the bool says whether more exist.
func (c *Catalog) ThreadItems(ctx context.Context, rootID uint64, limit int) ([]Item, bool, error) {
	var items []Item
	if err := c.gdb(ctx).Where("root_id = ?", rootID).Order("id").Limit(limit + 1).Find(&items).Error; err != nil {
		return nil, false, err
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}
