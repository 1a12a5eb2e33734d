package archiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage"
)

// Two replicas on one catalog: while one captures an account the other is
// refused; a replica that died holding the account blocks it only until its
// lease expires, and its run is then marked failed.
func TestReplicasShareCaptureLeases(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := New(Options{Catalog: e.cat, Blobs: e.blobs, Sealer: e.arc.o.Sealer, ReplicaID: "replica-b", LeaseTTL: time.Second,
		Connectors: map[string]platforms.Connector{platforms.Mastodon: worldConnector{}}, Limits: e.arc.o.Limits,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	defer other.Close(ctx)

	// A dead replica's lease: held, not renewed.
	if ok, err := e.cat.AcquireLease(ctx, e.acct.ID, "replica-dead", 300*time.Millisecond); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	run, _ := e.cat.StartRun(ctx, e.acct.ID, storage.RunFull, "schedule")
	e.cat.RenewLease(ctx, e.acct.ID, "replica-dead", run.ID, 300*time.Millisecond)
	if _, err := other.Capture(ctx, e.acct.ID, storage.RunFull, "schedule"); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("capture while another replica holds the account: %v", err)
	}
	if n, _ := e.cat.FailInterruptedRuns(ctx); n != 0 {
		t.Fatalf("a run under a live lease was marked failed")
	}
	time.Sleep(350 * time.Millisecond)
	if n, err := e.cat.FailInterruptedRuns(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease expired: %d %v; want the dead replica's run failed", n, err)
	}
	r, err := other.Capture(ctx, e.acct.ID, storage.RunFull, "takeover")
	if err != nil || r.Status != storage.RunSucceeded {
		t.Fatalf("capture after the lease expired: %v %+v", err, r)
	}
	assertMatchesWorld(t, e)
	// The lease is given up when the run ends: the first replica may go on.
	if r := e.capture(t, storage.RunFull); r.Status != storage.RunSucceeded {
		t.Fatalf("the other replica's next capture: %+v", r)
	}
}

// Two replicas with the same schedule: each turn is captured once.
func TestReplicasRunEachScheduledTurnOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := Schedules{Incremental: "@every 1s", Full: "0 3 1 1 *"}
	acct, _ := e.cat.AccountByID(ctx, e.acct.ID)
	var scheds []*Scheduler
	for _, name := range []string{"replica-a", "replica-b"} {
		arc := New(Options{Catalog: e.cat, Blobs: e.blobs, Sealer: e.arc.o.Sealer, ReplicaID: name,
			Connectors: map[string]platforms.Connector{platforms.Mastodon: worldConnector{}}, Limits: e.arc.o.Limits})
		defer arc.Close(ctx)
		s := NewScheduler(nil, nil)
		if err := arc.ScheduleAccount(s, *acct, d); err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	for _, s := range scheds {
		s.Start()
	}
	time.Sleep(3500 * time.Millisecond)
	for _, s := range scheds {
		s.Stop(ctx)
	}
	slots, err := e.cat.SlotsOf(ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := e.cat.CountRuns(ctx, e.acct.ID, storage.RunIncremental)
	if err != nil {
		t.Fatal(err)
	}
	// Both replicas fired every turn; at most one run each (a turn whose
	// claimer found the account still busy from the last is skipped).
	if len(slots) < 2 || runs > int64(len(slots)) || runs < 2 {
		t.Fatalf("%d turns claimed, %d runs; want one run per turn (at least 2 turns)", len(slots), runs)
	}
	holders := map[string]bool{}
	for _, sl := range slots {
		holders[sl.Holder] = true
		if sl.Slot.Nanosecond() != 0 {
			t.Errorf("slot %v is not on the second", sl.Slot)
		}
	}
	t.Logf("%d turns, claimed by %v", len(slots), holders)
}
