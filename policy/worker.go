package policy

import (
	"context"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// Follow keeps the policy's records current until ctx ends: at once, after
// each nudge (a capture changed the archive) and every interval, it writes
// the removal records still missing and checks the authenticity of every
// account captured since its last check. Errors are logged; the next turn
// tries again.
func (o *Office) Follow(ctx context.Context, nudge <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		o.Catch(ctx)
		select {
		case <-ctx.Done():
			return
		case <-nudge:
		case <-t.C:
		}
	}
}

// Catch does one turn of Follow's work.
func (o *Office) Catch(ctx context.Context) {
	if n, err := o.RecordRemovals(ctx); err != nil {
		if ctx.Err() == nil {
			o.log.Error("removal records", "err", err)
		}
	} else if n > 0 {
		o.log.Info("removal records written", "count", n)
	}
	as, err := o.cat.ListAccounts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Error("authenticity checks", "err", err)
		}
		return
	}
	for _, a := range as {
		if !needsCheck(a) {
			continue
		}
		if _, err := o.CheckAuthenticity(ctx, a); err != nil && ctx.Err() == nil {
			o.log.Warn("authenticity check", "account_id", a.ID, "err", err)
		}
	}
}

// needsCheck: captured since the last authenticity check.
func needsCheck(a storage.Account) bool {
	return a.LastSuccessAt != nil && (a.AuthCheckedAt == nil || a.LastSuccessAt.After(*a.AuthCheckedAt))
}
