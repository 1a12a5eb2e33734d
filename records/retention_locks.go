package records

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// ErrNoObjectLock is returned by the lock syncs when the blob store has no
// S3 Object Lock (a local directory, or S3 without lock support).
var ErrNoObjectLock = errors.New("records: the blob store has no object lock")

// DefaultLockHorizon is how far ahead ApplyRetentionLocks retains the blobs
// of permanent records; a later run extends it again.
const DefaultLockHorizon = 365 * 24 * time.Hour

// LockReport says what a lock sync did.
type LockReport struct {
	HoldsOn  int      // blobs given an object legal hold
	HoldsOff int      // blobs whose object legal hold was lifted
	Retained int      // blobs whose retention was set (or already ran long enough)
	Failed   int      // blobs the store refused
	Errors   []string // the first few failures
}

func (r *LockReport) fail(err error) {
	r.Failed++
	if len(r.Errors) < 10 {
		r.Errors = append(r.Errors, err.Error())
	}
}

func (o *Office) locker() (blob.Locker, error) {
	l, ok := o.cfg.Blobs.(blob.Locker)
	if !ok {
		return nil, ErrNoObjectLock
	}
	return l, nil
}

// MirrorHolds mirrors legal holds onto the blobs of their items as S3
// object legal holds, so not even the store's administrator can delete them:
// a standing hold turns the object holds on, a released one turns them off
// for blobs no other standing hold still needs. With no ids every hold is
// mirrored (a periodic sync); call it with a hold's id after placing or
// releasing that hold. Failures are counted in the report, not fatal.
func (o *Office) MirrorHolds(ctx context.Context, holdIDs ...uint64) (LockReport, error) {
	var rep LockReport
	lk, err := o.locker()
	if err != nil {
		return rep, err
	}
	holds, err := o.holdsToMirror(ctx, holdIDs)
	if err != nil {
		return rep, err
	}
	held, err := o.cat.HeldItems(ctx)
	if err != nil {
		return rep, err
	}
	heldKeys, err := o.keysOf(ctx, setKeys(held))
	if err != nil {
		return rep, err
	}
	on, off := map[uint64]bool{}, map[uint64]bool{}
	for _, h := range holds {
		ids, err := h.HoldItems()
		if err != nil {
			return rep, err
		}
		for _, id := range ids {
			if h.ReleasedAt == nil {
				on[id] = true
			} else if !held[id] {
				off[id] = true
			}
		}
	}
	onKeys, err := o.keysOf(ctx, setKeys(on))
	if err != nil {
		return rep, err
	}
	offKeys, err := o.keysOf(ctx, setKeys(off))
	if err != nil {
		return rep, err
	}
	for k := range onKeys {
		if err := lk.SetLegalHold(ctx, k, true); err != nil {
			rep.fail(err)
			continue
		}
		rep.HoldsOn++
	}
	for k := range offKeys {
		if heldKeys[k] {
			continue // another standing hold's item shares it
		}
		if err := lk.SetLegalHold(ctx, k, false); err != nil {
			rep.fail(err)
			continue
		}
		rep.HoldsOff++
	}
	o.log.Info("legal holds mirrored to object lock", "on", rep.HoldsOn, "off", rep.HoldsOff, "failed", rep.Failed)
	return rep, nil
}

func (o *Office) holdsToMirror(ctx context.Context, ids []uint64) ([]storage.Hold, error) {
	if len(ids) == 0 {
		return o.cat.ListHolds(ctx, false)
	}
	out := make([]storage.Hold, 0, len(ids))
	for _, id := range ids {
		h, err := o.cat.HoldByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *h)
	}
	return out, nil
}

func setKeys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	return out
}

// keysOf returns the set of blob keys the items' versions and media name,
// reading them in batches.
func (o *Office) keysOf(ctx context.Context, ids []uint64) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(ids); start += dispositionBatch {
		keys, err := o.cat.ItemBlobKeys(ctx, ids[start:min(start+dispositionBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, ks := range keys {
			for _, k := range ks {
				out[k] = true
			}
		}
	}
	return out, nil
}

// ApplyRetentionLocks makes each item's blobs' Object Lock retention
// follow the schedule: until the item becomes eligible for disposition
// (first capture plus the rule's days), or, for permanent records, until
// horizon from now (0: DefaultLockHorizon; run it again before then to
// extend). Retention is only ever extended, so a blob shared by several
// items ends up retained as long as the longest of them needs. Items
// already eligible are left alone. Failures are counted, not fatal.
func (o *Office) ApplyRetentionLocks(ctx context.Context, horizon time.Duration) (LockReport, error) {
	var rep LockReport
	lk, err := o.locker()
	if err != nil {
		return rep, err
	}
	if horizon <= 0 {
		horizon = DefaultLockHorizon
	}
	rules, err := o.cat.Rules(ctx)
	if err != nil {
		return rep, err
	}
	rs := storage.NewRuleSet(rules)
	now := o.cfg.Now().UTC()
	var after uint64
	for {
		page, err := o.cat.ListItems(ctx, 0, after, dispositionBatch)
		if err != nil {
			return rep, fmt.Errorf("records: retention locks: %w", err)
		}
		if err := o.retainBatch(ctx, lk, page.Items, rs, now, now.Add(horizon), &rep); err != nil {
			return rep, err
		}
		if page.NextID == 0 {
			break
		}
		after = page.NextID
	}
	o.log.Info("retention locks applied", "blobs", rep.Retained, "failed", rep.Failed)
	return rep, nil
}

func (o *Office) retainBatch(ctx context.Context, lk blob.Locker, items []storage.Item, rs storage.RuleSet, now, permanent time.Time, rep *LockReport) error {
	ids := make([]uint64, 0, len(items))
	for _, it := range items {
		if it.DisposedAt == nil {
			ids = append(ids, it.ID)
		}
	}
	keys, err := o.cat.ItemBlobKeys(ctx, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		until := permanent
		if r, ok := rs.For(it.AccountID, it.Kind); ok {
			if at, ok := r.EligibleAt(it.FirstSeenAt); ok {
				until = at
			}
		}
		if !until.After(now) {
			continue
		}
		for _, k := range keys[it.ID] {
			if err := lk.SetRetention(ctx, k, until); err != nil {
				rep.fail(err)
				continue
			}
			rep.Retained++
		}
	}
	return nil
}
