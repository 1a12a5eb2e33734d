// Package archiver runs civicarchive's scheduled work: captures of the
// registered accounts (archiver/platforms has one connector per platform)
// and housekeeping, on cron schedules.
package archiver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one unit of scheduled work. It must return when ctx is done.
type Job func(ctx context.Context) error

// Scheduler runs jobs on cron schedules: a panicking job is recovered and
// logged, a job still running when its next turn comes is skipped, and every
// run gets a context with a time limit that Stop cancels.
type Scheduler struct {
	cron   *cron.Cron
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	ids    map[string]cron.EntryID
	runs   func(name, outcome string) // metrics hook; may be nil
}

// NewScheduler makes a stopped scheduler. onRun, if not nil, is told the
// outcome ("ok", "error") of every run, for metrics.
func NewScheduler(log *slog.Logger, onRun func(name, outcome string)) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl := cronLogger{log}
	ctx, cancel := context.WithCancel(context.Background())
	// Order matters: SkipIfStillRunning must wrap Recover. The other way
	// round, a panic escapes SkipIfStillRunning before it frees its slot,
	// and the job is skipped forever after.
	chain := cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl))
	return &Scheduler{
		cron:   cron.New(cron.WithLogger(cl), chain),
		log:    log,
		ctx:    ctx,
		cancel: cancel,
		ids:    map[string]cron.EntryID{},
		runs:   onRun,
	}
}

// Add schedules job under a unique name; spec is a standard five-field cron
// expression or a descriptor such as "@every 15m". Adding a name again
// replaces its schedule.
//
// "@every D" fires at multiples of D (since the zero time, so on the hour
// for 15m), not D after the process started: replicas sharing a catalog
// fire at the same instants, and each run's slot (its scheduled time, see
// SlotOf) is the same on every replica, so a scheduled capture can be
// claimed once.
func (s *Scheduler) Add(name, spec string, timeout time.Duration, job Job) error {
	sched, err := parseSchedule(spec)
	if err != nil {
		return fmt.Errorf("archiver: schedule %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[name]; ok {
		s.cron.Remove(id)
	}
	s.ids[name] = s.cron.Schedule(sched, cron.FuncJob(func() {
		slot := slotAt(sched, time.Now())
		s.run(name, timeout, func(ctx context.Context) error { return job(context.WithValue(ctx, slotKey{}, slot)) })
	}))
	return nil
}

// slotAt is the scheduled time of the turn starting at now (a few
// milliseconds after it): aligned schedules fire on multiples of their
// delay, cron specs on whole minutes.
func slotAt(sched cron.Schedule, now time.Time) time.Time {
	if a, ok := sched.(alignedEvery); ok {
		return now.Truncate(a.d)
	}
	return now.Truncate(time.Minute)
}

// parseSchedule parses a cron spec, aligning "@every" schedules.
func parseSchedule(spec string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return alignedEvery{every.Delay}, nil
	}
	return sched, nil
}

// alignedEvery fires at the multiples of d.
type alignedEvery struct{ d time.Duration }

func (a alignedEvery) Next(t time.Time) time.Time { return t.Truncate(a.d).Add(a.d) }

type slotKey struct{}

// SlotOf returns the scheduled time of the turn a job runs for, when it
// runs on its schedule (not through RunNow).
func SlotOf(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(slotKey{}).(time.Time)
	return t, ok && !t.IsZero()
}

// Remove unschedules a job; a run in progress finishes.
func (s *Scheduler) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[name]; ok {
		s.cron.Remove(id)
		delete(s.ids, name)
	}
}

// RunNow runs a scheduled job once, outside its schedule, and waits for it.
func (s *Scheduler) RunNow(name string, timeout time.Duration, job Job) error {
	return s.run(name, timeout, job)
}

func (s *Scheduler) run(name string, timeout time.Duration, job Job) error {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	start := time.Now()
	err := job(ctx)
	outcome := "ok"
	if err != nil {
		outcome = "error"
		s.log.Error("scheduled job failed", "job", name, "duration_ms", time.Since(start).Milliseconds(), "err", err)
	} else {
		s.log.Debug("scheduled job done", "job", name, "duration_ms", time.Since(start).Milliseconds())
	}
	if s.runs != nil {
		s.runs(name, outcome)
	}
	return err
}

// Start begins running jobs on their schedules.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop cancels running jobs' contexts and waits for them to return, or for
// ctx to end.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.cancel()
	done := s.cron.Stop()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("archiver: stop: jobs still running: %w", ctx.Err())
	}
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
