package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Replicas share one catalog (issue 9). A capture holds a lease on its
// account in the catalog, so no two replicas capture an account at once;
// the holder renews it while the run goes on, and a lease a dead replica
// stopped renewing expires, after which another replica may capture the
// account and the dead replica's run is marked failed.

// CaptureLease is one account's capture lease.
type CaptureLease struct {
	AccountID uint64    `gorm:"primaryKey;autoIncrement:false"`
	Holder    string    `gorm:"size:128;not null"` // the replica holding it
	RunID     uint64    `gorm:"not null;default:0;index"`
	ExpiresAt time.Time `gorm:"not null"`
}

// AcquireLease takes the account's capture lease for holder until now+ttl,
// if no other holder has a live one. It reports whether holder has it.
func (c *Catalog) AcquireLease(ctx context.Context, accountID uint64, holder string, ttl time.Duration) (bool, error) {
	now := time.Now().UTC()
	got := false
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&CaptureLease{AccountID: accountID, Holder: holder, ExpiresAt: now.Add(ttl)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			got = true
			return nil
		}
		res = db.Model(&CaptureLease{}).Where("account_id = ? AND (expires_at < ? OR holder = ?)", accountID, now, holder).
			Updates(map[string]any{"holder": holder, "run_id": 0, "expires_at": now.Add(ttl)})
		got = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("storage: acquire lease of account %d: %w", accountID, err)
	}
	return got, nil
}

// RenewLease extends holder's lease and names its run; false when holder no
// longer has it (it expired and another replica took it).
func (c *Catalog) RenewLease(ctx context.Context, accountID uint64, holder string, runID uint64, ttl time.Duration) (bool, error) {
	res := c.gdb(ctx).Model(&CaptureLease{}).Where("account_id = ? AND holder = ?", accountID, holder).
		Updates(map[string]any{"run_id": runID, "expires_at": time.Now().UTC().Add(ttl)})
	if res.Error != nil {
		return false, fmt.Errorf("storage: renew lease of account %d: %w", accountID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease gives the account's lease up, if holder has it.
func (c *Catalog) ReleaseLease(ctx context.Context, accountID uint64, holder string) error {
	err := c.gdb(ctx).Where("account_id = ? AND holder = ?", accountID, holder).Delete(&CaptureLease{}).Error
	if err != nil {
		return fmt.Errorf("storage: release lease of account %d: %w", accountID, err)
	}
	return nil
}

// ReleaseLeasesOf gives up every lease holder has: a replica that starts
// again under its own name has no run in flight, whatever its last life
// left behind.
func (c *Catalog) ReleaseLeasesOf(ctx context.Context, holder string) (int64, error) {
	res := c.gdb(ctx).Where("holder = ?", holder).Delete(&CaptureLease{})
	if res.Error != nil {
		return 0, fmt.Errorf("storage: release leases of %s: %w", holder, res.Error)
	}
	return res.RowsAffected, nil
}

// CaptureSlot records that a scheduled capture turn (an account, a kind,
// the scheduled time) was claimed by a replica: replicas fire the same
// schedules at the same instants, and only the first claim runs.
type CaptureSlot struct {
	AccountID uint64    `gorm:"primaryKey;autoIncrement:false"`
	Kind      string    `gorm:"primaryKey;size:16"`
	Slot      time.Time `gorm:"primaryKey"`
	Holder    string    `gorm:"size:128;not null"`
	ClaimedAt time.Time `gorm:"not null;index"`
}

// ClaimSlot claims a scheduled turn for holder; false when another replica
// (or an earlier turn of this one) claimed it first.
func (c *Catalog) ClaimSlot(ctx context.Context, accountID uint64, kind string, slot time.Time, holder string) (bool, error) {
	row := CaptureSlot{AccountID: accountID, Kind: kind, Slot: slot.UTC(), Holder: holder, ClaimedAt: time.Now().UTC()}
	res := c.gdb(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, fmt.Errorf("storage: claim slot of account %d: %w", accountID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// PurgeSlots deletes claims older than before; they only matter while the
// replicas' turns for them may still fire.
func (c *Catalog) PurgeSlots(ctx context.Context, before time.Time) (int64, error) {
	res := c.gdb(ctx).Where("claimed_at < ?", before).Delete(&CaptureSlot{})
	if res.Error != nil {
		return 0, fmt.Errorf("storage: purge slots: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// SlotsOf returns the claimed turns of an account, oldest first.
func (c *Catalog) SlotsOf(ctx context.Context, accountID uint64) ([]CaptureSlot, error) {
	var out []CaptureSlot
	if err := c.gdb(ctx).Where("account_id = ?", accountID).Order("slot, kind").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: slots of account %d: %w", accountID, err)
	}
	return out, nil
}

// CountRuns counts an account's capture runs of a kind ("" for any).
func (c *Catalog) CountRuns(ctx context.Context, accountID uint64, kind string) (int64, error) {
	q := c.gdb(ctx).Model(&CaptureRun{}).Where("account_id = ?", accountID)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count runs of account %d: %w", accountID, err)
	}
	return n, nil
}
