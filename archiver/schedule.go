package archiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// Schedules are the default capture schedules and the zone they run in.
type Schedules struct {
	Incremental string // cron spec or @every
	Full        string
	TimeZone    string // IANA name; cron times are the city's
}

// specs returns the account's own schedules, or the defaults, with the
// city's time zone applied.
func (d Schedules) specs(a storage.Account) (incremental, full string) {
	incremental, full = d.Incremental, d.Full
	if a.Schedule != "" {
		incremental = a.Schedule
	}
	if a.FullSweepSchedule != "" {
		full = a.FullSweepSchedule
	}
	return withTZ(incremental, d.TimeZone), withTZ(full, d.TimeZone)
}

func withTZ(spec, tz string) string {
	if tz == "" || len(spec) > 0 && spec[0] == '@' {
		return spec
	}
	return "CRON_TZ=" + tz + " " + spec
}

func jobName(id uint64, kind string) string { return fmt.Sprintf("capture:%d:%s", id, kind) }

// ScheduleAccount puts an account's incremental runs and full sweeps on the
// scheduler; an account that is not active and approved is taken off it.
func (a *Archiver) ScheduleAccount(s *Scheduler, acct storage.Account, d Schedules) error {
	if acct.Status != storage.AccountActive || acct.Approval != storage.ApprovalApproved {
		s.Remove(jobName(acct.ID, storage.RunIncremental))
		s.Remove(jobName(acct.ID, storage.RunFull))
		return nil
	}
	inc, full := d.specs(acct)
	// The scheduler's limit is a backstop; the run's own RunTimeout ends it first.
	limit := a.o.RunTimeout + time.Minute
	for kind, spec := range map[string]string{storage.RunIncremental: inc, storage.RunFull: full} {
		id, kind := acct.ID, kind
		err := s.Add(jobName(id, kind), spec, limit, func(ctx context.Context) error {
			// Every replica fires this turn; the first to claim it runs it.
			if slot, ok := SlotOf(ctx); ok {
				claimed, err := a.o.Catalog.ClaimSlot(ctx, id, kind, slot, a.o.ReplicaID)
				if err != nil {
					return err
				}
				if !claimed {
					a.o.Log.Debug("scheduled capture turn taken by another replica", "account_id", id, "kind", kind, "slot", slot)
					return nil
				}
			}
			_, err := a.Capture(ctx, id, kind, "schedule")
			if errors.Is(err, ErrAlreadyRunning) {
				return nil // the run in progress covers this turn
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ScheduleAll schedules every capturable account.
func (a *Archiver) ScheduleAll(ctx context.Context, s *Scheduler, d Schedules) error {
	accts, err := a.o.Catalog.CapturableAccounts(ctx)
	if err != nil {
		return err
	}
	for _, acct := range accts {
		if err := a.ScheduleAccount(s, acct, d); err != nil {
			return fmt.Errorf("archiver: schedule account %d: %w", acct.ID, err)
		}
	}
	return nil
}

// CatchUp starts, in the background, the runs that were due while the
// process was down: a full sweep when one was due since the last successful
// one, else an incremental run when one was due since the last run. It
// returns how many it started.
func (a *Archiver) CatchUp(ctx context.Context, d Schedules, now time.Time) (int, error) {
	accts, err := a.o.Catalog.CapturableAccounts(ctx)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, acct := range accts {
		kind, slot := overdue(acct, d, now)
		if kind == "" {
			continue
		}
		// Replicas starting together catch up on the same missed turn once.
		if claimed, err := a.o.Catalog.ClaimSlot(ctx, acct.ID, kind, slot, a.o.ReplicaID); err != nil || !claimed {
			if err != nil {
				a.o.Log.Warn("catch-up capture not claimed", "account_id", acct.ID, "err", err)
			}
			continue
		}
		if _, err := a.Start(acct.ID, kind, "catch_up"); err != nil && !errors.Is(err, ErrAlreadyRunning) {
			a.o.Log.Warn("catch-up capture not started", "account_id", acct.ID, "err", err)
			continue
		}
		started++
	}
	return started, nil
}

// overdue says which run, if any, an account missed, and the scheduled
// time of the missed turn (the account's registration for one never run).
func overdue(acct storage.Account, d Schedules, now time.Time) (string, time.Time) {
	inc, full := d.specs(acct)
	due := func(spec string, last *time.Time) (bool, time.Time) {
		if last == nil {
			return true, acct.CreatedAt
		}
		sched, err := parseSchedule(spec)
		if err != nil {
			return false, time.Time{}
		}
		next := sched.Next(*last)
		return !next.After(now), next
	}
	if ok, slot := due(full, acct.LastFullSweepAt); ok {
		return storage.RunFull, slot
	}
	if ok, slot := due(inc, acct.LastRunAt); ok {
		return storage.RunIncremental, slot
	}
	return "", time.Time{}
}
