package storage

import (
	"context"
	"testing"
	"time"
)

func TestCaptureLeases(t *testing.T) {
	runOnBackends(t, []suiteTest{{"acquire_renew_expire_release", testLeases}})
}

func testLeases(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "city")
	must := func(ok bool, err error) bool {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !must(c.AcquireLease(ctx, a.ID, "r1", time.Minute)) {
		t.Fatal("a free account's lease was refused")
	}
	if must(c.AcquireLease(ctx, a.ID, "r2", time.Minute)) {
		t.Fatal("two replicas hold one account")
	}
	if !must(c.AcquireLease(ctx, a.ID, "r1", time.Minute)) {
		t.Error("the holder could not take its own lease again")
	}
	if must(c.RenewLease(ctx, a.ID, "r2", 7, time.Minute)) {
		t.Error("a replica renewed a lease it does not hold")
	}
	run, _ := c.StartRun(ctx, a.ID, RunFull, "test")
	if !must(c.RenewLease(ctx, a.ID, "r1", run.ID, 200*time.Millisecond)) {
		t.Fatal("the holder could not renew")
	}
	if n, _ := c.FailInterruptedRuns(ctx); n != 0 {
		t.Fatal("a run under a live lease was failed")
	}
	time.Sleep(250 * time.Millisecond)
	if !must(c.AcquireLease(ctx, a.ID, "r2", time.Minute)) {
		t.Fatal("an expired lease was not taken over")
	}
	if runs, err := c.FailOrphanRuns(ctx); err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Status != RunFailed {
		t.Fatalf("the run of the replica whose lease was taken over: %+v, %v; want run %d failed", runs, err, run.ID)
	}
	if runs, _ := c.FailOrphanRuns(ctx); len(runs) != 0 {
		t.Fatalf("a run was failed twice: %+v", runs)
	}
	if err := c.ReleaseLease(ctx, a.ID, "r1"); err != nil {
		t.Fatal(err)
	}
	if must(c.AcquireLease(ctx, a.ID, "r3", time.Minute)) {
		t.Error("releasing a lease one no longer holds freed it")
	}
	if n, err := c.ReleaseLeasesOf(ctx, "r2"); err != nil || n != 1 {
		t.Fatalf("ReleaseLeasesOf = %d, %v", n, err)
	}
	if !must(c.AcquireLease(ctx, a.ID, "r3", time.Minute)) {
		t.Error("a released account's lease was refused")
	}
}
