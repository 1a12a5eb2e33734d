package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Capture run kinds, statuses and triggers.
const (
	RunFull        = "full"
	RunIncremental = "incremental"
	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunPartial     = "partial"
)

// StartRun records a capture run that has begun.
func (c *Catalog) StartRun(ctx context.Context, accountID uint64, kind, trigger string) (*CaptureRun, error) {
	r := &CaptureRun{AccountID: accountID, Kind: kind, Status: RunRunning, Trigger: trigger, StartedAt: time.Now().UTC(), Errors: "[]"}
	if err := c.gdb(ctx).Create(r).Error; err != nil {
		return nil, fmt.Errorf("storage: start run: %w", mapErr(err))
	}
	return r, nil
}

// RunCounts are the tallies of a run.
type RunCounts struct {
	Posts, Comments, New, Changed, Deleted, Media int
}

// FinishRun records how a run ended.
func (c *Catalog) FinishRun(ctx context.Context, id uint64, status string, n RunCounts, errs []string, redaction string) error {
	if errs == nil {
		errs = []string{}
	}
	b, _ := json.Marshal(errs)
	now := time.Now().UTC()
	return c.gdb(ctx).Model(&CaptureRun{}).Where("id = ?", id).Updates(map[string]any{
		"status": status, "finished_at": &now, "posts": n.Posts, "comments": n.Comments, "new_items": n.New,
		"changed": n.Changed, "deleted": n.Deleted, "media": n.Media, "errors": string(b), "redaction_rule": redaction,
	}).Error
}

// RunByID returns one capture run.
func (c *Catalog) RunByID(ctx context.Context, id uint64) (*CaptureRun, error) {
	var r CaptureRun
	if err := c.gdb(ctx).First(&r, id).Error; err != nil {
		return nil, fmt.Errorf("storage: capture run %d: %w", id, mapErr(err))
	}
	return &r, nil
}

// LastRun returns the account's newest run of a kind with one of the
// statuses, or ErrNotFound.
func (c *Catalog) LastRun(ctx context.Context, accountID uint64, kind string, statuses ...string) (*CaptureRun, error) {
	var r CaptureRun
	err := c.gdb(ctx).Where("account_id = ? AND kind = ? AND status IN ?", accountID, kind, statuses).Order("id DESC").First(&r).Error
	if err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// FailInterruptedRuns marks runs left "running" by a process that died as
// failed: those whose account lease (see CaptureLease) is gone or expired.
// Call at start, before any run begins, and from time to time: a replica
// that died mid-run is found once its lease expires.
func (c *Catalog) FailInterruptedRuns(ctx context.Context) (int64, error) {
	runs, err := c.FailOrphanRuns(ctx)
	return int64(len(runs)), err
}

// FailOrphanRuns is FailInterruptedRuns returning the runs this call
// failed (each by exactly one caller, when replicas race), so the caller
// can capture their accounts again.
func (c *Catalog) FailOrphanRuns(ctx context.Context) ([]CaptureRun, error) {
	orphan := "status = ? AND NOT EXISTS (SELECT 1 FROM capture_leases l WHERE l.run_id = capture_runs.id AND l.expires_at >= ?)"
	var candidates []CaptureRun
	if err := c.gdb(ctx).Where(orphan, RunRunning, time.Now().UTC()).Order("id").Find(&candidates).Error; err != nil {
		return nil, err
	}
	var failed []CaptureRun
	for _, r := range candidates {
		now := time.Now().UTC()
		res := c.gdb(ctx).Model(&CaptureRun{}).Where("id = ?", r.ID).Where(orphan, RunRunning, now).Updates(map[string]any{
			"status": RunFailed, "finished_at": &now, "errors": `["interrupted: the process stopped during the run"]`,
		})
		if res.Error != nil {
			return failed, res.Error
		}
		if res.RowsAffected == 1 {
			r.Status, r.FinishedAt = RunFailed, &now
			failed = append(failed, r)
		}
	}
	return failed, nil
}

// AddProfileSnapshot records the profile as captured in a run.
func (c *Catalog) AddProfileSnapshot(ctx context.Context, accountID, runID uint64, sha, key string) error {
	p := &ProfileSnapshot{AccountID: accountID, CaptureRunID: runID, SHA256: sha, BlobKey: key, CapturedAt: time.Now().UTC()}
	return c.gdb(ctx).Omit(clause.Associations).Create(p).Error
}

// LatestProfile returns the newest profile snapshot of an account.
func (c *Catalog) LatestProfile(ctx context.Context, accountID uint64) (*ProfileSnapshot, error) {
	var p ProfileSnapshot
	if err := c.gdb(ctx).Where("account_id = ?", accountID).Order("id DESC").First(&p).Error; err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}
